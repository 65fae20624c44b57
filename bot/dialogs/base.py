"""The pieces every dialog is made of: a table of screens, one entry per state.

A dialog declares its states as an enum and, per state, a `Screen`: how it renders,
what each button action does, and what typed input it takes (`Input`). The runner
asks the table what a state accepts, so that is never listed twice; a state without
an entry raises `UnknownState` (a bug, found by a test that walks every table).
Handlers return values (`Go`, `Stay`), never send.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeVar, overload

from bot.dialogs.actions import Action, BadPayload, ValueAction
from bot.i18n import Translator
from bot.messages import Button, Incoming, OutMessage
from bot.services.contracts import MemberView, Services

# Payloads every screen understands, whatever it offers.
MENU = Action("menu")
BACK = Action("back")
HELP = Action("help")
NAV_PAYLOADS = frozenset({MENU.payload, BACK.payload, HELP.payload})
# State data key: the Target (as a list) to open once onboarding is done (a deep link).
AFTER_ONBOARDING = "after_onboarding"

ButtonRow = tuple[Button, ...]
Screenful = tuple[OutMessage, ...]
Said = tuple[OutMessage, ...]  # what is said before a screen
T = TypeVar("T")
log = logging.getLogger(__name__)


class UnknownState(LookupError):
    """A dialog was asked for a state its table does not have: a bug, never user input."""


@dataclass(frozen=True)
class Context:
    """What a dialog step may see: the member, their language, the clock, the services."""

    member: MemberView
    t: Translator
    now: datetime
    data: Mapping[str, Any]
    services: Services
    account_id: int = 0  # the account this step came from (0: none, e.g. in tests)
    # The name the channel gives the member; stored only once they agree to the privacy text.
    account_name: str = ""
    privacy_url: str | None = None  # the operator's privacy notice (WERKBANK_PRIVACY_URL)

    def _(self, message: str) -> str:
        return self.t._(message)


@dataclass(frozen=True)
class Target:
    """The address of a screen: flow, state and the data it opens with.

    Dialogs, notices and deep links all name screens this way; the dialog state keeps
    one as a list (`as_list`), since it is stored as JSON."""

    flow: str
    state: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_list(self) -> list[Any]:
        return [self.flow, str(self.state), dict(self.data)]

    @classmethod
    def from_list(cls, value: Any) -> Target | None:
        """A stored target back; None for anything that is not one (an older shape)."""
        if (
            isinstance(value, list | tuple)
            and len(value) == 3
            and isinstance(value[0], str)
            and isinstance(value[1], str)
            and isinstance(value[2], dict)
        ):
            return cls(value[0], value[1], value[2])
        return None


@dataclass(frozen=True)
class Go:
    """Move to `to`; `say` comes before the new screen. `to.data` is merged into the state
    data (a value of None removes the key). `remember=False` keeps the step out of "Zurück"
    (we return to a screen seen before)."""

    to: Target
    say: tuple[OutMessage, ...] = ()
    remember: bool = True


@dataclass(frozen=True)
class Stay:
    """Stay where we are: say something, then show the current screen again."""

    say: tuple[OutMessage, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Erased:
    """The member's data is gone ("Alles löschen"): say this and save nothing, as there
    is no one left to save it for. Their next message is greeted as a new member's."""

    say: tuple[OutMessage, ...] = ()


Step = Go | Stay | Erased


class Input(enum.Enum):
    """What a screen takes besides its buttons."""

    NOTHING = "nothing"  # buttons only: typed text gets a hint and the screen again
    TEXT = "text"  # free text
    PLACE = "place"  # a postcode or town typed, or a shared location
    # A value with its unit ("30 km", "12 Plätze"); a bare number still picks an option.
    NUMBER = "number"


Render = Callable[[Context], Awaitable[Screenful]]
Answer = Callable[[Context, Incoming], Awaitable[Step]]


@dataclass(frozen=True)
class On:
    """One button action bound to its handler; the handler gets the typed value."""

    action: Action | ValueAction[Any]
    handler: Callable[..., Awaitable[Step]]

    def matches(self, payload: str) -> bool:
        return self.action.matches(payload)

    async def run(self, ctx: Context, payload: str) -> Step:
        if isinstance(self.action, ValueAction):
            return await self.handler(ctx, self.action.parse(payload))
        return await self.handler(ctx)


