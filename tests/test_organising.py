"""Organisers publish, change and cancel events; members hear about it once; on both databases."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import Werkbank
from bot.codes import NoticeKind, RegistrationStatus, Role, WorkStatus
from bot.geo import GeoPoint, default_gazetteer
from bot.services import NotAllowed
from bot.services.contracts import EventChange, EventDraft
from bot.services.organising import (
    SEATS_CHANGED,
    TIME_CHANGED,
    TITLE_CHANGED,
    InvalidEvent,
    minimum_check_key,
)
from bot.services.registrations import Registrations, reminder_key
from bot.storage.models import AuditLog, Event, Member, Notice, Place, Registration
from tests.support.clock import NOW

START = NOW + timedelta(days=10)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


async def add_member(app: Werkbank, role: Role = Role.MEMBER, name: str = "") -> int:
    async with app.db.transaction() as session:
        member = Member(display_name=name, role=role, consents={})
        session.add(member)
        await session.flush()
        return member.id


async def any_place(app: Werkbank) -> int:
    async with app.db.sessions() as session:
        place_id = await session.scalar(select(Place.id).order_by(Place.id).limit(1))
    assert place_id is not None
    return place_id


def draft(place_id: int, **values: Any) -> EventDraft:
    fields: dict[str, Any] = {
        "format": "transfer",
        "title": "Holz trifft Laser",
        "description": "Intarsien mit dem Lasercutter.",
        "place_id": place_id,
        "start_at": START,
        "end_at": START + timedelta(hours=3),
        "capacity": 2,
    }
    return EventDraft(**{**fields, **values})


async def organised_event(
    app: Werkbank, organiser: int, signups: int = 0, **values: Any
) -> tuple[int, list[int]]:
    """An event of `organiser` and `signups` members signed up in order."""
    event_id = await app.services.organiser.create(
        organiser, draft(await any_place(app), **values), NOW
    )
    regs = Registrations(app.db)
    members = [await add_member(app, name=f"Teilnehmer {i}") for i in range(signups)]
    for member in members:
        await regs.sign_up(member, event_id, NOW)
    return event_id, members


async def notices(app: Werkbank, event_id: int, kind: NoticeKind) -> list[Notice]:
    async with app.db.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(Notice)
                    .where(Notice.event_id == event_id, Notice.kind == kind)
                    .order_by(Notice.id)
                )
            ).all()
        )


async def statuses(app: Werkbank, event_id: int) -> dict[int, RegistrationStatus]:
    async with app.db.sessions() as session:
        rows = await session.execute(
            select(Registration.member_id, Registration.status).where(
                Registration.event_id == event_id
            )
        )
        return {member: status for member, status in rows}


async def snapshot(app: Werkbank) -> tuple[object, ...]:
    """Everything an organiser's action could change."""
    async with app.db.sessions() as session:
        events = (
            await session.execute(
                select(
                    Event.id,
                    Event.title,
                    Event.start_at,
                    Event.capacity,
                    Event.status,
                    Event.sequence,
                    Event.updated_at,
                ).order_by(Event.id)
            )
        ).all()
        regs = (
            await session.execute(
                select(Registration.id, Registration.status).order_by(Registration.id)
            )
        ).all()
        outbox = (
            await session.execute(
                select(Notice.id, Notice.status, Notice.due_at).order_by(Notice.id)
            )
        ).all()
        places = await session.scalar(select(func.count(Place.id)))
        audit = await session.scalar(select(func.count(AuditLog.id)))
    return tuple(events), tuple(regs), tuple(outbox), places, audit


