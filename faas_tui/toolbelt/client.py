"""SecretClient: what function code uses to read its secrets, with a per-instance TTL cache.

The cache belongs to the instance: two instances (or two processes) never share it, so after an
update an instance keeps the old value until its entry expires, unless it reads with
`use_cache=False`. Entries expire by `time.monotonic()`, the cache holds at most
`cache_size` names (least recently used first out), and one lock makes it safe across threads.
"""

from __future__ import annotations

import os
import warnings
from _thread import allocate_lock  # threading.Lock itself, without importing threading
from collections import OrderedDict
from time import monotonic
from typing import Any, NoReturn

from faas_tui.core.errors import (
    IntegrityError,
    SecretNotFoundError,
    ValidationError,
    WrongKeyError,
)
from faas_tui.core.kinds import SecretKind
from faas_tui.core.names import function_name, secret_name
from faas_tui.toolbelt.notices import (
    SystemSecretWarning,
    system_secret_message,
)
from faas_tui.toolbelt.source import JSON, Reader, copy_json, decode, open_reader

# core.records.DEFAULT_CACHE_TTL (a test keeps them equal); records' dataclasses cost ~20 ms here.
DEFAULT_CACHE_TTL = 300
DEFAULT_CACHE_SIZE = 256
MAX_NAME_MEMO = 1024

# Flags of a cache entry: 0 for a user Plaintext value, the fast path.
_JSON = 1
_SYSTEM = 2

Entry = tuple[float, Any, int]  # (expires at, by time.monotonic(); decoded value; flags)


class SecretClient:
    """Reads one function's secrets from the store, caching each value for `cache_ttl` seconds.

    `store`, `key_file` and `passphrase` default to FAAS_TUI_STORE, FAAS_TUI_KEY_FILE and
    FAAS_TUI_PASSPHRASE; function runtimes should use a key file (no Argon2id at cold start).
    """

    def __init__(
        self,
        function: str,
        store: str | None = None,
        key_file: str | os.PathLike[str] | None = None,
        passphrase: str | None = None,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        if isinstance(cache_ttl, bool) or not isinstance(cache_ttl, int | float) or cache_ttl < 0:
            raise ValidationError(
                "cache_ttl is a number of seconds, 0 or more (0 disables the cache)"
            )
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
            raise ValidationError("cache_size is a whole number of entries, 1 or more")
        self._function = function_name(function)
        self._ttl = float(cache_ttl)
        self._size = cache_size
        self._cache: OrderedDict[str, Entry] = OrderedDict()
        self._names: dict[str, str] = {}  # typed name -> normalised name
        self._lock = allocate_lock()  # guards the cache
        self._load_lock = allocate_lock()  # serialises store reads, so entries land in read order
        self._reader: Reader = open_reader(store, key_file, passphrase)
        try:
            self._reader.check_function(self._function)
        except BaseException:
            self._reader.close()
            raise
        _no_core_dumps()

    # --- the API ------------------------------------------------------------------------------

    def read_secret(self, name: str, use_cache: bool = True) -> str | dict[str, Any]:
        """The value: a str for Plaintext, a dict for JSON.

        From the cache while the entry is fresh; `use_cache=False` always reads the newest stored
        value (and refreshes the entry). Raises SecretNotFoundError (a KeyError) for a missing
        name, IntegrityError for a tampered value. A system secret works but warns.
        """
        key = self._names.get(name) or self._normalise(name)
        entry: Entry | None = None
        if use_cache:
            with self._lock:
                entry = self._cache.get(key)
                if entry is not None:
                    if entry[0] > monotonic():
                        self._cache.move_to_end(key)
                    else:
                        del self._cache[key]
                        entry = None
        if entry is None:
            entry = self._load(key)
        if entry[2]:
            return self._deliver(key, entry)
        return entry[1]

    def clear_cache(self) -> None:
        """Forget every cached value; the next reads go to the store."""
        with self._lock:
            self._cache.clear()

    def close(self) -> None:
        """Close the store connection and drop the cache. Reading afterwards fails."""
        self.clear_cache()
        self._reader.close()

    @property
    def function(self) -> str:
        return self._function

    @property
    def cache_ttl(self) -> float:
        return self._ttl

    @property
    def cache_size(self) -> int:
        return self._size

    def __enter__(self) -> SecretClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        # Never the key, never a value: where it reads from and how long it caches.
        return (
            f"SecretClient(function={self._function!r}, store={self._reader.location!r}, "
            f"cache_ttl={self._ttl:g})"
        )

    def __getstate__(self) -> NoReturn:
        raise TypeError("a SecretClient holds a key and cannot be pickled; create one per process")

    # --- internals ----------------------------------------------------------------------------

    def _normalise(self, typed: str) -> str:
        """Normalise a typed name like the CLI does (SYSTEM_ names allowed), and remember it."""
        if not isinstance(typed, str):
            raise ValidationError(f"a secret name is a str, not {type(typed).__name__}")
        name = secret_name(typed, allow_system=True)
        if len(self._names) >= MAX_NAME_MEMO:
            self._names.clear()
        self._names[typed] = name
        return name

    def _load(self, key: str) -> Entry:
        with self._load_lock:
            try:
                stored = self._reader.read(self._function, key)
            except (SecretNotFoundError, IntegrityError):
                self._forget(key)
                raise
            except WrongKeyError:
                self.clear_cache()  # revoked or re-keyed: this instance keeps nothing
                raise
            value = decode(stored.text, stored.format)
            flags = (_JSON if stored.format == JSON else 0) | (
                _SYSTEM if stored.kind == SecretKind.SYSTEM else 0
            )
            entry: Entry = (monotonic() + self._ttl, value, flags)
            if self._ttl > 0:
                with self._lock:
                    self._cache[key] = entry
                    self._cache.move_to_end(key)
                    while len(self._cache) > self._size:
                        self._cache.popitem(last=False)
        return entry

    def _forget(self, key: str) -> None:
        with self._lock:
            self._cache.pop(key, None)

    def _deliver(self, key: str, entry: Entry) -> Any:
        """The rarer cases: a system secret warns; a JSON value is copied out of the cache."""
        if entry[2] & _SYSTEM:
            warnings.warn(
                SystemSecretWarning(system_secret_message(self._function, key)), stacklevel=3
            )
        return copy_json(entry[1]) if entry[2] & _JSON else entry[1]


def _no_core_dumps() -> None:
    """No core file of this process while it holds the data key (soft limit only: the host may
    raise it again). The CLI and the app go further (PR_SET_DUMPABLE); a library stays polite.
    """
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    except (ImportError, ValueError, OSError):
        pass