@overload
def on(action: Action, handler: Callable[[Context], Awaitable[Step]]) -> On: ...
@overload
def on(action: ValueAction[T], handler: Callable[[Context, T], Awaitable[Step]]) -> On: ...
def on(action: Action | ValueAction[Any], handler: Callable[..., Awaitable[Step]]) -> On:
    return On(action, handler)


@dataclass(frozen=True)
class Screen:
    """One state of a dialog: its render function, its buttons, what typed input it takes.

    `answer` handles typed text (and, with `location`, a shared location); with `unit`
    (a number in words: 3 → "3 km") the screen takes a number with its unit, and the
    runner's hint for a bare number that is no option shows how to type one."""

    render: Render
    buttons: tuple[On, ...] = ()
    answer: Answer | None = None
    unit: Callable[[Translator, int], str] | None = None
    location: bool = False

    @property
    def accepts(self) -> Input:
        if self.answer is None:
            return Input.NOTHING
        if self.location:
            return Input.PLACE
        return Input.NUMBER if self.unit else Input.TEXT


class Dialog:
    """A flow: its states (an enum) and one `Screen` per state, built by `table()`."""

    name: ClassVar[str]
    states: ClassVar[type[enum.StrEnum]]

    def __init__(self) -> None:
        table = self.table()
        missing = [str(s) for s in self.states if s not in table]
        strangers = [str(s) for s in table if not isinstance(s, self.states)]
        if missing or strangers:
            # At import time, not when a member reaches the screen.
            raise UnknownState(f"{self.name}: no screen for {missing}; not states: {strangers}")
        self.screens: Mapping[str, Screen] = {str(s): screen for s, screen in table.items()}

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        raise NotImplementedError

    def everywhere(self) -> tuple[On, ...]:
        """Button actions every screen of this dialog handles (after its own)."""
        return ()

    def standing(self, payload: str) -> Target | None:
        """The screen a button press belongs to when the button still works after the
        member moved on (a check-in's, further up the chat): there it is handled as
        if just offered. None: the button works on its own screen only."""
        return None

    def screen(self, state: str) -> Screen:
        try:
            return self.screens[state]
        except KeyError:
            raise UnknownState(f"{self.name} has no state {state!r}") from None

    def accepts(self, state: str) -> Input:
        return self.screen(state).accepts

    def pending(self, ctx: Context, state: str) -> Target | None:
        """Where to confirm leaving `state`, if leaving now would throw away several answers."""
        return None

    async def show(self, ctx: Context, state: str) -> Screenful:
        return await self.screen(state).render(ctx)

    async def handle(self, ctx: Context, state: str, msg: Incoming) -> Step:
        """React to a button (by the table) or typed input (the screen's `answer`)."""
        screen = self.screen(state)
        if not msg.payload:
            return await screen.answer(ctx, msg) if screen.answer else Stay()
        for binding in (*screen.buttons, *self.everywhere()):
            if binding.matches(msg.payload):
                try:
                    return await binding.run(ctx, msg.payload)
                except BadPayload:
                    break
        else:
            # Offered, yet no entry takes it: a screen from before an update.
            log.warning("%s.%s: no action for payload %r", self.name, state, msg.payload)
        hint = ctx._("That button is no longer current. Please choose again.")
        return Stay(say=(OutMessage(hint),))

    def go(
        self,
        state: enum.StrEnum,
        data: Mapping[str, Any] | None = None,
        say: Said = (),
        remember: bool = True,
    ) -> Go:
        """To another screen of this dialog."""
        return Go(Target(self.name, state, data or {}), say, remember)


def nav_row(ctx: Context, back: bool = True) -> ButtonRow:
    """The "Zurück · Menü" row that ends most screens."""
    row = [Button(ctx._("Back"), BACK.payload)] if back else []
    row.append(Button(ctx._("Menu"), MENU.payload))
    return tuple(row)


def say(text: str, *rows: ButtonRow) -> OutMessage:
    return OutMessage(text=text, buttons=tuple(r for r in rows if r))


def note(text: str) -> tuple[OutMessage, ...]:
    """A short line said before the next screen."""
    return (OutMessage(text),)


def too_long(ctx: Context, text: str, limit: int) -> Stay | None:
    """Ask for a shorter text rather than cut it silently (nothing typed is lost unseen)."""
    if len(text) <= limit:
        return None
    hint = ctx._(
        "That is {length} characters; at most {limit} fit here. "
        "Please shorten it and send it again."
    ).format(length=ctx.t.number(len(text)), limit=ctx.t.number(limit))
    return Stay(say=(OutMessage(hint),))
