"""Open workshops near me: a list with distance and opening state, filters, details."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.dialogs.actions import (
    FLAG,
    INDEX,
    OPEN_EVENT,
    OPEN_PLACE,
    POSITIVE,
    Action,
    ValueAction,
    id_in_range,
    one_of,
)
from bot.dialogs.base import (
    ButtonRow,
    Context,
    Dialog,
    Go,
    On,
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
from bot.dialogs.location import SET_LOCATION, TO_SET_LOCATION, where_unknown
from bot.dialogs.place_text import hit_lines, place_text
from bot.dialogs.words import EQUIPMENT_WORDS, PLACE_TYPE_WORDS, word
from bot.messages import Button, OutMessage, Venue
from bot.services.contracts import EQUIPMENT, PLACE_TYPES, PlaceFilter, PlaceHit

PAGE_SIZE = 5
# A wider look, one tap from an empty or short list; it changes the member's own
# radius only when they tap "keep" (they mostly want to look further once).
WIDER_KM = (50, 100, 200)
# How far the nearest place is looked for when none is within the radius; with the
# open-now filter, nearer (hours are checked place by place, and a place open now
# 500 km away helps nobody).
NEAREST_KM = 1000.0
NEAREST_OPEN_KM = 200.0
# With known hours, the first screen shows up to this many from twice the radius
# when all of its own places leave the hours unknown.
KNOWN_HOURS_EXTRA = 2
ALL = "all"

MORE = ValueAction("more", INDEX)
FILTERS = Action("filters")
CLEAR = Action("clear")
ANY_TIME = Action("any_time")
WIDER = ValueAction("wider", POSITIVE)
KEEP_RADIUS = ValueAction("keep", POSITIVE)
OPEN_NOW = ValueAction("open_now", FLAG)
STEP_FREE = ValueAction("step_free", FLAG)
CHOOSE_KIND = Action("kind")
CHOOSE_EQUIPMENT = Action("equipment")
SHOW = Action("show")
TYPE = ValueAction("type", one_of(*PLACE_TYPES, ALL))
EQUIPMENT_IS = ValueAction("eq", one_of(*EQUIPMENT, ALL))


def filters_from(data: Any) -> PlaceFilter:
    raw = data.get("filters") or {}
    return PlaceFilter(
        open_now=bool(raw.get("open_now")),
        place_type=raw.get("place_type"),
        equipment=raw.get("equipment"),
        step_free=bool(raw.get("step_free")),
    )


def search_radius(ctx: Context) -> float:
    """This visit's radius: the member's own, or a wider one they asked for just now."""
    wider = ctx.data.get("radius")
    return float(wider) if wider else ctx.member.radius_km


def wider_buttons(ctx: Context, radius: float, reach: float = 0) -> tuple[Button, ...]:
    """ "Search further" to each wider radius that reaches at least `reach` km."""
    return tuple(
        Button(ctx._("Search further: {radius}").format(radius=ctx.t.distance(km)), WIDER(km))
        for km in WIDER_KM
        if km > radius and km >= reach
    )


def keep_radius_button(ctx: Context, radius: float) -> Button:
    label = ctx._("Keep {radius} as my radius").format(radius=ctx.t.distance(radius))
    return Button(label, KEEP_RADIUS(int(radius)))


def looking_further(dialog: Dialog, state: enum.StrEnum) -> tuple[On, On]:
    """The buttons of a list screen (`state`) that look further: "Weiter suchen" for this
    look only, "… als meinen Umkreis merken" to make it the member's radius."""

    async def wider(ctx: Context, km: int) -> Step:
        return dialog.go(state, {"offset": 0, "radius": km})

    async def keep(ctx: Context, km: int) -> Step:
        await ctx.services.members.set_radius(ctx.member.id, km)
        said = note(ctx._("Your radius is now {radius}.").format(radius=ctx.t.distance(km)))
        return dialog.go(state, {"radius": None}, say=said, remember=False)

    return on(WIDER, wider), on(KEEP_RADIUS, keep)


