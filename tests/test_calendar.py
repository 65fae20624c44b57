"""Calendar files: an event as .ics for a member's calendar, and .ics files imported as events."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from bot.app import Werkbank
from bot.cli import main
from bot.codes import Channel, EventFormat, EventStatus, Role
from bot.services.calendar import (
    CalendarError,
    CalendarEvent,
    ImportResult,
    calendar_event,
    event_ics,
    import_ics,
)
from bot.services.database import Database
from bot.storage.models import ChannelAccount, Event, Member, Place, lat_band
from tests.support.clock import BERLIN, NOW
from tests.support.factories import add_event


async def add_place(app: Werkbank, name: str = "Drechslerei Größenbühl") -> int:
    async with app.db.transaction() as session:
        place = Place(
            name=name,
            street="Mühlenstraße 5",
            postcode="56170",
            town="Bendorf",
            lat=50.4294,
            lon=7.5702,
            lat_band=lat_band(50.4294),
            approximate=False,
            website="https://drechslerei.example",
        )
        session.add(place)
        await session.flush()
        return place.id


async def add_ics_event(app: Werkbank, place_id: int | None, **values: Any) -> int:
    """The turning workshop these tests export: no end, sequence 4, a named organiser."""
    return await add_event(
        app,
        "Schalen drechseln für Anfänger",
        capacity=None,
        fmt=EventFormat.OPEN_WORKSHOP,
        start=datetime(2026, 12, 3, 17, 0, tzinfo=BERLIN),
        place=place_id,
        duration=None,
        uid="werkbank-ics-test@werkbank",
        organiser="Jürgen Weiß",
        description="Wir drehen Schalen aus Ahorn. Bring Schutzbrille und Neugier mit.",
        sequence=4,
        **values,
    )


def only_event(data: bytes) -> tuple[Calendar, Any]:
    calendar = Calendar.from_ical(data)
    (vevent,) = calendar.walk("VEVENT")
    return calendar, vevent


# -- export ------------------------------------------------------------------------


async def test_the_calendar_file_has_uid_sequence_reminder_and_the_place_with_umlauts(
    app: Werkbank,
) -> None:
    event_id = await add_ics_event(app, await add_place(app))
    event = await calendar_event(app.db, event_id)
    assert event is not None
    data = event_ics(event, "Europe/Berlin")

    text = data.decode("utf-8")
    assert "LOCATION:Drechslerei Größenbühl\\, Mühlenstraße 5\\, 56170 Bendorf" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))  # folded
    calendar = Calendar.from_ical(data)
    assert str(calendar["METHOD"]) == "PUBLISH" and str(calendar["VERSION"]) == "2.0"
    assert "PRODID" in calendar
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == "werkbank-ics-test@werkbank"
    assert vevent.decoded("SEQUENCE") == 4
    assert "DTSTAMP" in vevent
    start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
    assert start == datetime(2026, 12, 3, 17, 0, tzinfo=BERLIN)
    assert str(start.tzinfo) == "Europe/Berlin"
    assert end - start == timedelta(hours=2)  # no end stored: two hours
    assert str(vevent["SUMMARY"]) == "Schalen drechseln für Anfänger"
    assert "Veranstaltet von: Jürgen Weiß" in str(vevent["DESCRIPTION"])
    assert "GEO:50.4294;7.5702" in text
    assert str(vevent["URL"]) == "https://drechslerei.example"
    (alarm,) = vevent.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == timedelta(hours=-1)
    assert str(alarm["DESCRIPTION"]) == "Erinnerung: Schalen drechseln für Anfänger"


async def test_a_cancelled_event_is_sent_as_a_cancellation_without_reminder(
    app: Werkbank,
) -> None:
    event_id = await add_ics_event(
        app, None, status=EventStatus.CANCELLED, cancel_reason="Der Drechsler ist krank."
    )
    event = await calendar_event(app.db, event_id)
    assert event is not None and event.cancelled and event.location is None
    calendar, vevent = only_event(event_ics(event))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert str(vevent["SUMMARY"]).startswith("Abgesagt: ")
    assert "Der Drechsler ist krank." in str(vevent["DESCRIPTION"])
    assert vevent.walk("VALARM") == []


def test_the_files_own_words_are_in_the_members_language() -> None:
    event = CalendarEvent(
        uid="bowls@werkbank",
        title="Turning bowls",
        description="Bring safety glasses.",
        start=datetime(2026, 12, 3, 17, 0, tzinfo=BERLIN),
        end=None,
        location=None,
        organiser="Jürgen Weiß",
    )
    _, vevent = only_event(event_ics(event, locale="en"))
    assert "Organised by: Jürgen Weiß" in str(vevent["DESCRIPTION"])
    [alarm] = vevent.walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == "Reminder: Turning bowls"

    off = replace(event, cancelled=True, cancel_reason="The turner is ill.")
    _, vevent = only_event(event_ics(off, locale="en"))
    assert str(vevent["SUMMARY"]) == "Cancelled: Turning bowls"
    assert str(vevent["DESCRIPTION"]).startswith("Cancelled: The turner is ill.")
    _, vevent = only_event(event_ics(off))  # German unless asked otherwise
    assert str(vevent["SUMMARY"]) == "Abgesagt: Turning bowls"


async def test_an_approximate_place_gives_no_geo_and_an_unknown_event_no_file(
    app: Werkbank,
) -> None:
    async with app.db.sessions() as session:
        demo = await session.scalar(
            select(Event.id).join(Place, Place.id == Event.place_id).where(Place.approximate)
        )
    assert demo is not None
    event = await calendar_event(app.db, demo)
    assert event is not None and event.location and event.lat is None
    assert b"GEO:" not in event_ics(event)
    assert await calendar_event(app.db, 987654) is None


def test_an_event_in_utc_and_with_an_end_keeps_its_times() -> None:
    start = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    event = CalendarEvent(
        uid="u@x",
        title="Löten",
        description=None,
        start=start,
        end=start + timedelta(hours=3),
        location=None,
    )
    _, vevent = only_event(event_ics(event, "UTC", stamp=start))
    assert vevent.decoded("DTSTART") == start
    assert vevent.decoded("DTEND") == start + timedelta(hours=3)
    assert vevent.decoded("DTSTAMP") == start


# -- import ------------------------------------------------------------------------


def ics(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\n{event.strip()}\nEND:VEVENT\n" for event in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Test//DE\n{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode("utf-8")


DRECHSELN = """
UID:drechseln-2026@kalender.example
SUMMARY:Drechseln für Anfänger – Schüsseln aus Eiche
DESCRIPTION:Einführung an der Drechselbank.
DTSTART;TZID=Europe/Berlin:20261203T170000
DTEND;TZID=Europe/Berlin:20261203T200000
"""
# Tuesdays 18:00 from 3 November; NOW is Tuesday 24 November, 15:00.
STAMMTISCH = """
UID:stammtisch@kalender.example
SUMMARY:Stammtisch Handwerk und Design
DTSTART;TZID=Europe/Berlin:20261103T180000
DTEND;TZID=Europe/Berlin:20261103T200000
RRULE:FREQ=WEEKLY
"""
ALL_DAY = """
UID:markt@kalender.example
SUMMARY:Kunsthandwerkermarkt
DTSTART;VALUE=DATE:20261205
DTEND;VALUE=DATE:20261206
"""
CANCELLED = """
UID:abgesagt@kalender.example
SUMMARY:Löten lernen
STATUS:CANCELLED
DTSTART;TZID=Europe/Berlin:20261210T180000
"""
PAST = """
UID:vorbei@kalender.example
SUMMARY:Filzen
DTSTART:20261101T090000Z
"""
FILE = ics(DRECHSELN, STAMMTISCH, ALL_DAY, CANCELLED, PAST)
TUESDAYS = [
    "2026-11-24",
    "2026-12-01",
    "2026-12-08",
    "2026-12-15",
    "2026-12-22",
    "2026-12-29",
    "2027-01-05",
    "2027-01-12",
]


async def stored(db: Database) -> dict[str, Event]:
    async with db.sessions() as session:
        rows = await session.scalars(select(Event).where(Event.uid.like("%kalender.example%")))
        return {event.uid: event for event in rows}


async def test_an_import_creates_events_and_eight_weeks_of_a_weekly_one(app: Werkbank) -> None:
    place_id = await add_place(app)

    result = await import_ics(app.db, FILE, place_id, None, NOW)

    # All day, cancelled before anyone knew it, and past are skipped.
    assert result == ImportResult(created=1 + 8, updated=0, skipped=3)
    events = await stored(app.db)
    assert sorted(events) == sorted(
        ["drechseln-2026@kalender.example"] + [f"stammtisch@kalender.example/{d}" for d in TUESDAYS]
    )
    drechseln = events["drechseln-2026@kalender.example"]
    assert drechseln.title == "Drechseln für Anfänger – Schüsseln aus Eiche"
    assert drechseln.start_at == datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
    assert drechseln.end_at == datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    assert drechseln.format == EventFormat.OTHER
    assert drechseln.place_id == place_id and drechseln.status == EventStatus.PUBLISHED
    first = events["stammtisch@kalender.example/2026-11-24"]
    assert first.format == EventFormat.NETWORKING  # "Stammtisch" says so
    assert first.start_at == datetime(2026, 11, 24, 18, 0, tzinfo=BERLIN)
    # Winter time all along; the wall-clock time stays 18:00.
    assert all(e.start_at.astimezone(BERLIN).hour == 18 for e in events.values() if "/" in e.uid)


async def test_a_reimport_updates_by_uid_and_raises_the_sequence_only_on_a_change(
    app: Werkbank,
) -> None:
    await import_ics(app.db, FILE, None, None, NOW)
    before = await stored(app.db)

    again = await import_ics(app.db, FILE, None, None, NOW)

    assert again == ImportResult(created=0, updated=0, skipped=3, unchanged=9)
    after = await stored(app.db)
    assert {uid: e.sequence for uid, e in after.items()} == {
        uid: e.sequence for uid, e in before.items()
    }
    moved = DRECHSELN.replace("T170000", "T180000").replace("Eiche", "Buche")
    changed = await import_ics(app.db, ics(moved, STAMMTISCH), None, None, NOW)
    assert changed == ImportResult(created=0, updated=1, skipped=0, unchanged=8)
    drechseln = (await stored(app.db))["drechseln-2026@kalender.example"]
    assert drechseln.title.endswith("Buche") and drechseln.sequence == 1
    assert drechseln.start_at == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    async with app.db.sessions() as session:  # never a duplicate
        assert await session.scalar(select(func.count()).select_from(Event)) == len(
            await _all_uids(app.db)
        )
        assert (
            await session.scalar(select(func.count()).where(Event.uid.like("drechseln-2026%"))) == 1
        )


async def _all_uids(db: Database) -> set[str]:
    async with db.sessions() as session:
        return set(await session.scalars(select(Event.uid)))


async def test_a_cancellation_in_the_file_cancels_the_known_event_for_good(
    app: Werkbank,
) -> None:
    await import_ics(app.db, ics(DRECHSELN), None, None, NOW)
    cancelled = DRECHSELN + "STATUS:CANCELLED\nSEQUENCE:3"
    result = await import_ics(app.db, ics(cancelled), None, None, NOW)
    assert result.updated == 1
    event = (await stored(app.db))["drechseln-2026@kalender.example"]
    # The file's own SEQUENCE is higher than ours: calendars must still see news.
    assert event.status == EventStatus.CANCELLED and event.sequence == 3
    # An old file without the cancellation does not bring it back.
    assert (await import_ics(app.db, ics(DRECHSELN), None, None, NOW)).unchanged == 1
    assert (await stored(app.db))["drechseln-2026@kalender.example"].status == "cancelled"


async def test_a_moved_occurrence_and_an_exception_keep_their_planned_dates(
    app: Werkbank,
) -> None:
    moved = """
