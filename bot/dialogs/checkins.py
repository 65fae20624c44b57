"""Check-ins after a workshop: the morning after, "how was it?".

The member's own expectation is quoted back ("Du wolltest: „…“ – hat das geklappt?"),
or without one, "Wie war es?" from 1 to 5. Then an optional line of what they take
away, and whether they would like to stay in touch with someone from the group. Every
screen offers "Keine Nachfragen mehr"; an answer can be changed while it is open.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from bot.codes import CHECKINS, NAME_TO_ORGANISER, RATINGS, Answer, Checkin, Question
from bot.dialogs.actions import FLAG, Action, BadPayload, ValueAction, one_of, with_id
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
from bot.dialogs.topic_proposal import TOPIC_FIELDS
from bot.messages import Button, Incoming
from bot.services.contracts import MAX_CHECKIN_LINE, MyRegistration, NotAllowed


def _answers(question: Question) -> ValueAction[tuple[int, str]]:
    """The buttons that answer `question` for one seat: "met:12.yes", "tried:12.help", …
    The seat rides along so the button still works once the member has moved on
    (`Checkins.standing`): on Telegram the check-in stays in the chat for days."""
    return ValueAction(question, with_id(one_of(*(question.answers or ()))))


MET = _answers(Question.MET)
RATING = _answers(Question.RATING)
CONTACT = _answers(Question.CONTACT)
TRIED = _answers(Question.TRIED)
OUTCOME = _answers(Question.OUTCOME)
SKIP = Action("skip")
NO_MORE = Action("no_more_checkins")
SHOW_NAME = ValueAction("show_name", FLAG)


class State(enum.StrEnum):
    HOW = "how"
    TAKEAWAY = "takeaway"
    NAME = "name"
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
            State.NAME: Screen(self._ask_name, (on(SHOW_NAME, self._show_name),)),
            State.CONTACT: Screen(self._ask_contact, (on(CONTACT, self._contact),)),
            State.WEEKS: Screen(self._ask_tried, (on(TRIED, self._tried),)),
            State.HELP: Screen(self._ask_help, answer=self._help),
            State.MONTHS: Screen(self._ask_outcome, (on(OUTCOME, self._outcome),)),
        }

    def everywhere(self) -> tuple[On, ...]:
        return (on(NO_MORE, self._no_more),)

    def standing(self, payload: str) -> Target | None:
        if payload == NO_MORE.payload:  # "Keine Nachfragen mehr" works from any check-in
            return Target(self.name, State.HOW, {})
        for action, state in _STANDING:
            if action.matches(payload):
                try:
                    registration_id, _ = action.parse(payload)
                except BadPayload:
                    return None
                return Target(self.name, state, {"registration_id": registration_id})
        return None

    def _seat(self, ctx: Context) -> int:
        """The seat whose check-in is on screen (the answer buttons carry it)."""
        registration_id = ctx.data.get("registration_id")
        return registration_id if isinstance(registration_id, int) else 0

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
                Button(ctx._("Yes"), MET((r.id, Answer.YES))),
                Button(ctx._("Partly"), MET((r.id, Answer.PARTLY))),
                Button(ctx._("No"), MET((r.id, Answer.NO))),
            )
        else:
            text = ctx._("How was “{title}”? 1 is poor, 5 is very good.").format(title=r.title)
            choices = tuple(Button(n, RATING((r.id, n))) for n in RATINGS)
        return (say(text, choices, self._no_more_row(ctx), nav_row(ctx, back=False)),)

    async def _save(
        self, ctx: Context, kind: Checkin = Checkin.NEXT_DAY, **values: str
    ) -> Go | None:
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

    async def _met(self, ctx: Context, pressed: tuple[int, str]) -> Step:
        _, met = pressed
        return await self._save(ctx, met=met) or self.go(State.TAKEAWAY)

    async def _rating(self, ctx: Context, pressed: tuple[int, str]) -> Step:
        _, rating = pressed
        return await self._save(ctx, rating=rating) or self.go(State.TAKEAWAY)

    async def _ask_takeaway(self, ctx: Context) -> Screenful:
        text = ctx._("What do you take away from it? One line is enough, or skip.")
        skip = (Button(ctx._("Skip"), SKIP.payload),)
        return (say(text, skip, self._no_more_row(ctx), nav_row(ctx)),)

    async def _takeaway(self, ctx: Context, msg: Incoming) -> Step:
        return too_long(ctx, msg.text, MAX_CHECKIN_LINE) or (
            await self._save(ctx, takeaway=msg.text) or await self._after_line(ctx, State.CONTACT)
        )

    async def _after_line(self, ctx: Context, then: State | None) -> Step:
        """After the first line of text a member gives: may the organiser see their
        first name beside it? Asked once; changeable in the settings. Then `then`, or
        the thanks and the menu."""
        if ctx.member.name_to_organiser is None:
            return self.go(State.NAME, {"then": then})
        return self._then(ctx, then)

    def _then(self, ctx: Context, then: object) -> Go:
        if then == State.CONTACT:
            return self.go(State.CONTACT, {"then": None})
        return Go(Target("menu", "main"), note(_thanks(ctx)), remember=False)

    async def _ask_name(self, ctx: Context) -> Screenful:
        text = ctx._(
            "May the organisers see your first name beside your answers? "
            "Otherwise they see them without a name."
        )
        choices = (
            Button(ctx._("Yes, with my name"), SHOW_NAME(True)),
            Button(ctx._("No, without a name"), SHOW_NAME(False)),
        )
        return (say(text, choices, nav_row(ctx)),)

    async def _show_name(self, ctx: Context, yes: bool) -> Step:
        await ctx.services.members.set_consent(ctx.member.id, NAME_TO_ORGANISER, yes)
        return self._then(ctx, ctx.data.get("then"))

    async def _no_takeaway(self, ctx: Context) -> Step:
        return self.go(State.CONTACT)

    async def _ask_contact(self, ctx: Context) -> Screenful:
        text = ctx._("Would you like to stay in touch with someone from the group?")
        choices = (
            Button(ctx._("Yes"), CONTACT((self._seat(ctx), Answer.YES))),
            Button(ctx._("No"), CONTACT((self._seat(ctx), Answer.NO))),
        )
        return (say(text, choices, self._no_more_row(ctx), nav_row(ctx)),)

    async def _contact(self, ctx: Context, pressed: tuple[int, str]) -> Step:
        _, contact = pressed
        if done := await self._save(ctx, contact=contact):
            return done
        return Go(Target("menu", "main"), note(_thanks(ctx)), remember=False)

    # -- some weeks on (per format, a setting) ---------------------------------------
    async def _ask_tried(self, ctx: Context) -> Screenful:
        r = await self._registration(ctx)
        if r is None:
            return (say(ctx._("This check-in is no longer open."), nav_row(ctx, back=False)),)
        weeks = max(1, round((ctx.now - (r.end_at or r.start_at)).days / 7))
        text = ctx.t.ngettext(
            "{count} week ago you were at “{title}”. Have you tried any of it since?",
            "{count} weeks ago you were at “{title}”. Have you tried any of it since?",
            weeks,
        ).replace("{count}", str(weeks))
        rows: tuple[ButtonRow, ...] = (
            (
                Button(ctx._("Already done"), TRIED((r.id, Answer.DONE))),
                Button(ctx._("Started"), TRIED((r.id, Answer.STARTED))),
            ),
            (Button(ctx._("Not yet – no time"), TRIED((r.id, Answer.NO_TIME))),),
            (Button(ctx._("I need help"), TRIED((r.id, Answer.NEEDS_HELP))),),
        )
        return (
            say(text.format(title=r.title), *rows, self._no_more_row(ctx), nav_row(ctx, False)),
        )

    async def _tried(self, ctx: Context, pressed: tuple[int, str]) -> Step:
        _, tried = pressed
        if lapsed := await self._save(ctx, Checkin.WEEKS, tried=tried):
            return lapsed
        if tried == Answer.NEEDS_HELP:
            return self.go(State.HELP)
        return Go(Target("menu", "main"), note(_thanks(ctx)), remember=False)

    async def _ask_help(self, ctx: Context) -> Screenful:
        text = ctx._("With what? One line is enough.")
        return (say(text, nav_row(ctx)),)

    async def _help(self, ctx: Context, msg: Incoming) -> Step:
        if refused := too_long(ctx, msg.text, MAX_CHECKIN_LINE):
            return refused
        return await self._save(ctx, Checkin.WEEKS, help=msg.text) or await self._after_line(
            ctx, None
        )

    # -- three months on ---------------------------------------------------------------
    async def _ask_outcome(self, ctx: Context) -> Screenful:
        r = await self._registration(ctx)
        if r is None:
            return (say(ctx._("This check-in is no longer open."), nav_row(ctx, back=False)),)
        text = ctx._("Three months after “{title}”: what came of it?").format(title=r.title)
        rows: tuple[ButtonRow, ...] = (
            (Button(ctx._("An order or a product"), OUTCOME((r.id, Answer.ORDER))),),
            (Button(ctx._("A cooperation"), OUTCOME((r.id, Answer.COOPERATION))),),
            (Button(ctx._("A new project"), OUTCOME((r.id, Answer.PROJECT))),),
            (Button(ctx._("A topic for the next workshop"), OUTCOME((r.id, Answer.TOPIC))),),
            (Button(ctx._("Nothing"), OUTCOME((r.id, Answer.NOTHING))),),
        )
        return (say(text, *rows, self._no_more_row(ctx), nav_row(ctx, back=False)),)

    async def _outcome(self, ctx: Context, pressed: tuple[int, str]) -> Step:
        _, outcome = pressed
        if lapsed := await self._save(ctx, Checkin.MONTHS, outcome=outcome):
            return lapsed
        if outcome == Answer.TOPIC:  # straight on to proposing it, filled in
            r = await self._registration(ctx)
            proposal = {
                "sentence": ctx._("Following on from: {title}").format(title=r.title if r else ""),
                "fields": [ctx.member.field] if ctx.member.field in TOPIC_FIELDS else [],
            }
            return Go(Target("propose_topic", "title", {"proposal": proposal}), note(_thanks(ctx)))
        return Go(Target("menu", "main"), note(_thanks(ctx)), remember=False)

    async def _no_more(self, ctx: Context) -> Step:
        await ctx.services.members.set_consent(ctx.member.id, CHECKINS, False)
        text = ctx._("Understood: no more check-ins. You can switch them on in the settings.")
        return Go(Target("menu", "main"), note(text), remember=False)


def _thanks(ctx: Context) -> str:
    return ctx._("Thank you! Your answers help the organisers plan the next workshops.")


# The answer buttons that work from further up the chat, and the screen each answers.
_STANDING: tuple[tuple[ValueAction[tuple[int, str]], State], ...] = (
    (MET, State.HOW),
    (RATING, State.HOW),
    (CONTACT, State.CONTACT),
    (TRIED, State.WEEKS),
    (OUTCOME, State.MONTHS),
)
