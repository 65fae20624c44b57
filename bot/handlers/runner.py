"""Channel-agnostic: load dialog state → run the dialog step → save → render.

The runner owns everything that is the same on every screen: "Menü", "Zurück",
"Hilfe", commands, numbered options, stale buttons, voice notes and other input
no dialog asked for, and the apology when a dialog fails. Dialogs only see
input meant for them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.dialogs.base import (
    AFTER_ONBOARDING,
    BACK,
    HELP,
    MENU,
    NAV_PAYLOADS,
    Context,
    Dialog,
    Stay,
)
from bot.dialogs.notices import notice_screen
from bot.dialogs.registry import FLOWS, HOME, START, first_screen
from bot.i18n import Translator, translator
from bot.messages import AccountRef, Button, Incoming, Kind, OutMessage, numbered_options
from bot.services.contracts import MemberService, MemberView, NoticeView, Services
from bot.services.conversations import Conversation, Conversations

log = logging.getLogger(__name__)

HISTORY_LIMIT = 15
# Longer text is cut before a dialog sees it: the most one Telegram message holds.
# Dialogs set their own, lower limits and ask for a shorter text beyond them.
MAX_TEXT = 4096

_WORDS = {
    MENU: {"menü", "menue", "menu", "hauptmenü", "start"},
    BACK: {"zurück", "zurueck", "back"},
    HELP: {"hilfe", "help", "?"},
    # Plain words too: Element takes an unknown "/id" for a client command.
    "whoami": {"kennung", "meine kennung", "my id", "my account"},
}
_COMMANDS = {
    "/start": "start",
    "/menu": MENU,
    "/menue": MENU,
    "/menü": MENU,
    "/back": BACK,
    "/zurueck": BACK,
    "/help": HELP,
    "/hilfe": HELP,
    "/settings": "settings",
    "/einstellungen": "settings",
    "/anmeldungen": "registrations",
    "/signups": "registrations",
    "/veranstalten": "new_event",
    "/new_event": "new_event",
    "/id": "whoami",
    "/kennung": "whoami",
}
# Commands that open a screen from anywhere (the dialog checks who may see it).
_COMMAND_SCREENS = {
    "registrations": ("registrations", "list"),
    "new_event": ("organiser", "format"),
}
_EMOJI_OR_MARKS = re.compile(r"[^\w\s/?-]", re.UNICODE)
# ASCII digits only: "²" is a digit to str.isdigit() but not to int().
_OPTION_NUMBER = re.compile(r"[0-9]{1,2}")


def _plain(text: str) -> str:
    """Lowercase, no emoji or punctuation: how labels and typed words are compared."""
    return " ".join(_EMOJI_OR_MARKS.sub(" ", text).lower().split())


def _joined(messages: list[OutMessage], said: int) -> list[OutMessage]:
    """A notice and the screen it opens as one message where both are plain text: one
    push on the member's phone instead of two, and half the sends for a reminder run."""
    if said != 1 or len(messages) < 2:
        return messages
    notice, screen = messages[0], messages[1]
    if notice.buttons or notice.venue or notice.attachment or notice.location_button:
        return messages
    if screen.venue or screen.attachment:
        return messages
    return [replace(screen, text=f"{notice.text}\n\n{screen.text}"), *messages[2:]]


def _contains_words(label: str, typed: str) -> bool:
    """Whether `typed` (at least 4 letters) is a run of whole words of `label`."""
    return len(typed) >= 4 and f" {typed} " in f" {label} "


