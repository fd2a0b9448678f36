"""The `faas-tui` command line: parses arguments, calls the Vault, prints. No business rules here.

Errors print one line `error: …` on stderr with the exit code of SPEC §2, never a traceback.
Heavy modules (SQLAlchemy, Textual) are imported only by the commands that need them.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

from faas_tui import __version__
from faas_tui.core.errors import FaasError, ReadOnlyError, UsageError, ValidationError

if TYPE_CHECKING:
    from faas_tui.store.vault import Vault

Handler = Callable[[argparse.Namespace], int]


# --- entry point ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        try:
            return args.handler(args)
        finally:
            _print_warnings()  # also those found after opening, e.g. by a function's manifest
    except FaasError as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted; nothing more was changed", 130)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error worth a message
        return 0
    except Exception as exc:  # the last guard: a one-line message instead of a traceback
        if os.environ.get("FAAS_TUI_DEBUG"):
            raise
        return _fail(
            f"unexpected {type(exc).__name__}; please report it (run with FAAS_TUI_DEBUG=1)", 1
        )


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one `error:` line with exit code 2."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {_redact_extras(message)} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


_OPTION = re.compile(r"--?[A-Za-z][A-Za-z0-9-]*(=\S*)?")


def _redact_extras(message: str) -> str:
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


# --- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
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
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="disable every change (the app, or any command), for audits",
    )

    parser = _Parser(
        prog="faas-tui",
        parents=[common],
        description="Secrets of serverless functions, from a terminal.",
    )
    parser.add_argument("--version", action="version", version=f"faas-tui {__version__}")
    parser.set_defaults(handler=cmd_app)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    def command(
        name: str, handler: Handler, help_text: str, parent: Any = sub
    ) -> argparse.ArgumentParser:
        p = parent.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    command("init", cmd_init, "create the store")

    p = command("demo", cmd_demo, "fill a store with sample data and open the app on it")
    p.add_argument("--functions", type=_count, metavar="N")
    p.add_argument("--secrets-per-function", type=_count, metavar="M")
    p.add_argument("--no-tui", action="store_true", help="fill the store and exit")

    functions = command("functions", _needs_subcommand, "list, add and delete functions")
    fsub = functions.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
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

    secrets_cmd = command(
        "secrets", _needs_subcommand, "list, add, verify, update, delete and import secrets"
    )
    ssub = secrets_cmd.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
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
    p.add_argument("--stale-days", type=_count, default=90, metavar="N")
    p = command("log", cmd_log, "the event log")
    _format_option(p, "table", "json")
    p.add_argument("--verify", action="store_true", help="check the hash chain; exit 4 if broken")

    command("passwd", cmd_passwd, "change the passphrase (re-wraps the data key only)")
    command("rotate-key", cmd_rotate_key, "new data key, every value re-encrypted, one transaction")

    key_file = command(
        "key-file", _needs_subcommand, "key files for headless use and function runtimes"
    )
    ksub = key_file.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    p = command("add", cmd_key_file_add, "write a new key file (0600) to PATH", ksub)
    p.add_argument("path", metavar="PATH")
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


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0 or value > 10_000_000:
        raise argparse.ArgumentTypeError(f"{text} is out of range (0 to 10,000,000)")
    return value


def _needs_subcommand(args: argparse.Namespace) -> int:
    raise UsageError("a command is missing (see --help)")


# --- store, passphrase and value input -------------------------------------------------------


def _store(args: argparse.Namespace) -> str:
    from faas_tui.store.location import resolve_store

    return resolve_store(getattr(args, "store", None))


def _key_file(args: argparse.Namespace) -> str | None:
    return getattr(args, "key_file", None) or os.environ.get("FAAS_TUI_KEY_FILE") or None


def _read_only(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "read_only", False))


def _refuse_read_only(args: argparse.Namespace, what: str) -> None:
    if _read_only(args):
        raise ReadOnlyError(f"--read-only disables every change: it cannot {what}")


def open_vault(args: argparse.Namespace, *, read_only: bool = False) -> Vault:
    """Unlock the store named by the options, with a key file or the passphrase.

    `--read-only` opens every store read-only, so a command that would change it is refused.
    """
    from faas_tui.store.vault import Vault

    read_only = read_only or _read_only(args)
    store = _store(args)
    key_file = _key_file(args)
    if key_file:
        vault = Vault.open(store, key_file=key_file, read_only=read_only)
    else:
        if not Vault.exists(store):
            from faas_tui.store.location import display_store

            raise ValidationError(
                f"no store at {display_store(store)}: create one with `faas-tui init`"
            )
        passphrase = os.environ.get("FAAS_TUI_PASSPHRASE")
        if passphrase is None:
            passphrase = _prompt_secret("Passphrase: ", "the store is locked")
        vault = Vault.open(store, passphrase=passphrase, read_only=read_only)
    _opened.append(vault)
    _print_warnings()
    return vault


_opened: list[Vault] = []  # the vaults this command unlocked
_shown: set[str] = set()


def _print_warnings() -> None:
    """Each integrity warning once: those found on opening and those found while working."""
    for vault in _opened:
        for warning in vault.integrity_warnings:
            if warning not in _shown:
                _shown.add(warning)
                print(f"warning: {warning}", file=sys.stderr)


def _new_passphrase(variable: str) -> str:
    given = os.environ.get(variable)
    if given is not None:
        return given
    first = _prompt_secret("New passphrase: ", "a new passphrase is needed")
    if _prompt_secret("Repeat it: ", "a new passphrase is needed") != first:
        raise ValidationError("the two passphrases differ; nothing was changed")
    return first


def _prompt_secret(prompt: str, why: str) -> str:
    """A no-echo prompt on the terminal, or a clear refusal when there is none."""
    import getpass

    if not _has_terminal():
        raise UsageError(
            f"{why}: set FAAS_TUI_PASSPHRASE or use --key-file (no terminal to ask on)"
        )
    return getpass.getpass(prompt)


def _has_terminal() -> bool:
    try:
        with open("/dev/tty"):
            return True
    except OSError:
        return False


def read_value(args: argparse.Namespace, what: str, *, confirm: bool) -> str:
    """A value from --file, else piped stdin, else a no-echo prompt — never from argv.

    One trailing newline is dropped.
    """
    path = getattr(args, "file", None)
    if path:
        if path == "-":
            raw = _stdin_bytes()
        else:
            try:
                with open(path, "rb") as handle:
                    raw = handle.read(1024 * 1024)
            except OSError as exc:
                raise ValidationError(f"cannot read --file {path}: {exc.strerror}") from None
    elif sys.stdin is not None and not sys.stdin.isatty():
        raw = _stdin_bytes()
    else:
        text = _prompt_secret(f"Value for {what}: ", "no value given")
        if confirm and _prompt_secret("Repeat it: ", "no value given") != text:
            raise ValidationError("the two values differ; nothing was stored")
        return text
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"the value is not UTF-8 text (bad byte at offset {exc.start})"
        ) from None
    return _drop_one_newline(text)


def _stdin_bytes() -> bytes:
    if sys.stdin is None:
        raise ValidationError("no value: give --file PATH or pipe the value on stdin")
    return sys.stdin.buffer.read(1024 * 1024)


def _drop_one_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def confirm_by_typing(name: str, what: str) -> None:
    """Ask the user to type the name; end of input or a mismatch refuses (exit 1)."""
    prompt = (
        f"This permanently deletes {what}. You cannot undo this action.\nType {name} to confirm: "
    )
    if sys.stdin is not None and sys.stdin.isatty():
        try:
            typed = input(prompt)
        except EOFError:
            print(file=sys.stderr)  # end the prompt's line, so an error starts its own
            typed = None
    else:
        print(prompt, end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline() if sys.stdin is not None else ""
        print(file=sys.stderr)  # piped input is not echoed: end the prompt's line ourselves
        typed = line.rstrip("\r\n") if line else None
    if typed is None:
        raise ValidationError("not deleted: end of input before the name was typed (or pass --yes)")
    if typed.strip() != name:
        # what was typed is not repeated: it may be a value piped here by mistake
        raise ValidationError(f"not deleted: what was typed does not match {name!r}")


# --- output -----------------------------------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    print("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "-"
    return str(value)


def print_json(items: list[dict[str, Any]]) -> None:
    print(json.dumps(items, indent=2, ensure_ascii=False))


def print_records(fmt: str, items: list[dict[str, Any]], table: Sequence[str]) -> None:
    """Print dicts as JSON, CSV or a table of the given keys."""
    if fmt == "json":
        print_json(items)
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(items[0]) if items else list(table))
        writer.writeheader()
        for item in items:
            writer.writerow({k: ";".join(v) if isinstance(v, list) else v for k, v in item.items()})
    else:
        print_table(table, [[item[k] for k in table] for item in items])


# --- commands ---------------------------------------------------------------------------------


def cmd_app(args: argparse.Namespace) -> int:
    from faas_tui.tui.app import run_app

    return run_app(_store(args), read_only=_read_only(args), key_file=_key_file(args))


def cmd_init(args: argparse.Namespace) -> int:
    from faas_tui.store.location import display_store
    from faas_tui.store.vault import Vault

    _refuse_read_only(args, "create a store")
    store = _store(args)
    if Vault.exists(store):
        raise ValidationError(f"a store already exists at {display_store(store)}")
    passphrase = os.environ.get("FAAS_TUI_PASSPHRASE")
    if passphrase is None:
        passphrase = _new_passphrase("FAAS_TUI_PASSPHRASE")
    with Vault.create(store, passphrase):
        print(f"created store at {display_store(store)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from faas_tui.demo import DEMO_PASSPHRASE, fill_demo
    from faas_tui.store.location import display_store
    from faas_tui.store.vault import Vault

    _refuse_read_only(args, "fill a demo store")
    explicit = getattr(args, "store", None) or os.environ.get("FAAS_TUI_STORE")
    folder = None
    if explicit:
        store = _store(args)
        if Vault.exists(store):
            vault = open_vault(args)
        else:
            vault = Vault.create(
                store,
                os.environ.get("FAAS_TUI_PASSPHRASE") or _new_passphrase("FAAS_TUI_PASSPHRASE"),
            )
    else:
        folder = tempfile.mkdtemp(prefix="faas-tui-demo-")
        store = os.path.join(folder, "store.db")
        vault = Vault.create(store, DEMO_PASSPHRASE)
    try:
        with vault:
            functions, secrets = fill_demo(vault, args.functions, args.secrets_per_function)
            if args.no_tui:
                print(f"filled {display_store(store)}: {functions} functions, {secrets} secrets")
                if not explicit:
                    print(f"passphrase: {DEMO_PASSPHRASE}")
                return 0
            from faas_tui.tui.app import run_app

            return run_app(store, read_only=False, key_file=None, vault=vault, demo=not explicit)
    finally:
        if folder is not None and not args.no_tui:  # the throw-away store goes with the app
            shutil.rmtree(folder, ignore_errors=True)


def cmd_functions_list(args: argparse.Namespace) -> int:
    with open_vault(args, read_only=True) as vault:
        functions = vault.list_functions()
    items = [
        {"name": f.name, "secrets": f.secrets, "deployed": f.deployed, "pending": f.pending}
        for f in functions
    ]
    if args.format == "json":
        print_json(items)
    else:
        print_table(
            ["name", "secrets", "deployed", "last deploy", "pending"],
            [[f.name, f.secrets, f.deployed, f.deployed_at, f.pending] for f in functions],
        )
    return 0


def cmd_functions_add(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        info = vault.add_function(args.name, args.source)
    print(f"added function {info.name}")
    return 0


def cmd_functions_set_source(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        vault.set_source_dir(args.name, args.source)
    print(f"source of {args.name}: {args.source or 'none'}")
    return 0


def cmd_functions_delete(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        vault.get_function(args.name)
        if not args.yes:
            confirm_by_typing(args.name, f"the function {args.name} and all its secrets")
        vault.delete_function(args.name)
    print(f"deleted function {args.name}")
    return 0


def cmd_secrets_list(args: argparse.Namespace) -> int:
    with open_vault(args, read_only=True) as vault:
        secrets = vault.list_secrets(args.function)
    if args.format == "json":
        print_json(
            [
                {
                    "name": s.name,
                    "format": s.format.value,
                    "version": s.version,
                    "created_at": iso(s.created_at),
                    "updated_at": iso(s.updated_at),
                    "pending_redeploy": s.pending_redeploy,
                }
                for s in secrets
            ]
        )
    else:
        print_table(
            ["name", "format", "version", "created", "updated", "pending redeploy"],
            [
                [s.name, s.format.label, s.version, s.created_at, s.updated_at, s.pending_redeploy]
                for s in secrets
            ],
        )
    return 0


def cmd_secrets_add(args: argparse.Namespace) -> int:
    from faas_tui.core.names import secret_name
    from faas_tui.core.values import SecretFormat

    name = secret_name(args.name)  # refuse a bad name before asking for a value
    with open_vault(args) as vault:
        vault.get_function(args.function)
        value = read_value(args, name, confirm=True)
        fmt = SecretFormat.JSON if args.json else SecretFormat.PLAINTEXT
        info = vault.add_secret(args.function, name, value, fmt)
    print(f"created {info.function}/{info.name} (version {info.version}, {info.format.label})")
    return 0


def cmd_secrets_verify(args: argparse.Namespace) -> int:
    with open_vault(args, read_only=True) as vault:
        info = vault.get_secret(args.function, args.name)
        candidate = read_value(args, info.name, confirm=False)
        matched = vault.verify_secret(args.function, info.name, candidate)
    print("match" if matched else "no match")
    return 0 if matched else 1


def cmd_secrets_update(args: argparse.Namespace) -> int:
    from faas_tui.core.values import SecretFormat

    fmt = SecretFormat.JSON if args.json else SecretFormat.PLAINTEXT if args.plaintext else None
    with open_vault(args) as vault:
        current = vault.get_secret(args.function, args.name)
        if current.is_system:
            raise ValidationError(f"{current.name} is a system secret: it is read-only here")
        value = read_value(args, current.name, confirm=True)
        info = vault.update_secret(args.function, current.name, value, fmt)
    print(f"updated {info.function}/{info.name} to version {info.version}; pending redeploy")
    return 0


def cmd_secrets_delete(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        current = vault.get_secret(args.function, args.name)
        if current.is_system:
            raise ValidationError(f"{current.name} is a system secret: it is read-only here")
        if not args.yes:
            bound = vault.deployments_binding(args.function, current.name)
            if bound:
                print(
                    f"warning: deployment #{bound[-1]} of {args.function} binds {current.name}: "
                    "it will fail until you update the code and redeploy",
                    file=sys.stderr,
                )
            confirm_by_typing(current.name, f"{args.function}/{current.name}")
        broken = vault.delete_secret(args.function, current.name)
    print(f"deleted {args.function}/{current.name}")
    if broken:
        print(
            f"warning: deployment #{broken[-1]} bound it and now fails: update the code and "
            f"redeploy (`faas-tui deploy {args.function}`)",
            file=sys.stderr,
        )
    return 0


def cmd_secrets_import(args: argparse.Namespace) -> int:
    from faas_tui.core.imports import read_import_file

    entries = read_import_file(args.file)
    with open_vault(args) as vault:
        plan = vault.import_secrets(
            args.function, entries, overwrite=args.overwrite, dry_run=args.dry_run
        )
    verb = "would be" if args.dry_run else "were"
    for label, names in (
        ("added", plan.added),
        ("replaced", plan.replaced),
        ("unchanged", plan.unchanged),
    ):
        print(f"{label} ({len(names)}): {', '.join(names) if names else '-'}")
    print(
        f"{len(plan.added) + len(plan.replaced)} secrets {verb} written to {args.function}"
        + (" (dry run: nothing changed)" if args.dry_run else "")
    )
    return 0


def cmd_system_secrets(args: argparse.Namespace) -> int:
    with open_vault(args, read_only=True) as vault:
        secrets = vault.list_system_secrets(args.function)
    print_table(
        ["name", "description", "scopes"],
        [[s.name, s.description, " ".join(s.scopes)] for s in secrets],
    )
    print(
        "warning: system secrets are read-only here, and their permissions and scopes may change without notice; do not use them in function code",
        file=sys.stderr,
    )
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        number = vault.deploy(args.function)
    print(number)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from faas_tui.core.values import env_text
    from faas_tui.store.process import restore_core_limit

    # argparse has already taken a `--` right after FUNCTION, so a command that starts with an
    # option means options of ours (--store, --key-file) up to the first `--`; any later `--`
    # belongs to CMD (`sh -c '…' -- arg`, `git log -- path`).
    command = list(args.cmd)
    if command and command[0].startswith("-"):
        if "--" not in command:
            raise UsageError(
                f"put options before `--`: faas-tui run FUNCTION [{command[0]} …] -- CMD"
            )
        split = command.index("--")
        ours, command = command[:split], command[split + 1 :]
        run_options = _Parser(prog="faas-tui run", add_help=False)
        run_options.add_argument("--store", default=argparse.SUPPRESS)
        run_options.add_argument("--key-file", default=argparse.SUPPRESS)
        run_options.parse_args(ours, namespace=args)
    if not command:
        raise UsageError("no command to run: faas-tui run FUNCTION -- CMD [ARG…]")
    with open_vault(args, read_only=True) as vault:
        bound = vault.bound_values(args.function)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FAAS_TUI_PASSPHRASE", "FAAS_TUI_NEW_PASSPHRASE")
    }
    env.update({name: env_text(text, fmt) for name, (text, fmt) in bound.items()})
    sys.stdout.flush()
    sys.stderr.flush()
    restore_core_limit()  # the command holds no key: it may dump core as it usually would
    try:
        # The user's own command, as `run` promises; exec'd without a shell, so nothing is parsed.
        os.execvpe(command[0], command, env)  # noqa: S606  # nosec B606
    except FileNotFoundError:
        return _fail(f"command not found: {command[0]}", 127)
    except PermissionError:
        return _fail(f"permission denied: {command[0]}", 126)
    return 0  # not reached


AUDIT_FIELDS = (
    "function",
    "name",
    "kind",
    "format",
    "version",
    "created_at",
    "updated_at",
    "age_days",
    "deployed_version",
    "flags",
)


def cmd_audit(args: argparse.Namespace) -> int:
    with open_vault(args, read_only=True) as vault:
        rows = vault.audit(stale_days=args.stale_days)
        gone = [
            f for f in vault.list_functions() if f.source_dir and not os.path.isdir(f.source_dir)
        ]
    for fn in gone:
        print(
            f"warning: {fn.name}'s source folder {fn.source_dir} is gone, so UNREFERENCED and "
            f"MISSING were not checked for it (`faas-tui functions set-source {fn.name} DIR`)",
            file=sys.stderr,
        )
    items = [
        {
            "function": r.function,
            "name": r.name,
            "kind": r.kind,
            "format": r.format.value if r.format else None,
            "version": r.version,
            "created_at": iso(r.created_at),
            "updated_at": iso(r.updated_at),
            "age_days": r.age_days,
            "deployed_version": r.deployed_version,
            "flags": list(r.flags),
        }
        for r in rows
    ]
    if args.format == "csv":  # the same header with no rows; flags in one cell, `;`-separated
        writer = csv.DictWriter(sys.stdout, fieldnames=AUDIT_FIELDS)
        writer.writeheader()
        writer.writerows(item | {"flags": ";".join(item["flags"])} for item in items)
        return 0
    print_records(
        args.format,
        items,
        [
            "function",
            "name",
            "kind",
            "format",
            "version",
            "updated_at",
            "age_days",
            "deployed_version",
            "flags",
        ],
    )
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    with open_vault(args, read_only=True) as vault:
        if args.verify:
            count = vault.verify_log()
            print(f"ok: {count} events, hash chain intact")
            return 0
        events = vault.events()
    items = [
        {
            "seq": e.seq,
            "at": iso(e.at),
            "actor": e.actor,
            "action": e.action,
            "function": e.function,
            "name": e.name,
            "hash": e.hash,
        }
        for e in events
    ]
    if args.format == "json":
        print_json(items)
    else:
        print_table(
            ["seq", "at", "actor", "action", "function", "name"],
            [[e.seq, e.at, e.actor, e.action, e.function, e.name] for e in events],
        )
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        vault.change_passphrase(_new_passphrase("FAAS_TUI_NEW_PASSPHRASE"))
    print("passphrase changed; values were not re-encrypted (use `faas-tui rotate-key` for that)")
    return 0


def cmd_rotate_key(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        revoked = vault.rotate_key()
    print("data key rotated; every value was re-encrypted")
    if revoked:
        print(
            f"revoked key files {', '.join(revoked)}: they held the old key; issue new ones with "
            "`faas-tui key-file add PATH`",
            file=sys.stderr,
        )
    return 0


def cmd_key_file_add(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        info = vault.add_key_file(args.path, args.label)
    print(f"key file {info.id} written to {args.path} (mode 0600)")
    return 0


def cmd_key_file_list(args: argparse.Namespace) -> int:
    with open_vault(args, read_only=True) as vault:
        files = vault.list_key_files()
    if args.format == "json":
        print_json([{"id": f.id, "label": f.label, "created_at": iso(f.created_at)} for f in files])
    else:
        print_table(["id", "label", "created"], [[f.id, f.label, f.created_at] for f in files])
    return 0


def cmd_key_file_revoke(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        vault.revoke_key_file(args.id)
    print(f"revoked key file {args.id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
