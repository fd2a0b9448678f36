"""`faas-tui secrets` (list, add, verify, update, delete, import) and `faas-tui system-secrets`.

Values are read by faas_tui/cli/prompts.py and handed to the Vault; none is ever printed.
"""

from __future__ import annotations

import sys

from faas_tui.cli.context import Invocation
from faas_tui.cli.output import iso, plural, print_json, print_table
from faas_tui.cli.prompts import confirm_by_typing, read_value


def cmd_secrets_list(ctx: Invocation) -> int:
    with ctx.open_vault(read_only=True) as vault:
        secrets = vault.list_secrets(ctx.args.function)
    if ctx.args.format == "json":
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


def cmd_secrets_add(ctx: Invocation) -> int:
    from faas_tui.core.names import secret_name
    from faas_tui.core.values import SecretFormat

    args = ctx.args
    name = secret_name(args.name)  # refuse a bad name before asking for a value
    with ctx.open_vault() as vault:
        vault.get_function(args.function)
        value = read_value(args, name, confirm=True)
        fmt = SecretFormat.JSON if args.json else SecretFormat.PLAINTEXT
        info = vault.add_secret(args.function, name, value, fmt)
    print(f"created {info.function}/{info.name} (version {info.version}, {info.format.label})")
    return 0


def cmd_secrets_verify(ctx: Invocation) -> int:
    args = ctx.args
    with ctx.open_vault(read_only=True) as vault:
        info = vault.get_secret(args.function, args.name)
        candidate = read_value(args, info.name, confirm=False)
        matched = vault.verify_secret(args.function, info.name, candidate)
    print("match" if matched else "no match")
    return 0 if matched else 1


def cmd_secrets_update(ctx: Invocation) -> int:
    """A new version; the Vault refuses a system secret (read-only) and a value of the wrong
    format."""
    from faas_tui.core.values import SecretFormat

    args = ctx.args
    fmt = SecretFormat.JSON if args.json else SecretFormat.PLAINTEXT if args.plaintext else None
    with ctx.open_vault() as vault:
        current = vault.get_secret(args.function, args.name)
        value = read_value(args, current.name, confirm=True)
        info = vault.update_secret(args.function, current.name, value, fmt)
    print(f"updated {info.function}/{info.name} to version {info.version}; pending redeploy")
    return 0


def cmd_secrets_delete(ctx: Invocation) -> int:
    """Asks for the name unless --yes; the Vault refuses a system secret (read-only)."""
    args = ctx.args
    with ctx.open_vault() as vault:
        current = vault.get_secret(args.function, args.name)
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


def cmd_secrets_import(ctx: Invocation) -> int:
    from faas_tui.core.imports import read_import_file

    args = ctx.args
    entries = read_import_file(args.file)
    with ctx.open_vault() as vault:
        plan = vault.import_secrets(
            args.function, entries, overwrite=args.overwrite, dry_run=args.dry_run
        )
    for label, names in (
        ("added", plan.added),
        ("replaced", plan.replaced),
        ("unchanged", plan.unchanged),
    ):
        print(f"{label} ({len(names)}): {', '.join(names) if names else '-'}")
    written = len(plan.added) + len(plan.replaced)
    verb = "would be" if args.dry_run else "was" if written == 1 else "were"
    print(
        f"{plural(written, 'secret')} {verb} written to {args.function}"
        + (" (dry run: nothing changed)" if args.dry_run else "")
    )
    return 0


def cmd_system_secrets(ctx: Invocation) -> int:
    with ctx.open_vault(read_only=True) as vault:
        secrets = vault.list_system_secrets(ctx.args.function)
    print_table(
        ["name", "description", "scopes"],
        [[s.name, s.description, " ".join(s.scopes)] for s in secrets],
    )
    print(
        "warning: system secrets are read-only here, and their permissions and scopes may change "
        "without notice; do not use them in function code",
        file=sys.stderr,
    )
    return 0
