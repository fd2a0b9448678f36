"""Small reusable widgets shared by screens and modals."""
