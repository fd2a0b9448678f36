"""The secret value editor: the Plaintext / JSON toggle, the value text and its live validation.

The value exists only here while it is typed; `wipe()` removes it, undo history included.
"""

from __future__ import annotations

import secrets

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, RadioButton, RadioSet, Static, TextArea

from faas_tui.core.values import SecretFormat, value_problem

GENERATED_BYTES = 32  # secrets.token_urlsafe(32): 256 random bits, 43 characters


class ValueEditor(Vertical):
    """Format toggle, value TextArea and a problem line (JSON errors with line and column)."""

    DEFAULT_CSS = """
    ValueEditor { height: auto; }
    ValueEditor #format-row { height: auto; }
    ValueEditor #format-row Label { padding: 0 1 0 0; width: auto; margin-top: 0; }
    ValueEditor RadioSet { layout: horizontal; width: auto; height: auto; border: none; padding: 0; }
    ValueEditor RadioSet RadioButton { width: auto; margin-right: 2; }
    ValueEditor TextArea { height: 6; }
    ValueEditor #value-problem { height: auto; color: $text-error; display: none; }
    ValueEditor #value-problem.-ok { color: $text-muted; }
    """

    def __init__(
        self, fmt: SecretFormat = SecretFormat.PLAINTEXT, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.fmt = fmt
        self._live_hidden = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="format-row"):
            yield Label("Format")
            with RadioSet(id="format"):
                yield RadioButton(
                    "Plaintext", value=self.fmt is SecretFormat.PLAINTEXT, id="fmt-plaintext"
                )
                yield RadioButton("JSON", value=self.fmt is SecretFormat.JSON, id="fmt-json")
        yield Label(self._value_label(), id="value-label")
        yield TextArea(
            id="value",
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=self.fmt is SecretFormat.JSON,
        )
        yield Static("", id="value-problem", markup=False)

    def _value_label(self) -> str:
        kind = "a JSON object" if self.fmt is SecretFormat.JSON else "Plaintext"
        return f"Value, {kind} (visible only here, while you type it)"

    @property
    def text_area(self) -> TextArea:
        return self.query_one("#value", TextArea)

    @property
    def text(self) -> str:
        return self.text_area.text

    def problem(self) -> str | None:
        """Why the value cannot be saved in the chosen format, or None."""
        return value_problem(self.text, self.fmt)

    def toggle_format(self) -> None:
        other = "#fmt-json" if self.fmt is SecretFormat.PLAINTEXT else "#fmt-plaintext"
        self.query_one(other, RadioButton).value = True

    @on(RadioSet.Changed, "#format")
    def _format_changed(self, event: RadioSet.Changed) -> None:
        json = event.pressed.id == "fmt-json"
        self.fmt = SecretFormat.JSON if json else SecretFormat.PLAINTEXT
        self.text_area.show_line_numbers = json
        self.query_one("#value-label", Label).update(self._value_label())
        self.validate_live()

    @on(TextArea.Changed, "#value")
    def _value_changed(self) -> None:
        self.validate_live()

    def validate_live(self) -> None:
        """Show the value's problem as it is typed (an empty value is not an error yet)."""
        line = self.query_one("#value-problem", Static)
        problem = self.problem() if self.text else None
        line.set_class(problem is None, "-ok")
        if problem:
            text = problem
        elif self.text and self.fmt is SecretFormat.JSON:
            text = "✓ a valid JSON object"
        else:
            text = ""
        line.update(text)
        line.display = bool(text) and not self._live_hidden

    def hide_live(self, hidden: bool) -> None:
        """Hide the live check while the modal shows why a save was refused (one problem line)."""
        self._live_hidden = hidden
        self.validate_live()

    def generate(self) -> None:
        """A strong random value: replaces Plaintext; JSON gets a quoted token (or an object)."""
        token = secrets.token_urlsafe(GENERATED_BYTES)
        area = self.text_area
        if self.fmt is SecretFormat.PLAINTEXT:
            self._replace(token)
        elif not area.text.strip():
            self._replace('{\n  "value": "' + token + '"\n}')
        else:
            area.insert(f'"{token}"')
        area.focus()

    def _replace(self, text: str) -> None:
        area = self.text_area
        area.clear()
        area.insert(text)

    def wipe(self) -> None:
        """Remove the value from the editor, its undo history and the problem line."""
        self.text_area.load_text("")  # also clears the undo/redo history
        self.query_one("#value-problem", Static).update("")
        self.query_one("#value-problem", Static).display = False
