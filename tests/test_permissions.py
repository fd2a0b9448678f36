"""The role table (README, security section) as `allows` and `require` answer it, cell by cell."""

from __future__ import annotations

import pytest

from faas_tui.core.errors import AccessDeniedError, FaasError
from faas_tui.core.kinds import Role
from faas_tui.core.permissions import Action, Credential, allows, require
from faas_tui.toolbelt import AccessDeniedError as ExportedAccessDeniedError

ADMIN = Credential("alice", Role.ADMIN, None)
EDITOR = Credential("bob", Role.EDITOR, None)
AUDITOR = Credential("carol", Role.AUDITOR, None)
RUNTIME = Credential("key-file:3f2a", Role.RUNTIME, frozenset({"billing"}))
LEGACY = Credential("key-file:0ld1", Role.RUNTIME, None, legacy=True)
ADMIN_KEY = Credential("key-file:ci01", Role.ADMIN, None)
EDITOR_KEY = Credential("key-file:ci02", Role.EDITOR, None)

A = Action
EVERY = set(Action)
# Actions each operator role may take on any function (function=None and function="billing").
OPERATOR_TABLE: dict[Credential, set[Action]] = {
    ADMIN: EVERY,
    EDITOR: {A.LIST, A.READ_VALUES, A.WRITE, A.DEPLOY, A.AUDIT, A.LOG, A.CHECK, A.PASSWD},
    AUDITOR: {A.LIST, A.AUDIT, A.LOG, A.CHECK, A.PASSWD},
    ADMIN_KEY: EVERY - {A.PASSWD},
    EDITOR_KEY: {A.LIST, A.READ_VALUES, A.WRITE, A.DEPLOY, A.AUDIT, A.LOG, A.CHECK},
}


@pytest.mark.parametrize("credential", list(OPERATOR_TABLE), ids=lambda c: f"{c.actor}-{c.role}")
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("function", [None, "billing", "mailer"])
def test_operator_roles_follow_the_table(
    credential: Credential, action: Action, function: str | None
) -> None:
    expected = action in OPERATOR_TABLE[credential]
    assert allows(credential, action, function) is expected
    if expected:
        require(credential, action, function)
    else:
        with pytest.raises(AccessDeniedError):
            require(credential, action, function)


@pytest.mark.parametrize("action", list(Action))
def test_a_runtime_key_reads_its_functions_only_and_writes_nothing(action: Action) -> None:
    reading = action in {A.LIST, A.READ_VALUES}
    assert allows(RUNTIME, action, "billing") is reading
    assert allows(RUNTIME, action, "mailer") is False
    assert allows(RUNTIME, action, None) is False  # every function at once is more than its scope


@pytest.mark.parametrize("action", list(Action))
def test_a_legacy_key_file_reads_every_function_and_writes_nothing(action: Action) -> None:
    reading = action in {A.LIST, A.READ_VALUES}
    for function in (None, "billing", "mailer"):
        assert allows(LEGACY, action, function) is reading


def test_a_legacy_flag_on_an_operator_role_still_writes_nothing() -> None:
    odd = Credential("key-file:0ld2", Role.ADMIN, None, legacy=True)
    assert allows(odd, A.READ_VALUES, "billing")
    assert not allows(odd, A.WRITE, "billing")
    assert not allows(odd, A.KEY_FILES)


def test_reads_is_the_scope() -> None:
    assert RUNTIME.reads("billing") and not RUNTIME.reads("mailer")
    assert LEGACY.reads("anything") and ADMIN.reads("anything")


def _message(credential: Credential, action: Action, function: str | None = None) -> str:
    with pytest.raises(AccessDeniedError) as caught:
        require(credential, action, function)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("not allowed: ")
    return message


def test_refusals_are_one_line_naming_what_the_credential_may_do() -> None:
    assert _message(AUDITOR, A.READ_VALUES, "billing") == (
        "not allowed: carol is an auditor, who may list, audit, read the log and check, "
        "but not read values or change the store"
    )
    editor = _message(EDITOR, A.OPERATORS)
    assert "bob is an editor" in editor and "not manage operators or key files" in editor
    assert editor.endswith("; ask an admin")
    assert _message(EDITOR, A.COMPACT).endswith("or compact the store; ask an admin")
    assert _message(RUNTIME, A.READ_VALUES, "mailer") == (
        "not allowed: key file 3f2a reads billing only, not mailer"
    )
    assert _message(RUNTIME, A.WRITE, "billing") == (
        "not allowed: key file 3f2a reads billing only and changes nothing"
    )
    assert "legacy key file" in _message(LEGACY, A.WRITE, "billing")
    assert "no passphrase to change" in _message(ADMIN_KEY, A.PASSWD)
    assert "key file ci02 (editor role) is an editor" in _message(EDITOR_KEY, A.ROTATE_KEY)


def test_access_denied_exits_5_and_is_exported_by_the_toolbelt() -> None:
    assert issubclass(AccessDeniedError, FaasError)
    assert AccessDeniedError.exit_code == 5
    assert ExportedAccessDeniedError is AccessDeniedError
