"""Opening hours in OpenStreetMap `opening_hours` syntax, evaluated and put into words.

Parsing and evaluation are done by the maintained Rust parser `opening_hours`
(package opening-hours-py); this module only adds caching, a Berlin-time view
and wording. Notes on the library that shaped this code:

- `timezone=` must be a `zoneinfo.ZoneInfo` (a plain string is a TypeError).
- Aware input datetimes must carry a `ZoneInfo` too: `datetime.timezone.utc`
  is rejected because the binding reads `tzinfo.key`. Hence every moment is
  converted with `astimezone(tz)` before it reaches the library.
- Without `timezone=`, an aware datetime is evaluated in its *own* wall clock
  (09:30 UTC counts as 09:30 for a Berlin place), so the parser is always built
  with the place's zone; results then come back aware in that zone, DST included.
- `country="DE"` loads the nationwide German public holidays for `PH`
  (regional ones such as Fronleichnam or Reformationstag are not included).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_interval, format_skeleton

# The bundled type stub omits ParserError, though the module exports it.
from opening_hours import OpeningHours, ParserError, State  # type: ignore[attr-defined]

from bot.i18n import Translator

TZ = ZoneInfo("Europe/Berlin")
COUNTRY = "DE"

# "Until" is only worth showing if the place closes within a week; beyond that
# it is effectively always open.
OPEN_HORIZON = timedelta(days=7)
# Looking further for the next opening costs time and helps nobody deciding
# whether to go; "closed for now" is the honest answer then.
OPENS_HORIZON = timedelta(days=14)
# An evening that runs past midnight and ends by this time belongs to the day it
# started on ("Fr: 20–02 Uhr"), as people read a bar's or a workshop's hours.
NIGHT_END = time(6)

MIDNIGHT = time(0)


class HoursError(ValueError):
    """An opening-hours rule that cannot be parsed."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"cannot parse opening hours {rule!r}: {detail}")
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True)
class OpenState:
    open: bool
    unknown: bool  # the rule says 'unknown' here, or there is no rule
    until: datetime | None  # open: when it closes; None if open for the coming week
    opens_at: datetime | None  # not open: next opening; None if not within 14 days


UNKNOWN_STATE = OpenState(open=False, unknown=True, until=None, opens_at=None)


@dataclass(frozen=True)
class _Day:
    day: date
    spans: tuple[tuple[time, time], ...]
    unknown: bool  # part of the day is 'unknown'
    holiday: bool


_Interval = tuple[datetime, datetime, State]


