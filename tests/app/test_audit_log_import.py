"""Issue 5 in the app: the Audit screen (flags, filter, sort, export without values), the event log
view, and import with a plan (names only) applied on confirmation."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from textual.widgets import DataTable, Static

from app._support import VALUES, all_text, build_app, fill, screen_name, settle
from faas_tui.store.vault import Vault


def cells(app, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def open_audit(pilot) -> None:
    await settle(pilot)
    await pilot.press("a")
    await settle(pilot)


async def test_audit_lists_every_secret_with_flags(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_audit(pilot)
        assert screen_name(app) == "AuditScreen"
        rows = cells(app, "#audit")
        assert len(rows) == 6 + 3 * 2  # user secrets plus two system secrets per function
        by_name = {(r[0], r[1]): r for r in rows}
        assert by_name[("billing", "STRIPE_API_KEY")][2] == "PENDING_REDEPLOY"
        assert by_name[("billing", "DATABASE_URL")][2] == ""
        assert "SYSTEM" in by_name[("mailer", "SYSTEM_API_TOKEN")][2]
        assert not app.screen.query_one("#audit-progress").display
        assert "12 rows" in str(app.screen.query_one("#audit-status", Static).render())
        assert not [value for value in VALUES if value in all_text(app)]


async def test_audit_shows_unreferenced_and_missing_names_from_the_source_folder(
    store: str, seeded: Vault, tmp_path: Path
) -> None:
    code = tmp_path / "billing-src"
    code.mkdir()
    (code / "handler.py").write_text(
        "env = bound_env('billing')\n"
        "charge(env.STRIPE_API_KEY, env.DATABASE_URL)\n"
        "hook = client.read_secret('PAYPAL_TOKEN')\n"
    )
    seeded.set_source_dir("billing", str(code))
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_audit(pilot)
        by_name = {(r[0], r[1]): r[2] for r in cells(app, "#audit")}
        assert "UNREFERENCED" in by_name[("billing", "STRIPE_WEBHOOK_SECRET")]
        assert "UNREFERENCED" not in by_name[("billing", "STRIPE_API_KEY")]
        assert by_name[("billing", "PAYPAL_TOKEN")] == "MISSING"
        assert ("mailer", "PAYPAL_TOKEN") not in by_name  # only billing has a source folder


async def test_audit_filters_as_you_type_and_sorts_by_any_column(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_audit(pilot)
        await pilot.press("slash", *"pending")
        await settle(pilot)
        rows = cells(app, "#audit")
        assert {r[1] for r in rows} == {"STRIPE_API_KEY", "HUBSPOT_API_KEY", "HUBSPOT_APP_CONFIG"}
        assert "3 of 12 rows" in str(app.screen.query_one("#audit-status", Static).render())
        await pilot.press("enter", "s")  # back to the table; sort by the next column (Name)
        await settle(pilot)
        assert [r[1] for r in cells(app, "#audit")] == [
            "HUBSPOT_API_KEY",
            "HUBSPOT_APP_CONFIG",
            "STRIPE_API_KEY",
        ]
        await pilot.press("S")
        await settle(pilot)
        assert cells(app, "#audit")[0][1] == "STRIPE_API_KEY"
        assert "Name (descending)" in str(app.screen.query_one("#audit-status").render())
        await pilot.click("#audit", offset=(2, 0))  # the Function header
        await settle(pilot)
        assert [r[0] for r in cells(app, "#audit")] == ["billing", "hubspot-sync", "hubspot-sync"]


async def test_audit_exports_what_is_shown_without_values(
    store: str, seeded: Vault, tmp_path: Path
) -> None:
    app = build_app(store, seeded)
    target_csv = tmp_path / "audit.csv"
    target_json = tmp_path / "audit.json"
    async with app.run_test(size=(100, 30)) as pilot:
        await open_audit(pilot)
        await fill(pilot, "#audit-filter", "billing")
        await settle(pilot)
        await pilot.press("enter", "e")
        await settle(pilot)
        assert screen_name(app) == "ExportModal"
        await fill(pilot, "#export-path", str(target_csv))
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "AuditScreen"
        await pilot.press("e")
        await fill(pilot, "#export-path", str(target_json))
        assert app.screen.query_one("#export-json").value  # follows the file name
        await pilot.press("ctrl+s")
        await settle(pilot)
    with target_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    assert {row["function"] for row in rows} == {"billing"}
    assert len(rows) == 5
    pending = next(row for row in rows if row["name"] == "STRIPE_API_KEY")
    assert pending["flags"] == "PENDING_REDEPLOY" and pending["version"] == "2"
    records = json.loads(target_json.read_text())
    assert len(records) == 5 and records[0]["created_at"].endswith("Z")
    for text in (target_csv.read_text(), target_json.read_text()):
        assert not [value for value in VALUES if value in text]


async def test_audit_export_to_a_missing_folder_says_so(
    store: str, seeded: Vault, tmp_path: Path
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_audit(pilot)
        await pilot.press("e")
        await fill(pilot, "#export-path", str(tmp_path / "nowhere" / "audit.csv"))
        await pilot.press("enter")
        await settle(pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors and "no folder" in errors[-1]


async def test_log_view_shows_events_newest_first_and_verifies(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        assert screen_name(app) == "EventLogScreen"
        rows = cells(app, "#log")
        assert rows[0][3] == "secret.update" and rows[0][5] == "STRIPE_API_KEY"
        assert rows[-1][3] == "store.init"
        assert all(row[2] == "ops" for row in rows)
        await pilot.press("slash", *"deploy")
        await settle(pilot)
        assert {row[3] for row in cells(app, "#log")} == {"deploy"}
        await pilot.press("enter", "v")
        await settle(pilot)
        notes = [n.message for n in app._notifications]
        assert any("intact" in note for note in notes)
        assert not [value for value in VALUES if value in all_text(app)]


async def test_import_shows_the_plan_then_applies_it(
    store: str, seeded: Vault, tmp_path: Path
) -> None:
    env = tmp_path / "prod.env"
    env.write_text(
        "DATABASE_URL=postgres://u:p@db/billing\nnew-key=brand-new-value\nSTRIPE_API_KEY=changed\n"
    )
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "i")
        await settle(pilot)
        assert screen_name(app) == "ImportModal"
        await fill(pilot, "#import-path", str(env))
        await pilot.press("enter")
        await settle(pilot)
        problem = str(app.screen.query_one("#import-problem").render())
        assert "STRIPE_API_KEY" in problem and "Replace existing" in problem
        await pilot.click("#overwrite")
        assert app.screen.query_one("#overwrite").value
        await pilot.click("#preview")
        await settle(pilot)
        plan = str(app.screen.query_one("#import-plan").render())
        assert "Added (1): NEW_KEY" in plan
        assert "Replaced (1): STRIPE_API_KEY" in plan
        assert "Unchanged (1): DATABASE_URL" in plan
        assert "brand-new-value" not in all_text(app)
        assert "NEW_KEY" not in [s.name for s in seeded.list_secrets("billing")]  # dry run
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "FunctionScreen"
        table = app.screen.query_one("#secrets", DataTable)
        assert "NEW_KEY" in [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "brand-new-value" not in all_text(app)
    assert seeded.read_secret("billing", "NEW_KEY") == "brand-new-value"
    assert seeded.read_secret("billing", "STRIPE_API_KEY") == "changed"


async def test_import_of_a_bad_file_is_refused_in_one_line(
    store: str, seeded: Vault, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"A_KEY": [1, 2]}')
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "i")
        await fill(pilot, "#import-path", str(bad))
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "ImportModal"
        problem = str(app.screen.query_one("#import-problem").render())
        assert "A_KEY" in problem and "\n" not in problem
        assert app.screen.query_one("#apply").disabled


async def test_a_huge_audit_lists_a_prefix_but_exports_every_row(
    store: str, seeded: Vault, tmp_path: Path, monkeypatch
) -> None:
    import faas_tui.tui.screens.audit as audit_screen

    monkeypatch.setattr(audit_screen, "DISPLAY_LIMIT", 5)
    target = tmp_path / "all.json"
    app = build_app(store, seeded)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_audit(pilot)
        assert len(cells(app, "#audit")) == 5
        status = str(app.screen.query_one("#audit-status", Static).render())
        assert "12 rows (the first 5 listed: filter to narrow)" in status
        await pilot.press("e")
        await fill(pilot, "#export-path", str(target))
        await pilot.press("enter")
        await settle(pilot)
    assert len(json.loads(target.read_text())) == 12
