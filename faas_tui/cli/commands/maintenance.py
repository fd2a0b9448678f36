"""Maintenance of the store: `compact` reclaims the space of deleted rows and their old bytes."""

from __future__ import annotations

from faas_tui.cli.context import Invocation


def cmd_compact(ctx: Invocation) -> int:
    """VACUUM on SQLite, VACUUM FULL of the store's tables on PostgreSQL (readers wait meanwhile).

    Writes never rewrite tables themselves: a delete removes the rows, autovacuum reuses their space,
    and this command is how an admin makes sure the old bytes are gone from the store's files.
    """
    from faas_tui.store.location import display_store

    ctx.refuse_read_only("compact the store")
    with ctx.open_vault() as vault:
        done = vault.compact()
        where = display_store(vault.url)
        sqlite = vault.engine.dialect.name == "sqlite"
    print(f"compacted {where}: {_size(done.before)} -> {_size(done.after)}")
    kept_by = "backups" if sqlite else "WAL archives, replicas and backups"
    print(
        "deleted values and replaced keys are gone from the store's files; "
        f"{kept_by} keep their copies until they expire"
    )
    return 0


def _size(count: int) -> str:
    return f"{count / 1024:.0f} KiB" if count < 1024 * 1024 else f"{count / 1024 / 1024:.1f} MiB"
