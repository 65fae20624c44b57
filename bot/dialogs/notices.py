"""The words of notices: messages a member gets without having just written.

A notice that offers an action (cancel, decline a seat) also opens the screen
for it, so its buttons, numbers and typed words work on every channel; the
screen the member was on stays one "Zurück" away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.codes import NoticeKind
from bot.dialogs.announcements import announcement_words
from bot.dialogs.base import Context, Target
from bot.dialogs.event_fields import moment
from bot.dialogs.registrations import calendar_attachment
from bot.dialogs.words import FIELD_WORDS, word
from bot.messages import OutMessage
from bot.services.contracts import SEATS_CHANGED, TIME_CHANGED, TITLE_CHANGED, NoticeView


def _when_where(ctx: Context, n: NoticeView, time: bool = True) -> str:
    parts = [ctx.t.when(n.start_at, n.end_at)] if n.start_at and time else []
    place = ", ".join(p for p in (n.place_name, n.town) if p)
    if place:
        parts.append(place)
    return "\n".join(parts)


Words = tuple[tuple[OutMessage, ...], Target | None]


def _detail(n: NoticeView) -> Target | None:
    """The member's registration, where a notice is about one."""
    if n.registration_id is None:
        return None
    return Target("registrations", "detail", {"registration_id": n.registration_id})


async def notice_screen(ctx: Context, n: NoticeView) -> Words:
    """What to say, and the screen to open after it (None: leave the member where they are)."""
    words = NOTICE_WORDS.get(n.kind)
    if words is None:
        raise ValueError(f"unknown notice kind {n.kind!r}")
    said, to = words(ctx, n)
    if n.kind in _BRING_CALENDAR and said and n.event_id is not None:
        # The calendar file as the event is now: same UID, higher SEQUENCE, so the
        # member's calendar moves the entry they have instead of adding another.
        ics = await ctx.services.registrations.calendar_file(n.event_id, ctx.t.locale)
        if ics is not None:
            said = (replace(said[0], attachment=calendar_attachment(n.event_id, ics)), *said[1:])
    return said, to


def _reminder_day_before(ctx: Context, n: NoticeView) -> Words:
    title = n.title
    # Sent late after downtime it may already be the event's day: say which.
    today = ctx.t.local(ctx.now).date()
    if n.start_at is not None and ctx.t.local(n.start_at).date() == today:
        text = ctx._("Reminder: “{title}” is today.").format(title=title)
    else:
        text = ctx._("Reminder: “{title}” is tomorrow.").format(title=title)
    text += "\n" + _when_where(ctx, n) + "\n\n"
    text += ctx._("If you can't come, please cancel, so that someone else can have the seat.")
    return (OutMessage(text),), _detail(n)


def _reminder_two_hours(ctx: Context, n: NoticeView) -> Words:
    title = n.title
    text = ctx._("Reminder: “{title}” starts in two hours.").format(title=title)
    text += "\n" + _when_where(ctx, n)
    return (OutMessage(text),), _detail(n)


def _moved_up(ctx: Context, n: NoticeView) -> Words:
    title = n.title
    text = "🎉 " + ctx._("A seat has come free: you are now signed up for “{title}”.").format(
        title=title
    )
    text += "\n" + _when_where(ctx, n) + "\n\n"
    text += ctx._("Can't make it after all? Tap “Decline the seat” and it goes to the next.")
    detail = _detail(n)
    if detail is not None:  # the seat is new: offer to decline it rather than "cancel"
        detail = Target(detail.flow, detail.state, {**detail.data, "moved_up": True})
    return (OutMessage(text),), detail


def _event_changed(ctx: Context, n: NoticeView) -> Words:
    before, after = _values(n.params.get("before")), _values(n.params.get("after"))
    changes = n.params.get("changes")
    lines = [
        _change_line(ctx, str(change), before, after)
        for change in (changes if isinstance(changes, list) else ())
    ]
    # Named before (a title changed since) the title the member knows.
    title = before.get("title") or n.title
    text = ctx._("“{title}” has changed:").format(title=title)
    if lines:
        text += "\n" + "\n".join(f"• {line}" for line in lines)
    # A new time is said above with the old one; below, only where.
    footer = _when_where(ctx, n, time="start_at" not in after)
    if footer:
        text += "\n\n" + footer
    return (OutMessage(text),), _detail(n)


def _values(value: object) -> dict[str, object]:
    return dict(value) if isinstance(value, dict) else {}


