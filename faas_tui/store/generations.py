"""The highest store generation this machine's operators have seen, per store id: how a store
rolled back to an older copy (a restored file or database) is noticed and refused.

One small JSON file in the user state folder (platformdirs), 0600 in a 0700 folder, replaced
atomically; a lock file serialises writers, so two commands recording at once lose nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from faas_tui.core.errors import IntegrityError, StoreError

FILE_NAME = "generations.json"
_VERSION = 1
_MAX_BYTES = 4 * 1024 * 1024


def default_path() -> Path:
    """`generations.json` in the user state folder (computed when called, so tests can move it)."""
    from platformdirs import user_state_path

    return user_state_path("faas-tui") / FILE_NAME


class GenerationMemory:
    """Per store id, the highest generation seen. The Vault checks at open and records after open
    and after every write; runtime readers do not use it (they hold no state of their own)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()

    def __repr__(self) -> str:
        return f"GenerationMemory({str(self.path)!r})"

    def seen(self, store_id: str) -> int:
        """The highest generation recorded for `store_id`; 0 if never seen."""
        return self._load().get(store_id, 0)

    def check(self, store_id: str, generation: int, *, location: str | None = None) -> None:
        """Raise IntegrityError (exit 4) when `generation` is older than one seen before."""
        seen = self.seen(store_id)
        if generation < seen:
            where = f"the store at {location}" if location else f"the store {store_id}"
            raise IntegrityError(
                f"{where} was rolled back or restored from a backup (generation {generation}, "
                f"this machine has seen {seen}); an admin can review it with `faas-tui check` "
                "and accept it with `faas-tui check --accept`"
            )

    def record(self, store_id: str, generation: int) -> None:
        """Remember `generation` for `store_id`, keeping the highest ever recorded."""
        with self._locked():
            stores = self._load()
            if stores.get(store_id, -1) >= generation:
                return
            stores[store_id] = generation
            self._write(stores)

    def accept(self, store_id: str, generation: int) -> None:
        """Set the record of `store_id` to `generation`, lower or not: what `check --accept` does
        after an admin reviewed a rolled-back store (`record` alone would keep the higher one)."""
        with self._locked():
            stores = self._load()
            stores[store_id] = generation
            self._write(stores)

    # --- the file -------------------------------------------------------------------------------

    def _damaged(self, why: str) -> IntegrityError:
        return IntegrityError(
            f"the record of store generations at {self.path} is damaged ({why}); check it, "
            "then remove it to start again (the next store opened sets the record)"
        )

    def _load(self) -> dict[str, int]:
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read(_MAX_BYTES + 1)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise self._damaged(f"cannot read it: {exc.strerror}") from None
        if len(raw) > _MAX_BYTES:
            raise self._damaged("it is too large")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise self._damaged("not JSON") from None
        stores = data.get("stores") if isinstance(data, dict) else None
        if not isinstance(stores, dict) or data.get("version") != _VERSION:
            raise self._damaged("not a faas-tui record of generations")
        for key, value in stores.items():
            if not isinstance(key, str) or type(value) is not int or value < 0:
                raise self._damaged("an entry is not a store id with a generation")
        return stores

    def _write(self, stores: dict[str, int]) -> None:
        text = json.dumps({"version": _VERSION, "stores": stores}, indent=1, sort_keys=True)
        fd, temp = tempfile.mkstemp(prefix=".generations-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp makes it 0600
                handle.write(text + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        folder = self.path.parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(folder / ".generations.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(
                f"cannot keep the record of store generations in {folder} ({exc.strerror}): "
                "make the folder writable, or set XDG_STATE_HOME to a writable folder"
            ) from None
        try:
            try:
                import fcntl
            except ImportError:  # not POSIX: one writer at a time is then the user's affair
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