# -- rights ------------------------------------------------------------------------
async def test_a_member_without_the_organiser_role_is_refused_everywhere_and_nothing_changes(
    app: Werkbank,
) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    event_id, _ = await organised_event(app, owner, signups=3)
    reg_id = (await organiser.roster(owner, event_id)).attendees[0].registration_id
    member = await add_member(app, Role.MEMBER)
    place = await any_place(app)
    before = await snapshot(app)

    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: organiser.places_named(member, "Werkstatt"),
        lambda: organiser.places_near(member, GeoPoint(51.37, 7.69), 25),
        lambda: organiser.new_place(member, "Garage", GeoPoint(51.37, 7.69), "Iserlohn"),
        lambda: organiser.create(member, draft(place), NOW),
        lambda: organiser.create(member, draft(place, capacity=0), NOW),  # refused before checked
        lambda: organiser.mine(member, NOW),
        lambda: organiser.roster(member, event_id),
        lambda: organiser.set_attended(member, event_id, reg_id, True),
        lambda: organiser.change(member, event_id, EventChange(title="Gekapert", capacity=10), NOW),
        lambda: organiser.cancel(member, event_id, "weil ich es kann", NOW),
        lambda: organiser.hold(member, event_id),
        lambda: organiser.attendee_csv(member, event_id),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            await call()

    assert await snapshot(app) == before


async def test_an_organiser_is_refused_on_someone_elses_event_and_an_admin_is_not(
    app: Werkbank,
) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    other = await add_member(app, Role.ORGANISER)
    admin = await add_member(app, Role.ADMIN)
    event_id, _ = await organised_event(app, owner, signups=3)
    reg_id = (await organiser.roster(owner, event_id)).attendees[0].registration_id
    before = await snapshot(app)

    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: organiser.roster(other, event_id),
        lambda: organiser.set_attended(other, event_id, reg_id, True),
        lambda: organiser.change(other, event_id, EventChange(title="Gekapert"), NOW),
        lambda: organiser.cancel(other, event_id, "weil ich es kann", NOW),
        lambda: organiser.hold(other, event_id),
        lambda: organiser.attendee_csv(other, event_id),
        lambda: organiser.roster(owner, event_id + 1000),  # no such event: refused the same way
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            await call()
    assert await snapshot(app) == before
    assert await organiser.mine(other, NOW) == []

    # An admin may act on any event, but "my events" are only the admin's own.
    assert len((await organiser.roster(admin, event_id)).attendees) == 3
    assert await organiser.change(admin, event_id, EventChange(title="Neu"), NOW) == (
        TITLE_CHANGED,
    )
    assert await organiser.mine(admin, NOW) == []


async def test_an_organiser_cannot_mark_a_registration_of_another_event(app: Werkbank) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    first, _ = await organised_event(app, owner, signups=1)
    second, _ = await organised_event(app, owner, signups=1)
    reg_id = (await organiser.roster(owner, second)).attendees[0].registration_id

    with pytest.raises(NotAllowed):
        await organiser.set_attended(owner, first, reg_id, True)

    assert set((await statuses(app, second)).values()) == {RegistrationStatus.REGISTERED}


# -- places ------------------------------------------------------------------------
async def test_places_are_found_by_name_with_or_without_umlauts(app: Werkbank) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    iserlohn = default_gazetteer().lookup("Iserlohn").matches[0]
    mill = await organiser.new_place(owner, "Alte Mühle", iserlohn.point, iserlohn.name)
    percent = await organiser.new_place(owner, "100% Holz", iserlohn.point, iserlohn.name)

    for text in ("Muehle", "mühle", "MÜHLE", "alte m"):
        found = await organiser.places_named(owner, text)
        assert mill in [p.id for p in found], text
        assert len(found) <= 8
    assert [p.id for p in await organiser.places_named(owner, "100%")] == [percent]
    # LIKE wildcards in the text are taken literally.
    assert percent not in [p.id for p in await organiser.places_named(owner, "1_0")]
    assert await organiser.places_named(owner, "   ") == []


async def test_a_new_place_at_a_town_centre_is_approximate_and_found_nearby(
    app: Werkbank,
) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    iserlohn = default_gazetteer().lookup("Iserlohn").matches[0]
    centre = await organiser.new_place(owner, "Tischlerei Müller", iserlohn.point, iserlohn.name)
    exact_point = GeoPoint(iserlohn.point.lat + 0.01, iserlohn.point.lon + 0.01)
    exact = await organiser.new_place(owner, "Werkhalle Nord", exact_point, iserlohn.name)

    async with app.db.sessions() as session:
        place = await session.get(Place, centre)
        assert place is not None and place.approximate and place.status == "active"
        assert place.town == iserlohn.name and place.types == ""
        place = await session.get(Place, exact)
        assert place is not None and not place.approximate
    # Adding the same place twice (a double tap) keeps one.
    assert (
        await organiser.new_place(owner, "Tischlerei Müller", iserlohn.point, iserlohn.name)
        == centre
    )
    near = await organiser.places_near(owner, iserlohn.point, 25)
    assert centre in [p.id for p in near] and len(near) <= 8


