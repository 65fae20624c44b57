"""Signing up for events: seats, the waitlist, moving up, cancelling.

The rule that matters most: an event is never overbooked. Every change to an
event's registrations starts by writing to the event's row (`_lock_event`). On
PostgreSQL that row lock queues concurrent sign-ups for the same event; on
SQLite the first write takes the database's write lock for the whole
transaction. Either way the count of seats and the insert that follows it see
the same world, on both databases, with one code path.

Order on the waitlist is `position`, handed out in the order sign-ups got the
lock: first come, first served. A member's waitlist number ("Nr. 2") is counted,
not stored, so it stays right when someone ahead leaves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.codes import (
    CHECKIN_AGAIN,
    CHECKIN_KINDS,
    HOLDS_SEAT,
    EventFormat,
    EventStatus,
    NoticeKind,
    RegistrationStatus,
    WorkStatus,
)
from bot.services import ServiceError
from bot.services.checkin_times import CheckinTimes
from bot.services.contracts import MAX_EXPECTATION, Cancelled, MyRegistration, Outcome, SignUp
from bot.services.database import Database
from bot.storage.models import Event, Notice, Place, Registration

REMINDERS = {
    NoticeKind.REMINDER_DAY_BEFORE: timedelta(days=1),
    NoticeKind.REMINDER_TWO_HOURS: timedelta(hours=2),
}
# Every notice a seat brings: the reminders before the event and the check-ins after.
SEAT_NOTICES = (*REMINDERS, *CHECKIN_KINDS, *CHECKIN_AGAIN.values())


def seat_notice_due(kind: NoticeKind, event: Event, times: CheckinTimes) -> datetime:
    before = REMINDERS.get(kind)
    return event.start_at - before if before is not None else times.due(kind, event)


class RegistrationError(ServiceError):
    """A registration that is not there or not the member's own (a stale or forged button)."""


def sign_up_open(event: Event, now: datetime) -> bool:
    closes = min(event.deadline, event.start_at) if event.deadline else event.start_at
    return event.status == EventStatus.PUBLISHED and now < closes


