"""Process hardening while a store is unlocked: no core dumps that could carry keys or values."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import resource
import sys

PR_SET_DUMPABLE = 4
_done = False


def disable_core_dumps() -> None:
    """RLIMIT_CORE to zero and, on Linux, prctl(PR_SET_DUMPABLE, 0). Best effort, idempotent."""
    global _done
    if _done:
        return
    _done = True
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        libc_name = ctypes.util.find_library("c")
        if libc_name:
            with contextlib.suppress(OSError, AttributeError):
                ctypes.CDLL(libc_name, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def is_dumpable() -> bool | None:
    """Whether the kernel would write a core dump of this process (None where unknown)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    PR_GET_DUMPABLE = 3
    return bool(libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))
