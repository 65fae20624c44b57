"""Opening hours as a member sees them: open now? until when? when next?

All moments are fixed so the tests do not depend on the day they run.
March 2026: Mon 9, Tue 10, Fri 13, Sat 7 (first Saturday) and Sat 14 (second).
December 2026: Mon 21, Fri 25 (Christmas), Sat 26 (second Christmas Day).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.hours import (
    TZ,
    HoursError,
    OpenState,
    describe_state,
    describe_week,
    parse_hours,
)
from bot.i18n import Translator

BERLIN = ZoneInfo("Europe/Berlin")

WEEKDAYS = "Mo-Fr 10:00-18:00"
MONTHLY_SATURDAY = "Mo-Th 10:00-18:00; Sa[1] 10:00-14:00; PH off"
LUNCH_BREAK = "Mo-Fr 10:00-13:00,14:00-18:00; Sa 10:00-14:00"
LATE_FRIDAY = "Fr 20:00-02:00"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def plain(text: str) -> str:
    """Babel spaces English times with narrow/thin spaces; compare with plain ones."""
    return text.replace("\u202f", " ").replace("\u2009", " ")


@pytest.fixture
def en() -> Translator:
    return Translator("en")


@pytest.fixture
def de() -> Translator:
    return Translator("de")


def state(rule: str, moment: datetime) -> OpenState:
    return parse_hours(rule).state_at(moment)


# -- open now ----------------------------------------------------------------


def test_tuesday_afternoon_is_open_until_six(en: Translator) -> None:
    now = at(2026, 3, 10, 15)
    result = state(WEEKDAYS, now)
    assert result == OpenState(open=True, unknown=False, until=at(2026, 3, 10, 18), opens_at=None)
    assert result.until is not None and result.until.tzinfo == TZ
    assert plain(describe_state(result, now, en)) == "Open today until 6 PM"


def test_tuesday_afternoon_is_open_until_six_german(de: Translator) -> None:
    now = at(2026, 3, 10, 15)
    assert describe_state(state(WEEKDAYS, now), now, de) == "Heute offen bis 18 Uhr"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 10, 14, 0, tzinfo=UTC),  # the library itself rejects this tzinfo
        datetime(2026, 3, 10, 14, 0, tzinfo=ZoneInfo("UTC")),
        datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("America/New_York")),
    ],
)
def test_moments_in_other_zones_are_judged_by_berlin_time(moment: datetime) -> None:
    hours = parse_hours(WEEKDAYS)
    assert hours.is_open(moment)
    assert hours.state_at(moment).until == at(2026, 3, 10, 18)
    # 09:30 UTC is 10:30 in Berlin: open, although 09:30 alone would not be.
    assert hours.is_open(datetime(2026, 3, 10, 9, 30, tzinfo=UTC))


def test_a_naive_moment_is_refused() -> None:
    hours = parse_hours(WEEKDAYS)
    with pytest.raises(ValueError):
        hours.is_open(datetime(2026, 3, 10, 15))
    with pytest.raises(ValueError):
        hours.state_at(datetime(2026, 3, 10, 15))


# -- closed now: when next? --------------------------------------------------


def test_saturday_noon_opens_on_monday(en: Translator) -> None:
    now = at(2026, 3, 14, 12)
    result = state(WEEKDAYS, now)
    assert result == OpenState(open=False, unknown=False, until=None, opens_at=at(2026, 3, 16, 10))
    assert plain(describe_state(result, now, en)) == "Opens Mon at 10 AM"


def test_saturday_noon_opens_on_monday_german(de: Translator) -> None:
    now = at(2026, 3, 14, 12)
    assert describe_state(state(WEEKDAYS, now), now, de) == "Öffnet Mo 10 Uhr"


def test_early_morning_opens_today_and_evening_opens_tomorrow(en: Translator) -> None:
    morning, evening = at(2026, 3, 10, 8), at(2026, 3, 10, 19)
    assert state(WEEKDAYS, morning).opens_at == at(2026, 3, 10, 10)
    assert plain(describe_state(state(WEEKDAYS, morning), morning, en)) == "Opens today at 10 AM"
    assert state(WEEKDAYS, evening).opens_at == at(2026, 3, 11, 10)
    assert plain(describe_state(state(WEEKDAYS, evening), evening, en)) == "Opens tomorrow at 10 AM"


def test_early_morning_opens_today_and_evening_opens_tomorrow_german(de: Translator) -> None:
    morning, evening = at(2026, 3, 10, 8), at(2026, 3, 10, 19)
    assert describe_state(state(WEEKDAYS, morning), morning, de) == "Öffnet heute um 10 Uhr"
    assert describe_state(state(WEEKDAYS, evening), evening, de) == "Öffnet morgen um 10 Uhr"


def test_an_opening_more_than_a_week_ahead_names_the_date(en: Translator) -> None:
    now = at(2026, 3, 20, 13)
    result = state("2026 Mar 30 10:00-12:00", now)
    assert result.opens_at == at(2026, 3, 30, 10)
    assert plain(describe_state(result, now, en)) == "Opens on Mon, Mar 30 at 10 AM"


def test_an_opening_beyond_two_weeks_is_closed_for_now(en: Translator) -> None:
    now = at(2026, 3, 1, 13)
    result = state("2026 Mar 30 10:00-12:00", now)
    assert result == OpenState(open=False, unknown=False, until=None, opens_at=None)
    assert describe_state(result, now, en) == "Closed for now"


# -- first Saturday of the month, public holidays ---------------------------


def test_first_saturday_of_the_month_is_open() -> None:
    result = state(MONTHLY_SATURDAY, at(2026, 3, 7, 12))
    assert result.open
    assert result.until == at(2026, 3, 7, 14)


def test_second_saturday_of_the_month_is_closed() -> None:
    result = state(MONTHLY_SATURDAY, at(2026, 3, 14, 12))
    assert not result.open and not result.unknown
    assert result.opens_at == at(2026, 3, 16, 10)


def test_monthly_saturday_appears_only_in_the_week_that_has_it() -> None:
    hours = parse_hours(MONTHLY_SATURDAY)
    first_week = dict(hours.week(date(2026, 3, 2)))
    second_week = dict(hours.week(date(2026, 3, 9)))
    assert first_week[date(2026, 3, 7)] == [(time(10), time(14))]
    assert second_week[date(2026, 3, 14)] == []
    assert second_week[date(2026, 3, 13)] == []  # never on Fridays


def test_christmas_is_closed_although_a_friday(en: Translator) -> None:
    now = at(2026, 12, 25, 12)
    result = state(WEEKDAYS + "; PH off", now)
    assert not result.open
    # Sat 26th is a holiday too, Sunday is closed anyway.
    assert result.opens_at == at(2026, 12, 28, 10)
    assert plain(describe_state(result, now, en)) == "Opens Mon at 10 AM"
    # The holiday comes from "PH off", not from the weekday.
    assert state(WEEKDAYS, now).open


def test_week_with_christmas_names_the_holiday(en: Translator) -> None:
    lines = [
        plain(line)
        for line in describe_week(parse_hours(WEEKDAYS + "; PH off"), date(2026, 12, 21), en)
    ]
    assert lines == [
        "Mon: 10 AM – 6 PM",
        "Tue: 10 AM – 6 PM",
        "Wed: 10 AM – 6 PM",
        "Thu: 10 AM – 6 PM",
        "Fri, 12/25: public holiday, closed",
        "Sat, 12/26: public holiday, closed",
        "Sun: closed",
    ]


def test_week_with_christmas_names_the_holiday_german(de: Translator) -> None:
    lines = describe_week(parse_hours(WEEKDAYS + "; PH off"), date(2026, 12, 21), de)
    assert lines[0] == "Mo: 10–18 Uhr"
    assert lines[4] == "Fr, 25.12.: Feiertag, geschlossen"
    assert lines[6] == "So: geschlossen"


# -- always open, never open, nobody knows ----------------------------------


def test_open_around_the_clock(en: Translator) -> None:
    now = at(2026, 3, 10, 3)
    result = state("24/7", now)
    assert result == OpenState(open=True, unknown=False, until=None, opens_at=None)
    assert describe_state(result, now, en) == "Open around the clock"
    assert parse_hours("24/7").week(date(2026, 3, 9))[0] == (
        date(2026, 3, 9),
        [(time(0), time(0))],
    )
    assert describe_week(parse_hours("24/7"), date(2026, 3, 9), en)[0] == "Mon: around the clock"


def test_open_around_the_clock_german(de: Translator) -> None:
    now = at(2026, 3, 10, 3)
    assert describe_state(state("24/7", now), now, de) == "Rund um die Uhr offen"


def test_open_for_more_than_a_week_counts_as_around_the_clock() -> None:
    assert state("Mar 00:00-24:00", at(2026, 3, 10, 12)).until is None
    # ... but a closing within the week is told.
    assert state("Mar 00:00-24:00", at(2026, 3, 28, 12)).until == at(2026, 4, 1)


@pytest.mark.parametrize("rule", ["off", "closed"])
def test_closed_for_good(rule: str, en: Translator) -> None:
    now = at(2026, 3, 10, 12)
    result = state(rule, now)
    assert result == OpenState(open=False, unknown=False, until=None, opens_at=None)
    assert describe_state(result, now, en) == "Closed for now"
    assert all(spans == [] for _, spans in parse_hours(rule).week(date(2026, 3, 9)))


def test_closed_for_good_german(de: Translator) -> None:
    now = at(2026, 3, 10, 12)
    assert describe_state(state("off", now), now, de) == "Zurzeit geschlossen"


@pytest.mark.parametrize("rule", ["unknown", "", "   "])
def test_unknown_or_missing_hours(rule: str, en: Translator) -> None:
    now = at(2026, 3, 10, 12)
    hours = parse_hours(rule)
    result = hours.state_at(now)
    assert result.unknown and not result.open
    assert not hours.is_open(now)
    assert describe_state(result, now, en) == "Opening hours not known"
    assert describe_week(hours, date(2026, 3, 9), en) == ["Opening hours not known"]


def test_unknown_or_missing_hours_german(de: Translator) -> None:
    now = at(2026, 3, 10, 12)
    assert describe_state(state("", now), now, de) == "Öffnungszeiten unbekannt"


def test_a_day_marked_unknown_is_not_called_closed(en: Translator) -> None:
    lines = describe_week(parse_hours("Mo-Fr 10:00-18:00; Sa unknown"), date(2026, 3, 9), en)
    assert lines[5] == "Sat: not known"
    assert lines[6] == "Sun: closed"


# -- parsing -----------------------------------------------------------------


@pytest.mark.parametrize("rule", ["Mo-Fx 10:00-18:00", "Montag 10-18 Uhr", "Mo-Fr 10:00-"])
def test_an_invalid_rule_raises(rule: str) -> None:
    with pytest.raises(HoursError) as caught:
        parse_hours(rule)
    assert isinstance(caught.value, ValueError)
    assert caught.value.rule == rule
    # A cached failure still fails.
    with pytest.raises(HoursError):
        parse_hours(rule)


def test_each_rule_is_parsed_once() -> None:
    assert parse_hours(LUNCH_BREAK) is parse_hours(LUNCH_BREAK)
    assert parse_hours(LUNCH_BREAK) is not parse_hours(WEEKDAYS)
    assert parse_hours(WEEKDAYS).rule == WEEKDAYS


# -- past midnight -----------------------------------------------------------


def test_friday_night_runs_past_midnight(en: Translator) -> None:
    late = at(2026, 3, 13, 23)
    result = state(LATE_FRIDAY, late)
    assert result.open
    assert result.until == at(2026, 3, 14, 2)
    assert plain(describe_state(result, late, en)) == "Open until Sat 2 AM"

    after_midnight = at(2026, 3, 14, 1)
    assert plain(describe_state(state(LATE_FRIDAY, after_midnight), after_midnight, en)) == (
        "Open today until 2 AM"
    )

    saturday = at(2026, 3, 14, 3)
    assert state(LATE_FRIDAY, saturday).opens_at == at(2026, 3, 20, 20)
    assert plain(describe_state(state(LATE_FRIDAY, saturday), saturday, en)) == "Opens Fri at 8 PM"


def test_friday_night_runs_past_midnight_german(de: Translator) -> None:
    late = at(2026, 3, 13, 23)
    assert describe_state(state(LATE_FRIDAY, late), late, de) == "Offen bis Sa 2 Uhr"


def test_friday_night_belongs_to_friday_in_the_week() -> None:
    week = dict(parse_hours(LATE_FRIDAY).week(date(2026, 3, 9)))
    assert week[date(2026, 3, 13)] == [(time(20), time(2))]
    assert week[date(2026, 3, 14)] == []
    # A week starting on Saturday does not show Friday's tail either.
    assert parse_hours(LATE_FRIDAY).week(date(2026, 3, 14))[0] == (date(2026, 3, 14), [])


def test_closing_at_midnight_reads_24_uhr(en: Translator, de: Translator) -> None:
    rule = "Fr 18:00-24:00"
    now = at(2026, 3, 13, 19)
    result = state(rule, now)
    assert result.until == at(2026, 3, 14)
    assert plain(describe_state(result, now, en)) == "Open today until 12 AM"
    week = parse_hours(rule).week(date(2026, 3, 9))
    assert week[4] == (date(2026, 3, 13), [(time(18), time(0))])
    assert describe_week(parse_hours(rule), date(2026, 3, 9), de)[4] == "Fr: 18–24 Uhr"


def test_closing_at_midnight_reads_24_uhr_german(de: Translator) -> None:
    now = at(2026, 3, 13, 19)
    assert describe_state(state("Fr 18:00-24:00", now), now, de) == "Heute offen bis 24 Uhr"


def test_a_whole_weekend_is_cut_at_midnight() -> None:
    week = parse_hours("Fr 18:00-24:00; Sa,Su 00:00-24:00").week(date(2026, 3, 9))
    assert [spans for _, spans in week[4:]] == [
        [(time(18), time(0))],
        [(time(0), time(0))],
        [(time(0), time(0))],
    ]


def test_night_into_summer_time_ends_at_the_wall_clock_time() -> None:
    # Clocks go forward in the night to Sun 29 March 2026.
    result = state("Sa 22:00-05:00", at(2026, 3, 28, 23))
    assert result.until == at(2026, 3, 29, 5)
    assert result.until is not None
    assert result.until.utcoffset() == timedelta(hours=2)


# -- the week ----------------------------------------------------------------


def test_week_lists_seven_days_with_their_spans() -> None:
    week = parse_hours(LUNCH_BREAK).week(date(2026, 3, 10))
    assert [day for day, _ in week] == [date(2026, 3, d) for d in range(10, 17)]
    assert week[0][1] == [(time(10), time(13)), (time(14), time(18))]
    assert week[4][1] == [(time(10), time(14))]  # Saturday
    assert week[5][1] == []  # Sunday


def test_week_lines(en: Translator) -> None:
    lines = [plain(line) for line in describe_week(parse_hours(LUNCH_BREAK), date(2026, 3, 9), en)]
    assert lines[1] == "Tue: 10 AM – 1 PM, 2 – 6 PM"
    assert lines[5] == "Sat: 10 AM – 2 PM"
    assert lines[6] == "Sun: closed"


def test_week_lines_german(de: Translator) -> None:
    lines = describe_week(parse_hours(LUNCH_BREAK), date(2026, 3, 9), de)
    assert lines[0] == "Mo: 10–13, 14–18 Uhr"
    assert lines[1] == "Di: 10–13, 14–18 Uhr"
    assert lines[5] == "Sa: 10–14 Uhr"
    assert lines[6] == "So: geschlossen"


def test_week_lines_with_minutes_show_them_everywhere_german(de: Translator) -> None:
    lines = describe_week(parse_hours("Mo 10:00-13:00,14:30-18:00"), date(2026, 3, 9), de)
    assert lines[0] == "Mo: 10:00–13:00, 14:30–18:00 Uhr"


# -- cost --------------------------------------------------------------------
