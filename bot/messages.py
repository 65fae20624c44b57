"""The channel-neutral message model: what channels hand in and what dialogs send out.

Every adapter (console, Telegram, Matrix) turns its updates into `Incoming` and
renders `OutMessage` with what its channel can do: inline keyboards, numbered
options, venue pins, files.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class Kind(enum.StrEnum):
    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"
    LOCATION = "location"
    VOICE = "voice"
    FILE = "file"
    OTHER = "other"


@dataclass(frozen=True)
class AccountRef:
    """Who wrote, as the channel knows them."""

    channel: str  # "console" | "telegram" | "matrix"
    external_id: str
    chat_id: str | None = None
    display_name: str = ""
    language: str | None = None  # the client's language hint, if the channel gives one


@dataclass(frozen=True)
class Incoming:
    account: AccountRef
    kind: Kind
    text: str = ""
    payload: str = ""
    lat: float | None = None
    lon: float | None = None
    update_id: str | None = None  # for idempotency; None where the channel has none
    # Whether the channel shows buttons with numbers (console, Matrix), so that a typed
    # bare number means an option; Telegram shows tappable buttons without numbers.
    options_numbered: bool = True


# C0 and C1 control characters but tab and newline, and lone surrogates (a JSON update can
# carry "\ud800"): PostgreSQL refuses NUL in text, and UTF-8 cannot encode a surrogate.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` without control characters: a line break stays one, tab stays, the rest go."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def cleaned(msg: Incoming) -> Incoming:
    """What a channel hands in, cleaned at the edge: every adapter builds its `Incoming`
    through this, so no dialog, service or database sees a control character."""
    account = msg.account
    fields = (msg.text, msg.payload, account.display_name, account.language or "")
    if not any(_CONTROL.search(value) or "\r" in value for value in fields):
        return msg  # nearly always: no copies on the way of every message
    return dataclasses.replace(
        msg,
        account=dataclasses.replace(
            account,
            display_name=clean_text(account.display_name),
            language=clean_text(account.language) if account.language else account.language,
        ),
        text=clean_text(msg.text),
        payload=clean_text(msg.payload),
    )


@dataclass(frozen=True)
class Button:
    label: str
    payload: str  # short (Telegram allows 64 bytes) and never trusted


@dataclass(frozen=True)
class Venue:
    name: str
    address: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str
    data: bytes

    @property
    def is_image(self) -> bool:
        """Shown as a picture (a Telegram photo, a Matrix m.image), not as a file."""
        return self.mime_type.startswith("image/")


@dataclass(frozen=True)
class OutMessage:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()  # rows of buttons
    # The label of the channel's "share my location" control, where it has one; None: no such offer.
    location_button: str | None = None
    venue: Venue | None = None
    attachment: Attachment | None = None

    def all_buttons(self) -> tuple[Button, ...]:
        return tuple(button for row in self.buttons for button in row)


def numbered_options(messages: tuple[OutMessage, ...] | list[OutMessage]) -> list[Button]:
    """The buttons of a reply in the order channels without buttons number them (1, 2, …)."""
    return [button for message in messages for button in message.all_buttons()]


class Delivered(enum.StrEnum):
    """How sending to one account went."""

    SENT = "sent"
    BLOCKED = "blocked"  # the member blocked the bot, or left the chat
    FAILED = "failed"  # worth another try later


class Deliverer(Protocol):
    """What a channel offers the scheduler: send messages to an account unasked."""

    async def deliver(
        self, account: AccountRef, messages: Sequence[OutMessage], key: str | None = None
    ) -> Delivered:
        """`key` names this delivery: sent again with the same key (after a crash between
        the send and marking it sent), a channel that can tell drops the second copy."""
        ...
