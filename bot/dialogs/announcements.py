"""What members see of organisers' announcements, and their way out.

An announcement comes with at most one button of the organiser's ("Anmelden" for an
event, "Ich auch" for a topic) and always "Keine Ankündigungen mehr": from this
organiser or from anyone, with a one-tap undo. The buttons carry their subject, so on
Telegram they still work once the member has moved on (`Announcements.standing`); on
channels that number buttons the announcement opens its screen like other notices.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeGuard

from bot.codes import AnnouncementButton, known_code
from bot.dialogs.actions import INDEX, POSITIVE, Action, ValueAction
from bot.dialogs.base import (
    ButtonRow,
    Context,
    Dialog,
    Go,
    Screen,
    Screenful,
    Step,
    Target,
    nav_row,
    note,
    on,
    say,
)
from bot.dialogs.events import start_sign_up
from bot.i18n import Translator
from bot.messages import Button, OutMessage
from bot.services.contracts import AnnouncementService, NoticeView

SIGN_UP = ValueAction("ann_signup", POSITIVE)  # an event's id
ME_TOO = ValueAction("ann_metoo", POSITIVE)  # a topic's id
STOP = ValueAction("ann_stop", INDEX)  # the organiser's id (0: unknown, only "from anyone")
STOP_ONE = Action("ann_stop_one")
STOP_ALL = Action("ann_stop_all")
UNDO = ValueAction("ann_undo", INDEX)  # the organiser's id; 0: the stop for everyone
_STANDING = (SIGN_UP, ME_TOO, STOP, UNDO)


class State(enum.StrEnum):
    RECEIVED = "received"
    STOP = "stop"
    STOPPED = "stopped"


def announcement_message(t: Translator, params: Mapping[str, Any]) -> OutMessage:
    """An announcement as members get it (and as its organiser previews it)."""
    organiser = str(params.get("organiser") or "")
    head = "📣 " + (
        t._("Announcement from {name}:").format(name=organiser)
        if organiser
        else t._("Announcement:")
    )
    text = f"{head}\n\n{params.get('text', '')}"
    rows: list[ButtonRow] = []
    button = known_code(AnnouncementButton, params.get("button"))
    title = str(params.get("button_title") or "")
    event_id, topic_id = params.get("button_event_id"), params.get("button_topic_id")
    if button == AnnouncementButton.SIGN_UP and isinstance(event_id, int):
        if title:
            text += "\n\n" + t._("Event: “{title}”").format(title=title)
        rows.append((Button(t._("Sign up"), SIGN_UP(event_id)),))
    elif button == AnnouncementButton.ME_TOO and isinstance(topic_id, int):
        if title:
            text += "\n\n" + t._("Topic: “{title}”").format(title=title)
        rows.append((Button(t._("Me too"), ME_TOO(topic_id)),))
    organiser_id = params.get("organiser_id")
    rows.append(
        (Button(t._("No more announcements"), STOP(organiser_id if _is_id(organiser_id) else 0)),)
    )
    return OutMessage(text, buttons=tuple(rows))


def announcement_words(ctx: Context, n: NoticeView) -> tuple[tuple[OutMessage, ...], Target | None]:
    """The notice opens the announcement's screen, whose buttons are its own."""
    params = {**n.params, "button_title": n.title}
    return (), Target("announcement", State.RECEIVED, {"announcement": params})


def _is_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class Announcements(Dialog):
    name = "announcement"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        standing = (
            on(SIGN_UP, self._sign_up),
            on(ME_TOO, self._me_too),
            on(STOP, self._stop),
            on(UNDO, self._undo),
        )
        return {
            State.RECEIVED: Screen(self._received, standing),
            State.STOP: Screen(
                self._ask_stop, (on(STOP_ONE, self._stop_one), on(STOP_ALL, self._stop_all))
            ),
            State.STOPPED: Screen(self._stopped, (on(UNDO, self._undo),)),
        }

    def standing(self, payload: str) -> Target | None:
        if any(action.matches(payload) for action in _STANDING):
            return Target(self.name, State.RECEIVED, {"announcement": {}})
        return None

    async def _received(self, ctx: Context) -> Screenful:
        params = ctx.data.get("announcement")
        message = announcement_message(ctx.t, params if isinstance(params, dict) else {})
        return (say(message.text, *message.buttons, nav_row(ctx, back=False)),)

    async def _sign_up(self, ctx: Context, event_id: int) -> Step:
        return await start_sign_up(ctx, event_id)

    async def _me_too(self, ctx: Context, topic_id: int) -> Step:
        return Go(Target("topics", "detail", {"topic_id": topic_id, "offset": 0}))

    async def _stop(self, ctx: Context, organiser_id: int) -> Step:
        if organiser_id == 0:
            return await self._stop_all(ctx)
        return self.go(State.STOP, {"organiser_id": organiser_id})

    async def _ask_stop(self, ctx: Context) -> Screenful:
        name = await self._organiser(ctx)
        rows = [(Button(ctx._("Only from {name}").format(name=name), STOP_ONE.payload),)]
        rows.append((Button(ctx._("From nobody"), STOP_ALL.payload),))
        return (say(ctx._("No more announcements: from whom?"), *rows, nav_row(ctx)),)

    async def _stop_one(self, ctx: Context) -> Step:
        organiser_id = ctx.data.get("organiser_id")
        if not _is_id(organiser_id):
            return await self._stop_all(ctx)
        await announcement_service(ctx).opt_out(ctx.member.id, organiser_id)
        return self.go(State.STOPPED, {"organiser_id": organiser_id}, remember=False)

    async def _stop_all(self, ctx: Context) -> Step:
        await announcement_service(ctx).opt_out(ctx.member.id, None)
        return self.go(State.STOPPED, {"organiser_id": 0}, remember=False)

    async def _stopped(self, ctx: Context) -> Screenful:
        organiser_id = ctx.data.get("organiser_id")
        if _is_id(organiser_id):
            name = await self._organiser(ctx)
            text = ctx._("Done: you will get no more announcements from {name}.").format(name=name)
        else:
            organiser_id = 0
            text = ctx._("Done: you will get no more announcements.")
            text += "\n" + ctx._("Region news can be switched on again in the settings.")
        undo = (Button(ctx._("Undo"), UNDO(organiser_id)),)
        return (say(text, undo, nav_row(ctx, back=False)),)

    async def _undo(self, ctx: Context, organiser_id: int) -> Step:
        await announcement_service(ctx).opt_in(ctx.member.id, organiser_id or None)
        text = ctx._("Undone: you will get announcements again.")
        return Go(Target("menu", "main"), note(text), remember=False)

    async def _organiser(self, ctx: Context) -> str:
        organiser_id = ctx.data.get("organiser_id")
        if not _is_id(organiser_id):
            return ""
        name = await announcement_service(ctx).organiser_name(organiser_id)
        return name or ctx._("this organiser")


def announcement_service(ctx: Context) -> AnnouncementService:
    """The announcements service (absent only from the dialog tests' fake world)."""
    service = ctx.services.announcements
    if service is None:
        raise RuntimeError("announcements are not wired into these services")
    return service
