"""Drive the real app on demo data and write an SVG of every screen and modal into this folder.

The app is built as `faas-tui demo` builds it, on a fixed clock so the pictures
change only when the app does. Keys are pressed as a user presses them; text fields are filled
directly (typing key by key shows the same thing, only slower).

    python screenshots/make_screenshots.py            # rewrite screenshots/*.svg
    python screenshots/make_screenshots.py --out DIR  # somewhere else
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import chdir
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, TextArea
from textual.worker import WorkerState

from faas_tui.core.values import SecretFormat
from faas_tui.demo import DEMO_PASSPHRASE, fill_demo
from faas_tui.store.crypto import KdfParams
from faas_tui.store.vault import Vault
from faas_tui.tui.app import FaasApp

HERE = Path(__file__).resolve().parent
SIZE = (100, 30)
STORE = "store.db"
MOMENT = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
DemoData = Mapping[str, Mapping[str, tuple[str, SecretFormat]]]


@dataclass(frozen=True)
class Type:
    """Put text into a field of the current screen, as if typed."""

    selector: str
    text: str


@dataclass(frozen=True)
class Click:
    """Click a widget of the current screen."""

    selector: str


Step = str | Type | Click


@dataclass(frozen=True)
class Scene:
    file: str
    title: str
    steps: tuple[Step, ...]


SCENES = (
    Scene("unlock", "Unlock", ("l", Type("#passphrase", DEMO_PASSPHRASE))),
    Scene("dashboard", "Functions", ()),
    Scene("new-function", "New function", ("n", Type("#function-name", "reports"))),
    Scene("function-settings", "Function: Settings and Secrets", ("enter",)),
    Scene("function-overview", "Function: Overview", ("enter", "1")),
    Scene("add-secret", "Add a secret", ("enter", "n", Type("#key", "hubspot api key"))),
    Scene(
        "add-secret-json",
        "Add a secret: JSON checked as typed",
        (
            "enter",
            "n",
            Type("#key", "app config"),
            "ctrl+t",
            Type("#value", '{\n  "region": "eu",\n}'),
        ),
    ),
    Scene("update-value", "Update value", ("enter", "down", "u")),
    Scene(
        "delete",
        "Delete: type the name to confirm",
        ("enter", "down", "down", "d", Type("#confirm-name", "STRIPE_WEB"), "enter"),
    ),
    Scene("system-secrets", "System secrets", ("enter", "s")),
    Scene(
        "import-plan",
        "Import: the plan first",
        ("enter", "i", Type("#import-path", "prod.env"), Click("#overwrite"), Click("#preview")),
    ),
    Scene("audit", "Audit", ("a",)),
    Scene("export", "Export the audit", ("a", "e")),
    Scene("event-log", "Event log", ("L",)),
    Scene("help", "Keys of the current screen", ("question_mark",)),
)

IMPORT_FILE = (
    "DATABASE_URL=postgres://demo@db/billing\nexport SENTRY_DSN=https://key@sentry.example/1\n"
)


def fixed_clock() -> datetime:
    return MOMENT


def fill_store(store: str, data: DemoData | None, kdf: KdfParams | None = None) -> None:
    """The demo store; `kdf` None is the product's default Argon2id (64 MiB, t=3)."""
    with Vault.create(store, DEMO_PASSPHRASE, clock=fixed_clock, actor="ops", kdf=kdf) as vault:
        fill_demo(vault, data=data)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for workers (unlock, audit scan, import plan) and the frames that follow them."""
    for _ in range(5):
        await pilot.pause()
        # a new screen starts its store call when mounted
        await wait_until(pilot, lambda: pilot.app.screen.is_mounted, "the screen mounted")
        if not any(
            w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers
        ):
            break
        await pilot.app.workers.wait_for_complete()
    await wait_until(pilot, lambda: tables_measured(pilot.app), "the tables measured")
    await pilot.pause()


async def wait_until(pilot: Pilot[Any], ready: Callable[[], bool], what: str) -> None:
    """Let the app run until it is idle, then look again, until `ready()`; fail after 10 s."""
    deadline = time.monotonic() + 10
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"never happened: {what}")
        await pilot.pause()


def tables_measured(app: App[Any]) -> bool:
    """Every table of every screen on the stack (a modal shows the one under it) has all its rows
    and has measured them: a DataTable sizes its columns when idle, and a picture taken before
    shows empty columns."""
    for table in (t for screen in app.screen_stack for t in screen.query(DataTable).results()):
        header = table.header_height if table.show_header else 0
        if getattr(table, "filling", False) or table.virtual_size.height < table.row_count + header:
            return False
    return True


async def play(pilot: Pilot[Any], steps: tuple[Step, ...]) -> None:
    await settle(pilot)
    for step in steps:
        if isinstance(step, Type):
            field = pilot.app.screen.query_one(step.selector)
            if isinstance(field, TextArea):
                field.load_text(step.text)
            else:
                assert isinstance(field, Input)
                field.value = step.text
            field.focus()
        elif isinstance(step, Click):
            await pilot.click(step.selector)
        else:
            await pilot.press(step)
        await settle(pilot)
    for screen in pilot.app.screen_stack:  # a blinking cursor would make each run differ
        for widget in screen.query("Input, TextArea").results():
            assert isinstance(widget, Input | TextArea)
            widget.cursor_blink = False
    await settle(pilot)


async def shoot(store: str, scene: Scene) -> str:
    vault = Vault.open(store, passphrase=DEMO_PASSPHRASE, clock=fixed_clock, actor="ops")
    app = FaasApp(store, vault=vault, demo=True, clock=fixed_clock, local_clipboard=None)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await play(pilot, scene.steps)
            return app.export_screenshot(title=f"faas-tui — {scene.title}")
    finally:
        app.close_vault()


async def make_all(
    out: Path, data: DemoData | None = None, kdf: KdfParams | None = None
) -> list[Path]:
    """Write one SVG per scene into `out`; returns the files written.

    `kdf` sets the store's Argon2id parameters (each scene unlocks it again); run by hand the
    script keeps the product's default, a test passes weak ones so its 15 unlocks are cheap.
    No picture shows them."""
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="faas-tui-shots-") as work, chdir(work):
        # relative paths from here on, so the pictures name no temporary folder
        fill_store(STORE, data, kdf)
        Path("prod.env").write_text(IMPORT_FILE)
        for scene in SCENES:
            target = out / f"{scene.file}.svg"
            target.write_text(await shoot(STORE, scene))
            written.append(target)
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the SVGs")
    args = parser.parse_args(argv)
    for path in asyncio.run(make_all(args.out)):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