def _change_line(
    ctx: Context, change: str, before: dict[str, object], after: dict[str, object]
) -> str:
    """One change in words: old and new where the notice kept them (a notice written
    before they were kept names only what changed)."""
    if change == TIME_CHANGED and "start_at" in after:
        new_start, new_end = moment(after.get("start_at")), moment(after.get("end_at"))
        old_start, old_end = moment(before.get("start_at")), moment(before.get("end_at"))
        if new_start is not None and old_start is not None:
            old = _old_time(ctx, old_start, old_end, new_start)
            new = ctx.t.when(new_start, new_end)
            return ctx._("New time: {new} (was {old})").format(new=new, old=old)
    if change == TITLE_CHANGED and "title" in after:
        return ctx._("New title: “{new}” (was “{old}”)").format(
            new=after["title"], old=before.get("title", "")
        )
    if change == SEATS_CHANGED and "capacity" in after:
        return ctx._("Seats: now {new} (was {old})").format(
            new=_seats(ctx, after.get("capacity")), old=_seats(ctx, before.get("capacity"))
        )
    return ctx._(change)


def _old_time(ctx: Context, start: datetime, end: datetime | None, new_start: datetime) -> str:
    """The old time, with its day only when the day changed too."""
    if ctx.t.local(start).date() != ctx.t.local(new_start).date():
        return ctx.t.when(start, end)
    if end is not None and ctx.t.local(end).date() == ctx.t.local(start).date():
        return ctx.t.time_range(start, end)
    return ctx.t.time(start)


def _seats(ctx: Context, value: object) -> str:
    return (
        str(value) if isinstance(value, int) else ctx._("no limit")
    )  # mid-sentence: "(vorher unbegrenzt)"


def _event_cancelled(ctx: Context, n: NoticeView) -> Words:
    title = n.title
    text = "❌ " + ctx._("Cancelled: “{title}” will not take place.").format(title=title)
    text += "\n" + _when_where(ctx, n)
    reason = n.params.get("reason")
    if reason:
        text += "\n" + ctx._("Reason: {reason}").format(reason=reason)
    return (OutMessage(text),), None


def _minimum_check(ctx: Context, n: NoticeView) -> Words:
    title = n.title
    text = ctx._(
        "“{title}” has {registered} sign-ups so far; you wanted at least {minimum}."
    ).format(title=title, registered=n.registered, minimum=n.minimum)
    text += "\n" + _when_where(ctx, n) + "\n\n"
    text += ctx._("Hold the event anyway, or cancel it now, while people can still plan?")
    return (OutMessage(text),), Target("my_events", "minimum_check", {"event_id": n.event_id})


def _topic_withdrawn(ctx: Context, n: NoticeView) -> Words:
    title = n.title
    text = ctx._(
        "The topic “{title}” you supported was withdrawn by the person who proposed it."
    ).format(title=title)
    text += "\n" + ctx._("Under “Topics nearby” you find others, or propose your own.")
    return (OutMessage(text),), None


def _topic_demand(ctx: Context, n: NoticeView) -> Words:
    title = n.title
    text = ctx.t.ngettext(
        "Demand near you: {n} person wants to learn “{title}”.",
        "Demand near you: {n} people want to learn “{title}”.",
        n.people,
    ).format(n=n.people, title=title)
    if n.fields:
        mix = ", ".join(f"{word(ctx.t, FIELD_WORDS, f)} {count}" for f, count in n.fields.items())
        text += "\n" + ctx._("Their fields: {mix}").format(mix=mix)
    text += "\n" + ctx._("A small transfer workshop could come of it.")
    return (OutMessage(text),), Target("topics", "detail", {"topic_id": n.topic_id})


def _hold_ends(ctx: Context, n: NoticeView) -> Words:
    title = n.title
    text = ctx._(
        "The seat kept for you at “{title}” is now open to everyone. "
        "While seats are free, you can still sign up."
    ).format(title=title)
    text += "\n" + _when_where(ctx, n)
    return (OutMessage(text),), Target("events", "detail", {"event_id": n.event_id})


def _topic_closed(ctx: Context, n: NoticeView) -> Words:
    title = n.title
    text = ctx._("The topic “{title}” you want was closed by an organiser.").format(title=title)
    text += "\n" + ctx._("Reason: {reason}").format(reason=n.params.get("reason", ""))
    return (OutMessage(text),), None


def _topic_merged(ctx: Context, n: NoticeView) -> Words:
    title = n.title
    text = ctx._("The topic “{title}” was merged into “{into}”.").format(
        title=title, into=n.params.get("into_title", "")
    )
    into = n.params.get("into")
    if not isinstance(into, int):
        return (OutMessage(text),), None
    return (OutMessage(text),), Target("topics", "transfer", {"topic_id": into})


def _topic_invited(ctx: Context, n: NoticeView) -> Words:
    title = n.title
    text = "✉️ " + ctx._(
        "You are invited personally: a small workshop on a topic you want, “{title}”, "
        "with 3 to 5 people from different fields."
    ).format(title=title)
    text += "\n" + _when_where(ctx, n)
    return (OutMessage(text),), Target("events", "detail", {"event_id": n.event_id})


