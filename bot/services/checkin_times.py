"""When the check-ins after a workshop come, in the operator's local time.

The morning after, some weeks on (per format: a setting) and three months on, each at
`hour` local time (10:00 by default) and counted in local days from the end of the
event; an unanswered one is asked once more three days later. Nothing goes out in the
quiet hours (21:00 to 8:00 local time): a check-in that falls due then, say after
downtime, waits for the next morning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.codes import EventFormat, NoticeKind

DEFAULT_TZ = ZoneInfo("Europe/Berlin")
# An unanswered check-in is asked once more, this long after it.
AGAIN_AFTER = timedelta(days=3)
# How far past midnight an event may end and still count as the evening before.
PAST_MIDNIGHT = timedelta(hours=6)
# A check-in sent late after downtime still helps for a week; then it lapses quietly.
LATE = timedelta(days=7)


class Timed(Protocol):
    """What the check-in times need of an event: the ORM `Event`, or the outbox's
    lighter copy of it (`bot.services.notices.EventFacts`)."""

    @property
    def format(self) -> EventFormat: ...
    @property
    def start_at(self) -> datetime: ...
    @property
    def end_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class CheckinTimes:
    tz: ZoneInfo = DEFAULT_TZ
    hour: int = 10  # local hour the check-ins come
    weeks: Mapping[EventFormat, int] = field(default_factory=dict)  # per format
    default_weeks: int = 4  # the weeks check-in of formats `weeks` does not name
    months_days: int = 91  # "after three months"
    quiet: tuple[int, int] = (21, 8)  # local hours from and until which nothing is sent

    def after(self, kind: NoticeKind, event: Timed) -> timedelta:
        """How many days after the event a check-in (or its reminder) comes."""
        first = kind.asked_first
        if first == NoticeKind.CHECKIN_NEXT_DAY:
            days = timedelta(days=1)
        elif first == NoticeKind.CHECKIN_WEEKS:
            days = timedelta(weeks=self.weeks.get(event.format, self.default_weeks))
        elif first == NoticeKind.CHECKIN_MONTHS:
            days = timedelta(days=self.months_days)
        else:
            raise ValueError(f"{kind} is no check-in")
        return days + (AGAIN_AFTER if kind != first else timedelta())

    def due(self, kind: NoticeKind, event: Timed) -> datetime:
        """The check-in's time: `hour` local time, that many days after the event ended
        (or started, without an end)."""
        # An evening that runs past midnight still ended "yesterday" the next morning.
        ended = ((event.end_at or event.start_at) - PAST_MIDNIGHT).astimezone(self.tz).date()
        local = datetime.combine(ended + self.after(kind, event), time(self.hour), self.tz)
        return local.astimezone(UTC)

    def too_late(self, kind: NoticeKind, event: Timed, now: datetime) -> bool:
        """Sent this late (after downtime) a check-in would confuse more than help."""
        return now > self.due(kind.asked_first, event) + LATE

    def quiet_until(self, now: datetime) -> datetime | None:
        """When the quiet hours `now` falls in end (8:00 local time); None outside them."""
        local = now.astimezone(self.tz)
        start, end = self.quiet
        if end <= local.hour < start:
            return None
        day = local.date() + (timedelta(days=1) if local.hour >= start else timedelta())
        return datetime.combine(day, time(end), self.tz).astimezone(UTC)

    def morning_after_quiet(self, now: datetime) -> datetime | None:
        """When the quiet hours `now` falls in end (at `hour`, the usual check-in time);
        None outside them."""
        local = now.astimezone(self.tz)
        start, end = self.quiet
        if end <= local.hour < start:
            return None
        day = local.date() + (timedelta(days=1) if local.hour >= start else timedelta())
        return datetime.combine(day, time(max(self.hour, end)), self.tz).astimezone(UTC)
