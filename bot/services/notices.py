"""The outbox: claiming due notices, deciding whether each still makes sense, finishing.

A notice goes pending → claimed → done (or skipped / failed). Claiming is one
UPDATE over a `FOR UPDATE SKIP LOCKED` sub-select: on PostgreSQL two bot
processes never claim the same row; SQLite has one writer and ignores the
clause. A claim older than `LEASE` belongs to a process that died mid-send and
is taken over, so nothing is lost (at worst that one message arrives twice).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    Column,
    ColumnElement,
    Integer,
    Table,
    any_,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from bot.codes import (
    CHECKIN_AGAIN,
    CHECKINS,
    HOLDS_SEAT,
    AnnouncementStatus,
    Checkin,
    EventFormat,
    EventStatus,
    Field,
    NoticeKind,
    RegistrationStatus,
    TopicStatus,
    WorkStatus,
)
from bot.messages import AccountRef
from bot.services.audiences import wants_announcement
from bot.services.checkin_times import CheckinTimes
from bot.services.contracts import NoticeView
from bot.services.database import Database
from bot.services.registrations import release_hold, release_lapsed_holds
from bot.storage.models import (
    OPEN_ANNOUNCEMENT,
    OPEN_PERSONAL,
    Base,
    Broadcast,
    ChannelAccount,
    DialogState,
    Event,
    Followup,
    Member,
    Notice,
    Place,
    Registration,
    Topic,
    TopicInterest,
)

LEASE = timedelta(minutes=5)
PAUSED = "paused"
BATCH = 200


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What sending a notice needs of its member, read as plain columns: a batch of
    ORM entities cost more in Python than all of the claim's statements."""

    id: int
    locale: str
    deleted_at: datetime | None
    consents: Mapping[str, object]
    remind_day_before: bool
    remind_two_hours: bool


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What sending a notice needs of its event (see `MemberFacts`)."""

    id: int
    title: str
    format: EventFormat
    start_at: datetime
    end_at: datetime | None
    status: EventStatus
    minimum: int | None


@dataclass(frozen=True)
class Recipient:
    """Where a claimed notice goes: the member's language and their accounts, the most
    recently used first."""

    locale: str
    accounts: tuple[tuple[AccountRef, bool], ...]  # (account, blocked)


@dataclass(frozen=True)
class Work:
    notice: NoticeView
    recipient: Recipient
    skip_reason: str | None  # set: do not send (the reason is kept on the row)


def skip_reason(
    times: CheckinTimes,
    kind: NoticeKind,
    now: datetime,
    event: EventFacts | None,
    registration_status: RegistrationStatus | None,
    member: MemberFacts,
    registered: int,
    topic_open: bool = False,
    attendance_taken: bool = False,
    answered: bool = False,
    announcement: AnnouncementFacts | None = None,
) -> str | None:
    """Why a due notice must not be sent any more, or None to send it.

    A reminder missed while the bot was down is still sent late while it helps:
    the day-before one until two hours before the start (then the two-hours one
    takes over), the two-hours one until the start."""
    if member.deleted_at is not None:
        return "member deleted"
    if kind == NoticeKind.ANNOUNCEMENT:
        return _announcement_skip(announcement, member)
    if kind in (
        NoticeKind.TOPIC_WITHDRAWN,
        NoticeKind.TOPIC_CLOSED,
        NoticeKind.TOPIC_MERGED,
        NoticeKind.CHECKIN_REQUEST,
        NoticeKind.ORGANISER_REPLY,
        NoticeKind.RETENTION_WARNING,
    ):
        # A person's message, about a topic, or that their data is about to go: always
        # worth the one message.
        return None
    if kind == NoticeKind.TOPIC_DEMAND:
        return None if topic_open else "topic not open"
    if event is None:
        return "event gone"
    if kind == NoticeKind.EVENT_CANCELLED:
        return None if now < event.start_at else "event over"
    if event.status != EventStatus.PUBLISHED:
        return "event not published"
    if kind.is_checkin:
        if answered:
            return "answered"  # the reminder of a check-in already answered
        if times.too_late(kind, event, now):
            return "too late"
        return _checkin_skip(registration_status, member, attendance_taken)
    if now >= event.start_at:
        return "event started"
    if kind in (NoticeKind.REMINDER_DAY_BEFORE, NoticeKind.REMINDER_TWO_HOURS):
        if registration_status != RegistrationStatus.REGISTERED:
            return "no seat"
        if kind == NoticeKind.REMINDER_DAY_BEFORE:
            if not member.remind_day_before:
                return "switched off"
            if now >= event.start_at - timedelta(hours=2):
                return "too late"
        elif not member.remind_two_hours:
            return "switched off"
    if kind == NoticeKind.HOLD_ENDS and registration_status != RegistrationStatus.HELD:
        return "taken or declined"
    if kind == NoticeKind.MOVED_UP and registration_status != RegistrationStatus.REGISTERED:
        return "no seat"
    if kind == NoticeKind.MINIMUM_CHECK and (event.minimum is None or registered >= event.minimum):
        return "minimum reached"
    return None


def _announcement_skip(announcement: AnnouncementFacts | None, member: MemberFacts) -> str | None:
    """An announcement goes out unless it was cancelled or the member opted out since."""
    if announcement is None:
        return "announcement gone"
    if announcement.status == AnnouncementStatus.CANCELLED:
        return "cancelled"
    if announcement.status == AnnouncementStatus.PAUSED:
        return PAUSED  # not skipped: held until "Weiter" (`_hold_announcements`)
    if not wants_announcement(member.consents or {}, announcement.organiser_id, announcement.news):
        return "opted out"
    return None


def _checkin_skip(
    status: RegistrationStatus | None, member: MemberFacts, attendance_taken: bool
) -> str | None:
    """Check-ins go to those who came: marked present, or holding a seat when the
    organiser took no attendance; never to one who asked for no more."""
    if (member.consents or {}).get(CHECKINS) is False:
        return "no check-ins wanted"
    if attendance_taken:
        return None if status == RegistrationStatus.ATTENDED else "not present"
    return (
        None
        if status in (RegistrationStatus.REGISTERED, RegistrationStatus.ATTENDED)
        else "no seat"
    )


def _among(column: ColumnElement[int], ids: Collection[int], dialect: str) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL as one array parameter: an IN list of a batch
    renders, casts and binds each of its 200 parameters in Python on every claim."""
    if dialect == "postgresql":
        return column == any_(literal(list(ids), ARRAY(Integer)))
    return column.in_(ids)


