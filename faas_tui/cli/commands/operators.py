"""`faas-tui operators`: the people who share a store, each with a passphrase and a role (admin only)."""

from __future__ import annotations

from faas_tui.cli.context import Invocation
from faas_tui.cli.output import iso, print_json, print_table
from faas_tui.cli.prompts import confirm_by_typing, new_passphrase
from faas_tui.core.kinds import Role
from faas_tui.core.permissions import Action, require

# What `operators add --role` accepts: a runtime is a key file (`key-file add --function`).
OPERATOR_ROLES = (Role.ADMIN, Role.EDITOR, Role.AUDITOR)


def cmd_operators_add(ctx: Invocation) -> int:
    name, role = ctx.args.name, Role(ctx.args.role)
    with ctx.open_vault() as vault:
        require(vault.credential, Action.OPERATORS)  # before asking for their passphrase
        passphrase = new_passphrase("FAAS_TUI_NEW_PASSPHRASE")
        info = vault.add_operator(name, role, passphrase, kdf=ctx.new_kdf())
    print(f"operator {info.name} added as {_article(info.role)} {info.role}")
    return 0


def cmd_operators_list(ctx: Invocation) -> int:
    with ctx.open_vault(read_only=True) as vault:
        operators = vault.list_operators()
    if ctx.args.format == "json":
        print_json(
            [
                {"name": o.name, "role": str(o.role), "created_at": iso(o.created_at)}
                for o in operators
            ]
        )
    else:
        print_table(
            ["name", "role", "created"], [[o.name, o.role, o.created_at] for o in operators]
        )
    return 0


def cmd_operators_remove(ctx: Invocation) -> int:
    name = ctx.args.name
    with ctx.open_vault() as vault:
        require(vault.credential, Action.OPERATORS)  # before asking to type the name
        if not ctx.args.yes:
            confirm_by_typing(name, f"the operator {name} (their passphrase stops working)")
        vault.remove_operator(name)
    print(f"removed operator {name}; the functions they could read have new keys")
    return 0


def _article(role: str) -> str:
    return "an" if role[:1] in "aeiou" else "a"
