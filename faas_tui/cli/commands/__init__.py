"""The `faas-tui` commands, grouped by noun; each takes the Invocation and returns the exit code."""
