"""`faas-tui deploy` (bind the current versions) and `faas-tui run` (exec a command with them, and
the store plus a runtime key file, never a passphrase)."""

from __future__ import annotations

import argparse
import os
import sys

from faas_tui.cli.context import Invocation
from faas_tui.cli.output import print_error
from faas_tui.core.errors import UsageError
from faas_tui.core.kinds import Role

# Never handed to the command `run` starts: they unlock more than its function. A runtime key
# file is handed on (FAAS_TUI_KEY_FILE), so SecretClient and bound_env work inside the command.
HIDDEN_FROM_RUN = ("FAAS_TUI_PASSPHRASE", "FAAS_TUI_NEW_PASSPHRASE", "FAAS_TUI_KEY_FILE")


def cmd_deploy(ctx: Invocation) -> int:
    with ctx.open_vault() as vault:
        number = vault.deploy(ctx.args.function)
    print(number)
    return 0


def cmd_run(ctx: Invocation) -> int:
    from faas_tui.cli.parser import ErrorLineParser
    from faas_tui.core.values import env_text
    from faas_tui.store.process import restore_core_limit

    args = ctx.args
    # argparse has already taken a `--` right after FUNCTION, so a command that starts with an
    # option means options of ours (--store, --key-file) up to the first `--`; any later `--`
    # belongs to CMD (`sh -c '…' -- arg`, `git log -- path`).
    command = list(args.cmd)
    if command and command[0].startswith("-"):
        if "--" not in command:
            raise UsageError(
                f"put options before `--`: faas-tui run FUNCTION [{command[0]} …] -- CMD"
            )
        split = command.index("--")
        ours, command = command[:split], command[split + 1 :]
        run_options = ErrorLineParser(prog="faas-tui run", add_help=False)
        run_options.add_argument("--store", default=argparse.SUPPRESS)
        run_options.add_argument("--key-file", default=argparse.SUPPRESS)
        run_options.add_argument("--operator", default=argparse.SUPPRESS)
        run_options.parse_args(ours, namespace=args)
    if not command:
        raise UsageError("no command to run: faas-tui run FUNCTION -- CMD [ARG…]")
    with ctx.open_vault(read_only=True) as vault:
        bound = vault.bound_values(args.function)
        runtime_key = vault.credential.role is Role.RUNTIME or vault.credential.legacy
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN_FROM_RUN}
    env["FAAS_TUI_STORE"] = (
        getattr(args, "store", None) or os.environ.get("FAAS_TUI_STORE") or ctx.store
    )
    if runtime_key and ctx.key_file:  # an operator's key file would give CMD the operator's rights
        env["FAAS_TUI_KEY_FILE"] = os.path.abspath(ctx.key_file)
    env.update({name: env_text(text, fmt) for name, (text, fmt) in bound.items()})
    sys.stdout.flush()
    sys.stderr.flush()
    restore_core_limit()  # the command holds no key: it may dump core as it usually would
    try:
        # The user's own command, as `run` promises; exec'd without a shell, so nothing is parsed.
        os.execvpe(command[0], command, env)  # noqa: S606  # nosec B606
    except FileNotFoundError:
        print_error(f"command not found: {command[0]}")
        return 127
    except PermissionError:
        print_error(f"permission denied: {command[0]}")
        return 126
    return 0  # not reached