class Hours:
    """One parsed rule. An empty rule means "no hours given": always unknown."""

    __slots__ = ("_holidays", "_oh", "rule", "tz")

    def __init__(self, rule: str, tz: ZoneInfo = TZ, country: str = COUNTRY) -> None:
        self.rule = rule
        self.tz = tz
        self._oh: OpeningHours | None = None
        if rule.strip():
            try:
                self._oh = OpeningHours(rule.strip(), timezone=tz, country=country)
            except ParserError as exc:
                raise HoursError(rule, str(exc)) from None
        self._holidays = _holiday_calendar(tz, country)

    def __repr__(self) -> str:
        return f"Hours({self.rule!r})"

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            # astimezone() would silently take the server's zone for a naive value.
            raise ValueError("opening hours need an aware datetime")
        return moment.astimezone(self.tz)

    def is_open(self, moment: datetime) -> bool:
        if moment.tzinfo is None:
            raise ValueError("opening hours need an aware datetime")
        return self._oh is not None and self._oh.is_open(moment.astimezone(self.tz))

    def state_at(self, moment: datetime) -> OpenState:
        local = self._local(moment)
        if self._oh is None:
            return UNKNOWN_STATE
        runs = _runs(self._oh.intervals(local, local + OPENS_HORIZON))
        first = next(runs, None)
        if first is None:
            return UNKNOWN_STATE
        _, first_end, state = first
        if state == State.OPEN:
            # The horizon cuts the last run short, so a run reaching it has no real end.
            until = first_end if first_end < local + OPEN_HORIZON else None
            return OpenState(open=True, unknown=False, until=until, opens_at=None)
        opens_at = next((start for start, _, s in runs if s == State.OPEN), None)
        return OpenState(open=False, unknown=state == State.UNKNOWN, until=None, opens_at=opens_at)

    def week(self, start: date) -> list[tuple[date, list[tuple[time, time]]]]:
        """Seven days from `start`, each with its opening spans (empty: closed).

        A span is (from, to) in local time. `to` == 00:00 means "until midnight";
        `to` earlier than `from` means it runs past midnight into the next day,
        e.g. (20:00, 02:00). A stretch open for days is cut at each midnight,
        a whole day being (00:00, 00:00).
        """
        return [(d.day, list(d.spans)) for d in self._days(start)]

    def _days(self, start: date) -> list[_Day]:
        days = [start + timedelta(days=i) for i in range(7)]
        if self._oh is None:
            return [_Day(d, (), True, self._is_holiday(d)) for d in days]
        # One day earlier so a span's true start is known (is 00:00–02:00 the tail
        # of yesterday's evening or its own span?); one day later for the tail of
        # the last day's evening.
        begin = datetime.combine(start - timedelta(days=1), MIDNIGHT, self.tz)
        end = datetime.combine(start + timedelta(days=8), MIDNIGHT, self.tz)
        spans: dict[date, list[tuple[time, time]]] = {d: [] for d in days}
        unknown: set[date] = set()
        for a, b, state in _runs(self._oh.intervals(begin, end)):
            if state == State.OPEN:
                for day, span in _split(a, b):
                    if day in spans:
                        spans[day].append(span)
            elif state == State.UNKNOWN:
                unknown.update(_dates_touched(a, b))
        return [_Day(d, tuple(sorted(spans[d])), d in unknown, self._is_holiday(d)) for d in days]

    def _is_holiday(self, day: date) -> bool:
        return self._holidays.is_open(datetime.combine(day, time(12), self.tz))


@lru_cache(maxsize=8)
def _holiday_calendar(tz: ZoneInfo, country: str) -> OpeningHours:
    # A rule that is open exactly on public holidays lets us ask the library's
    # own calendar whether a day is one.
    return OpeningHours("PH", timezone=tz, country=country)


def _runs(intervals: Iterator[tuple[datetime, datetime, State, str]]) -> Iterator[_Interval]:
    """Join neighbouring intervals of the same state (they split on comments)."""
    current: _Interval | None = None
    for start, end, state, _comment in intervals:
        if current is not None and current[2] == state and current[1] == start:
            current = (current[0], end, state)
            continue
        if current is not None:
            yield current
        current = (start, end, state)
    if current is not None:
        yield current


def _split(a: datetime, b: datetime) -> Iterator[tuple[date, tuple[time, time]]]:
    """Cut an open interval into per-day spans (see Hours.week for the convention)."""
    next_midnight = datetime.combine(a.date() + timedelta(days=1), MIDNIGHT, a.tzinfo)
    if b <= next_midnight or (
        a.time() != MIDNIGHT and b.date() == next_midnight.date() and b.time() <= NIGHT_END
    ):
        yield a.date(), (a.time(), b.time())
        return
    day = a.date()
    while True:
        day_end = datetime.combine(day + timedelta(days=1), MIDNIGHT, a.tzinfo)
        yield day, ((a.time() if day == a.date() else MIDNIGHT), min(b, day_end).time())
        if b <= day_end:
            return
        day += timedelta(days=1)


def _dates_touched(a: datetime, b: datetime) -> Iterator[date]:
    day = a.date()
    last = (b - timedelta(microseconds=1)).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


# Failures are cached as well: imported OSM data holds invalid rules, and the
# nearby search would otherwise re-parse them for every place on every query.
@lru_cache(maxsize=4096)
def _parse_cached(rule: str) -> Hours | HoursError:
    try:
        return Hours(rule)
    except HoursError as exc:
        return exc


def parse_hours(rule: str) -> Hours:
    """The parsed rule; each distinct string is parsed once per process."""
    result = _parse_cached(rule)
    if isinstance(result, HoursError):
        # A fresh exception each time, so the cached one does not collect tracebacks.
        raise HoursError(result.rule, result.detail)
    return result


# -- wording ----------------------------------------------------------------


def _uses_24h(t: Translator) -> bool:
    # Mirrors Translator._hour_skeleton, so week lines match t.time().
    return t.locale == "de"


