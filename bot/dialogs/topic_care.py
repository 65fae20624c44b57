"""Organisers tending topics: close one with a reason, or merge a duplicate into another.

Both tell the topic's people once; a merge asks its supporters whether to move their
support ("Unterstützung übertragen?"), and nothing moves without their yes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from bot.dialogs.actions import POSITIVE, Action, ValueAction
from bot.dialogs.base import (
    ButtonRow,
    Context,
    Go,
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
from bot.dialogs.event_fields import OrganiserDialog
from bot.dialogs.places import short
from bot.messages import Button, Incoming
from bot.services.contracts import MAX_TOPIC_SENTENCE, ServiceError, TopicView

CLOSE_YES = Action("close_yes")
CLOSE_NO = Action("close_no")
INTO = ValueAction("into", POSITIVE)
MERGE_YES = Action("merge_yes")
MERGE_NO = Action("merge_no")


class State(enum.StrEnum):
    CLOSE_REASON = "close_reason"
    CLOSE_CONFIRM = "close_confirm"
    MERGE_PICK = "merge_pick"
    MERGE_CONFIRM = "merge_confirm"


class TopicCare(OrganiserDialog):
    name = "topic_care"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {
            State.CLOSE_REASON: Screen(self._ask_reason, answer=self._reason),
            State.CLOSE_CONFIRM: Screen(
                self._confirm_close, (on(CLOSE_YES, self._close), on(CLOSE_NO, self._back))
            ),
            State.MERGE_PICK: Screen(self._pick, (on(INTO, self._into),)),
            State.MERGE_CONFIRM: Screen(
                self._confirm_merge, (on(MERGE_YES, self._merge), on(MERGE_NO, self._back))
            ),
        }

    async def _topic(self, ctx: Context, key: str = "topic_id") -> TopicView | None:
        topic_id = ctx.data.get(key)
        if not isinstance(topic_id, int):
            return None
        m = ctx.member
        return await ctx.services.topics.get(m.id, topic_id, m.home, m.radius_km)

    async def _back(self, ctx: Context) -> Step:
        return Go(Target("topics", "detail", {"reason": None, "into": None}), remember=False)

    def _done(self, text: str) -> Go:
        return Go(Target("topics", "list", {"reason": None, "into": None}), note(text), False)

    # -- closing -----------------------------------------------------------------------
    async def _ask_reason(self, ctx: Context) -> Screenful:
        text = ctx._("Why is the topic closed? Its people get your reason once.")
        return (say(text, nav_row(ctx)),)

    async def _reason(self, ctx: Context, msg: Incoming) -> Step:
        return too_long(ctx, msg.text, MAX_TOPIC_SENTENCE) or self.go(
            State.CLOSE_CONFIRM, {"reason": msg.text}
        )

    async def _confirm_close(self, ctx: Context) -> Screenful:
        topic = await self._topic(ctx)
        text = ctx._("Close “{title}” and tell its people? Reason: {reason}").format(
            title=topic.title if topic else "", reason=ctx.data.get("reason", "")
        )
        rows = (
            (Button(ctx._("Yes, close it"), CLOSE_YES.payload),),
            (Button(ctx._("No"), CLOSE_NO.payload),),
        )
        return (say(text, *rows),)

    async def _close(self, ctx: Context) -> Step:
        topic_id = ctx.data.get("topic_id")
        try:
            if not isinstance(topic_id, int):
                raise ServiceError("no topic on this screen")
            told = await ctx.services.topics.close(
                ctx.member.id, topic_id, str(ctx.data.get("reason", "")), ctx.now
            )
        except ServiceError:
            return self._done(ctx._("That topic is no longer open."))
        return self._done(
            ctx.t.ngettext(
                "The topic is closed. I am telling {n} person.",
                "The topic is closed. I am telling {n} people.",
                told,
            ).format(n=told)
        )

    # -- merging -------------------------------------------------------------------------
    async def _pick(self, ctx: Context) -> Screenful:
        topic, m = await self._topic(ctx), ctx.member
        others: list[TopicView] = []
        if topic is not None and m.home is not None:
            alike = await ctx.services.topics.similar(m.id, m.home, m.radius_km, topic.title)
            others = [t for t in alike if t.id != topic.id]
        if not others:
            text = ctx._("I see no open topic nearby that looks like this one.")
            return (say(text, nav_row(ctx)),)
        text = ctx._("Merge it into which topic? Its supporters will be asked to move along.")
        rows: list[ButtonRow] = [(Button(short(t.title), INTO(t.id)),) for t in others]
        return (say(text, *rows, nav_row(ctx)),)

    async def _into(self, ctx: Context, into_id: int) -> Step:
        return self.go(State.MERGE_CONFIRM, {"into": into_id})

    async def _confirm_merge(self, ctx: Context) -> Screenful:
        topic, into = await self._topic(ctx), await self._topic(ctx, "into")
        if topic is None or into is None:
            return (say(ctx._("This topic is no longer there."), nav_row(ctx)),)
        text = ctx._("Merge “{title}” into “{into}”?").format(title=topic.title, into=into.title)
        rows = (
            (Button(ctx._("Yes, merge"), MERGE_YES.payload),),
            (Button(ctx._("No"), MERGE_NO.payload),),
        )
        return (say(text, *rows),)

    async def _merge(self, ctx: Context) -> Step:
        topic_id, into_id = ctx.data.get("topic_id"), ctx.data.get("into")
        try:
            if not isinstance(topic_id, int) or not isinstance(into_id, int):
                raise ServiceError("no topics on this screen")
            asked = await ctx.services.topics.merge(ctx.member.id, topic_id, into_id, ctx.now)
        except ServiceError:
            return self._done(ctx._("That topic is no longer open."))
        return self._done(
            ctx.t.ngettext(
                "Merged. I am asking {n} person whether to move their support.",
                "Merged. I am asking {n} people whether to move their support.",
                asked,
            ).format(n=asked)
        )
