""" "Meine Veranstaltungen": an organiser's events, who comes, attendance, edits, cancelling.

Every change goes through the organiser service, which checks the role and the
owner again; members signed up or waiting hear of every change by a notice.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping

from bot.codes import RegistrationStatus
from bot.dialogs.actions import POSITIVE, Action, ValueAction, one_of
from bot.dialogs.base import (
    ButtonRow,
    Context,
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
from bot.dialogs.event_fields import (
    MAX_DESCRIPTION,
    MAX_SEATS,
    SEATS,
    WHEN_RIGHT,
    WHEN_WRONG,
    OrganiserDialog,
    ask_capacity,
    ask_title,
    ask_when,
    confirm_when,
    draft_of,
    moment,
    read_when,
    seats_hint,
    seats_unit,
    title_too_long,
    transfer_warning,
    typed_count,
)
from bot.dialogs.impact import impact_csv, impact_screen
from bot.dialogs.places import short
from bot.i18n import N_
from bot.messages import Attachment, Button, Incoming, OutMessage
from bot.services.contracts import (
    MAX_CANCEL_REASON,
    MAX_CHECKIN_REPLY,
    EventChange,
    NotAllowed,
    OrganisedEvent,
    ServiceError,
)

STATUS_WORDS = {
    RegistrationStatus.REGISTERED: N_("signed up"),
    RegistrationStatus.ATTENDED: N_("came"),
    RegistrationStatus.WAITLISTED: N_("waiting list"),
    RegistrationStatus.HELD: N_("seat kept, invited"),
}
NEW = Action("new")
EVENT = ValueAction("event", POSITIVE)
ATTENDANCE = Action("attendance")
EDIT = Action("edit")
CANCEL = Action("cancel")
CSV = Action("csv")
CAME = ValueAction("came", POSITIVE)
CHANGE = ValueAction("change", one_of("title", "description", "when", "capacity"))
CANCEL_YES = Action("cancel_yes")
CANCEL_NO = Action("cancel_no")
HOLD = Action("hold")
IMPACT = Action("impact")
ALL_IMPACT = Action("all_impact")
IMPACT_CSV = Action("impact_csv")


class State(enum.StrEnum):
    LIST = "list"
    EVENT = "event"
    ATTENDANCE = "attendance"
    EDIT = "edit"
    EDIT_TITLE = "edit_title"
    EDIT_DESCRIPTION = "edit_description"
    EDIT_WHEN = "edit_when"
    EDIT_WHEN_CONFIRM = "edit_when_confirm"
    EDIT_CAPACITY = "edit_capacity"
    CANCEL_REASON = "cancel_reason"
    CANCEL_CONFIRM = "cancel_confirm"
    MINIMUM_CHECK = "minimum_check"
    IMPACT = "impact"
    ALL_IMPACT = "all_impact"
    REPLY = "reply"


class MyEvents(OrganiserDialog):
    name = "my_events"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {
            State.LIST: Screen(
                self._list,
                (
                    on(NEW, self._new),
                    on(EVENT, self._open),
                    on(ALL_IMPACT, self._to(State.ALL_IMPACT)),
                ),
            ),
            State.EVENT: Screen(
                self._event,
                (
                    on(ATTENDANCE, self._to(State.ATTENDANCE)),
                    on(EDIT, self._to(State.EDIT)),
                    on(CANCEL, self._to(State.CANCEL_REASON)),
                    on(CSV, self._csv),
                    on(IMPACT, self._to(State.IMPACT)),
                ),
            ),
            State.IMPACT: Screen(self._impact, (on(IMPACT_CSV, self._impact_csv),)),
            State.ALL_IMPACT: Screen(self._all_impact, (on(IMPACT_CSV, self._all_impact_csv),)),
            State.REPLY: Screen(self._ask_reply, answer=self._reply),
            State.ATTENDANCE: Screen(self._attendance, (on(CAME, self._came),)),
            State.EDIT: Screen(self._ask_change, (on(CHANGE, self._change),)),
            State.EDIT_TITLE: Screen(ask_title, answer=self._title),
            State.EDIT_DESCRIPTION: Screen(self._ask_description, answer=self._description),
            State.EDIT_WHEN: Screen(ask_when, answer=self._when),
            State.EDIT_WHEN_CONFIRM: Screen(
                confirm_when, (on(WHEN_RIGHT, self._when_right), on(WHEN_WRONG, self._when_wrong))
            ),
            State.EDIT_CAPACITY: Screen(
                ask_capacity, (on(SEATS, self._seats),), self._typed_seats, unit=seats_unit
            ),
            State.CANCEL_REASON: Screen(self._ask_reason, answer=self._reason),
            State.CANCEL_CONFIRM: Screen(
                self._confirm_cancel, (on(CANCEL_YES, self._cancel), on(CANCEL_NO, self._return))
            ),
            State.MINIMUM_CHECK: Screen(
                self._minimum_check,
                (on(HOLD, self._hold), on(CANCEL, self._to(State.CANCEL_REASON))),
            ),
        }

    def _to(self, state: State) -> Callable[[Context], Awaitable[Step]]:
        async def go(ctx: Context) -> Step:
            return self.go(state)

        return go

    async def _return(self, ctx: Context, *said: str) -> Go:
        """To the event's screen, seen before: "Zurück" must not lead here again."""
        data = {"reason": None, "draft": None}
        return self.go(
            State.EVENT, data, say=tuple(m for s in said for m in note(s)), remember=False
        )

    # -- the list ----------------------------------------------------------------------
    async def _list(self, ctx: Context) -> Screenful:
        events = await ctx.services.organiser.mine(ctx.member.id, ctx.now)
        if not events:
            text = ctx._("You have no events yet.")
            return (say(text, (Button(ctx._("Create an event"), NEW.payload),), nav_row(ctx)),)
        lines = [ctx._("Your events:")]
        lines += [f"{n}. {_line(ctx, e)}" for n, e in enumerate(events, 1)]
        rows = [(Button(short(e.title), EVENT(e.id)),) for e in events]
        rows.append((Button(ctx._("Impact of all my events"), ALL_IMPACT.payload),))
        return (say("\n\n".join(lines), *rows, nav_row(ctx)),)

    async def _new(self, ctx: Context) -> Step:
        return Go(Target("new_event", "format", {"draft": {}}))

    async def _open(self, ctx: Context, event_id: int) -> Step:
        return self.go(State.EVENT, {"event_id": event_id})

    # -- one event ---------------------------------------------------------------------
    async def _event(self, ctx: Context) -> Screenful:
        roster = await ctx.services.organiser.roster(ctx.member.id, _event_id(ctx))
        e = roster.event
        lines = [_line(ctx, e).replace("\n   ", "\n"), ""]
        if e.minimum:
            lines.append(ctx._("Minimum: {count}").format(count=e.minimum))
        if not roster.attendees:
            lines.append(ctx._("No sign-ups yet."))
        for a in roster.attendees:
            status = ctx._(STATUS_WORDS[a.status]) if a.status in STATUS_WORDS else str(a.status)
            if a.waitlist_number:
                status += f" {a.waitlist_number}"
            line = f"• {a.name} ({status})"
            if a.expectation:
                line += "\n  " + ctx._("expects: {text}").format(text=a.expectation)
            lines.append(line)
        rows: list[ButtonRow] = []
        if not e.cancelled:
            rows.append((Button(ctx._("Attendance"), ATTENDANCE.payload),))
            rows.append(
                (
                    Button(ctx._("Edit"), EDIT.payload),
                    Button(ctx._("Cancel event"), CANCEL.payload),
                )
            )
        rows.append(
            (
                Button(ctx._("List as a spreadsheet (CSV)"), CSV.payload),
                Button(ctx._("Impact"), IMPACT.payload),
            )
        )
        return (say("\n".join(lines), *rows, nav_row(ctx)),)

    # -- what came of it ("Wirkung"): of the event on screen, or of all of them ----------
    async def _impact(self, ctx: Context) -> Screenful:
        return await self._impact_of(ctx, _event_id(ctx))

    async def _all_impact(self, ctx: Context) -> Screenful:
        return await self._impact_of(ctx, None)

    async def _impact_of(self, ctx: Context, event_id: int | None) -> Screenful:
        impact = await ctx.services.checkins.impact(ctx.member.id, event_id)
        table = (Button(ctx._("The figures as a spreadsheet (CSV)"), IMPACT_CSV.payload),)
        return await impact_screen(ctx, impact, table if impact.answered else (), nav_row(ctx))

    # The file, then the screen before (not the chart again: it is just above).
    async def _impact_csv(self, ctx: Context) -> Step:
        return await self._csv_of(ctx, _event_id(ctx), State.EVENT)

    async def _all_impact_csv(self, ctx: Context) -> Step:
        return await self._csv_of(ctx, None, State.LIST)

    async def _csv_of(self, ctx: Context, event_id: int | None, back: State) -> Step:
        impact = await ctx.services.checkins.impact(ctx.member.id, event_id)
        return self.go(back, say=(impact_csv(ctx, impact),), remember=False)

    async def _ask_reply(self, ctx: Context) -> Screenful:
        text = ctx._(
            "Write your answer; it arrives in their chat. Phone numbers or accounts are "
            "shared only if you both want to."
        )
        return (say(text, nav_row(ctx)),)

    async def _reply(self, ctx: Context, msg: Incoming) -> Step:
        member = ctx.data.get("reply_to")
        if not isinstance(member, int):
            raise NotAllowed("nobody to answer on this screen")
        if longer := too_long(ctx, msg.text, MAX_CHECKIN_REPLY):
            return longer
        about = ctx.data.get("reply_about")
        await ctx.services.checkins.reply(
            ctx.member.id,
            _event_id(ctx),
            member,
            msg.text,
            ctx.now,
            about=about if isinstance(about, str) else "",
        )
        sent = ctx._("Sent. They get your answer in their chat.")
        data = {"reply_to": None, "reply_about": None}
        return self.go(State.EVENT, data, say=note(sent), remember=False)

    async def _csv(self, ctx: Context) -> Step:
        event_id = _event_id(ctx)
        data = await ctx.services.organiser.attendee_csv(ctx.member.id, event_id)
        name = ctx._("attendees-{id}.csv").format(id=event_id)
        file = Attachment(name, "text/csv", data)
        text = ctx._("The list as a spreadsheet file (opens in Excel and LibreOffice).")
        return Stay(say=(OutMessage(text, attachment=file),))

    async def _attendance(self, ctx: Context) -> Screenful:
        roster = await ctx.services.organiser.roster(ctx.member.id, _event_id(ctx))
        present = [a for a in roster.attendees if a.status in _PRESENT]
        if not present:
            return (say(ctx._("No sign-ups yet."), nav_row(ctx)),)
        rows = [
            (Button(("✅ " if _came(a.status) else "◻️ ") + short(a.name), CAME(a.registration_id)),)
            for a in present
        ]
        text = ctx._("Who came? Tap a name to mark or unmark it.")
        return (say(text, *rows, nav_row(ctx)),)

    async def _came(self, ctx: Context, registration_id: int) -> Step:
        organiser, event_id = ctx.services.organiser, _event_id(ctx)
        roster = await organiser.roster(ctx.member.id, event_id)
        current = next((a for a in roster.attendees if a.registration_id == registration_id), None)
        if current is not None:
            came = not _came(current.status)
            await organiser.set_attended(ctx.member.id, event_id, registration_id, came)
        return Stay()

    # -- edits -----------------------------------------------------------------------
    async def _ask_change(self, ctx: Context) -> Screenful:
        text = ctx._("What would you like to change? Everyone signed up will be told.")
        rows = (
            (
                Button(ctx._("Title"), CHANGE("title")),
                Button(ctx._("Description"), CHANGE("description")),
            ),
            (
                Button(ctx._("Date and time"), CHANGE("when")),
                Button(ctx._("Seats"), CHANGE("capacity")),
            ),
        )
        return (say(text, *rows, nav_row(ctx)),)

    async def _change(self, ctx: Context, what: str) -> Step:
        return self.go(State(f"edit_{what}"))

    async def _title(self, ctx: Context, msg: Incoming) -> Step:
        return title_too_long(ctx, msg.text) or await self._apply(ctx, EventChange(title=msg.text))

    async def _ask_description(self, ctx: Context) -> Screenful:
        return (say(ctx._("Type the new description."), nav_row(ctx)),)

    async def _description(self, ctx: Context, msg: Incoming) -> Step:
        change = EventChange(description=msg.text)
        return too_long(ctx, msg.text, MAX_DESCRIPTION) or await self._apply(ctx, change)

    async def _when(self, ctx: Context, msg: Incoming) -> Step:
        when = read_when(ctx, msg.text)
        if isinstance(when, Stay):
            return when
        return self.go(State.EDIT_WHEN_CONFIRM, {"draft": {**draft_of(ctx), **when}})

    async def _when_right(self, ctx: Context) -> Step:
        draft = draft_of(ctx)
        change = EventChange(start_at=moment(draft["start_at"]), end_at=moment(draft["end_at"]))
        return await self._apply(ctx, change)

    async def _when_wrong(self, ctx: Context) -> Step:
        return self.go(State.EDIT_WHEN, remember=False)

    async def _seats(self, ctx: Context, seats: int | None) -> Step:
        if seats is not None and seats > MAX_SEATS:
            return seats_hint(ctx)
        step = await self._apply(ctx, EventChange(capacity=seats, unlimited=seats is None))
        warn = transfer_warning(ctx, draft_of(ctx).get("format"), seats)
        return Go(step.to, (*warn, *step.say), remember=False)

    async def _typed_seats(self, ctx: Context, msg: Incoming) -> Step:
        seats = typed_count(msg.text)
        return await self._seats(ctx, seats) if seats else seats_hint(ctx)

    async def _apply(self, ctx: Context, change: EventChange) -> Go:
        try:
            changed = await ctx.services.organiser.change(
                ctx.member.id, _event_id(ctx), change, ctx.now
            )
        except NotAllowed:
            raise  # the guard turns it into the refusal
        except ServiceError:
            return await self._return(
                ctx, ctx._("That did not work: please check the date and the numbers.")
            )
        if not changed:
            return await self._return(ctx, ctx._("Nothing changed."))
        return await self._return(ctx, ctx._("Saved. Everyone signed up or waiting will be told."))

    # -- cancelling, and the minimum's deadline ---------------------------------------
    async def _ask_reason(self, ctx: Context) -> Screenful:
        text = ctx._(
            "Why is the event cancelled? Everyone signed up or waiting gets your reason at once."
        )
        return (say(text, nav_row(ctx)),)

    async def _reason(self, ctx: Context, msg: Incoming) -> Step:
        return too_long(ctx, msg.text, MAX_CANCEL_REASON) or self.go(
            State.CANCEL_CONFIRM, {"reason": msg.text}
        )

    async def _confirm_cancel(self, ctx: Context) -> Screenful:
        text = ctx._("Cancel the event and tell everyone? Reason: {reason}").format(
            reason=ctx.data.get("reason", "")
        )
        rows = (
            (Button(ctx._("Yes, cancel the event"), CANCEL_YES.payload),),
            (Button(ctx._("No"), CANCEL_NO.payload),),
        )
        return (say(text, *rows),)

    async def _cancel(self, ctx: Context) -> Step:
        reason = str(ctx.data.get("reason", ""))
        told = await ctx.services.organiser.cancel(ctx.member.id, _event_id(ctx), reason, ctx.now)
        text = ctx.t.ngettext(
            "The event is cancelled. I am telling {n} person now.",
            "The event is cancelled. I am telling {n} people now.",
            told,
        ).format(n=told)
        return await self._return(ctx, text)

    async def _minimum_check(self, ctx: Context) -> Screenful:
        rows = (
            (Button(ctx._("Hold it anyway"), HOLD.payload),),
            (Button(ctx._("Cancel event"), CANCEL.payload),),
        )
        return (say(ctx._("What would you like to do?"), *rows, nav_row(ctx)),)

    async def _hold(self, ctx: Context) -> Step:
        await ctx.services.organiser.hold(ctx.member.id, _event_id(ctx))
        return await self._return(ctx, ctx._("Good: the event takes place as planned."))


_PRESENT = (RegistrationStatus.REGISTERED, RegistrationStatus.ATTENDED)


def _came(status: str) -> bool:
    return status == RegistrationStatus.ATTENDED


def _event_id(ctx: Context) -> int:
    """The event on screen; a state without one (an older shape) is refused like a
    forged id."""
    event_id = ctx.data.get("event_id")
    if not isinstance(event_id, int):
        raise NotAllowed("no event on this screen")
    return event_id


def _line(ctx: Context, e: OrganisedEvent) -> str:
    seats = f"{e.registered}/{e.capacity}" if e.capacity else str(e.registered)
    facts = [ctx._("{seats} signed up").format(seats=seats)]
    if e.waitlisted:
        facts.append(ctx._("{count} waiting").format(count=e.waitlisted))
    if e.cancelled:
        facts.append("❌ " + ctx._("cancelled"))
    return f"{ctx.t.when(e.start_at, e.end_at)}\n   {e.title}\n   " + " · ".join(facts)


# Words the service returns for what changed; listed here for `pybabel extract`.
CHANGE_WORDS = (
    N_("The title has changed."),
    N_("The description has changed."),
    N_("The date or time has changed."),
    N_("The number of seats has changed."),
)
