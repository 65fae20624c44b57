"""A place in words: its line in a list, and its details."""

from __future__ import annotations

from bot.dialogs.base import Context
from bot.dialogs.words import EQUIPMENT_WORDS, PLACE_TYPE_WORDS, STEP_FREE_WORDS, word
from bot.hours import HoursError, describe_state, describe_week, parse_hours
from bot.services.contracts import PlaceDetails, PlaceHit


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


def place_text(ctx: Context, d: PlaceDetails) -> str:
    """A place's details in plain words: what, where, when open, what it offers."""
    lines = [*_where(ctx, d), *_when_open(ctx, d), *_practical(ctx, d)]
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


def _where(ctx: Context, d: PlaceDetails) -> list[str]:
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
    return lines


def _when_open(ctx: Context, d: PlaceDetails) -> list[str]:
    lines: list[str] = []
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
    return lines


def _practical(ctx: Context, d: PlaceDetails) -> list[str]:
    lines: list[str] = []
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
    return lines
