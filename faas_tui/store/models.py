"""The SQLModel tables of a store. Values exist here only as AES-GCM ciphertexts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from faas_tui.core.kinds import SecretKind


def _blob(nullable: bool = False) -> Column:
    return Column(LargeBinary, nullable=nullable)


class StoreMeta(SQLModel, table=True):
    """One row: the store's identity, its generation and the two signatures (docs/trust.md):
    the writer key's over the content manifest, the admin key's over the credential manifest."""

    __tablename__ = "store_meta"

    id: int = Field(default=1, primary_key=True)
    store_id: str
    schema_version: int
    created_at: datetime
    manifest_mac: bytes = Field(sa_column=_blob())  # schema 1's store MAC; empty from schema 2
    generation: int | None = 0
    signature: bytes | None = Field(default=None, sa_column=_blob(nullable=True))
    credentials_signature: bytes | None = Field(default=None, sa_column=_blob(nullable=True))


class KeySlot(SQLModel, table=True):
    """A credential: its box (private key and trusted verify keys, sealed under the passphrase's
    or key file's key) in nonce/wrapped, its public key, role, operator name and scope."""

    __tablename__ = "key_slot"

    id: str = Field(primary_key=True)
    kind: str  # a SlotKind value
    label: str = ""
    salt: bytes | None = Field(default=None, sa_column=_blob(nullable=True))
    kdf_memory_kib: int | None = None
    kdf_iterations: int | None = None
    kdf_lanes: int | None = None
    nonce: bytes = Field(sa_column=_blob())
    wrapped: bytes = Field(sa_column=_blob())
    created_at: datetime
    role: str | None = None  # a Role value
    operator: str | None = None  # a passphrase slot's operator name
    scope: str | None = None  # a runtime key's function names, space-separated
    public_key: bytes | None = Field(default=None, sa_column=_blob(nullable=True))


class Grant(SQLModel, table=True):
    """A function's data key sealed to one credential's public key."""

    __tablename__ = "key_grant"

    slot_id: str = Field(
        sa_column=Column(
            String, ForeignKey("key_slot.id", ondelete="CASCADE"), primary_key=True
        )
    )
    function_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("function.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    epoch: int
    sealed: bytes = Field(sa_column=_blob())


class Function(SQLModel, table=True):
    __tablename__ = "function"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    source_dir: str | None = None
    created_at: datetime
    manifest_mac: bytes = Field(sa_column=_blob())  # the digest the content manifest signs
    epoch: int | None = 1  # raised with every new data key of the function
    key_commit: bytes | None = Field(default=None, sa_column=_blob(nullable=True))


class Secret(SQLModel, table=True):
    """A named secret of a function; its value lives in SecretVersion rows."""

    __tablename__ = "secret"
    __table_args__ = (UniqueConstraint("function_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    function_id: int = Field(
        sa_column=Column(Integer, ForeignKey("function.id", ondelete="CASCADE"), index=True)
    )
    name: str
    kind: str = SecretKind.USER  # a SecretKind value
    format: str = "plaintext"
    version: int = 1
    created_at: datetime
    updated_at: datetime
    description: str = ""
    scopes: str = ""  # space-separated
    fingerprint: bytes = Field(sa_column=_blob())  # keyed HMAC of the value, for REUSED_VALUE
    write_id: bytes | None = Field(default=None, sa_column=_blob(nullable=True))


class SecretVersion(SQLModel, table=True):
    """One encrypted value. Kept while the secret's current version or a deployment uses it."""

    __tablename__ = "secret_version"
    __table_args__ = (UniqueConstraint("secret_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    secret_id: int = Field(
        sa_column=Column(Integer, ForeignKey("secret.id", ondelete="CASCADE"), index=True)
    )
    version: int
    format: str
    nonce: bytes = Field(sa_column=_blob())
    ciphertext: bytes = Field(sa_column=_blob())
    created_at: datetime
    write_id: bytes | None = Field(default=None, sa_column=_blob(nullable=True))


class Deployment(SQLModel, table=True):
    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("function_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    function_id: int = Field(
        sa_column=Column(Integer, ForeignKey("function.id", ondelete="CASCADE"), index=True)
    )
    number: int
    created_at: datetime
    actor: str


class Binding(SQLModel, table=True):
    """A secret version a deployment bound. secret_id and version become NULL when it is deleted."""

    __tablename__ = "binding"

    id: int | None = Field(default=None, primary_key=True)
    deployment_id: int = Field(
        sa_column=Column(Integer, ForeignKey("deployment.id", ondelete="CASCADE"), index=True)
    )
    secret_name: str
    secret_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("secret.id", ondelete="SET NULL"), index=True),
    )
    version: int | None = None
    write_id: bytes | None = Field(default=None, sa_column=_blob(nullable=True))


class Event(SQLModel, table=True):
    """The event log: who did what to which name, and when — never a value. Hash-chained."""

    __tablename__ = "event"

    seq: int | None = Field(default=None, primary_key=True)
    at: datetime
    actor: str
    action: str
    function: str | None = None
    name: str | None = None
    prev_hash: str
    hash: str