# -- creating ----------------------------------------------------------------------
async def test_create_publishes_the_event_and_asks_about_the_minimum_in_time(
    app: Werkbank,
) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    by = START - timedelta(days=3)
    event_id = await organiser.create(
        owner, draft(await any_place(app), capacity=5, minimum=3, minimum_by=by), NOW
    )
    other_id = await organiser.create(owner, draft(await any_place(app)), NOW)

    async with app.db.sessions() as session:
        event = await session.get(Event, event_id)
        other = await session.get(Event, other_id)
        assert event is not None and other is not None
        assert event.status == "published" and event.organiser_id == owner
        assert event.uid.startswith("werkbank-") and event.uid.endswith("@werkbank")
        assert event.uid != other.uid
        assert (event.capacity, event.minimum, event.minimum_by) == (5, 3, by)
        audit = await session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.subject == f"event:{event_id}")
        )
        assert audit == 1
    [check] = await notices(app, event_id, NoticeKind.MINIMUM_CHECK)
    assert (check.member_id, check.due_at, check.dedupe) == (
        owner,
        by,
        minimum_check_key(event_id),
    )
    assert await notices(app, other_id, NoticeKind.MINIMUM_CHECK) == []
    [mine] = [e for e in await organiser.mine(owner, NOW) if e.id == event_id]
    assert (mine.title, mine.capacity, mine.minimum, mine.registered) == (
        "Holz trifft Laser",
        5,
        3,
        0,
    )


@pytest.mark.parametrize(
    "values",
    [
        {"start_at": NOW - timedelta(hours=1), "end_at": None},
        {"end_at": START},
        {"end_at": START - timedelta(hours=1)},
        {"capacity": 0},
        {"capacity": 3, "minimum": 4},
        {"deadline": START + timedelta(hours=1)},
        {"format": "party"},
        {"title": "   "},
    ],
)
async def test_create_refuses_an_event_that_cannot_be(
    app: Werkbank, values: dict[str, Any]
) -> None:
    owner = await add_member(app, Role.ORGANISER)
    place = await any_place(app)
    before = await snapshot(app)

    with pytest.raises(InvalidEvent):
        await app.services.organiser.create(owner, draft(place, **values), NOW)

    assert await snapshot(app) == before


# -- reading -----------------------------------------------------------------------
async def test_my_events_count_seats_and_waitlist_and_keep_last_week(app: Werkbank) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    later, _ = await organised_event(
        app,
        owner,
        signups=3,
        start_at=START + timedelta(days=1),
        end_at=START + timedelta(days=1, hours=3),
    )
    sooner, _ = await organised_event(app, owner, signups=1)

    mine = await organiser.mine(owner, NOW)
    assert [(e.id, e.registered, e.waitlisted) for e in mine] == [(sooner, 1, 0), (later, 2, 1)]
    assert mine[0].place_name and not mine[0].cancelled

    # Six days after the end it is still there (attendance); eight days after, gone.
    end = START + timedelta(days=1, hours=3)
    assert later in [e.id for e in await organiser.mine(owner, end + timedelta(days=6))]
    assert await organiser.mine(owner, end + timedelta(days=8)) == []


