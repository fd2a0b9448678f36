"""A live preview of how a typed secret name will be stored (`hubspot api key` → `HUBSPOT_API_KEY`)."""

from __future__ import annotations

from collections.abc import Collection

from rich.text import Text
from textual.widgets import Static

from faas_tui.core.names import normalise_secret_name, secret_name_problem

# The field keeps what was typed (a paste stays as pasted); this line shows the stored name.
HINT = "Stored in capitals: spaces, dashes and dots become _ (the name shows here as you type)."


class NamePreview(Static):
    """Shows the normalised name, or why it is not valid; `problem` holds the last reason."""

    DEFAULT_CSS = """
    NamePreview { height: auto; color: $text-muted; }
    NamePreview.-invalid { color: $text-error; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(HINT, id=id, markup=False)
        self.problem: str | None = "type a name"

    def show(self, typed: str, existing: Collection[str] = ()) -> None:
        """Update the preview for what the user has typed so far."""
        name = normalise_secret_name(typed)
        if not typed.strip():
            self.problem = "type a name"
            self.remove_class("-invalid")
            self.update(HINT)
            return
        self.problem = secret_name_problem(name)
        if self.problem is None and name in existing:
            self.problem = f"{name} already exists here: use u (update value) to change it"
        self.set_class(self.problem is not None, "-invalid")
        text = Text()
        text.append("Saved as ")
        text.append(name or "…", style="bold")
        if self.problem:
            text.append(f"  ✗ {self.problem}")
        else:
            text.append("  ✓")
        self.update(text)
