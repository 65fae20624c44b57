"""When check-ins come: 10:00 local time in winter and in summer, the weeks check-in per
format (a setting), nothing in the quiet hours from 21:00 to 8:00 local time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.app import checkin_times
from bot.codes import EventFormat, NoticeKind
from bot.config import Settings, SettingsError, load_settings
from bot.services.checkin_times import CheckinTimes
from bot.storage.models import Event

BERLIN = ZoneInfo("Europe/Berlin")


def event(fmt: EventFormat, start: datetime) -> Event:
    return Event(format=fmt, start_at=start, end_at=start.replace(hour=start.hour + 3))


def test_the_morning_after_is_ten_oclock_local_in_winter_and_summer() -> None:
    times = CheckinTimes(BERLIN)
    winter = event(EventFormat.TRANSFER, datetime(2026, 11, 26, 16, 0, tzinfo=UTC))
    summer = event(EventFormat.TRANSFER, datetime(2026, 6, 25, 15, 0, tzinfo=UTC))
    assert times.due(NoticeKind.CHECKIN_NEXT_DAY, winter) == datetime(2026, 11, 27, 9, tzinfo=UTC)
    assert times.due(NoticeKind.CHECKIN_NEXT_DAY, summer) == datetime(2026, 6, 26, 8, tzinfo=UTC)
    # The reminder of an unanswered one: three days on, same hour.
    again = times.due(NoticeKind.CHECKIN_DAY_AGAIN, winter)
    assert again == datetime(2026, 11, 30, 9, tzinfo=UTC)
    # An event ending after midnight UTC but on the same local evening: still "tomorrow".
    late = event(EventFormat.TRANSFER, datetime(2026, 6, 25, 19, 30, tzinfo=UTC))
    late.end_at = datetime(2026, 6, 25, 21, 45, tzinfo=UTC)  # 23:45 local
    assert times.due(NoticeKind.CHECKIN_NEXT_DAY, late).date().day == 26
    late.end_at = datetime(2026, 6, 25, 23, 0, tzinfo=UTC)  # 1:00 local on the 26th
    assert times.due(NoticeKind.CHECKIN_NEXT_DAY, late) == datetime(2026, 6, 26, 8, tzinfo=UTC)


def test_the_weeks_check_in_follows_the_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WERKBANK_CHECKIN_WEEKS", '{"open_workshop": 2}')
    monkeypatch.setenv("WERKBANK_CHECKIN_HOUR", "11")
    times = checkin_times(load_settings())
    start = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
    open_day = times.due(NoticeKind.CHECKIN_WEEKS, event(EventFormat.OPEN_WORKSHOP, start))
    transfer = times.due(NoticeKind.CHECKIN_WEEKS, event(EventFormat.TRANSFER, start))
    assert open_day == datetime(2026, 12, 10, 10, tzinfo=UTC)  # two weeks, 11:00 local
    assert transfer == datetime(2026, 12, 24, 10, tzinfo=UTC)  # four weeks, the default

    for bad in ('{"kaffeeklatsch": 2}', '{"transfer": 0}', "zwei"):
        monkeypatch.setenv("WERKBANK_CHECKIN_WEEKS", bad)
        with pytest.raises(SettingsError, match="WERKBANK_CHECKIN_WEEKS"):
            load_settings()
    monkeypatch.delenv("WERKBANK_CHECKIN_WEEKS")
    assert Settings().checkin_hour == 11  # from the environment above


def test_nothing_in_the_quiet_hours_it_waits_for_the_morning() -> None:
    times = CheckinTimes(BERLIN)
    summer_night = datetime(2026, 6, 26, 19, 30, tzinfo=UTC)  # 21:30 local
    assert times.morning_after_quiet(summer_night) == datetime(2026, 6, 27, 8, tzinfo=UTC)
    winter_early = datetime(2026, 11, 27, 6, 30, tzinfo=UTC)  # 7:30 local
    assert times.morning_after_quiet(winter_early) == datetime(2026, 11, 27, 9, tzinfo=UTC)
    assert times.morning_after_quiet(datetime(2026, 11, 27, 7, 5, tzinfo=UTC)) is None  # 8:05
    assert times.morning_after_quiet(datetime(2026, 6, 26, 18, 55, tzinfo=UTC)) is None  # 20:55