class Registrations:
    """The RegistrationService used by dialogs (see bot.services.contracts)."""

    def __init__(
        self, db: Database, timezone: str = "Europe/Berlin", times: CheckinTimes | None = None
    ) -> None:
        self.db = db
        self.timezone = timezone
        self.times = times or CheckinTimes(ZoneInfo(timezone))

    # -- reading -----------------------------------------------------------
    async def mine(self, member_id: int, now: datetime) -> Sequence[MyRegistration]:
        """The member's current registrations and waitlist places for events not yet over."""
        async with self.db.sessions() as session:
            regs = (
                await session.scalars(
                    select(Registration)
                    .join(Event, Event.id == Registration.event_id)
                    .where(
                        Registration.member_id == member_id,
                        Registration.status.in_(
                            (
                                RegistrationStatus.REGISTERED,
                                RegistrationStatus.WAITLISTED,
                                RegistrationStatus.HELD,
                            )
                        ),
                        func.coalesce(Event.end_at, Event.start_at) >= now,
                    )
                    .order_by(Event.start_at, Event.id)
                )
            ).all()
            return [await self._view(session, reg) for reg in regs]

    async def get(self, member_id: int, registration_id: int) -> MyRegistration | None:
        """The member's own registration; None for someone else's (never shown)."""
        async with self.db.sessions() as session:
            reg = await session.get(Registration, registration_id)
            if reg is None or reg.member_id != member_id:
                return None
            return await self._view(session, reg)

    async def for_event(self, member_id: int, event_id: int) -> MyRegistration | None:
        """The member's active registration or waitlist place for an event, if any."""
        async with self.db.sessions() as session:
            reg = await session.scalar(
                select(Registration).where(
                    Registration.member_id == member_id,
                    Registration.event_id == event_id,
                    Registration.status != RegistrationStatus.CANCELLED,
                )
            )
            return await self._view(session, reg) if reg else None

    async def calendar_file(self, event_id: int, locale: str = "de") -> bytes | None:
        """The event as an .ics file (stable UID: a changed event updates the same entry),
        its reminder in the member's language."""
        # icalendar is a tenth of a second to import: not at start, only for a file.
        from bot.services.calendar import calendar_event, event_ics

        event = await calendar_event(self.db, event_id)
        return event_ics(event, self.timezone, locale=locale) if event is not None else None

    # -- changing ----------------------------------------------------------
    async def sign_up(
        self, member_id: int, event_id: int, now: datetime, expectation: str | None = None
    ) -> SignUp:
        """A seat if one is free, else a place at the end of the waitlist."""
        if expectation is not None:
            expectation = expectation.strip()[:MAX_EXPECTATION] or None
        async with self.db.transaction() as session:
            event = await _lock_event(session, event_id)
            if event is None or event.status == EventStatus.DRAFT:
                return SignUp(Outcome.UNKNOWN)
            if event.status == EventStatus.CANCELLED:
                return SignUp(Outcome.CANCELLED)
            reg = await session.scalar(
                select(Registration).where(
                    Registration.event_id == event_id, Registration.member_id == member_id
                )
            )
            if reg is not None and reg.status == RegistrationStatus.HELD:
                if not sign_up_open(event, now):
                    return SignUp(Outcome.CLOSED)
                # The seat kept for this invited member: theirs now, no count needed.
                reg.status, reg.held_until, reg.expectation = (
                    RegistrationStatus.REGISTERED,
                    None,
                    expectation or reg.expectation,  # the wish they gave for the topic
                )
                await session.flush()
                await _schedule_reminders(session, [reg], event, now, self.times)
                return SignUp(Outcome.REGISTERED, await self._view(session, reg))
            if reg is not None and reg.status != RegistrationStatus.CANCELLED:
                return SignUp(Outcome.ALREADY, await self._view(session, reg))
            if not sign_up_open(event, now):
                return SignUp(Outcome.CLOSED)
            held, last = await _held_and_last(session, event_id)
            seat = event.capacity is None or held < event.capacity
            status = RegistrationStatus.REGISTERED if seat else RegistrationStatus.WAITLISTED
            position = last + 1
            if reg is None:
                # One row per member and event (a unique constraint): signing up again
                # after cancelling reuses it, at the end of the queue.
                reg = Registration(event_id=event_id, member_id=member_id, status=status)
                session.add(reg)
            reg.status, reg.position, reg.expectation = status, position, expectation
            await session.flush()
            if seat:
                await _schedule_reminders(session, [reg], event, now, self.times)
            view = await self._view(session, reg)
            return SignUp(Outcome(status.value), view)

    async def set_expectation(self, member_id: int, registration_id: int, text: str) -> None:
        async with self.db.transaction() as session:
            reg = await _own(session, member_id, registration_id)
            reg.expectation = text.strip()[:MAX_EXPECTATION] or None

    async def cancel(self, member_id: int, registration_id: int, now: datetime) -> Cancelled:
        """Give up a seat or a waitlist place; the first on the waitlist moves up."""
        async with self.db.transaction() as session:
            reg = await _own(session, member_id, registration_id)
            event = await _lock_event(session, reg.event_id)
            assert event is not None  # the registration's foreign key keeps it
            await session.refresh(reg)  # re-read under the lock
            if reg.status == RegistrationStatus.CANCELLED:
                return Cancelled(await self._view(session, reg))
            reg.status, reg.position = RegistrationStatus.CANCELLED, None
            await _drop_reminders(session, [reg.id])
            await session.flush()
            moved = await fill_free_seats(session, event, now, self.times)
            return Cancelled(await self._view(session, reg), moved)

    async def forget_member(self, member_id: int, now: datetime) -> tuple[int, ...]:
        """A deleted account frees its seats (a blocked one keeps them until it cancels)."""
        moved: list[int] = []
        async with self.db.sessions() as session:
            ids = (
                await session.scalars(
                    select(Registration.id).where(
                        Registration.member_id == member_id,
                        Registration.status.in_(
                            (
                                RegistrationStatus.REGISTERED,
                                RegistrationStatus.WAITLISTED,
                                RegistrationStatus.HELD,
                            )
                        ),
                    )
                )
            ).all()
        for registration_id in ids:
            moved += (await self.cancel(member_id, registration_id, now)).moved_up
        return tuple(moved)

    # -- values --------------------------------------------------------------
    async def _view(self, session: AsyncSession, reg: Registration) -> MyRegistration:
        row = (
            await session.execute(
                select(Event, Place.name, Place.town)
                .outerjoin(Place, Place.id == Event.place_id)
                .where(Event.id == reg.event_id)
            )
        ).one()
        event: Event = row[0]
        number = None
        if reg.status == RegistrationStatus.WAITLISTED and reg.position is not None:
            ahead = await session.scalar(
                select(func.count(Registration.id)).where(
                    Registration.event_id == reg.event_id,
                    Registration.status == RegistrationStatus.WAITLISTED,
                    Registration.position < reg.position,
                )
            )
            number = int(ahead or 0) + 1
        return MyRegistration(
            id=reg.id,
            event_id=event.id,
            title=event.title,
            format=EventFormat(event.format),
            start_at=event.start_at,
            end_at=event.end_at,
            place_name=row[1],
            town=row[2],
            status=RegistrationStatus(reg.status),
            waitlist_number=number,
            expectation=reg.expectation,
            event_cancelled=event.status == EventStatus.CANCELLED,
            cancel_reason=event.cancel_reason,
            held_until=reg.held_until if reg.status == RegistrationStatus.HELD else None,
            minimum=event.minimum,
            minimum_by=event.minimum_by if event.minimum is not None else None,
        )


