"""The kinds a stored row can be, as enums: compare against these, never against bare strings.

They are `StrEnum`s, so the database columns keep holding the plain text ("user", "key-file")
that earlier releases wrote, and a value read back compares equal to its member.
"""

from __future__ import annotations

from enum import StrEnum


class SecretKind(StrEnum):
    """Who owns a secret: the user, or the platform (created with every function, read-only)."""

    USER = "user"
    SYSTEM = "system"


class SlotKind(StrEnum):
    """What unlocks a key slot: an operator's passphrase, or a key file.

    A 0.1.0 key file becomes a LEGACY_KEY_FILE: it unwraps the old store-wide data key, which
    opens the one shared LEGACY credential (read-only, every function).
    """

    PASSPHRASE = "passphrase"  # noqa: S105  # nosec B105
    KEY_FILE = "key-file"
    LEGACY_KEY_FILE = "legacy-key-file"
    LEGACY = "legacy"


class Role(StrEnum):
    """What a credential may do: administer, edit, audit (read-only), or read its functions at runtime."""

    ADMIN = "admin"
    EDITOR = "editor"
    AUDITOR = "auditor"
    RUNTIME = "runtime"