def _columns(model: type[Base]) -> ReadOnlyColumnCollection[str, Column[Any]]:
    """A model's table columns: statements of them run as Core, without the ORM's
    per-row loading (and an ORM-enabled UPDATE takes the slower bulk path). A column's
    `.table` is the table itself, for joins and the claim's UPDATE."""
    return cast(Table, model.__table__).c


_NOTICE, _MEMBER, _EVENT, _PLACE, _REGISTRATION, _ACCOUNT, _STATE = (
    _columns(model)
    for model in (Notice, Member, Event, Place, Registration, ChannelAccount, DialogState)
)

# The columns of a claimed batch, in the order `_work` unpacks them: plain rows, not
# ORM entities (five entities a row made Python, not the database, most of a claim).
_BATCH_COLUMNS = (
    _NOTICE.id,
    _NOTICE.kind,
    _NOTICE.member_id,
    _NOTICE.event_id,
    _NOTICE.registration_id,
    _NOTICE.params,
    _MEMBER.locale,
    _MEMBER.deleted_at,
    _MEMBER.consents,
    _MEMBER.remind_day_before,
    _MEMBER.remind_two_hours,
    _EVENT.title,
    _EVENT.format,
    _EVENT.start_at,
    _EVENT.end_at,
    _EVENT.status,
    _EVENT.minimum,
    _PLACE.name,
    _PLACE.town,
    _REGISTRATION.status,
    _NOTICE.broadcast_id,
)


