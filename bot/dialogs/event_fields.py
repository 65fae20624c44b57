"""What creating an event and editing one share: the organiser's guard, the title,
date and seats questions, and how typed dates and counts are read.

Every screen checks the role again (it may have been revoked mid-dialog) and every
service call re-checks it with the event's owner, so a forged button or a stale
screen changes nothing; the member gets a kind refusal and the menu. The event being
created or edited lives in the dialog state ("draft"), times as ISO text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.codes import TRANSFER_SEATS, EventFormat
from bot.dialogs.actions import COUNT, Action, ValueAction
from bot.dialogs.base import (
    Context,
    Dialog,
    Go,
    Screenful,
    Stay,
    Step,
    Target,
    nav_row,
    note,
    say,
)
from bot.dialogs.words import ORGANISER_FORMAT_WORDS, word
from bot.i18n import Translator
from bot.messages import Button, Incoming
from bot.services.contracts import MAX_EVENT_DESCRIPTION, MAX_EVENT_TITLE, NotAllowed
from bot.when import missing_time, parse_when

MAX_SEATS = 500
MAX_TITLE = MAX_EVENT_TITLE
MAX_DESCRIPTION = MAX_EVENT_DESCRIPTION
MAX_PLACE_NAME = 200
CAPACITY_CHOICES = (5, 10, 20)

SEATS = ValueAction("seats", COUNT)
WHEN_RIGHT = Action("when_yes")
WHEN_WRONG = Action("when_no")
# A count typed with its word: "12 Plätze", "3 Personen", "12 seats". The word is what
# tells it from an option number on channels that number their buttons.
_COUNT = re.compile(
    r"([0-9]{1,4})\s*(?:plätze|plaetze|platz|personen|person|leute|teilnehmende|"
    r"teilnehmer|teilnehmerinnen|seats?|people|persons?|participants?)?\.?"
)


def seats_unit(t: Translator, n: int) -> str:
    return t.ngettext("{n} seat", "{n} seats", n).format(n=n)


def people_unit(t: Translator, n: int) -> str:
    return t.ngettext("{n} person", "{n} people", n).format(n=n)


def typed_count(text: str) -> int | None:
    """A whole number typed with or without its word; None for anything else."""
    match = _COUNT.fullmatch(text.strip().lower())
    return int(match[1]) if match else None


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def draft_of(ctx: Context) -> dict[str, Any]:
    return dict(ctx.data.get("draft") or {})


def refusal(ctx: Context) -> Go:
    text = ctx._("Only organisers can do that. Ask the Werkbank team if you want to organise.")
    return Go(Target("menu", "main"), say=note(text), remember=False)


class OrganiserDialog(Dialog):
    """A dialog only organisers may use: every screen and answer checks the role, and a
    service's NotAllowed (someone else's event, a forged id) becomes the kind refusal."""

    async def show(self, ctx: Context, state: str) -> Screenful:
        screen = self.screen(state)  # an unknown state is a bug, whoever asks
        refused = say(
            ctx._("Only organisers can do that. Ask the Werkbank team if you want to organise."),
            nav_row(ctx, back=False),
        )
        if not ctx.member.is_organiser:
            return (refused,)
        try:
            return await screen.render(ctx)
        except NotAllowed:
            return (refused,)

    async def handle(self, ctx: Context, state: str, msg: Incoming) -> Step:
        if not ctx.member.is_organiser:
            return refusal(ctx)
        try:
            return await super().handle(ctx, state, msg)
        except NotAllowed:
            return refusal(ctx)


# -- the questions both flows ask ---------------------------------------------------
async def ask_title(ctx: Context) -> Screenful:
    text = ctx._("What is the title? (for example: “Wood meets laser”)")
    return (say(text, nav_row(ctx)),)


def title_too_long(ctx: Context, title: str) -> Stay | None:
    if len(title) <= MAX_TITLE:
        return None
    hint = ctx._("Please keep the title under {count} characters.").format(count=MAX_TITLE)
    return Stay(say=note(hint))


async def ask_when(ctx: Context) -> Screenful:
    text = ctx._(
        "When? Type it the way you would say it, "
        "for example “Tue 5 pm”, “Nov 25 5-8 pm” or “tomorrow 6 pm”."
    )
    return (say(text, nav_row(ctx)),)


def read_when(ctx: Context, text: str) -> dict[str, str | None] | Stay:
    """The typed date as draft fields (start_at, end_at), or a hint to type it again."""
    when = parse_when(text, ctx.now, ctx.t.tz)
    if when is None:
        if missing_time(text, ctx.now, ctx.t.tz):
            hint = ctx._("At what time? Please add it, for example “Nov 25 5 pm”.")
        else:
            hint = ctx._("I didn't understand that date. Try “Tue 5 pm” or “Nov 25 5-8 pm”.")
        return Stay(say=note(hint))
    if when.start <= ctx.now:
        return Stay(say=note(ctx._("That is in the past. Please type a later date.")))
    return {"start_at": iso(when.start), "end_at": iso(when.end)}


async def confirm_when(ctx: Context) -> Screenful:
    draft = draft_of(ctx)
    start, end = moment(draft.get("start_at")), moment(draft.get("end_at"))
    assert start is not None
    text = ctx._("I understood: {when}. Is that right?").format(when=ctx.t.when(start, end))
    rows = (
        (Button(ctx._("Yes"), WHEN_RIGHT.payload), Button(ctx._("No, again"), WHEN_WRONG.payload)),
    )
    return (say(text, *rows, nav_row(ctx)),)


async def ask_capacity(ctx: Context) -> Screenful:
    text = ctx._("How many seats? Choose, or type a number with “seats”, for example “12 seats”.")
    transfer = draft_of(ctx).get("format") == EventFormat.TRANSFER
    if transfer:
        text += "\n" + ctx._("Transfer workshops work best with 3 to 5 experts.")

    def label(n: int) -> str:
        seats = seats_unit(ctx.t, n)
        # A transfer workshop's default: the pilot's small groups of up to five.
        if transfer and n == TRANSFER_SEATS:
            return ctx._("{count} (default)").format(count=seats)
        return seats

    choices = tuple(Button(label(n), SEATS(n)) for n in CAPACITY_CHOICES)
    unlimited = (Button(ctx._("No limit"), SEATS(None)),)
    return (say(text, choices, unlimited, nav_row(ctx)),)


def seats_hint(ctx: Context) -> Stay:
    text = ctx._("Please type a number from 1 to {max}, or choose.").format(max=MAX_SEATS)
    return Stay(say=note(text))


def transfer_warning(ctx: Context, event_format: Any, seats: int | None) -> tuple[Any, ...]:
    """A gentle word when a transfer workshop gets more than the pilot's five seats."""
    if event_format != EventFormat.TRANSFER or (seats is not None and seats <= TRANSFER_SEATS):
        return ()
    if seats is None:
        text = ctx._(
            "Without a limit a transfer workshop can grow large: small groups work "
            "best. You can set the seats later."
        )
    else:
        text = ctx._(
            "More than 5 is a lot for a transfer workshop: small groups work best. "
            "I have noted {count}; you can change it later."
        ).format(count=seats)
    return note("⚠️ " + text)


def draft_lines(ctx: Context, draft: Mapping[str, Any]) -> list[str]:
    """An event being created, as its preview shows it."""
    start, end = moment(draft.get("start_at")), moment(draft.get("end_at"))
    assert start is not None
    seats = draft.get("capacity")
    lines = [
        str(draft.get("title", "")),
        word(ctx.t, ORGANISER_FORMAT_WORDS, str(draft.get("format"))),
        ctx.t.when(start, end),
        ctx._("Place: {value}").format(value=draft.get("place_label", "")),
        ctx._("Seats: {value}").format(value=seats if seats else ctx._("No limit")),
    ]
    if draft.get("minimum"):
        by = moment(draft.get("minimum_by"))
        lines.append(
            ctx._("Minimum: {count} by {day}").format(
                count=draft["minimum"], day=ctx.t.day(by) if by else "–"
            )
        )
    deadline = moment(draft.get("deadline"))
    lines.append(
        ctx._("Sign-up until: {value}").format(
            value=ctx.t.when(deadline, None) if deadline else ctx._("the start")
        )
    )
    if draft.get("description"):
        lines += ["", str(draft["description"])]
    return lines
