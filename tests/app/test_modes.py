"""Read-only mode refuses every change; `l` and the idle timer lock the app (the Vault is closed and
the unlock screen returns); escape backs out of every screen and modal."""

from __future__ import annotations

from conftest import PASSPHRASE
from textual.widgets import Button, Static

from app._support import FakeClock, build_app, fill, screen_name, seeded_vault, settle
from faas_tui.demo import DEMO_PASSPHRASE
from faas_tui.store.vault import Vault


def screen_name_of(screen: object) -> str:
    return type(screen).__name__


async def test_read_only_refuses_changes_with_a_notification(store: str) -> None:
    vault = seeded_vault(store, read_only=True)
    app = build_app(store, vault, read_only=True)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("n")
            await settle(pilot)
            assert screen_name(app) == "DashboardScreen"  # no modal opened
            assert any("Read-only" in n.message for n in app._notifications)
            # the changes it may not make are hidden (footer, help, palette), not dimmed
            shown = {k for k, active in app.screen.active_bindings.items() if active.binding.show}
            assert "n" not in shown and "d" not in shown and "a" in shown
            assert "New function" not in [
                description for _, description, _ in app.key_help(app.screen)
            ]
            palette = [command.title for command in app.get_system_commands(app.screen)]
            assert "New function" not in palette and "Delete" not in palette
            assert "Audit" in palette
            status = str(app.screen.query_one("#dash-status").render())
            assert "press n" not in status
            await pilot.press("enter")
            await settle(pilot)
            assert screen_name(app) == "FunctionScreen"
            for key in ("n", "u", "d", "D", "i", "f"):
                await pilot.press(key)
                await settle(pilot)
                assert screen_name(app) == "FunctionScreen", key
            buttons = app.screen.query("#secret-buttons Button").results(Button)
            assert all(button.disabled for button in buttons)
            await pilot.press("s")  # reading is fine
            await settle(pilot)
            assert screen_name(app) == "SystemSecretsScreen"
            refusals = [n for n in app._notifications if "Read-only" in n.message]
            assert len(refusals) >= 6
    finally:
        vault.close()
    with Vault.open(store, passphrase=PASSPHRASE) as check:
        assert check.get_function("billing").deployed == 1


async def test_l_locks_closes_the_vault_and_asks_again(store: str) -> None:
    vault = seeded_vault(store)
    app = build_app(store, vault)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("n")  # a modal is open: typing is not a key binding, so use escape
        await pilot.press("escape", "l")
        await settle(pilot)
        assert screen_name(app) == "UnlockScreen"
        assert app.vault is None
        assert len(app.screen_stack) == 2
        assert not any(type(s).__name__ == "FunctionScreen" for s in app.screen_stack)
        await fill(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        # back where the user was (the function), with the dashboard under it
        assert screen_name(app) == "FunctionScreen" and app.screen.function == "billing"
        assert [screen_name_of(s) for s in app.screen_stack[1:]] == [
            "DashboardScreen",
            "FunctionScreen",
        ]
        assert app.vault is not None and app.vault is not vault


async def test_idle_timeout_locks_the_app(store: str) -> None:
    vault = seeded_vault(store)
    clock = FakeClock()
    app = build_app(store, vault, idle_lock_seconds=2.0, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
        clock.advance(1.9)
        await app.tick()
        assert screen_name(app) == "FunctionScreen"
        clock.advance(0.2)
        await app.tick()  # the app's interval calls this every second
        await settle(pilot)
        assert screen_name(app) == "UnlockScreen"
        assert "without a key press" in str(app.screen.query_one("#unlock-message").render())


async def test_key_presses_keep_the_app_unlocked(store: str) -> None:
    vault = seeded_vault(store)
    clock = FakeClock()
    app = build_app(store, vault, idle_lock_seconds=1.5, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for _ in range(6):
            clock.advance(0.4)
            await app.tick()
            await pilot.press("down")
        assert screen_name(app) == "DashboardScreen"
        clock.advance(1.5)
        await app.tick()
        await settle(pilot)
        assert screen_name(app) == "UnlockScreen"  # the same clock does lock without keys


async def test_demo_shows_its_passphrase_after_a_lock(store: str) -> None:
    vault = seeded_vault(store)
    app = build_app(store, vault, demo=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        hint = str(app.screen.query_one("#unlock-hint", Static).render())
        assert DEMO_PASSPHRASE in hint


async def test_escape_backs_out_of_every_screen_and_modal(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for keys, expected in [
            (["n"], "NewFunctionModal"),
            (["d"], "ConfirmDeleteModal"),
            (["question_mark"], "HelpModal"),
            (["a"], "AuditScreen"),
            (["L"], "EventLogScreen"),
            (["enter"], "FunctionScreen"),
        ]:
            await pilot.press(*keys)
            await settle(pilot)
            assert screen_name(app) == expected
            await pilot.press("escape")
            await settle(pilot)
            assert screen_name(app) == "DashboardScreen", expected
        await pilot.press("enter")
        await settle(pilot)
        for key, expected in [
            ("n", "AddSecretModal"),
            ("u", "UpdateSecretModal"),
            ("d", "ConfirmDeleteModal"),
            ("s", "SystemSecretsScreen"),
            ("i", "ImportModal"),
            ("f", "SourceFolderModal"),
            ("question_mark", "HelpModal"),
        ]:
            await pilot.press(key)
            await settle(pilot)
            assert screen_name(app) == expected
            await pilot.press("escape")
            await settle(pilot)
            assert screen_name(app) == "FunctionScreen", expected
        await pilot.press("escape", "a", "e")  # the audit's export modal, then the audit itself
        await settle(pilot)
        assert screen_name(app) == "ExportModal"
        await pilot.press("escape")
        await settle(pilot)
        assert screen_name(app) == "AuditScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"


async def test_ctrl_q_quits_from_a_modal(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n", "ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


async def test_rows_deleted_behind_the_tools_back_refuse_the_unlock_in_one_line(
    store: str,
) -> None:
    """Tampering is refused, never warned about (the store stays locked), in one clear line."""
    import sqlite3

    seeded_vault(store).close()
    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM secret WHERE name = 'DATABASE_URL'")
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await fill(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "UnlockScreen"
        assert app.vault is None
        said = str(app.screen.query_one("#unlock-message", Static).render())
        assert said and "\n" not in said.strip() and "Traceback" not in said
        assert "check" in said  # names what to do: `faas-tui check`
        assert not [n for n in app._notifications if n.title == "Integrity warning"]


async def test_an_unexpected_error_in_the_unlock_worker_is_one_line(
    store: str, monkeypatch
) -> None:
    seeded_vault(store).close()

    def broken(*_args: object, **_kwargs: object) -> Vault:
        raise OSError("disk on fire")

    monkeypatch.setattr(Vault, "open", broken)
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await fill(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "UnlockScreen"
        assert not app.screen.busy
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors == ["unexpected OSError in _unlock"]
