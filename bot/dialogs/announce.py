""" "Ankündigung senden": an organiser's message to the right people, with a preview.

Audience → (event, topic or place) → text → optional button → preview with the exact
message and the count ("Geht an 137 Personen") → "Senden". The preview saves a draft
whose id the send button carries: a second tap on it finds the announcement under
way and changes nothing. While it goes out, the running screen (and the progress
messages the dispatcher sends, `progress_words`) offer "Anhalten", "Weiter" and
"Abbrechen"; those buttons carry the announcement, so they work from further up the
chat too.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any

from bot.codes import AnnouncementButton, AnnouncementStatus, Audience, EventPeople, Field
from bot.dialogs.actions import INDEX, POSITIVE, Action, ValueAction, code, with_id
from bot.dialogs.announcements import announcement_message, announcement_service
from bot.dialogs.base import (
    ButtonRow,
    Context,
    Dialog,
    Go,
    Screen,
    Screenful,
    Stay,
    Step,
    Target,
    nav_row,
    note,
    on,
    say,
    too_long,
)
from bot.dialogs.words import FIELD_WORDS
from bot.i18n import Translator
from bot.messages import Button, Incoming, OutMessage
from bot.services.contracts import (
    EMPTY_TEXT,
    MAX_ANNOUNCEMENT,
    NEARBY_KM,
    NOBODY,
    NOT_DRAFT,
    STALE_PREVIEW,
    TOO_LONG,
    WEEK_CAP,
    AnnouncementDraft,
    AnnouncementRefused,
    AudienceChoice,
    NotAllowed,
    Progress,
    int_or_none,
    visible,
)

AUDIENCE = ValueAction("aud", code(Audience))
EVENT = ValueAction("aud_ev", POSITIVE)
PEOPLE = ValueAction("aud_people", code(EventPeople))
TOPIC = ValueAction("aud_topic", POSITIVE)
PLACE = ValueAction("aud_place", POSITIVE)
KM = ValueAction("aud_km", POSITIVE)
FIELD = ValueAction("aud_field", code(Field))
ALL_FIELDS = Action("aud_all_fields")
BUTTON = ValueAction("ann_button", code(AnnouncementButton))
BUTTON_EVENT = ValueAction("ann_button_ev", POSITIVE)
BUTTON_TOPIC = ValueAction("ann_button_topic", POSITIVE)
SEND = ValueAction("ann_send", with_id(INDEX))  # the draft's id and revision
CHANGE_TEXT = Action("ann_change_text")
CHANGE_AUDIENCE = Action("ann_change_audience")
CHANGE_BUTTON = Action("ann_change_button")
# While it goes out; they carry the announcement, so they work from any progress message.
PAUSE = ValueAction("ann_pause", POSITIVE)
RESUME = ValueAction("ann_resume", POSITIVE)
CANCEL = ValueAction("ann_cancel", POSITIVE)
REFRESH = ValueAction("ann_refresh", POSITIVE)
_CONTROLS = (PAUSE, RESUME, CANCEL, REFRESH)
_KM = re.compile(r"(\d{1,3}(?:[.,]\d+)?)\s*(?:km|kilometer)?")


class State(enum.StrEnum):
    AUDIENCE = "audience"
    EVENT = "event"
    PEOPLE = "people"
    TOPIC = "topic"
    PLACE = "place"
    KM = "km"
    FIELD = "field"
    TEXT = "text"
    BUTTON = "button"
    BUTTON_EVENT = "button_event"
    BUTTON_TOPIC = "button_topic"
    PREVIEW = "preview"
    RUNNING = "running"


def progress_words(t: Translator, progress: Progress, final: bool) -> OutMessage:
    """Where an announcement stands, with the buttons that steer it."""
    n = t.number
    if final or progress.finished:
        head = (
            t._("Announcement stopped.")
            if progress.status == AnnouncementStatus.CANCELLED
            else t._("Announcement sent.")
        )
        lines = [head, t._("Sent: {n}").format(n=n(progress.sent))]
        if progress.blocked:
            lines.append(t._("Blocked the bot: {n}").format(n=n(progress.blocked)))
        if progress.failed:
            lines.append(t._("Failed: {n}").format(n=n(progress.failed)))
        if progress.skipped:
            lines.append(t._("No longer wanted or not sent: {n}").format(n=n(progress.skipped)))
        if progress.waiting:
            lines.append(t._("Waiting for the morning: {n}").format(n=n(progress.waiting)))
        return OutMessage("\n".join(lines))
    lines = [t._("{sent} of {total} sent").format(sent=n(progress.sent), total=n(progress.total))]
    if progress.status == AnnouncementStatus.PAUSED:
        lines.insert(0, t._("Paused."))
    if progress.waiting:
        lines.append(
            t._("{n} wait for the morning (quiet hours, or one piece of news a day).").format(
                n=n(progress.waiting)
            )
        )
    if progress.blocked or progress.failed:
        lines.append(
            t._("Blocked the bot: {blocked} · failed: {failed}").format(
                blocked=n(progress.blocked), failed=n(progress.failed)
            )
        )
    steer: ButtonRow
    if progress.status == AnnouncementStatus.PAUSED:
        steer = (Button(t._("Continue"), RESUME(progress.id)),)
    else:
        steer = (Button(t._("Pause"), PAUSE(progress.id)),)
    steer += (Button(t._("Cancel sending"), CANCEL(progress.id)),)
    return OutMessage("\n".join(lines), buttons=(steer,))


class Announce(Dialog):
    name = "announce"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {
            State.AUDIENCE: Screen(self._ask_audience, (on(AUDIENCE, self._audience),)),
            State.EVENT: Screen(self._ask_event, (on(EVENT, self._event),)),
            State.PEOPLE: Screen(self._ask_people, (on(PEOPLE, self._people),)),
            State.TOPIC: Screen(self._ask_topic, (on(TOPIC, self._topic),)),
            State.PLACE: Screen(self._ask_place, (on(PLACE, self._place),)),
            State.KM: Screen(
                self._ask_km,
                (on(KM, self._km),),
                answer=self._typed_km,
                unit=lambda t, km: t.distance(km),
            ),
            State.FIELD: Screen(
                self._ask_field, (on(FIELD, self._field), on(ALL_FIELDS, self._all_fields))
            ),
            State.TEXT: Screen(self._ask_text, answer=self._text),
            State.BUTTON: Screen(self._ask_button, (on(BUTTON, self._button),)),
            State.BUTTON_EVENT: Screen(self._ask_button_event, (on(EVENT, self._button_event),)),
            State.BUTTON_TOPIC: Screen(self._ask_button_topic, (on(TOPIC, self._button_topic),)),
            State.PREVIEW: Screen(
                self._preview,
                (
                    on(SEND, self._send),
                    on(CHANGE_TEXT, lambda ctx: self._to(State.TEXT)),
                    on(CHANGE_AUDIENCE, lambda ctx: self._to(State.AUDIENCE)),
                    on(CHANGE_BUTTON, lambda ctx: self._to(State.BUTTON)),
                ),
            ),
            State.RUNNING: Screen(self._running, self._controls()),
        }

    def _controls(self) -> tuple[Any, ...]:
        return (
            on(PAUSE, self._pause),
            on(RESUME, self._resume),
            on(CANCEL, self._cancel),
            on(REFRESH, self._refresh),
        )

    def standing(self, payload: str) -> Target | None:
        if SEND.matches(payload):  # a second tap on a preview already sent
            return Target(self.name, State.PREVIEW, {})
        for action in _CONTROLS:
            if action.matches(payload):
                return Target(self.name, State.RUNNING, {})
        return None

    async def _to(self, state: State) -> Step:
        return self.go(state)

    # -- the audience -------------------------------------------------------------------
    async def _ask_audience(self, ctx: Context) -> Screenful:
        if not ctx.member.is_organiser:
            return (say(ctx._("Only organisers can send announcements."), nav_row(ctx)),)
        rows = [
            (Button(ctx._("People of one of my events"), AUDIENCE(Audience.EVENT)),),
            (Button(ctx._("People who want a topic"), AUDIENCE(Audience.TOPIC)),),
            (Button(ctx._("People near one of my places"), AUDIENCE(Audience.NEARBY)),),
            (Button(ctx._("Everyone in my region who wants news"), AUDIENCE(Audience.REGION)),),
        ]
        text = ctx._("Send an announcement. Who should get it?")
        return (say(text, *rows, nav_row(ctx)),)

    async def _audience(self, ctx: Context, kind: Audience) -> Step:
        if not ctx.member.is_organiser:
            return Go(Target("menu", "main"), note(ctx._("Only organisers can do that.")))
        if kind == Audience.REGION:
            return self._with_audience(ctx, AudienceChoice(Audience.REGION))
        state = {Audience.EVENT: State.EVENT, Audience.TOPIC: State.TOPIC}.get(kind, State.PLACE)
        return self.go(state)

    async def _ask_event(self, ctx: Context) -> Screenful:
        return await self._events_screen(ctx, ctx._("Which event?"))

    async def _events_screen(self, ctx: Context, question: str) -> Screenful:
        events = await announcement_service(ctx).events(ctx.member.id, ctx.now)
        if not events:
            return (say(ctx._("You have no current events."), nav_row(ctx)),)
        rows = [
            (
                Button(
                    f"{e.title} · {ctx.t.when(e.start_at, None)}" if e.start_at else e.title,
                    EVENT(e.id),
                ),
            )
            for e in events
        ]
        return (say(question, *rows, nav_row(ctx)),)

    async def _event(self, ctx: Context, event_id: int) -> Step:
        return self.go(State.PEOPLE, {"audience_event": event_id})

    async def _ask_people(self, ctx: Context) -> Screenful:
        rows = [
            (Button(ctx._("Signed up"), PEOPLE(EventPeople.SIGNED_UP)),),
            (Button(ctx._("On the waiting list"), PEOPLE(EventPeople.WAITING)),),
            (Button(ctx._("Both"), PEOPLE(EventPeople.BOTH)),),
        ]
        return (say(ctx._("To whom of this event?"), *rows, nav_row(ctx)),)

    async def _people(self, ctx: Context, people: EventPeople) -> Step:
        event_id = ctx.data.get("audience_event")
        if not isinstance(event_id, int):
            return self.go(State.EVENT)
        choice = AudienceChoice(Audience.EVENT, event_id=event_id, people=people)
        return self._with_audience(ctx, choice)

    async def _ask_topic(self, ctx: Context) -> Screenful:
        return await self._topics_screen(ctx, ctx._("Which topic? (most wanted first)"))

    async def _topics_screen(self, ctx: Context, question: str) -> Screenful:
        topics = await announcement_service(ctx).topics(ctx.member.id)
        if not topics:
            return (say(ctx._("There are no open topics."), nav_row(ctx)),)
        rows = [
            (Button(ctx._("{title} ({n} people)").format(title=t.title, n=t.people), TOPIC(t.id)),)
            for t in topics
        ]
        return (say(question, *rows, nav_row(ctx)),)

    async def _topic(self, ctx: Context, topic_id: int) -> Step:
        return self._with_audience(ctx, AudienceChoice(Audience.TOPIC, topic_id=topic_id))

    async def _ask_place(self, ctx: Context) -> Screenful:
        places = await announcement_service(ctx).places(ctx.member.id)
        if not places:
            text = ctx._("You have no places yet: they come with your events.")
            return (say(text, nav_row(ctx)),)
        rows = [(Button(p.title, PLACE(p.id)),) for p in places]
        return (say(ctx._("Near which place?"), *rows, nav_row(ctx)),)

    async def _place(self, ctx: Context, place_id: int) -> Step:
        return self.go(State.KM, {"audience_place": place_id})

    async def _ask_km(self, ctx: Context) -> Screenful:
        row = tuple(Button(ctx.t.distance(km), KM(km)) for km in NEARBY_KM)
        text = ctx._("How far around it? Tap, or type e.g. “30 km”.")
        return (say(text, row, nav_row(ctx)),)

    async def _km(self, ctx: Context, km: int) -> Step:
        if km > 200:
            return Stay(note(ctx._("Please choose at most 200 km.")))
        return self.go(State.FIELD, {"audience_km": km})

    async def _typed_km(self, ctx: Context, msg: Incoming) -> Step:
        typed = _KM.fullmatch(msg.text.strip().lower())
        if typed is None:
            return Stay(note(ctx._("Please type a distance, e.g. “30 km”.")))
        km = round(float(typed[1].replace(",", ".")))  # "2,5 km" is 2.5, not 25
        if km < 1:
            return Stay(note(ctx._("Please type a distance, e.g. “30 km”.")))
        return await self._km(ctx, km)

    async def _ask_field(self, ctx: Context) -> Screenful:
        rows: list[ButtonRow] = [(Button(ctx._("Everyone"), ALL_FIELDS.payload),)]
        rows += [
            (Button(ctx._(FIELD_WORDS[f]), FIELD(f)),)
            for f in (Field.CRAFT, Field.DESIGN, Field.DIGITAL)
        ]
        return (say(ctx._("Only people with one interest?"), *rows, nav_row(ctx)),)

    async def _field(self, ctx: Context, field: Field) -> Step:
        return self._nearby(ctx, (field,))

    async def _all_fields(self, ctx: Context) -> Step:
        return self._nearby(ctx, ())

    def _nearby(self, ctx: Context, fields: tuple[Field, ...]) -> Step:
        place_id, km = ctx.data.get("audience_place"), ctx.data.get("audience_km")
        if not isinstance(place_id, int) or not isinstance(km, int):
            return self.go(State.PLACE)
        choice = AudienceChoice(Audience.NEARBY, place_id=place_id, km=km, fields=fields)
        return self._with_audience(ctx, choice)

    def _with_audience(self, ctx: Context, choice: AudienceChoice) -> Step:
        draft = {**_draft(ctx), "audience": choice.as_dict()}
        if choice.kind == Audience.EVENT and not draft.get("button"):
            # To an event's people the natural button is its own "Anmelden".
            draft.update(button=AnnouncementButton.SIGN_UP.value, button_event=choice.event_id)
        nxt = State.PREVIEW if draft.get("text") else State.TEXT
        return self.go(nxt, {"announcement_draft": draft})

    # -- the text and the button ----------------------------------------------------------
    async def _ask_text(self, ctx: Context) -> Screenful:
        text = ctx._("Write your announcement (at most {n} characters).").format(
            n=ctx.t.number(MAX_ANNOUNCEMENT)
        )
        return (say(text, nav_row(ctx)),)

    async def _text(self, ctx: Context, msg: Incoming) -> Step:
        text = (msg.text or "").strip()
        if not visible(text):
            return Stay(note(ctx._("Please write a few words.")))
        longer = too_long(ctx, text, MAX_ANNOUNCEMENT)
        if longer is not None:
            return longer
        draft = {**_draft(ctx), "text": text}
        nxt = State.PREVIEW if "button" in draft else State.BUTTON
        return self.go(nxt, {"announcement_draft": draft})

    async def _ask_button(self, ctx: Context) -> Screenful:
        rows = [
            (Button(ctx._("No button"), BUTTON(AnnouncementButton.NONE)),),
            (Button(ctx._("“Sign up” for one of my events"), BUTTON(AnnouncementButton.SIGN_UP)),),
            (Button(ctx._("“Me too” for a topic"), BUTTON(AnnouncementButton.ME_TOO)),),
        ]
        return (say(ctx._("Should a button come with it?"), *rows, nav_row(ctx)),)

    async def _button(self, ctx: Context, button: AnnouncementButton) -> Step:
        if button == AnnouncementButton.SIGN_UP:
            return self.go(State.BUTTON_EVENT)
        if button == AnnouncementButton.ME_TOO:
            return self.go(State.BUTTON_TOPIC)
        draft = {**_draft(ctx), "button": AnnouncementButton.NONE.value}
        return self.go(State.PREVIEW, {"announcement_draft": draft})

    async def _ask_button_event(self, ctx: Context) -> Screenful:
        return await self._events_screen(ctx, ctx._("“Sign up” for which event?"))

    async def _button_event(self, ctx: Context, event_id: int) -> Step:
        draft = {
            **_draft(ctx),
            "button": AnnouncementButton.SIGN_UP.value,
            "button_event": event_id,
        }
        return self.go(State.PREVIEW, {"announcement_draft": draft})

    async def _ask_button_topic(self, ctx: Context) -> Screenful:
        return await self._topics_screen(ctx, ctx._("“Me too” for which topic?"))

    async def _button_topic(self, ctx: Context, topic_id: int) -> Step:
        draft = {
            **_draft(ctx),
            "button": AnnouncementButton.ME_TOO.value,
            "button_topic": topic_id,
        }
        return self.go(State.PREVIEW, {"announcement_draft": draft})

    # -- preview and send ------------------------------------------------------------------
    async def _preview(self, ctx: Context) -> Screenful:
        draft = _draft(ctx)
        audience = AudienceChoice.from_dict(draft.get("audience") or {})
        if audience is None:
            return (say(ctx._("Please choose who should get it."), nav_row(ctx)),)
        button = AnnouncementButton(draft.get("button") or AnnouncementButton.NONE)
        try:
            preview = await announcement_service(ctx).preview(
                ctx.member.id,
                AnnouncementDraft(
                    str(draft.get("text") or ""),
                    audience,
                    button,
                    int_or_none(draft.get("button_event")),
                    int_or_none(draft.get("button_topic")),
                ),
                ctx.now,
                int_or_none(draft.get("id")),
            )
        except AnnouncementRefused as refused:
            return (say(_refusal(ctx, refused.reason), self._change_rows(ctx), nav_row(ctx)),)
        except NotAllowed:
            text = ctx._("You can only write to your own events and places.")
            return (say(text, self._change_rows(ctx), nav_row(ctx)),)
        as_seen = announcement_message(
            ctx.t,
            {
                "organiser": preview.organiser_name,
                "organiser_id": ctx.member.id,
                "text": draft.get("text"),
                "button": button.value,
                "button_title": preview.button_title,
                "button_event_id": int_or_none(draft.get("button_event")),
                "button_topic_id": int_or_none(draft.get("button_topic")),
            },
        )
        head = ctx._("This is how it will look:")
        count = ctx.t.ngettext("Goes to {n} person.", "Goes to {n} people.", preview.count).format(
            n=ctx.t.number(preview.count)
        )
        rows: list[ButtonRow] = []
        if preview.refused is None:
            rows.append((Button(ctx._("Send"), SEND((preview.id, preview.revision))),))
            footer = count
        else:
            footer = _refusal(ctx, preview.refused)
        rows.append(self._change_rows(ctx))
        # The member's own copy shows its buttons, inert here (they are part of the look).
        shown = OutMessage(as_seen.text, buttons=())
        return (
            say(head),
            shown,
            say(footer, *rows, nav_row(ctx)),
        )

    def _change_rows(self, ctx: Context) -> ButtonRow:
        return (
            Button(ctx._("Change text"), CHANGE_TEXT.payload),
            Button(ctx._("Change audience"), CHANGE_AUDIENCE.payload),
            Button(ctx._("Change button"), CHANGE_BUTTON.payload),
        )

    async def _send(self, ctx: Context, draft: tuple[int, int]) -> Step:
        draft_id, revision = draft
        try:
            progress = await announcement_service(ctx).confirm(
                ctx.member.id, draft_id, revision, ctx.now, ctx.account_id
            )
        except AnnouncementRefused as refused:
            if refused.reason == STALE_PREVIEW:
                text = ctx._("That preview was out of date. Here is the current one:")
                return self.go(State.PREVIEW, say=note(text), remember=False)
            if refused.reason == NOT_DRAFT:
                text = ctx._("This announcement is already on its way.")
                return self.go(State.RUNNING, {"broadcast_id": draft_id}, say=note(text))
            return Stay(note(_refusal(ctx, refused.reason)))
        except NotAllowed:
            return Go(Target("menu", "main"), note(ctx._("Only organisers can do that.")))
        text = ctx._("It is on its way. You will see here how far it has got.")
        data = {"broadcast_id": progress.id, "announcement_draft": None}
        return self.go(State.RUNNING, data, say=note(text), remember=False)

    # -- while it goes out -------------------------------------------------------------------
    async def _running(self, ctx: Context) -> Screenful:
        broadcast_id = int_or_none(ctx.data.get("broadcast_id"))
        if broadcast_id is None:
            return (say(ctx._("No announcement on its way."), nav_row(ctx, back=False)),)
        try:
            progress = await announcement_service(ctx).progress(
                ctx.member.id, broadcast_id, ctx.now
            )
        except (AnnouncementRefused, NotAllowed):
            return (say(ctx._("No announcement on its way."), nav_row(ctx, back=False)),)
        shown = progress_words(ctx.t, progress, final=False)
        rows = list(shown.buttons)
        if not progress.finished:
            rows.append((Button(ctx._("Refresh"), REFRESH(progress.id)),))
        return (say(shown.text, *rows, nav_row(ctx, back=False)),)

    async def _pause(self, ctx: Context, broadcast_id: int) -> Step:
        return await self._steer(ctx, broadcast_id, announcement_service(ctx).pause)

    async def _resume(self, ctx: Context, broadcast_id: int) -> Step:
        return await self._steer(ctx, broadcast_id, announcement_service(ctx).resume)

    async def _cancel(self, ctx: Context, broadcast_id: int) -> Step:
        return await self._steer(ctx, broadcast_id, announcement_service(ctx).cancel)

    async def _refresh(self, ctx: Context, broadcast_id: int) -> Step:
        return self.go(State.RUNNING, {"broadcast_id": broadcast_id}, remember=False)

    async def _steer(self, ctx: Context, broadcast_id: int, action: Any) -> Step:
        try:
            await action(ctx.member.id, broadcast_id, ctx.now)
        except (AnnouncementRefused, NotAllowed):
            text = ctx._("That announcement is not yours, or no longer there.")
            return Go(Target("menu", "main"), note(text))
        return self.go(State.RUNNING, {"broadcast_id": broadcast_id}, remember=False)


def _refusal(ctx: Context, reason: str) -> str:
    words = {
        EMPTY_TEXT: ctx._("Please write a few words."),
        TOO_LONG: ctx._("That is too long: at most {n} characters.").format(
            n=ctx.t.number(MAX_ANNOUNCEMENT)
        ),
        NOBODY: ctx._("Nobody would get it: this audience is empty right now."),
        WEEK_CAP: ctx._(
            "You have reached this week's limit for region news. "
            "Announcements to the people of your events are not limited."
        ),
        NOT_DRAFT: ctx._("This announcement is already on its way."),
    }
    return words.get(reason, ctx._("That announcement is no longer there."))


def _draft(ctx: Context) -> dict[str, Any]:
    draft = ctx.data.get("announcement_draft")
    return dict(draft) if isinstance(draft, dict) else {}