UID:stammtisch@kalender.example
RECURRENCE-ID;TZID=Europe/Berlin:20261201T180000
SUMMARY:Stammtisch (am Mittwoch)
DTSTART;TZID=Europe/Berlin:20261202T190000
DTEND;TZID=Europe/Berlin:20261202T210000
"""
    series = STAMMTISCH + "EXDATE;TZID=Europe/Berlin:20261208T180000"
    result = await import_ics(app.db, ics(series, moved), None, None, NOW)
    assert result.created == 7
    events = await stored(app.db)
    assert "stammtisch@kalender.example/2026-12-08" not in events
    wednesday = events["stammtisch@kalender.example/2026-12-01"]
    assert wednesday.title == "Stammtisch (am Mittwoch)"
    assert wednesday.start_at == datetime(2026, 12, 2, 19, 0, tzinfo=BERLIN)


async def test_a_week_later_the_next_occurrence_joins(app: Werkbank) -> None:
    await import_ics(app.db, ics(STAMMTISCH), None, None, NOW)
    result = await import_ics(app.db, ics(STAMMTISCH), None, None, NOW + timedelta(days=7))
    assert (result.created, result.unchanged) == (1, 7)
    assert "stammtisch@kalender.example/2027-01-19" in await stored(app.db)


async def test_events_without_uid_get_a_stable_one_and_floating_times_are_local(
    app: Werkbank,
) -> None:
    no_uid = """
