"""Asking where a member is: postcode, town (typos welcome) or a shared location.

Used by onboarding and settings; both have a "location" and a "choose_town" state,
built here by `location_screens`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.dialogs.actions import INDEX, Action, ValueAction
from bot.dialogs.base import (
    ButtonRow,
    Context,
    Go,
    Screen,
    Screenful,
    Stay,
    Step,
    Target,
    nav_row,
    on,
    say,
)
from bot.geo import MAX_MATCHES, GeoPoint, Locality
from bot.messages import Button, Incoming, Kind, OutMessage

TOWN = ValueAction("town", INDEX)
NONE_OF_THESE = Action("none_of_these")
# "Ort festlegen" on a list that needs a location: opens the settings' question.
SET_LOCATION = Action("set_location")
TO_SET_LOCATION = Target("settings", "location")
LOCATION, CHOOSE_TOWN = "location", "choose_town"
# Germany's bounding box, with a margin for the border regions.
_LAT_RANGE = (47.0, 55.3)
_LON_RANGE = (5.5, 15.5)


def ask_location(ctx: Context, back: bool = True) -> tuple[OutMessage, ...]:
    text = ctx._(
        "Where are you? Type your postcode or town (for example 58636 or Iserlohn), "
        "or share your location."
    )
    button = ctx._("📍 Send my location")
    return (OutMessage(text, buttons=(nav_row(ctx, back),), location_button=button),)


def where_unknown(ctx: Context) -> tuple[OutMessage, ...]:
    """Instead of a list near the member, when we do not know where they are."""
    text = ctx._("I don't know where you are yet. Please tell me your town or postcode.")
    return (say(text, (Button(ctx._("Set location"), SET_LOCATION.payload),), nav_row(ctx)),)


def ask_which_town(ctx: Context) -> tuple[OutMessage, ...]:
    candidates = ctx.data.get("candidates", [])
    rows: list[ButtonRow] = [(Button(c["label"], TOWN(i)),) for i, c in enumerate(candidates)]
    rows += [(Button(ctx._("None of these"), NONE_OF_THESE.payload),), nav_row(ctx)]
    text = ctx._("There are several places with that name. Which one do you mean?")
    if ctx.data.get("candidates_cut"):
        text += "\n" + ctx._("Not in the list? Type your postcode.")
    return (say(text, *rows),)


def _stored(locality: Locality) -> dict[str, object]:
    return {
        "label": locality.label(),
        "name": locality.name,
        "lat": locality.point.lat,
        "lon": locality.point.lon,
    }


async def answer_location(ctx: Context, msg: Incoming, done: Go) -> Step:
    """Resolve the member's answer; on success store it and `done`, else ask again kindly."""
    if msg.kind == Kind.LOCATION and msg.lat is not None and msg.lon is not None:
        if not (
            _LAT_RANGE[0] <= msg.lat <= _LAT_RANGE[1] and _LON_RANGE[0] <= msg.lon <= _LON_RANGE[1]
        ):
            return Stay(
                say=(
                    OutMessage(
                        ctx._(
                            "That location is outside Germany. "
                            "Werkbank knows places in Germany only."
                        )
                    ),
                )
            )
        point = GeoPoint(msg.lat, msg.lon)
        town = ctx.services.gazetteer.nearest_town(point)
        # A town name reads the same in every language; coordinates where there is none.
        label = town.name if town else f"{point.lat:.3f}, {point.lon:.3f}"
        await ctx.services.members.set_home(ctx.member.id, point, label)
        note = ctx._("Thanks, I have your location (near {town}).").format(town=label)
        return _with_note(done, note, clear=True)
    text = msg.text.strip()
    if not text:
        return Stay(say=(OutMessage(ctx._("Please type a postcode or a town.")),))
    result = ctx.services.gazetteer.lookup(text)
    if not result.matches:
        hint = ctx._(
            "I could not find “{text}”. "
            "Please check the spelling, or type the postcode (five digits)."
        ).format(text=text[:40])
        return Stay(say=(OutMessage(hint),))
    if len(result.matches) > 1:
        data = {
            "candidates": [_stored(m) for m in result.matches],
            "candidates_cut": len(result.matches) >= MAX_MATCHES,
        }
        return Go(Target(done.to.flow, CHOOSE_TOWN, data))
    return await _settle(ctx, _stored(result.matches[0]), done, corrected=result.corrected)


async def answer_which_town(ctx: Context, index: int, done: Go) -> Step:
    candidates = ctx.data.get("candidates", [])
    if index >= len(candidates):
        return Stay(say=(OutMessage(ctx._("Please choose one of the places.")),))
    return await _settle(ctx, candidates[index], done, corrected=False)


def location_screens(
    done: Go, then: Callable[[Context, Step], Awaitable[Step]] | None = None
) -> tuple[Screen, Screen]:
    """The "location" and "choose_town" screens of a flow; `done` follows a saved place,
    `then` may change that step (onboarding opens a poster's link instead)."""

    async def finish(ctx: Context, step: Step) -> Step:
        return await then(ctx, step) if then else step

    async def ask(ctx: Context) -> Screenful:
        return ask_location(ctx)

    async def which(ctx: Context) -> Screenful:
        return ask_which_town(ctx)

    async def typed(ctx: Context, msg: Incoming) -> Step:
        # Typing another name or postcode, or sharing a location, answers either question.
        return await finish(ctx, await answer_location(ctx, msg, done))

    async def town(ctx: Context, index: int) -> Step:
        return await finish(ctx, await answer_which_town(ctx, index, done))

    async def none_of_these(ctx: Context) -> Step:
        again = Target(done.to.flow, LOCATION, {"candidates": None})
        return Go(again, remember=False)

    return (
        Screen(ask, answer=typed, location=True),
        Screen(
            which, (on(TOWN, town), on(NONE_OF_THESE, none_of_these)), answer=typed, location=True
        ),
    )


async def _settle(ctx: Context, chosen: dict[str, object], done: Go, corrected: bool) -> Step:
    point = GeoPoint(float(chosen["lat"]), float(chosen["lon"]))  # type: ignore[arg-type]
    await ctx.services.members.set_home(ctx.member.id, point, str(chosen["name"]))
    note = ctx._("I understood: {place}.") if corrected else ctx._("Got it: {place}.")
    return _with_note(done, note.format(place=chosen["label"]), clear=True)


def _with_note(done: Go, note: str, clear: bool = False) -> Go:
    data = {**done.to.data, **({"candidates": None, "candidates_cut": None} if clear else {})}
    to = Target(done.to.flow, done.to.state, data)
    return Go(to, say=(OutMessage(note), *done.say), remember=done.remember)
