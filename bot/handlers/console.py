"""A terminal chat for trying Werkbank locally: buttons become numbered options.

With a terminal it prompts; with piped input it reads one message per line and
prints the replies, so a script can drive it, and ends at the end of input.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import TextIO

from bot.handlers.runner import Runner
from bot.messages import (
    AccountRef,
    Attachment,
    Delivered,
    Incoming,
    Kind,
    OutMessage,
    numbered_options,
)

# "51.37, 7.70", "standort 51.37 7.70", "location: 51.37;7.70"
_LOCATION = re.compile(
    r"^\s*(?:(?:standort|location|ort|geo)\s*:?\s*)?"
    r"(-?\d{1,2}\.\d+)\s*[,; ]\s*(-?\d{1,3}\.\d+)\s*$",
    re.IGNORECASE,
)
QUIT_WORDS = {"/quit", "/exit", "/beenden"}
# Said once as the chat opens, in both languages (the member's is not known yet).
LEAVE_HINT = "(Beenden: /beenden oder Strg+D · to leave: /quit or Ctrl+D)"
# The console has no location button; it says, in both languages, how to type one.
LOCATION_HINT = (
    "(📍 Standort teilen: z. B. „51.37, 7.70“ eingeben / share a location: type “51.37, 7.70”)"
)


def to_incoming(account: AccountRef, line: str) -> Incoming:
    """One typed line as the runner sees it (a location if it looks like coordinates)."""
    match = _LOCATION.match(line)
    if match:
        return Incoming(account, Kind.LOCATION, lat=float(match[1]), lon=float(match[2]))
    if line.strip().startswith("/"):
        return Incoming(account, Kind.COMMAND, text=line.strip())
    return Incoming(account, Kind.TEXT, text=line)


def _save(attachment: Attachment) -> str:
    """A file the bot sends is written where the user can open it; its path is shown.

    The temporary directory is shared with every user of the machine: the files go into
    a folder of this user's own (0700) under a new name each (0600, created exclusively),
    so nobody else can read them or plant a link where one is about to be written."""
    name = Path(attachment.filename)
    fd, path = tempfile.mkstemp(
        dir=_private_folder(), prefix=f"{name.stem or 'werkbank'}-", suffix=name.suffix
    )
    with os.fdopen(fd, "wb") as handle:
        handle.write(attachment.data)
    return path


def _private_folder() -> Path:
    """`werkbank-<uid>` in the temporary directory, made if missing; a new folder of
    our own if that name is taken by someone else, a link, or readable by others."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    folder = Path(tempfile.gettempdir()) / f"werkbank-{uid if uid is not None else 'files'}"
    folder.mkdir(mode=0o700, exist_ok=True)  # an existing one is checked below
    info = folder.lstat()
    if (
        not stat.S_ISDIR(info.st_mode)
        or (uid is not None and info.st_uid != uid)
        or info.st_mode & 0o077
    ):
        return Path(tempfile.mkdtemp(prefix="werkbank-"))
    return folder


class ConsoleOutbox:
    """Delivers notices (reminders, a seat come free) into the running terminal chat."""

    def __init__(self, stdout: TextIO = sys.stdout) -> None:
        self.stdout = stdout

    async def deliver(
        self, account: AccountRef, messages: Sequence[OutMessage], key: str | None = None
    ) -> Delivered:
        self.stdout.write("\n" + render(list(messages)) + "\n")
        self.stdout.flush()
        return Delivered.SENT


def render(messages: list[OutMessage]) -> str:
    """Messages as text, buttons numbered across the whole reply as the runner expects."""
    out: list[str] = []
    number = 0
    for message in messages:
        if message.text:  # a file sent on its own has none (the second of "Meine Daten")
            out.append(message.text)
        if message.venue:
            v = message.venue
            out.append(f"📍 {v.name}, {v.address} ({v.lat:.4f}, {v.lon:.4f})")
        if message.attachment:
            out.append(f"📎 {_save(message.attachment)}")
        for row in message.buttons:
            cells = []
            for button in row:
                number += 1
                cells.append(f"[{number}] {button.label}")
            out.append("   ".join(cells))
        if message.location_button:
            out.append(LOCATION_HINT)
        out.append("")
    assert number == len(numbered_options(messages))
    return "\n".join(out)


async def _lines(stream: TextIO, prompt: bool) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    while True:
        if prompt:
            line = await loop.run_in_executor(None, _prompt)
        else:
            line = await loop.run_in_executor(None, stream.readline)
            if line == "":
                line = None  # type: ignore[assignment]
        if line is None:
            return
        yield line.rstrip("\n")


def _prompt() -> str | None:
    try:
        return input("> ")
    except EOFError:
        return None


async def chat(
    runner: Runner,
    account: AccountRef,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    deliver_due: Callable[[], Awaitable[object]] | None = None,
) -> int:
    """Chat until the end of input. `deliver_due` sends what is due to this user (reminders,
    a seat come free) through a ConsoleOutbox: run after every answer, so a script sees
    notices at a fixed place in the output; at a terminal a timer runs it as well."""
    interactive = stdin.isatty()

    def show(messages: list[OutMessage]) -> None:
        stdout.write(render(messages) + "\n")
        stdout.flush()

    stdout.write(LEAVE_HINT + "\n\n")
    show(await runner.resume(account))
    if deliver_due is not None:
        await deliver_due()
    async for line in _lines(stdin, interactive):
        if line.strip().lower() in QUIT_WORDS:
            break
        if not line.strip():
            continue
        if not interactive:
            stdout.write(f"> {line}\n")
        show(await runner.handle(to_incoming(account, line)))
        if deliver_due is not None:
            await deliver_due()
    return 0