class Runner:
    def __init__(
        self,
        conversations: Conversations,
        services: Services,
        timezone: str = "Europe/Berlin",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        flows: Mapping[str, Dialog] = FLOWS,
    ) -> None:
        self.conversations = conversations
        self.services = services
        self.timezone = timezone
        self.clock = clock
        self.flows = flows
        # One member's message and a notice for them must not run side by side: both
        # read, change and save the same dialog state. A lock per account, kept only
        # while someone holds or waits for it.
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def _lock(self, account: AccountRef) -> asyncio.Lock:
        key = (account.channel, account.external_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    # -- entry points ------------------------------------------------------
    async def handle(self, msg: Incoming) -> list[OutMessage]:
        """Everything the bot answers to one incoming message."""
        async with self._lock(msg.account), self.conversations.step():
            return await self._handle(msg)

    async def _handle(self, msg: Incoming) -> list[OutMessage]:
        conv = await self.conversations.open_update(msg.account, msg.update_id)
        if conv is None:
            return []  # a redelivered update: it was answered already
        try:
            return await self._step(conv, msg)
        except Exception:
            log.exception(
                "dialog step failed: channel=%s account=%s flow=%s state=%s kind=%s",
                msg.account.channel,
                conv.account_id,
                conv.flow,
                conv.state,
                msg.kind,
            )
            return await self._apologise(conv)

    async def resume(self, account: AccountRef) -> list[OutMessage]:
        """The current screen, e.g. when a console chat is opened again."""
        async with self._lock(account):
            conv = await self.conversations.open(account)
            flow, state = self._position(conv)
            return await self._enter(conv, flow, state, conv.data, (), push=None)

    async def notice(self, account: AccountRef, notice: NoticeView) -> list[OutMessage]:
        """A notice for the member behind `account` (a reminder, a seat come free, …).

        One that offers an action opens its screen, as if the member had gone there,
        so buttons, numbers and words work; "Zurück" returns to where they were."""
        async with self._lock(account), self.conversations.step():
            return await self._notice(account, notice)

    async def _notice(self, account: AccountRef, notice: NoticeView) -> list[OutMessage]:
        conv = await self.conversations.open(account)
        t = translator(conv.member.locale, self.timezone)
        say, target = notice_screen(self._context(conv.member, t, conv.data), notice)
        if target is None or target[0] not in self.flows:
            return list(say)
        flow, state = self._position(conv)
        came_from = (flow, state, conv.data) if conv.flow is not None else None
        data = {**target[2], "_history": list(conv.data.get("_history", []))}
        messages = await self._enter(conv, target[0], target[1], data, say, push=came_from)
        return _joined(messages, len(say))

    async def sorry(self, account: AccountRef) -> list[OutMessage]:
        """An apology and the menu, for a channel whose own machinery failed."""
        return await self._apologise(await self.conversations.open(account))

    # -- the step ----------------------------------------------------------
    def _position(self, conv: Conversation) -> tuple[str, str]:
        if conv.flow is not None and conv.flow in self.flows and conv.state:
            return conv.flow, conv.state
        return first_screen(conv.member)

    async def _step(self, conv: Conversation, msg: Incoming) -> list[OutMessage]:
        flow, state = self._position(conv)
        link = deep_link(msg)
        if conv.flow is None or (link and not conv.member.onboarded):
            # The very first message, whatever it says, gets the greeting (or the menu);
            # a poster's link is kept and opened right after a short onboarding.
            data = {AFTER_ONBOARDING: link} if link else {}
            return await self._enter(
                conv, *first_screen(conv.member), data, (), push=None, reset=True
            )
        if link:
            flow, state, link_data = link
            return await self._enter(conv, flow, state, link_data, (), push=None, reset=True)
        t = translator(conv.member.locale, self.timezone)
        data = dict(conv.data)
        offered = [Button(label, payload) for label, payload in data.get("_offered", [])]
        dialog = self.flows[flow]

        if msg.kind in (Kind.VOICE, Kind.FILE, Kind.OTHER):
            hint = t._(
                "I understand text and buttons only. Please type your answer or tap a button."
            )
            return await self._enter(conv, flow, state, data, (OutMessage(hint),), push=None)

        action, msg = self._classify(
            msg,
            offered,
            numbers_are_options=state not in dialog.number_states,
            words_are_answers=state in dialog.text_states,
        )
        if action in ("start", MENU):
            return await self._go_home(conv, flow, state, data, ())
        if action in _COMMAND_SCREENS:
            target_flow, target_state = _COMMAND_SCREENS[action]
            if not conv.member.onboarded:
                return await self._go_home(conv, flow, state, data, ())
            fresh: dict[str, Any] = {"draft": {}, "event_id": None, "registration_id": None}
            return await self._enter(
                conv, target_flow, target_state, _merge(data, fresh), (), push=(flow, state, data)
            )
        if action in ("settings", HELP):
            target = ("settings", "main") if action == "settings" else ("help", "main")
            came_from = None if (flow, state) == target else (flow, state, data)
            return await self._enter(conv, *target, data, (), push=came_from)
        if action == BACK:
            return await self._back(conv, flow, state, data)
        if action == "whoami":
            # What the operator needs for `werkbank admin grant organiser …`.
            account = f"{msg.account.channel}:{msg.account.external_id}"
            text = t._("Your Werkbank account: {account}").format(account=account)
            if not conv.member.is_organiser:
                text += "\n" + t._(
                    "To organise events, send this to whoever runs Werkbank for you."
                )
            return await self._enter(conv, flow, state, data, (OutMessage(text),), push=None)
        if action == "unknown_command":
            hint = t._("I don't know that command. Here is the menu.")
            return await self._go_home(conv, flow, state, data, (OutMessage(hint),))
        if action == "stale":
            hint = t._("That button is no longer current. Here is the menu.")
            return await self._go_home(conv, flow, state, data, (OutMessage(hint),))

        if msg.kind == Kind.TEXT and state not in dialog.text_states:
            return await self._enter(
                conv,
                flow,
                state,
                data,
                (OutMessage(self._not_an_option(t, msg.text, offered)),),
                push=None,
            )
        if msg.kind == Kind.LOCATION and state not in dialog.text_states:
            hint = t._("Thanks, but I don't need a location right now.")
            return await self._enter(conv, flow, state, data, (OutMessage(hint),), push=None)

        members = _TrackedMembers(self.services.members)
        tracked = replace(self.services, members=members)  # type: ignore[arg-type]
        ctx = self._context(conv.member, t, data, tracked)
        step = await dialog.handle(ctx, state, msg)
        if isinstance(step, Stay):
            return await self._enter(
                conv,
                flow,
                state,
                _merge(data, step.data),
                step.say,
                push=None,
                reload_member=members.changed,
            )
        return await self._enter(
            conv,
            step.flow,
            step.state,
            _merge(data, step.data),
            step.say,
            push=(flow, state, data) if step.remember else None,
            prune=not step.remember,
            reload_member=members.changed,
        )

    async def _go_home(
        self,
        conv: Conversation,
        flow: str,
        state: str,
        data: dict[str, Any],
        say: tuple[OutMessage, ...],
    ) -> list[OutMessage]:
        """The main menu; for someone not yet onboarded, the onboarding question they are at."""
        if conv.member.onboarded:
            return await self._enter(conv, *HOME, {}, say, push=None, reset=True)
        if flow == START[0]:
            return await self._enter(conv, flow, state, data, say, push=None)
        # Left onboarding for help or settings: return to the last onboarding question.
        history = list(data.get("_history", []))
        while history:
            back_flow, back_state, snapshot = history.pop()
            if back_flow == START[0]:
                restored = {**snapshot, "_history": history}
                return await self._enter(conv, back_flow, back_state, restored, say, push=None)
        return await self._enter(conv, *START, {}, say, push=None, reset=True)

    def _classify(
        self,
        msg: Incoming,
        offered: list[Button],
        numbers_are_options: bool = True,
        words_are_answers: bool = False,
    ) -> tuple[str | None, Incoming]:
        """Turn typed numbers and labels into button presses; spot navigation and commands."""
        if msg.kind == Kind.BUTTON:
            if msg.payload in NAV_PAYLOADS:
                return msg.payload, msg
            if msg.payload not in {b.payload for b in offered}:
                return "stale", msg
            return None, msg
        if msg.kind == Kind.COMMAND or (msg.kind == Kind.TEXT and msg.text.strip().startswith("/")):
            word = msg.text.strip().split()[0].split("@")[0].lower() if msg.text.strip() else ""
            return _COMMANDS.get(word, "unknown_command"), msg
        if msg.kind != Kind.TEXT:
            return None, msg
        text = msg.text[:MAX_TEXT]
        plain = _plain(text)
        if (
            numbers_are_options
            and _OPTION_NUMBER.fullmatch(plain)
            and 1 <= int(plain) <= len(offered)
        ):
            return self._press(msg, offered[int(plain) - 1])
        for button in offered:
            if plain and plain == _plain(button.label):
                return self._press(msg, button)
        for word, words in _WORDS.items():
            if plain in words:
                return word, msg
        if not words_are_answers:
            # "warteliste" for "Auf die Warteliste", "abmelden" for "Ja, abmelden": words
            # that are part of exactly one button's label press it. Not where typed text
            # is an answer: a town typed into a search must not pick a listed place.
            partly = [b for b in offered if _contains_words(_plain(b.label), plain)]
            if len(partly) == 1:
                return self._press(msg, partly[0])
        return None, replace(msg, text=text.strip())

    def _press(self, msg: Incoming, button: Button) -> tuple[str | None, Incoming]:
        pressed = replace(msg, kind=Kind.BUTTON, payload=button.payload, text="")
        return (button.payload if button.payload in NAV_PAYLOADS else None), pressed

    @staticmethod
    def _not_an_option(t: Translator, text: str, offered: list[Button]) -> str:
        plain = _plain(text)
        if offered and re.fullmatch(r"[0-9]{1,3}", plain):
            return t._("There is no number {number} here. Please choose 1 to {count}.").format(
                number=plain, count=len(offered)
            )
        if offered:
            return t._("Sorry, I didn't understand that. Please tap a button or type its number.")
        return t._("Sorry, I didn't understand that.")

    # -- moving between screens -------------------------------------------
    async def _enter(
        self,
        conv: Conversation,
        flow: str,
        state: str,
        data: dict[str, Any],
        say: tuple[OutMessage, ...],
        push: tuple[str, str, dict[str, Any]] | None,
        reset: bool = False,
        reload_member: bool = False,
        prune: bool = False,
    ) -> list[OutMessage]:
        """Show `flow`/`state`. `push` is the screen we come from, for "Zurück"; `prune`
        means we return to a screen seen before, so "Zurück" must not lead to it again."""
        member = await self.conversations.member(conv.member.id) if reload_member else conv.member
        conv.member = member
        history: list[Any] = (
            [] if reset or (flow, state) == HOME else list(data.get("_history", []))
        )
        if prune:
            for index in range(len(history) - 1, -1, -1):
                if (history[index][0], history[index][1]) == (flow, state):
                    del history[index:]
                    break
        if push is not None:
            came_from, came_state, came_data = push
            snapshot = {k: v for k, v in came_data.items() if not k.startswith("_")}
            history.append([came_from, came_state, snapshot])
            del history[:-HISTORY_LIMIT]
        data = {**data, "_history": history}
        t = translator(member.locale, self.timezone)
        screen = await self.flows[flow].show(self._context(member, t, data), state)
        await self._save(conv, flow, state, data, list(screen))
        return [*say, *screen]

    async def _back(
        self, conv: Conversation, flow: str, state: str, data: dict[str, Any]
    ) -> list[OutMessage]:
        history = list(data.get("_history", []))
        if not history or history[-1][0] not in self.flows:
            return await self._go_home(conv, flow, state, data, ())
        back_flow, back_state, snapshot = history.pop()
        restored = {**snapshot, "_history": history}
        return await self._enter(conv, back_flow, back_state, restored, (), push=None)

    async def _apologise(self, conv: Conversation) -> list[OutMessage]:
        member = await self.conversations.member(conv.member.id)
        conv.member = member
        t = translator(member.locale, self.timezone)
        sorry = OutMessage(t._("Sorry, something went wrong on my side. Here is the menu."))
        try:
            return await self._enter(conv, *HOME, {}, (sorry,), push=None, reset=True)
        except Exception:
            log.exception("could not show the menu after an error: account=%s", conv.account_id)
            return [sorry]

    async def _save(
        self,
        conv: Conversation,
        flow: str,
        state: str,
        data: dict[str, Any],
        shown: list[OutMessage] | None,
    ) -> None:
        # Remember the options on screen: typed numbers and labels map to them, and a
        # button press for anything else is stale or forged.
        if shown is not None:
            data["_offered"] = [[b.label, b.payload] for b in numbered_options(shown)]
        await self.conversations.save(conv.account_id, flow, state, data)
        conv.flow, conv.state, conv.data = flow, state, data

    def _context(
        self,
        member: MemberView,
        t: Translator,
        data: Mapping[str, Any],
        services: Services | None = None,
    ) -> Context:
        return Context(
            member=member, t=t, now=self.clock(), data=data, services=services or self.services
        )


class _TrackedMembers:
    """The member service, noting whether a dialog changed the member during a step:
    only then does the runner read the member again (saves a query per message)."""

    def __init__(self, inner: MemberService) -> None:
        self._inner = inner
        self.changed = False

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self._inner, name)

        async def changing(*args: Any, **kwargs: Any) -> Any:
            self.changed = True
            return await method(*args, **kwargs)

        return changing


_DEEP_LINK = re.compile(r"/start(?:@\w+)?\s+(ev|pl)_([0-9]{1,12})\s*$", re.IGNORECASE)


def deep_link(msg: Incoming) -> list[Any] | None:
    """`/start ev_12` (an event) or `/start pl_7` (a place), as posters and flyers link them."""
    if msg.kind not in (Kind.COMMAND, Kind.TEXT):
        return None
    match = _DEEP_LINK.match(msg.text.strip())
    if match is None:
        return None
    if match[1].lower() == "ev":
        return ["events", "detail", {"event_id": int(match[2])}]
    return ["places", "detail", {"place_id": int(match[2])}]


def _merge(data: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(data)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
