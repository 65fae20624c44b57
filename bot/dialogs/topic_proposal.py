""" "Thema vorschlagen": a title, the similar topics nearby first, a sentence, the fields.

Before a new topic is saved, open topics nearby that look the same are offered ("Ist es
eines davon?"); joining one is a tap and never forced. The answers gather in the
dialog state's "proposal"; nothing is written before the last tap.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from bot.codes import Field
from bot.dialogs.actions import POSITIVE, Action, ValueAction, code
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
    too_long,
)
from bot.dialogs.places import short
from bot.dialogs.words import FIELD_WORDS, word
from bot.messages import Button, Incoming
from bot.services.contracts import MAX_TOPIC_SENTENCE, MAX_TOPIC_TITLE, Proposed

# The fields a topic can touch (DOMAIN.md: craft, design, digital fabrication).
TOPIC_FIELDS = (Field.CRAFT, Field.DESIGN, Field.DIGITAL)

JOIN = ValueAction("join", POSITIVE)
NEW_ANYWAY = Action("new_anyway")
SKIP = Action("skip")
FIELD_ON = ValueAction("field_on", code(Field))
FIELD_OFF = ValueAction("field_off", code(Field))
DONE = Action("done")


async def ask_title(ctx: Context) -> Screenful:
    text = ctx._(
        "What is it about? A short title, for example “Laser cutting for wood” "
        "(up to {count} characters)."
    ).format(count=MAX_TOPIC_TITLE)
    return (say(text, nav_row(ctx)),)


def title_refused(ctx: Context, title: str) -> Stay | None:
    """A kind word for a title of no words (emoji only) or one too long; None if fine."""
    if not any(c.isalnum() for c in title):
        return Stay(say=note(ctx._("Please write the title in words.")))
    return too_long(ctx, title, MAX_TOPIC_TITLE)


async def ask_sentence(ctx: Context) -> Screenful:
    text = ctx._("In one sentence: what would you like to learn or do?")
    proposal = ctx.data.get("proposal") or {}
    if proposal.get("sentence"):  # filled in (from a check-in): keep it with one tap
        text += "\n" + ctx._("So far: “{sentence}”").format(sentence=proposal["sentence"])
        return (say(text, (Button(ctx._("Keep it"), SKIP.payload),), nav_row(ctx)),)
    skip = (Button(ctx._("Skip"), SKIP.payload),) if proposal else ()
    return (say(text, skip, nav_row(ctx)),)


class State(enum.StrEnum):
    TITLE = "title"
    SIMILAR = "similar"
    SENTENCE = "sentence"
    FIELDS = "fields"


class TopicProposal(Dialog):
    name = "propose_topic"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {
            State.TITLE: Screen(ask_title, answer=self._title),
            State.SIMILAR: Screen(
                self._similar, (on(JOIN, self._join), on(NEW_ANYWAY, self._new_anyway))
            ),
            State.SENTENCE: Screen(ask_sentence, (on(SKIP, self._no_sentence),), self._sentence),
            State.FIELDS: Screen(
                self._ask_fields,
                (
                    on(FIELD_ON, self._field_on),
                    on(FIELD_OFF, self._field_off),
                    on(DONE, self._done),
                ),
            ),
        }

    async def _title(self, ctx: Context, msg: Incoming) -> Step:
        if refused := title_refused(ctx, msg.text):
            return refused
        # Whatever was filled in before (a check-in's suggestion) stays.
        proposal = {**(ctx.data.get("proposal") or {}), "title": msg.text}
        m = ctx.member
        if m.home is not None:
            alike = await ctx.services.topics.similar(m.id, m.home, m.radius_km, msg.text)
            others = [[t.id, t.title] for t in alike if not t.mine]
            if others:
                return self.go(State.SIMILAR, {"proposal": proposal, "alike": others})
        return self.go(State.SENTENCE, {"proposal": proposal})

    async def _similar(self, ctx: Context) -> Screenful:
        alike = ctx.data.get("alike") or []
        text = ctx._("There are similar topics near you already. Is it one of these?")
        rows: list[ButtonRow] = [
            (Button(ctx._("Me too: {title}").format(title=short(title, 36)), JOIN(tid)),)
            for tid, title in alike
        ]
        rows.append((Button(ctx._("No, mine is new"), NEW_ANYWAY.payload),))
        return (say(text, *rows, nav_row(ctx)),)

    async def _join(self, ctx: Context, topic_id: int) -> Step:
        return Go(Target("topics", "wish", {"topic_id": topic_id, "proposal": None, "alike": None}))

    async def _new_anyway(self, ctx: Context) -> Step:
        return self.go(State.SENTENCE, {"alike": None})

    async def _sentence(self, ctx: Context, msg: Incoming) -> Step:
        return too_long(ctx, msg.text, MAX_TOPIC_SENTENCE) or self._with(
            ctx, State.FIELDS, sentence=msg.text
        )

    async def _no_sentence(self, ctx: Context) -> Step:
        kept = (ctx.data.get("proposal") or {}).get("sentence")
        return self._with(ctx, State.FIELDS, sentence=kept or None)

    def _with(self, ctx: Context, state: State, **answers: Any) -> Go:
        return self.go(state, {"proposal": {**(ctx.data.get("proposal") or {}), **answers}})

    async def _ask_fields(self, ctx: Context) -> Screenful:
        chosen = set(self._fields(ctx))
        text = ctx._("Which fields does it touch? Tap all that fit, then “Next”.")
        rows: list[ButtonRow] = [
            (
                Button("✓ " + word(ctx.t, FIELD_WORDS, f), FIELD_OFF(f))
                if f in chosen
                else Button(word(ctx.t, FIELD_WORDS, f), FIELD_ON(f)),
            )
            for f in TOPIC_FIELDS
        ]
        rows.append((Button(ctx._("Next"), DONE.payload),))
        return (say(text, *rows, nav_row(ctx)),)

    def _fields(self, ctx: Context) -> list[str]:
        return list((ctx.data.get("proposal") or {}).get("fields") or [])

    async def _field_on(self, ctx: Context, field: Field) -> Step:
        fields = [f for f in self._fields(ctx) if f != field] + [str(field)]
        return Stay(data={"proposal": {**ctx.data.get("proposal", {}), "fields": fields}})

    async def _field_off(self, ctx: Context, field: Field) -> Step:
        fields = [f for f in self._fields(ctx) if f != field]
        return Stay(data={"proposal": {**ctx.data.get("proposal", {}), "fields": fields}})

    async def _done(self, ctx: Context) -> Step:
        proposal = ctx.data.get("proposal") or {}
        fields = [Field(f) for f in self._fields(ctx) if f in set(TOPIC_FIELDS)]
        if not fields:
            return Stay(say=note(ctx._("Please choose at least one field.")))
        if not proposal.get("title"):
            return self.go(State.TITLE)
        outcome, topic_id = await ctx.services.topics.propose(
            ctx.member.id, str(proposal["title"]), proposal.get("sentence"), fields, ctx.now
        )
        said = (
            ctx._("You proposed this topic before; here it is.")
            if outcome == Proposed.ALREADY
            else ctx._("Your topic is in. People near you can now say “Me too”.")
        )
        to = Target("topics", "detail", {"topic_id": topic_id, "proposal": None})
        return Go(to, say=note(said), remember=False)