async def test_the_roster_lists_seats_first_then_the_numbered_waitlist(app: Werkbank) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    event_id, _ = await organised_event(app, owner, signups=2)
    regs = Registrations(app.db)
    waiting = [await add_member(app) for _ in range(2)]  # no display name
    leaving = await add_member(app, name="Geht wieder")
    await regs.sign_up(waiting[0], event_id, NOW)
    left = await regs.sign_up(leaving, event_id, NOW)
    await regs.sign_up(waiting[1], event_id, NOW, expectation="Laser kennenlernen")
    assert left.registration is not None
    await regs.cancel(leaving, left.registration.id, NOW)

    roster = await organiser.roster(owner, event_id)

    assert [(a.name, a.status, a.waitlist_number) for a in roster.attendees] == [
        ("Teilnehmer 0", "registered", None),
        ("Teilnehmer 1", "registered", None),
        (f"Mitglied {waiting[0]}", "waitlisted", 1),
        (f"Mitglied {waiting[1]}", "waitlisted", 2),
    ]
    assert roster.attendees[3].expectation == "Laser kennenlernen"
    assert (roster.event.id, roster.event.registered, roster.event.waitlisted) == (event_id, 2, 2)


async def test_attendance_is_marked_and_taken_back(app: Werkbank) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    event_id, members = await organised_event(app, owner, signups=3)
    seat, _, waiting = (await organiser.roster(owner, event_id)).attendees

    await organiser.set_attended(owner, event_id, seat.registration_id, True)
    roster = await organiser.roster(owner, event_id)
    assert roster.attendees[0].status == "attended"
    assert roster.event.registered == 2  # an attended member still holds the seat

    await organiser.set_attended(owner, event_id, seat.registration_id, False)
    assert (await organiser.roster(owner, event_id)).attendees[0].status == "registered"

    with pytest.raises(InvalidEvent):
        await organiser.set_attended(owner, event_id, waiting.registration_id, True)
    assert (await statuses(app, event_id))[members[2]] == RegistrationStatus.WAITLISTED


# -- changing ----------------------------------------------------------------------
async def test_a_new_time_moves_the_reminders_and_tells_everyone_once(app: Werkbank) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    event_id, members = await organised_event(
        app, owner, signups=3, minimum=2, minimum_by=START - timedelta(days=2)
    )
    new_start = START + timedelta(days=7, hours=1)

    changed = await organiser.change(
        owner, event_id, EventChange(start_at=new_start, end_at=None), NOW
    )

    assert changed == (TIME_CHANGED,)
    async with app.db.sessions() as session:
        event = await session.get(Event, event_id)
        assert event is not None
        assert (event.start_at, event.sequence) == (new_start, 1)
        # The end keeps the length of the event; the minimum check keeps its distance.
        assert event.end_at == new_start + timedelta(hours=3)
        assert event.minimum_by == new_start - timedelta(days=2)
    day_before = await notices(app, event_id, NoticeKind.REMINDER_DAY_BEFORE)
    two_hours = await notices(app, event_id, NoticeKind.REMINDER_TWO_HOURS)
    assert len(day_before) == len(two_hours) == 2
    assert {n.due_at for n in day_before} == {new_start - timedelta(days=1)}
    assert {n.due_at for n in two_hours} == {new_start - timedelta(hours=2)}
    assert day_before[0].dedupe == reminder_key(
        NoticeKind.REMINDER_DAY_BEFORE, day_before[0].registration_id or 0
    )
    [check] = await notices(app, event_id, NoticeKind.MINIMUM_CHECK)
    assert check.due_at == new_start - timedelta(days=2)
    told = await notices(app, event_id, NoticeKind.EVENT_CHANGED)
    assert sorted(n.member_id for n in told) == sorted(members)  # seats and waitlist, once
    assert {n.due_at for n in told} == {NOW}
    # Old and new times are kept with the notice: it may go out after a restart.
    assert told[0].params == {
        "changes": ["The date or time has changed."],
        "before": {"start_at": utc(START), "end_at": utc(START + timedelta(hours=3))},
        "after": {"start_at": utc(new_start), "end_at": utc(new_start + timedelta(hours=3))},
    }

    # The same time again is no change: nobody is told twice.
    assert await organiser.change(owner, event_id, EventChange(start_at=new_start), NOW) == ()
    assert len(await notices(app, event_id, NoticeKind.EVENT_CHANGED)) == 3


