"""`faas-tui functions`: list, add, set-source and delete."""

from __future__ import annotations

from pathlib import Path

from faas_tui.cli.context import Invocation
from faas_tui.cli.output import print_json, print_table
from faas_tui.cli.prompts import confirm_by_typing
from faas_tui.core.errors import ValidationError


def cmd_functions_list(ctx: Invocation) -> int:
    with ctx.open_vault(read_only=True) as vault:
        functions = vault.list_functions()
    if ctx.args.format == "json":
        print_json(
            [
                {"name": f.name, "secrets": f.secrets, "deployed": f.deployed, "pending": f.pending}
                for f in functions
            ]
        )
    else:
        print_table(
            ["name", "secrets", "deployed", "last deploy", "pending"],
            [[f.name, f.secrets, f.deployed, f.deployed_at, f.pending] for f in functions],
        )
    return 0


def cmd_functions_add(ctx: Invocation) -> int:
    with ctx.open_vault() as vault:
        info = vault.add_function(ctx.args.name, ctx.args.source)
    print(f"added function {info.name}")
    return 0


def cmd_functions_set_source(ctx: Invocation) -> int:
    name, source = ctx.args.name, ctx.args.source
    if source and not _is_folder(source):  # named as typed: DIR is a positional argument here
        raise ValidationError(
            f"{source!r} is not a folder: give the function's code folder, or no DIR to clear it"
        )
    with ctx.open_vault() as vault:
        vault.set_source_dir(name, source)
    print(f"source of {name}: {source or 'none'}")
    return 0


def _is_folder(typed: str) -> bool:
    try:
        return Path(typed).expanduser().is_dir()
    except (OSError, RuntimeError, ValueError):  # ~unknown-user, a name too long, a NUL
        return False


def cmd_functions_delete(ctx: Invocation) -> int:
    name = ctx.args.name
    with ctx.open_vault() as vault:
        vault.get_function(name)
        if not ctx.args.yes:
            confirm_by_typing(name, f"the function {name} and all its secrets")
        vault.delete_function(name)
    print(f"deleted function {name}")
    return 0
