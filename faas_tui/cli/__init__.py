"""The `faas-tui` command line: parses arguments, calls the Vault, prints. No business rules here.

`main` is the console script and `python -m faas_tui`. Errors print one line `error: …` on stderr
with the exit code of the README's table (0-5), never a traceback. Heavy modules
(SQLAlchemy, Textual) are imported only by the commands that need them, and `faas-tui` with no
command (the app) neither builds the full parser nor imports any other command: its first frame
waits only for what the unlock screen needs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from faas_tui.core.errors import FaasError

if TYPE_CHECKING:
    import argparse

    from faas_tui.cli.context import KdfFactory

__all__ = ["main"]

# the options that come before any command; each takes one value (--read-only takes none)
_APP_VALUE_OPTIONS = {"--store": "store", "--key-file": "key_file", "--operator": "operator"}


def main(argv: Sequence[str] | None = None, *, kdf: KdfFactory | None = None) -> int:
    """Run one command and return its exit code.

    `kdf` makes the key-derivation parameters of any new passphrase (init, demo, passwd): tests
    pass weak ones. Nothing on the command line or in the environment can choose it.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = app_arguments(arguments)
    if args is None:  # a command, --help, --version or anything unusual: the full parser
        from faas_tui.cli.parser import build_parser

        parser = build_parser()
    try:
        if args is None:
            args = parser.parse_args(arguments)
        from faas_tui.cli.context import Invocation

        return args.handler(Invocation(args, kdf=kdf))
    except FaasError as exc:
        _print_error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _print_error("interrupted; nothing more was changed")
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error worth a message
        return 0
    except Exception as exc:  # the last guard: a one-line message instead of a traceback
        if os.environ.get("FAAS_TUI_DEBUG"):
            raise
        _print_error(
            f"unexpected {type(exc).__name__}; please report it (run with FAAS_TUI_DEBUG=1)"
        )
        return 1


def app_arguments(arguments: Sequence[str]) -> argparse.Namespace | None:
    """What the full parser makes of a command line that only opens the app (no command; only
    --store, --key-file, --operator and --read-only, each spelled out), without building it.

    None for anything else — a command, help, an abbreviation, a value that starts with `-` or
    is empty — which the full parser then reads, with its own messages.
    """
    given: dict[str, object] = {}
    words = iter(arguments)
    for word in words:
        if word == "--read-only":
            given["read_only"] = True
            continue
        name, equals, value = word.partition("=")
        if name not in _APP_VALUE_OPTIONS:
            return None
        if not equals:
            value = next(words, "")
        if not value or value.startswith("-"):
            return None
        given[_APP_VALUE_OPTIONS[name]] = value
    import argparse

    from faas_tui.cli.commands.store import cmd_app

    return argparse.Namespace(handler=cmd_app, **given)


def _print_error(message: str) -> None:
    from faas_tui.cli.output import print_error

    print_error(message)
