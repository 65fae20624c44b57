"""Signing up from an event's details, and "Meine Anmeldungen": list, details, cancel."""

from __future__ import annotations

from bot.dialogs.base import Context, Dialog, Go, Stay, Step, nav_row, say, too_long
from bot.dialogs.places import short
from bot.dialogs.words import FORMAT_WORDS, word
from bot.messages import Attachment, Button, Incoming, OutMessage
from bot.services.contracts import MAX_EXPECTATION, MyRegistration, Outcome

# Formats where the pilot found that expectations written down at the start make it work.
ASKS_EXPECTATION = frozenset({"transfer", "pro2pro"})
SKIP = "skip"


def where(r: MyRegistration) -> str:
    return ", ".join(p for p in (r.place_name, r.town) if p)


def status_line(ctx: Context, r: MyRegistration) -> str:
    if r.event_cancelled:
        return "❌ " + ctx._("This event has been cancelled.")
    if r.status == "waitlisted":
        return ctx._("You are no. {number} on the waiting list.").format(number=r.waitlist_number)
    return "✅ " + ctx._("You are signed up.")


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
        return Go("events", "detail", data={"event_id": event_id}, say=(OutMessage(text),))
    r = result.registration
    detail = Go("registrations", "detail", data={"registration_id": r.id}, remember=False)
    if result.outcome == Outcome.ALREADY:
        return Go(detail.flow, detail.state, detail.data, say=(OutMessage(status_line(ctx, r)),))
    when = ctx.t.when(r.start_at, r.end_at)
    if result.outcome == Outcome.WAITLISTED:
        text = "\n".join(
            [
                ctx._("“{title}” is fully booked.").format(title=r.title),
                ctx._("You are no. {number} on the waiting list.").format(number=r.waitlist_number),
                ctx._("If a seat comes free, you move up automatically and I will tell you."),
            ]
        )
        return Go(detail.flow, detail.state, detail.data, say=(OutMessage(text),))
    lines = [
        "✅ " + ctx._("You are signed up for “{title}”.").format(title=r.title),
        when,
    ]
    if where(r):
        lines.append(where(r))
    lines += ["", ctx._("The calendar file puts the date into your calendar, with a reminder.")]
    attachment = None
    ics = await ctx.services.registrations.calendar_file(r.event_id)
    if ics is not None:
        attachment = Attachment(f"werkbank-{r.event_id}.ics", "text/calendar", ics)
    confirmation = OutMessage("\n".join(lines), attachment=attachment)
    return Go(detail.flow, detail.state, detail.data, say=(confirmation,))


class Registrations(Dialog):
    name = "registrations"
    text_states = frozenset({"expect"})

    async def show(self, ctx: Context, state: str) -> tuple[OutMessage, ...]:
        if state == "list":
            return await self._list(ctx)
        if state == "expect":
            text = ctx._(
                "What do you expect from the workshop? A sentence is enough: "
                "it helps the experts prepare. You can also skip this."
            )
            return (say(text, (Button(ctx._("Skip"), SKIP),), nav_row(ctx)),)
        if state in ("detail", "confirm_cancel"):
            r = await self._current(ctx)
            if r is None:
                return (say(ctx._("This registration is no longer there."), nav_row(ctx)),)
            if state == "confirm_cancel":
                text = ctx._("Do you really want to cancel “{title}” ({when})?").format(
                    title=r.title, when=ctx.t.when(r.start_at, r.end_at)
                )
                rows = (
                    (Button(ctx._("Yes, cancel"), "cancel:yes"),),
                    (Button(ctx._("No, keep it"), "cancel:no"),),
                )
                return (say(text, *rows),)
            return (self._detail(ctx, r),)
        raise ValueError(f"unknown registrations state {state!r}")

    async def _current(self, ctx: Context) -> MyRegistration | None:
        registration_id = ctx.data.get("registration_id")
        if not isinstance(registration_id, int):
            return None
        return await ctx.services.registrations.get(ctx.member.id, registration_id)

    async def _list(self, ctx: Context) -> tuple[OutMessage, ...]:
        mine = await ctx.services.registrations.mine(ctx.member.id, ctx.now)
        if not mine:
            text = ctx._("You are not signed up for anything yet. Look under “Events”.")
            return (say(text, (Button(ctx._("Events"), "go:events"),), nav_row(ctx)),)
        lines = [ctx._("Your sign-ups:")]
        for number, r in enumerate(mine, 1):
            lines.append(
                f"{number}. {ctx.t.when(r.start_at, r.end_at)}\n   {r.title}\n   "
                + status_line(ctx, r)
            )
        rows = [(Button(short(r.title), f"reg:{r.id}"),) for r in mine]
        return (say("\n\n".join(lines), *rows, nav_row(ctx)),)

    def _detail(self, ctx: Context, r: MyRegistration) -> OutMessage:
        lines = [r.title, word(ctx.t, FORMAT_WORDS, r.format), ctx.t.when(r.start_at, r.end_at)]
        if where(r):
            lines.append(where(r))
        lines += ["", status_line(ctx, r)]
        if r.event_cancelled and r.cancel_reason:
            lines.append(ctx._("Reason: {reason}").format(reason=r.cancel_reason))
        if r.expectation:
            lines.append(ctx._("Your expectation: {text}").format(text=r.expectation))
        rows: list[tuple[Button, ...]] = []
        if not r.event_cancelled and r.status in ("registered", "waitlisted"):
            if ctx.data.get("moved_up"):
                rows.append((Button(ctx._("Decline the seat"), "decline"),))
            else:
                rows.append((Button(ctx._("Cancel my sign-up"), "cancel"),))
        rows.append((Button(ctx._("About the event"), f"ev:{r.event_id}"),))
        rows.append((Button(ctx._("My sign-ups"), "go:registrations"),))
        return say("\n".join(lines), *rows, nav_row(ctx))

    async def handle(self, ctx: Context, state: str, msg: Incoming) -> Step:
        payload = msg.payload
        if payload == "go:registrations":
            return Go(self.name, "list", data={"moved_up": None})
        if payload == "go:events":
            return Go("events", "when")
        if payload.startswith("ev:"):
            return Go("events", "detail", data={"event_id": int(payload[3:])})
        if state == "list" and payload.startswith("reg:"):
            return Go(self.name, "detail", data={"registration_id": int(payload[4:])})
        if state == "expect":
            event_id = ctx.data.get("event_id")
            if not isinstance(event_id, int):
                return Go("menu", "main")
            if payload == SKIP:
                return await sign_up(ctx, event_id, None)
            return too_long(ctx, msg.text.strip(), MAX_EXPECTATION) or await sign_up(
                ctx, event_id, msg.text
            )
        if state == "detail" and payload == "cancel":
            return Go(self.name, "confirm_cancel")
        if (state == "detail" and payload == "decline") or (
            state == "confirm_cancel" and payload == "cancel:yes"
        ):
            return await self._cancel(ctx)
        if state == "confirm_cancel" and payload == "cancel:no":
            return Go(self.name, "detail", remember=False)
        return Stay()

    async def _cancel(self, ctx: Context) -> Step:
        r = await self._current(ctx)
        if r is None:
            return Go(self.name, "list", remember=False)
        await ctx.services.registrations.cancel(ctx.member.id, r.id, ctx.now)
        text = ctx._("You are no longer signed up for “{title}”.").format(title=r.title)
        if r.status == "registered":
            text += " " + ctx._("Your seat goes to the next person on the waiting list.")
        return Go(
            self.name,
            "list",
            data={"moved_up": None, "registration_id": None},
            say=(OutMessage(text),),
            remember=False,
        )
