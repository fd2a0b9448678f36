"""Update value (write-only: the old value is never shown) and the irreversible delete, which does
nothing until the name is typed and names the deployments that still bind the secret."""

from __future__ import annotations

from textual.widgets import Button, DataTable, Input, Static, TextArea

from app._support import CANARY, VALUES, all_text, build_app, fill, screen_name, settle
from faas_tui.core.values import SecretFormat
from faas_tui.store.vault import Vault


async def open_billing_at(pilot, row: int) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    for _ in range(row):
        await pilot.press("down")


def names(app) -> list[str]:
    table = app.screen.query_one("#secrets", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_update_stores_a_new_version_and_never_shows_the_old_value(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing_at(pilot, 0)  # DATABASE_URL, v1, deployed
        await pilot.press("u")
        await settle(pilot)
        assert screen_name(app) == "UpdateSecretModal"
        assert "DATABASE_URL" in str(app.screen.query_one(".dialog-title").render())
        assert app.focused is app.screen.query_one("#value", TextArea)
        assert app.screen.query_one("#value", TextArea).text == ""
        assert not [value for value in VALUES if value in all_text(app)]
        await pilot.press(*CANARY, "ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
        table = app.screen.query_one("#secrets", DataTable)
        assert [str(c) for c in table.get_row_at(0)][2:] == [
            "v2",
            "2025-03-01 12:00 UTC",
            "pending",
        ]
        assert CANARY not in all_text(app)
    assert seeded.read_secret("billing", "DATABASE_URL") == CANARY


async def test_update_can_switch_the_format(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing_at(pilot, 0)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("ctrl+t")
        await fill(pilot, "#value", '{"host": "db"}')
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
    assert seeded.get_secret("billing", "DATABASE_URL").format is SecretFormat.JSON


async def test_escape_leaves_update_without_a_change(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing_at(pilot, 0)
        await pilot.press("u", *"abc", "escape")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
    assert seeded.get_secret("billing", "DATABASE_URL").version == 1


async def test_delete_does_nothing_until_the_name_is_typed(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing_at(pilot, 2)  # STRIPE_WEBHOOK_SECRET, bound by deployment #1
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert screen_name(app) == "ConfirmDeleteModal"
        assert "You cannot undo this action" in str(screen.query_one("#cannot-undo").render())
        detail = " ".join(str(w.render()) for w in screen.query(".delete-detail"))
        assert "Deployment #1 still binds STRIPE_WEBHOOK_SECRET" in detail
        assert "redeploy" in detail
        assert app.focused is screen.query_one("#confirm-name", Input)
        delete = screen.query_one("#delete", Button)
        assert delete.disabled
        await pilot.press("enter")  # nothing typed
        assert screen_name(app) == "ConfirmDeleteModal"
        assert "does not match" in str(screen.query_one("#delete-problem", Static).render())
        await pilot.press(*"STRIPE_WEBHOOK")
        assert delete.disabled
        await pilot.press("enter")
        assert screen_name(app) == "ConfirmDeleteModal"
        assert "STRIPE_WEBHOOK_SECRET" in [s.name for s in seeded.list_secrets("billing")]
        await pilot.press(*"_SECRET")
        assert not delete.disabled
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
        assert "STRIPE_WEBHOOK_SECRET" not in names(app)
        notes = " ".join(n.message for n in app._notifications)
        assert "#1 fails until you redeploy" in notes
    assert "STRIPE_WEBHOOK_SECRET" not in [s.name for s in seeded.list_secrets("billing")]


async def test_delete_key_and_mouse_confirm(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")  # hubspot-sync, never deployed
        await settle(pilot)
        await pilot.press("delete")
        await settle(pilot)
        detail = " ".join(str(w.render()) for w in app.screen.query(".delete-detail"))
        assert "No deployment binds HUBSPOT_API_KEY" in detail
        await fill(pilot, "#confirm-name", "HUBSPOT_API_KEY")
        await pilot.click("#delete")
        await settle(pilot)
        assert names(app) == ["HUBSPOT_APP_CONFIG"]


async def test_escape_cancels_a_delete(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_billing_at(pilot, 0)
        await pilot.press("d")
        await fill(pilot, "#confirm-name", "DATABASE_URL")
        await pilot.press("escape")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
        assert "DATABASE_URL" in names(app)
