"""The pieces every dialog is made of."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.i18n import Translator
from bot.messages import Button, Incoming, OutMessage
from bot.services.contracts import MemberView, Services

# Payloads every screen understands, whatever it offers.
MENU = "menu"
BACK = "back"
HELP = "help"
NAV_PAYLOADS = frozenset({MENU, BACK, HELP})
# State data key: [flow, state, data] to open once onboarding is done (a deep link).
AFTER_ONBOARDING = "after_onboarding"

ButtonRow = tuple[Button, ...]


@dataclass(frozen=True)
class Context:
    """What a dialog step may see: the member, their language, the clock, the services."""

    member: MemberView
    t: Translator
    now: datetime
    data: Mapping[str, Any]
    services: Services

    def _(self, message: str) -> str:
        return self.t._(message)


@dataclass(frozen=True)
class Go:
    """Move to `flow`/`state`; `say` comes before the new screen. `data` is merged in
    (a value of None removes the key). `remember=False` keeps the step out of "Zurück"."""

    flow: str
    state: str
    data: Mapping[str, Any] = field(default_factory=dict)
    say: tuple[OutMessage, ...] = ()
    remember: bool = True


@dataclass(frozen=True)
class Stay:
    """Stay where we are: say something, then show the current screen again."""

    say: tuple[OutMessage, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


Step = Go | Stay


class Dialog(ABC):
    name: str
    # States in which typed text (or a location) is an answer, not a wrong button.
    text_states: frozenset[str] = frozenset()
    # States in which a typed number is a value (kilometres), not an option number.
    number_states: frozenset[str] = frozenset()

    @abstractmethod
    async def show(self, ctx: Context, state: str) -> tuple[OutMessage, ...]:
        """The screen for `state`: the question and its buttons."""

    @abstractmethod
    async def handle(self, ctx: Context, state: str, msg: Incoming) -> Step:
        """React to a button (msg.payload), text, or location in `state`."""


def nav_row(ctx: Context, back: bool = True) -> ButtonRow:
    """The "Zurück · Menü" row that ends most screens."""
    row = [Button(ctx._("Back"), BACK)] if back else []
    row.append(Button(ctx._("Menu"), MENU))
    return tuple(row)


def say(text: str, *rows: ButtonRow) -> OutMessage:
    return OutMessage(text=text, buttons=tuple(r for r in rows if r))


def too_long(ctx: Context, text: str, limit: int) -> Stay | None:
    """Ask for a shorter text rather than cut it silently (nothing typed is lost unseen)."""
    if len(text) <= limit:
        return None
    hint = ctx._(
        "That is {length} characters; at most {limit} fit here. "
        "Please shorten it and send it again."
    ).format(length=ctx.t.number(len(text)), limit=ctx.t.number(limit))
    return Stay(say=(OutMessage(hint),))
