""" "Veranstaltung anlegen": a guided dialog from the format to publishing.

The answers gather in the dialog state's "draft"; nothing is written before
"Veröffentlichen". Leaving with several answers given asks first (`pending`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot.codes import EventFormat as Format
from bot.dialogs.actions import COUNT, POSITIVE, TOKEN, Action, ValueAction, code, new_token
from bot.dialogs.base import (
    ButtonRow,
    Context,
    Go,
    Said,
    Screen,
    Screenful,
    Stay,
    Step,
    Target,
    nav_row,
    note,
    on,
    say,
    too_long,
)
from bot.dialogs.event_fields import (
    MAX_DESCRIPTION,
    MAX_PLACE_NAME,
    MAX_SEATS,
    SEATS,
    WHEN_RIGHT,
    WHEN_WRONG,
    OrganiserDialog,
    ask_capacity,
    ask_title,
    ask_when,
    confirm_when,
    draft_lines,
    draft_of,
    iso,
    moment,
    people_unit,
    read_when,
    seats_hint,
    seats_unit,
    title_too_long,
    transfer_warning,
    typed_count,
)
from bot.dialogs.places import short
from bot.dialogs.words import ORGANISER_FORMAT_WORDS, word
from bot.geo import GeoPoint
from bot.messages import Button, Incoming
from bot.services.contracts import EVENT_FORMATS, EventDraft, NotAllowed, ServiceError
from bot.when import parse_when

FORMAT = ValueAction("format", code(Format))
SKIP = Action("skip")
PLACE = ValueAction("place", POSITIVE)
SEARCH_PLACE = Action("place_search")
NEW_PLACE = Action("place_new")
MINIMUM = ValueAction("minimum", COUNT)
DAYS_BEFORE = ValueAction("by", POSITIVE)
UNTIL_START = Action("deadline_start")
DAY_BEFORE = Action("deadline_day_before")
PUBLISH = ValueAction("publish", TOKEN)
DISCARD = Action("discard")
# Its own action: a second tap on the preview's "Verwerfen" must not confirm.
DISCARD_YES = Action("discard_yes")
KEEP_GOING = Action("keep_going")
# Leaving asks first once this many answers are given (the format alone is one tap).
ANSWERS_WORTH_ASKING = 2


class State(enum.StrEnum):
    FORMAT = "format"
    TITLE = "title"
    DESCRIPTION = "description"
    PLACE = "place"
    PLACE_SEARCH = "place_search"
    PLACE_NEW = "place_new"
    WHEN = "when"
    WHEN_CONFIRM = "when_confirm"
    CAPACITY = "capacity"
    MINIMUM = "minimum"
    MINIMUM_BY = "minimum_by"
    DEADLINE = "deadline"
    PREVIEW = "preview"
    DISCARD = "discard"


class NewEvent(OrganiserDialog):
    name = "new_event"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        place_buttons = (
            on(PLACE, self._place),
            on(SEARCH_PLACE, self._search_place),
            on(NEW_PLACE, self._new_place),
        )
        return {
            State.FORMAT: Screen(self._ask_format, (on(FORMAT, self._format),)),
            State.TITLE: Screen(ask_title, answer=self._title),
            State.DESCRIPTION: Screen(
                self._ask_description, (on(SKIP, self._no_description),), self._description
            ),
            State.PLACE: Screen(self._ask_place, place_buttons),
            State.PLACE_SEARCH: Screen(self._ask_place_name, place_buttons, self._place_named),
            State.PLACE_NEW: Screen(self._ask_new_place, answer=self._place_typed),
            State.WHEN: Screen(ask_when, answer=self._when),
            State.WHEN_CONFIRM: Screen(
                confirm_when, (on(WHEN_RIGHT, self._when_right), on(WHEN_WRONG, self._when_wrong))
            ),
            State.CAPACITY: Screen(
                ask_capacity, (on(SEATS, self._seats),), self._typed_seats, unit=seats_unit
            ),
            State.MINIMUM: Screen(
                self._ask_minimum, (on(MINIMUM, self._minimum),), self._typed_minimum, people_unit
            ),
            State.MINIMUM_BY: Screen(
                self._ask_minimum_by, (on(DAYS_BEFORE, self._days_before),), self._minimum_by
            ),
            State.DEADLINE: Screen(
                self._ask_deadline,
                (on(UNTIL_START, self._until_start), on(DAY_BEFORE, self._day_before)),
                self._deadline,
            ),
            State.PREVIEW: Screen(
                self._preview, (on(PUBLISH, self._publish), on(DISCARD, self._confirm_discard))
            ),
            State.DISCARD: Screen(
                self._ask_discard,
                (on(DISCARD_YES, self._discard), on(KEEP_GOING, self._keep_going)),
            ),
        }

    def _next(self, ctx: Context, state: State, answers: Mapping[str, Any], said: Said = ()) -> Go:
        """On to `state` with `answers` added to the draft."""
        return self.go(state, {"draft": {**draft_of(ctx), **answers}}, say=said)

    def pending(self, ctx: Context, state: str) -> Target | None:
        if len(draft_of(ctx)) < ANSWERS_WORTH_ASKING:
            return None
        resume = ctx.data.get("resume") if state == State.DISCARD else state
        return Target(self.name, State.DISCARD, {"resume": resume})

    # -- format, title, description ----------------------------------------------
    async def _ask_format(self, ctx: Context) -> Screenful:
        rows = [
            (Button(word(ctx.t, ORGANISER_FORMAT_WORDS, f), FORMAT(Format(f))),)
            for f in EVENT_FORMATS
        ]
        return (say(ctx._("New event. What kind of event is it?"), *rows, nav_row(ctx)),)

    async def _format(self, ctx: Context, event_format: Format) -> Step:
        return self._next(ctx, State.TITLE, {"format": str(event_format)})

    async def _title(self, ctx: Context, msg: Incoming) -> Step:
        return title_too_long(ctx, msg.text) or self._next(
            ctx, State.DESCRIPTION, {"title": msg.text}
        )

    async def _ask_description(self, ctx: Context) -> Screenful:
        text = ctx._("Describe it in a few sentences: what happens, for whom, what to bring.")
        return (say(text, (Button(ctx._("Skip"), SKIP.payload),), nav_row(ctx)),)

    async def _description(self, ctx: Context, msg: Incoming) -> Step:
        return too_long(ctx, msg.text, MAX_DESCRIPTION) or self._next(
            ctx, State.PLACE, {"description": msg.text}
        )

    async def _no_description(self, ctx: Context) -> Step:
        return self._next(ctx, State.PLACE, {"description": None})

    # -- the place -------------------------------------------------------------------
    async def _ask_place(self, ctx: Context) -> Screenful:
        rows: list[ButtonRow] = []
        suggested = draft_of(ctx).get("suggested_place")
        if suggested:  # made of a topic: the place that keeps the group's trips short
            place_id, label = suggested
            text = ctx._("{place} (nearest for the group)").format(place=short(label, 30))
            rows.append((Button(text, PLACE(place_id)),))
        if ctx.member.home is not None:
            near = await ctx.services.organiser.places_near(
                ctx.member.id, ctx.member.home, ctx.member.radius_km
            )
            shown = {suggested[0]} if suggested else set()
            rows += [
                (Button(short(f"{p.name}, {p.town}"), PLACE(p.id)),)
                for p in near
                if p.id not in shown
            ]
        rows.append((Button(ctx._("Search a place by name"), SEARCH_PLACE.payload),))
        rows.append((Button(ctx._("A new place"), NEW_PLACE.payload),))
        return (say(ctx._("Where does it take place?"), *rows, nav_row(ctx)),)

    async def _ask_place_name(self, ctx: Context) -> Screenful:
        found = ctx.data.get("found") or []
        rows: list[ButtonRow] = [(Button(short(label), PLACE(pid)),) for pid, label in found]
        rows.append((Button(ctx._("A new place"), NEW_PLACE.payload),))
        text = ctx._("Type the name of the place (or a part of it).")
        return (say(text, *rows, nav_row(ctx)),)

    async def _search_place(self, ctx: Context) -> Step:
        return self.go(State.PLACE_SEARCH, {"found": []})

    async def _new_place(self, ctx: Context) -> Step:
        return self.go(State.PLACE_NEW)

    async def _place_named(self, ctx: Context, msg: Incoming) -> Step:
        found = await ctx.services.organiser.places_named(ctx.member.id, msg.text)
        if not found:
            return Stay(say=note(ctx._("I found no place with that name.")), data={"found": []})
        return Stay(data={"found": [[p.id, f"{p.name}, {p.town}"] for p in found]})

    async def _place(self, ctx: Context, place_id: int) -> Step:
        labels = {pid: label for pid, label in ctx.data.get("found") or []}
        suggested = draft_of(ctx).get("suggested_place")
        if suggested:
            labels[suggested[0]] = suggested[1]
        if place_id not in labels:
            near = await ctx.services.organiser.places_near(
                ctx.member.id, ctx.member.home or GeoPoint(51.2, 10.4), ctx.member.radius_km
            )
            labels.update({p.id: f"{p.name}, {p.town}" for p in near})
        draft = {**draft_of(ctx), "place_id": place_id, "place_label": labels.get(place_id, "")}
        return self.go(State.WHEN, {"draft": draft, "found": None})

    async def _ask_new_place(self, ctx: Context) -> Screenful:
        text = ctx._("Type the name and the town, for example: “Miller's Woodshop, Iserlohn”.")
        return (say(text, nav_row(ctx)),)

    async def _place_typed(self, ctx: Context, msg: Incoming) -> Step:
        name, _, town_text = msg.text.rpartition(",")
        name = name.strip()
        if not name or not town_text.strip():
            return Stay(say=note(ctx._("Please write the name, a comma, and the town.")))
        if longer := too_long(ctx, name, MAX_PLACE_NAME):
            return longer
        matches = ctx.services.gazetteer.lookup(town_text).matches
        if not matches:
            return Stay(say=note(ctx._("I don't know that town. Please check it.")))
        town = matches[0]
        place_id = await ctx.services.organiser.new_place(
            ctx.member.id, name, town.point, town.name
        )
        return self._next(
            ctx, State.WHEN, {"place_id": place_id, "place_label": f"{name}, {town.name}"}
        )

    # -- date and seats ----------------------------------------------------------------
    async def _when(self, ctx: Context, msg: Incoming) -> Step:
        when = read_when(ctx, msg.text)
        return when if isinstance(when, Stay) else self._next(ctx, State.WHEN_CONFIRM, when)

    async def _when_right(self, ctx: Context) -> Step:
        return self.go(State.CAPACITY)

    async def _when_wrong(self, ctx: Context) -> Step:
        return self.go(State.WHEN, remember=False)

    async def _seats(self, ctx: Context, seats: int | None) -> Step:
        if seats is not None and seats > MAX_SEATS:
            return seats_hint(ctx)
        warn = transfer_warning(ctx, draft_of(ctx).get("format"), seats)
        return self._next(ctx, State.MINIMUM, {"capacity": seats}, warn)

    async def _typed_seats(self, ctx: Context, msg: Incoming) -> Step:
        seats = typed_count(msg.text)
        return await self._seats(ctx, seats) if seats else seats_hint(ctx)

    # -- minimum and deadline ----------------------------------------------------------
    async def _ask_minimum(self, ctx: Context) -> Screenful:
        text = ctx._(
            "Is there a minimum number of participants? If it is not reached in time, "
            "I will ask you whether to hold or cancel."
        )
        text += "\n" + ctx._("Another number? Type it with “people”, for example “4 people”.")
        rows = (
            (
                Button(ctx._("No minimum"), MINIMUM(None)),
                Button(people_unit(ctx.t, 3), MINIMUM(3)),
            ),
        )
        return (say(text, *rows, nav_row(ctx)),)

    async def _minimum(self, ctx: Context, count: int | None) -> Step:
        if count is None:
            return self._next(ctx, State.DEADLINE, {"minimum": None, "minimum_by": None})
        capacity = draft_of(ctx).get("capacity")
        if capacity and count > int(capacity):
            return Stay(say=note(ctx._("The minimum cannot be more than the seats.")))
        return self._next(ctx, State.MINIMUM_BY, {"minimum": count})

    async def _typed_minimum(self, ctx: Context, msg: Incoming) -> Step:
        count = typed_count(msg.text)
        if not count:
            return Stay(say=note(ctx._("Please type a number, or choose “No minimum”.")))
        return await self._minimum(ctx, count)

    async def _ask_minimum_by(self, ctx: Context) -> Screenful:
        text = ctx._("By when must the minimum be reached? Choose or type a date.")
        rows = (
            (
                Button(ctx._("3 days before"), DAYS_BEFORE(3)),
                Button(ctx._("1 week before"), DAYS_BEFORE(7)),
            ),
        )
        return (say(text, *rows, nav_row(ctx)),)

    async def _days_before(self, ctx: Context, days: int) -> Step:
        start = moment(draft_of(ctx).get("start_at"))
        assert start is not None
        return self._minimum_at(ctx, start - timedelta(days=days))

    async def _minimum_by(self, ctx: Context, msg: Incoming) -> Step:
        when = parse_when(msg.text, ctx.now, ctx.t.tz)
        if when is None:
            return _date_again(ctx)
        return self._minimum_at(ctx, when.start)

    def _minimum_at(self, ctx: Context, by: Any) -> Step:
        start = moment(draft_of(ctx).get("start_at"))
        assert start is not None
        if not ctx.now < by < start:
            return Stay(say=note(ctx._("That must be between now and the start.")))
        return self._next(ctx, State.DEADLINE, {"minimum_by": iso(by)})

    async def _ask_deadline(self, ctx: Context) -> Screenful:
        text = ctx._("Until when can people sign up? Choose or type a date and time.")
        rows = (
            (Button(ctx._("Until the start"), UNTIL_START.payload),),
            (Button(ctx._("1 day before"), DAY_BEFORE.payload),),
        )
        return (say(text, *rows, nav_row(ctx)),)

    async def _until_start(self, ctx: Context) -> Step:
        return self._next(ctx, State.PREVIEW, {"deadline": None})

    async def _day_before(self, ctx: Context) -> Step:
        start = moment(draft_of(ctx).get("start_at"))
        assert start is not None
        return self._deadline_at(ctx, start - timedelta(days=1))

    async def _deadline(self, ctx: Context, msg: Incoming) -> Step:
        when = parse_when(msg.text, ctx.now, ctx.t.tz)
        return _date_again(ctx) if when is None else self._deadline_at(ctx, when.start)

    def _deadline_at(self, ctx: Context, deadline: Any) -> Step:
        start = moment(draft_of(ctx).get("start_at"))
        assert start is not None
        if not ctx.now < deadline <= start:
            return Stay(say=note(ctx._("That must be between now and the start.")))
        return self._next(ctx, State.PREVIEW, {"deadline": iso(deadline)})

    # -- preview, publish, discard ---------------------------------------------------
    async def _preview(self, ctx: Context) -> Screenful:
        lines = [ctx._("Preview:"), "", *draft_lines(ctx, draft_of(ctx))]
        rows = (
            # The button carries the event's key: publishing twice makes one event.
            (Button(ctx._("Publish"), PUBLISH(new_token())),),
            (Button(ctx._("Discard"), DISCARD.payload),),
        )
        return (say("\n".join(lines), *rows, nav_row(ctx)),)

    async def _publish(self, ctx: Context, key: str) -> Step:
        draft = draft_of(ctx)
        start = moment(draft.get("start_at"))
        if start is None or "place_id" not in draft:
            return self.go(State.FORMAT, {"draft": {}})
        event = EventDraft(
            format=Format(draft["format"]),
            title=str(draft["title"]),
            description=draft.get("description"),
            place_id=int(draft["place_id"]),
            start_at=start,
            end_at=moment(draft.get("end_at")),
            capacity=draft.get("capacity"),
            minimum=draft.get("minimum"),
            minimum_by=moment(draft.get("minimum_by")),
            deadline=moment(draft.get("deadline")),
            topic_id=draft.get("topic_id"),
            invite=tuple(int(m) for m in draft.get("invite") or ()),
            key=key,
        )
        try:
            event_id = await ctx.services.organiser.create(ctx.member.id, event, ctx.now)
        except NotAllowed:
            raise  # the guard turns it into the refusal
        except ServiceError:
            hint = ctx._("That did not work: please check the date and the numbers.")
            return Stay(say=note(hint))
        text = ctx._("Published! Members nearby find it under “Events”.")
        text += "\n" + ctx._(
            "For posters and flyers, the link opens it directly: /start ev_{id}"
        ).format(id=event_id)
        to = Target("my_events", "event", {"draft": None, "event_id": event_id})
        return Go(to, say=note(text), remember=False)

    async def _confirm_discard(self, ctx: Context) -> Step:
        return self.go(State.DISCARD, {"resume": State.PREVIEW.value})

    async def _ask_discard(self, ctx: Context) -> Screenful:
        text = ctx._("Discard this event? Your answers so far are lost; nothing was published.")
        rows = (
            (Button(ctx._("Yes, discard"), DISCARD_YES.payload),),
            (Button(ctx._("No, continue"), KEEP_GOING.payload),),
        )
        return (say(text, *rows),)

    async def _discard(self, ctx: Context) -> Step:
        said = note(ctx._("Discarded. Nothing was published."))
        return Go(Target("menu", "main", {"draft": None, "resume": None}), said, remember=False)

    async def _keep_going(self, ctx: Context) -> Step:
        resume = ctx.data.get("resume")
        state = State(resume) if resume in set(State) else State.PREVIEW
        return self.go(state, {"resume": None}, remember=False)


def _date_again(ctx: Context) -> Stay:
    return Stay(say=note(ctx._("I didn't understand that date. Please try again.")))
