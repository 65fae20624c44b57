"""Open workshops near me: a list with distance and opening state, filters, details."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from bot.dialogs.actions import (
    FLAG,
    INDEX,
    OPEN_EVENT,
    OPEN_PLACE,
    POSITIVE,
    Action,
    ValueAction,
    one_of,
)
from bot.dialogs.base import (
    ButtonRow,
    Context,
    Dialog,
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
from bot.dialogs.location import SET_LOCATION, TO_SET_LOCATION, where_unknown
from bot.dialogs.place_text import hit_lines, place_text
from bot.dialogs.words import EQUIPMENT_WORDS, PLACE_TYPE_WORDS, word
from bot.messages import Button, OutMessage, Venue
from bot.services.contracts import EQUIPMENT, PLACE_TYPES, PlaceFilter

PAGE_SIZE = 5
WIDER_KM = (50, 100)
ALL = "all"

MORE = ValueAction("more", INDEX)
FILTERS = Action("filters")
CLEAR = Action("clear")
WIDER = ValueAction("wider", POSITIVE)
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
                    on(WIDER, self._wider),
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
        page = await ctx.services.places.find_nearby(
            member.home, member.radius_km, ctx.now, filters, offset=offset, limit=PAGE_SIZE
        )
        if not page.hits and offset:
            # The radius or filters changed since that page: start again at the top.
            offset = 0
            page = await ctx.services.places.find_nearby(
                member.home, member.radius_km, ctx.now, filters, limit=PAGE_SIZE
            )
        if not page.hits:
            return self._nothing_near(ctx, filters)
        header = ctx._("Places within {radius} of {town}:").format(
            radius=ctx.t.distance(member.radius_km), town=member.home_label or ""
        )
        if filters != PlaceFilter():
            header += "\n" + ctx._("(filtered)")
        lines = [hit_lines(ctx, offset + i + 1, hit) for i, hit in enumerate(page.hits)]
        rows: list[ButtonRow] = [(Button(short(h.name), OPEN_PLACE(h.id)),) for h in page.hits]
        more = [Button(ctx._("More"), MORE(offset + PAGE_SIZE))] if page.has_more else []
        rows.append((*more, Button(ctx._("Filter"), FILTERS.payload)))
        rows.append(nav_row(ctx))
        return (say("\n\n".join([header, *lines]), *rows),)

    def _nothing_near(self, ctx: Context, filters: PlaceFilter) -> Screenful:
        member = ctx.member
        text = (
            ctx._("No places match your filters within {radius}.")
            if filters != PlaceFilter()
            else ctx._("I know no places within {radius} of {town}.")
        ).format(radius=ctx.t.distance(member.radius_km), town=member.home_label or "")
        wider = tuple(
            Button(ctx._("Search within {radius}").format(radius=ctx.t.distance(km)), WIDER(km))
            for km in WIDER_KM
            if km > member.radius_km
        )
        clear = (Button(ctx._("Clear filters"), CLEAR.payload),) if filters != PlaceFilter() else ()
        return (say(text, wider, clear, nav_row(ctx)),)

    async def _open_place(self, ctx: Context, place_id: int) -> Step:
        return self.go(State.DETAIL, {"place_id": place_id})

    async def _more(self, ctx: Context, offset: int) -> Step:
        # The payload carries the page, so a second tap on an old "Mehr" is stale.
        return self.go(State.LIST, {"offset": offset})

    async def _open_filters(self, ctx: Context) -> Step:
        return self.go(State.FILTERS)

    async def _clear(self, ctx: Context) -> Step:
        return self.go(State.LIST, {"filters": None, "offset": 0}, remember=False)

    async def _wider(self, ctx: Context, km: int) -> Step:
        await ctx.services.members.set_radius(ctx.member.id, km)
        text = ctx._("Your radius is now {radius}.").format(radius=ctx.t.distance(km))
        return self.go(State.LIST, {"offset": 0}, say=note(text), remember=False)

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
        codes = await ctx.services.places.equipment_nearby(member.home, member.radius_km)
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
        place_id = ctx.data.get("place_id")
        details = await ctx.services.places.details(int(place_id), ctx.now) if place_id else None
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
