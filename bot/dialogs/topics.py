"""Topics: "Thema vorschlagen" and "Themen in der Nähe", "Ich auch", and one's own topics.

Proposing asks for a title, shows open topics nearby that look the same ("Ist es
eines davon?": joining is a tap, never forced), then one sentence and the fields it
touches. Supporting asks for an optional one-line wish and, once, whether organisers
may invite the member personally into a small group. Nobody sees who supports a topic.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.codes import INVITATIONS, TRANSFER_SEATS, EventFormat, TopicStatus
from bot.dialogs.actions import FLAG, INDEX, OPEN_EVENT, POSITIVE, Action, ValueAction
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
from bot.dialogs.event_fields import refusal
from bot.dialogs.location import where_unknown
from bot.dialogs.places import short
from bot.dialogs.topic_proposal import SKIP, ask_sentence, ask_title, title_refused
from bot.dialogs.words import FIELD_WORDS, word
from bot.messages import Button, Incoming
from bot.services.contracts import (
    MAX_TOPIC_SENTENCE,
    NotAllowed,
    ServiceError,
    Supported,
    TopicGroup,
    TopicView,
)

PAGE_SIZE = 5
MAX_WISH = 200

TOPIC = ValueAction("topic", POSITIVE)
MORE = ValueAction("more", INDEX)
PROPOSE = Action("propose")
ME_TOO = Action("me_too")
NOT_ANY_MORE = Action("unsupport")
INVITE = ValueAction("invite", FLAG)
CHANGE_TITLE = Action("edit_title")
CHANGE_SENTENCE = Action("edit_sentence")
WITHDRAW = Action("withdraw")
WITHDRAW_YES = Action("withdraw_yes")
WITHDRAW_NO = Action("withdraw_no")
MAKE_WORKSHOP = Action("make_workshop")
CLOSE = Action("close")
MERGE = Action("merge")
MOVE = ValueAction("move", FLAG)
SWAP = ValueAction("swap", POSITIVE)
MINE = Action("mine")
DEMAND_ONLY = ValueAction("demand_only", FLAG)


class State(enum.StrEnum):
    LIST = "list"
    MINE = "mine"
    DETAIL = "detail"
    WISH = "wish"
    INVITATIONS = "invitations"
    EDIT_TITLE = "edit_title"
    EDIT_SENTENCE = "edit_sentence"
    WITHDRAW = "withdraw"
    TRANSFER = "transfer"  # after a merge: move one's support to the other topic?


class Topics(Dialog):
    name = "topics"
    states = State

    def table(self) -> Mapping[enum.StrEnum, Screen]:
        return {
            State.LIST: Screen(
                self._list,
                (
                    on(TOPIC, self._open),
                    on(MORE, self._more),
                    on(PROPOSE, self._propose),
                    on(MINE, self._mine),
                    on(DEMAND_ONLY, self._demand_only),
                ),
            ),
            State.MINE: Screen(self._my_topics, (on(TOPIC, self._open),)),
            State.DETAIL: Screen(
                self._detail,
                (
                    on(ME_TOO, self._me_too),
                    on(NOT_ANY_MORE, self._not_any_more),
                    on(CHANGE_TITLE, self._to(State.EDIT_TITLE)),
                    on(CHANGE_SENTENCE, self._to(State.EDIT_SENTENCE)),
                    on(WITHDRAW, self._to(State.WITHDRAW)),
                    on(MAKE_WORKSHOP, self._make_workshop),
                    on(CLOSE, self._care("close_reason")),
                    on(MERGE, self._care("merge_pick")),
                    on(SWAP, self._swap),
                    on(OPEN_EVENT, self._open_event),
                ),
            ),
            State.TRANSFER: Screen(self._ask_transfer, (on(MOVE, self._transfer),)),
            State.WISH: Screen(self._ask_wish, (on(SKIP, self._no_wish),), self._wish),
            State.INVITATIONS: Screen(self._ask_invitations, (on(INVITE, self._invitations),)),
            State.EDIT_TITLE: Screen(ask_title, answer=self._new_title),
            State.EDIT_SENTENCE: Screen(ask_sentence, answer=self._new_sentence),
            State.WITHDRAW: Screen(
                self._ask_withdraw,
                (on(WITHDRAW_YES, self._withdraw), on(WITHDRAW_NO, self._to(State.DETAIL))),
            ),
        }

    def _to(self, state: State) -> Callable[[Context], Awaitable[Step]]:
        async def go(ctx: Context) -> Step:
            return self.go(state, remember=state != State.DETAIL)

        return go

    async def _topic(self, ctx: Context) -> TopicView | None:
        topic_id = ctx.data.get("topic_id")
        if not isinstance(topic_id, int):
            return None
        m = ctx.member
        return await ctx.services.topics.get(m.id, topic_id, m.home, m.radius_km, ctx.now)

    # -- "Themen in der Nähe" ----------------------------------------------------------
    async def _list(self, ctx: Context) -> Screenful:
        m = ctx.member
        if m.home is None:
            return where_unknown(ctx)
        offset = int(ctx.data.get("offset", 0))
        demand_only = bool(ctx.data.get("demand_only")) and m.is_organiser
        topics, has_more = await ctx.services.topics.nearby(
            m.id, m.home, m.radius_km, offset=offset, limit=PAGE_SIZE, with_demand=demand_only
        )
        rows: list[ButtonRow] = [(Button(short(t.title), TOPIC(t.id)),) for t in topics]
        if has_more:
            rows.append((Button(ctx._("More"), MORE(offset + PAGE_SIZE)),))
        rows.append(
            (
                Button(ctx._("Propose a topic"), PROPOSE.payload),
                Button(ctx._("My topics"), MINE.payload),
            )
        )
        if m.is_organiser:  # the topics a workshop could come of, in their region
            label = ctx._("All topics") if demand_only else ctx._("Only with demand")
            rows.append((Button(label, DEMAND_ONLY(not demand_only)),))
        radius = ctx.t.distance(m.radius_km)
        if not topics:
            text = ctx._("No topics within {radius} yet. What would you like to learn?")
            return (say(text.format(radius=radius), *rows, nav_row(ctx)),)
        lines = [ctx._("What people within {radius} want to learn:").format(radius=radius)]
        lines += [f"{offset + n}. {_lines(ctx, t)}" for n, t in enumerate(topics, 1)]
        return (say("\n\n".join(lines), *rows, nav_row(ctx)),)

    async def _demand_only(self, ctx: Context, on: bool) -> Step:
        return Stay(data={"demand_only": on, "offset": 0})

    async def _mine(self, ctx: Context) -> Step:
        return self.go(State.MINE)

    async def _my_topics(self, ctx: Context) -> Screenful:
        """What the member proposed or supports, planned ones too (with their workshop)."""
        topics = await ctx.services.topics.mine(ctx.member.id)
        if not topics:
            text = ctx._("You have not proposed or supported a topic yet.")
            return (say(text, nav_row(ctx)),)
        lines = [ctx._("Your topics:")] + [
            f"{n}. {_lines(ctx, t)}" for n, t in enumerate(topics, 1)
        ]
        rows: list[ButtonRow] = [(Button(short(t.title), TOPIC(t.id)),) for t in topics]
        return (say("\n\n".join(lines), *rows, nav_row(ctx)),)

    async def _open(self, ctx: Context, topic_id: int) -> Step:
        return self.go(State.DETAIL, {"topic_id": topic_id})

    async def _more(self, ctx: Context, offset: int) -> Step:
        return self.go(State.LIST, {"offset": offset})

    async def _propose(self, ctx: Context) -> Step:
        return Go(Target("propose_topic", "title", {"proposal": {}}))

    # -- one topic -----------------------------------------------------------------------
    async def _detail(self, ctx: Context) -> Screenful:
        topic = await self._topic(ctx)
        if topic is None:
            return (say(ctx._("This topic is no longer there."), nav_row(ctx)),)
        lines = [_lines(ctx, topic)]
        rows: list[ButtonRow] = []
        if topic.status in (TopicStatus.PLANNED, TopicStatus.DONE):
            lines.append(
                "📅 " + ctx._("A workshop is planned for this topic.")
                if topic.status == TopicStatus.PLANNED
                else "✅ " + ctx._("Done: a workshop on this topic took place.")
            )
            if topic.event_id is not None:
                rows.append((Button(ctx._("About the workshop"), OPEN_EVENT(topic.event_id)),))
        elif topic.status != TopicStatus.OPEN:
            lines.append(ctx._("This topic is closed."))
        elif topic.mine:
            lines.append(ctx._("You proposed this topic."))
            rows.append(
                (
                    Button(ctx._("Change the title"), CHANGE_TITLE.payload),
                    Button(ctx._("Change the sentence"), CHANGE_SENTENCE.payload),
                )
            )
            rows.append((Button(ctx._("Withdraw the topic"), WITHDRAW.payload),))
        elif topic.supported:
            lines.append("✅ " + ctx._("You want this too."))
            if topic.expectation:
                lines.append(ctx._("Your wish: {text}").format(text=topic.expectation))
            rows.append((Button(ctx._("I no longer want this"), NOT_ANY_MORE.payload),))
        else:
            rows.append((Button(ctx._("Me too"), ME_TOO.payload),))
        if ctx.member.is_organiser and topic.status == TopicStatus.OPEN:
            group = await ctx.services.topics.group(ctx.member.id, topic.id, _without(ctx))
            lines += _group_lines(ctx, group)
            if group is not None:
                rows.append(
                    tuple(
                        Button(ctx._("Swap {name}").format(name=m.first_name), SWAP(m.member_id))
                        for m in group.members
                    )
                )
            rows.append((Button(ctx._("Make a workshop of it"), MAKE_WORKSHOP.payload),))
            rows.append(
                (
                    Button(ctx._("Merge"), MERGE.payload),
                    Button(ctx._("Close the topic"), CLOSE.payload),
                )
            )
        return (say("\n".join(lines), *rows, nav_row(ctx)),)

    async def _open_event(self, ctx: Context, event_id: int) -> Step:
        return Go(Target("events", "detail", {"event_id": event_id}))

    async def _swap(self, ctx: Context, member_id: int) -> Step:
        """Someone the organiser would rather not invite: the next best takes the seat."""
        return Stay(data={"without": [*_without(ctx), member_id]})

    def _care(self, state: str) -> Callable[[Context], Awaitable[Step]]:
        async def go(ctx: Context) -> Step:
            return Go(Target("topic_care", state))

        return go

    async def _ask_transfer(self, ctx: Context) -> Screenful:
        topic = await self._topic(ctx)
        if topic is None or topic.status != TopicStatus.OPEN:
            return (say(ctx._("This topic is no longer open."), nav_row(ctx)),)
        text = ctx._("Move your support to “{title}”?").format(title=topic.title)
        rows = ((Button(ctx._("Yes"), MOVE(True)), Button(ctx._("No"), MOVE(False))),)
        return (say(text, *rows, nav_row(ctx)),)

    async def _transfer(self, ctx: Context, yes: bool) -> Step:
        if not yes:
            return Go(Target("menu", "main"), note(ctx._("Fine: nothing moved.")), remember=False)
        return await self._support(ctx, None)

    async def _make_workshop(self, ctx: Context) -> Step:
        """The event dialog, filled in: a transfer workshop with the topic's words and the
        pilot's five seats; the organiser picks the place and the date."""
        if not ctx.member.is_organiser:  # the role was taken back since the screen showed
            return refusal(ctx)
        topic = await self._topic(ctx)
        if topic is None or topic.status != TopicStatus.OPEN:
            return self.go(State.DETAIL, say=note(ctx._("This topic is no longer open.")))
        draft: dict[str, Any] = {
            "format": str(EventFormat.TRANSFER),
            "title": topic.title,
            "description": topic.sentence,
            "capacity": TRANSFER_SEATS,
            "topic_id": topic.id,
        }
        group = await ctx.services.topics.group(ctx.member.id, topic.id, _without(ctx))
        if group is not None:
            draft["invite"] = [m.member_id for m in group.members]
            if group.place_id is not None:
                # Offered first on the place question: confirmed with a tap, or another.
                draft["suggested_place"] = [group.place_id, group.place_name or ""]
        return Go(Target("new_event", "place", {"draft": draft, "without": None}))

    async def _me_too(self, ctx: Context) -> Step:
        return self.go(State.WISH)

    async def _not_any_more(self, ctx: Context) -> Step:
        topic = await self._topic(ctx)
        if topic is not None:
            await ctx.services.topics.unsupport(ctx.member.id, topic.id)
        text = ctx._("Done: you no longer support this topic.")
        return self.go(State.DETAIL, say=note(text), remember=False)

    # -- supporting ----------------------------------------------------------------------
    async def _ask_wish(self, ctx: Context) -> Screenful:
        text = ctx._("Would you like to say in one line what you hope for? You can skip this.")
        return (say(text, (Button(ctx._("Skip"), SKIP.payload),), nav_row(ctx)),)

    async def _wish(self, ctx: Context, msg: Incoming) -> Step:
        return too_long(ctx, msg.text, MAX_WISH) or await self._support(ctx, msg.text)

    async def _no_wish(self, ctx: Context) -> Step:
        return await self._support(ctx, None)

    async def _support(self, ctx: Context, wish: str | None) -> Step:
        topic_id = ctx.data.get("topic_id")
        if not isinstance(topic_id, int):
            return Go(Target("menu", "main"))
        outcome = await ctx.services.topics.support(ctx.member.id, topic_id, wish, ctx.now)
        said = {
            Supported.ADDED: ctx._("Noted: you want this too."),
            Supported.ALREADY: ctx._("You support this topic already."),
            Supported.OWN: ctx._("It is your own topic: you count already."),
            Supported.GONE: ctx._("This topic is no longer open."),
        }[outcome]
        if outcome == Supported.ADDED and ctx.member.invitations is None:
            return self.go(State.INVITATIONS, say=note(said), remember=False)
        return self.go(State.DETAIL, say=note(said), remember=False)

    async def _ask_invitations(self, ctx: Context) -> Screenful:
        text = ctx._(
            "May organisers invite you personally into a small group for topics you support? "
            "Otherwise you only hear when a workshop is announced. "
            "You can change this in the settings."
        )
        rows = ((Button(ctx._("Yes"), INVITE(True)), Button(ctx._("No"), INVITE(False))),)
        return (say(text, *rows),)

    async def _invitations(self, ctx: Context, yes: bool) -> Step:
        await ctx.services.members.set_consent(ctx.member.id, INVITATIONS, yes)
        return self.go(State.DETAIL, say=note(invitations_line(ctx, yes)), remember=False)

    # -- the author's: edit, withdraw ------------------------------------------------
    async def _new_title(self, ctx: Context, msg: Incoming) -> Step:
        if refused := title_refused(ctx, msg.text):
            return refused
        return await self._edit(ctx, msg.text, None)

    async def _new_sentence(self, ctx: Context, msg: Incoming) -> Step:
        return too_long(ctx, msg.text, MAX_TOPIC_SENTENCE) or await self._edit(ctx, None, msg.text)

    async def _edit(self, ctx: Context, title: str | None, sentence: str | None) -> Step:
        topic = await self._topic(ctx)
        try:
            if topic is None:
                raise NotAllowed("no topic on this screen")
            await ctx.services.topics.edit(ctx.member.id, topic.id, title, sentence, ctx.now)
        except ServiceError:
            text = ctx._("That topic can no longer be changed.")
            return self.go(State.DETAIL, say=note(text), remember=False)
        return self.go(State.DETAIL, say=note(ctx._("Changed.")), remember=False)

    async def _ask_withdraw(self, ctx: Context) -> Screenful:
        text = ctx._("Withdraw the topic? Everyone who supports it will be told once.")
        rows = (
            (Button(ctx._("Yes, withdraw"), WITHDRAW_YES.payload),),
            (Button(ctx._("No"), WITHDRAW_NO.payload),),
        )
        return (say(text, *rows),)

    async def _withdraw(self, ctx: Context) -> Step:
        topic = await self._topic(ctx)
        try:
            if topic is None:
                raise NotAllowed("no topic on this screen")
            told = await ctx.services.topics.withdraw(ctx.member.id, topic.id, ctx.now)
        except ServiceError:
            text = ctx._("That topic can no longer be changed.")
            return self.go(State.DETAIL, say=note(text), remember=False)
        text = ctx.t.ngettext(
            "The topic is withdrawn. I am telling {n} person.",
            "The topic is withdrawn. I am telling {n} people.",
            told,
        ).format(n=told)
        return Go(Target("menu", "main"), say=note(text), remember=False)


