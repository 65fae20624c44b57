"""Events near me: this week, next weekend or later; details, and signing up from there."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.dialogs.base import Context, Dialog, Go, Stay, Step, nav_row, say
from bot.dialogs.location import SET_LOCATION, where_unknown
from bot.dialogs.places import short
from bot.dialogs.registrations import ASKS_EXPECTATION, sign_up, status_line
from bot.dialogs.words import FORMAT_WORDS, word
from bot.i18n import N_
from bot.messages import Button, Incoming, OutMessage, Venue
from bot.services.contracts import EventHit

PAGE_SIZE = 5
WINDOW_WORDS = {"week": N_("This week"), "weekend": N_("Next weekend"), "later": N_("Later")}
WINDOWS = tuple(WINDOW_WORDS)


def window_bounds(window: str, now: datetime, ctx: Context) -> tuple[datetime, datetime | None]:
    """[start, end) of 'this week' (until Sunday night), 'next weekend', 'later' in local time."""
    local = ctx.t.local(now)
    today = local.date()

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=ctx.t.tz)

    next_monday = today + timedelta(days=7 - today.weekday())
    if window == "week":
        return now, midnight(next_monday)
    if window == "weekend":
        # On a weekday: the coming Saturday and Sunday; at the weekend: the one after.
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        if today.weekday() >= 5:
            saturday = next_monday + timedelta(days=5)
        return max(now, midnight(saturday)), midnight(saturday + timedelta(days=2))
    return midnight(next_monday), None


def event_lines(ctx: Context, number: int, e: EventHit) -> str:
    first = f"{number}. {ctx.t.when(e.start_at, e.end_at)} · {word(ctx.t, FORMAT_WORDS, e.format)}"
    where = ", ".join(p for p in (e.place_name, e.town) if p)
    facts = [where] if where else []
    if e.distance_km is not None:
        facts.append(ctx.t.distance(e.distance_km))
    if e.cancelled:
        facts.append("❌ " + ctx._("cancelled"))
    elif e.free_seats is not None:
        facts.append(
            ctx.t.ngettext("{n} seat free", "{n} seats free", e.free_seats).format(n=e.free_seats)
            if e.free_seats
            else ctx._("fully booked")
        )
    return f"{first}\n   {e.title}\n   " + " · ".join(facts)


class Events(Dialog):
    name = "events"

    async def show(self, ctx: Context, state: str) -> tuple[OutMessage, ...]:
        if state == "when":
            rows = (
                *((Button(ctx._(label), f"when:{w}"),) for w, label in WINDOW_WORDS.items()),
                nav_row(ctx),
            )
            return (say(ctx._("Which events would you like to see?"), *rows),)
        if state == "list":
            return await self._list(ctx)
        if state == "detail":
            return await self._detail(ctx)
        raise ValueError(f"unknown events state {state!r}")

    async def _list(self, ctx: Context) -> tuple[OutMessage, ...]:
        member = ctx.member
        if member.home is None:
            return where_unknown(ctx)
        window = ctx.data.get("window") or "week"
        offset = int(ctx.data.get("offset", 0))
        start, end = window_bounds(window, ctx.now, ctx)
        hits, has_more = await ctx.services.events.upcoming_nearby(
            member.home, member.radius_km, start, end, offset=offset, limit=PAGE_SIZE
        )
        radius = ctx.t.distance(member.radius_km)
        if not hits:
            text = ctx._("No events within {radius} in this period.").format(radius=radius)
            others = tuple(
                Button(ctx._(WINDOW_WORDS[w]), f"when:{w}") for w in WINDOWS if w != window
            )
            return (say(text, others, nav_row(ctx)),)
        title = {
            "week": ctx._("Events this week within {radius}:"),
            "weekend": ctx._("Events next weekend within {radius}:"),
            "later": ctx._("Later events within {radius}:"),
        }[window].format(radius=radius)
        lines = [event_lines(ctx, offset + i + 1, e) for i, e in enumerate(hits)]
        rows: list[tuple[Button, ...]] = [(Button(short(e.title), f"ev:{e.id}"),) for e in hits]
        if has_more:
            rows.append((Button(ctx._("More"), f"more:{offset + PAGE_SIZE}"),))
        rows.append(nav_row(ctx))
        return (say("\n\n".join([title, *lines]), *rows),)

    async def _detail(self, ctx: Context) -> tuple[OutMessage, ...]:
        event_id = ctx.data.get("event_id")
        details = (
            await ctx.services.events.details(int(event_id), ctx.member.home, ctx.now)
            if event_id
            else None
        )
        if details is None:
            return (say(ctx._("This event is no longer listed."), nav_row(ctx)),)
        e = details.hit
        lines = [e.title, word(ctx.t, FORMAT_WORDS, e.format), "", ctx.t.when(e.start_at, e.end_at)]
        if e.cancelled:
            lines.insert(0, "❌ " + ctx._("This event has been cancelled."))
        place = details.place
        if place:
            where = ", ".join(p for p in (place.name, place.street, place.town) if p)
            if e.distance_km is not None:
                where += f" ({ctx.t.distance(e.distance_km)})"
            lines.append(ctx._("Place: {value}").format(value=where))
        if details.capacity is not None and not e.cancelled:
            lines.append(
                ctx._("Seats: {free} of {capacity} free").format(
                    free=e.free_seats, capacity=details.capacity
                )
            )
        if details.description:
            lines += ["", details.description]
        rows: list[tuple[Button, ...]] = []
        mine = await ctx.services.registrations.for_event(ctx.member.id, e.id)
        if mine is not None:
            lines += ["", status_line(ctx, mine)]
            rows.append((Button(ctx._("My sign-up"), f"reg:{mine.id}"),))
        elif details.open_for_sign_up:
            full = e.free_seats == 0
            label = ctx._("Join the waiting list") if full else ctx._("Sign up")
            rows.append((Button(label, f"signup:{e.id}"),))
        elif not e.cancelled:
            lines += ["", ctx._("Sign-up for this event has closed.")]
        venue = None
        if place:
            rows.append((Button(ctx._("About the place"), f"pl:{place.id}"),))
            venue = Venue(place.name, place.town, place.point.lat, place.point.lon)
        rows.append(nav_row(ctx))
        return (OutMessage("\n".join(lines), buttons=tuple(rows), venue=venue),)

    async def handle(self, ctx: Context, state: str, msg: Incoming) -> Step:
        payload = msg.payload
        if payload.startswith("when:") and payload[5:] in WINDOWS:
            return Go(self.name, "list", data={"window": payload[5:], "offset": 0})
        if state == "list":
            if payload == SET_LOCATION:
                return Go("settings", "location")
            if payload.startswith("ev:"):
                return Go(self.name, "detail", data={"event_id": int(payload[3:])})
            if payload.startswith("more:"):
                return Go(self.name, "list", data={"offset": int(payload[5:])})
        if state == "detail" and payload.startswith("pl:"):
            return Go("places", "detail", data={"place_id": int(payload[3:])})
        if state == "detail" and payload.startswith("reg:"):
            return Go("registrations", "detail", data={"registration_id": int(payload[4:])})
        if state == "detail" and payload.startswith("signup:"):
            event_id = int(payload[7:])
            event = await ctx.services.events.details(event_id, None)
            if event is not None and event.hit.format in ASKS_EXPECTATION:
                return Go("registrations", "expect", data={"event_id": event_id})
            return await sign_up(ctx, event_id, None)
        return Stay()
