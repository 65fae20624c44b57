"""Typed button actions: one object builds a button's payload and parses it back.

A payload is `name` or `name:value` (Telegram allows 64 bytes). Handlers never see
the string: a table binds an action to a handler, and the handler receives the typed
value (`seats=5`, `event_id=49`). A payload that does not parse (forged, or from an
older version of a screen) raises `BadPayload`, which the dialog core answers kindly.
"""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

# Ids as digits; at most MAX_ID (below), since the tables' ids are INTEGERs.
_ID = re.compile(r"[0-9]{1,12}")


class BadPayload(ValueError):
    """A payload that names a known action but whose value does not parse."""


@dataclass(frozen=True)
class Action:
    """A button without a value: its payload is its name ("publish", "csv")."""

    name: str

    @property
    def payload(self) -> str:
        return self.name

    def matches(self, payload: str) -> bool:
        return payload == self.name


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How a value is written into a payload and read back."""

    dump: Callable[[T], str]
    load: Callable[[str], T]


@dataclass(frozen=True)
class ValueAction(Generic[T]):
    """A button with one typed value: `SEATS(5)` is "seats:5", `SEATS.parse("seats:5")` is 5."""

    name: str
    codec: Codec[T]

    def __call__(self, value: T) -> str:
        return f"{self.name}:{self.codec.dump(value)}"

    def matches(self, payload: str) -> bool:
        return payload.partition(":")[0] == self.name and ":" in payload

    def parse(self, payload: str) -> T:
        name, colon, value = payload.partition(":")
        if name != self.name or not colon:
            raise BadPayload(payload)
        try:
            return self.codec.load(value)
        except (ValueError, KeyError) as error:
            raise BadPayload(payload) from error


# Ids are PostgreSQL INTEGERs: a larger one is no id of ours (and would fail the query).
MAX_ID = 2**31 - 1


def _load_positive(text: str) -> int:
    if not _ID.fullmatch(text) or not 0 < int(text) <= MAX_ID:
        raise BadPayload(text)
    return int(text)


def id_in_range(value: object) -> int | None:
    """An id a screen's data holds (from a poster's link, typed with any number of digits),
    or None when it cannot be one of ours: the screen then says "not found"."""
    if isinstance(value, str) and _ID.fullmatch(value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    return None


def _load_index(text: str) -> int:
    if not _ID.fullmatch(text) or int(text) > MAX_ID:
        raise BadPayload(text)
    return int(text)


def _load_flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise BadPayload(text)
    return text == "1"


def _load_count(text: str) -> int | None:
    return None if text == "none" else _load_positive(text)


# Ids, kilometres, seats: a whole number from 1.
POSITIVE: Codec[int] = Codec(str, _load_positive)
INDEX: Codec[int] = Codec(str, _load_index)  # a position in a list shown, from 0
FLAG: Codec[bool] = Codec(lambda on: "1" if on else "0", _load_flag)
# A count or "no limit" (None): seats, a minimum.
COUNT: Codec[int | None] = Codec(lambda n: "none" if n is None else str(n), _load_count)
_TOKEN = re.compile(r"[0-9a-f]{16}")


def _load_token(text: str) -> str:
    if not _TOKEN.fullmatch(text):
        raise BadPayload(text)
    return text


# An idempotency key carried by a button (`new_token()`): a second press of the same
# button, a redelivery or a double tap on two workers, has the same one.
TOKEN: Codec[str] = Codec(str, _load_token)


def new_token() -> str:
    return secrets.token_hex(8)


def code(kind: type[E]) -> Codec[E]:
    """A member of `kind` by its value: `code(EventFormat)` reads "transfer"."""
    return Codec(lambda member: str(member.value), lambda text: kind(text))


def one_of(*words: str) -> Codec[str]:
    """One of a few fixed words ("start", "search", "new")."""
    allowed = frozenset(words)

    def load(text: str) -> str:
        if text not in allowed:
            raise BadPayload(text)
        return text

    return Codec(str, load)


def with_id(codec: Codec[T]) -> Codec[tuple[int, T]]:
    """An id and a value, "12.yes": for a button that must still find its subject
    after the member moved on (a check-in further up the chat)."""

    def load(text: str) -> tuple[int, T]:
        number, dot, value = text.partition(".")
        if not dot:
            raise BadPayload(text)
        return _load_positive(number), codec.load(value)

    return Codec(lambda pair: f"{pair[0]}.{codec.dump(pair[1])}", load)


# Actions more than one dialog offers: an event's or a place's details.
OPEN_EVENT = ValueAction("ev", POSITIVE)
OPEN_PLACE = ValueAction("pl", POSITIVE)
SIGN_UP = ValueAction("signup", POSITIVE)  # "Anmelden" for an event
# "Neuigkeiten aus deiner Nähe bekommen?": asked after onboarding (on the menu) and in
# the settings; the button carries the answer, so a double tap does not undo itself.
NEWS = ValueAction("news", FLAG)
