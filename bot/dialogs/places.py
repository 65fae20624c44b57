"""Open workshops near me: a list with distance and opening state, filters, details."""

from __future__ import annotations

from typing import Any

from bot.dialogs.base import ButtonRow, Context, Dialog, Go, Stay, Step, nav_row, say
from bot.dialogs.location import SET_LOCATION, where_unknown
from bot.dialogs.words import EQUIPMENT_WORDS, PLACE_TYPE_WORDS, STEP_FREE_WORDS, word
from bot.hours import HoursError, describe_state, describe_week, parse_hours
from bot.messages import Button, Incoming, OutMessage, Venue
from bot.services.contracts import PLACE_TYPES, PlaceDetails, PlaceFilter, PlaceHit

PAGE_SIZE = 5
WIDER_KM = (50, 100)


def filters_from(data: Any) -> PlaceFilter:
    raw = data.get("filters") or {}
    return PlaceFilter(
        open_now=bool(raw.get("open_now")),
        place_type=raw.get("place_type"),
        equipment=raw.get("equipment"),
        step_free=bool(raw.get("step_free")),
    )


def opening_words(ctx: Context, rule: str | None, closed_for_good: bool = False) -> str:
    """'Heute offen bis 18 Uhr', 'Öffnet Mo 10 Uhr', or that the hours are unknown."""
    if closed_for_good:
        return ctx._("Closed permanently")
    if not rule:
        return ctx._("Opening hours not known")
    try:
        hours = parse_hours(rule)
    except HoursError:
        return ctx._("Opening hours not known")
    return describe_state(hours.state_at(ctx.now), ctx.now, ctx.t)


def hit_lines(ctx: Context, number: int, hit: PlaceHit) -> str:
    kind = word(ctx.t, PLACE_TYPE_WORDS, hit.types[0]) if hit.types else ""
    facts = [f for f in (kind, opening_words(ctx, hit.opening_hours)) if f]
    if hit.step_free:
        facts.append(word(ctx.t, STEP_FREE_WORDS, hit.step_free))
    if hit.mobile:
        facts.append(ctx._("mobile, changing stops"))
    return (
        f"{number}. {hit.name}, {hit.town} — {ctx.t.distance(hit.distance_km)}\n   "
        + " · ".join(facts)
    )


