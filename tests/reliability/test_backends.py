"""The same product on SQLite and PostgreSQL: the CLI end to end, the manifest MAC, compaction.

PostgreSQL parameters run when FAAS_TUI_TEST_PG_URL is set; in CI (CI=true) a missing server fails
loudly here instead of silently skipping half of the suite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import PASSPHRASE, PG_URL, Cli, fast_kdf
from sqlalchemy import create_engine, delete, select, text

from faas_tui.core.errors import BindingBrokenError, IntegrityError, WrongKeyError
from faas_tui.core.values import SecretFormat
from faas_tui.store.location import to_url
from faas_tui.store.models import Secret, SecretVersion
from faas_tui.store.vault import Vault
from reliability._support import Run, assert_one_error_line, clean_env, dump_store, run_cli

NEW_PASSPHRASE = "a brand new passphrase"


def test_ci_runs_the_postgresql_tests() -> None:
    """In CI the PostgreSQL half of the suite must run, not skip: the server and driver are there."""
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        pytest.skip("not CI: the PostgreSQL tests run when FAAS_TUI_TEST_PG_URL is set")
    assert PG_URL, "CI=true but FAAS_TUI_TEST_PG_URL is not set: .ci/run must start PostgreSQL"
    import psycopg  # noqa: F401 - the driver of postgresql+psycopg:// must be installed

    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.slow
def test_cli_works_end_to_end_on_each_backend(store_url: str, tmp_path: Path) -> None:
    """init, add, list, deploy, run, audit, passwd, rotate-key, key files and delete via the CLI.

    `run` execs its command, so it runs the installed console script; the other commands run
    `main()` in this process (the same code, without a new interpreter's second of imports per
    call, and with weak Argon2id parameters for the passphrases they set).
    """
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env("/nonexistent/ignored.db", PASSPHRASE, home)
    base = ("--store", store_url)
    cli = Cli("/nonexistent/ignored.db", env)

    def ok(*args: str, input: bytes = b"", extra: dict[str, str] | None = None) -> str:
        full_env = {**env, **(extra or {})}
        if args[0] == "run":
            result = run_cli(*args, env=full_env, input=input)
        else:
            done = cli(*args, input=input, env=extra)
            result = Run(done.code, done.out, done.err, 0.0)
        assert result.code == 0, (args, result.err)
        assert "Traceback" not in result.err
        return result.out

    ok("init", *base)
    ok("functions", "add", "billing", *base)
    ok("secrets", "add", "billing", "stripe api key", *base, input=b"sk_live_123\n")
    ok("secrets", "add", "billing", "config", "--json", *base, input=b'{"a": [1, 2], "b": "x"}')
    listed = json.loads(ok("secrets", "list", "billing", "--format", "json", *base))
    assert [(s["name"], s["format"]) for s in listed] == [
        ("CONFIG", "json"),
        ("STRIPE_API_KEY", "plaintext"),
    ]
    assert ok("deploy", "billing", *base).strip() == "1"
    shown = ok(
        "run",
        "billing",
        *base,
        "--",
        "python",
        "-c",
        "import os; print(os.environ['STRIPE_API_KEY'], os.environ['CONFIG'])",
    )
    assert shown.split() == ["sk_live_123", '{"a":[1,2],"b":"x"}']
    audit = json.loads(ok("audit", "--format", "json", *base))
    assert {(r["name"], r["deployed_version"]) for r in audit if r["kind"] == "user"} == {
        ("CONFIG", 1),
        ("STRIPE_API_KEY", 1),
    }
    ok("passwd", *base, extra={"FAAS_TUI_NEW_PASSPHRASE": NEW_PASSPHRASE})
    new_env = {"FAAS_TUI_PASSPHRASE": NEW_PASSPHRASE}
    ok("rotate-key", *base, extra=new_env)
    key_file = tmp_path / "runtime.key"
    ok("key-file", "add", str(key_file), "--function", "billing", *base, extra=new_env)
    assert (
        ok(
            "secrets",
            "verify",
            "billing",
            "STRIPE_API_KEY",
            "--key-file",
            str(key_file),
            *base,
            input=b"sk_live_123",
        ).strip()
        == "match"
    )
    ok("secrets", "delete", "billing", "STRIPE_API_KEY", "--yes", *base, extra=new_env)
    broken = run_cli("run", "billing", *base, "--", "true", env={**env, **new_env})
    assert_one_error_line(broken, codes=(1,))
    assert "STRIPE_API_KEY" in broken.err and "redeploy" in broken.err


def test_runtime_reads_and_binding_match_on_each_backend(store: str) -> None:
    """Vault.read_secret and bound_values give the same answers on both backends."""
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        vault.add_secret("billing", "API_KEY", "v1")
        vault.add_secret("billing", "CONFIG", '{"k": {"n": 1}}', SecretFormat.JSON)
        vault.deploy("billing")
        vault.update_secret("billing", "API_KEY", "v2")
        assert vault.read_secret("billing", "API_KEY") == "v2"
        assert vault.read_secret("billing", "CONFIG") == {"k": {"n": 1}}
        bound = vault.bound_values("billing")
        assert bound["API_KEY"] == ("v1", SecretFormat.PLAINTEXT)
        vault.delete_secret("billing", "API_KEY")
        with pytest.raises(BindingBrokenError, match="API_KEY"):
            vault.bound_values("billing")


def test_the_signed_digest_refuses_a_row_deleted_behind_the_tools_back(store: str) -> None:
    """On both backends, deleting a secret row with SQL makes the function's digest fail."""
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        vault.add_secret("billing", "API_KEY", "v1")
        vault.add_secret("billing", "OTHER_KEY", "v2")
    engine = create_engine(to_url(store))
    with engine.begin() as conn:
        victim = conn.execute(select(Secret.id).where(Secret.name == "OTHER_KEY")).scalar_one()
        conn.execute(delete(SecretVersion).where(SecretVersion.secret_id == victim))
        conn.execute(delete(Secret).where(Secret.id == victim))
    engine.dispose()
    with pytest.raises(IntegrityError, match="billing"):
        Vault.open(store, passphrase=PASSPHRASE)
    with Vault.open(store, passphrase=PASSPHRASE, inspect=True) as vault:
        with pytest.raises(IntegrityError, match="billing"):
            vault.list_secrets("billing")
        assert any("billing" in problem for problem in vault.check().problems)


