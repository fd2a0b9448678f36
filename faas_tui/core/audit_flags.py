"""The audit's flags in bit order, and every combination of them as one shared tuple."""

from __future__ import annotations

AUDIT_FLAGS = ("STALE", "PENDING_REDEPLOY", "REUSED_VALUE", "SYSTEM", "UNREFERENCED")
MISSING = "MISSING"  # a name the code reads that the store does not hold (a row of its own)

STALE, PENDING_REDEPLOY, REUSED_VALUE, SYSTEM, UNREFERENCED = (1 << b for b in range(5))

# FLAG_SETS[mask] is the tuple of flag names whose bits are set in mask, shared by every row.
FLAG_SETS = tuple(
    tuple(flag for bit, flag in enumerate(AUDIT_FLAGS) if mask >> bit & 1)
    for mask in range(1 << len(AUDIT_FLAGS))
)
