"""Process hardening while a store is unlocked: no core dumps that could carry keys or values."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import resource
import sys

PR_SET_DUMPABLE = 4
_done = False
_usual_soft_limit: int | None = None  # RLIMIT_CORE's soft limit before we set it to 0


def disable_core_dumps() -> None:
    """RLIMIT_CORE's soft limit to zero and, on Linux, prctl(PR_SET_DUMPABLE, 0) (which no
    setrlimit can undo). Best effort, idempotent. The hard limit is kept, so that a command that
    `faas-tui run` starts can get the usual limit back (`restore_core_limit`)."""
    global _done, _usual_soft_limit
    if _done:
        return
    _done = True
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
        _usual_soft_limit = soft
    if sys.platform.startswith("linux"):
        libc_name = ctypes.util.find_library("c")
        if libc_name:
            with contextlib.suppress(OSError, AttributeError):
                ctypes.CDLL(libc_name, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def restore_core_limit() -> None:
    """Before exec'ing another program (which no longer holds a key): the usual soft limit back."""
    if _usual_soft_limit is None:
        return
    with contextlib.suppress(ValueError, OSError):
        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (_usual_soft_limit, hard))


def is_dumpable() -> bool | None:
    """Whether the kernel would write a core dump of this process (None where unknown)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    PR_GET_DUMPABLE = 3
    return bool(libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))
