"""Dates and times as an organiser types them when creating an event."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.when import When, missing_time, parse_when

BERLIN = ZoneInfo("Europe/Berlin")
# Sunday, 22 November 2026, 10:00 in Berlin.
SUNDAY = datetime(2026, 11, 22, 10, 0, tzinfo=BERLIN)
# Tuesday, 24 November 2026, 19:00: "Di 17 Uhr" is over for this week.
TUESDAY_EVENING = datetime(2026, 11, 24, 19, 0, tzinfo=BERLIN)
# Wednesday, 30 December 2026, 12:00: open dates fall into next year.
NEW_YEARS_EVE_EVE = datetime(2026, 12, 30, 12, 0, tzinfo=BERLIN)


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN)


def assert_when(got: When | None, start: datetime, end: datetime | None = None) -> None:
    assert got is not None
    assert (got.start, got.end) == (start, end)
    # Equal instants are not enough: the dialog shows the wall clock in Berlin.
    assert got.start.tzinfo is BERLIN
    assert got.start.replace(tzinfo=None) == start.replace(tzinfo=None)
    if end is not None:
        assert got.end is not None
        assert got.end.replace(tzinfo=None) == end.replace(tzinfo=None)


TUE_17 = at(2026, 11, 24, 17)
WED_17 = at(2026, 11, 25, 17)

SINGLE_TIMES_ON_SUNDAY = [
    # weekdays, German and English
    ("Di 17 Uhr", TUE_17),
    ("Di. 17 Uhr", TUE_17),
    ("di17uhr", TUE_17),
    ("DI   17   UHR", TUE_17),
    ("Dienstag 17 Uhr", TUE_17),
    ("am Dienstag um 17 Uhr", TUE_17),
    ("nächsten Dienstag 17 Uhr", TUE_17),
    ("naechsten Dienstag, 17:00", TUE_17),
    ("kommenden Di 17h", TUE_17),
    ("Tue 5pm", TUE_17),
    ("Tuesday at 5 pm", TUE_17),
    ("next Tuesday 5:30 pm", at(2026, 11, 24, 17, 30)),
    ("5 p.m. Tue", TUE_17),
    ("Mo 9 Uhr", at(2026, 11, 23, 9)),
    ("Mi 17 Uhr", WED_17),
    ("Do 17 Uhr", at(2026, 11, 26, 17)),
    ("Fr. 17 Uhr", at(2026, 11, 27, 17)),
    ("Sa 17 Uhr", at(2026, 11, 28, 17)),
    ("So 17 Uhr", at(2026, 11, 22, 17)),  # today, still ahead
    ("So 9 Uhr", at(2026, 11, 29, 9)),  # today's is over: next week
    ("nächsten Sonntag 17 Uhr", at(2026, 11, 29, 17)),  # "next" is never today
    ("Sonntag 10 Uhr", at(2026, 11, 22, 10)),  # starting right now is not the past
    ("Dienstag nächste Woche 17 Uhr", TUE_17),  # the calendar week from Monday 23rd
    ("next week Friday 17:00", at(2026, 11, 27, 17)),
    # days from today
    ("heute 18 Uhr", at(2026, 11, 22, 18)),
    ("morgen 18 Uhr", at(2026, 11, 23, 18)),
    ("Morgen um 18:00", at(2026, 11, 23, 18)),
    ("übermorgen 18 Uhr", at(2026, 11, 24, 18)),
    ("uebermorgen 18 Uhr", at(2026, 11, 24, 18)),
    ("today 6pm", at(2026, 11, 22, 18)),
    ("tomorrow 17:00", at(2026, 11, 23, 17)),
    ("18 Uhr morgen", at(2026, 11, 23, 18)),
    # dates
    ("25.11. 17:00", WED_17),
    ("25.11 17:00", WED_17),
    ("25.11.2026 17 Uhr", WED_17),
    ("25.11.26 17 Uhr", WED_17),
    ("25.11. 2026 17 Uhr", WED_17),
    ("2026-11-25 17:00", WED_17),
    ("25. November 17 Uhr", WED_17),
    ("25. Nov 17 Uhr", WED_17),
    ("25 Nov 2026 17:00", WED_17),
    ("Nov 25 5pm", WED_17),
    ("25 November 5pm", WED_17),
    ("November 25th, 2026 at 5 pm", WED_17),
    ("the 25th of November 5pm", WED_17),
    ("Mi, 25.11., 17 Uhr", WED_17),
    ("Mittwoch, den 25.11.2026, 17 Uhr", WED_17),
    ("am 25. um 17 Uhr", WED_17),  # day of this month
    ("am 5. um 17 Uhr", at(2026, 12, 5, 17)),  # the 5th is past: next month
    ("3. März 10 Uhr", at(2027, 3, 3, 10)),
    ("3. Maerz 10 Uhr", at(2027, 3, 3, 10)),
    ("1. Dez. 10 Uhr", at(2026, 12, 1, 10)),
    ("21.11. 17 Uhr", at(2027, 11, 21, 17)),  # past this year: next year
    ("22.11. 9 Uhr", at(2027, 11, 22, 9)),  # today, but the hour is over
    ("22.11. 11 Uhr", at(2026, 11, 22, 11)),
    ("29.2. 10 Uhr", at(2028, 2, 29, 10)),  # the next leap day
    # times
    ("Di 17:30", at(2026, 11, 24, 17, 30)),
    ("Di 17.30", at(2026, 11, 24, 17, 30)),
    ("Di 17.00 Uhr", TUE_17),
    ("Di 17h", TUE_17),
    ("Di 17 h", TUE_17),
    ("Di 17 Uhr 30", at(2026, 11, 24, 17, 30)),
    ("Di gegen 17 Uhr", TUE_17),
    ("Di ab 17 Uhr", TUE_17),
    ("Di um 17", TUE_17),
    ("Di 0 Uhr", at(2026, 11, 24, 0)),
    ("Di 12pm", at(2026, 11, 24, 12)),
    ("Di 12am", at(2026, 11, 24, 0)),
    ("Di 12:00 am Dienstag", None),  # two weekdays
    ("12:00 am Dienstag", at(2026, 11, 24, 12)),  # German "am", not a.m.
    ("5am Tuesday", at(2026, 11, 24, 5)),
    ("morgen abend 7 Uhr", at(2026, 11, 23, 19)),
    ("morgen 7 Uhr abends", at(2026, 11, 23, 19)),
    ("morgen 19 Uhr abends", at(2026, 11, 23, 19)),
    ("morgen früh 7 Uhr", at(2026, 11, 23, 7)),
    ("Di 12.10 18 Uhr", at(2027, 10, 12, 18)),  # "12.10" is a date while none was named
    ("25.11. 12.10", at(2026, 11, 25, 12, 10)),  # ... and a time after one
    ("17.30 25.11.", at(2026, 11, 25, 17, 30)),  # 30 is no month
    # sloppy writing
    ("  di ,  17   uhr !", TUE_17),
    ("(Di) 17 Uhr.", TUE_17),
    ("ＤＩ １７ Ｕｈｒ", TUE_17),  # full-width, as some phone keyboards send
    ("Di\u00a017\u00a0Uhr", TUE_17),
    ("NÄCHSTEN DIENSTAG 17 UHR", TUE_17),
    ("na\u0308chsten Dienstag 17 Uhr", TUE_17),  # decomposed umlaut
]


@pytest.mark.parametrize(("text", "start"), SINGLE_TIMES_ON_SUNDAY)
def test_single_times_typed_on_a_sunday(text: str, start: datetime | None) -> None:
    got = parse_when(text, SUNDAY, BERLIN)
    if start is None:
        assert got is None
    else:
        assert_when(got, start)


RANGES_ON_SUNDAY = [
    ("Di 17-20 Uhr", TUE_17, at(2026, 11, 24, 20)),
    ("Di 17 - 20 Uhr", TUE_17, at(2026, 11, 24, 20)),
    ("Di 17–20 Uhr", TUE_17, at(2026, 11, 24, 20)),
    ("Di 17—20 Uhr", TUE_17, at(2026, 11, 24, 20)),
    ("Di 17-20", TUE_17, at(2026, 11, 24, 20)),
    ("Di 17 bis 20 Uhr", TUE_17, at(2026, 11, 24, 20)),
    ("Di von 17 bis 20 Uhr", TUE_17, at(2026, 11, 24, 20)),
    ("Di 17 Uhr bis 20 Uhr", TUE_17, at(2026, 11, 24, 20)),
    ("Di 17:30-20:15", at(2026, 11, 24, 17, 30), at(2026, 11, 24, 20, 15)),
    ("25.11. 17:00-20:00", WED_17, at(2026, 11, 25, 20)),
    ("25.11. 17.00-20.00 Uhr", WED_17, at(2026, 11, 25, 20)),
    ("Tue 5-8pm", TUE_17, at(2026, 11, 24, 20)),
    ("Tue 5pm-8pm", TUE_17, at(2026, 11, 24, 20)),
    ("Tue 5pm-8", TUE_17, at(2026, 11, 24, 20)),
    ("Tue from 5 to 8 pm", TUE_17, at(2026, 11, 24, 20)),
    ("Tue 11-1pm", at(2026, 11, 24, 11), at(2026, 11, 24, 13)),
    ("Tue 11am-1pm", at(2026, 11, 24, 11), at(2026, 11, 24, 13)),
    ("Tue 11am-1", at(2026, 11, 24, 11), at(2026, 11, 24, 13)),
    ("Tue 9-11am", at(2026, 11, 24, 9), at(2026, 11, 24, 11)),
    ("morgen 7-10 Uhr abends", at(2026, 11, 23, 19), at(2026, 11, 23, 22)),
    ("morgen 17-20 Uhr abends", at(2026, 11, 23, 17), at(2026, 11, 23, 20)),
    # midnight ends the day
    ("Di 20-24 Uhr", at(2026, 11, 24, 20), at(2026, 11, 25, 0)),
    ("Di 20-0 Uhr", at(2026, 11, 24, 20), at(2026, 11, 25, 0)),
    ("Tue 8pm-12am", at(2026, 11, 24, 20), at(2026, 11, 25, 0)),
    # the range decides whether today's weekday is still ahead, by its start
    ("So 9-12 Uhr", at(2026, 11, 29, 9), at(2026, 11, 29, 12)),
]


@pytest.mark.parametrize(("text", "start", "end"), RANGES_ON_SUNDAY)
def test_time_ranges_end_on_the_same_day(text: str, start: datetime, end: datetime) -> None:
    assert_when(parse_when(text, SUNDAY, BERLIN), start, end)


@pytest.mark.parametrize(
    "text",
    [
        "Di 20-17 Uhr",  # the end before the start
        "Di 17-17 Uhr",
        "Di 22-2 Uhr",  # through the night
        "Di 17-25 Uhr",
        "Di 17-24:30",
        "Di 17 Uhr -",
        "Di bis 20 Uhr",
        "Di 17 Uhr 18 Uhr",  # two times
    ],
)
def test_ranges_that_make_no_sense_are_not_understood(text: str) -> None:
    assert parse_when(text, SUNDAY, BERLIN) is None


TUESDAY_EVENING_CASES = [
    ("Di 17 Uhr", at(2026, 12, 1, 17)),  # over for today: next week
    ("Dienstag 20 Uhr", at(2026, 11, 24, 20)),  # still ahead today
    ("Di. 17:00", at(2026, 12, 1, 17)),
    ("nächsten Dienstag 20 Uhr", at(2026, 12, 1, 20)),
    ("next Tuesday 8pm", at(2026, 12, 1, 20)),
    ("Mi 10 Uhr", at(2026, 11, 25, 10)),
    ("Mo 10 Uhr", at(2026, 11, 30, 10)),
    ("Dienstag nächste Woche 17 Uhr", at(2026, 12, 1, 17)),
    ("morgen 10 Uhr", at(2026, 11, 25, 10)),
    ("24.11. 17 Uhr", at(2027, 11, 24, 17)),
    ("24.11. 20 Uhr", at(2026, 11, 24, 20)),
    ("heute 20 Uhr", at(2026, 11, 24, 20)),
]


@pytest.mark.parametrize(("text", "start"), TUESDAY_EVENING_CASES)
def test_typed_on_a_tuesday_evening(text: str, start: datetime) -> None:
    assert_when(parse_when(text, TUESDAY_EVENING, BERLIN), start)


YEAR_END_CASES = [
    ("2.1. 10 Uhr", at(2027, 1, 2, 10)),
    ("2. Januar 10 Uhr", at(2027, 1, 2, 10)),
    ("Jan 2 10am", at(2027, 1, 2, 10)),
    ("31.12. 20 Uhr", at(2026, 12, 31, 20)),
    ("30.12. 11 Uhr", at(2027, 12, 30, 11)),
    ("morgen 20 Uhr", at(2026, 12, 31, 20)),
    ("übermorgen 10 Uhr", at(2027, 1, 1, 10)),
    ("Fr 10 Uhr", at(2027, 1, 1, 10)),
    ("am 5. um 10 Uhr", at(2027, 1, 5, 10)),
    ("nächste Woche Montag 10 Uhr", at(2027, 1, 4, 10)),
    ("2.1.2027 10 Uhr", at(2027, 1, 2, 10)),
]


@pytest.mark.parametrize(("text", "start"), YEAR_END_CASES)
def test_open_dates_at_the_end_of_the_year_fall_into_the_next(text: str, start: datetime) -> None:
    assert_when(parse_when(text, NEW_YEARS_EVE_EVE, BERLIN), start)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("1.1.2020 10 Uhr", at(2020, 1, 1, 10)),
        ("2020-01-01 10:00", at(2020, 1, 1, 10)),
        ("22.11.2026 9 Uhr", at(2026, 11, 22, 9)),
        ("heute 9 Uhr", at(2026, 11, 22, 9)),
    ],
)
def test_a_day_named_exactly_comes_back_even_in_the_past(text: str, start: datetime) -> None:
    # The caller tells "in the past" apart from "not understood".
    got = parse_when(text, SUNDAY, BERLIN)
    assert_when(got, start)
    assert got is not None and got.start < SUNDAY


@pytest.mark.parametrize(
    "text",
    [
        "Di 25.11. 17 Uhr",  # 25 November 2026 is a Wednesday
        "morgen 25.11. 17 Uhr",  # tomorrow is the 23rd
        "Mi morgen 17 Uhr",  # tomorrow is a Monday
    ],
)
def test_a_weekday_that_does_not_fit_the_date_is_not_understood(text: str) -> None:
    assert parse_when(text, SUNDAY, BERLIN) is None


def test_a_weekday_that_fits_the_day_from_today_is_fine() -> None:
    assert_when(parse_when("morgen, Montag, 17 Uhr", SUNDAY, BERLIN), at(2026, 11, 23, 17))


def test_now_in_another_zone_is_read_in_the_given_one() -> None:
    # 23:30 UTC on Sunday is already Monday 00:30 in Berlin.
    now = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert_when(parse_when("heute 10 Uhr", now, BERLIN), at(2026, 11, 23, 10))
    assert_when(parse_when("Mo 10 Uhr", now, BERLIN), at(2026, 11, 23, 10))


def test_other_zones_work_too() -> None:
    lisbon = ZoneInfo("Europe/Lisbon")
    got = parse_when("morgen 17 Uhr", SUNDAY, lisbon)
    assert got is not None
    assert got.start == datetime(2026, 11, 23, 17, tzinfo=lisbon)
    assert got.start.tzinfo is lisbon


# --- clock changes -------------------------------------------------------------


def test_a_wall_time_in_the_spring_gap_moves_forward_by_the_gap() -> None:
    # On 29 March 2026 the clocks jump from 02:00 to 03:00; 02:30 never happens.
    got = parse_when("29.3.2026 2:30 Uhr", datetime(2026, 3, 1, tzinfo=BERLIN), BERLIN)
    assert got is not None
    assert got.start.replace(tzinfo=None) == datetime(2026, 3, 29, 3, 30)
    assert got.start.utcoffset() == timedelta(hours=2)
    assert got.start == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_range_over_the_spring_change_is_two_hours_long() -> None:
    got = parse_when("29.3.2026 1-4 Uhr", datetime(2026, 3, 1, tzinfo=BERLIN), BERLIN)
    assert got is not None and got.end is not None
    assert (got.start.utcoffset(), got.end.utcoffset()) == (timedelta(hours=1), timedelta(hours=2))
    # Subtracting in one zone would count wall-clock hours (three); in UTC it is two.
    assert got.end.astimezone(UTC) - got.start.astimezone(UTC) == timedelta(hours=2)


def test_a_wall_time_that_happens_twice_in_autumn_is_the_first() -> None:
    got = parse_when("25.10.2026 2:30 Uhr", datetime(2026, 10, 1, tzinfo=BERLIN), BERLIN)
    assert got is not None
    assert got.start.utcoffset() == timedelta(hours=2)
    # A repeated wall time never equals a datetime in another zone (PEP 495),
    # so the instant is compared in UTC.
    assert got.start.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_summer_dates_carry_summer_time() -> None:
    got = parse_when("1.7. 17 Uhr", SUNDAY, BERLIN)
    assert got is not None
    assert got.start == at(2027, 7, 1, 17)
    assert got.start.utcoffset() == timedelta(hours=2)


# --- a day without a time --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Di",
        "Di.",
        "Dienstag",
        "nächsten Dienstag",
        "Tuesday",
        "So",  # today, though its hours run out
        "heute",
        "morgen",
        "morgen abend",
        "übermorgen",
        "tomorrow",
        "25.11.",
        "25.11",
        "25. November",
        "Nov 25",
        "25.11.2026",
        "1.1.2020",  # known, if past: the caller says so after asking the time
        "Mi, 25.11.",
        "am 25.",
    ],
)
def test_a_day_without_a_time_asks_for_the_time(text: str) -> None:
    assert parse_when(text, SUNDAY, BERLIN) is None
    assert missing_time(text, SUNDAY, BERLIN)


@pytest.mark.parametrize(
    "text",
    [
        "Di 17 Uhr",  # complete
        "17 Uhr",  # a time without a day
        "32.13.",
        "30.2.2027",
        "Di 25.11.",  # the weekday does not fit
        "hallo",
        "",
        "Di im Keller",
    ],
)
def test_missing_time_only_when_a_day_was_understood_and_nothing_else(text: str) -> None:
    assert not missing_time(text, SUNDAY, BERLIN)


# --- nonsense ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hallo",
        "irgendwann nächste Woche",
        "32.13.",
        "32.12. 17 Uhr",
        "31.11. 17 Uhr",
        "30.2.2027 17 Uhr",
        "25:00 Uhr",
        "Di 25:00 Uhr",
        "Di 17:60",
        "Di 24 Uhr",  # midnight only ends an event
        "Di 17pm",
        "Di 0am",
        "17 Uhr",  # no day
        "17:00-20:00",
        "Di 17",  # a bare number is no time
        "Di 17 Uhr im Keller",
        "halb 6",
        "Di halb 6",
        "25.-27.11.",
        "11/25 5pm",
        "Di Mi 17 Uhr",
        "25.11. 26.11. 17 Uhr",
        "nächsten 17 Uhr",
        "nächste Woche 17 Uhr",
        "1.1.0001 10 Uhr",
        "1.1.9999 10 Uhr",
        "2026-13-01 10:00",
        "🎉",
        "Di 17 Uhr 🎉",
        "Di 17 Uhr\x00",
        "Di ١٧ Uhr",  # Arabic-Indic digits are not read as hours
        "x" * 10_000,
        "Di 17 Uhr " * 1_000,
        "1" * 10_000,
        "-" * 10_000,
    ],
)
def test_garbage_is_not_understood(text: str) -> None:
    assert parse_when(text, SUNDAY, BERLIN) is None
    assert not missing_time(text, SUNDAY, BERLIN)


def test_random_text_never_raises() -> None:
    pieces = [
        *("Di", "di.", "Sonntag", "nächsten", "Woche", "morgen", "heute", "Nov", "März"),
        *("25.11.", "25.11", "25.", "17", "17:00", "17.00", "2026", "2026-02-30", "0", "24"),
        *("99", "32.13.", "29.2.", "1.1.0001", "uhr", "h", "am", "pm", "a.m.", "um", "von"),
        *("bis", "-", "–", ":", ".", ",", "th", "of", "abends", "ＵＨＲ", "١٧", "🎉", "\u00a0"),
    ]
    rng = random.Random(20261122)
    nows = [SUNDAY, TUESDAY_EVENING, datetime(2026, 3, 29, 1, 59, tzinfo=BERLIN)]
    for _ in range(3_000):
        sep = rng.choice([" ", "", ", "])
        text = sep.join(rng.choice(pieces) for _ in range(rng.randint(1, 7)))
        now = rng.choice(nows)
        got = parse_when(text, now, BERLIN)
        assert isinstance(missing_time(text, now, BERLIN), bool)
        if got is not None:
            assert got.start.tzinfo is BERLIN
            assert got.end is None or got.end > got.start