_LAST_CLOCK = re.compile(r"\b0?0((?::00)?\D*)$")


def _midnight_as_24(text: str) -> str:
    """'18–00 Uhr' -> '18–24 Uhr': a closing time at midnight reads as 24 on a 24h clock."""
    return _LAST_CLOCK.sub(r"24\1", text, count=1)


def _closing(moment: datetime, t: Translator) -> tuple[date, str]:
    """The day and clock time a closing is said with.

    On a 24-hour clock a place closing at midnight closes at "24 Uhr" of the
    day before, not at "00 Uhr" of the next one.
    """
    local = t.local(moment)
    if _uses_24h(t) and local.time() == MIDNIGHT:
        return (local - timedelta(days=1)).date(), _midnight_as_24(t.time(local))
    return local.date(), t.time(local)


def describe_state(state: OpenState, now: datetime, t: Translator) -> str:
    if state.unknown:
        return t._("Opening hours not known")
    today = t.local(now).date()
    if state.open:
        if state.until is None:
            return t._("Open around the clock")
        closes = t.local(state.until)
        closing_day, closing_time = _closing(closes, t)
        # Closing at midnight is still "today" for the reader, in any locale.
        if (closes - timedelta(microseconds=1)).date() == today:
            return t._("Open today until {time}").format(time=closing_time)
        return t._("Open until {day} {time}").format(day=t.weekday(closing_day), time=closing_time)
    if state.opens_at is None:
        return t._("Closed for now")
    opens = t.local(state.opens_at)
    days_ahead = (opens.date() - today).days
    if days_ahead <= 0:
        return t._("Opens today at {time}").format(time=t.time(opens))
    if days_ahead == 1:
        return t._("Opens tomorrow at {time}").format(time=t.time(opens))
    if days_ahead < 7:
        return t._("Opens {weekday} at {time}").format(weekday=t.weekday(opens), time=t.time(opens))
    # A bare weekday more than six days out would be read as this coming one.
    return t._("Opens on {date} at {time}").format(date=t.day(opens), time=t.time(opens))


def _trailing_text(text: str) -> str:
    end = len(text)
    while end and not text[end - 1].isdigit():
        end -= 1
    return text[end:]


def _format_spans(spans: tuple[tuple[time, time], ...], t: Translator) -> str:
    if spans == ((MIDNIGHT, MIDNIGHT),):
        return t._("around the clock")
    h24 = _uses_24h(t)
    with_minutes = any(a.minute or b.minute for a, b in spans)
    skeleton = ("H" if h24 else "h") + ("m" if with_minutes else "")
    parts = []
    for a, b in spans:
        text = t.unpad_hours(format_interval(a, b, skeleton, locale=t.locale))
        parts.append(_midnight_as_24(text) if h24 and b == MIDNIGHT else text)
    if h24 and len(parts) > 1:
        # "10–13, 14–18 Uhr": the unit is said once, at the end.
        units = {_trailing_text(p) for p in parts}
        unit = units.pop() if len(units) == 1 else ""
        if unit.strip():
            parts = [p.removesuffix(unit) for p in parts[:-1]] + parts[-1:]
    return ", ".join(parts)


def _day_label(day: _Day, t: Translator) -> str:
    if day.holiday:
        # A holiday needs its date: the weekday alone says nothing about why.
        return f"{t.weekday(day.day)}, {format_skeleton('Md', day.day, locale=t.locale)}"
    return t.weekday(day.day)


def describe_week(hours: Hours, today: date, t: Translator) -> list[str]:
    """One line per day for the seven days from `today`, e.g. 'Mo: 10–18 Uhr'."""
    days = hours._days(today)
    if all(d.unknown and not d.spans for d in days):
        return [t._("Opening hours not known")]
    lines = []
    for day in days:
        label = _day_label(day, t)
        if day.spans:
            lines.append(f"{label}: {_format_spans(day.spans, t)}")
        elif day.unknown:
            # Not inside the f-string: pybabel extract does not look in there.
            lines.append(f"{label}: " + t._("not known"))
        elif day.holiday:
            lines.append(t._("{day}: public holiday, closed").format(day=label))
        else:
            lines.append(f"{label}: " + t._("closed"))
    return lines