SUMMARY:Offene Werkstatt: Reparieren statt wegwerfen
DTSTART:20261205T100000
DURATION:PT4H
"""
    first = await import_ics(app.db, ics(no_uid), None, None, NOW)
    second = await import_ics(app.db, ics(no_uid), None, None, NOW)
    assert (first.created, second.created, second.unchanged) == (1, 0, 1)
    async with app.db.sessions() as session:
        event = await session.scalar(select(Event).where(Event.uid.like("import-%")))
    assert event is not None and event.format == EventFormat.OPEN_WORKSHOP
    assert event.start_at == datetime(2026, 12, 5, 10, 0, tzinfo=BERLIN)
    assert event.end_at == datetime(2026, 12, 5, 14, 0, tzinfo=BERLIN)


async def test_a_file_from_an_old_windows_program_keeps_its_umlauts(app: Werkbank) -> None:
    cp1252 = ics(DRECHSELN).decode("utf-8").encode("cp1252")
    assert (await import_ics(app.db, cp1252, None, None, NOW)).created == 1
    title = (await stored(app.db))["drechseln-2026@kalender.example"].title
    assert title == "Drechseln für Anfänger – Schüsseln aus Eiche"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"Hallo Welt, das ist kein Kalender.",
        b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n",
        ics(DRECHSELN, STAMMTISCH)[:-60],
        ics(DRECHSELN, "UID:kaputt\nSUMMARY:Kaputt\nDTSTART:morgen um acht"),
        ics(DRECHSELN, STAMMTISCH.replace("FREQ=WEEKLY", "FREQ=SOMETIMES")),
    ],
    ids=["empty", "text", "no-vcalendar", "cut-off", "bad-dtstart", "bad-rrule"],
)
async def test_a_malformed_file_is_one_short_error_and_changes_nothing(
    app: Werkbank, data: bytes
) -> None:
    before = await _all_uids(app.db)
    with pytest.raises(CalendarError) as error:
        await import_ics(app.db, data, None, None, NOW)
    assert "\n" not in str(error.value) and len(str(error.value)) < 140
    assert await _all_uids(app.db) == before


async def test_an_unknown_place_is_refused(app: Werkbank) -> None:
    with pytest.raises(CalendarError, match="no place 4711"):
        await import_ics(app.db, FILE, 4711, None, NOW)


# -- werkbank import ics -------------------------------------------------------------


def now_plus(days: int, hour: int) -> str:
    """A local time `days` from the real now, as the CLI uses the real clock."""
    day = datetime.now(BERLIN).date() + timedelta(days=days)
    return f"{day:%Y%m%d}T{hour:02d}0000"


async def _seed_organiser(url: str) -> None:
    db = await Database.open(url)
    try:
        async with db.transaction() as session:
            member = Member(display_name="Orga", consents={}, role=Role.ORGANISER)
            session.add(member)
            await session.flush()
            session.add(
                ChannelAccount(channel=Channel.TELEGRAM, external_id="123", member_id=member.id)
            )
    finally:
        await db.close()


async def _events(url: str) -> list[tuple[str, int | None, int | None]]:
    db = await Database.open(url, migrate=False)
    try:
        async with db.sessions() as session:
            rows = await session.execute(
                select(Event.title, Event.place_id, Event.organiser_id).where(
                    Event.uid.like("%@cli.example")
                )
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]
    finally:
        await db.close()


def test_the_import_command_prints_one_line_and_exits_2_on_a_broken_file(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the repository
    monkeypatch.setenv("WERKBANK_DATABASE_URL", database_url)
    assert main(["db", "upgrade"]) == 0
    asyncio.run(_seed_organiser(database_url))
    assert main(["demo-data"]) == 0
    capsys.readouterr()
    good = tmp_path / "termine.ics"
    good.write_bytes(
        ics(
            f"UID:werkstatt@cli.example\nSUMMARY:Offene Werkstatt Größe M\n"
            f"DTSTART;TZID=Europe/Berlin:{now_plus(3, 17)}",
            f"UID:markt@cli.example\nSUMMARY:Markt\nDTSTART;VALUE=DATE:{now_plus(4, 0)[:8]}",
        )
    )
    args = ["import", "ics", str(good), "--place", "Zukunftslabor", "--organiser", "telegram:123"]

    assert main(args) == 0
    assert capsys.readouterr().out == "events imported: 1 new, 0 updated, 0 unchanged, 1 skipped\n"
    assert main(args) == 0
    assert "0 new, 0 updated, 1 unchanged, 1 skipped" in capsys.readouterr().out
    [(title, place_id, organiser_id)] = asyncio.run(_events(database_url))
    assert title == "Offene Werkstatt Größe M" and place_id and organiser_id

    broken = tmp_path / "kaputt.ics"
    broken.write_bytes(b"\x00\x01 kein Kalender")
    for bad in (
        ["import", "ics", str(broken)],
        ["import", "ics", str(tmp_path / "fehlt.ics")],
        ["import", "ics", str(good), "--place", "Nirgendwo"],
        ["import", "ics", str(good), "--organiser", "telegram:999"],
    ):
        assert main(bad) == 2, bad
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and err.startswith("werkbank: "), err
        assert "Traceback" not in err
