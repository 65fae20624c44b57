"""Seats, waitlist and moving up, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import Werkbank
from bot.codes import EventFormat, NoticeKind, RegistrationStatus, WorkStatus
from bot.services.registrations import Outcome, RegistrationError, Registrations
from bot.storage.models import Event, Member, Notice, Registration
from tests.support.clock import NOW


async def make_event(app: Werkbank, capacity: int | None = 5, **values: object) -> int:
    async with app.db.transaction() as session:
        event = Event(
            uid=f"test-{capacity}-{len(values)}@werkbank",
            title="Transfer-Werkstatt: Lasercutter für Tischler",
            format=EventFormat.TRANSFER,
            start_at=NOW + timedelta(days=3),
            end_at=NOW + timedelta(days=3, hours=3),
            capacity=capacity,
            **values,
        )
        session.add(event)
        await session.flush()
        return event.id


async def make_members(app: Werkbank, count: int) -> list[int]:
    async with app.db.transaction() as session:
        members = [Member(display_name=f"m{i}", consents={}) for i in range(count)]
        session.add_all(members)
        await session.flush()
        return [m.id for m in members]


async def test_200_concurrent_sign_ups_for_5_seats_never_overbook(app: Werkbank) -> None:
    regs = Registrations(app.db)
    event_id = await make_event(app, capacity=5)
    members = await make_members(app, 200)

    results = await asyncio.gather(*(regs.sign_up(m, event_id, NOW) for m in members))

    outcomes = [r.outcome for r in results]
    assert outcomes.count(Outcome.REGISTERED) == 5
    assert outcomes.count(Outcome.WAITLISTED) == 195
    async with app.db.sessions() as session:
        rows = (
            await session.scalars(select(Registration).where(Registration.event_id == event_id))
        ).all()
    registered = [r for r in rows if r.status == RegistrationStatus.REGISTERED]
    waitlisted = sorted(
        (r for r in rows if r.status == RegistrationStatus.WAITLISTED),
        key=lambda r: r.position or 0,
    )
    assert len(registered) == 5 and len(waitlisted) == 195
    # Fair: first come, first served; every number on the waitlist given exactly once.
    assert max(r.position or 0 for r in registered) < min(r.position or 0 for r in waitlisted)
    numbers = sorted(
        r.registration.waitlist_number
        for r in results
        if r.registration and r.registration.waitlist_number
    )
    assert numbers == list(range(1, 196))


async def test_a_full_event_puts_the_member_on_the_waitlist_with_a_number(app: Werkbank) -> None:
    regs = Registrations(app.db)
    event_id = await make_event(app, capacity=1)
    first, second, third = await make_members(app, 3)
    assert (await regs.sign_up(first, event_id, NOW)).outcome == Outcome.REGISTERED
    assert (await regs.sign_up(second, event_id, NOW)).registration.waitlist_number == 1  # type: ignore[union-attr]
    third_up = await regs.sign_up(third, event_id, NOW)
    assert third_up.outcome == Outcome.WAITLISTED
    assert third_up.registration and third_up.registration.waitlist_number == 2
    again = await regs.sign_up(third, event_id, NOW)
    assert again.outcome == Outcome.ALREADY


async def test_cancelling_moves_the_first_on_the_waitlist_up_and_tells_them(app: Werkbank) -> None:
    regs = Registrations(app.db)
    event_id = await make_event(app, capacity=1)
    first, second, third = await make_members(app, 3)
    seat = await regs.sign_up(first, event_id, NOW)
    await regs.sign_up(second, event_id, NOW)
    await regs.sign_up(third, event_id, NOW)

    done = await regs.cancel(first, seat.registration.id, NOW)  # type: ignore[union-attr]

    assert done.moved_up == (second,)
    assert (await regs.for_event(second, event_id)).status == "registered"  # type: ignore[union-attr]
    assert (await regs.for_event(third, event_id)).waitlist_number == 1  # type: ignore[union-attr]
    async with app.db.sessions() as session:
        told = (
            await session.scalars(select(Notice).where(Notice.kind == NoticeKind.MOVED_UP))
        ).all()
        first_reminders = (
            await session.scalars(
                select(Notice).where(
                    Notice.registration_id == seat.registration.id,  # type: ignore[union-attr]
                    Notice.kind == NoticeKind.REMINDER_DAY_BEFORE,
                )
            )
        ).all()
    assert [n.member_id for n in told] == [second]
    assert [n.status for n in first_reminders] == [WorkStatus.SKIPPED]


async def test_declining_a_seat_passes_it_on_to_the_next(app: Werkbank) -> None:
    regs = Registrations(app.db)
    event_id = await make_event(app, capacity=1)
    first, second, third = await make_members(app, 3)
    seat = await regs.sign_up(first, event_id, NOW)
    await regs.sign_up(second, event_id, NOW)
    await regs.sign_up(third, event_id, NOW)
    await regs.cancel(first, seat.registration.id, NOW)  # type: ignore[union-attr]
    moved = await regs.for_event(second, event_id)
    assert moved is not None

    done = await regs.cancel(second, moved.id, NOW)

    assert done.moved_up == (third,)


async def test_sign_up_closes_at_the_deadline_and_for_cancelled_events(app: Werkbank) -> None:
    regs = Registrations(app.db)
    (member,) = await make_members(app, 1)
    with_deadline = await make_event(app, capacity=5, deadline=NOW - timedelta(minutes=1))
    assert (await regs.sign_up(member, with_deadline, NOW)).outcome == Outcome.CLOSED
    started = await make_event(app, capacity=None)
    later = NOW + timedelta(days=3, minutes=1)
    assert (await regs.sign_up(member, started, later)).outcome == Outcome.CLOSED


async def test_someone_elses_registration_cannot_be_cancelled(app: Werkbank) -> None:
    regs = Registrations(app.db)
    event_id = await make_event(app, capacity=5)
    owner, intruder = await make_members(app, 2)
    seat = await regs.sign_up(owner, event_id, NOW)
    assert await regs.get(intruder, seat.registration.id) is None  # type: ignore[union-attr]
    with pytest.raises(RegistrationError):
        await regs.cancel(intruder, seat.registration.id, NOW)  # type: ignore[union-attr]
    assert (await regs.for_event(owner, event_id)).status == "registered"  # type: ignore[union-attr]


async def test_signing_up_again_after_cancelling_queues_at_the_end_and_rearms_reminders(
    app: Werkbank,
) -> None:
    regs = Registrations(app.db)
    event_id = await make_event(app, capacity=5)
    (member,) = await make_members(app, 1)
    seat = await regs.sign_up(member, event_id, NOW, expectation="Lasern lernen")
    await regs.cancel(member, seat.registration.id, NOW)  # type: ignore[union-attr]
    again = await regs.sign_up(member, event_id, NOW)
    assert again.outcome == Outcome.REGISTERED and again.registration
    assert again.registration.id == seat.registration.id  # type: ignore[union-attr]
    async with app.db.sessions() as session:
        reminders = (
            await session.scalars(
                select(Notice).where(Notice.registration_id == again.registration.id)
            )
        ).all()
    # The two reminders, and the three check-ins after the event with their one
    # reminder each, all armed again.
    assert [n.status for n in reminders] == [WorkStatus.PENDING] * 8
