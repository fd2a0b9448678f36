"""Benchmark: the runtime toolbelt against floors measured in the same run (issue 4).

Not a test: run it by hand; it prints times and ratios and exits 1 when a ratio is over its target.

- cold start: a fresh `python -c` that creates a SecretClient with a key file and reads one secret,
  against a floor process that imports sqlite3 and AESGCM, selects one row and decrypts it
  (median of N runs each, interleaved) — target <= 2x;
- cached read: `read_secret(name)` against `os.environ[name]`, in one process — target <= 3x;
- uncached read: `read_secret(name, use_cache=False)` against the floor's select-and-decrypt on an
  open connection with a ready AESGCM object, in one process — target <= 10x.

With a PostgreSQL server (--pg URL, default FAAS_TUI_TEST_PG_URL) the same store is made in a fresh
database there, and two more rows are printed beside the SQLite ones:
- cold start on PostgreSQL: the floor process imports psycopg and AESGCM, connects, selects one row
  and decrypts it — target <= 2x;
- uncached read on PostgreSQL: the floor is one prepared psycopg point select on a kept connection
  (binary results) and the decrypt — target <= 5x.

Reads under writing operators (the floor beside the toolbelt, and every process's CPU seconds) are
measured by bench_readers_under_writers.py.

Child processes run with compiled bytecode (a private PYTHONPYCACHEPREFIX, warmed first), as a
deployed runtime has. Two interpreter set-ups are measured: `clean` (python -S, site-packages on
PYTHONPATH: no .pth start-up hooks, the stricter floor) and `site` (the interpreter as installed).

    python tests/bench/bench_toolbelt.py                 # 40 runs per process, both set-ups
    python tests/bench/bench_toolbelt.py --runs 100 --setup clean
    python tests/bench/bench_toolbelt.py --pg postgresql+psycopg://postgres@127.0.0.1:54330/postgres
    python tests/bench/bench_toolbelt.py --pg ''        # SQLite only, even with the variable set
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
import timeit
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import faas_tui
from faas_tui.core.values import SecretFormat
from faas_tui.store.crypto import KdfParams
from faas_tui.store.vault import Vault
from faas_tui.toolbelt import SecretClient

FN = "bench"
NAME = "STRIPE_API_KEY"
VALUE = "sk_live_" + "x" * 40
TARGETS = {
    "cold start": 2.0,
    "cached read": 3.0,
    "uncached read": 10.0,
    "pg cold start": 2.0,
    "pg uncached read": 5.0,
}
ROW_SQL = "SELECT nonce, ciphertext FROM secret_version WHERE id = ?"
PG_ROW_SQL = "SELECT nonce, ciphertext FROM secret_version WHERE id = %s"


class Store:
    """A throw-away store: one function with `secrets` secrets, deployed, and a runtime key file.

    `url` is a PostgreSQL database to fill; without it, a SQLite file under `folder`.
    """

    def __init__(self, folder: Path, secrets: int, url: str | None = None) -> None:
        self.path = folder / "store" / "store.db"
        self.url = url or str(self.path)
        self.key_file = folder / ("pg-runtime.key" if url else "runtime.key")
        weak_kdf = KdfParams(salt=os.urandom(16), memory_kib=8 * 1024, iterations=1, lanes=1)
        with Vault.create(self.url, "bench passphrase", kdf=weak_kdf) as vault:
            vault.add_function(FN)
            vault.add_secret(FN, NAME, VALUE)
            for i in range(secrets - 1):
                vault.add_secret(FN, f"OTHER_{i}", f"value-{i}-" + "y" * 30)
            vault.add_secret(FN, "SETTINGS", '{"region": "eu"}', SecretFormat.JSON)
            vault.deploy(FN)
            vault.add_key_file(self.key_file, "bench", functions=[FN])
            # The floor gets what the toolbelt works out for itself: the key, the row and its AAD.
            self.data_key, self.aad, _ = floor_material(vault)
        ((self.row_id,),) = self.rows(ROW_ID_SQL, (NAME,))

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        if self.url.startswith("postgresql"):
            import psycopg

            with psycopg.connect(libpq(self.url)) as con:
                return [tuple(r) for r in con.execute(sql.replace("?", "%s"), params).fetchall()]
        con = sqlite3.connect(self.path)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    @property
    def uri(self) -> str:
        return f"file://{self.path}?mode=ro"


ROW_ID_SQL = (
    "SELECT v.id FROM secret_version v JOIN secret s ON s.id = v.secret_id "
    "WHERE s.name = ? AND v.version = s.version"
)


def libpq(url: str) -> str:
    """The libpq URI of a postgresql+psycopg:// URL."""
    return "postgresql://" + url.split("://", 1)[1]


