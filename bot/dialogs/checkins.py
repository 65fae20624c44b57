"""Check-ins after a workshop: the morning after, "how was it?".

The member's own expectation is quoted back ("Du wolltest: „…“ – hat das geklappt?"),
or without one, "Wie war es?" from 1 to 5. Then an optional line of what they take
away, and whether they would like to stay in touch with someone from the group. Every
screen offers "Keine Nachfragen mehr"; an answer can be changed while it is open.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from bot.codes import CHECKINS
from bot.dialogs.actions import Action, ValueAction, one_of
from bot.dialogs.base import (
    ButtonRow,
    Context,
    Dialog,
    Go,
    On,
    Screen,
    Screenful,
    Step,
    Target,
    nav_row,
    note,
    on,
    say,
    too_long,
)
from bot.messages import Button, Incoming
from bot.services.contracts import MyRegistration, NotAllowed

NEXT_DAY = "next_day"  # the followup kind of the morning-after check-in
MAX_LINE = 300
MET = ValueAction("met", one_of("yes", "partly", "no"))
RATING = ValueAction("rating", one_of("1", "2", "3", "4", "5"))
SKIP = Action("skip")
CONTACT = ValueAction("contact", one_of("yes", "no"))
NO_MORE = Action("no_more_checkins")


class State(enum.StrEnum):
    HOW = "how"
    TAKEAWAY = "takeaway"
    CONTACT = "contact"


class Checkins(Dialog):
    name = "checkin"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {
            State.HOW: Screen(self._ask_how, (on(MET, self._met), on(RATING, self._rating))),
            State.TAKEAWAY: Screen(
                self._ask_takeaway, (on(SKIP, self._no_takeaway),), self._takeaway
            ),
            State.CONTACT: Screen(self._ask_contact, (on(CONTACT, self._contact),)),
        }

    def everywhere(self) -> tuple[On, ...]:
        return (on(NO_MORE, self._no_more),)

    async def _registration(self, ctx: Context) -> MyRegistration | None:
        registration_id = ctx.data.get("registration_id")
        if not isinstance(registration_id, int):
            return None
        return await ctx.services.registrations.get(ctx.member.id, registration_id)

    def _no_more_row(self, ctx: Context) -> ButtonRow:
        return (Button(ctx._("No more check-ins"), NO_MORE.payload),)

    async def _ask_how(self, ctx: Context) -> Screenful:
        r = await self._registration(ctx)
        if r is None:
            return (say(ctx._("This check-in is no longer open."), nav_row(ctx, back=False)),)
        if r.expectation:
            text = ctx._("You wanted: “{expectation}” – did that work out?").format(
                expectation=r.expectation
            )
            choices: ButtonRow = (
                Button(ctx._("Yes"), MET("yes")),
                Button(ctx._("Partly"), MET("partly")),
                Button(ctx._("No"), MET("no")),
            )
        else:
            text = ctx._("How was “{title}”? 1 is poor, 5 is very good.").format(title=r.title)
            choices = tuple(Button(str(n), RATING(str(n))) for n in range(1, 6))
        return (say(text, choices, self._no_more_row(ctx), nav_row(ctx, back=False)),)

    async def _save(self, ctx: Context, **values: str) -> Go | None:
        """Keep the answers; None when done, else where to go (the check-in lapsed)."""
        r = await self._registration(ctx)
        try:
            if r is None:
                raise NotAllowed("no check-in on this screen")
            await ctx.services.checkins.answer(ctx.member.id, r.event_id, NEXT_DAY, values, ctx.now)
        except NotAllowed:
            said = note(ctx._("This check-in is no longer open."))
            return Go(Target("menu", "main"), said, remember=False)
        return None

    async def _met(self, ctx: Context, met: str) -> Step:
        return await self._save(ctx, met=met) or self.go(State.TAKEAWAY)

    async def _rating(self, ctx: Context, rating: str) -> Step:
        return await self._save(ctx, rating=rating) or self.go(State.TAKEAWAY)

    async def _ask_takeaway(self, ctx: Context) -> Screenful:
        text = ctx._("What do you take away from it? One line is enough, or skip.")
        skip = (Button(ctx._("Skip"), SKIP.payload),)
        return (say(text, skip, self._no_more_row(ctx), nav_row(ctx)),)

    async def _takeaway(self, ctx: Context, msg: Incoming) -> Step:
        return too_long(ctx, msg.text, MAX_LINE) or (
            await self._save(ctx, takeaway=msg.text) or self.go(State.CONTACT)
        )

    async def _no_takeaway(self, ctx: Context) -> Step:
        return self.go(State.CONTACT)

    async def _ask_contact(self, ctx: Context) -> Screenful:
        text = ctx._("Would you like to stay in touch with someone from the group?")
        choices = (Button(ctx._("Yes"), CONTACT("yes")), Button(ctx._("No"), CONTACT("no")))
        return (say(text, choices, self._no_more_row(ctx), nav_row(ctx)),)

    async def _contact(self, ctx: Context, contact: str) -> Step:
        if done := await self._save(ctx, contact=contact):
            return done
        thanks = ctx._("Thank you! Your answers help the organisers plan the next workshops.")
        return Go(Target("menu", "main"), note(thanks), remember=False)

    async def _no_more(self, ctx: Context) -> Step:
        await ctx.services.members.set_consent(ctx.member.id, CHECKINS, False)
        text = ctx._("Understood: no more check-ins. You can switch them on in the settings.")
        return Go(Target("menu", "main"), note(text), remember=False)
