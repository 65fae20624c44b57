"""The words of notices: messages a member gets without having just written.

A notice that offers an action (cancel, decline a seat) also opens the screen
for it, so its buttons, numbers and typed words work on every channel; the
screen the member was on stays one "Zurück" away.
"""

from __future__ import annotations

from bot.codes import NoticeKind
from bot.dialogs.base import Context, Target
from bot.dialogs.words import FIELD_WORDS, word
from bot.messages import OutMessage
from bot.services.contracts import NoticeView


def _when_where(ctx: Context, n: NoticeView) -> str:
    parts = [ctx.t.when(n.start_at, n.end_at)] if n.start_at else []
    place = ", ".join(p for p in (n.place_name, n.town) if p)
    if place:
        parts.append(place)
    return "\n".join(parts)


def notice_screen(ctx: Context, n: NoticeView) -> tuple[tuple[OutMessage, ...], Target | None]:
    """What to say, and the screen to open after it (None: leave the member where they are)."""
    detail: Target | None = (
        Target("registrations", "detail", {"registration_id": n.registration_id})
        if n.registration_id is not None
        else None
    )
    title = n.title
    if n.kind == NoticeKind.REMINDER_DAY_BEFORE:
        # Sent late after downtime it may already be the event's day: say which.
        today = ctx.t.local(ctx.now).date()
        if n.start_at is not None and ctx.t.local(n.start_at).date() == today:
            text = ctx._("Reminder: “{title}” is today.").format(title=title)
        else:
            text = ctx._("Reminder: “{title}” is tomorrow.").format(title=title)
        text += "\n" + _when_where(ctx, n) + "\n\n"
        text += ctx._("If you can't come, please cancel, so that someone else can have the seat.")
        return (OutMessage(text),), detail
    if n.kind == NoticeKind.REMINDER_TWO_HOURS:
        text = ctx._("Reminder: “{title}” starts in two hours.").format(title=title)
        text += "\n" + _when_where(ctx, n)
        return (OutMessage(text),), detail
    if n.kind == NoticeKind.MOVED_UP:
        text = "🎉 " + ctx._("A seat has come free: you are now signed up for “{title}”.").format(
            title=title
        )
        text += "\n" + _when_where(ctx, n) + "\n\n"
        text += ctx._("Can't make it after all? Tap “Decline the seat” and it goes to the next.")
        if detail is not None:
            detail = Target(detail.flow, detail.state, {**detail.data, "moved_up": True})
        return (OutMessage(text),), detail
    if n.kind == NoticeKind.EVENT_CHANGED:
        text = ctx._("“{title}” has changed:").format(title=title)
        changes = n.params.get("changes")
        if isinstance(changes, list):
            text += "\n" + "\n".join(f"• {ctx._(str(change))}" for change in changes)
        text += "\n\n" + _when_where(ctx, n)
        return (OutMessage(text),), detail
    if n.kind == NoticeKind.EVENT_CANCELLED:
        text = "❌ " + ctx._("Cancelled: “{title}” will not take place.").format(title=title)
        text += "\n" + _when_where(ctx, n)
        reason = n.params.get("reason")
        if reason:
            text += "\n" + ctx._("Reason: {reason}").format(reason=reason)
        return (OutMessage(text),), None
    if n.kind == NoticeKind.MINIMUM_CHECK:
        text = ctx._(
            "“{title}” has {registered} sign-ups so far; you wanted at least {minimum}."
        ).format(title=title, registered=n.registered, minimum=n.minimum)
        text += "\n" + _when_where(ctx, n) + "\n\n"
        text += ctx._("Hold the event anyway, or cancel it now, while people can still plan?")
        return (OutMessage(text),), Target("my_events", "minimum_check", {"event_id": n.event_id})
    if n.kind == NoticeKind.TOPIC_WITHDRAWN:
        text = ctx._(
            "The topic “{title}” you supported was withdrawn by the person who proposed it."
        ).format(title=title)
        text += "\n" + ctx._("Under “Topics nearby” you find others, or propose your own.")
        return (OutMessage(text),), None
    if n.kind == NoticeKind.TOPIC_DEMAND:
        text = ctx.t.ngettext(
            "Demand near you: {n} person wants to learn “{title}”.",
            "Demand near you: {n} people want to learn “{title}”.",
            n.people,
        ).format(n=n.people, title=title)
        if n.fields:
            mix = ", ".join(
                f"{word(ctx.t, FIELD_WORDS, f)} {count}" for f, count in n.fields.items()
            )
            text += "\n" + ctx._("Their fields: {mix}").format(mix=mix)
        text += "\n" + ctx._("A small transfer workshop could come of it.")
        return (OutMessage(text),), Target("topics", "detail", {"topic_id": n.topic_id})
    if n.kind == NoticeKind.HOLD_ENDS:
        text = ctx._(
            "The seat kept for you at “{title}” is now open to everyone. "
            "While seats are free, you can still sign up."
        ).format(title=title)
        text += "\n" + _when_where(ctx, n)
        return (OutMessage(text),), Target("events", "detail", {"event_id": n.event_id})
    if n.kind == NoticeKind.TOPIC_CLOSED:
        text = ctx._("The topic “{title}” you want was closed by an organiser.").format(title=title)
        text += "\n" + ctx._("Reason: {reason}").format(reason=n.params.get("reason", ""))
        return (OutMessage(text),), None
    if n.kind == NoticeKind.TOPIC_MERGED:
        text = ctx._("The topic “{title}” was merged into “{into}”.").format(
            title=title, into=n.params.get("into_title", "")
        )
        into = n.params.get("into")
        if not isinstance(into, int):
            return (OutMessage(text),), None
        return (OutMessage(text),), Target("topics", "transfer", {"topic_id": into})
    if n.kind == NoticeKind.TOPIC_INVITED:
        text = "✉️ " + ctx._(
            "You are invited personally: a small workshop on a topic you want, “{title}”, "
            "with 3 to 5 people from different fields."
        ).format(title=title)
        text += "\n" + _when_where(ctx, n)
        return (OutMessage(text),), Target("events", "detail", {"event_id": n.event_id})
    if n.kind == NoticeKind.TOPIC_PLANNED:
        text = "🎉 " + ctx._("A workshop was made of a topic you want: “{title}”.").format(
            title=title
        )
        text += "\n" + _when_where(ctx, n)
        return (OutMessage(text),), Target("events", "detail", {"event_id": n.event_id})
    raise ValueError(f"unknown notice kind {n.kind!r}")
