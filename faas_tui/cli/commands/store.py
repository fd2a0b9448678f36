"""Commands on the store as a whole: the app, init, demo, passwd and rotate-key."""

from __future__ import annotations

import os
import sys

from faas_tui.cli.context import Invocation
from faas_tui.cli.prompts import new_passphrase
from faas_tui.core.errors import ValidationError
from faas_tui.core.permissions import Action, require


def cmd_app(ctx: Invocation) -> int:
    from faas_tui.tui.app import run_app

    return run_app(
        ctx.store, read_only=ctx.read_only, key_file=ctx.key_file, operator=ctx.operator
    )


def cmd_init(ctx: Invocation) -> int:
    from faas_tui.store.location import display_store
    from faas_tui.store.vault import Vault

    ctx.refuse_read_only("create a store")
    store = ctx.store
    if Vault.exists(store):  # before asking for a passphrase
        raise ValidationError(f"a store already exists at {display_store(store)}")
    with ctx.create_vault(store, new_passphrase("FAAS_TUI_PASSPHRASE")):
        print(f"created store at {display_store(store)}")
    return 0


def cmd_demo(ctx: Invocation) -> int:
    """Fill the named store, or a throw-away one (printed with its passphrase under --no-tui, and
    removed when the app exits or when filling fails)."""
    import shutil
    import tempfile

    from faas_tui.demo import DEMO_PASSPHRASE, fill_demo
    from faas_tui.store.location import display_store, to_url
    from faas_tui.store.vault import Vault

    args = ctx.args
    ctx.refuse_read_only("fill a demo store")
    folder = None
    if ctx.store_given:
        store = ctx.store
        if Vault.exists(store):
            vault = ctx.open_vault()
        else:
            vault = ctx.create_vault(store, new_passphrase("FAAS_TUI_PASSPHRASE"))
    else:
        _quit_on_hangup()  # a terminal closed while filling: the throw-away folder still goes
        folder = tempfile.mkdtemp(prefix="faas-tui-demo-")
        store = to_url(os.path.join(folder, "store.db"))
    keep = False
    try:
        if folder is not None:
            vault = ctx.create_vault(store, DEMO_PASSPHRASE)
        with vault:
            functions, secrets = fill_demo(vault, args.functions, args.secrets_per_function)
            if args.no_tui:
                print(f"filled {display_store(store)}: {functions} functions, {secrets} secrets")
                if folder is not None:
                    print(f"passphrase: {DEMO_PASSPHRASE}")
                    print(f"remove it when done: rm -r {folder}", file=sys.stderr)
                keep = True
                return 0
            from faas_tui.tui.app import run_app

            return run_app(
                store, read_only=False, key_file=None, vault=vault, demo=folder is not None
            )
    finally:
        if folder is not None and not keep:  # the throw-away store goes with the app, or a failure
            shutil.rmtree(folder, ignore_errors=True)


def _quit_on_hangup() -> None:
    """Until the app takes them over, SIGHUP and SIGTERM unwind the command (exit 128 + signal),
    so its `finally` removes what it made, as the app's quit would."""
    import signal

    from faas_tui.tui.signals import QUIT_SIGNALS

    def unwind(signum: int, _frame: object) -> None:
        for each in QUIT_SIGNALS:  # the cleanup itself is not cut short by a second signal
            signal.signal(each, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    for signum in QUIT_SIGNALS:
        signal.signal(signum, unwind)


def cmd_passwd(ctx: Invocation) -> int:
    """The unlocking operator's own passphrase; nobody else's changes."""
    with ctx.open_vault() as vault:
        require(vault.credential, Action.PASSWD)  # before asking for the new one
        vault.change_passphrase(new_passphrase("FAAS_TUI_NEW_PASSPHRASE"), kdf=ctx.new_kdf())
        who = vault.credential.actor
    print(
        f"passphrase changed for {who}; values were not re-encrypted "
        "(use `faas-tui rotate-key` for that)"
    )
    return 0


def cmd_rotate_key(ctx: Invocation) -> int:
    with ctx.open_vault() as vault:
        revoked = vault.rotate_key()
    print("data key rotated; every value was re-encrypted")
    if revoked:
        print(
            f"revoked key files {', '.join(revoked)}: they held the old key; issue new ones with "
            "`faas-tui key-file add PATH --function F`",
            file=sys.stderr,
        )
    return 0