async def _lock_event(session: AsyncSession, event_id: int) -> Event | None:
    """Write to the event's row first: the lock that serialises its registrations (see top)."""
    await session.execute(
        update(Event)
        .where(Event.id == event_id)
        # A write that changes nothing; updated_at named so its onupdate does not fire.
        .values(sequence=Event.sequence, updated_at=Event.updated_at)
        .execution_options(synchronize_session=False)
    )
    return await session.get(Event, event_id, populate_existing=True)


async def _own(session: AsyncSession, member_id: int, registration_id: int) -> Registration:
    reg = await session.get(Registration, registration_id)
    if reg is None or reg.member_id != member_id:
        raise RegistrationError(f"registration {registration_id} is not member {member_id}'s")
    return reg


async def _count(
    session: AsyncSession, event_id: int, statuses: Sequence[RegistrationStatus]
) -> int:
    count = await session.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == event_id, Registration.status.in_(statuses)
        )
    )
    return int(count or 0)


async def _held_and_last(session: AsyncSession, event_id: int) -> tuple[int, int]:
    """Seats held and the last queue position handed out, in one query."""
    held, last = (
        await session.execute(
            select(
                func.count(Registration.id).filter(Registration.status.in_(HOLDS_SEAT)),
                func.max(Registration.position),
            ).where(Registration.event_id == event_id)
        )
    ).one()
    return int(held or 0), int(last or 0)


async def fill_free_seats(
    session: AsyncSession, event: Event, now: datetime, times: CheckinTimes
) -> tuple[int, ...]:
    """Move members up from the waitlist into free seats (the event's row is locked);
    each is told by a notice. Returns their member ids."""
    if event.status != EventStatus.PUBLISHED or now >= event.start_at:
        return ()
    moved: list[int] = []
    free = (
        None
        if event.capacity is None
        else event.capacity - await _count(session, event.id, HOLDS_SEAT)
    )
    while free is None or free > 0:
        nxt = await session.scalar(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.position)
            .limit(1)
        )
        if nxt is None:
            break
        nxt.status = RegistrationStatus.REGISTERED
        await session.flush()
        await _schedule_reminders(session, [nxt], event, now, times)
        session.add(
            Notice(
                member_id=nxt.member_id,
                kind=NoticeKind.MOVED_UP,
                event_id=event.id,
                registration_id=nxt.id,
                params={},
                due_at=now,
            )
        )
        moved.append(nxt.member_id)
        if free is not None:
            free -= 1
    return tuple(moved)


def reminder_key(kind: NoticeKind, registration_id: int) -> str:
    return f"{kind.value}:{registration_id}"


