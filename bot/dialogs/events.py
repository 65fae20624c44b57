"""Events near me: this week, next weekend or later; details, and signing up from there."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from bot.codes import RegistrationStatus
from bot.dialogs.actions import OPEN_EVENT, OPEN_PLACE, SIGN_UP, ValueAction, id_in_range, one_of
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
    on,
    say,
)
from bot.dialogs.location import SET_LOCATION, TO_SET_LOCATION, where_unknown
from bot.dialogs.places import (
    MORE,
    NEAREST_KM,
    keep_radius_button,
    looking_further,
    search_radius,
    short,
    wider_buttons,
)
from bot.dialogs.registrations import MY_REGISTRATION, minimum_line, sign_up, status_line
from bot.dialogs.words import FORMAT_WORDS, word
from bot.i18n import N_
from bot.messages import Button, OutMessage, Venue
from bot.services.contracts import EventHit

PAGE_SIZE = 5
# An empty period names the next event: near and later, else within NEAR_KM, else any,
# the earliest of each among the first NEXT_ONE_AMONG events from the period's start.
NEAR_KM = 100.0
NEXT_ONE_AMONG = 200
WINDOW_WORDS = {
    "week": N_("This week"),
    "weekend": N_("Next weekend"),
    "next_week": N_("Next week"),
    "later": N_("Later"),
}
WINDOWS = tuple(WINDOW_WORDS)
# Days asked for by words ("heute", "morgen"), not offered as buttons of their own.
TYPED_WINDOWS = ("today", "tomorrow")
WINDOW = ValueAction("when", one_of(*WINDOWS, *TYPED_WINDOWS))


def window_bounds(window: str, now: datetime, ctx: Context) -> tuple[datetime, datetime | None]:
    """[start, end) in local time of today, tomorrow, this week (until Sunday night), next
    weekend, next week (Monday to Sunday) or later (from next Monday on)."""
    local = ctx.t.local(now)
    today = local.date()

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=ctx.t.tz)

    next_monday = today + timedelta(days=7 - today.weekday())
    if window == "today":
        return now, midnight(today + timedelta(days=1))
    if window == "tomorrow":
        return midnight(today + timedelta(days=1)), midnight(today + timedelta(days=2))
    if window == "week":
        return now, midnight(next_monday)
    if window == "next_week":
        return midnight(next_monday), midnight(next_monday + timedelta(days=7))
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


class State(enum.StrEnum):
    WHEN = "when"
    LIST = "list"
    DETAIL = "detail"


class Events(Dialog):
    name = "events"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {
            State.WHEN: Screen(self._ask_when),
            State.LIST: Screen(
                self._list,
                (
                    on(OPEN_EVENT, self._open_event),
                    on(MORE, self._more),
                    *looking_further(self, State.LIST),
                    on(SET_LOCATION, self._set_location),
                ),
            ),
            State.DETAIL: Screen(
                self._detail,
                (
                    on(OPEN_PLACE, self._open_place),
                    on(MY_REGISTRATION, self._open_registration),
                    on(SIGN_UP, self._sign_up),
                ),
            ),
        }

    def everywhere(self) -> tuple[On, ...]:
        # The other periods are offered on the period question and on an empty list.
        return (on(WINDOW, self._window),)

    async def _ask_when(self, ctx: Context) -> Screenful:
        rows = (
            *((Button(ctx._(label), WINDOW(w)),) for w, label in WINDOW_WORDS.items()),
            nav_row(ctx),
        )
        return (say(ctx._("Which events would you like to see?"), *rows),)

    async def _window(self, ctx: Context, window: str) -> Step:
        return self.go(State.LIST, {"window": window, "offset": 0})

    async def _list(self, ctx: Context) -> Screenful:
        member = ctx.member
        if member.home is None:
            return where_unknown(ctx)
        window = ctx.data.get("window") or "week"
        offset = int(ctx.data.get("offset", 0))
        start, end = window_bounds(window, ctx.now, ctx)
        radius = search_radius(ctx)
        hits, has_more = await ctx.services.events.upcoming_nearby(
            member.home, radius, start, end, offset=offset, limit=PAGE_SIZE
        )
        if not hits:
            return await self._nothing_then(ctx, window, start, end, radius)
        title = {
            "today": ctx._("Events today within {radius}:"),
            "tomorrow": ctx._("Events tomorrow within {radius}:"),
            "next_week": ctx._("Events next week within {radius}:"),
            "week": ctx._("Events this week within {radius}:"),
            "weekend": ctx._("Events next weekend within {radius}:"),
            "later": ctx._("Later events within {radius}:"),
        }[window].format(radius=ctx.t.distance(radius))
        lines = [event_lines(ctx, offset + i + 1, e) for i, e in enumerate(hits)]
        rows: list[tuple[Button, ...]] = [(Button(short(e.title), OPEN_EVENT(e.id)),) for e in hits]
        if has_more:
            rows.append((Button(ctx._("More"), MORE(offset + PAGE_SIZE)),))
        if radius != member.radius_km:
            rows.append((keep_radius_button(ctx, radius),))
        rows.append(nav_row(ctx))
        return (say("\n\n".join([title, *lines]), *rows),)

    async def _nothing_then(
        self, ctx: Context, window: str, start: datetime, end: datetime | None, radius: float
    ) -> Screenful:
        """Why the list is empty in one line, and the next step in one tap: the next event
        near after that period, else the nearest one at any distance; the other periods."""
        text = {
            "today": ctx._("No events today within {radius}."),
            "tomorrow": ctx._("No events tomorrow within {radius}."),
            "week": ctx._("No events this week within {radius}."),
            "weekend": ctx._("No events next weekend within {radius}."),
            "next_week": ctx._("No events next week within {radius}."),
            "later": ctx._("No later events within {radius}."),
        }[window].format(radius=ctx.t.distance(radius))
        rows: list[tuple[Button, ...]] = []
        found = await self._next_one(ctx, start, end, radius)
        if found is not None:
            far = found.distance_km is not None and found.distance_km > radius
            where = ", ".join(p for p in (found.place_name, found.town) if p)
            if far:
                where = ", ".join(p for p in (where, ctx.t.distance(found.distance_km or 0)) if p)
            text += "\n" + ctx._("The next one: {when}, {title} ({where}).").format(
                when=ctx.t.when(found.start_at, found.end_at), title=found.title, where=where
            )
            rows.append((Button(short(found.title), OPEN_EVENT(found.id)),))
            if far and (wider := wider_buttons(ctx, radius, found.distance_km or 0)):
                rows.append(wider[:2])
        others = tuple(Button(ctx._(WINDOW_WORDS[w]), WINDOW(w)) for w in WINDOWS if w != window)
        return (say(text, *rows, others, nav_row(ctx)),)

    async def _next_one(
        self, ctx: Context, start: datetime, end: datetime | None, radius: float
    ) -> EventHit | None:
        """The next event that is not cancelled: near and after the period, else the
        earliest from the period's start within 100 km, else anywhere (one query)."""
        assert ctx.member.home is not None
        hits, _ = await ctx.services.events.upcoming_nearby(
            ctx.member.home, max(radius, NEAREST_KM), start, None, limit=NEXT_ONE_AMONG
        )
        going = [(hit, hit.distance_km or 0.0) for hit in hits if not hit.cancelled]
        later_near = [h for h, km in going if km <= radius and end and h.start_at >= end]
        within_reach = [h for h, km in going if km <= NEAR_KM]
        anywhere = [h for h, _ in going]
        return next((tier[0] for tier in (later_near, within_reach, anywhere) if tier), None)

    async def _open_event(self, ctx: Context, event_id: int) -> Step:
        return self.go(State.DETAIL, {"event_id": event_id})

    async def _more(self, ctx: Context, offset: int) -> Step:
        return self.go(State.LIST, {"offset": offset})

    async def _set_location(self, ctx: Context) -> Step:
        return Go(TO_SET_LOCATION)

    async def _detail(self, ctx: Context) -> Screenful:
        event_id = id_in_range(ctx.data.get("event_id"))
        details = (
            await ctx.services.events.details(event_id, ctx.member.home, ctx.now)
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
        minimum = None if e.cancelled else minimum_line(ctx, details.minimum, details.minimum_by)
        if minimum:
            lines.append(minimum)
        if details.description:
            lines += ["", details.description]
        rows: list[tuple[Button, ...]] = []
        mine = await ctx.services.registrations.for_event(ctx.member.id, e.id)
        if mine is not None and mine.status == RegistrationStatus.HELD:
            # Invited personally: the seat is theirs with one tap.
            lines += ["", status_line(ctx, mine)]
            rows.append((Button(ctx._("Sign up"), SIGN_UP(e.id)),))
        elif mine is not None:
            lines += ["", status_line(ctx, mine)]
            rows.append((Button(ctx._("My sign-up"), MY_REGISTRATION(mine.id)),))
        elif details.open_for_sign_up:
            full = e.free_seats == 0
            label = ctx._("Join the waiting list") if full else ctx._("Sign up")
            rows.append((Button(label, SIGN_UP(e.id)),))
        elif not e.cancelled:
            lines += ["", ctx._("Sign-up for this event has closed.")]
        venue = None
        if place:
            rows.append((Button(ctx._("About the place"), OPEN_PLACE(place.id)),))
            venue = Venue(place.name, place.town, place.point.lat, place.point.lon)
        rows.append(nav_row(ctx))
        return (OutMessage("\n".join(lines), buttons=tuple(rows), venue=venue),)

    async def _open_place(self, ctx: Context, place_id: int) -> Step:
        return Go(Target("places", "detail", {"place_id": place_id}))

    async def _open_registration(self, ctx: Context, registration_id: int) -> Step:
        return Go(Target("registrations", "detail", {"registration_id": registration_id}))

    async def _sign_up(self, ctx: Context, event_id: int) -> Step:
        return await start_sign_up(ctx, event_id)


async def start_sign_up(ctx: Context, event_id: int) -> Step:
    """Sign up ("Anmelden") for an event, from its details or from an announcement."""
    event = await ctx.services.events.details(event_id, None)
    if event is not None and event.topic_id is not None:
        # Made of a topic the member wants: their wish for it is the expectation,
        # so an invitation is one tap.
        topic = await ctx.services.topics.get(ctx.member.id, event.topic_id, None, 0)
        if topic is not None and (topic.supported or topic.mine):
            return await sign_up(ctx, event_id, topic.expectation)
    if event is not None and event.hit.format.asks_expectation:
        return Go(Target("registrations", "expect", {"event_id": event_id}))
    return await sign_up(ctx, event_id, None)
