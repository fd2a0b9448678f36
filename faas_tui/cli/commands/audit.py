"""Reviewing a store: `faas-tui audit` (every secret with its flags, never values), `faas-tui log`
(the event log) and `faas-tui check` (verify everything; an admin accepts after review)."""

from __future__ import annotations

import os
import sys

from faas_tui.cli.context import Invocation
from faas_tui.cli.output import iso, plural, print_error, print_json, print_table
from faas_tui.core.export import audit_records, write_audit_csv

AUDIT_TABLE = (
    "function",
    "name",
    "kind",
    "format",
    "version",
    "updated_at",
    "age_days",
    "deployed_version",
    "flags",
)


def cmd_audit(ctx: Invocation) -> int:
    args = ctx.args
    with ctx.open_vault(read_only=True) as vault:
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
    records = audit_records(rows)
    if args.format == "csv":  # the same header with no rows; flags in one cell, `;`-separated
        write_audit_csv(sys.stdout, records)
    elif args.format == "json":
        print_json(records)
    else:
        print_table(AUDIT_TABLE, [[item[k] for k in AUDIT_TABLE] for item in records])
    return 0


def cmd_log(ctx: Invocation) -> int:
    args = ctx.args
    with ctx.open_vault(read_only=True) as vault:
        if args.verify:
            count = vault.verify_log()
            print(f"ok: {count} events, hash chain intact")
            return 0
        events = vault.events()
    if args.format == "json":
        print_json(
            [
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
        )
    else:
        print_table(
            ["seq", "at", "actor", "action", "function", "name"],
            [[e.seq, e.at, e.actor, e.action, e.function, e.name] for e in events],
        )
    return 0


def cmd_check(ctx: Invocation) -> int:
    """Every problem on its own line (exit 4), or `ok`; `--accept` records them and reseals."""
    import json

    args = ctx.args
    with ctx.open_vault(read_only=not args.accept, inspect=True) as vault:
        report = vault.accept() if args.accept else vault.check()
    failed = not report.ok and not args.accept
    if args.format == "json":
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "problems": list(report.problems),
                    "generation": report.generation,
                },
                indent=2,
            )
        )
    elif args.accept:
        for problem in report.problems:
            print(f"accepted: {problem}")
        print(f"ok: the store is resealed at generation {report.generation}")
    elif report.ok:
        print("ok")
    else:
        for problem in report.problems:
            print(problem)
    if failed:
        print_error(
            f"the store failed {plural(len(report.problems), 'check')}; an admin reviews them "
            "and runs `faas-tui check --accept` to use the store again"
        )
        return 4
    return 0