def _work(
    times: CheckinTimes,
    row: Sequence[Any],
    accounts: tuple[tuple[AccountRef, bool], ...],
    registered: int,
    now: datetime,
    topic: TopicFacts | None = None,
    attendance_taken: bool = False,
    answered: bool = False,
    announcement: AnnouncementFacts | None = None,
) -> Work:
    (
        notice_id,
        kind,
        member_id,
        event_id,
        registration_id,
        params,
        locale,
        deleted_at,
        consents,
        day_before,
        two_hours,
        title,
        event_format,
        start_at,
        end_at,
        event_status,
        minimum,
        place_name,
        town,
        registration_status,
        _broadcast_id,  # read as `announcement`
    ) = row
    kind = NoticeKind(kind)
    member = MemberFacts(member_id, locale, deleted_at, consents or {}, day_before, two_hours)
    event = (
        EventFacts(event_id, title, event_format, start_at, end_at, event_status, minimum)
        if start_at is not None  # the outer join found the event
        else None
    )
    if kind != NoticeKind.MINIMUM_CHECK:
        registered = 0
    view = NoticeView(
        id=notice_id,
        kind=kind,
        member_id=member_id,
        event_id=event.id if event else None,
        registration_id=registration_id,
        title=event.title
        if event
        else topic.title
        if topic
        else announcement.button_title
        if announcement
        else str((params or {}).get("title", "")),
        start_at=start_at,
        end_at=end_at,
        place_name=place_name,
        town=town,
        params=announcement.params() if announcement else dict(params or {}),
        registered=registered,
        minimum=minimum,
        topic_id=topic.id if topic else None,
        people=topic.people if topic else 0,
        fields=topic.fields if topic else {},
        locale=locale,
    )
    reason = skip_reason(
        times,
        kind,
        now,
        event,
        RegistrationStatus(registration_status) if registration_status else None,
        member,
        registered,
        topic_open=topic is not None and topic.status == TopicStatus.OPEN,
        attendance_taken=attendance_taken,
        answered=answered,
        announcement=announcement,
    )
    return Work(view, Recipient(locale, accounts), reason)


@dataclass(frozen=True)
class TopicFacts:
    """A topic as its notices tell it, read at send time: a digest counts today's people."""

    id: int
    title: str
    status: str
    people: int  # the author and the supporters
    fields: Mapping[Field, int]


@dataclass(frozen=True)
class AnnouncementFacts:
    """An announcement as its rows are sent: read once per batch, not stored per row."""

    id: int
    status: str
    organiser_id: int | None
    organiser: str
    text: str
    news: bool
    button: str
    event_id: int | None
    topic_id: int | None
    button_title: str

    def params(self) -> dict[str, object]:
        """What the words need (`bot.dialogs.announcements`)."""
        return {
            "broadcast_id": self.id,
            "text": self.text,
            "organiser": self.organiser,
            "organiser_id": self.organiser_id,
            "button": self.button,
            "button_event_id": self.event_id,
            "button_topic_id": self.topic_id,
            "news": self.news,
        }


async def _announcement_facts(
    session: AsyncSession, broadcast_ids: set[int]
) -> dict[int, AnnouncementFacts]:
    if not broadcast_ids:
        return {}
    rows = await session.execute(
        select(Broadcast, Member.display_name, Event.title, Topic.title)
        .outerjoin(Member, Member.id == Broadcast.organiser_id)
        .outerjoin(Event, Event.id == Broadcast.event_id)
        .outerjoin(Topic, Topic.id == Broadcast.topic_id)
        .where(Broadcast.id.in_(broadcast_ids))
    )
    return {
        b.id: AnnouncementFacts(
            b.id,
            b.status,
            b.organiser_id,
            name or "",
            b.text,
            b.news,
            b.button,
            b.event_id,
            b.topic_id,
            event_title or topic_title or "",
        )
        for b, name, event_title, topic_title in rows.all()
    }


# A check-in reminder and the check-in whose answers say it is not needed.
_AGAIN_OF = {again: Checkin.asked_by(first) for first, again in CHECKIN_AGAIN.items()}


