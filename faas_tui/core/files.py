"""Reading a small file the user named (a key file), refusing anything that is not a regular file.

A FIFO, a device or a folder given as a key file must not hang the command or read something
endless: the file is opened without blocking and checked with fstat before a byte is read.
"""

from __future__ import annotations

import os
import stat

from faas_tui.core.errors import ValidationError

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_regular_file(
    path: str | os.PathLike[str], *, limit: int, what: str = "file", private: bool = False
) -> bytes:
    """Up to `limit` bytes of the regular file at `path` (symlinks followed); never blocks.

    Anything else (a folder, a FIFO, a device, a socket) is a one-line ValidationError naming
    what it is. With `private`, a file that group or others may read is refused too.
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(name, flags)
    except FileNotFoundError:
        raise ValidationError(f"no {what} at {name}") from None
    except IsADirectoryError:
        raise ValidationError(
            f"{name} is a folder, not a {what}: give the path of a {what}"
        ) from None
    except OSError as exc:
        raise ValidationError(f"cannot read {what} {name}: {exc.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((label for test, label in _KINDS if test(mode)), "not a regular file")
            raise ValidationError(f"{name} is {kind}, not a {what}: give the path of a {what}")
        if private and mode & 0o077:
            raise ValidationError(
                f"{what} {name} is readable by group or others "
                f"(mode {mode & 0o777:o}): run `chmod 600 {name}`"
            )
        chunks: list[bytes] = []
        size = 0
        while size < limit:
            chunk = os.read(fd, limit - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise ValidationError(f"cannot read {what} {name}: {exc.strerror}") from None
    finally:
        os.close(fd)