async def _schedule_reminders(
    session: AsyncSession,
    regs: Sequence[Registration],
    event: Event,
    now: datetime,
    times: CheckinTimes,
) -> None:
    """The day-before and two-hours reminders of seats and the check-in after, as durable
    notices.

    Each is one row per registration (its `dedupe` key): signing up again after
    cancelling re-arms the same rows rather than adding a second reminder, and a
    reminder already sent is sent again only when the event has moved. A reminder
    whose time has passed is left out: the sign-up confirmation (or the change
    notice) has just said when and where, and no "it's tomorrow" should follow a
    second later. One SELECT and one INSERT for all (callers hold the event's lock)."""
    due = {
        reminder_key(kind, reg.id): (reg, kind, seat_notice_due(kind, event, times))
        for reg in regs
        for kind in SEAT_NOTICES
    }
    existing = {
        notice.dedupe: notice
        for notice in (
            await session.scalars(select(Notice).where(Notice.dedupe.in_(tuple(due))))
        ).all()
    }
    for key, (reg, kind, due_at) in due.items():
        notice = existing.get(key)
        if due_at <= now:
            if notice is not None and notice.status == WorkStatus.PENDING:
                notice.status = WorkStatus.SKIPPED
            continue
        if notice is None:
            session.add(
                Notice(
                    member_id=reg.member_id,
                    kind=kind,
                    event_id=event.id,
                    registration_id=reg.id,
                    params={},
                    dedupe=key,
                    due_at=due_at,
                )
            )
        elif notice.status != WorkStatus.DONE or notice.due_at != due_at:
            notice.due_at, notice.status = due_at, WorkStatus.PENDING
            notice.claimed_by = notice.claimed_at = None
    await session.flush()


async def reschedule_reminders(
    session: AsyncSession, event: Event, now: datetime, times: CheckinTimes
) -> None:
    """The reminders of everyone holding a seat follow the event to its new time."""
    holders = (
        await session.scalars(
            select(Registration).where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.REGISTERED,
            )
        )
    ).all()
    if holders:
        await _schedule_reminders(session, holders, event, now, times)


async def _drop_reminders(session: AsyncSession, registration_ids: Sequence[int]) -> None:
    """Pending reminders of given-up seats are skipped (the sender checks again anyway)."""
    await session.execute(
        update(Notice)
        .where(
            Notice.registration_id.in_(registration_ids),
            Notice.kind.in_(SEAT_NOTICES),
            Notice.status == WorkStatus.PENDING,
        )
        .values(status=WorkStatus.SKIPPED)
        .execution_options(synchronize_session=False)
    )


async def hold_seats(
    session: AsyncSession,
    event: Event,
    members: Mapping[int, str | None],
    until: datetime,
    now: datetime,
) -> list[int]:
    """Keep seats of a new event for personally invited members (id → their wish, kept as
    the expectation) until `until`, as many as are free; each hold ends by a HOLD_ENDS
    notice. Returns the members it holds for."""
    await _lock_event(session, event.id)
    taken = await _count(session, event.id, HOLDS_SEAT)
    free = None if event.capacity is None else max(0, event.capacity - taken)
    held: list[int] = []
    invited = list(members)
    for member_id in invited[:free] if free is not None else invited:
        reg = Registration(
            event_id=event.id,
            member_id=member_id,
            status=RegistrationStatus.HELD,
            held_until=until,
            expectation=members[member_id],
        )
        session.add(reg)
        await session.flush()
        session.add(
            Notice(
                member_id=member_id,
                kind=NoticeKind.HOLD_ENDS,
                event_id=event.id,
                registration_id=reg.id,
                params={},
                dedupe=f"hold_ends:{reg.id}",
                due_at=until,
                created_at=now,
            )
        )
        held.append(member_id)
    return held


async def release_hold(
    session: AsyncSession, registration_id: int, now: datetime, times: CheckinTimes
) -> bool:
    """A hold's time is up: the seat goes to the waitlist or to everyone. False if the
    member took or declined it meanwhile."""
    reg = await session.get(Registration, registration_id)
    if reg is None or reg.status != RegistrationStatus.HELD:
        return False
    event = await _lock_event(session, reg.event_id)
    await session.refresh(reg)  # re-read under the event's lock
    if event is None or reg.status != RegistrationStatus.HELD:
        return False
    reg.status, reg.held_until, reg.position = RegistrationStatus.CANCELLED, None, None
    await session.flush()
    await fill_free_seats(session, event, now, times)
    return True


# A hold is normally freed by its HOLD_ENDS notice, which also tells the member. One
# whose notice cannot go out (the member blocked the bot or was deleted) is freed by
# the sweep this long after its time.
HOLD_GRACE = timedelta(minutes=10)


async def release_lapsed_holds(session: AsyncSession, now: datetime, times: CheckinTimes) -> int:
    """Free the seats of holds whose time is long up; returns how many."""
    lapsed = (
        await session.scalars(
            select(Registration.id).where(
                Registration.held_until < now - HOLD_GRACE,
                Registration.status == RegistrationStatus.HELD,
            )
        )
    ).all()
    return sum([await release_hold(session, reg_id, now, times) for reg_id in lapsed])