def _without(ctx: Context) -> list[int]:
    return [m for m in ctx.data.get("without") or () if isinstance(m, int)]


def _group_lines(ctx: Context, group: TopicGroup | None) -> list[str]:
    """What an organiser sees of the group proposed for a topic: first names, fields and
    towns of those who agreed to a personal invitation, and where they would meet."""
    if group is None:
        return ["", ctx._("Not enough of its people have agreed to a personal invitation yet.")]
    where = group.place_name or ctx._("near the topic")
    lines = ["", ctx._("Proposed group, at {place}:").format(place=where)]
    for m in group.members:
        facts = ", ".join(p for p in (word(ctx.t, FIELD_WORDS, m.field), m.town) if p)
        lines.append(f"• {m.first_name}" + (f" ({facts})" if facts else ""))
    lines.append(
        ctx._("Longest trip: {distance}").format(distance=ctx.t.rough_distance(group.longest_km))
    )
    return lines


def _lines(ctx: Context, t: TopicView) -> str:
    fields = ", ".join(word(ctx.t, FIELD_WORDS, f) for f in t.fields)
    near = ctx.t.ngettext("{n} person near you", "{n} people near you", t.near).format(n=t.near)
    lines = [("👥 " if t.demand and ctx.member.is_organiser else "") + t.title]
    if t.sentence:
        lines.append(t.sentence)
    lines.append(" · ".join(p for p in (fields, near) if p))
    return "\n   ".join(lines)


def invitations_line(ctx: Context, yes: bool) -> str:
    """The consent as the settings show it."""
    return ctx._("Personal invitations to small groups: {value}").format(
        value=ctx._("on") if yes else ctx._("off")
    )
