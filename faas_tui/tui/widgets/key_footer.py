"""Textual's footer, showing only the keys that fit whole: at 60 columns a key is never cut in
half (`esc Ca`); the ones left out stay bound and are listed by `?` and the palette."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer

ALWAYS_SHOWN = ("help", "app.help", "command_palette", "app.command_palette")  # how to find the keys that do not fit


class KeyFooter(Footer):
    """A compact footer that hides, from the right, the keys past its width (but `? Keys`)."""

    def __init__(self) -> None:
        super().__init__(compact=True)

    def compose(self) -> ComposeResult:
        yield from super().compose()
        self.call_after_refresh(self.fit)

    def on_resize(self) -> None:
        self.fit()

    def fit(self) -> None:
        keys: list[Widget] = list(self.query("FooterKey").results())
        room = self.size.width
        if not keys or room <= 0:
            return
        for key in keys:
            key.display = True
        kept = {id(key) for key in keys if getattr(key, "action", None) in ALWAYS_SHOWN}
        room -= sum(_width(key) for key in keys if id(key) in kept)
        for key in keys:
            if id(key) in kept:
                continue
            width = _width(key)
            if width <= room:
                room -= width
            else:
                room = 0  # keep the order: nothing after the first key that does not fit
                key.display = False


def _width(key: Widget) -> int:
    size = key.app.size
    return key.get_content_width(size, size) + key.styles.gutter.width + key.styles.margin.width