async def test_a_reminder_already_sent_comes_again_when_the_event_moves(app: Werkbank) -> None:
    owner = await add_member(app, Role.ORGANISER)
    event_id, _ = await organised_event(app, owner, signups=1)
    async with app.db.transaction() as session:  # the day-before reminder went out
        [sent] = (
            await session.scalars(
                select(Notice).where(
                    Notice.event_id == event_id, Notice.kind == NoticeKind.REMINDER_DAY_BEFORE
                )
            )
        ).all()
        sent.status = WorkStatus.DONE
    later = START + timedelta(days=7)
    await app.services.organiser.change(
        owner, event_id, EventChange(start_at=later), START - timedelta(hours=20)
    )
    [again] = await notices(app, event_id, NoticeKind.REMINDER_DAY_BEFORE)
    assert (again.status, again.due_at) == (WorkStatus.PENDING, later - timedelta(days=1))

    # Moved to within two hours, no reminder is due in the past: the change notice says it.
    soon = START - timedelta(hours=19)
    await app.services.organiser.change(
        owner, event_id, EventChange(start_at=soon), START - timedelta(hours=20)
    )
    pending = [
        n
        for kind in (NoticeKind.REMINDER_DAY_BEFORE, NoticeKind.REMINDER_TWO_HOURS)
        for n in await notices(app, event_id, kind)
        if n.status == WorkStatus.PENDING
    ]
    assert pending == []


async def test_a_start_in_the_past_is_refused_and_nothing_changes(app: Werkbank) -> None:
    owner = await add_member(app, Role.ORGANISER)
    event_id, _ = await organised_event(app, owner, signups=1)
    before = await snapshot(app)

    with pytest.raises(InvalidEvent):
        await app.services.organiser.change(
            owner, event_id, EventChange(title="Neu", start_at=NOW - timedelta(days=1)), NOW
        )

    assert await snapshot(app) == before


async def test_more_seats_move_the_waitlist_up(app: Werkbank) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    event_id, members = await organised_event(app, owner, signups=5)

    changed = await organiser.change(owner, event_id, EventChange(capacity=3), NOW)

    assert changed == (SEATS_CHANGED,)
    now = await statuses(app, event_id)
    assert [now[m] for m in members] == ["registered"] * 3 + ["waitlisted"] * 2
    [moved] = await notices(app, event_id, NoticeKind.MOVED_UP)
    assert moved.member_id == members[2]
    assert len(await notices(app, event_id, NoticeKind.EVENT_CHANGED)) == 5

    await organiser.change(owner, event_id, EventChange(unlimited=True), NOW)
    assert set((await statuses(app, event_id)).values()) == {RegistrationStatus.REGISTERED}
    assert len(await notices(app, event_id, NoticeKind.MOVED_UP)) == 3


async def test_fewer_seats_drop_nobody(app: Werkbank) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    event_id, _ = await organised_event(app, owner, signups=2, capacity=5)

    changed = await organiser.change(
        owner, event_id, EventChange(title="Holz trifft Laser II", capacity=1), NOW
    )

    assert changed == (TITLE_CHANGED, SEATS_CHANGED)
    assert set((await statuses(app, event_id)).values()) == {RegistrationStatus.REGISTERED}
    late = await add_member(app)
    signup = await Registrations(app.db).sign_up(late, event_id, NOW)
    assert signup.outcome == "waitlisted"
    [told] = {
        tuple(n.params["changes"]) for n in await notices(app, event_id, NoticeKind.EVENT_CHANGED)
    }
    assert told == ("The title has changed.", "The number of seats has changed.")


