"""The `faas-tui` command line: parses arguments, calls the Vault, prints. No business rules here.

`main` is the console script and `python -m faas_tui`. Errors print one line `error: …` on stderr
with the exit code of the README's table (0-5), never a traceback. Heavy modules
(SQLAlchemy, Textual) are imported only by the commands that need them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from faas_tui.cli.context import Invocation, KdfFactory
from faas_tui.cli.output import print_error
from faas_tui.core.errors import FaasError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None, *, kdf: KdfFactory | None = None) -> int:
    """Run one command and return its exit code.

    `kdf` makes the key-derivation parameters of any new passphrase (init, demo, passwd): tests
    pass weak ones. Nothing on the command line or in the environment can choose it.
    """
    from faas_tui.cli.parser import build_parser

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.handler(Invocation(args, kdf=kdf))
    except FaasError as exc:
        print_error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        print_error("interrupted; nothing more was changed")
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error worth a message
        return 0
    except Exception as exc:  # the last guard: a one-line message instead of a traceback
        if os.environ.get("FAAS_TUI_DEBUG"):
            raise
        print_error(
            f"unexpected {type(exc).__name__}; please report it (run with FAAS_TUI_DEBUG=1)"
        )
        return 1
