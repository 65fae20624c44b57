"""Accounts, their members and where each conversation stands (dialog_state)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.codes import Channel
from bot.i18n import normalise_locale
from bot.messages import AccountRef
from bot.services.contracts import MemberView
from bot.services.database import Database
from bot.services.members import member_view
from bot.storage.engine import PerDialect
from bot.storage.models import ChannelAccount, DialogState, Member, ProcessedUpdate, utcnow


class StaleState(Exception):
    """The conversation was saved by another step since this one read it."""


@dataclass
class Conversation:
    account_id: int
    member: MemberView
    flow: str | None
    state: str | None
    data: dict[str, Any] = field(default_factory=dict)
    version: int | None = None  # of the saved state; None: none saved yet


_CONVERSATION = (
    select(
        *Member.__table__.c,
        ChannelAccount.id.label("account_id"),
        ChannelAccount.blocked,
        ChannelAccount.chat_id.label("account_chat_id"),
        DialogState.flow,
        DialogState.state,
        DialogState.data,
        DialogState.version,
    )
    .join(Member, Member.id == ChannelAccount.member_id)
    .outerjoin(DialogState, DialogState.account_id == ChannelAccount.id)
    .where(
        ChannelAccount.channel == bindparam("channel"),
        ChannelAccount.external_id == bindparam("external_id"),
    )
)


# Built once, run with parameters: a statement built per call with .values() costs more
# than SQLite takes to run it (SQLAlchemy derives a cache key from every value).
# The first state of an account: a second step that also found none inserts nothing.
_INSERT_STATE = PerDialect(lambda insert: insert(DialogState).on_conflict_do_nothing())


# Every later one: only over the version the step read, raising it.
def _update_state(updated_at: Any) -> Any:
    return (
        update(DialogState)
        .where(
            DialogState.account_id == bindparam("account"),
            DialogState.version == bindparam("read"),
        )
        .values(
            flow=bindparam("flow"),
            state=bindparam("state"),
            data=bindparam("data"),
            updated_at=updated_at,
            version=DialogState.version + 1,
        )
    )


# A step the member started: `updated_at` is when they last wrote (retention reads it).
_UPDATE_STATE = _update_state(bindparam("updated_at"))
# A step the bot started (a notice, a report, an apology): the member did nothing, so
# `updated_at` stays (set to itself: the column's onupdate would refresh it otherwise).
_UPDATE_STATE_UNSEEN = _update_state(DialogState.updated_at)
_CLAIM = PerDialect(lambda insert: insert(ProcessedUpdate).on_conflict_do_nothing())


def _claiming_conversation(insert: Any) -> Select[Any]:
    """PostgreSQL: the claim and the conversation in one round trip. The claim runs in a
    CTE (PostgreSQL runs a data-modifying CTE fully, whether read or not); `claimed` is 1
    for a first delivery and 0 for a redelivery, and the conversation's columns are NULL
    for an account not yet created (LEFT JOIN ON TRUE keeps the one row either way)."""
    claim = (
        insert(ProcessedUpdate)
        .values(
            channel=bindparam("channel"),
            update_id=bindparam("update_id"),
            processed_at=bindparam("processed_at"),
        )
        .on_conflict_do_nothing()
        .returning(literal_column("1"))
        .cte("claim")
    )
    claimed = select(func.count().label("claimed")).select_from(claim).subquery("claimed")
    conversation = _CONVERSATION.subquery("conversation")
    return select(claimed.c.claimed, conversation).select_from(
        claimed.outerjoin(conversation, true())
    )


_CLAIMING_CONVERSATION = PerDialect(_claiming_conversation)


class Conversations:
    def __init__(
        self,
        db: Database,
        default_locale: str = "de",
        default_radius_km: int = 25,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.db = db
        # When a member last wrote (dialog_state.updated_at) decides retention: the
        # app's clock, so a test that moves time moves this too.
        self.clock = clock
        self.default_locale = default_locale
        self.default_radius_km = default_radius_km

    def step(self) -> AbstractAsyncContextManager[None]:
        """Hold one database connection for a dialog step (see `Database.step`)."""
        return self.db.step()

    async def open(self, ref: AccountRef) -> Conversation:
        """The account's conversation; a first message creates the account and its member."""
        conv = await self.open_update(ref, None)
        assert conv is not None  # only a claimed update id can be refused
        return conv

    async def open_existing(self, ref: AccountRef) -> Conversation | None:
        """The conversation of an account that exists; None for one deleted meanwhile
        ("Alles löschen" while a notice was on its way): a notice must not create it."""
        return await self.open_update(ref, None, create=False)

    async def open_update(
        self, ref: AccountRef, update_id: str | None, create: bool = True
    ) -> Conversation | None:
        """`open`, claiming the channel's update id in the same round trip: None means the
        update was claimed before (a redelivery), and the caller must not act on it again."""
        channel = Channel(ref.channel)
        where = {"channel": channel, "external_id": ref.external_id}
        # The usual case, on every message: plain Core statements, no ORM unit of work.
        async with self.db.write() as conn:
            if update_id is not None and self.db.dialect == "postgresql":
                claiming = _CLAIMING_CONVERSATION["postgresql"]
                values = {**where, "update_id": update_id, "processed_at": utcnow()}
                row = (await conn.execute(claiming, values)).one()
                if not row.claimed:
                    return None
                row = row if row.account_id is not None else None
            else:
                # SQLite answers in-process, where a second statement costs little.
                if update_id is not None and not await self._claim(conn, channel, update_id):
                    return None
                row = (await conn.execute(_CONVERSATION, where)).first()
        if row is not None:
            moved = ref.chat_id is not None and ref.chat_id != row.account_chat_id
            if row.blocked or moved:
                # Writing again means they unblocked us; writing from another chat (a new
                # Matrix direct chat) means notices go there from now on.
                await self._reach_again(row.account_id, ref.chat_id or row.account_chat_id)
            return Conversation(
                account_id=row.account_id,
                member=member_view(row),
                flow=row.flow,
                state=row.state,
                data=dict(row.data) if row.data else {},
                version=row.version,
            )
        if not create:
            return None
        async with self.db.transaction() as session:
            account, member = await self._create(session, ref, channel)
            return Conversation(
                account_id=account.id, member=member_view(member), flow=None, state=None
            )

    async def _reach_again(self, account_id: int, chat_id: str | None) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(ChannelAccount)
                .where(ChannelAccount.id == account_id)
                .values(blocked=False, chat_id=chat_id)
            )

    async def _create(
        self, session: AsyncSession, ref: AccountRef, channel: Channel
    ) -> tuple[ChannelAccount, Member]:
        locale = normalise_locale(ref.language) if ref.language else self.default_locale
        member = Member(
            # The channel's name for them is kept only once they agree to the privacy
            # text (Members.agree_to_privacy); until then only the language is.
            display_name="",
            locale=locale,
            radius_km=self.default_radius_km,
            consents={},
        )
        session.add(member)
        await session.flush()
        account = ChannelAccount(
            channel=channel, external_id=ref.external_id, member_id=member.id, chat_id=ref.chat_id
        )
        try:
            # A savepoint: on a unique violation only this insert is undone.
            async with session.begin_nested():
                session.add(account)
                await session.flush()
        except IntegrityError:
            # Another worker created the same account a moment ago: use theirs.
            await session.delete(member)
            found = (
                await session.execute(
                    select(ChannelAccount, Member)
                    .join(Member, Member.id == ChannelAccount.member_id)
                    .where(
                        ChannelAccount.channel == channel,
                        ChannelAccount.external_id == ref.external_id,
                    )
                )
            ).one()
            account, member = found
            return account, member
        return account, member

    async def member(self, member_id: int) -> MemberView:
        async with self.db.sessions() as session:
            member = await session.get(Member, member_id)
            assert member is not None
            return member_view(member)

    async def save(
        self, conv: Conversation, flow: str, state: str, data: dict[str, Any], seen: bool = True
    ) -> None:
        """Save where the conversation stands, if nobody else saved it since it was read.

        `seen`: the member started this step (wrote, tapped, opened the chat), so it
        counts as their last activity; a step the bot started (a notice) passes False
        and leaves `updated_at` as it was (a first state still gets one).

        Raises StaleState otherwise: the caller's step lost a race with another step for
        the same member (two taps on two workers) and must be undone as a whole."""
        values: dict[str, Any] = {"flow": flow, "state": state, "data": data}
        async with self.db.write() as conn:
            if conv.version is None:
                statement = _INSERT_STATE[self.db.dialect]
                values |= {"account_id": conv.account_id, "updated_at": self.clock()}
                result = await conn.execute(statement, values)
            elif seen:
                values |= {"account": conv.account_id, "read": conv.version}
                result = await conn.execute(_UPDATE_STATE, {**values, "updated_at": self.clock()})
            else:
                values |= {"account": conv.account_id, "read": conv.version}
                result = await conn.execute(_UPDATE_STATE_UNSEEN, values)
        if result.rowcount != 1:
            raise StaleState(f"account {conv.account_id}: state saved by another step")
        conv.version = 0 if conv.version is None else conv.version + 1

    async def mark_blocked(self, channel: str, external_id: str) -> None:
        """The member blocked the bot: skip them until they write again (see `open`)."""
        await self._set_blocked(channel, external_id, True)

    async def mark_unblocked(self, channel: str, external_id: str) -> None:
        """The member unblocked the bot, where a channel tells so before they write again."""
        await self._set_blocked(channel, external_id, False)

    async def _set_blocked(self, channel: str, external_id: str, blocked: bool) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(ChannelAccount)
                .where(
                    ChannelAccount.channel == Channel(channel),
                    ChannelAccount.external_id == external_id,
                )
                .values(blocked=blocked)
            )

    async def is_blocked(self, channel: str, external_id: str) -> bool:
        async with self.db.sessions() as session:
            blocked = await session.scalar(
                select(ChannelAccount.blocked).where(
                    ChannelAccount.channel == Channel(channel),
                    ChannelAccount.external_id == external_id,
                )
            )
        return bool(blocked)

    async def _claim(self, conn: AsyncConnection, channel: Channel, update_id: str) -> bool:
        """True the first time an update id is seen; False for a redelivery."""
        values = {"channel": channel, "update_id": update_id, "processed_at": utcnow()}
        return bool((await conn.execute(_CLAIM[self.db.dialect], values)).rowcount == 1)

    async def forget_processed_before(self, cutoff: timedelta = timedelta(days=7)) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                delete(ProcessedUpdate).where(
                    ProcessedUpdate.processed_at < datetime.now(UTC) - cutoff
                )
            )
