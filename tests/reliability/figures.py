"""Print the README's reliability table from the figures the tests recorded.

RELIABILITY_FIGURES=/tmp/figures.jsonl pytest -n 3 tests/reliability
python tests/reliability/figures.py /tmp/figures.jsonl
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

BACKENDS = ("sqlite", "postgres")
LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def table(rows: list[dict[str, Any]]) -> str:
    by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by[(row["metric"], row["backend"])].append(row)
    lines = [
        "| check | " + " | ".join(LABELS[b] for b in BACKENDS) + " |",
        "| --- | " + " | ".join("---" for _ in BACKENDS) + " |",
    ]
    lines.append(
        "| writers × readers × seconds held, zero errors | "
        + " | ".join(_load(by[("load", b)]) for b in BACKENDS)
        + " |"
    )
    lines.append(
        "| reads under writers: uncached reads idle vs under two writing operators, worst read | "
        + " | ".join(_readers(by[("readers", b)]) for b in BACKENDS)
        + " |"
    )
    lines.append(
        "| crash points (SIGKILL) tried, zero losses | "
        + " | ".join(_crash(by[("crash", b)]) for b in BACKENDS)
        + " |"
    )
    lines.append(
        "| hostile inputs tried, zero crashes | "
        + " | ".join(_sum(by[("hostile", b)]) for b in BACKENDS)
        + " |"
    )
    lines.append(
        "| canary places checked, zero leaks | "
        + " | ".join(_sum(by[("canary", b)]) for b in BACKENDS)
        + " |"
    )
    return "\n".join(lines)


def _load(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "—"
    r = rows[-1]
    return (
        f"{r['writers']} × {r['readers']} × {r['seconds']:g} s "
        f"({r['writes']} writes, {r['reads']} reads)"
    )


def _readers(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "—"
    r = rows[-1]
    return (
        f"{r['idle']} vs {r['busy']} in {r['seconds']:g} s ({r['busy'] / max(r['idle'], 1):.2f} "
        f"of idle; {r['secrets']}-secret function), worst {r['worst_ms']:g} ms"
    )


def _crash(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "—"
    outcomes: Counter[str] = Counter()
    for r in rows:
        outcomes.update(r["outcomes"])
    tried = sum(r["count"] for r in rows)
    killed = sum(v for k, v in outcomes.items() if k.startswith("killed"))
    locked = sum(v for k, v in outcomes.items() if k.startswith("killed-holding-lock"))
    kept = sum(v for k, v in outcomes.items() if k.startswith("killed") and k.endswith(":all"))
    return (
        f"{tried} ({killed} killed, {locked} of them while holding the write lock; "
        f"{kept} kept all of the change, {killed - kept} none)"
    )


def _sum(rows: list[dict[str, Any]]) -> str:
    return str(sum(r["count"] for r in rows)) if rows else "—"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(table(load(Path(argv[1]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
