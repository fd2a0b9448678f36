"""Operators and roles in the app: the operator field only with several operators, the header
naming who unlocked and as what, the keys a role may not use hidden and refused, a rolled-back
store refused at unlock, and the first frame reading only the unlock screen's stylesheets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import PASSPHRASE, fast_kdf
from textual.pilot import Pilot
from textual.widgets import Button, Input

from app._support import build_app, fill, screen_name, seeded_vault, settle, wait_for
from faas_tui.core.kinds import Role
from faas_tui.store.generations import GenerationMemory
from faas_tui.tui.app import FaasApp

AUDITOR_PASSPHRASE = "carol's own passphrase"
EDITOR_PASSPHRASE = "bob's own passphrase"


def store_with_operators(store: str) -> None:
    """The seeded store (admin `ops`) plus an editor `bob` and an auditor `carol`."""
    with seeded_vault(store) as vault:
        vault.add_operator("bob", Role.EDITOR, EDITOR_PASSPHRASE, kdf=fast_kdf())
        vault.add_operator("carol", Role.AUDITOR, AUDITOR_PASSPHRASE, kdf=fast_kdf())


def operator_field(app: FaasApp) -> Input:
    return app.screen.query_one("#operator", Input)


async def unlock_as(pilot: Pilot[Any], passphrase: str) -> None:
    app = pilot.app
    assert isinstance(app, FaasApp)
    await settle(pilot)
    await wait_for(lambda: operator_field(app).display)  # the store's operators were read
    await fill(pilot, "#passphrase", passphrase)
    await pilot.press("enter")
    await settle(pilot)
    assert screen_name(app) == "DashboardScreen", app.screen.query_one("#unlock-message").render()


def warmed_up(app: FaasApp) -> bool:
    """Whether the unlock screen has read the store's operators (after its warm-up)."""
    return getattr(app.screen, "operators", None) is not None


def footer_keys(app: FaasApp) -> set[str]:
    """The keys the footer of the current screen advertises."""
    return {
        active.binding.key
        for active in app.screen.active_bindings.values()
        if active.binding.show and active.enabled
    }


async def test_one_operator_no_operator_field(store: str) -> None:
    seeded_vault(store).close()
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await wait_for(lambda: warmed_up(app))  # the store's operators were read
        await pilot.pause()
        assert not operator_field(app).display
        await fill(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"
        assert "ops · admin" in app.title  # the only operator, chosen without asking


async def test_several_operators_ask_which_prefilled_from_the_option(store: str) -> None:
    store_with_operators(store)
    app = build_app(store, operator="carol")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await wait_for(lambda: operator_field(app).display)
        assert operator_field(app).value == "carol"
        assert app.screen.focused is app.screen.query_one("#passphrase")  # given: passphrase next


async def test_several_operators_without_the_option_focus_the_operator_field(store: str) -> None:
    store_with_operators(store)
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await wait_for(lambda: operator_field(app).display)
        assert app.screen.focused is operator_field(app)
        await fill(pilot, "#operator", "bob")
        await pilot.press("enter")  # on to the passphrase
        await settle(pilot)
        assert app.screen.focused is app.screen.query_one("#passphrase")
        await fill(pilot, "#passphrase", EDITOR_PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"
        assert "bob · editor" in app.title


async def test_an_unknown_operator_is_one_clear_line(store: str) -> None:
    store_with_operators(store)
    app = build_app(store, operator="mallory")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await wait_for(lambda: operator_field(app).display)
        await fill(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "UnlockScreen"
        said = str(app.screen.query_one("#unlock-message").render())
        assert "mallory" in said and "\n" not in said.strip()


async def test_an_auditor_sees_no_change_keys_and_cannot_add(store: str) -> None:
    store_with_operators(store)
    app = build_app(store, operator="carol")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await unlock_as(pilot, AUDITOR_PASSPHRASE)
        assert "carol · auditor" in app.title  # the header names who and as what
        assert not {"n", "d"} & footer_keys(app)
        assert {"a", "L"} <= footer_keys(app)  # an auditor audits and reads the log
        await pilot.press("n")  # refused, with the reason
        await settle(pilot)
        assert screen_name(app) == "DashboardScreen"
        assert any("carol is an auditor" in n.message for n in app._notifications)
        await pilot.press("enter")  # billing
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
        assert not {"n", "u", "d", "D"} & footer_keys(app)
        assert app.screen.query_one("#add-secret", Button).disabled
        await pilot.press("n", "u", "d", "D")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"  # no modal opened
        assert len(app.vault.list_secrets("billing")) == 3  # nothing changed
        descriptions = " ".join(d for _, d, enabled in app.key_help(app.screen) if enabled)
        assert "Add a secret" not in descriptions and "Deploy" not in descriptions


async def test_an_editor_changes_secrets_but_has_no_operator_or_key_file_action(
    store: str,
) -> None:
    store_with_operators(store)
    app = build_app(store, operator="bob")
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock_as(pilot, EDITOR_PASSPHRASE)
        assert "bob · editor" in app.title
        assert {"n", "d"} <= footer_keys(app)
        await pilot.press("enter")  # billing
        await settle(pilot)
        assert {"n", "u", "d", "D"} <= footer_keys(app)
        for keys, description, _ in app.key_help(app.screen):
            assert "operator" not in description.lower(), keys
            assert "key file" not in description.lower(), keys
        commands = [c.title.lower() for c in app.get_system_commands(app.screen)]
        assert not [c for c in commands if "operator" in c or "key file" in c]


async def test_a_rolled_back_store_is_refused_at_unlock_in_one_line(
    store: str, tmp_path: Path
) -> None:
    """This machine saw a newer generation of the store: unlocking refuses, never a traceback."""
    with seeded_vault(store) as vault:
        store_id = vault.store_id
    memory = GenerationMemory(tmp_path / "generations.json")
    memory.record(store_id, 10_000)  # as if a later state had been seen here
    app = build_app(store, memory=memory)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await fill(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "UnlockScreen" and app.vault is None
        said = str(app.screen.query_one("#unlock-message").render()).strip()
        assert "rolled back" in said and "faas-tui check" in said
        assert "\n" not in said and "Traceback" not in said


async def test_unlocking_records_the_generation_it_saw(store: str, tmp_path: Path) -> None:
    seeded_vault(store).close()
    memory = GenerationMemory(tmp_path / "generations.json")
    app = build_app(store, memory=memory)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await fill(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert app.vault is not None
        assert memory.seen(app.vault.store_id) > 0


def stylesheets(app: FaasApp) -> set[str]:
    """The names of the app's own stylesheets read so far (Textual's sources are (path, name))."""
    return {Path(path).name for path, _ in app.stylesheet.source if path.endswith(".tcss")}


async def test_the_first_frame_reads_only_the_unlock_stylesheets(store: str) -> None:
    seeded_vault(store).close()
    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert stylesheets(app) == {"app.tcss", "unlock.tcss"}
        await fill(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert {"dashboard.tcss", "modals.tcss", "function.tcss", "tables.tcss"} <= stylesheets(app)