@contextmanager
def pg_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the server for the bench's store, dropped afterwards."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    base, _, _ = admin_url.rpartition("/")
    with psycopg.connect(libpq(admin_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(libpq(admin_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def floor_code(store: Store) -> str:
    return textwrap.dedent(f"""
        import sqlite3
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        con = sqlite3.connect({store.uri!r}, uri=True)
        nonce, ciphertext = con.execute({ROW_SQL!r}, ({store.row_id},)).fetchone()
        print(AESGCM(bytes.fromhex({store.data_key.hex()!r})).decrypt(nonce, ciphertext, bytes.fromhex({store.aad.hex()!r})).decode())
    """)


def pg_floor_code(store: Store) -> str:
    return textwrap.dedent(f"""
        import psycopg
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        con = psycopg.connect({libpq(store.url)!r}, autocommit=True)
        nonce, ciphertext = con.cursor(binary=True).execute({PG_ROW_SQL!r}, ({store.row_id},)).fetchone()
        print(AESGCM(bytes.fromhex({store.data_key.hex()!r})).decrypt(nonce, ciphertext, bytes.fromhex({store.aad.hex()!r})).decode())
    """)


def toolbelt_code(store: Store) -> str:
    return textwrap.dedent(f"""
        from faas_tui.toolbelt import SecretClient
        print(SecretClient({FN!r}, store={store.url!r}, key_file={str(store.key_file)!r}).read_secret({NAME!r}))
    """)


def child_env(setup: str, pycache: Path) -> tuple[list[str], dict[str, str]]:
    """The interpreter command and environment of a child process for one set-up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAAS_TUI_", "PYTHON"))}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)  # compiled bytecode, as a deployed runtime has
    if setup == "clean":
        paths = sysconfig.get_paths()
        repo = str(Path(faas_tui.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(
            dict.fromkeys([repo, paths["purelib"], paths["platlib"]])
        )
        return [sys.executable, "-S"], env
    return [sys.executable], env


def process_times(
    codes: dict[str, str], command: list[str], env: dict[str, str], runs: int
) -> dict[str, list[float]]:
    """Wall time of each code in a fresh process, interleaved so drift hits them all alike."""
    times: dict[str, list[float]] = {label: [] for label in codes}
    outputs: dict[str, str] = {}
    for label, code in codes.items():  # warm-up: fills the bytecode cache
        for _ in range(2):
            done = subprocess.run([*command, "-c", code], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"{label} failed:\n{done.stderr}")
            outputs[label] = done.stdout.strip()
    for _ in range(runs):
        for label, code in codes.items():
            start = time.perf_counter()
            subprocess.run([*command, "-c", code], env=env, stdout=subprocess.DEVNULL, check=True)
            times[label].append(time.perf_counter() - start)
    assert outputs.get("floor") == outputs.get("toolbelt") == VALUE, outputs
    return times


def per_call(action: Callable[[], object], number: int) -> float:
    """Seconds per call: the best of 7 repeats of `number` calls."""
    return min(timeit.repeat(action, number=number, repeat=7)) / number


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="processes per kind (default 40)")
    parser.add_argument("--secrets", type=int, default=20, help="secrets in the function")
    parser.add_argument("--setup", choices=["clean", "site", "both"], default="both")
    parser.add_argument(
        "--pg",
        default=os.environ.get("FAAS_TUI_TEST_PG_URL", ""),
        metavar="URL",
        help="a PostgreSQL server (postgresql+psycopg://…) for the PostgreSQL rows",
    )
    args = parser.parse_args()
    ratios: dict[str, float] = {}
    setups = ("clean", "site") if args.setup == "both" else (args.setup,)
    with tempfile.TemporaryDirectory(prefix="faas-tui-bench-") as folder:
        store = Store(Path(folder), args.secrets)
        pycache = Path(folder) / "pycache"
        print(
            f"cold start: median of {args.runs} fresh processes each "
            f"(one function with {args.secrets + 3} secrets, a runtime key file)"
        )
        codes = {"floor": floor_code(store), "toolbelt": toolbelt_code(store), "empty": "pass"}
        cold_starts(codes, setups, pycache, args.runs, "cold start", ratios)
        cached_and_uncached(store, ratios)
        if args.pg:
            with pg_database(args.pg) as url:
                pg_store = Store(Path(folder), args.secrets, url)
                print(f"PostgreSQL at {url.rpartition('@')[2]} (same store)")
                codes = {"floor": pg_floor_code(pg_store), "toolbelt": toolbelt_code(pg_store)}
                cold_starts(codes, setups, pycache, args.runs, "pg cold start", ratios)
                pg_uncached(pg_store, ratios)
    over = [label for label, ratio in ratios.items() if ratio > TARGETS[label.split(" (")[0]]]
    print("all targets met" if not over else f"over target: {', '.join(over)}")
    return 1 if over else 0


def cold_starts(
    codes: dict[str, str],
    setups: tuple[str, ...],
    pycache: Path,
    runs: int,
    label: str,
    ratios: dict[str, float],
) -> None:
    for setup in setups:
        command, env = child_env(setup, pycache)
        times = process_times(codes, command, env, runs)
        floor, ours = (statistics.median(times[k]) for k in ("floor", "toolbelt"))
        empty = ""
        if "empty" in times:
            empty = f"python -c pass {statistics.median(times['empty']) * 1e3:6.1f} ms   "
        ratio = ours / floor
        ratios[f"{label} ({setup})"] = ratio
        print(
            f"  {label:13} {setup:5}  {empty}floor "
            f"{floor * 1e3:6.1f} ms   toolbelt {ours * 1e3:6.1f} ms   ratio {ratio:.2f}x "
            f"(target <= {TARGETS[label]:g}x)"
        )


def cached_and_uncached(store: Store, ratios: dict[str, float]) -> None:
    os.environ["BENCH_" + NAME] = VALUE
    environ = os.environ
    with SecretClient(FN, store=store.url, key_file=store.key_file) as client:
        client.read_secret(NAME)
        cached = per_call(lambda: client.read_secret(NAME), 200_000)
        env_read = per_call(lambda: environ["BENCH_" + NAME], 200_000)
        ratios["cached read"] = cached / env_read
        print(
            f"cached read   read_secret {cached * 1e9:7.0f} ns   os.environ[...] "
            f"{env_read * 1e9:7.0f} ns   ratio {cached / env_read:.2f}x (target <= 3x)"
        )

        con = sqlite3.connect(store.uri, uri=True, isolation_level=None)
        aead = AESGCM(store.data_key)
        row_id, aad = store.row_id, store.aad

        def select_and_decrypt() -> str:
            nonce, ciphertext = con.execute(ROW_SQL, (row_id,)).fetchone()
            return aead.decrypt(nonce, ciphertext, aad).decode()

        assert select_and_decrypt() == client.read_secret(NAME, use_cache=False) == VALUE
        uncached = per_call(lambda: client.read_secret(NAME, use_cache=False), 5_000)
        floor_read = per_call(select_and_decrypt, 5_000)
        con.close()
    ratios["uncached read"] = uncached / floor_read
    print(
        f"uncached read read_secret {uncached * 1e6:7.1f} µs   select+decrypt "
        f"{floor_read * 1e6:7.1f} µs   ratio {uncached / floor_read:.2f}x (target <= 10x)"
    )


def pg_uncached(store: Store, ratios: dict[str, float]) -> None:
    """`read_secret(name, use_cache=False)` on PostgreSQL against one prepared point select on a
    kept psycopg connection (binary results) and the decrypt."""
    import psycopg

    con = psycopg.connect(libpq(store.url), autocommit=True, prepare_threshold=0)
    cur = con.cursor(binary=True)
    aead = AESGCM(store.data_key)
    row_id, aad = store.row_id, store.aad

    def select_and_decrypt() -> str:
        nonce, ciphertext = cur.execute(PG_ROW_SQL, (row_id,)).fetchone()  # type: ignore[misc]
        return aead.decrypt(nonce, ciphertext, aad).decode()

    with SecretClient(FN, store=store.url, key_file=store.key_file) as client:
        assert select_and_decrypt() == client.read_secret(NAME, use_cache=False) == VALUE
        uncached = per_call(lambda: client.read_secret(NAME, use_cache=False), 1_000)
        floor_read = per_call(select_and_decrypt, 1_000)
    con.close()
    ratios["pg uncached read"] = uncached / floor_read
    print(
        f"uncached read on PostgreSQL   read_secret {uncached * 1e6:7.1f} µs   prepared "
        f"select+decrypt {floor_read * 1e6:7.1f} µs   ratio {uncached / floor_read:.2f}x "
        f"(target <= {TARGETS['pg uncached read']:g}x)"
    )


def floor_material(vault: Vault, function: str = FN, name: str = NAME) -> tuple[bytes, bytes, int]:
    """The function's data key, the value's associated data and its version row's id, taken from
    the Vault's own session (private attributes: a benchmark may look inside; the floor must not
    do less work than the toolbelt because of a wrong key)."""
    from sqlmodel import select

    from faas_tui.store import trust
    from faas_tui.store.models import Function, Secret, SecretVersion

    with vault._tx.read() as s:
        fn = s.exec(select(Function).where(Function.name == function)).one()
        key = vault._guard.function_key(s, fn)
        secret = s.exec(
            select(Secret).where(Secret.function_id == fn.id, Secret.name == name)
        ).one()
        row = s.exec(
            select(SecretVersion).where(
                SecretVersion.secret_id == secret.id, SecretVersion.version == secret.version
            )
        ).one()
        aad = trust.value_aad(
            vault.store_id, function, name, row.version, row.format, bytes(row.write_id or b"")
        )
    assert row.id is not None
    return key.raw, aad, row.id


if __name__ == "__main__":
    sys.exit(main())
