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
TRIED = ValueAction("tried", one_of("done", "started", "no_time", "help"))
OUTCOME = ValueAction("outcome", one_of("order", "cooperation", "project", "topic", "nothing"))
WEEKS, MONTHS = "weeks", "months"  # the followup kinds of the later check-ins


class State(enum.StrEnum):
    HOW = "how"
    TAKEAWAY = "takeaway"
    CONTACT = "contact"
    WEEKS = "weeks"
    HELP = "help"
    MONTHS = "months"


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
            State.WEEKS: Screen(self._ask_tried, (on(TRIED, self._tried),)),
            State.HELP: Screen(self._ask_help, answer=self._help),
            State.MONTHS: Screen(self._ask_outcome, (on(OUTCOME, self._outcome),)),
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

    async def _save(self, ctx: Context, kind: str = NEXT_DAY, **values: str) -> Go | None:
        """Keep the answers; None when done, else where to go (the check-in lapsed)."""
        r = await self._registration(ctx)
        try:
            if r is None:
                raise NotAllowed("no check-in on this screen")
            await ctx.services.checkins.answer(ctx.member.id, r.event_id, kind, values, ctx.now)
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
        return Go(Target("menu", "main"), note(_thanks(ctx)), remember=False)

    # -- four weeks on ---------------------------------------------------------------
    async def _ask_tried(self, ctx: Context) -> Screenful:
        r = await self._registration(ctx)
        if r is None:
            return (say(ctx._("This check-in is no longer open."), nav_row(ctx, back=False)),)
        text = ctx._("Four weeks ago you were at “{title}”. Have you tried any of it since?")
        rows: tuple[ButtonRow, ...] = (
            (
                Button(ctx._("Already done"), TRIED("done")),
                Button(ctx._("Started"), TRIED("started")),
            ),
            (Button(ctx._("Not yet – no time"), TRIED("no_time")),),
            (Button(ctx._("I need help"), TRIED("help")),),
        )
        return (
            say(text.format(title=r.title), *rows, self._no_more_row(ctx), nav_row(ctx, False)),
        )

    async def _tried(self, ctx: Context, tried: str) -> Step:
        if lapsed := await self._save(ctx, WEEKS, tried=tried):
            return lapsed
        if tried == "help":
            return self.go(State.HELP)
        return Go(Target("menu", "main"), note(_thanks(ctx)), remember=False)

    async def _ask_help(self, ctx: Context) -> Screenful:
        text = ctx._("With what? One line is enough.")
        return (say(text, nav_row(ctx)),)

    async def _help(self, ctx: Context, msg: Incoming) -> Step:
        if refused := too_long(ctx, msg.text, MAX_LINE):
            return refused
        return await self._save(ctx, WEEKS, help=msg.text) or Go(
            Target("menu", "main"), note(_thanks(ctx)), remember=False
        )

    # -- three months on ---------------------------------------------------------------
    async def _ask_outcome(self, ctx: Context) -> Screenful:
        r = await self._registration(ctx)
        if r is None:
            return (say(ctx._("This check-in is no longer open."), nav_row(ctx, back=False)),)
        text = ctx._("Three months after “{title}”: what came of it?").format(title=r.title)
        rows: tuple[ButtonRow, ...] = (
            (Button(ctx._("An order or a product"), OUTCOME("order")),),
            (Button(ctx._("A cooperation"), OUTCOME("cooperation")),),
            (Button(ctx._("A new project"), OUTCOME("project")),),
            (Button(ctx._("A topic for the next workshop"), OUTCOME("topic")),),
            (Button(ctx._("Nothing"), OUTCOME("nothing")),),
        )
        return (say(text, *rows, self._no_more_row(ctx), nav_row(ctx, back=False)),)

    async def _outcome(self, ctx: Context, outcome: str) -> Step:
        if lapsed := await self._save(ctx, MONTHS, outcome=outcome):
            return lapsed
        if outcome == "topic":  # straight on to proposing it
            return Go(Target("propose_topic", "title", {"proposal": {}}), note(_thanks(ctx)))
        return Go(Target("menu", "main"), note(_thanks(ctx)), remember=False)

    async def _no_more(self, ctx: Context) -> Step:
        await ctx.services.members.set_consent(ctx.member.id, CHECKINS, False)
        text = ctx._("Understood: no more check-ins. You can switch them on in the settings.")
        return Go(Target("menu", "main"), note(text), remember=False)


def _thanks(ctx: Context) -> str:
    return ctx._("Thank you! Your answers help the organisers plan the next workshops.")
