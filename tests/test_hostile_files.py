"""Hostile and oversized files (issue 16): an import is bounded in bytes, occurrences
and time; what it stores is cleaned and fits the dialog's limits; errors echo nothing
that steers the terminal; the files the bot writes are its user's alone."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from icalendar import Calendar
from sqlalchemy import select

from bot.app import Werkbank
from bot.control_characters import for_terminal, without_control_characters
from bot.dialogs import event_fields
from bot.handlers import console
from bot.messages import Attachment
from bot.services import contracts
from bot.services.calendar import (
    MAX_EVENTS,
    MAX_ICS_BYTES,
    MAX_OCCURRENCES,
    RECURRING_HORIZON,
    import_ics,
)
from bot.storage.models import Event
from tests.support.clock import NOW

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail instead of hanging: SIGALRM interrupts even a loop that never awaits."""

    def expired(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def ics(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\n{event.strip()}\nEND:VEVENT\n" for event in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Test//DE\n{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode("utf-8")


async def imported(app: Werkbank, marker: str) -> dict[str, Event]:
    async with app.db.sessions() as session:
        rows = await session.scalars(select(Event).where(Event.uid.like(f"%{marker}%")))
        return {event.uid: event for event in rows}


# -- 1. series are expanded from now, bounded ---------------------------------------

EVERY_SECOND = """
UID:sekunde@hostile.example
SUMMARY:Jede Sekunde
DTSTART:19900101T000000Z
RRULE:FREQ=SECONDLY
"""
WEEKLY_SINCE_1970 = """
UID:stammtisch@hostile.example
SUMMARY:Stammtisch
DTSTART;TZID=Europe/Berlin:19700106T180000
DTEND;TZID=Europe/Berlin:19700106T200000
RRULE:FREQ=WEEKLY
"""


async def test_a_series_every_second_since_1990_is_left_out_at_once_and_said(
    app: Werkbank,
) -> None:
    started = time.monotonic()
    with within(20):
        result = await import_ics(app.db, ics(EVERY_SECOND, WEEKLY_SINCE_1970), None, None, NOW)
    assert time.monotonic() - started < 10
    events = await imported(app, "@hostile.example")
    # The weekly one since 1970 still brings its eight Tuesdays from now.
    assert len(events) == 8 and all(uid.startswith("stammtisch@") for uid in events)
    assert result.created == 8
    [line] = [c for c in result.cut if "Jede Sekunde" in c]
    assert "left out" in line


async def test_an_hourly_series_is_cut_at_its_cap_and_the_cut_is_named(app: Werkbank) -> None:
    hourly = (
        "UID:stunde@hostile.example\nSUMMARY:Stündlich\nDTSTART:19700101T003000Z\nRRULE:FREQ=HOURLY"
    )
    with within(20):
        result = await import_ics(app.db, ics(hourly), None, None, NOW)
    assert any("Stündlich" in c and str(MAX_OCCURRENCES) in c for c in result.cut)
    # Occurrences are one a day (their UID has the date): MAX_OCCURRENCES hours span 9 days.
    assert result.created == len(await imported(app, "stunde@")) <= MAX_OCCURRENCES


@pytest.mark.parametrize(
    "rule",
    [
        "DTSTART;TZID=Europe/Berlin:19700106T180000\nRRULE:FREQ=WEEKLY;BYDAY=TU,TH",
        "DTSTART;TZID=Europe/Berlin:19700106T180000\nRRULE:FREQ=WEEKLY;INTERVAL=3",
        "DTSTART:19000131T100000Z\nRRULE:FREQ=MONTHLY",
        "DTSTART;TZID=Europe/Berlin:19900115T190000\nRRULE:FREQ=MONTHLY;BYDAY=-1FR",
        "DTSTART;TZID=Europe/Berlin:19900115T190000\nRRULE:FREQ=MONTHLY;BYDAY=2MO;COUNT=500",
        "DTSTART:19001210T100000Z\nRRULE:FREQ=YEARLY",
        "DTSTART:19700101T003000Z\nRRULE:FREQ=HOURLY;INTERVAL=7",
        "DTSTART;TZID=Europe/Berlin:20200106T180000\nRRULE:FREQ=DAILY;INTERVAL=3;COUNT=2500",
        "DTSTART:20100101T090000\nRRULE:FREQ=DAILY;INTERVAL=2",
        "DTSTART:20261101T000000Z\nRRULE:FREQ=MINUTELY;BYHOUR=9;BYMINUTE=0",
    ],
)
def test_a_series_moved_up_to_now_has_the_same_occurrences_as_from_its_start(rule: str) -> None:
    """Moving the first date up changes nothing that is imported (checked against the
    library walking the whole rule, which is slow but right)."""
    from bot.services.calendar import _Cuts, _read

    data = ics(f"UID:serie@hostile.example\nSUMMARY:Serie\n{rule}")
    zone = ZoneInfo("Europe/Berlin")
    with within(60):
        incoming, _ = _read(data, NOW, zone, _Cuts())
    calendar = Calendar.from_ical(data.decode())
    expected = sorted(
        start
        for occurrence in recurring_ical_events.of(calendar).between(NOW, NOW + RECURRING_HORIZON)
        if (start := _aware(occurrence.decoded("DTSTART"), zone)) >= NOW
    )
    by_day: dict[object, datetime] = {}
    for start in expected:  # one per day, the last (as the import's UIDs have the date)
        by_day[start.date()] = start
    assert sorted(item.start for item in incoming.values()) == sorted(
        start.astimezone(UTC) for start in by_day.values()
    )
    assert incoming  # each of these rules has occurrences in the next eight weeks


def _aware(value: datetime, zone: ZoneInfo) -> datetime:
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


async def test_the_whole_file_is_cut_at_max_events_not_refused(app: Werkbank) -> None:
    start = NOW + timedelta(days=1)
    many = [
        f"UID:viele-{i}@hostile.example\nSUMMARY:Termin {i}\n"
        f"DTSTART:{(start + timedelta(minutes=i)).strftime('%Y%m%dT%H%M%SZ')}"
        for i in range(MAX_EVENTS + 5)
    ]
    result = await import_ics(app.db, ics(*many), None, None, NOW)
    assert result.created == MAX_EVENTS
    assert any(str(MAX_EVENTS) in c for c in result.cut)


# -- 11. one set of limits; 6. no control characters --------------------------------


def test_the_dialog_and_the_import_share_one_set_of_limits() -> None:
    assert event_fields.MAX_TITLE == contracts.MAX_EVENT_TITLE
    assert event_fields.MAX_DESCRIPTION == contracts.MAX_EVENT_DESCRIPTION


async def test_a_long_title_and_description_are_cut_to_the_dialogs_limits_and_said(
    app: Werkbank,
) -> None:
    day = (NOW + timedelta(days=3)).strftime("%Y%m%dT%H%M%SZ")
    title = "Offene Werkstatt " + "sehr " * 40  # 217 characters
    text = "Ein Absatz. " * 1000
    folded = "\n ".join(text[i : i + 60] for i in range(0, len(text), 60))
    data = ics(f"UID:lang@hostile.example\nSUMMARY:{title}\nDESCRIPTION:{folded}\nDTSTART:{day}")
    result = await import_ics(app.db, data, None, None, NOW)
    [event] = (await imported(app, "lang@")).values()
    assert len(event.title) <= contracts.MAX_EVENT_TITLE and event.title.endswith("…")
    assert event.description is not None
    assert len(event.description) <= contracts.MAX_EVENT_DESCRIPTION
    assert any("titles shortened" in c for c in result.cut)
    assert any("descriptions shortened" in c for c in result.cut)


async def test_nul_and_escapes_in_a_file_are_dropped_and_paragraphs_stay(app: Werkbank) -> None:
    day = (NOW + timedelta(days=3)).strftime("%Y%m%dT%H%M%SZ")
    raw = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\n"
        "UID:nul\x00@hostile.example\r\n"
        "SUMMARY:Löten\x00 lernen\x1b[31m rot\x07\r\n"
        "DESCRIPTION:Erster Absatz.\\n\\nZweiter\x00 Absatz\twie gehabt.\x1b]0;Titel\x07\r\n"
        f"DTSTART:{day}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    result = await import_ics(app.db, raw, None, None, NOW)  # PostgreSQL took no NUL
    assert result.created == 1
    [(uid, event)] = (await imported(app, "@hostile.example")).items()
    assert uid == "nul@hostile.example"
    assert event.title == "Löten lernen rot"
    assert event.description == "Erster Absatz.\n\nZweiter Absatz\twie gehabt."


# -- 10. what reaches the terminal ---------------------------------------------------


def test_escapes_are_shown_as_codes_and_never_sent_to_the_terminal() -> None:
    hostile = "Kalender\x1b]0;gehackt\x07\x1b[2J\x1b[31mrot\x00\r\n\u202eevil\x9b1m"
    shown = for_terminal(hostile)
    assert all(ord(c) >= 0x20 and not 0x7F <= ord(c) < 0xA0 for c in shown)
    assert "\u202e" not in shown and "\n" not in shown
    assert shown.startswith("Kalender") and "rot" in shown and "\\x00" in shown
    assert without_control_characters("a\x00b\r\nc\td\x1b[1m") == "ab\nc\td"


def run_werkbank(
    args: list[str], tmp_path: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`werkbank …` in its own process, its memory capped at 1.5 GB: a runaway read
    fails the test instead of the machine."""

    def cap() -> None:
        import resource

        limit = 1536 * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {
        **os.environ,
        "WERKBANK_DATABASE_URL": f"sqlite:///{tmp_path / 'werkbank.db'}",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=cap,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("werkbank: "), result.stderr
    return lines[0]


def test_an_unreadable_calendar_echoes_no_escape_into_the_error_line(tmp_path: Path) -> None:
    hostile = tmp_path / "kaputt.ics"
    hostile.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:x\r\n"
        b"SUMMARY:\x1b]0;gehackt\x07\x1b[2JFilzen\x1b[5m\r\n"
        b"DTSTART:morgen um acht\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    line = one_error_line(run_werkbank(["import", "ics", str(hostile)], tmp_path))
    assert "\x1b" not in line and "\x07" not in line
    assert "Filzen" in line and "DTSTART" in line


# -- 2. bounded reading --------------------------------------------------------------


def test_a_device_a_pipe_and_a_huge_file_are_refused_in_one_line_at_once(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "endlos.ics"
    os.mkfifo(fifo)  # nobody writes: a plain open() would wait for ever
    sparse = tmp_path / "riesig.ics"
    with sparse.open("wb") as handle:
        handle.truncate(8 * 1024**3)  # 8 GB that take no disk
    over = tmp_path / "knapp-zu-gross.ics"
    over.write_bytes(b"X" * (MAX_ICS_BYTES + 1))
    for path, says in (
        ("/dev/zero", "not a regular file"),
        ("/dev/urandom", "not a regular file"),
        (str(fifo), "not a regular file"),
        (str(tmp_path), "not a regular file"),
        (str(sparse), "larger than 5 MB"),
        (str(over), "larger than 5 MB"),
    ):
        started = time.monotonic()
        line = one_error_line(run_werkbank(["import", "ics", path], tmp_path, timeout=60))
        assert says in line, line
        assert time.monotonic() - started < 30, path


# -- 9. private files ----------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_sqlite_database_its_folder_and_wal_files_are_private(tmp_path: Path) -> None:
    from bot.config import Settings

    folder = tmp_path / "daten"
    old = os.umask(0o022)  # the common default, whatever the test runner has
    try:
        app = await Werkbank.open(Settings(database_url=f"sqlite:///{folder / 'werkbank.db'}"))
        try:
            await app.places.has_places()
            files = sorted(p.name for p in folder.iterdir())
            assert _mode(folder) == 0o700
            for name in files:
                assert _mode(folder / name) == 0o600, name
            assert "werkbank.db-wal" in files
        finally:
            await app.close()
    finally:
        os.umask(old)


async def test_a_database_an_older_version_left_world_readable_is_made_private(
    tmp_path: Path,
) -> None:
    from bot.config import Settings

    url = f"sqlite:///{tmp_path / 'werkbank.db'}"
    app = await Werkbank.open(Settings(database_url=url))
    await app.close()
    (tmp_path / "werkbank.db").chmod(0o644)  # as versions before 7 Dec made it
    app = await Werkbank.open(Settings(database_url=url))
    try:
        assert _mode(tmp_path / "werkbank.db") == 0o640  # others lose it, the group stays
    finally:
        await app.close()


def test_the_console_saves_files_privately_under_new_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console.tempfile, "tempdir", str(tmp_path))
    # Another user's trap where the old fixed path was: a link to a file of ours.
    victim = tmp_path / "victim.txt"
    victim.write_text("unverändert")
    (tmp_path / "werkbank-files").mkdir()
    (tmp_path / "werkbank-files" / "workshop.ics").symlink_to(victim)

    attachment = Attachment("workshop.ics", "text/calendar", b"BEGIN:VCALENDAR")
    first, second = Path(console._save(attachment)), Path(console._save(attachment))
    assert first != second and first.suffix == ".ics" and first.name.startswith("workshop")
    assert first.read_bytes() == b"BEGIN:VCALENDAR"
    assert _mode(first) == 0o600 and _mode(first.parent) == 0o700
    assert first.parent.stat().st_uid == os.getuid()
    assert victim.read_text() == "unverändert"


def test_the_console_will_not_use_a_folder_others_can_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console.tempfile, "tempdir", str(tmp_path))
    planted = tmp_path / f"werkbank-{os.getuid()}"
    planted.mkdir()
    planted.chmod(0o777)
    saved = Path(console._save(Attachment("liste.csv", "text/csv", b"a;b")))
    assert saved.parent != planted and _mode(saved.parent) == 0o700


def test_the_impact_report_is_not_written_through_a_planted_link(tmp_path: Path) -> None:
    from bot.cli import _write_private

    victim = tmp_path / "victim.txt"
    victim.write_text("unverändert")
    out = tmp_path / "impact.csv"
    out.symlink_to(victim)
    with pytest.raises(OSError):
        _write_private(out, b"secret")
    assert victim.read_text() == "unverändert"
    fresh = tmp_path / "neu.csv"
    _write_private(fresh, b"a;b")
    assert _mode(fresh) == 0o600
