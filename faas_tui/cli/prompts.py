"""Reading from the person at the keyboard: no-echo prompts on the terminal, values from --file or
stdin (never from argv), and a delete confirmed by typing the name."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from faas_tui.core.errors import UsageError, ValidationError

MAX_INPUT = 1024 * 1024


def has_terminal() -> bool:
    """Whether there is a controlling terminal to ask on (getpass reads /dev/tty)."""
    try:
        with open("/dev/tty"):
            return True
    except OSError:
        return False


def prompt_secret(prompt: str, refusal: str) -> str:
    """A no-echo prompt on the terminal; with no terminal, a usage error saying `refusal`, which
    names what to set instead."""
    if not has_terminal():
        raise UsageError(refusal)
    return getpass.getpass(prompt)


def new_passphrase(variable: str) -> str:
    """A new passphrase from the environment variable, else asked twice on the terminal."""
    given = os.environ.get(variable)
    if given is not None:
        return given
    refusal = f"a new passphrase is needed: set {variable} (no terminal to ask on)"
    first = prompt_secret("New passphrase: ", refusal)
    if prompt_secret("Repeat it: ", refusal) != first:
        raise ValidationError("the two passphrases differ; nothing was changed")
    return first


def read_value(args: argparse.Namespace, what: str, *, confirm: bool) -> str:
    """A value from --file, else piped stdin, else a no-echo prompt — never from argv.

    One trailing newline is dropped.
    """
    path = getattr(args, "file", None)
    if path:
        if path == "-":
            raw = _stdin_bytes()
        else:
            try:
                with open(path, "rb") as handle:
                    raw = handle.read(MAX_INPUT)
            except OSError as exc:
                raise ValidationError(f"cannot read --file {path}: {exc.strerror}") from None
    elif sys.stdin is not None and not sys.stdin.isatty():
        raw = _stdin_bytes()
    else:
        refusal = (
            "no value given: use --file PATH or pipe the value on stdin (no terminal to ask on)"
        )
        text = prompt_secret(f"Value for {what}: ", refusal)
        if confirm and prompt_secret("Repeat it: ", refusal) != text:
            raise ValidationError("the two values differ; nothing was stored")
        return text
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"the value is not UTF-8 text (bad byte at offset {exc.start})"
        ) from None
    return drop_one_newline(text)


def _stdin_bytes() -> bytes:
    if sys.stdin is None:
        raise ValidationError("no value: give --file PATH or pipe the value on stdin")
    return sys.stdin.buffer.read(MAX_INPUT)


def drop_one_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def confirm_by_typing(name: str, what: str) -> None:
    """Ask the user to type the name; end of input or a mismatch refuses (exit 1)."""
    prompt = (
        f"This permanently deletes {what}. You cannot undo this action.\nType {name} to confirm: "
    )
    if sys.stdin is not None and sys.stdin.isatty():
        try:
            typed = input(prompt)
        except EOFError:
            print(file=sys.stderr)  # end the prompt's line, so an error starts its own
            typed = None
    else:
        print(prompt, end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline() if sys.stdin is not None else ""
        print(file=sys.stderr)  # piped input is not echoed: end the prompt's line ourselves
        typed = line.rstrip("\r\n") if line else None
    if typed is None:
        raise ValidationError("not deleted: end of input before the name was typed (or pass --yes)")
    if typed.strip() != name:
        # what was typed is not repeated: it may be a value piped here by mistake
        raise ValidationError(f"not deleted: what was typed does not match {name!r}")
