"""The `faas-tui` argument parser: every command, its options, and the handler that runs it.

A usage error is one `error:` line with exit code 2; argv is never echoed beyond option names.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from faas_tui import __version__
from faas_tui.cli.commands.audit import cmd_audit, cmd_check, cmd_log
from faas_tui.cli.commands.deploy import cmd_deploy, cmd_run
from faas_tui.cli.commands.functions import (
    cmd_functions_add,
    cmd_functions_delete,
    cmd_functions_list,
    cmd_functions_set_source,
)
from faas_tui.cli.commands.keys import cmd_key_file_add, cmd_key_file_list, cmd_key_file_revoke
from faas_tui.cli.commands.maintenance import cmd_compact
from faas_tui.cli.commands.operators import (
    OPERATOR_ROLES,
    cmd_operators_add,
    cmd_operators_list,
    cmd_operators_remove,
)
from faas_tui.cli.commands.secrets import (
    cmd_secrets_add,
    cmd_secrets_delete,
    cmd_secrets_import,
    cmd_secrets_list,
    cmd_secrets_update,
    cmd_secrets_verify,
    cmd_system_secrets,
)
from faas_tui.cli.commands.store import cmd_app, cmd_demo, cmd_init, cmd_passwd, cmd_rotate_key
from faas_tui.cli.context import Invocation
from faas_tui.core.errors import UsageError

Handler = Callable[[Invocation], int]


class ErrorLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one `error:` line with exit code 2."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {redact_extras(message)} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


_OPTION = re.compile(r"--?[A-Za-z][A-Za-z0-9-]*(=\S*)?")


def redact_extras(message: str) -> str:
    """argparse echoes unexpected arguments; one may be a value typed on the command line by
    mistake (`secrets add fn KEY sk_live_…`), so only option names are repeated."""
    prefix = "unrecognized arguments: "
    if not message.startswith(prefix):
        return message
    extras = message[len(prefix) :].split(" ")
    options = [e.split("=", 1)[0] for e in extras if _OPTION.fullmatch(e)]
    others = len(extras) - len(options)
    parts = [f"unknown option {', '.join(options)}"] if options else []
    if others:
        parts.append(
            f"{others} unexpected argument{'s' if others > 1 else ''} (not repeated here: "
            "values are never read from the command line; use --file, stdin or the prompt)"
        )
    return "; ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    common = ErrorLineParser(add_help=False)
    common.add_argument(
        "--store",
        default=argparse.SUPPRESS,
        metavar="S",
        help="SQLite path or SQLAlchemy URL (FAAS_TUI_STORE)",
    )
    common.add_argument(
        "--key-file",
        default=argparse.SUPPRESS,
        metavar="P",
        help="unlock with a key file (FAAS_TUI_KEY_FILE)",
    )
    common.add_argument(
        "--operator",
        default=argparse.SUPPRESS,
        metavar="NAME",
        help="which operator unlocks (FAAS_TUI_OPERATOR); default: the only one, else your login",
    )
    common.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="disable every change (the app, or any command), for audits",
    )

    parser = ErrorLineParser(
        prog="faas-tui",
        parents=[common],
        description="Secrets of serverless functions, from a terminal.",
    )
    parser.add_argument("--version", action="version", version=f"faas-tui {__version__}")
    parser.set_defaults(handler=cmd_app)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=ErrorLineParser)

    def command(
        name: str, handler: Handler, help_text: str, parent: Any = sub
    ) -> argparse.ArgumentParser:
        p = parent.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    def group(name: str, help_text: str) -> Any:
        p = command(name, needs_subcommand, help_text)
        return p.add_subparsers(title="commands", metavar="COMMAND", parser_class=ErrorLineParser)

    command("init", cmd_init, "create the store")

    p = command("demo", cmd_demo, "fill a store with sample data and open the app on it")
    p.add_argument("--functions", type=count, metavar="N")
    p.add_argument("--secrets-per-function", type=count, metavar="M")
    p.add_argument("--no-tui", action="store_true", help="fill the store and exit")

    fsub = group("functions", "list, add and delete functions")
    p = command("list", cmd_functions_list, "functions with secret counts and deploy state", fsub)
    _format_option(p, "table", "json")
    p = command("add", cmd_functions_add, "add a function (names: a-z, 0-9, -)", fsub)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--source", metavar="DIR", help="the function's code folder, for the audit")
    p = command(
        "set-source",
        cmd_functions_set_source,
        "set or clear (with no DIR) a function's code folder",
        fsub,
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("source", metavar="DIR", nargs="?")
    p = command(
        "delete", cmd_functions_delete, "delete a function and all its secrets (permanent)", fsub
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("--yes", action="store_true", help="do not ask to type the name")

    ssub = group("secrets", "list, add, verify, update, delete and import secrets")
    p = command("list", cmd_secrets_list, "names and metadata, never values", ssub)
    p.add_argument("function", metavar="FUNCTION")
    _format_option(p, "table", "json")
    p = command(
        "add",
        cmd_secrets_add,
        "create a secret; the value comes from --file, stdin or a prompt",
        ssub,
    )
    _function_and_name(p)
    p.add_argument("--json", action="store_true", help="the value is a JSON object")
    p.add_argument("--file", metavar="PATH")
    p = command("verify", cmd_secrets_verify, "compare a candidate value with the stored one", ssub)
    _function_and_name(p)
    p.add_argument("--file", metavar="PATH")
    p = command("update", cmd_secrets_update, "replace the value (a new version); write-only", ssub)
    _function_and_name(p)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="the new value is a JSON object")
    fmt.add_argument("--plaintext", action="store_true", help="the new value is plain text")
    p.add_argument("--file", metavar="PATH")
    p = command(
        "delete", cmd_secrets_delete, "delete a secret and every version of it (permanent)", ssub
    )
    _function_and_name(p)
    p.add_argument("--yes", action="store_true", help="do not ask to type the name")
    p = command(
        "import",
        cmd_secrets_import,
        "bulk add from a .env or JSON object file, in one transaction",
        ssub,
    )
    p.add_argument("function", metavar="FUNCTION")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--overwrite", action="store_true", help="replace existing names")
    p.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")

    p = command(
        "system-secrets",
        cmd_system_secrets,
        "a function's system secrets: name, description, scopes",
    )
    p.add_argument("function", metavar="FUNCTION")
    p = command("deploy", cmd_deploy, "bind the current secrets; prints the deployment number")
    p.add_argument("function", metavar="FUNCTION")
    p = command("run", cmd_run, "run CMD with the deployed binding in its environment")
    p.add_argument("function", metavar="FUNCTION")
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARG…]")

    p = command("audit", cmd_audit, "every secret of every function with its flags, never values")
    _format_option(p, "table", "json", "csv")
    p.add_argument("--stale-days", type=count, default=90, metavar="N")
    p = command("log", cmd_log, "the event log")
    _format_option(p, "table", "json")
    p.add_argument("--verify", action="store_true", help="check the hash chain; exit 4 if broken")

    p = command("check", cmd_check, "verify the whole store: `ok`, or one line per problem")
    _format_option(p, "table", "json")
    p.add_argument(
        "--accept",
        action="store_true",
        help="(admin, after review) record the problems in the event log and reseal",
    )

    command("passwd", cmd_passwd, "change your own passphrase (re-wraps your keys only)")
    command("rotate-key", cmd_rotate_key, "new data keys, every value re-encrypted (admin)")
    command("compact", cmd_compact, "reclaim deleted rows' space and old bytes (admin)")

    osub = group("operators", "people who share the store, each with a passphrase and a role")
    p = command(
        "add", cmd_operators_add, "add an operator (passphrase: FAAS_TUI_NEW_PASSPHRASE)", osub
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", required=True, choices=[str(r) for r in OPERATOR_ROLES])
    p = command("list", cmd_operators_list, "operators with their roles", osub)
    _format_option(p, "table", "json")
    p = command("remove", cmd_operators_remove, "remove an operator (not the last admin)", osub)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--yes", action="store_true", help="do not ask to type the name")

    ksub = group("key-file", "key files for headless use and function runtimes")
    p = command(
        "add",
        cmd_key_file_add,
        "write a new key file (0600) to PATH: a runtime key (--function) or an operator (--role)",
        ksub,
    )
    p.add_argument("path", metavar="PATH")
    p.add_argument(
        "--function",
        dest="functions",
        action="append",
        metavar="F",
        help="a function this runtime key reads (repeat for more); it changes nothing",
    )
    p.add_argument(
        "--role",
        choices=[str(r) for r in OPERATOR_ROLES],
        help="a headless operator with this role (CI, scripts)",
    )
    p.add_argument("--label", default="")
    p = command("list", cmd_key_file_list, "key files that can unlock the store", ksub)
    _format_option(p, "table", "json")
    p = command("revoke", cmd_key_file_revoke, "remove a key file's slot: it stops working", ksub)
    p.add_argument("id", metavar="ID")
    return parser


def _format_option(p: argparse.ArgumentParser, *choices: str) -> None:
    p.add_argument("--format", choices=choices, default=choices[0])


def _function_and_name(p: argparse.ArgumentParser) -> None:
    p.add_argument("function", metavar="FUNCTION")
    p.add_argument("name", metavar="NAME")


def count(text: str) -> int:
    """A whole number from 0 to 10,000,000 (an argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0 or value > 10_000_000:
        raise argparse.ArgumentTypeError(f"{text} is out of range (0 to 10,000,000)")
    return value


def needs_subcommand(ctx: Invocation) -> int:
    raise UsageError("a command is missing (see --help)")
