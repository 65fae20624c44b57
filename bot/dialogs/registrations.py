"""Signing up from an event's details, and "Meine Anmeldungen": list, details, cancel."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime

from bot.codes import RegistrationStatus
from bot.dialogs.actions import OPEN_EVENT, POSITIVE, SIGN_UP, Action, ValueAction
from bot.dialogs.base import (
    Context,
    Dialog,
    Go,
    On,
    Screen,
    Screenful,
    Step,
    Target,
    nav_row,
    note,
    on,
    say,
    too_long,
)
from bot.dialogs.places import short
from bot.dialogs.words import FORMAT_WORDS, word
from bot.messages import Attachment, Button, Incoming, OutMessage
from bot.services.contracts import MAX_EXPECTATION, MyRegistration, Outcome

MY_REGISTRATION = ValueAction("reg", POSITIVE)
MY_SIGNUPS = Action("my_signups")
EVENTS = Action("events")
SKIP = Action("skip")
CANCEL = Action("cancel")
DECLINE = Action("decline")
YES_CANCEL = Action("cancel_yes")
KEEP = Action("keep")


def where(r: MyRegistration) -> str:
    return ", ".join(p for p in (r.place_name, r.town) if p)


def status_line(ctx: Context, r: MyRegistration) -> str:
    if r.event_cancelled:
        return "❌ " + ctx._("This event has been cancelled.")
    if r.status == RegistrationStatus.HELD and r.held_until is not None:
        return "✉️ " + ctx._("A seat is kept for you until {when}.").format(
            when=ctx.t.when(r.held_until, None)
        )
    if r.status == RegistrationStatus.WAITLISTED:
        return ctx._("You are no. {number} on the waiting list.").format(number=r.waitlist_number)
    return "✅ " + ctx._("You are signed up.")


def calendar_attachment(event_id: int, ics: bytes) -> Attachment:
    """The event's .ics file; always the same name, so a newer one replaces the older."""
    return Attachment(f"werkbank-{event_id}.ics", "text/calendar", ics)


def minimum_line(ctx: Context, minimum: int | None, by: datetime | None) -> str | None:
    """From how many sign-ups the event takes place, and when that is decided, while it
    is still open; None for an event without a minimum or once the day has passed."""
    if minimum is None or (by is not None and by <= ctx.now):
        return None
    text = ctx.t.ngettext(
        "Takes place with {n} sign-up or more.", "Takes place with {n} sign-ups or more.", minimum
    ).format(n=minimum)
    if by is not None:
        decided = ctx._("Decided on {day}.").format(day=ctx.t.day(by))
        # "Mo., 7. Dez." ends with its own full stop: one is enough.
        text += " " + (decided[:-1] if decided.endswith("..") else decided)
    return text


async def sign_up(ctx: Context, event_id: int, expectation: str | None) -> Step:
    """Sign up (or join the waitlist) and confirm with date, place and a calendar file."""
    result = await ctx.services.registrations.sign_up(ctx.member.id, event_id, ctx.now, expectation)
    hints = {
        Outcome.CLOSED: ctx._("Sign-up for this event has closed."),
        Outcome.CANCELLED: ctx._("This event has been cancelled."),
        Outcome.UNKNOWN: ctx._("This event is no longer listed."),
    }
    if result.outcome in hints or result.registration is None:
        text = hints.get(result.outcome, ctx._("This event is no longer listed."))
        return Go(Target("events", "detail", {"event_id": event_id}), say=note(text))
    r = result.registration
    detail = Target("registrations", "detail", {"registration_id": r.id})
    if result.outcome == Outcome.ALREADY:
        return Go(detail, say=note(status_line(ctx, r)))
    when = ctx.t.when(r.start_at, r.end_at)
    if result.outcome == Outcome.WAITLISTED:
        text = "\n".join(
            [
                ctx._("“{title}” is fully booked.").format(title=r.title),
                ctx._("You are no. {number} on the waiting list.").format(number=r.waitlist_number),
                ctx._("If a seat comes free, you move up automatically and I will tell you."),
            ]
        )
        return Go(detail, say=note(text))
    lines = [
        "✅ " + ctx._("You are signed up for “{title}”.").format(title=r.title),
        when,
    ]
    if where(r):
        lines.append(where(r))
    lines += ["", ctx._("The calendar file puts the date into your calendar, with a reminder.")]
    attachment = None
    ics = await ctx.services.registrations.calendar_file(r.event_id, ctx.t.locale)
    if ics is not None:
        attachment = calendar_attachment(r.event_id, ics)
    confirmation = OutMessage("\n".join(lines), attachment=attachment)
    return Go(detail, say=(confirmation,))


class State(enum.StrEnum):
    LIST = "list"
    EXPECT = "expect"
    DETAIL = "detail"
    CONFIRM_CANCEL = "confirm_cancel"