async def _answered(
    session: AsyncSession, reminders: Sequence[tuple[int, int | None]]
) -> set[tuple[int, int | None, str | None]]:
    """(member, event, kind) of the check-ins that these reminders' (member, event)
    are about and that have an answer."""
    if not reminders:
        return set()
    rows = await session.execute(
        select(Followup.member_id, Followup.event_id, Followup.kind).where(
            Followup.member_id.in_({member for member, _ in reminders}),
            Followup.event_id.in_({event for _, event in reminders}),
        )
    )
    return {(member, event, kind) for member, event, kind in rows.all()}


async def _seats_taken(session: AsyncSession, event_ids: set[int | None]) -> dict[int, int]:
    """Seats taken per event, for the organiser's minimum check."""
    if not event_ids:
        return {}
    counts = await session.execute(
        select(Registration.event_id, func.count(Registration.id))
        .where(Registration.event_id.in_(event_ids), Registration.status.in_(HOLDS_SEAT))
        .group_by(Registration.event_id)
    )
    return {event_id: int(n) for event_id, n in counts.all()}


async def _attendance_taken(session: AsyncSession, event_ids: set[int | None]) -> set[int]:
    """The events whose organiser marked someone present: their check-ins go to those."""
    if not event_ids:
        return set()
    marked = await session.scalars(
        select(Registration.event_id)
        .where(
            Registration.event_id.in_(event_ids),
            Registration.status == RegistrationStatus.ATTENDED,
        )
        .distinct()
    )
    return set(marked.all())


async def _topic_facts(session: AsyncSession, topic_ids: set[int]) -> dict[int, TopicFacts]:
    if not topic_ids:
        return {}
    topics = (await session.scalars(select(Topic).where(Topic.id.in_(topic_ids)))).all()
    people: dict[int, Counter[Field]] = {t.id: Counter() for t in topics}
    counts: dict[int, int] = dict.fromkeys(people, 0)
    rows = await session.execute(
        select(TopicInterest.topic_id, Member.field)
        .join(Member, Member.id == TopicInterest.member_id)
        .where(TopicInterest.topic_id.in_(topic_ids), Member.deleted_at.is_(None))
        .union_all(
            select(Topic.id, Member.field)
            .join(Member, Member.id == Topic.proposer_id)
            .where(Topic.id.in_(topic_ids))
        )
    )
    for topic_id, field in rows.all():
        counts[topic_id] += 1
        if field is not None and field != Field.OTHER:
            people[topic_id][Field(field)] += 1
    return {
        t.id: TopicFacts(t.id, t.title, t.status, counts[t.id], dict(people[t.id])) for t in topics
    }