def short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class State(enum.StrEnum):
    LIST = "list"
    FILTERS = "filters"
    TYPE = "type"
    EQUIPMENT = "equipment"
    DETAIL = "detail"


class Places(Dialog):
    name = "places"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {
            State.LIST: Screen(
                self._list,
                (
                    on(OPEN_PLACE, self._open_place),
                    on(MORE, self._more),
                    on(FILTERS, self._open_filters),
                    on(CLEAR, self._clear),
                    *looking_further(self, State.LIST),
                    on(ANY_TIME, self._any_time),
                    on(SET_LOCATION, self._set_location),
                ),
            ),
            State.FILTERS: Screen(
                self._filters,
                (
                    on(OPEN_NOW, self._open_now),
                    on(STEP_FREE, self._step_free),
                    on(CHOOSE_KIND, self._kind),
                    on(CHOOSE_EQUIPMENT, self._equipment),
                    on(SHOW, self._show_results),
                    on(CLEAR, self._clear),
                ),
            ),
            State.TYPE: Screen(self._ask_type, (on(TYPE, self._type),)),
            State.EQUIPMENT: Screen(self._ask_equipment, (on(EQUIPMENT_IS, self._equipment_is),)),
            State.DETAIL: Screen(self._detail, (on(OPEN_EVENT, self._open_event),)),
        }

    # -- the list --------------------------------------------------------------
    async def _list(self, ctx: Context) -> Screenful:
        member = ctx.member
        if member.home is None:
            return where_unknown(ctx)
        offset = int(ctx.data.get("offset", 0))
        filters = filters_from(ctx.data)
        radius = search_radius(ctx)
        page = await ctx.services.places.find_nearby(
            member.home, radius, ctx.now, filters, offset=offset, limit=PAGE_SIZE
        )
        if not page.hits and offset:
            # The radius or filters changed since that page: start again at the top.
            offset = 0
            page = await ctx.services.places.find_nearby(
                member.home, radius, ctx.now, filters, limit=PAGE_SIZE
            )
        if not page.hits:
            return await self._nothing_near(ctx, filters, radius)
        header = ctx._("Places within {radius} of {town}:").format(
            radius=ctx.t.distance(radius), town=member.home_label or ""
        )
        if filters != PlaceFilter():
            header += "\n" + ctx._("(filtered)")
        hits = list(page.hits)
        lines = [hit_lines(ctx, offset + i + 1, hit) for i, hit in enumerate(hits)]
        known: tuple[PlaceHit, ...] = ()
        if offset == 0 and all(not h.opening_hours for h in hits):
            known = await self._with_known_hours(ctx, filters, radius)
        if known:
            lines.append(
                ctx._("Further away, with opening hours:")
                + "\n\n"
                + "\n\n".join(hit_lines(ctx, len(hits) + i + 1, hit) for i, hit in enumerate(known))
            )
            hits += known
        rows: list[ButtonRow] = [(Button(short(h.name), OPEN_PLACE(h.id)),) for h in hits]
        more = [Button(ctx._("More"), MORE(offset + PAGE_SIZE))] if page.has_more else []
        rows.append((*more, Button(ctx._("Search more precisely"), FILTERS.payload)))
        if radius != member.radius_km:
            rows.append((keep_radius_button(ctx, radius),))
        elif not page.has_more and (wider := wider_buttons(ctx, radius)):
            rows.append(wider[:1])
        rows.append(nav_row(ctx))
        return (say("\n\n".join([header, *lines]), *rows),)

    async def _with_known_hours(
        self, ctx: Context, filters: PlaceFilter, radius: float
    ) -> tuple[PlaceHit, ...]:
        """Places with known hours within twice the radius, for a first screen whose
        own places all leave the hours unknown (open-now shows only known ones anyway)."""
        if filters.open_now or ctx.member.home is None:
            return ()
        page = await ctx.services.places.find_nearby(
            ctx.member.home,
            radius * 2,
            ctx.now,
            replace(filters, known_hours=True),
            limit=PAGE_SIZE,
        )
        return tuple(h for h in page.hits if h.distance_km > radius)[:KNOWN_HOURS_EXTRA]

    async def _nothing_near(self, ctx: Context, filters: PlaceFilter, radius: float) -> Screenful:
        """Why the list is empty in one line, and the next step in one tap: the nearest
        place that fits at any distance, a wider search, or fewer filters."""
        member = ctx.member
        assert member.home is not None
        if filters.open_now:
            text = ctx._("No place within {radius} is open right now.")
        elif filters != PlaceFilter():
            text = ctx._("No place fits your choice within {radius}.")
        else:
            text = ctx._("I know no place within {radius} of {town}.")
        text = text.format(radius=ctx.t.distance(radius), town=member.home_label or "")
        # find_nearby looks in growing circles itself: one call finds the nearest.
        searched = max(radius, NEAREST_OPEN_KM if filters.open_now else NEAREST_KM)
        nearest: PlaceHit | None = None
        if searched > radius:
            found = await ctx.services.places.find_nearby(
                member.home, searched, ctx.now, filters, limit=1
            )
            nearest = found.hits[0] if found.hits else None
        rows: list[ButtonRow] = []
        if filters.open_now:
            text += await self._hours_unknown(ctx, filters, radius)
            rows.append((Button(ctx._("Show all places"), ANY_TIME.payload),))
        if nearest is not None:
            text += "\n" + ctx._("The nearest: {name}, {town}, {distance}.").format(
                name=nearest.name, town=nearest.town, distance=ctx.t.distance(nearest.distance_km)
            )
            rows.append((Button(short(nearest.name), OPEN_PLACE(nearest.id)),))
        # Only a wider search that finds at least the nearest one is worth a tap.
        wider = wider_buttons(ctx, radius, nearest.distance_km if nearest else searched + 1)
        if wider:
            rows.append(wider[:2])
        if filters != PlaceFilter():
            rows.append((Button(ctx._("Clear filters"), CLEAR.payload),))
        return (say(text, *rows, nav_row(ctx)),)

    async def _hours_unknown(self, ctx: Context, filters: PlaceFilter, radius: float) -> str:
        """Where "open now" finds nothing, how many places near did not tell their hours."""
        assert ctx.member.home is not None
        page = await ctx.services.places.find_nearby(
            ctx.member.home, radius, ctx.now, replace(filters, open_now=False), limit=PAGE_SIZE
        )
        unknown = sum(1 for hit in page.hits if not hit.opening_hours)
        if not unknown:
            return ""
        if page.has_more:
            return "\n" + ctx._("We do not know the opening hours of some places here.")
        return "\n" + ctx.t.ngettext(
            "We do not know the opening hours of {n} place here.",
            "We do not know the opening hours of {n} places here.",
            unknown,
        ).format(n=unknown)

    async def _any_time(self, ctx: Context) -> Step:
        return self.go(State.LIST, self._filtered(ctx, open_now=False), remember=False)

    async def _open_place(self, ctx: Context, place_id: int) -> Step:
        return self.go(State.DETAIL, {"place_id": place_id})

    async def _more(self, ctx: Context, offset: int) -> Step:
        # The payload carries the page, so a second tap on an old "Mehr" is stale.
        return self.go(State.LIST, {"offset": offset})

    async def _open_filters(self, ctx: Context) -> Step:
        return self.go(State.FILTERS)

    async def _clear(self, ctx: Context) -> Step:
        return self.go(State.LIST, {"filters": None, "offset": 0}, remember=False)

    async def _set_location(self, ctx: Context) -> Step:
        return Go(TO_SET_LOCATION)

    # -- filters -----------------------------------------------------------------
    async def _filters(self, ctx: Context) -> Screenful:
        f = filters_from(ctx.data)

        def mark(on: bool) -> str:
            return "✓ " if on else ""

        kind = (
            ctx._(PLACE_TYPE_WORDS[f.place_type])
            if f.place_type in PLACE_TYPE_WORDS
            else ctx._("all")
        )
        equipment = word(ctx.t, EQUIPMENT_WORDS, f.equipment) if f.equipment else ctx._("any")
        rows = (
            # Toggles carry the value they set, so a double tap does not undo itself.
            (Button(mark(f.open_now) + ctx._("Open now only"), OPEN_NOW(not f.open_now)),),
            (Button(ctx._("Kind: {value}").format(value=kind), CHOOSE_KIND.payload),),
            (
                Button(
                    ctx._("Equipment: {value}").format(value=equipment), CHOOSE_EQUIPMENT.payload
                ),
            ),
            (Button(mark(f.step_free) + ctx._("Step-free only"), STEP_FREE(not f.step_free)),),
            (
                Button(ctx._("Show results"), SHOW.payload),
                Button(ctx._("Clear filters"), CLEAR.payload),
            ),
            nav_row(ctx),
        )
        return (say(ctx._("Filter the places:"), *rows),)

    def _filtered(self, ctx: Context, **changes: object) -> dict[str, object]:
        return {"filters": {**(ctx.data.get("filters") or {}), **changes}, "offset": 0}

    async def _open_now(self, ctx: Context, on: bool) -> Step:
        return Stay(data=self._filtered(ctx, open_now=on))

    async def _step_free(self, ctx: Context, on: bool) -> Step:
        return Stay(data=self._filtered(ctx, step_free=on))

    async def _kind(self, ctx: Context) -> Step:
        return self.go(State.TYPE)

    async def _equipment(self, ctx: Context) -> Step:
        return self.go(State.EQUIPMENT)

    async def _show_results(self, ctx: Context) -> Step:
        return self.go(State.LIST, {"offset": 0}, remember=False)

    async def _ask_type(self, ctx: Context) -> Screenful:
        rows: list[ButtonRow] = [
            (Button(ctx._(PLACE_TYPE_WORDS[c]), TYPE(c)),) for c in PLACE_TYPES
        ]
        rows += [(Button(ctx._("All kinds"), TYPE(ALL)),), nav_row(ctx)]
        return (say(ctx._("Which kind of place?"), *rows),)

    async def _type(self, ctx: Context, code: str) -> Step:
        data = self._filtered(ctx, place_type=None if code == ALL else code)
        return self.go(State.FILTERS, data, remember=False)

    async def _ask_equipment(self, ctx: Context) -> Screenful:
        member = ctx.member
        assert member.home is not None
        codes = await ctx.services.places.equipment_nearby(member.home, search_radius(ctx))
        rows: list[ButtonRow] = [
            (Button(word(ctx.t, EQUIPMENT_WORDS, c), EQUIPMENT_IS(c)),) for c in codes
        ]
        rows += [(Button(ctx._("Any equipment"), EQUIPMENT_IS(ALL)),), nav_row(ctx)]
        return (say(ctx._("Which equipment do you need?"), *rows),)

    async def _equipment_is(self, ctx: Context, code: str) -> Step:
        data = self._filtered(ctx, equipment=None if code == ALL else code)
        return self.go(State.FILTERS, data, remember=False)

    # -- one place -------------------------------------------------------------
    async def _detail(self, ctx: Context) -> Screenful:
        place_id = id_in_range(ctx.data.get("place_id"))
        details = await ctx.services.places.details(place_id, ctx.now) if place_id else None
        if details is None:
            return (say(ctx._("This place is no longer listed."), nav_row(ctx)),)
        rows: list[ButtonRow] = [
            (Button(short(e.title), OPEN_EVENT(e.id)),) for e in details.upcoming_events
        ]
        rows.append(nav_row(ctx))
        address = ", ".join(
            p for p in (details.street, f"{details.postcode or ''} {details.town}".strip()) if p
        )
        venue = Venue(details.name, address, details.point.lat, details.point.lon)
        return (OutMessage(place_text(ctx, details), buttons=tuple(rows), venue=venue),)

    async def _open_event(self, ctx: Context, event_id: int) -> Step:
        return Go(Target("events", "detail", {"event_id": event_id}))