class Registrations(Dialog):
    name = "registrations"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {
            State.LIST: Screen(self._list, (on(MY_REGISTRATION, self._open),)),
            State.EXPECT: Screen(self._ask_expectation, (on(SKIP, self._skip),), self._expect),
            State.DETAIL: Screen(
                self._detail,
                (
                    on(CANCEL, self._confirm_cancel),
                    on(DECLINE, self._cancel),
                    on(SIGN_UP, self._take),
                ),
            ),
            State.CONFIRM_CANCEL: Screen(
                self._ask_cancel, (on(YES_CANCEL, self._cancel), on(KEEP, self._keep))
            ),
        }

    def everywhere(self) -> tuple[On, ...]:
        return (
            on(MY_SIGNUPS, self._my_signups),
            on(EVENTS, self._events),
            on(OPEN_EVENT, self._open_event),
        )

    async def _my_signups(self, ctx: Context) -> Step:
        return self.go(State.LIST, {"moved_up": None})

    async def _events(self, ctx: Context) -> Step:
        return Go(Target("events", "when"))

    async def _open_event(self, ctx: Context, event_id: int) -> Step:
        return Go(Target("events", "detail", {"event_id": event_id}))

    async def _current(self, ctx: Context) -> MyRegistration | None:
        registration_id = ctx.data.get("registration_id")
        if not isinstance(registration_id, int):
            return None
        return await ctx.services.registrations.get(ctx.member.id, registration_id)

    # -- "Meine Anmeldungen" ---------------------------------------------------
    async def _list(self, ctx: Context) -> Screenful:
        mine = await ctx.services.registrations.mine(ctx.member.id, ctx.now)
        if not mine:
            text = ctx._("You are not signed up for anything yet. Look under “Events”.")
            return (say(text, (Button(ctx._("Events"), EVENTS.payload),), nav_row(ctx)),)
        lines = [ctx._("Your sign-ups:")]
        for number, r in enumerate(mine, 1):
            lines.append(
                f"{number}. {ctx.t.when(r.start_at, r.end_at)}\n   {r.title}\n   "
                + status_line(ctx, r)
            )
        rows = [(Button(short(r.title), MY_REGISTRATION(r.id)),) for r in mine]
        return (say("\n\n".join(lines), *rows, nav_row(ctx)),)

    async def _open(self, ctx: Context, registration_id: int) -> Step:
        return self.go(State.DETAIL, {"registration_id": registration_id})

    # -- signing up with an expectation ------------------------------------------
    async def _ask_expectation(self, ctx: Context) -> Screenful:
        text = ctx._(
            "What do you expect from the workshop? A sentence is enough: "
            "it helps the experts prepare. You can also skip this."
        )
        return (say(text, (Button(ctx._("Skip"), SKIP.payload),), nav_row(ctx)),)

    async def _skip(self, ctx: Context) -> Step:
        return await self._expect(ctx, None)

    async def _expect(self, ctx: Context, msg: Incoming | None) -> Step:
        event_id = ctx.data.get("event_id")
        if not isinstance(event_id, int):
            return Go(Target("menu", "main"))
        if msg is None:
            return await sign_up(ctx, event_id, None)
        return too_long(ctx, msg.text, MAX_EXPECTATION) or await sign_up(ctx, event_id, msg.text)

    # -- one sign-up ------------------------------------------------------------
    async def _detail(self, ctx: Context) -> Screenful:
        r = await self._current(ctx)
        if r is None:
            return (say(ctx._("This registration is no longer there."), nav_row(ctx)),)
        lines = [r.title, word(ctx.t, FORMAT_WORDS, r.format), ctx.t.when(r.start_at, r.end_at)]
        if where(r):
            lines.append(where(r))
        minimum = None if r.event_cancelled else minimum_line(ctx, r.minimum, r.minimum_by)
        if minimum:
            lines.append(minimum)
        lines += ["", status_line(ctx, r)]
        if r.event_cancelled and r.cancel_reason:
            lines.append(ctx._("Reason: {reason}").format(reason=r.cancel_reason))
        if r.expectation:
            lines.append(ctx._("Your expectation: {text}").format(text=r.expectation))
        rows: list[tuple[Button, ...]] = []
        if not r.event_cancelled and r.status == RegistrationStatus.HELD:
            rows.append(
                (
                    Button(ctx._("Take the seat"), SIGN_UP(r.event_id)),
                    Button(ctx._("Decline the seat"), DECLINE.payload),
                )
            )
        elif not r.event_cancelled and r.status in (
            RegistrationStatus.REGISTERED,
            RegistrationStatus.WAITLISTED,
        ):
            if ctx.data.get("moved_up"):
                rows.append((Button(ctx._("Decline the seat"), DECLINE.payload),))
            else:
                rows.append((Button(ctx._("Cancel my sign-up"), CANCEL.payload),))
        rows.append((Button(ctx._("About the event"), OPEN_EVENT(r.event_id)),))
        rows.append((Button(ctx._("My sign-ups"), MY_SIGNUPS.payload),))
        return (say("\n".join(lines), *rows, nav_row(ctx)),)

    async def _take(self, ctx: Context, event_id: int) -> Step:
        """The seat kept for an invited member: theirs, with the wish they gave."""
        r = await self._current(ctx)
        return await sign_up(ctx, event_id, r.expectation if r else None)

    async def _confirm_cancel(self, ctx: Context) -> Step:
        return self.go(State.CONFIRM_CANCEL)

    async def _ask_cancel(self, ctx: Context) -> Screenful:
        r = await self._current(ctx)
        if r is None:
            return (say(ctx._("This registration is no longer there."), nav_row(ctx)),)
        text = ctx._("Do you really want to cancel “{title}” ({when})?").format(
            title=r.title, when=ctx.t.when(r.start_at, r.end_at)
        )
        rows = (
            (Button(ctx._("Yes, cancel"), YES_CANCEL.payload),),
            (Button(ctx._("No, keep it"), KEEP.payload),),
        )
        return (say(text, *rows),)

    async def _keep(self, ctx: Context) -> Step:
        return self.go(State.DETAIL, remember=False)

    async def _cancel(self, ctx: Context) -> Step:
        r = await self._current(ctx)
        if r is None:
            return self.go(State.LIST, remember=False)
        await ctx.services.registrations.cancel(ctx.member.id, r.id, ctx.now)
        text = ctx._("You are no longer signed up for “{title}”.").format(title=r.title)
        if r.status == RegistrationStatus.REGISTERED:
            text += " " + ctx._("Your seat goes to the next person on the waiting list.")
        data = {"moved_up": None, "registration_id": None}
        return self.go(State.LIST, data, say=note(text), remember=False)
