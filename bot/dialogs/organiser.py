"""Organisers: "Veranstaltung anlegen" (a guided dialog) and "Meine Veranstaltungen".

Every screen checks the role again (it may have been revoked mid-dialog) and
every service call re-checks it with the event's owner, so a forged button or
a stale screen changes nothing; the member gets a kind refusal and the menu.
The event being created lives in the dialog state ("draft"), times as ISO text.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.dialogs.base import ButtonRow, Context, Dialog, Go, Stay, Step, nav_row, say, too_long
from bot.dialogs.places import short
from bot.dialogs.words import FORMAT_WORDS, word
from bot.geo import GeoPoint
from bot.i18n import N_
from bot.messages import Attachment, Button, Incoming, Kind, OutMessage
from bot.services.contracts import (
    EVENT_FORMATS,
    MAX_CANCEL_REASON,
    EventChange,
    EventDraft,
    NotAllowed,
    OrganisedEvent,
    ServiceError,
)
from bot.when import missing_time, parse_when

# The pilot: transfer workshops work with 3–5 experts; more and it becomes a lecture.
TRANSFER_SEATS = 5
MAX_SEATS = 500
MAX_TITLE = 120
MAX_DESCRIPTION = 2000
MAX_PLACE_NAME = 200
CAPACITY_CHOICES = (5, 10, 20)
STATUS_WORDS = {
    "registered": N_("signed up"),
    "attended": N_("came"),
    "waitlisted": N_("waiting list"),
}
TEXT_STATES = frozenset(
    {
        "title",
        "description",
        "place_search",
        "place_new",
        "when",
        "capacity",
        "minimum",
        "minimum_by",
        "deadline",
        "edit_title",
        "edit_description",
        "edit_when",
        "edit_capacity",
        "cancel_reason",
    }
)


def refusal(ctx: Context) -> Go:
    text = ctx._("Only organisers can do that. Ask the Werkbank team if you want to organise.")
    return Go("menu", "main", say=(OutMessage(text),), remember=False)


def _number(text: str) -> int | None:
    digits = text.strip().split()[0] if text.strip() else ""
    return int(digits) if digits.isdigit() and len(digits) <= 4 else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


class Organiser(Dialog):
    name = "organiser"
    text_states = TEXT_STATES
    number_states = frozenset({"capacity", "minimum", "edit_capacity"})

    # -- screens -------------------------------------------------------------
    async def show(self, ctx: Context, state: str) -> tuple[OutMessage, ...]:
        if not ctx.member.is_organiser:
            text = ctx._(
                "Only organisers can do that. Ask the Werkbank team if you want to organise."
            )
            return (say(text, nav_row(ctx, back=False)),)
        draft = dict(ctx.data.get("draft") or {})
        screen = getattr(self, f"_show_{state}", None)
        if screen is None:
            raise ValueError(f"unknown organiser state {state!r}")
        try:
            result: tuple[OutMessage, ...] = await screen(ctx, draft)
        except NotAllowed:
            # Someone else's event (a forged id): the same kind refusal as for members.
            text = ctx._(
                "Only organisers can do that. Ask the Werkbank team if you want to organise."
            )
            return (say(text, nav_row(ctx, back=False)),)
        return result

    async def _show_format(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        rows = [(Button(word(ctx.t, FORMAT_WORDS, f), f"format:{f}"),) for f in EVENT_FORMATS]
        return (say(ctx._("New event. What kind of event is it?"), *rows, nav_row(ctx)),)

    async def _show_title(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        text = ctx._("What is the title? (for example: “Holz trifft Laser”)")
        return (say(text, nav_row(ctx)),)

    async def _show_description(
        self, ctx: Context, draft: dict[str, Any]
    ) -> tuple[OutMessage, ...]:
        text = ctx._("Describe it in a few sentences: what happens, for whom, what to bring.")
        return (say(text, (Button(ctx._("Skip"), "skip"),), nav_row(ctx)),)

    async def _show_place(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        rows: list[ButtonRow] = []
        if ctx.member.home is not None:
            near = await ctx.services.organiser.places_near(
                ctx.member.id, ctx.member.home, ctx.member.radius_km
            )
            rows += [(Button(short(f"{p.name}, {p.town}"), f"place:{p.id}"),) for p in near]
        rows.append((Button(ctx._("Search a place by name"), "place:search"),))
        rows.append((Button(ctx._("A new place"), "place:new"),))
        return (say(ctx._("Where does it take place?"), *rows, nav_row(ctx)),)

    async def _show_place_search(
        self, ctx: Context, draft: dict[str, Any]
    ) -> tuple[OutMessage, ...]:
        found = ctx.data.get("found") or []
        rows: list[ButtonRow] = [(Button(short(label), f"place:{pid}"),) for pid, label in found]
        rows.append((Button(ctx._("A new place"), "place:new"),))
        text = ctx._("Type the name of the place (or a part of it).")
        return (say(text, *rows, nav_row(ctx)),)

    async def _show_place_new(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        text = ctx._("Type the name and the town, for example: “Tischlerei Müller, Iserlohn”.")
        return (say(text, nav_row(ctx)),)

    async def _show_when(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        text = ctx._(
            "When? Type it the way you would say it, "
            "for example “Di 17 Uhr”, “25.11. 17:00-20:00” or “morgen 18 Uhr”."
        )
        return (say(text, nav_row(ctx)),)

    async def _show_when_confirm(
        self, ctx: Context, draft: dict[str, Any]
    ) -> tuple[OutMessage, ...]:
        start, end = _time(draft.get("start_at")), _time(draft.get("end_at"))
        assert start is not None
        text = ctx._("I understood: {when}. Is that right?").format(when=ctx.t.when(start, end))
        rows = ((Button(ctx._("Yes"), "when:yes"), Button(ctx._("No, again"), "when:no")),)
        return (say(text, *rows, nav_row(ctx)),)

    async def _show_capacity(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        text = ctx._("How many seats? Choose or type a number.")
        transfer = draft.get("format") == "transfer"
        if transfer:
            text += "\n" + ctx._("Transfer workshops work best with 3 to 5 experts.")

        def label(n: int) -> str:
            # A transfer workshop's default: the pilot's small groups of up to five.
            if transfer and n == TRANSFER_SEATS:
                return ctx._("{count} (default)").format(count=n)
            return str(n)

        choices = tuple(Button(label(n), f"seats:{n}") for n in CAPACITY_CHOICES)
        unlimited = (Button(ctx._("No limit"), "seats:none"),)
        return (say(text, choices, unlimited, nav_row(ctx)),)

    async def _show_minimum(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        text = ctx._(
            "Is there a minimum number of participants? If it is not reached in time, "
            "I will ask you whether to hold or cancel. Type a number or choose."
        )
        rows = ((Button(ctx._("No minimum"), "minimum:none"), Button("3", "minimum:3")),)
        return (say(text, *rows, nav_row(ctx)),)

    async def _show_minimum_by(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        text = ctx._("By when must the minimum be reached? Choose or type a date.")
        rows = ((Button(ctx._("3 days before"), "by:3"), Button(ctx._("1 week before"), "by:7")),)
        return (say(text, *rows, nav_row(ctx)),)

    async def _show_deadline(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        text = ctx._("Until when can people sign up? Choose or type a date and time.")
        rows = (
            (Button(ctx._("Until the start"), "deadline:start"),),
            (Button(ctx._("1 day before"), "deadline:1"),),
        )
        return (say(text, *rows, nav_row(ctx)),)

    async def _show_preview(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        start, end = _time(draft.get("start_at")), _time(draft.get("end_at"))
        assert start is not None
        lines = [
            ctx._("Preview:"),
            "",
            str(draft.get("title", "")),
            word(ctx.t, FORMAT_WORDS, str(draft.get("format"))),
            ctx.t.when(start, end),
            ctx._("Place: {value}").format(value=draft.get("place_label", "")),
            ctx._("Seats: {value}").format(
                value=draft.get("capacity") if draft.get("capacity") else ctx._("No limit")
            ),
        ]
        if draft.get("minimum"):
            by = _time(draft.get("minimum_by"))
            lines.append(
                ctx._("Minimum: {count} by {day}").format(
                    count=draft["minimum"], day=ctx.t.day(by) if by else "–"
                )
            )
        deadline = _time(draft.get("deadline"))
        lines.append(
            ctx._("Sign-up until: {value}").format(
                value=ctx.t.when(deadline, None) if deadline else ctx._("the start")
            )
        )
        if draft.get("description"):
            lines += ["", str(draft["description"])]
        rows = ((Button(ctx._("Publish"), "publish"),), (Button(ctx._("Discard"), "discard"),))
        return (say("\n".join(lines), *rows, nav_row(ctx)),)

    # -- "Meine Veranstaltungen" --------------------------------------------
    async def _show_mine(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        events = await ctx.services.organiser.mine(ctx.member.id, ctx.now)
        if not events:
            text = ctx._("You have no events yet.")
            return (say(text, (Button(ctx._("Create an event"), "new"),), nav_row(ctx)),)
        lines = [ctx._("Your events:")]
        lines += [f"{n}. {self._line(ctx, e)}" for n, e in enumerate(events, 1)]
        rows = [(Button(short(e.title), f"event:{e.id}"),) for e in events]
        return (say("\n\n".join(lines), *rows, nav_row(ctx)),)

    def _line(self, ctx: Context, e: OrganisedEvent) -> str:
        seats = f"{e.registered}/{e.capacity}" if e.capacity else str(e.registered)
        facts = [ctx._("{seats} signed up").format(seats=seats)]
        if e.waitlisted:
            facts.append(ctx._("{count} waiting").format(count=e.waitlisted))
        if e.cancelled:
            facts.append("❌ " + ctx._("cancelled"))
        return f"{ctx.t.when(e.start_at, e.end_at)}\n   {e.title}\n   " + " · ".join(facts)

    async def _show_event(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        roster = await ctx.services.organiser.roster(ctx.member.id, int(ctx.data["event_id"]))
        e = roster.event
        lines = [self._line(ctx, e).replace("\n   ", "\n"), ""]
        if e.minimum:
            lines.append(ctx._("Minimum: {count}").format(count=e.minimum))
        if not roster.attendees:
            lines.append(ctx._("No sign-ups yet."))
        for a in roster.attendees:
            status = ctx._(STATUS_WORDS.get(a.status, a.status))
            if a.waitlist_number:
                status += f" {a.waitlist_number}"
            line = f"• {a.name} ({status})"
            if a.expectation:
                line += "\n  " + ctx._("expects: {text}").format(text=a.expectation)
            lines.append(line)
        rows: list[ButtonRow] = []
        if not e.cancelled:
            rows.append((Button(ctx._("Attendance"), "attendance"),))
            rows.append((Button(ctx._("Edit"), "edit"), Button(ctx._("Cancel event"), "cancel")))
        rows.append((Button(ctx._("List as a spreadsheet (CSV)"), "csv"),))
        return (say("\n".join(lines), *rows, nav_row(ctx)),)

    async def _show_attendance(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        roster = await ctx.services.organiser.roster(ctx.member.id, int(ctx.data["event_id"]))
        present = [a for a in roster.attendees if a.status in ("registered", "attended")]
        text = ctx._("Who came? Tap a name to mark or unmark it.")
        rows = [
            (
                Button(
                    ("✅ " if a.status == "attended" else "◻️ ") + short(a.name),
                    f"came:{a.registration_id}",
                ),
            )
            for a in present
        ]
        if not present:
            text = ctx._("No sign-ups yet.")
        return (say(text, *rows, nav_row(ctx)),)

    async def _show_edit(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        text = ctx._("What would you like to change? Everyone signed up will be told.")
        rows = (
            (
                Button(ctx._("Title"), "edit:title"),
                Button(ctx._("Description"), "edit:description"),
            ),
            (Button(ctx._("Date and time"), "edit:when"), Button(ctx._("Seats"), "edit:capacity")),
        )
        return (say(text, *rows, nav_row(ctx)),)

    async def _show_edit_title(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        return await self._show_title(ctx, draft)

    async def _show_edit_description(
        self, ctx: Context, draft: dict[str, Any]
    ) -> tuple[OutMessage, ...]:
        text = ctx._("Type the new description.")
        return (say(text, nav_row(ctx)),)

    async def _show_edit_when(self, ctx: Context, draft: dict[str, Any]) -> tuple[OutMessage, ...]:
        return await self._show_when(ctx, draft)

    async def _show_edit_when_confirm(
        self, ctx: Context, draft: dict[str, Any]
    ) -> tuple[OutMessage, ...]:
        return await self._show_when_confirm(ctx, draft)

    async def _show_edit_capacity(
        self, ctx: Context, draft: dict[str, Any]
    ) -> tuple[OutMessage, ...]:
        return await self._show_capacity(ctx, draft)

    async def _show_cancel_reason(
        self, ctx: Context, draft: dict[str, Any]
    ) -> tuple[OutMessage, ...]:
        text = ctx._(
            "Why is the event cancelled? Everyone signed up or waiting gets your reason at once."
        )
        return (say(text, nav_row(ctx)),)

    async def _show_cancel_confirm(
        self, ctx: Context, draft: dict[str, Any]
    ) -> tuple[OutMessage, ...]:
        text = ctx._("Cancel the event and tell everyone? Reason: {reason}").format(
            reason=ctx.data.get("reason", "")
        )
        rows = (
            (Button(ctx._("Yes, cancel the event"), "cancel:yes"),),
            (Button(ctx._("No"), "cancel:no"),),
        )
        return (say(text, *rows),)

    async def _show_minimum_check(
        self, ctx: Context, draft: dict[str, Any]
    ) -> tuple[OutMessage, ...]:
        rows = (
            (Button(ctx._("Hold it anyway"), "minimum:hold"),),
            (Button(ctx._("Cancel event"), "cancel"),),
        )
        return (say(ctx._("What would you like to do?"), *rows, nav_row(ctx)),)

    # -- answers -------------------------------------------------------------
    async def handle(self, ctx: Context, state: str, msg: Incoming) -> Step:
        if not ctx.member.is_organiser:
            return refusal(ctx)
        try:
            return await self._handle(ctx, state, msg)
        except NotAllowed:
            return refusal(ctx)

    async def _handle(self, ctx: Context, state: str, msg: Incoming) -> Step:
        draft = dict(ctx.data.get("draft") or {})
        payload, text = msg.payload, msg.text.strip() if msg.kind == Kind.TEXT else ""

        def ask_again(hint: str) -> Stay:
            return Stay(say=(OutMessage(hint),))

        def next_step(next_state: str, **changes: Any) -> Go:
            return Go(self.name, next_state, data={"draft": {**draft, **changes}})

        if state == "format" and payload.startswith("format:"):
            fmt = payload[7:]
            if fmt in EVENT_FORMATS:
                return next_step("title", format=fmt)
        if state == "title" and text:
            if len(text) > MAX_TITLE:
                return ask_again(
                    ctx._("Please keep the title under {count} characters.").format(count=MAX_TITLE)
                )
            return next_step("description", title=text)
        if state == "description" and (text or payload == "skip"):
            return too_long(ctx, text, MAX_DESCRIPTION) or next_step(
                "place", description=text or None
            )
        if state in ("place", "place_search") and payload.startswith("place:"):
            return await self._choose_place(ctx, payload[6:], draft)
        if state == "place_search" and text:
            found = await ctx.services.organiser.places_named(ctx.member.id, text)
            if not found:
                return Stay(
                    say=(OutMessage(ctx._("I found no place with that name.")),),
                    data={"found": []},
                )
            return Stay(data={"found": [[p.id, f"{p.name}, {p.town}"] for p in found]})
        if state == "place_new" and text:
            return await self._new_place(ctx, text, draft)
        if state in ("when", "edit_when") and text:
            return self._when(ctx, state, text, draft)
        if state in ("when_confirm", "edit_when_confirm") and payload in ("when:yes", "when:no"):
            editing = state.startswith("edit_")
            if payload == "when:no":
                return Go(self.name, "edit_when" if editing else "when", remember=False)
            if editing:
                return await self._apply(
                    ctx,
                    EventChange(start_at=_time(draft["start_at"]), end_at=_time(draft["end_at"])),
                )
            return next_step("capacity")
        if state in ("capacity", "edit_capacity"):
            return await self._capacity(ctx, state, payload, text, draft)
        if state == "minimum_check":
            return await self._minimum_decision(ctx, payload)
        if state == "minimum":
            if payload == "minimum:none":
                return next_step("deadline", minimum=None, minimum_by=None)
            count = _number(payload[8:] if payload.startswith("minimum:") else text)
            if count is None or count < 1:
                return ask_again(ctx._("Please type a number, or choose “No minimum”."))
            if draft.get("capacity") and count > int(draft["capacity"]):
                return ask_again(ctx._("The minimum cannot be more than the seats."))
            return next_step("minimum_by", minimum=count)
        if state == "minimum_by":
            start = _time(draft.get("start_at"))
            assert start is not None
            if payload.startswith("by:"):
                by = start - timedelta(days=int(payload[3:]))
            else:
                when = parse_when(text, ctx.now, ctx.t.tz) if text else None
                if when is None:
                    return ask_again(ctx._("I didn't understand that date. Please try again."))
                by = when.start
            if not ctx.now < by < start:
                return ask_again(ctx._("That must be between now and the start."))
            return next_step("deadline", minimum_by=_iso(by))
        if state == "deadline":
            return self._deadline(ctx, payload, text, draft)
        if state == "preview" and payload == "publish":
            return await self._publish(ctx, draft)
        if state == "preview" and payload == "discard":
            return Go(
                "menu",
                "main",
                data={"draft": None},
                say=(OutMessage(ctx._("Discarded. Nothing was published.")),),
                remember=False,
            )
        return await self._handle_own_events(ctx, state, payload, text)

    async def _handle_own_events(self, ctx: Context, state: str, payload: str, text: str) -> Step:
        organiser = ctx.services.organiser
        if state == "mine" and payload == "new":
            return Go(self.name, "format", data={"draft": {}})
        if state == "mine" and payload.startswith("event:"):
            return Go(self.name, "event", data={"event_id": int(payload[6:])})
        event_id = ctx.data.get("event_id")
        if not isinstance(event_id, int):
            return Stay()
        if state == "event":
            if payload in ("attendance", "edit"):
                return Go(self.name, payload)
            if payload == "cancel":
                return Go(self.name, "cancel_reason")
            if payload == "csv":
                data = await organiser.attendee_csv(ctx.member.id, event_id)
                file = Attachment(f"teilnehmende-{event_id}.csv", "text/csv", data)
                note = ctx._("The list as a spreadsheet file (opens in Excel and LibreOffice).")
                return Stay(say=(OutMessage(note, attachment=file),))
        if state == "attendance" and payload.startswith("came:"):
            roster = await organiser.roster(ctx.member.id, event_id)
            registration_id = int(payload[5:])
            current = next(
                (a for a in roster.attendees if a.registration_id == registration_id), None
            )
            if current is None:
                return Stay()
            await organiser.set_attended(
                ctx.member.id, event_id, registration_id, current.status != "attended"
            )
            return Stay()
        if state == "edit" and payload.startswith("edit:"):
            target = payload[5:]
            if target in ("title", "description", "when", "capacity"):
                return Go(self.name, f"edit_{target}")
        if state == "edit_title" and text:
            return too_long(ctx, text, MAX_TITLE) or await self._apply(ctx, EventChange(title=text))
        if state == "edit_description" and text:
            return too_long(ctx, text, MAX_DESCRIPTION) or await self._apply(
                ctx, EventChange(description=text)
            )
        if state == "cancel_reason" and text:
            return too_long(ctx, text, MAX_CANCEL_REASON) or Go(
                self.name, "cancel_confirm", data={"reason": text}
            )
        if state == "cancel_confirm" and payload == "cancel:yes":
            told = await organiser.cancel(
                ctx.member.id, event_id, str(ctx.data.get("reason", "")), ctx.now
            )
            note = ctx.t.ngettext(
                "The event is cancelled. I am telling {n} person now.",
                "The event is cancelled. I am telling {n} people now.",
                told,
            ).format(n=told)
            return Go(
                self.name, "event", data={"reason": None}, say=(OutMessage(note),), remember=False
            )
        if state == "cancel_confirm" and payload == "cancel:no":
            return Go(self.name, "event", data={"reason": None}, remember=False)
        return Stay()

    # -- helpers for the steps -------------------------------------------------
    async def _choose_place(self, ctx: Context, choice: str, draft: dict[str, Any]) -> Step:
        if choice == "search":
            return Go(self.name, "place_search", data={"found": []})
        if choice == "new":
            return Go(self.name, "place_new")
        if not choice.isdigit():
            return Stay()
        labels = {str(pid): label for pid, label in ctx.data.get("found") or []}
        if choice not in labels:
            near = await ctx.services.organiser.places_near(
                ctx.member.id, ctx.member.home or GeoPoint(51.2, 10.4), ctx.member.radius_km
            )
            labels.update({str(p.id): f"{p.name}, {p.town}" for p in near})
        label = labels.get(choice, "")
        return Go(
            self.name,
            "when",
            data={"draft": {**draft, "place_id": int(choice), "place_label": label}, "found": None},
        )

    async def _new_place(self, ctx: Context, text: str, draft: dict[str, Any]) -> Step:
        name, _, town_text = text.rpartition(",")
        if not name.strip() or not town_text.strip():
            return Stay(say=(OutMessage(ctx._("Please write the name, a comma, and the town.")),))
        if longer := too_long(ctx, name.strip(), MAX_PLACE_NAME):
            return longer
        matches = ctx.services.gazetteer.lookup(town_text).matches
        if not matches:
            return Stay(say=(OutMessage(ctx._("I don't know that town. Please check it.")),))
        town = matches[0]
        place_id = await ctx.services.organiser.new_place(
            ctx.member.id, name.strip(), town.point, town.name
        )
        label = f"{name.strip()}, {town.name}"
        return Go(
            self.name, "when", data={"draft": {**draft, "place_id": place_id, "place_label": label}}
        )

    def _when(self, ctx: Context, state: str, text: str, draft: dict[str, Any]) -> Step:
        when = parse_when(text, ctx.now, ctx.t.tz)
        if when is None:
            if missing_time(text, ctx.now, ctx.t.tz):
                hint = ctx._("At what time? Please add it, for example “25.11. 17 Uhr”.")
            else:
                hint = ctx._(
                    "I didn't understand that date. Try “Di 17 Uhr” or “25.11. 17:00-20:00”."
                )
            return Stay(say=(OutMessage(hint),))
        if when.start <= ctx.now:
            return Stay(say=(OutMessage(ctx._("That is in the past. Please type a later date.")),))
        confirm = "edit_when_confirm" if state == "edit_when" else "when_confirm"
        changes = {"start_at": _iso(when.start), "end_at": _iso(when.end)}
        return Go(self.name, confirm, data={"draft": {**draft, **changes}})

    async def _capacity(
        self, ctx: Context, state: str, payload: str, text: str, draft: dict[str, Any]
    ) -> Step:
        if payload == "seats:none":
            seats: int | None = None
        else:
            seats = _number(payload[6:] if payload.startswith("seats:") else text)
            if seats is None or not 1 <= seats <= MAX_SEATS:
                return Stay(
                    say=(
                        OutMessage(
                            ctx._("Please type a number from 1 to {max}, or choose.").format(
                                max=MAX_SEATS
                            )
                        ),
                    )
                )
        warn: tuple[OutMessage, ...] = ()
        if draft.get("format") == "transfer" and (seats is None or seats > TRANSFER_SEATS):
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
            warn = (OutMessage("⚠️ " + text),)
        if state == "edit_capacity":
            change = EventChange(capacity=seats, unlimited=seats is None)
            step = await self._apply(ctx, change)
            return Go(step.flow, step.state, step.data, (*warn, *step.say), remember=False)
        return Go(self.name, "minimum", data={"draft": {**draft, "capacity": seats}}, say=warn)

    def _deadline(self, ctx: Context, payload: str, text: str, draft: dict[str, Any]) -> Step:
        start = _time(draft.get("start_at"))
        assert start is not None
        if payload == "deadline:start":
            deadline = None
        elif payload == "deadline:1":
            deadline = start - timedelta(days=1)
        else:
            when = parse_when(text, ctx.now, ctx.t.tz) if text else None
            if when is None:
                return Stay(
                    say=(OutMessage(ctx._("I didn't understand that date. Please try again.")),)
                )
            deadline = when.start
        if deadline is not None and not ctx.now < deadline <= start:
            return Stay(say=(OutMessage(ctx._("That must be between now and the start.")),))
        return Go(self.name, "preview", data={"draft": {**draft, "deadline": _iso(deadline)}})

    async def _publish(self, ctx: Context, draft: dict[str, Any]) -> Step:
        start = _time(draft.get("start_at"))
        if start is None or "place_id" not in draft:
            return Go(self.name, "format", data={"draft": {}})
        event = EventDraft(
            format=str(draft["format"]),
            title=str(draft["title"]),
            description=draft.get("description"),
            place_id=int(draft["place_id"]),
            start_at=start,
            end_at=_time(draft.get("end_at")),
            capacity=draft.get("capacity"),
            minimum=draft.get("minimum"),
            minimum_by=_time(draft.get("minimum_by")),
            deadline=_time(draft.get("deadline")),
        )
        try:
            event_id = await ctx.services.organiser.create(ctx.member.id, event, ctx.now)
        except NotAllowed:
            raise
        except ServiceError:
            hint = ctx._("That did not work: please check the date and the numbers.")
            return Stay(say=(OutMessage(hint),))
        text = ctx._("Published! Members nearby find it under “Events”.")
        text += "\n" + ctx._(
            "For posters and flyers, the link opens it directly: /start ev_{id}"
        ).format(id=event_id)
        return Go(
            self.name,
            "event",
            data={"draft": None, "event_id": event_id},
            say=(OutMessage(text),),
            remember=False,
        )

    async def _apply(self, ctx: Context, change: EventChange) -> Go:
        event_id = int(ctx.data["event_id"])
        try:
            changed = await ctx.services.organiser.change(ctx.member.id, event_id, change, ctx.now)
        except NotAllowed:
            raise
        except ServiceError:
            hint = ctx._("That did not work: please check the date and the numbers.")
            return Go(self.name, "event", say=(OutMessage(hint),), remember=False)
        note = (
            ctx._("Saved. Everyone signed up or waiting will be told.")
            if changed
            else ctx._("Nothing changed.")
        )
        return Go(self.name, "event", data={"draft": None}, say=(OutMessage(note),), remember=False)

    async def _minimum_decision(self, ctx: Context, payload: str) -> Step:
        event_id = int(ctx.data["event_id"])
        if payload == "minimum:hold":
            await ctx.services.organiser.hold(ctx.member.id, event_id)
            note = ctx._("Good: the event takes place as planned.")
            return Go(self.name, "event", say=(OutMessage(note),), remember=False)
        if payload == "cancel":
            return Go(self.name, "cancel_reason")
        return Stay()


# Words the service returns for what changed; listed here for `pybabel extract`.
CHANGE_WORDS = (
    N_("The title has changed."),
    N_("The description has changed."),
    N_("The date or time has changed."),
    N_("The number of seats has changed."),
)