# -- cancelling and holding --------------------------------------------------------
async def test_cancel_tells_seats_and_waitlist_once_and_skips_their_reminders(
    app: Werkbank,
) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    event_id, members = await organised_event(app, owner, signups=3)
    regs = Registrations(app.db)
    gone = await add_member(app)
    signup = await regs.sign_up(gone, event_id, NOW)
    assert signup.registration is not None
    await regs.cancel(gone, signup.registration.id, NOW)

    told = await organiser.cancel(owner, event_id, "Die Werkstatt ist überflutet.", NOW)

    assert told == 3
    cancelled = await notices(app, event_id, NoticeKind.EVENT_CANCELLED)
    assert sorted(n.member_id for n in cancelled) == sorted(members)
    assert {n.due_at for n in cancelled} == {NOW}
    assert cancelled[0].params == {"reason": "Die Werkstatt ist überflutet."}
    reminders = await notices(app, event_id, NoticeKind.REMINDER_DAY_BEFORE)
    reminders += await notices(app, event_id, NoticeKind.REMINDER_TWO_HOURS)
    assert reminders and {n.status for n in reminders} == {WorkStatus.SKIPPED}
    async with app.db.sessions() as session:
        event = await session.get(Event, event_id)
        assert event is not None
        assert (event.status, event.cancel_reason, event.sequence) == (
            "cancelled",
            "Die Werkstatt ist überflutet.",
            1,
        )
    assert (await organiser.mine(owner, NOW))[0].cancelled

    # Twice is harmless: nobody is told again.
    assert await organiser.cancel(owner, event_id, "Nochmal", NOW) == 0
    assert len(await notices(app, event_id, NoticeKind.EVENT_CANCELLED)) == 3
    with pytest.raises(InvalidEvent):
        await organiser.change(owner, event_id, EventChange(title="Doch"), NOW)


async def test_holding_the_event_settles_the_minimum_check(app: Werkbank) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    event_id, _ = await organised_event(
        app, owner, signups=1, capacity=5, minimum=3, minimum_by=START - timedelta(days=2)
    )

    await organiser.hold(owner, event_id)
    await organiser.hold(owner, event_id)

    [check] = await notices(app, event_id, NoticeKind.MINIMUM_CHECK)
    assert check.status == WorkStatus.DONE
    async with app.db.sessions() as session:
        event = await session.get(Event, event_id)
        assert event is not None and (event.status, event.sequence) == ("published", 0)


# -- the attendee list -------------------------------------------------------------
async def test_the_attendee_list_opens_in_a_german_spreadsheet(app: Werkbank) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    event_id, _ = await organised_event(app, owner, signups=0)
    regs = Registrations(app.db)
    people = [
        ("Jürgen Müller", "Lasercutter; und Holz"),
        ('=HYPERLINK("http://x")', "erste Zeile\nzweite Zeile"),
        ("@Anna", "-1+2"),
    ]
    for name, expectation in people:
        await regs.sign_up(await add_member(app, name=name), event_id, NOW, expectation)

    data = await organiser.attendee_csv(owner, event_id)

    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "Müller" in text
    assert text.splitlines()[0] == "Name;Anmeldung;Warteliste Nr.;Erwartung;Angemeldet am"
    assert text.endswith("\r\n") and "\r\n" in text.split("\r\n", 1)[1]
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == ["Name", "Anmeldung", "Warteliste Nr.", "Erwartung", "Angemeldet am"]
    assert rows[1][:4] == ["Jürgen Müller", "angemeldet", "", "Lasercutter; und Holz"]
    assert rows[2][:4] == [
        '\'=HYPERLINK("http://x")',
        "angemeldet",
        "",
        "erste Zeile\nzweite Zeile",
    ]
    assert rows[3][:4] == ["'@Anna", "Warteliste", "1", "'-1+2"]
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", rows[1][4])
    assert len(rows) == 4


async def test_an_english_organiser_gets_the_attendee_list_in_english(app: Werkbank) -> None:
    organiser = app.services.organiser
    owner = await add_member(app, Role.ORGANISER)
    async with app.db.transaction() as session:
        member = await session.get(Member, owner)
        assert member is not None
        member.locale = "en"
    event_id, _ = await organised_event(app, owner, signups=1, capacity=1)
    nameless = await add_member(app)
    await Registrations(app.db).sign_up(nameless, event_id, NOW)

    text = (await organiser.attendee_csv(owner, event_id)).decode("utf-8-sig")

    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == ["Name", "Sign-up status", "Waiting list no.", "Expectation", "Signed up on"]
    assert rows[1][:2] == ["Teilnehmer 0", "signed up"]
    assert rows[2][:3] == [f"Member {nameless}", "waiting list", "1"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", rows[1][4])
    roster = await organiser.roster(owner, event_id)
    assert roster.attendees[1].name == f"Member {nameless}"
