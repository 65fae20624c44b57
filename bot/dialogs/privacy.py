"""The member's data: the privacy text agreed to at the start, "Meine Daten" (everything
kept, as two files) and "Alles löschen" (asked once more, then done at once)."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

from bot.codes import PRIVACY_VERSION
from bot.dialogs.actions import Action
from bot.dialogs.base import (
    Context,
    Dialog,
    Erased,
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
)
from bot.i18n import N_
from bot.messages import Attachment, Button, OutMessage

AGREE = Action("privacy_yes")
DECLINE = Action("privacy_no")
SEND = Action("data_send")
ERASE = Action("data_erase")
ERASE_YES = Action("data_erase_yes")
KEEP = Action("data_keep")

MY_DATA = Target("my_data", "main")
ASK_ERASE = Target("my_data", "erase")
CONSENT = Target("onboarding", "consent")
MY_DATA_LABEL = N_("My data")


def consent_screen(ctx: Context) -> Screenful:
    """What is kept, who sees what, how to delete it: before anything but the language."""
    lines = [
        ctx._("Before we start, about your data:"),
        ctx._(
            "• I keep your language, your town, how far you would travel, your interests "
            "and what you sign up for."
        ),
        ctx._(
            "• Whoever runs an event sees your first name and your wish for it. "
            "Nobody sees where you live."
        ),
        ctx._(
            "• Under “My data” you see everything I keep. "
            "“Delete everything” deletes it, at any time."
        ),
    ]
    if ctx.privacy_url:
        lines.append(ctx._("More about it: {link}").format(link=ctx.privacy_url))
    row = (
        Button(ctx._("I agree"), AGREE.payload),
        Button(ctx._("I don't agree"), DECLINE.payload),
    )
    return (say("\n".join(lines), row),)


async def declined(ctx: Context) -> Step:
    """No yes, no data: what the first message stored (the language) goes again. A
    member from before the privacy text has more to lose (sign-ups, answers): they are
    asked once more, on the screen of "Delete everything"."""
    if ctx.member.onboarded:
        return Go(ASK_ERASE, remember=False)
    privacy = ctx.services.privacy
    text = ctx._("All right. I have deleted what I knew about you. Write to me whenever you like.")
    if privacy is None:
        return Stay(say=note(text))
    await privacy.erase(ctx.member.id, ctx.now)
    return Erased(say=(OutMessage(text),))


class State(enum.StrEnum):
    MAIN = "main"
    ERASE = "erase"


class MyData(Dialog):
    """ "Meine Daten": the files, and the way to "Alles löschen"."""

    name = "my_data"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {
            State.MAIN: Screen(self._main, (on(SEND, self._send), on(ERASE, self._ask_erase))),
            State.ERASE: Screen(self._erase, (on(ERASE_YES, self._erased), on(KEEP, self._keep))),
        }

    async def _main(self, ctx: Context) -> Screenful:
        text = "\n".join(
            (
                ctx._("Your data:"),
                ctx._(
                    "I send you everything I keep about you as two files: one to read, "
                    "and the same for computers."
                ),
                ctx._("Or delete everything: then I forget you."),
            )
        )
        rows = (
            (Button(ctx._("Send my data"), SEND.payload),),
            (Button(ctx._("Delete everything"), ERASE.payload),),
            nav_row(ctx),
        )
        return (say(text, *rows),)

    async def _send(self, ctx: Context) -> Step:
        privacy = ctx.services.privacy
        if privacy is None:
            return Stay(say=note(ctx._("Sorry, that is not possible here.")))
        data = await privacy.export(ctx.member.id, ctx.now)
        day = ctx.now.date().isoformat()
        readable = Attachment(
            f"werkbank-{day}.txt", "text/plain", readable_export(ctx, data).encode("utf-8")
        )
        machine = Attachment(
            f"werkbank-{day}.json",
            "application/json",
            json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"),
        )
        return Stay(
            say=(
                OutMessage(ctx._("Here is everything I keep about you."), attachment=readable),
                OutMessage("", attachment=machine),
            )
        )

    async def _ask_erase(self, ctx: Context) -> Step:
        return self.go(State.ERASE)

    async def _erase(self, ctx: Context) -> Screenful:
        lines = [ctx._("Really delete everything? This cannot be undone.")]
        privacy = ctx.services.privacy
        if privacy is not None:
            plan = await privacy.plan(ctx.member.id, ctx.now)
            if plan.seats:
                seats = ctx._(
                    "• Your sign-ups for coming events: {n}. They are cancelled; "
                    "whoever waits gets the seat."
                )
                lines.append(seats.format(n=plan.seats))
            if plan.events:
                lines.append(_events_line(ctx, plan.events, plan.events_go_to))
        lines.append(ctx._("• Past sign-ups and answers stay only as numbers, without your name."))
        rows = (
            (Button(ctx._("Yes, delete everything"), ERASE_YES.payload),),
            (Button(ctx._("No, keep my data"), KEEP.payload),),
        )
        return (say("\n".join(lines), *rows),)

    async def _erased(self, ctx: Context) -> Step:
        privacy = ctx.services.privacy
        if privacy is None:
            return Stay(say=note(ctx._("Sorry, that is not possible here.")))
        done = await privacy.erase(ctx.member.id, ctx.now)
        lines = [ctx._("Done: I have deleted everything about you.")]
        if done.events:
            lines.append(_events_line(ctx, done.events, done.events_go_to, done=True))
        lines.append(ctx._("If you write to me again, we start afresh."))
        return Erased(say=(OutMessage("\n".join(lines)),))

    async def _keep(self, ctx: Context) -> Step:
        kept = note(ctx._("Good, nothing was deleted."))
        if ctx.member.privacy_version != PRIVACY_VERSION:
            return Go(CONSENT, kept, remember=False)  # came from "I don't agree": asked again
        return Go(MY_DATA, kept, remember=False)


def _events_line(ctx: Context, count: int, goes_to: str, done: bool = False) -> str:
    """What happens to the coming events of an organiser who deletes everything."""
    if goes_to == "cancelled":
        if done:
            text = ctx._("Your coming events ({n}) are cancelled. Everyone signed up is told.")
        else:
            text = ctx._(
                "• Coming events you organise: {n}. They are cancelled, "
                "and everyone signed up is told."
            )
    elif done:
        text = ctx._("Your coming events ({n}) now belong to the operator of Werkbank.")
    else:
        text = ctx._("• Coming events you organise: {n}. They go to the operator of Werkbank.")
    return text.format(n=count)


# The export's field names in words, for the file to read (the JSON keeps its keys).
FIELD_WORDS: Mapping[str, str] = {
    "display_name": N_("Name"),
    "language": N_("Language"),
    "home": N_("Place"),
    "radius_km": N_("Radius (km)"),
    "interest": N_("Interest"),
    "trade": N_("Trade"),
    "skills": N_("Skills"),
    "resources": N_("Resources"),
    "role": N_("Role"),
    "onboarded": N_("Set up"),
    "reminder_day_before": N_("Reminder the day before"),
    "reminder_two_hours": N_("Reminder 2 hours before"),
    "created_at": N_("Since"),
    "channel": N_("Channel"),
    "id": N_("Account"),
    "chat": N_("Chat"),
    "blocked": N_("Blocked"),
    "event": N_("Event"),
    "starts_at": N_("Starts"),
    "place": N_("Place"),
    "status": N_("Status"),
    "expectation": N_("Wish"),
    "signed_up_at": N_("Signed up on"),
    "title": N_("Title"),
    "description": N_("Description"),
    "topic": N_("Topic"),
    "since": N_("Since"),
    "checkin": N_("Check-in"),
    "due_at": N_("Asked on"),
    "met": N_("It worked out"),
    "rating": N_("Rating"),
    "takeaway": N_("What you took away"),
    "contact": N_("Stay in touch"),
    "tried": N_("Tried since"),
    "help": N_("Help wanted"),
    "outcome": N_("What came of it"),
    "text": N_("Text"),
    "sent_at": N_("Sent"),
    "written_at": N_("Written"),
    "recipients": N_("Recipients"),
    "name": N_("Name"),
    "town": N_("Town"),
    "at": N_("When"),
    "action": N_("What"),
    "detail": N_("Details"),
}


def readable_export(ctx: Context, data: Mapping[str, Any]) -> str:
    """The export as a text to read: a heading per part, one line per entry."""
    sections = (
        ("member", N_("About you")),
        ("consents", N_("What you agreed to")),
        ("accounts", N_("Your chat accounts")),
        ("registrations", N_("Your sign-ups")),
        ("topics_proposed", N_("Topics you proposed")),
        ("topic_supports", N_("Topics you support")),
        ("checkin_answers", N_("Your answers after workshops")),
        ("announcements_received", N_("Announcements you received")),
        ("events_organised", N_("Events you organise")),
        ("announcements_sent", N_("Announcements you sent")),
        ("places_added", N_("Places you added")),
        ("consent_changes", N_("Your changes to what you agreed to")),
    )
    out = [ctx._("Werkbank: everything kept about you ({date})").format(date=data["exported_at"])]
    for key, heading in sections:
        value = data.get(key)
        out += ["", ctx._(heading), "-" * len(ctx._(heading))]
        if not value:
            out.append(ctx._("(nothing)"))
        elif isinstance(value, dict):
            out += [f"{_field(ctx, k)}: {_plain(v)}" for k, v in value.items()]
        else:
            out += [
                "• " + "; ".join(f"{_field(ctx, k)}: {_plain(v)}" for k, v in entry.items())
                for entry in value
            ]
    return "\n".join(out) + "\n"


def _field(ctx: Context, key: str) -> str:
    words = FIELD_WORDS.get(key)
    return ctx._(words) if words else key  # a consent's own key, as stored


def _plain(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return str(value)
