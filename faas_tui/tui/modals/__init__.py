"""Modal dialogs (`ModalScreen[T]`): each returns its result through `dismiss`, escape cancels."""
