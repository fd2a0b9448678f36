"""The SQLModel tables of a store. Values exist here only as AES-GCM ciphertexts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from faas_tui.core.kinds import SecretKind


def _blob(nullable: bool = False) -> Column:
    return Column(LargeBinary, nullable=nullable)


class StoreMeta(SQLModel, table=True):
    """One row: the store's identity and the MAC over its manifest (SPEC §6)."""

    __tablename__ = "store_meta"

    id: int = Field(default=1, primary_key=True)
    store_id: str
    schema_version: int
    created_at: datetime
    manifest_mac: bytes = Field(sa_column=_blob())


class KeySlot(SQLModel, table=True):
    """The data key wrapped under one passphrase or key file."""

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


class Function(SQLModel, table=True):
    __tablename__ = "function"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    source_dir: str | None = None
    created_at: datetime
    manifest_mac: bytes = Field(sa_column=_blob())


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
