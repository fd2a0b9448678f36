"""What a function's code folder mentions and reads (`scan_folder`), for UNREFERENCED and MISSING.

Pure file-system tests: no store. The audit's use of them is in test_audit.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from faas_tui.core import references
from faas_tui.core.references import RUNTIME_VARIABLES, scan_folder


def write(folder: Path, relative: str, content: str | bytes) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


READS = {
    "bound_env attribute": ("env = bound_env('billing')\nkey = env.STRIPE_KEY\n", "STRIPE_KEY"),
    "bound_env item": ('url = env["database url"]\n', "DATABASE_URL"),
    "read_secret": ('client.read_secret("STRIPE_KEY")\n', "STRIPE_KEY"),
    "read_secret typed": (
        "client.read_secret( 'hubspot api-key', use_cache=False)\n",
        "HUBSPOT_API_KEY",
    ),
    "read_secret keyword": ('read_secret(name="SMTP_PASSWORD")\n', "SMTP_PASSWORD"),
    "os.environ item": ("os.environ['SENTRY_DSN']\n", "SENTRY_DSN"),
    "os.environ.get": ('os.environ.get("SENTRY_DSN", "")\n', "SENTRY_DSN"),
    "os.getenv": ('os.getenv("SENTRY_DSN")\n', "SENTRY_DSN"),
    "imported environ": ('from os import environ\nenviron["SENTRY_DSN"]\n', "SENTRY_DSN"),
    "imported getenv": ("from os import getenv\ngetenv('SENTRY_DSN')\n", "SENTRY_DSN"),
    "process.env": ("const key = process.env.STRIPE_KEY;\n", "STRIPE_KEY"),
    "process.env item": ("const key = process.env['STRIPE_KEY'];\n", "STRIPE_KEY"),
    "system secret": ('read_secret("SYSTEM_API_TOKEN")\n', "SYSTEM_API_TOKEN"),
}


@pytest.mark.parametrize("pattern", READS)
def test_each_read_pattern_names_the_secret_it_reads(tmp_path: Path, pattern: str) -> None:
    code, name = READS[pattern]
    write(tmp_path, "handler.py", code)
    found = scan_folder(tmp_path)
    assert found.reads == {name}
    assert found.mentions(name)


def test_names_that_cannot_be_secrets_are_not_reads(tmp_path: Path) -> None:
    write(
        tmp_path,
        "handler.py",
        "env.get('x')\n"  # a method of bound_env, lowercase: not a secret name
        'os.getenv("ab")\n'  # too short for a secret name
        "os.environ['2FA_CODE']\n"  # starts with a digit
        'read_secret("")\n'
        'process.env["bad/name"]\n'
        + "".join(f'os.getenv("{name}")\n' for name in sorted(RUNTIME_VARIABLES)),
    )
    assert scan_folder(tmp_path).reads == frozenset()


def test_a_mention_anywhere_counts_but_only_as_a_whole_word(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "Set API_KEY before deploying.\n")
    write(tmp_path, "src/app.js", "const OTHER_API_KEY_2 = 1; // MY_TOKEN_SUFFIX\n")
    found = scan_folder(tmp_path)
    assert found.mentions("API_KEY") and found.mentions("OTHER_API_KEY_2")
    assert not found.mentions("MY_TOKEN") and not found.mentions("TOKEN")
    assert found.reads == frozenset()  # a mention is not a read: nothing is MISSING


def test_bound_env_attributes_are_mentions_as_the_runtime_normalises_them(tmp_path: Path) -> None:
    write(tmp_path, "handler.py", "key = env.stripe_key\nfor k in env.items(): pass\n")
    found = scan_folder(tmp_path)
    assert found.mentions("STRIPE_KEY")
    assert found.reads == frozenset()  # env.items is a method: never MISSING


def test_nested_folders_are_scanned_but_vcs_dependency_and_build_folders_are_not(
    tmp_path: Path,
) -> None:
    write(tmp_path, "src/deep/er/handler.py", 'read_secret("USED_DEEP")\n')
    for skipped in ("node_modules/pkg", ".git/hooks", "__pycache__", ".venv/lib", "dist", "build"):
        write(tmp_path, f"{skipped}/code.js", "process.env.FROM_SKIPPED; SKIPPED_WORD\n")
    found = scan_folder(tmp_path)
    assert found.reads == {"USED_DEEP"}
    assert not found.mentions("FROM_SKIPPED") and not found.mentions("SKIPPED_WORD")


def test_binary_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "image.png", b"\x89PNG\r\n\x1a\n\x00\x00 read_secret('IN_BINARY') IN_BINARY")
    write(tmp_path, "handler.py", "read_secret('IN_TEXT')\n")
    found = scan_folder(tmp_path)
    assert found.reads == {"IN_TEXT"} and not found.mentions("IN_BINARY")


def test_huge_files_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(references, "MAX_FILE_BYTES", 1024)
    write(tmp_path, "bundle.min.js", "process.env.IN_HUGE;" + " " * 2048)
    write(tmp_path, "small.js", "process.env.IN_SMALL;" + " " * 900)
    found = scan_folder(tmp_path)
    assert found.reads == {"IN_SMALL"} and not found.mentions("IN_HUGE")
    assert references.MAX_FILE_BYTES == 1024  # the patch reached the reader


def test_the_default_size_limit_keeps_ordinary_code_and_drops_bundles() -> None:
    assert 256 * 1024 <= references.MAX_FILE_BYTES <= 16 * 1024 * 1024


def test_text_that_is_not_utf8_is_still_read(tmp_path: Path) -> None:
    write(tmp_path, "legacy.py", "# caf\xe9\nos.getenv('LATIN_ONE')\n".encode("latin-1"))
    assert scan_folder(tmp_path).reads == {"LATIN_ONE"}


def test_symlinks_fifos_and_loops_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.py", "read_secret('OUTSIDE')\n")
    code = tmp_path / "code"
    write(code, "handler.py", "read_secret('INSIDE')\n")
    (code / "linked.py").symlink_to(outside / "secret.py")
    (code / "linked_dir").symlink_to(outside, target_is_directory=True)
    (code / "loop").symlink_to(code, target_is_directory=True)
    os.mkfifo(code / "pipe")  # reading it would block forever
    found = scan_folder(code)
    assert found.reads == {"INSIDE"} and not found.mentions("OUTSIDE")


def test_an_empty_or_vanished_folder_reads_nothing(tmp_path: Path) -> None:
    assert scan_folder(tmp_path) == references.References(frozenset(), frozenset())
    assert scan_folder(tmp_path / "gone") == references.References(frozenset(), frozenset())
