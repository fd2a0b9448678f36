"""At any width the footer shows whole keys only (never `esc Ca`), always with `? Keys`, and the
keys it leaves out still work."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widget import Widget

from app._support import build_app, screen_name, seeded_vault, settle
from faas_tui.tui.widgets.key_footer import KeyFooter

# from the dashboard: the screens and modals an operator reaches, each with its footer
ROUTE = (
    ([], "DashboardScreen"),
    (["enter"], "FunctionScreen"),
    (["s"], "SystemSecretsScreen"),
    (["escape", "n"], "AddSecretModal"),
    (["escape", "escape", "a"], "AuditScreen"),
    (["escape", "L"], "EventLogScreen"),
)


def shown_keys(pilot: Pilot[Any]) -> list[Widget]:
    footer = pilot.app.screen.query_one(KeyFooter)
    keys = [key for key in footer.query("FooterKey").results() if key.display]
    for key in keys:
        assert key.region.x >= footer.region.x, key
        assert key.region.right <= footer.region.right, f"{key} is cut at {footer.region}"
    return keys


@pytest.mark.parametrize("width", [60, 80, 120])
async def test_the_footer_shows_whole_keys_and_always_the_keys_panel(
    store: str, width: int
) -> None:
    app = build_app(store, seeded_vault(store))
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        for keys, screen in ROUTE:
            for key in keys:
                await pilot.press(key)
                await settle(pilot)
            assert screen_name(app) == screen
            shown = shown_keys(pilot)
            every = pilot.app.screen.query_one(KeyFooter).query("FooterKey").results()
            if any(getattr(key, "action", "") == "help" for key in every):  # modals type `?`
                assert any(getattr(key, "action", "") == "help" for key in shown), screen
            assert sum(key.region.width for key in shown) <= width


async def test_a_key_the_footer_leaves_out_still_works(store: str) -> None:
    app = build_app(store, seeded_vault(store))
    async with app.run_test(size=(60, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        hidden = [
            getattr(key, "action", "")
            for key in app.screen.query_one(KeyFooter).query("FooterKey").results()
            if not key.display
        ]
        assert "back" in hidden  # `esc Back` does not fit at 60 columns on a function
        await pilot.press("escape")
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"
