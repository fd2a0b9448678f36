"""`faas-tui key-file`: add, list and revoke the key files that unlock the store without a person."""

from __future__ import annotations

from pathlib import Path

from faas_tui.cli.context import Invocation
from faas_tui.cli.output import iso, print_json, print_table
from faas_tui.core.errors import ValidationError


def cmd_key_file_add(ctx: Invocation) -> int:
    path = ctx.args.path
    folder = Path(path).parent
    if not _is_folder(folder):  # before unlocking, and named, rather than a bare "No such file"
        raise ValidationError(
            f"no folder {folder} for the key file: create it first (mkdir -p {folder}) "
            "or give another PATH"
        )
    with ctx.open_vault() as vault:
        info = vault.add_key_file(path, ctx.args.label)
    print(f"key file {info.id} written to {path} (mode 0600)")
    return 0


def cmd_key_file_list(ctx: Invocation) -> int:
    with ctx.open_vault(read_only=True) as vault:
        files = vault.list_key_files()
    if ctx.args.format == "json":
        print_json([{"id": f.id, "label": f.label, "created_at": iso(f.created_at)} for f in files])
    else:
        print_table(["id", "label", "created"], [[f.id, f.label, f.created_at] for f in files])
    return 0


def cmd_key_file_revoke(ctx: Invocation) -> int:
    with ctx.open_vault() as vault:
        vault.revoke_key_file(ctx.args.id)
    print(f"revoked key file {ctx.args.id}")
    return 0


def _is_folder(folder: Path) -> bool:
    """False only when the folder is surely missing; odd paths are left to the Vault's checks."""
    try:
        return folder.is_dir()
    except (OSError, ValueError):
        return True
