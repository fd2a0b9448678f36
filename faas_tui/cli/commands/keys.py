"""`faas-tui key-file`: add, list and revoke the key files that unlock the store without a person:
runtime keys scoped to functions, and headless operators with a role."""

from __future__ import annotations

from pathlib import Path

from faas_tui.cli.context import Invocation
from faas_tui.cli.output import iso, print_json, print_table
from faas_tui.core.errors import UsageError, ValidationError
from faas_tui.core.kinds import Role
from faas_tui.core.permissions import Action, require
from faas_tui.core.records import KeyFileInfo

KEY_FILE_KIND_NEEDED = (
    "key-file add needs --function F… (a runtime key) or --role ROLE (a headless operator)"
)


def cmd_key_file_add(ctx: Invocation) -> int:
    path = ctx.args.path
    functions: list[str] = ctx.args.functions or []
    role = Role(ctx.args.role) if ctx.args.role else None
    if bool(functions) == (role is not None):  # neither or both
        raise UsageError(KEY_FILE_KIND_NEEDED)
    folder = Path(path).parent
    if not _is_folder(folder):  # before unlocking, and named, rather than a bare "No such file"
        raise ValidationError(
            f"no folder {folder} for the key file: create it first (mkdir -p {folder}) "
            "or give another PATH"
        )
    with ctx.open_vault() as vault:
        require(vault.credential, Action.KEY_FILES)
        info = vault.add_key_file(path, ctx.args.label, functions=functions, role=role)
    what = f"reads {', '.join(info.functions)}" if info.role is Role.RUNTIME else f"{info.role}"
    print(f"key file {info.id} ({what}) written to {path} (mode 0600)")
    return 0


def cmd_key_file_list(ctx: Invocation) -> int:
    with ctx.open_vault(read_only=True) as vault:
        files = vault.list_key_files()
    if ctx.args.format == "json":
        print_json(
            [
                {
                    "id": f.id,
                    "label": f.label,
                    "role": str(f.role),
                    "functions": list(f.functions),
                    "legacy": f.legacy,
                    "created_at": iso(f.created_at),
                }
                for f in files
            ]
        )
    else:
        print_table(
            ["id", "label", "role", "functions", "legacy", "created"],
            [[f.id, f.label, f.role, _scope(f), f.legacy, f.created_at] for f in files],
        )
    return 0


def cmd_key_file_revoke(ctx: Invocation) -> int:
    with ctx.open_vault() as vault:
        vault.revoke_key_file(ctx.args.id)
    print(f"revoked key file {ctx.args.id}")
    return 0


def _scope(info: KeyFileInfo) -> str:
    """A runtime key's functions; `all` for a legacy key file, which reads every function."""
    return "all" if info.legacy else ",".join(info.functions) or "-"


def _is_folder(folder: Path) -> bool:
    """False only when the folder is surely missing; odd paths are left to the Vault's checks."""
    try:
        return folder.is_dir()
    except (OSError, ValueError):
        return True