def _topic_planned(ctx: Context, n: NoticeView) -> Words:
    title = n.title
    text = "🎉 " + ctx._("A workshop was made of a topic you want: “{title}”.").format(title=title)
    text += "\n" + _when_where(ctx, n)
    return (OutMessage(text),), Target("events", "detail", {"event_id": n.event_id})


def _checkin_next_day(ctx: Context, n: NoticeView) -> Words:
    text = ctx._("Yesterday was “{title}”. May I ask you briefly how it went?").format(
        title=n.title
    )
    if n.registration_id is None:
        return (OutMessage(text),), None
    to = Target("checkin", "how", {"registration_id": n.registration_id})
    return (OutMessage(text),), to


def _checkin_weeks(ctx: Context, n: NoticeView) -> Words:
    return (), _checkin_screen(n, "weeks")


def _checkin_months(ctx: Context, n: NoticeView) -> Words:
    return (), _checkin_screen(n, "months")


def _checkin_screen(n: NoticeView, state: str) -> Target | None:
    """The check-in's own screen asks the question (it names the workshop)."""
    if n.registration_id is None:
        return None
    return Target("checkin", state, {"registration_id": n.registration_id})


def _checkin_again(state: str) -> Callable[[Context, NoticeView], Words]:
    """The one reminder of an unanswered check-in: a short line and the same screen."""

    def words(ctx: Context, n: NoticeView) -> Words:
        text = ctx._("A short reminder, in case it got lost:")
        return (OutMessage(text),), _checkin_screen(n, state)

    return words


def _checkin_request(ctx: Context, n: NoticeView) -> Words:
    if n.params.get("what") == "help":
        text = ctx._("After “{title}”, someone from the group asks for help: “{text}”").format(
            title=n.title, text=n.params.get("text", "")
        )
    else:
        text = ctx._("After “{title}”, someone from the group would like to stay in touch.")
        text = text.format(title=n.title)
    data = {"event_id": n.event_id, "reply_to": n.params.get("member")}
    to = Target("my_events", "reply", {**data, "reply_about": n.params.get("what")})
    return (OutMessage(text),), to


def _organiser_reply(ctx: Context, n: NoticeView) -> Words:
    text = ctx._("An answer from the organiser of “{title}”:").format(title=n.title)
    return (OutMessage(f"{text}\n{n.params.get('text', '')}"),), None


# Notices that bring the event's calendar file as it is now.
_BRING_CALENDAR = frozenset({NoticeKind.EVENT_CHANGED})


# One entry per kind: a test checks that every NoticeKind has its words.
def _retention_warning(ctx: Context, n: NoticeView) -> Words:
    days = n.params.get("days")
    days = days if isinstance(days, int) else 30
    text = ctx._(
        "You have not used Werkbank for a long time. In {days} days I will delete what I "
        "know about you. To keep it, simply write to me, for example “Menu”."
    ).format(days=days)
    return (OutMessage(text),), None


NOTICE_WORDS: dict[NoticeKind, Callable[[Context, NoticeView], Words]] = {
    NoticeKind.REMINDER_DAY_BEFORE: _reminder_day_before,
    NoticeKind.REMINDER_TWO_HOURS: _reminder_two_hours,
    NoticeKind.MOVED_UP: _moved_up,
    NoticeKind.EVENT_CHANGED: _event_changed,
    NoticeKind.EVENT_CANCELLED: _event_cancelled,
    NoticeKind.MINIMUM_CHECK: _minimum_check,
    NoticeKind.TOPIC_WITHDRAWN: _topic_withdrawn,
    NoticeKind.TOPIC_DEMAND: _topic_demand,
    NoticeKind.HOLD_ENDS: _hold_ends,
    NoticeKind.CHECKIN_NEXT_DAY: _checkin_next_day,
    NoticeKind.CHECKIN_WEEKS: _checkin_weeks,
    NoticeKind.CHECKIN_MONTHS: _checkin_months,
    NoticeKind.CHECKIN_DAY_AGAIN: _checkin_again("how"),
    NoticeKind.CHECKIN_WEEKS_AGAIN: _checkin_again("weeks"),
    NoticeKind.CHECKIN_MONTHS_AGAIN: _checkin_again("months"),
    NoticeKind.CHECKIN_REQUEST: _checkin_request,
    NoticeKind.ORGANISER_REPLY: _organiser_reply,
    NoticeKind.TOPIC_CLOSED: _topic_closed,
    NoticeKind.TOPIC_MERGED: _topic_merged,
    NoticeKind.TOPIC_INVITED: _topic_invited,
    NoticeKind.TOPIC_PLANNED: _topic_planned,
    NoticeKind.ANNOUNCEMENT: announcement_words,
    NoticeKind.RETENTION_WARNING: _retention_warning,
}
