"""Rows the database-backed tests need, and the steps they share."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.app import Werkbank
from bot.codes import EventFormat, RegistrationStatus, Role
from bot.storage.models import Event, Member, Place, Registration
from tests.support.chat import ChatUser
from tests.support.clock import START

# A demo place in Bendorf (bot/services/demo_places.py), open Mo–Fr 12–19 Uhr.
DEMO_PLACE = "MakerSpace Mayen-Koblenz"


async def add_event(
    app: Werkbank,
    title: str = "Holz trifft Laser",
    capacity: int | None = 5,
    fmt: EventFormat = EventFormat.TRANSFER,
    start: datetime = START,
    *,
    place: str | int | None = DEMO_PLACE,
    end: datetime | None = None,
    duration: timedelta | None = timedelta(hours=3),
    uid: str | None = None,
    organiser: str | None = None,
    **values: object,
) -> int:
    """A published event, straight into the database; returns its id.

    `place` is a place's name, its id, or None (no place). The end is `end`, else
    `start + duration` (no end when both are None). `organiser` names a new member
    with the organiser role who organises it. Other Event columns come as `values`
    (description, status, cancel_reason, sequence, deadline …).
    """
    async with app.db.transaction() as session:
        if isinstance(place, str):
            place_id: int | None = (
                await session.execute(select(Place.id).where(Place.name == place))
            ).scalar_one()
        else:
            place_id = place
        organiser_id = None
        if organiser is not None:
            member = Member(display_name=organiser, consents={}, role=Role.ORGANISER)
            session.add(member)
            await session.flush()
            organiser_id = member.id
        event = Event(
            uid=uid or f"{title}@test",
            title=title,
            format=fmt,
            place_id=place_id,
            start_at=start,
            end_at=end if end is not None else (start + duration if duration else None),
            capacity=capacity,
            organiser_id=organiser_id,
            **values,
        )
        session.add(event)
        await session.flush()
        return event.id


async def open_event(user: ChatUser, event_id: int) -> str:
    """The event's details, opened the way a poster's link opens them."""
    return await user.send(f"/start ev_{event_id}")


async def seat_with_someone_waiting(
    app: Werkbank, member_id: int, event_id: int, expectation: str | None = None
) -> int:
    """`member_id` holds a seat at the event (with its wish) and a new member, Wanda,
    waits for one; returns Wanda's id."""
    async with app.db.transaction() as session:
        waiting = Member(display_name="Wanda", consents={})
        session.add(waiting)
        await session.flush()
        session.add_all(
            [
                Registration(
                    event_id=event_id,
                    member_id=member_id,
                    status=RegistrationStatus.REGISTERED,
                    expectation=expectation,
                ),
                Registration(
                    event_id=event_id,
                    member_id=waiting.id,
                    status=RegistrationStatus.WAITLISTED,
                    position=1,
                ),
            ]
        )
        return waiting.id