def short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Places(Dialog):
    name = "places"

    async def show(self, ctx: Context, state: str) -> tuple[OutMessage, ...]:
        if state == "list":
            return await self._list(ctx)
        if state == "filters":
            return (self._filters(ctx),)
        if state == "type":
            rows: list[ButtonRow] = [
                (Button(ctx._(PLACE_TYPE_WORDS[c]), f"type:{c}"),) for c in PLACE_TYPES
            ]
            rows += [(Button(ctx._("All kinds"), "type:all"),), nav_row(ctx)]
            return (say(ctx._("Which kind of place?"), *rows),)
        if state == "equipment":
            member = ctx.member
            assert member.home is not None
            codes = await ctx.services.places.equipment_nearby(member.home, member.radius_km)
            rows = [(Button(word(ctx.t, EQUIPMENT_WORDS, c), f"eq:{c}"),) for c in codes]
            rows += [(Button(ctx._("Any equipment"), "eq:all"),), nav_row(ctx)]
            return (say(ctx._("Which equipment do you need?"), *rows),)
        if state == "detail":
            return await self._detail(ctx)
        raise ValueError(f"unknown places state {state!r}")

    async def _list(self, ctx: Context) -> tuple[OutMessage, ...]:
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
        radius = ctx.t.distance(member.radius_km)
        if not page.hits:
            text = (
                ctx._("No places match your filters within {radius}.")
                if filters != PlaceFilter()
                else ctx._("I know no places within {radius} of {town}.")
            ).format(radius=radius, town=member.home_label or "")
            wider = tuple(
                Button(
                    ctx._("Search within {radius}").format(radius=ctx.t.distance(km)),
                    f"wider:{km}",
                )
                for km in WIDER_KM
                if km > member.radius_km
            )
            clear = (Button(ctx._("Clear filters"), "clear"),) if filters != PlaceFilter() else ()
            return (say(text, wider, clear, nav_row(ctx)),)
        header = ctx._("Places within {radius} of {town}:").format(
            radius=radius, town=member.home_label or ""
        )
        if filters != PlaceFilter():
            header += "\n" + ctx._("(filtered)")
        lines = [hit_lines(ctx, offset + i + 1, hit) for i, hit in enumerate(page.hits)]
        rows: list[ButtonRow] = [(Button(short(h.name), f"pl:{h.id}"),) for h in page.hits]
        more = [Button(ctx._("More"), f"more:{offset + PAGE_SIZE}")] if page.has_more else []
        rows.append((*more, Button(ctx._("Filter"), "filters")))
        rows.append(nav_row(ctx))
        return (say("\n\n".join([header, *lines]), *rows),)

    def _filters(self, ctx: Context) -> OutMessage:
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
            (Button(mark(f.open_now) + ctx._("Open now only"), f"f:open:{int(not f.open_now)}"),),
            (Button(ctx._("Kind: {value}").format(value=kind), "f:type"),),
            (Button(ctx._("Equipment: {value}").format(value=equipment), "f:equipment"),),
            (
                Button(
                    mark(f.step_free) + ctx._("Step-free only"),
                    f"f:stepfree:{int(not f.step_free)}",
                ),
            ),
            (Button(ctx._("Show results"), "f:done"), Button(ctx._("Clear filters"), "clear")),
            nav_row(ctx),
        )
        return say(ctx._("Filter the places:"), *rows)

    async def _detail(self, ctx: Context) -> tuple[OutMessage, ...]:
        place_id = ctx.data.get("place_id")
        details = await ctx.services.places.details(int(place_id), ctx.now) if place_id else None
        if details is None:
            return (say(ctx._("This place is no longer listed."), nav_row(ctx)),)
        text = place_text(ctx, details)
        rows: list[ButtonRow] = [
            (Button(short(e.title), f"ev:{e.id}"),) for e in details.upcoming_events
        ]
        rows.append(nav_row(ctx))
        address = ", ".join(
            p for p in (details.street, f"{details.postcode or ''} {details.town}".strip()) if p
        )
        venue = Venue(details.name, address, details.point.lat, details.point.lon)
        return (OutMessage(text, buttons=tuple(rows), venue=venue),)

    async def handle(self, ctx: Context, state: str, msg: Incoming) -> Step:
        payload = msg.payload
        filters = dict(ctx.data.get("filters") or {})
        if state == "list":
            if payload.startswith("pl:"):
                return Go(self.name, "detail", data={"place_id": int(payload[3:])})
            if payload.startswith("more:"):
                # The payload carries the page, so a second tap on an old "Mehr" is stale.
                return Go(self.name, "list", data={"offset": int(payload[5:])})
            if payload == "filters":
                return Go(self.name, "filters")
            if payload == "clear":
                return Go(self.name, "list", data={"filters": None, "offset": 0}, remember=False)
            if payload.startswith("wider:"):
                km = int(payload[6:])
                await ctx.services.members.set_radius(ctx.member.id, km)
                note = ctx._("Your radius is now {radius}.").format(radius=ctx.t.distance(km))
                return Go(
                    self.name, "list", data={"offset": 0}, say=(OutMessage(note),), remember=False
                )
            if payload == SET_LOCATION:
                return Go("settings", "location")
        if state == "filters":
            # Toggles carry the value they set, so a double tap does not undo itself.
            if payload.startswith(("f:open:", "f:stepfree:")):
                key = "open_now" if payload.startswith("f:open:") else "step_free"
                filters[key] = payload.endswith(":1")
                return Stay(data={"filters": filters, "offset": 0})
            if payload == "f:type":
                return Go(self.name, "type")
            if payload == "f:equipment":
                return Go(self.name, "equipment")
            if payload == "f:done":
                return Go(self.name, "list", data={"offset": 0}, remember=False)
            if payload == "clear":
                return Go(self.name, "list", data={"filters": None, "offset": 0}, remember=False)
        if state == "type" and payload.startswith("type:"):
            code = payload[5:]
            filters["place_type"] = code if code in PLACE_TYPES else None
            return Go(self.name, "filters", data={"filters": filters, "offset": 0}, remember=False)
        if state == "equipment" and payload.startswith("eq:"):
            code = payload[3:]
            filters["equipment"] = code if code in EQUIPMENT_WORDS else None
            return Go(self.name, "filters", data={"filters": filters, "offset": 0}, remember=False)
        if state == "detail" and payload.startswith("ev:"):
            return Go("events", "detail", data={"event_id": int(payload[3:])})
        return Stay()


