"""The Audit and Event log at 80x24 (full names, a labelled detail pane for the highlighted row,
sorting only by labelled fields) and the export modal (asks before replacing a file, keeps the
typed path after a failure, the file name follows the format)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, Input, RadioButton, Static

from app._support import build_app, fill, screen_name, settle
from faas_tui.store.vault import Vault
from faas_tui.tui.modals.export_audit import with_format
from faas_tui.tui.screens.audit import COLUMNS

SMALL = (80, 24)


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_audit_detail_labels_every_field_of_the_highlighted_row(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        table = app.screen.query_one("#audit", DataTable)
        assert table.row_count == 12
        table.move_cursor(row=1)  # billing STRIPE_API_KEY: version 2, deployed version 1
        await settle(pilot)
        detail = text_of(app, "#audit-detail")
        assert detail.startswith("STRIPE_API_KEY  in billing")
        for label in ("Version 2", "Deployed version 1", "Updated ", "Created ", "Age "):
            assert label in detail, label
        # every field `s` sorts by is labelled in the pane with the name the status line uses
        for label, *_ in COLUMNS[2:]:
            assert f"{label} " in detail
        status = text_of(app, "#audit-status")
        assert "\n" not in status and "sorted by Function (ascending)" in status
        for _ in range(6):
            await pilot.press("s")
        await settle(pilot)
        assert "sorted by Deployed version (ascending)" in text_of(app, "#audit-status")


async def test_event_log_fits_names_at_80_columns_and_details_the_event(
    store: str, seeded: Vault
) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        table = app.screen.query_one("#log", DataTable)
        widths = sum(column.get_render_width(table) for column in table.ordered_columns)
        assert widths <= SMALL[0] - 1  # every column, the longest name included, on screen
        names = [str(table.get_row_at(i)[5]) for i in range(table.row_count)]
        assert "STRIPE_WEBHOOK_SECRET" in names
        row = names.index("STRIPE_WEBHOOK_SECRET")
        table.move_cursor(row=row)
        await settle(pilot)
        detail = text_of(app, "#log-detail")
        assert "Name STRIPE_WEBHOOK_SECRET" in detail and "Action secret.add" in detail
        event = seeded.events()[int(str(table.get_row_at(row)[0])) - 1]
        assert f"Hash {event.hash}" in detail


async def open_export(pilot) -> None:
    await settle(pilot)
    await pilot.press("a")
    await settle(pilot)
    await pilot.press("e")
    await settle(pilot)
    assert screen_name(pilot.app) == "ExportModal"


async def test_export_asks_before_replacing_a_file(
    store: str, seeded: Vault, tmp_path: Path
) -> None:
    target = tmp_path / "audit.json"
    target.write_text("keep me")
    app = build_app(store, seeded)
    async with app.run_test(size=SMALL) as pilot:
        await open_export(pilot)
        await fill(pilot, "#export-path", str(target))
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "ExportModal"
        assert "already exists" in text_of(app, "#export-problem")
        assert str(app.screen.query_one("#export", Button).label) == "Replace"
        assert target.read_text() == "keep me"
        await pilot.press("enter")  # the second press replaces it
        await settle(pilot)
        assert screen_name(app) == "AuditScreen"
    assert len(json.loads(target.read_text())) == 12


async def test_a_failed_export_keeps_the_modal_and_the_typed_path(
    store: str, seeded: Vault, tmp_path: Path
) -> None:
    typed = str(tmp_path / "nowhere" / "audit.csv")
    app = build_app(store, seeded)
    async with app.run_test(size=SMALL) as pilot:
        await open_export(pilot)
        await fill(pilot, "#export-path", typed)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(app) == "ExportModal"
        assert app.screen.query_one("#export-path", Input).value == typed
        problem = text_of(app, "#export-problem")
        assert "no folder" in problem and "\n" not in problem
        (tmp_path / "nowhere").mkdir()  # fix the cause, then export again from the same modal
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen_name(app) == "AuditScreen"
    assert (tmp_path / "nowhere" / "audit.csv").is_file()


async def test_the_file_name_follows_the_format(store: str, seeded: Vault) -> None:
    app = build_app(store, seeded)
    async with app.run_test(size=SMALL) as pilot:
        await open_export(pilot)
        field = app.screen.query_one("#export-path", Input)
        assert field.value == "audit.csv"
        app.screen.query_one("#export-json", RadioButton).value = True
        await settle(pilot)
        assert field.value == "audit.json"
        app.screen.query_one("#export-csv", RadioButton).value = True
        await settle(pilot)
        assert field.value == "audit.csv"


@pytest.mark.parametrize(
    ("path", "fmt", "expected"),
    [
        ("audit.csv", "json", "audit.json"),
        ("out/Report.JSON", "csv", "out/Report.csv"),
        ("notes.txt", "json", "notes.txt"),
        ("./folder/file", "json", "./folder/file"),
    ],
)
def test_with_format_switches_only_a_csv_or_json_extension(
    path: str, fmt: str, expected: str
) -> None:
    assert with_format(path, fmt) == expected