def test_a_ciphertext_moved_to_another_row_fails_on_each_backend(store: str) -> None:
    with Vault.open(store, passphrase=PASSPHRASE) as vault:
        vault.add_secret("billing", "API_KEY", "v1")
        vault.add_secret("billing", "OTHER_KEY", "v2")
    engine = create_engine(to_url(store))
    with engine.begin() as conn:
        rows = dict(
            conn.execute(
                select(Secret.name, SecretVersion.id)
                .join(Secret, Secret.id == SecretVersion.secret_id)
                .where(Secret.name.in_(["API_KEY", "OTHER_KEY"]))
            ).all()
        )
        source = conn.execute(
            select(SecretVersion.nonce, SecretVersion.ciphertext).where(
                SecretVersion.id == rows["API_KEY"]
            )
        ).one()
        conn.execute(
            SecretVersion.__table__.update()
            .where(SecretVersion.id == rows["OTHER_KEY"])
            .values(nonce=source.nonce, ciphertext=source.ciphertext)
        )
    engine.dispose()
    with Vault.open(store, passphrase=PASSPHRASE) as vault, pytest.raises(IntegrityError):
        vault.read_secret("billing", "OTHER_KEY")


def test_wrong_passphrase_is_refused_and_changes_nothing_on_each_backend(store: str) -> None:
    before = dump_store(store)
    with pytest.raises(WrongKeyError):
        Vault.open(store, passphrase="not the passphrase")
    assert dump_store(store) == before


@pytest.mark.postgres
def test_postgresql_delete_leaves_no_ciphertext_in_the_table_files_after_compact(
    pg_url: str, tmp_path: Path
) -> None:
    """A delete rewrites no table (readers never wait behind a writer); `faas-tui compact`
    rewrites them (VACUUM FULL): then no old bytes are in them.

    Needs a superuser connection to read the relation files (pg_read_binary_file).
    """
    url = pg_url
    with Vault.create(url, PASSPHRASE, kdf=fast_kdf()) as vault:
        vault.add_function("billing")
        for i in range(4):  # small rows and one TOASTed row; the victim is the newest
            vault.add_secret("billing", f"KEEP_{i}", os.urandom(100).hex())
        vault.add_secret("billing", "BIG_VICTIM", os.urandom(20_000).hex())
        vault.add_secret("billing", "VICTIM", os.urandom(100).hex())
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        victims = _ciphertexts(engine, ["VICTIM", "BIG_VICTIM"])
        rewritten = _filenodes(engine)
        vault.delete_secret("billing", "VICTIM")
        vault.delete_secret("billing", "BIG_VICTIM")
        vault.change_passphrase(NEW_PASSPHRASE)
        assert _filenodes(engine) == rewritten  # no VACUUM FULL on the write path
    (tmp_path / "home").mkdir()
    compacted = run_cli("compact", env=clean_env(url, NEW_PASSPHRASE, tmp_path / "home"))
    assert compacted.code == 0, compacted.err
    assert _filenodes(engine) != rewritten
    files = _relation_bytes(engine, ["secret_version", "key_slot"])
    for ciphertext in victims:
        assert ciphertext[16:48] not in files
    engine.dispose()
    with pytest.raises(WrongKeyError):
        Vault.open(url, passphrase=PASSPHRASE)


def _filenodes(engine) -> list[int]:  # type: ignore[no-untyped-def]
    """The files of the value tables: a table rewrite (VACUUM FULL) gives them new ones."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT pg_relation_filenode(t) "
                    "FROM unnest(ARRAY['secret_version', 'key_slot']::regclass[]) AS t"
                )
            ).scalars()
        )


def _ciphertexts(engine, names: list[str]) -> list[bytes]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [
            bytes(c)
            for c in conn.execute(
                select(SecretVersion.ciphertext)
                .join(Secret, Secret.id == SecretVersion.secret_id)
                .where(Secret.name.in_(names))
            ).scalars()
        ]


def _relation_bytes(engine, tables: list[str]) -> bytes:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        try:
            conn.execute(text("CHECKPOINT"))
            paths = (
                conn.execute(
                    text(
                        "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.relname = ANY(:t) "
                        "OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE relname = ANY(:t))"
                    ),
                    {"t": tables},
                )
                .scalars()
                .all()
            )
            return b"".join(
                bytes(conn.execute(text("SELECT pg_read_binary_file(:p)"), {"p": p}).scalar())
                for p in paths
                if p
            )
        except Exception as exc:  # not a superuser: cannot look at the files
            pytest.skip(f"cannot read relation files: {type(exc).__name__}")