class Notices:
    def __init__(
        self, db: Database, times: CheckinTimes | None = None, lease: timedelta = LEASE
    ) -> None:
        """`lease`: how long a claim is kept before another worker may take it over (a
        worker that died mid-send); what it sent but had not marked done is sent again."""
        self.db = db
        self.times = times or CheckinTimes()
        self.lease = lease

    async def claim_due(
        self,
        worker: str,
        now: datetime,
        channels: Mapping[str, Sequence[str] | None],
        limit: int = BATCH,
    ) -> list[Work]:
        """Claim due notices, oldest first, for members with an account on one of
        `channels` (channel → the external ids served there, None = all)."""
        # Core columns throughout: an ORM-enabled UPDATE takes the ORM's bulk path,
        # which cost more in Python than the statement in the database.
        notice, account = _NOTICE, _ACCOUNT
        served = [
            (account.channel == channel)
            & (account.external_id.in_(ids) if ids is not None else true())
            for channel, ids in channels.items()
        ]
        reachable = exists(
            select(account.id).where(
                account.member_id == notice.member_id,
                account.blocked.is_(False),
                or_(*served),
            )
        )
        takeable = or_(
            notice.status == WorkStatus.PENDING,
            (notice.status == WorkStatus.CLAIMED) & (notice.claimed_at < now - self.lease),
        )
        async with self.db.transaction() as session:
            if self.db.dialect == "postgresql":
                # A claim lost to a crash of PostgreSQL itself (not of this process)
                # leaves its rows pending, to be claimed again: at worst the batch is
                # sent twice, as after a crash of the sender. Not waiting for the WAL
                # flush saved a third of the claim's time in the database.
                await session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            # Personal notices (reminders, check-ins, a seat come free) first, each
            # type of row by its own partial index: an announcement to thousands, due
            # at once, must not hold up a reminder due a minute after it.
            claimed = await self._claim(session, worker, now, reachable, takeable, limit, False)
            if len(claimed) < limit:
                claimed += await self._claim(
                    session, worker, now, reachable, takeable, limit - len(claimed), True
                )
            # Holds whose notice cannot go out (blocked, deleted) are freed here too.
            await release_lapsed_holds(session, now, self.times)
            if not claimed:
                return []
            works = await self._works(session, sorted(claimed), now)
            works = [await _end_hold(session, work, now, self.times) for work in works]
            works = await _hold_announcements(session, works, now, self.times)
            return await _wait_for_morning(session, works, now, self.times)

    @staticmethod
    async def _claim(
        session: AsyncSession,
        worker: str,
        now: datetime,
        reachable: ColumnElement[bool],
        takeable: ColumnElement[bool],
        limit: int,
        announcements: bool,
    ) -> list[int]:
        """Claim up to `limit` due rows, oldest first: announcements' rows or the others."""
        # The partial index's condition word for word (see the model), which SQLite needs.
        condition = OPEN_ANNOUNCEMENT if announcements else OPEN_PERSONAL
        # A materialised CTE: PostgreSQL may otherwise run a `LIMIT … SKIP LOCKED`
        # sub-select inside `IN (…)` again for each row and claim far more than `limit`.
        notice = _NOTICE
        due = (
            select(notice.id)
            .where(text(condition), takeable, notice.due_at <= now, reachable)
            .order_by(notice.due_at, notice.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        # UPDATE … FROM due joins by primary key; `id IN (SELECT …)` let PostgreSQL's
        # planner pick a scan of the whole table for a small one.
        return list(
            (
                await session.scalars(
                    update(_NOTICE.id.table)
                    .where(notice.id == due.c.id, takeable)
                    .values(
                        status=WorkStatus.CLAIMED,
                        claimed_by=worker,
                        claimed_at=now,
                        attempts=notice.attempts + 1,
                    )
                    .returning(notice.id)
                )
            ).all()
        )

    async def _works(
        self, session: AsyncSession, notice_ids: Sequence[int], now: datetime
    ) -> list[Work]:
        """The claimed notices with all they need: one query for the batch, one for
        the members' accounts, and one per kind of fact only some notices need."""
        rows = (
            await session.execute(
                select(*_BATCH_COLUMNS)
                .join_from(_NOTICE.id.table, _MEMBER.id.table, _MEMBER.id == _NOTICE.member_id)
                .outerjoin(_EVENT.id.table, _EVENT.id == _NOTICE.event_id)
                .outerjoin(_PLACE.id.table, _PLACE.id == _EVENT.place_id)
                .outerjoin(_REGISTRATION.id.table, _REGISTRATION.id == _NOTICE.registration_id)
                .where(_among(_NOTICE.id, notice_ids, self.db.dialect))
                .order_by(_NOTICE.id)
            )
        ).all()
        # Row positions, named once: see _BATCH_COLUMNS.
        kind_of, member_of, event_of, params_of, broadcast_of = 1, 2, 3, 5, -1
        kinds = [NoticeKind(row[kind_of]) for row in rows]
        registered = await _seats_taken(
            session,
            {
                row[event_of]
                for row, k in zip(rows, kinds, strict=True)
                if k == NoticeKind.MINIMUM_CHECK
            },
        )
        present = await _attendance_taken(
            session, {row[event_of] for row, k in zip(rows, kinds, strict=True) if k.is_checkin}
        )
        again = [
            (row[member_of], row[event_of])
            for row, k in zip(rows, kinds, strict=True)
            if k in _AGAIN_OF
        ]
        answered = await _answered(session, again)
        topic_of = [
            topic_id if isinstance(topic_id := (row[params_of] or {}).get("topic_id"), int) else 0
            for row in rows
        ]
        topics = await _topic_facts(session, {t for t in topic_of if t})
        announcements = await _announcement_facts(
            session, {row[broadcast_of] for row in rows if row[broadcast_of] is not None}
        )
        accounts: dict[int, list[tuple[AccountRef, bool]]] = {}
        for member_id, channel, external_id, chat_id, blocked in (
            await session.execute(
                select(
                    _ACCOUNT.member_id,
                    _ACCOUNT.channel,
                    _ACCOUNT.external_id,
                    _ACCOUNT.chat_id,
                    _ACCOUNT.blocked,
                )
                .outerjoin(_STATE.account_id.table, _STATE.account_id == _ACCOUNT.id)
                .where(
                    _among(_ACCOUNT.member_id, {row[member_of] for row in rows}, self.db.dialect)
                )
                .order_by(
                    _ACCOUNT.member_id,
                    _STATE.updated_at.desc().nulls_last(),
                    _ACCOUNT.id.desc(),
                )
            )
        ).all():
            accounts.setdefault(member_id, []).append(
                (AccountRef(str(channel), external_id, chat_id=chat_id), blocked)
            )
        return [
            _work(
                self.times,
                row,
                tuple(accounts.get(row[member_of], ())),
                registered.get(row[event_of], 0),
                now,
                topics.get(topic_id),
                row[event_of] in present,
                (row[member_of], row[event_of], _AGAIN_OF.get(kind)) in answered,
                announcements.get(row[broadcast_of] or 0),
            )
            for row, kind, topic_id in zip(rows, kinds, topic_of, strict=True)
        ]

    async def finish_many(
        self,
        done: Sequence[tuple[int, WorkStatus, str | None]],
        now: datetime,
        worker: str | None = None,
    ) -> None:
        """Finish several notices in one transaction, an UPDATE per outcome: the
        dispatcher marks a round's sends together (a crash before this resends at most
        those, once their lease runs out). Only rows `worker` still holds: one another
        worker took over after the lease is theirs to finish."""
        if not done:
            return
        groups: dict[tuple[WorkStatus, str | None], list[int]] = {}
        for notice_id, status, error in done:
            groups.setdefault((status, error), []).append(notice_id)
        async with self.db.transaction() as session:
            for (status, error), ids in groups.items():
                await session.execute(
                    update(Notice)
                    .where(
                        Notice.id.in_(ids),
                        Notice.status == WorkStatus.CLAIMED,
                        *((Notice.claimed_by == worker,) if worker is not None else ()),
                    )
                    .values(status=status, done_at=now, error=error)
                    .execution_options(synchronize_session=False)
                )

    async def retry_later(
        self,
        notice_id: int,
        now: datetime,
        max_attempts: int,
        error: str,
        delay: Callable[[int], timedelta],
        worker: str | None = None,
    ) -> None:
        """A failed send goes back into the queue, `delay(attempts so far)` from `now`,
        until it has failed `max_attempts` times (not when another worker took it over)."""
        async with self.db.transaction() as session:
            notice = await session.get(Notice, notice_id, with_for_update=True)
            if notice is None or (worker is not None and notice.claimed_by != worker):
                return
            notice.error = error[:500]
            if notice.attempts >= max_attempts:
                notice.status, notice.done_at = WorkStatus.FAILED, now
            else:
                notice.status, notice.due_at = WorkStatus.PENDING, now + delay(notice.attempts)
                notice.claimed_by = notice.claimed_at = None

    async def pending_count(self) -> int:
        async with self.db.sessions() as session:
            return int(
                await session.scalar(
                    select(func.count(Notice.id)).where(Notice.status == WorkStatus.PENDING)
                )
                or 0
            )


async def _end_hold(session: AsyncSession, work: Work, now: datetime, times: CheckinTimes) -> Work:
    """A held seat's time is up: free it in the claim's transaction, before the member is
    told (the seat may go to the waitlist at once)."""
    notice = work.notice
    if notice.kind != NoticeKind.HOLD_ENDS or work.skip_reason or notice.registration_id is None:
        return work
    if await release_hold(session, notice.registration_id, now, times):
        return work
    return replace(work, skip_reason="taken or declined")


async def _wait_for_morning(
    session: AsyncSession, works: list[Work], now: datetime, times: CheckinTimes
) -> list[Work]:
    """The works to send now: check-ins and announcements due in the quiet hours (sent
    late after downtime, or claimed at 21:00) go back to the queue for the next
    morning, in one UPDATE per morning."""
    for_checkins = times.morning_after_quiet(now)
    for_announcements = times.quiet_until(now)  # announcements may come from 8:00
    later: dict[datetime, list[int]] = {}
    for work in works:
        kind = work.notice.kind
        if work.skip_reason:
            continue
        if kind.is_checkin:
            morning = for_checkins
        elif kind == NoticeKind.ANNOUNCEMENT:
            morning = for_announcements
        else:
            continue
        if morning is not None:
            later.setdefault(morning, []).append(work.notice.id)
    for morning, ids in later.items():
        await _put_back(session, ids, due_at=morning)
    waiting = {notice_id for ids in later.values() for notice_id in ids}
    return [w for w in works if w.notice.id not in waiting]


async def _put_back(
    session: AsyncSession,
    ids: Sequence[int],
    due_at: datetime | None = None,
    status: WorkStatus = WorkStatus.PENDING,
) -> None:
    """Claimed rows back into the queue unsent (their claim was no try of its own)."""
    if not ids:
        return
    values: dict[str, object] = {
        "status": status,
        "claimed_by": None,
        "claimed_at": None,
        "attempts": Notice.attempts - 1,
    }
    if due_at is not None:
        values["due_at"] = due_at
    await session.execute(
        update(Notice)
        .where(Notice.id.in_(ids))
        .values(values)
        .execution_options(synchronize_session=False)
    )


async def _hold_announcements(
    session: AsyncSession, works: list[Work], now: datetime, times: CheckinTimes
) -> list[Work]:
    """What of a claimed batch's announcements must not go out now: a paused one's rows
    go back to `held` (a failed send retried while paused must wait for "Weiter"), and
    news to a member who already has news today wait for the next morning (one a day,
    also when a pause, the quiet hours or two organisers at once bunched them)."""
    paused = [w.notice.id for w in works if w.skip_reason == PAUSED]
    await _put_back(session, paused, status=WorkStatus.HELD)
    news = [
        w
        for w in works
        if w.notice.kind == NoticeKind.ANNOUNCEMENT
        and w.skip_reason is None
        and w.notice.params.get("news") is True
    ]
    later: list[int] = []
    if news:
        midnight = datetime.combine(now.astimezone(times.tz).date(), time(), times.tz)
        batch = [w.notice.id for w in works]
        had = set(
            (
                await session.scalars(
                    select(Notice.member_id)
                    .join(Broadcast, Broadcast.id == Notice.broadcast_id)
                    .where(
                        Notice.member_id.in_({w.notice.member_id for w in news}),
                        Broadcast.news.is_(True),
                        Notice.id.not_in(batch),
                        or_(
                            (Notice.status == WorkStatus.DONE) & (Notice.done_at >= midnight),
                            Notice.status == WorkStatus.CLAIMED,
                        ),
                    )
                )
            ).all()
        )
        for work in sorted(news, key=lambda w: w.notice.id):
            if work.notice.member_id in had:
                later.append(work.notice.id)
            had.add(work.notice.member_id)
        morning = datetime.combine(midnight.date() + timedelta(days=1), time(times.quiet[1]))
        await _put_back(session, later, due_at=morning.replace(tzinfo=times.tz).astimezone(UTC))
    kept = set(paused) | set(later)
    return [w for w in works if w.notice.id not in kept]