def place_text(ctx: Context, d: PlaceDetails) -> str:
    kinds = ", ".join(word(ctx.t, PLACE_TYPE_WORDS, c) for c in d.types)
    lines = [d.name]
    if kinds:
        lines.append(kinds)
    if d.closed_for_good:
        lines.append(
            "⚠ " + ctx._("Closed permanently") + (f" ({d.status_note})" if d.status_note else "")
        )
    if d.street:
        lines.append(
            ctx._("Address: {value}").format(
                value=f"{d.street}, {d.postcode or ''} {d.town}".replace("  ", " ")
            )
        )
    else:
        lines.append(ctx._("Town: {value}").format(value=d.town))
    if d.approximate:
        lines.append(ctx._("(map pin shows the town, not the exact address)"))
    if d.operator:
        lines.append(ctx._("Run by: {value}").format(value=d.operator))
    if d.mobile:
        lines.append(ctx._("Mobile: it moves between stops; ask for the current stop."))
    if not d.closed_for_good:
        lines.append("")
        lines.append(opening_words(ctx, d.opening_hours))
        if d.opening_hours:
            try:
                week = describe_week(
                    parse_hours(d.opening_hours), ctx.t.local(ctx.now).date(), ctx.t
                )
            except HoursError:
                week = []
            if week:
                lines.append(ctx._("Opening hours:"))
                lines.extend("  " + line for line in week)
    if d.equipment:
        lines.append("")
        lines.append(
            ctx._("Equipment: {value}").format(
                value=", ".join(word(ctx.t, EQUIPMENT_WORDS, c) for c in d.equipment)
            )
        )
    if d.step_free:
        lines.append(
            ctx._("Access: {value}").format(value=word(ctx.t, STEP_FREE_WORDS, d.step_free))
        )
    if d.cost:
        lines.append(
            ctx._("Cost: {value}").format(value=ctx._("free") if d.cost == "free" else d.cost)
        )
    if d.registration_required is False:
        lines.append(ctx._("No registration needed."))
    elif d.registration_required:
        lines.append(ctx._("Please register before you come."))
    if d.contact:
        lines.append(ctx._("Contact: {value}").format(value=d.contact))
    if d.website:
        lines.append(ctx._("Website: {value}").format(value=d.website))
    if d.description:
        lines.append("")
        lines.append(d.description)
    if d.upcoming_events:
        lines.append("")
        lines.append(ctx._("Coming up here:"))
        for e in d.upcoming_events:
            lines.append(f"• {ctx.t.when(e.start_at, e.end_at)}: {e.title}")
    lines.append("")
    lines.append(
        ctx._("Map: {url}").format(
            url=f"https://www.openstreetmap.org/?mlat={d.point.lat:.5f}&mlon={d.point.lon:.5f}#map=15/{d.point.lat:.5f}/{d.point.lon:.5f}"
        )
    )
    return "\n".join(lines)
