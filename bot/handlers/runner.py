"""Channel-agnostic: load dialog state → run the dialog step → save → render.

The runner owns everything that is the same on every screen: "Menü", "Zurück",
"Hilfe", commands, numbered options, stale buttons, voice notes and other input
no dialog asked for, and the apology when a dialog fails. `bot.handlers.intents`
says what a message means; the runner dispatches on that, and dialogs only see
input meant for them.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
import weakref
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bot.codes import PRIVACY_VERSION, Channel, NoticeKind, known_code
from bot.dialogs.announce import progress_words
from bot.dialogs.announcements import announcement_message
from bot.dialogs.base import AFTER_ONBOARDING, Context, Dialog, Erased, Go, Said, Target
from bot.dialogs.guess import GUESSES, target
from bot.dialogs.menu import busy_reply
from bot.dialogs.notices import notice_screen
from bot.dialogs.registry import CONSENT, FLOWS, HOME, START, current, first_screen
from bot.handlers.intents import (
    Answer,
    Command,
    Guessed,
    Intent,
    Nav,
    Navigate,
    Refusal,
    Refuse,
    classify,
)
from bot.i18n import Translator, translator
from bot.messages import (
    AccountRef,
    Button,
    Incoming,
    Kind,
    OutMessage,
    cleaned,
    numbered_options,
)
from bot.services.contracts import MemberService, NoticeView, Progress, Services
from bot.services.conversations import Conversation, Conversations, StaleState
from bot.storage.engine import is_busy, lost_connection
from bot.understanding import Action

log = logging.getLogger(__name__)

HISTORY_LIMIT = 15
SETTINGS = Target("settings", "main")
_NOT_UNDERSTOOD = Refuse(Refusal.NOT_UNDERSTOOD)
HELP = Target("help", "main")
ERASE = Target("my_data", "erase")
# Whether the step running now was started by the member (a message, a tap, the chat
# opened again): only such a step counts as their last activity (retention). A notice,
# a report or an apology is the bot's doing.
_SEEN: ContextVar[bool] = ContextVar("seen", default=True)


class Trail(enum.Enum):
    """What entering a screen does to the "Zurück" history."""

    KEEP = "keep"
    RESET = "reset"  # a fresh start: the menu, a deep link
    RETURN = "return"  # back to a screen seen before: cut the history down to it


@dataclass
class _Here:
    """Where a step starts: the conversation, its screen, and what that screen offered."""

    conv: Conversation
    at: Target
    dialog: Dialog
    t: Translator

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.at.data)

    @property
    def offered(self) -> list[Button]:
        return [Button(label, payload) for label, payload in self.at.data.get("_offered", [])]


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


class Runner:
    def __init__(
        self,
        conversations: Conversations,
        services: Services,
        timezone: str = "Europe/Berlin",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        flows: Mapping[str, Dialog] = FLOWS,
        privacy_url: str | None = None,
    ) -> None:
        self.conversations = conversations
        self.privacy_url = privacy_url
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
        self._on: Mapping[type, Callable[[_Here, Any, Incoming], Awaitable[list[OutMessage]]]] = {
            Navigate: self._navigate,
            Command: self._command,
            Refuse: self._refuse,
            Answer: self._answer,
            Guessed: self._guessed,
        }

    def _lock(self, account: AccountRef) -> asyncio.Lock:
        key = (account.channel, account.external_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    # -- entry points ------------------------------------------------------
    async def handle(self, msg: Incoming) -> list[OutMessage]:
        """Everything the bot answers to one incoming message.

        One transaction claims the update, runs the step and saves where the member
        stands (`Conversations.step`): a crash leaves nothing, and the redelivered
        update is handled as if for the first time. A step that fails, or that lost a
        race with another step for the same member (another worker), is undone as a
        whole and answered in a transaction of its own."""
        msg = cleaned(msg)  # the channels clean at their edge; the console and tests too
        async with self._lock(msg.account):
            try:
                try:
                    return await self._in_step(msg, self._step)
                except Exception as exc:
                    if not lost_connection(exc):
                        raise
                    log.warning("database connection lost; running the step again")
                    return await self._in_step(msg, self._step)
            except StaleState:
                log.info(
                    "lost a race for account %s:%s", msg.account.channel, msg.account.external_id
                )
                return await self._in_step(msg, self._lost_race)
            except Exception as exc:
                if is_busy(exc):  # another writer held the lock: the step was undone, retry works
                    return [busy_reply(translator(msg.account.language or "", self.timezone))]
                log.exception(
                    "dialog step failed: channel=%s account=%s kind=%s",
                    msg.account.channel,
                    msg.account.external_id,
                    msg.kind,
                )
                return await self._in_step(msg, lambda conv, _: self._apologise(conv))

    async def _in_step(
        self, msg: Incoming, then: Callable[[Conversation, Incoming], Awaitable[list[OutMessage]]]
    ) -> list[OutMessage]:
        async with self.conversations.step():
            conv = await self.conversations.open_update(msg.account, msg.update_id)
            if conv is None:
                return []  # a redelivered update: it was answered already
            try:
                return await then(conv, msg)
            except Exception as exc:
                # Where the member stood, for the log of a step that failed.
                exc.add_note(f"account {conv.account_id}, flow {conv.flow}, state {conv.state}")
                raise

    async def _lost_race(self, conv: Conversation, msg: Incoming) -> list[OutMessage]:
        """Another step for this member won (a double tap on two workers): this one's
        button belongs to a screen that is gone, as any stale button does."""
        at = self._position(conv)
        here = _Here(conv, at, self.flows[at.flow], translator(conv.member.locale, self.timezone))
        return await self._stale(here)

    async def _retried(
        self, run: Callable[[], Awaitable[list[OutMessage]]], seen: bool = False
    ) -> list[OutMessage]:
        """A step the bot starts itself (a notice, a report, a resumed chat), in one
        transaction; once again if a member's own step saved the state meanwhile.
        `seen`: the member started it after all (opened the chat again)."""
        token = _SEEN.set(seen)
        try:
            try:
                async with self.conversations.step():
                    return await run()
            except StaleState:
                async with self.conversations.step():
                    return await run()
        finally:
            _SEEN.reset(token)

    async def resume(self, account: AccountRef) -> list[OutMessage]:
        """The current screen, e.g. when a console chat is opened again."""

        async def run() -> list[OutMessage]:
            conv = await self.conversations.open(account)
            return await self._enter(conv, self._position(conv))

        async with self._lock(account):
            return await self._retried(run, seen=True)

    async def notice(self, account: AccountRef, notice: NoticeView) -> list[OutMessage]:
        """A notice for the member behind `account` (a reminder, a seat come free, …).

        One that offers an action opens its screen, as if the member had gone there,
        so buttons, numbers and words work; "Zurück" returns to where they were."""
        if notice.kind == NoticeKind.ANNOUNCEMENT and not _numbered(account):
            # Its buttons carry their subject (`Dialog.standing`): no screen to open, so
            # no dialog state to read or write for each of thousands of recipients.
            t = translator(notice.locale, self.timezone)
            return [announcement_message(t, {**notice.params, "button_title": notice.title})]

        async def run() -> list[OutMessage]:
            conv = await self.conversations.open_existing(account)
            if conv is None:
                return []  # the member deleted everything meanwhile: nothing to tell
            t = translator(conv.member.locale, self.timezone)
            said, to = await notice_screen(self._context(conv, t, conv.data), notice)
            if to is None or to.flow not in self.flows:
                return list(said)
            came_from = self._position(conv) if conv.flow is not None else None
            history = list(conv.data.get("_history", []))
            to = Target(to.flow, to.state, {**to.data, "_history": history})
            return _joined(await self._enter(conv, to, said, came_from=came_from), len(said))

        async with self._lock(account):
            return await self._retried(run)

    async def report(
        self, account: AccountRef, progress: Progress, final: bool
    ) -> list[OutMessage]:
        """How far an announcement has got, for its organiser. Its buttons carry the
        announcement and work from any screen. Where buttons are numbered it opens the
        running screen (so "1" is "Anhalten"), but only from the menu or that screen:
        an organiser in the middle of something else is not taken away from it (they
        get the words alone)."""

        async def run() -> list[OutMessage]:
            conv = await self.conversations.open_existing(account)
            if conv is None:
                return []
            t = translator(conv.member.locale, self.timezone)
            said = progress_words(t, progress, final)
            if final or not _numbered(account):
                return [said]
            at = (conv.flow, conv.state)
            if at not in ((HOME.flow, HOME.state), ("announce", "running")):
                return [replace(said, buttons=())]
            history = list(conv.data.get("_history", []))
            came_from = self._position(conv) if conv.flow is not None else None
            to = Target("announce", "running", {"broadcast_id": progress.id, "_history": history})
            return await self._enter(conv, to, (), came_from=came_from)

        async with self._lock(account):
            return await self._retried(run)

    async def sorry(self, account: AccountRef) -> list[OutMessage]:
        """An apology and the menu, for a channel whose own machinery failed."""

        async def run() -> list[OutMessage]:
            return await self._apologise(await self.conversations.open(account))

        return await self._retried(run)

    # -- the step ----------------------------------------------------------
    def _position(self, conv: Conversation) -> Target:
        """The saved screen (under today's name for it), or where a member starts."""
        now = current(conv.flow, conv.state)
        if now is None:
            first = first_screen(conv.member)
            return Target(first.flow, first.state, conv.data)
        return Target(now[0], now[1], conv.data)

    async def _step(self, conv: Conversation, msg: Incoming) -> list[OutMessage]:
        link = deep_link(msg)
        unanswered = conv.flow is not None and _privacy_unanswered(conv)
        asked = unanswered and _same_screen(self._position(conv), CONSENT)
        if conv.flow is None or (link and not conv.member.onboarded and not asked):
            # The very first message, whatever it says, gets the greeting (or the menu);
            # a poster's link is kept and opened right after a short onboarding.
            data = {AFTER_ONBOARDING: link.as_list()} if link else {}
            first = first_screen(conv.member)
            return await self._enter(conv, Target(first.flow, first.state, data), trail=Trail.RESET)
        at = self._position(conv)
        if unanswered and not any(_same_screen(at, free) for free in (START, CONSENT, ERASE)):
            # Nobody stores anything before agreeing to the privacy text: members from
            # before it (or an older version of it) and those caught mid-onboarding read
            # it first; then they are back at the menu, or at the next question.
            return await self._enter(
                conv, _consent(at.data.get(AFTER_ONBOARDING)), trail=Trail.RESET
            )
        here = _Here(conv, at, self.flows[at.flow], translator(conv.member.locale, self.timezone))
        if link:
            if unanswered:
                return await self._consent_first(here, link)
            return await self._enter(conv, link, trail=Trail.RESET)
        accepts = here.dialog.accepts(at.state)
        intent: Intent = classify(
            msg, here.offered, accepts, msg.options_numbered, conv.member.locale
        )
        if unanswered and not _same_screen(at, START) and not _consent_answer(intent):
            return await self._consent_first(here)
        return await self._on[type(intent)](here, intent, msg)

    async def _consent_first(self, here: _Here, link: Target | None = None) -> list[OutMessage]:
        """The privacy text again, with a hint: on it (or on the question whether to
        delete everything that "I don't agree" leads to) only its answers go on. A
        poster's link is kept for after the onboarding, as on the first message."""
        kept = here.at.data.get(AFTER_ONBOARDING)
        if link is not None and not here.conv.member.onboarded:
            kept = link.as_list()
        hint = here.t._("Please tap “I agree” or “I don't agree” first.")
        return await self._enter(here.conv, _consent(kept), (OutMessage(hint),), trail=Trail.RESET)

    async def _navigate(self, here: _Here, intent: Navigate, msg: Incoming) -> list[OutMessage]:
        conv, nav = here.conv, intent.to
        if nav in (Nav.MENU, Nav.LEAVE):
            stopped = nav == Nav.LEAVE and conv.member.onboarded  # onboarding just goes on
            return await self._leave(
                here, (OutMessage(here.t._("Okay, stopped.")),) if stopped else ()
            )
        if nav == Nav.START:
            return await self._go_home(here, ())
        if nav == Nav.BACK:
            return await self._back(here)
        if nav == Nav.WHOAMI:
            return await self._stay(here, (OutMessage(self._whoami(here, msg.account)),))
        to = SETTINGS if nav == Nav.SETTINGS else HELP
        came_from = None if (here.at.flow, here.at.state) == (to.flow, to.state) else here.at
        return await self._enter(conv, self._keep_history(here, to), came_from=came_from)

    def _whoami(self, here: _Here, account: AccountRef) -> str:
        """What the operator needs for `werkbank admin grant organiser …`."""
        text = here.t._("Your Werkbank account: {account}").format(
            account=f"{account.channel}:{account.external_id}"
        )
        if not here.conv.member.is_organiser:
            text += "\n" + here.t._(
                "To organise events, send this to whoever runs Werkbank for you."
            )
        return text

    async def _command(self, here: _Here, intent: Command, msg: Incoming) -> list[OutMessage]:
        if not here.conv.member.onboarded:
            return await self._go_home(here, ())
        fresh: dict[str, Any] = {"draft": {}, "event_id": None, "registration_id": None}
        return await self._open(here, Target(intent.to.flow, intent.to.state, fresh))

    async def _guessed(self, here: _Here, intent: Guessed, msg: Incoming) -> list[OutMessage]:
        """A typed request: its screen, or "Meinst du …?" with the likely ones; a
        greeting greets back and asks the same again; thanks and goodbye end at the menu."""
        t, actions = here.t, intent.actions
        if actions == (Action.GREETING,):
            return await self._stay(here, (OutMessage(t._("Hello! Nice to hear from you.")),))
        if not here.conv.member.onboarded:
            # The first questions come first; a request is read once they are answered.
            return await self._stay(here, (OutMessage(self._hint(here, _NOT_UNDERSTOOD)),))
        if actions == (Action.THANKS,):
            return await self._leave(here, (OutMessage(t._("You're welcome!")),))
        if actions == (Action.BYE,):
            bye = t._("Goodbye! Just write whenever you need something.")
            return await self._leave(here, (OutMessage(bye),))
        if actions == (Action.MENU,):
            return await self._leave(here, ())
        if len(actions) == 1:
            return await self._open(here, target(actions[0]))
        return await self._open(
            here, Target("guess", "choose", {GUESSES: [a.value for a in actions]})
        )

    async def _open(self, here: _Here, to: Target) -> list[OutMessage]:
        """`to`, opened by a command or a typed request, with `to.data` (a fresh
        search, an empty draft) over the member's. Where several answers on screen
        would be lost, the dialog first asks whether to throw them away, as leaving
        does."""
        pending = self._pending(here)
        if pending is not None and not _same_screen(pending, here.at):
            return await self._enter(here.conv, pending, came_from=here.at)
        came_from = None if _same_screen(to, here.at) else here.at
        return await self._enter(here.conv, self._keep_history(here, to), came_from=came_from)

    async def _refuse(self, here: _Here, intent: Refuse, msg: Incoming) -> list[OutMessage]:
        t = here.t
        if intent.why == Refusal.STALE:
            standing = await self._standing(here, msg)
            if standing is not None:
                return standing
            return await self._stale(here)
        if intent.why == Refusal.UNKNOWN_COMMAND:
            return await self._to_menu(
                here,
                t._("I don't know that command. Here is the menu."),
                t._("I don't know that command."),
            )
        return await self._stay(here, (OutMessage(self._hint(here, intent)),))

    async def _standing(self, here: _Here, msg: Incoming) -> list[OutMessage] | None:
        """A button from further up the chat that still works (a check-in's answer):
        handled on the screen it belongs to, as if that were on screen now."""
        if self._pending(here) is not None:
            return None  # a draft of several answers on screen: its question comes first
        for dialog in self.flows.values():
            to = dialog.standing(msg.payload)
            if to is not None:
                # As a notice opens its screen: the member's state data (a draft the
                # button acts on) with the button's own on top, and "Zurück" leads back
                # to where the member was.
                snapshot = {k: v for k, v in here.data.items() if not k.startswith("_")}
                history = [
                    *here.data.get("_history", []),
                    [here.at.flow, str(here.at.state), snapshot],
                ]
                data = {
                    **snapshot,
                    **to.data,
                    "_history": history[-HISTORY_LIMIT:],
                    "_offered": [],
                }
                there = _Here(here.conv, Target(to.flow, to.state, data), dialog, here.t)
                return await self._answer(there, Answer(msg), msg)
        return None

    async def _to_menu(self, here: _Here, hint: str, hint_in_draft: str) -> list[OutMessage]:
        """The menu with `hint`; in a draft of several answers, which the menu would lose,
        the dialog's question whether to throw them away, with `hint_in_draft`."""
        pending = self._pending(here)
        if pending is None:
            return await self._go_home(here, (OutMessage(hint),))
        said = (OutMessage(hint_in_draft),)
        if _same_screen(pending, here.at):
            return await self._stay(here, said)
        return await self._enter(here.conv, pending, said, came_from=here.at)

    def _hint(self, here: _Here, intent: Refuse) -> str:
        t, count = here.t, len(here.offered)
        if intent.why == Refusal.NOT_TEXT:
            return t._(
                "I understand text and buttons only. Please type your answer or tap a button."
            )
        if intent.why == Refusal.NO_LOCATION:
            return t._("Thanks, but I don't need a location right now.")
        if intent.why == Refusal.NO_SUCH_OPTION:
            hint = t._("There is no number {number} here. Please choose 1 to {count}.").format(
                number=intent.typed, count=count
            )
            unit = here.dialog.screen(here.at.state).unit
            if unit is not None:
                value = unit(t, int(intent.typed))
                hint += "\n" + t._("Did you mean {value}? Then type “{value}”.").format(value=value)
            return hint
        if count:
            return t._("Sorry, I didn't understand that. Please tap a button or type its number.")
        return t._("Sorry, I didn't understand that.")

    async def _answer(self, here: _Here, intent: Answer, msg: Incoming) -> list[OutMessage]:
        conv = here.conv
        members = _TrackedMembers(self.services.members)
        tracked = replace(self.services, members=members)  # type: ignore[arg-type]
        ctx = replace(
            self._context(conv, here.t, here.data, tracked), account_name=msg.account.display_name
        )
        step = await here.dialog.handle(ctx, here.at.state, intent.msg)
        if isinstance(step, Erased):
            return list(step.say)  # nobody's state left to save
        if members.changed:
            conv.member = await self.conversations.member(conv.member.id)
        if not isinstance(step, Go):
            return await self._stay(here, step.say, step.data)
        to = Target(step.to.flow, step.to.state, _merge(here.data, step.to.data))
        if step.remember:
            return await self._enter(conv, to, step.say, came_from=here.at)
        return await self._enter(conv, to, step.say, trail=Trail.RETURN)

    async def _stay(
        self, here: _Here, said: Said, changes: Mapping[str, Any] | None = None
    ) -> list[OutMessage]:
        """Say something, then show the same screen again."""
        to = Target(here.at.flow, here.at.state, _merge(here.data, changes or {}))
        return await self._enter(here.conv, to, said)

    def _keep_history(self, here: _Here, to: Target) -> Target:
        """`to` with the member's data and history, for a screen that returns here."""
        return Target(to.flow, to.state, _merge(here.data, dict(to.data)))

    async def _leave(self, here: _Here, said: Said) -> list[OutMessage]:
        """To the menu after `said`; but where several answers would be lost, first to
        the dialog's question whether to throw them away (asked there: leave)."""
        pending = self._pending(here)
        if pending is None or _same_screen(pending, here.at):
            return await self._go_home(here, said)
        return await self._enter(here.conv, pending, came_from=here.at)

    def _pending(self, here: _Here) -> Target | None:
        ctx = self._context(here.conv, here.t, here.data)
        pending = here.dialog.pending(ctx, here.at.state)
        return None if pending is None else self._keep_history(here, pending)

    async def _go_home(self, here: _Here, said: Said) -> list[OutMessage]:
        """The main menu; for someone not yet onboarded, the onboarding question they are at."""
        conv = here.conv
        if conv.member.onboarded:
            return await self._enter(conv, HOME, said, trail=Trail.RESET)
        if here.at.flow == START.flow:
            return await self._enter(conv, here.at, said)
        # Left onboarding for help or settings: return to the last onboarding question.
        history = list(here.at.data.get("_history", []))
        while history:
            flow, state, snapshot = history.pop()
            if flow == START.flow:
                to = Target(flow, state, {**snapshot, "_history": history})
                return await self._enter(conv, to, said)
        return await self._enter(conv, START, said, trail=Trail.RESET)

    # -- moving between screens -------------------------------------------
    async def _enter(
        self,
        conv: Conversation,
        to: Target,
        said: Said = (),
        trail: Trail = Trail.KEEP,
        came_from: Target | None = None,
    ) -> list[OutMessage]:
        """Show `to` after `said`. `came_from` is the screen we leave, for "Zurück"."""
        data = dict(to.data)
        home = (to.flow, to.state) == (HOME.flow, HOME.state)
        history: list[Any] = [] if trail == Trail.RESET or home else list(data.get("_history", []))
        if trail == Trail.RETURN:
            for index in range(len(history) - 1, -1, -1):
                if (history[index][0], history[index][1]) == (to.flow, to.state):
                    del history[index:]
                    break
        if came_from is not None:
            snapshot = {k: v for k, v in came_from.data.items() if not k.startswith("_")}
            history.append([came_from.flow, str(came_from.state), snapshot])
            del history[:-HISTORY_LIMIT]
        data["_history"] = history
        t = translator(conv.member.locale, self.timezone)
        screen = await self.flows[to.flow].show(self._context(conv, t, data), to.state)
        # Remember the options on screen: typed numbers and labels map to them, and a
        # button press for anything else is stale or forged.
        data["_offered"] = [[b.label, b.payload] for b in numbered_options(screen)]
        await self.conversations.save(conv, to.flow, str(to.state), data, seen=_SEEN.get())
        conv.flow, conv.state, conv.data = to.flow, str(to.state), data
        return [*said, *screen]

    async def _back(self, here: _Here) -> list[OutMessage]:
        history = list(here.at.data.get("_history", []))
        while history:
            flow, state, snapshot = history.pop()
            now = current(flow, state)
            if now is not None:
                to = Target(now[0], now[1], {**snapshot, "_history": history})
                return await self._enter(here.conv, to)
        return await self._go_home(here, ())

    async def _stale(self, here: _Here) -> list[OutMessage]:
        return await self._to_menu(
            here,
            here.t._("That button is no longer current. Here is the menu."),
            here.t._("That button is no longer current. Please choose again."),
        )

    async def _apologise(self, conv: Conversation) -> list[OutMessage]:
        conv.member = await self.conversations.member(conv.member.id)
        t = translator(conv.member.locale, self.timezone)
        sorry = OutMessage(t._("Sorry, something went wrong on my side. Here is the menu."))
        try:
            return await self._enter(conv, HOME, (sorry,), trail=Trail.RESET)
        except Exception:
            log.exception("could not show the menu after an error: account=%s", conv.account_id)
            return [sorry]

    def _context(
        self,
        conv: Conversation,
        t: Translator,
        data: Mapping[str, Any],
        services: Services | None = None,
    ) -> Context:
        return Context(
            member=conv.member,
            t=t,
            now=self.clock(),
            data=data,
            services=services or self.services,
            account_id=conv.account_id,
            privacy_url=self.privacy_url,
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


def deep_link(msg: Incoming) -> Target | None:
    """`/start ev_12` (an event) or `/start pl_7` (a place), as posters and flyers link them."""
    if msg.kind not in (Kind.COMMAND, Kind.TEXT):
        return None
    match = _DEEP_LINK.match(msg.text.strip())
    if match is None:
        return None
    if match[1].lower() == "ev":
        return Target("events", "detail", {"event_id": int(match[2])})
    return Target("places", "detail", {"place_id": int(match[2])})


def _same_screen(one: Target, other: Target) -> bool:
    return (one.flow, str(one.state)) == (other.flow, str(other.state))


def _merge(data: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(data)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _consent(kept_link: Any) -> Target:
    """The privacy text, keeping a poster's link for after the onboarding."""
    return Target(CONSENT.flow, CONSENT.state, {AFTER_ONBOARDING: kept_link} if kept_link else {})


def _privacy_unanswered(conv: Conversation) -> bool:
    return conv.member.privacy_version != PRIVACY_VERSION


def _consent_answer(intent: Intent) -> bool:
    """What the privacy text's screen takes before it is answered: its own buttons (typed
    numbers and labels become them) and "Hilfe"."""
    return isinstance(intent, Answer) or intent == Navigate(Nav.HELP)


def _numbered(account: AccountRef) -> bool:
    channel = known_code(Channel, account.channel)
    return channel is None or channel.numbers_options
