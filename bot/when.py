"""Dates and times as organisers type them in a chat: "Di 17 Uhr", "25.11. 17-20 Uhr".

Why a parser of our own: `dateparser` (the maintained candidate on PyPI) was
tried first. It reads "Di 17 Uhr" as *last* Tuesday at midnight, drops the
hour from "morgen 18 Uhr", has no time ranges, turns "32.13." into 2032-11-13
and needs 1-30 ms a call. What the event dialog needs is a small, closed
language, so it is written out here: a tokenizer, a table of words and a
parser that reads the tokens left to right. A call takes some microseconds.

What is understood (case-insensitive; umlauts may be written ae/oe/ue;
commas, dots, brackets and extra spaces are ignored between parts):

- days: "heute", "morgen", "übermorgen", "today", "tomorrow"; weekdays "Di",
  "Di.", "Dienstag", "Tue", "Tuesday"; "nächsten Dienstag", "next Tuesday";
  "Dienstag nächste Woche", "next week Tuesday";
- dates: "25.11.", "25.11", "25.11.2026", "25.11.26", "2026-11-25",
  "25. November", "25. Nov", "25 Nov 2026", "Nov 25", "November 25th",
  "am 25." (day of the month only); a weekday next to a date must fit it;
- times: "17 Uhr", "17:00", "17.00 Uhr", "17h", "17 Uhr 30", "um 17 Uhr",
  "5pm", "5:30 pm", "5 p.m."; "abends"/"nachmittags" move 1-11 to the evening
  ("7 Uhr abends" is 19:00);
- ranges: "17-20 Uhr", "17:00-20:00", "17 bis 20 Uhr", "von 17 bis 20 Uhr",
  "17–20 Uhr", "5-8pm", "11am-1pm". The end lies on the start's day; an end at
  0 or 24 Uhr means the following midnight; an end not after the start is not
  understood (no events through the night).

What is not understood, so the dialog asks again: "halb 6" (is it 5:30 or
17:30?), spans of days ("25.-27.11."), US dates ("11/25"), a bare hour
without a marker ("Di 17"; but "Di 17-20" is a range), a time without a day
("17 Uhr"), and any word outside the table ("Di 17 Uhr im Keller"): guessing
around unknown words would sooner or later put an event on a wrong day.
"HH.MM" without "Uhr" is a date when it can be one and no day was named yet
("Di 12.10" is 12 October, "25.11 12.10" is 12:10).

Which day, when the text leaves it open: the first one whose start is not
before `now`. "Di 17 Uhr" on a Tuesday at 18:00 is next week's Tuesday, at
10:00 it is today; "25.11." after 25 November is next year's; "nächsten
Dienstag" is never today. What the text pins down is returned as written,
even in the past: "1.1.2020 10 Uhr", and "heute 10 Uhr" at noon. A `None`
there would leave the caller unable to tell "in the past" from "not
understood", so the caller checks `when.start < now` and says which it is.

Clock changes (Europe/Berlin): a wall time that does not exist, "29.3.2026
2:30 Uhr", is moved forward by the gap, to 03:30 CEST, as the clock on the
wall would show it; a wall time that happens twice, "25.10.2026 2:30 Uhr", is
the first one (CEST, fold=0). Python compares such a repeated wall time with a
datetime in another zone as never equal (PEP 495); `<` and `>` work.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

# A chat answer naming a date is short; anything longer is not one, and
# stopping here keeps the work bounded whatever arrives.
MAX_LENGTH = 200
# Explicit years outside this range are typos, and far-off years could
# overflow when converted between zones.
YEARS = range(1900, 2201)
# Enough years to reach the next 29 February.
YEAR_SEARCH = 9

Meridiem = Literal["am", "pm"]


@dataclass(frozen=True)
class When:
    """When an event starts and, if the organiser said so, ends."""

    start: datetime  # aware, in the given timezone
    end: datetime | None  # aware; None when no end was given


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> When | None:
    """A date and time typed naturally, or None.

    "Di 17 Uhr", "25.11. 17:00-20:00", "morgen 18 Uhr"; see the module docstring for
    what is understood and how open years and weeks are resolved.
    """
    reading = _read(text)
    if reading is None or reading.start is None:
        return None
    clocks = _clocks(reading)
    if clocks is None:
        return None
    start_at, end_at = clocks
    day = _pick_day(reading, now.astimezone(tz), start_at, tz)
    if day is None:
        return None
    start = _wall_time(day, start_at, tz)
    if end_at is None:
        return When(start, None)
    end_day = day + timedelta(days=1) if end_at == time(0) else day
    end = _wall_time(end_day, end_at, tz)
    return When(start, end) if end > start else None


def missing_time(text: str, now: datetime, tz: ZoneInfo) -> bool:
    """True when `text` names a day but no time ("Di", "25.11.", "morgen abend")."""
    reading = _read(text)
    if reading is None or reading.start is not None:
        return False
    # The end of the day, so that a bare "heute" or today's weekday still counts.
    return _pick_day(reading, now.astimezone(tz), time.max, tz) is not None


# --- words -------------------------------------------------------------------
# All keys are in normalised form: casefolded, umlauts as ae/oe/ue, ß as ss.

WEEKDAYS = {
    **dict.fromkeys(("mo", "mon", "montag", "monday"), 0),
    **dict.fromkeys(("di", "tue", "tues", "dienstag", "tuesday"), 1),
    **dict.fromkeys(("mi", "wed", "mittwoch", "wednesday"), 2),
    **dict.fromkeys(("do", "thu", "thur", "thurs", "donnerstag", "thursday"), 3),
    **dict.fromkeys(("fr", "fri", "freitag", "friday"), 4),
    **dict.fromkeys(("sa", "sat", "samstag", "sonnabend", "saturday"), 5),
    **dict.fromkeys(("so", "sun", "sonntag", "sunday"), 6),
}
MONTHS = {
    **dict.fromkeys(("jan", "januar", "jaenner", "january"), 1),
    **dict.fromkeys(("feb", "februar", "february"), 2),
    **dict.fromkeys(("mar", "maer", "mrz", "maerz", "march"), 3),
    **dict.fromkeys(("apr", "april"), 4),
    **dict.fromkeys(("mai", "may"), 5),
    **dict.fromkeys(("jun", "juni", "june"), 6),
    **dict.fromkeys(("jul", "juli", "july"), 7),
    **dict.fromkeys(("aug", "august"), 8),
    **dict.fromkeys(("sep", "sept", "september"), 9),
    **dict.fromkeys(("okt", "oct", "oktober", "october"), 10),
    **dict.fromkeys(("nov", "november"), 11),
    **dict.fromkeys(("dez", "dec", "dezember", "december"), 12),
}
DAYS_FROM_TODAY = {"heute": 0, "today": 0, "morgen": 1, "tomorrow": 1, "uebermorgen": 2}
NEXT = {
    "naechste", "naechsten", "naechster", "naechstes",
    "kommende", "kommenden", "kommender", "kommendes",
    "next", "coming",
}  # fmt: skip
WEEK = {"woche", "week"}
# Words that make the number after them a time even without "Uhr".
TIME_PREFIXES = {"um", "ab", "gegen", "von", "at", "from"}
HOUR_UNITS = {"uhr", "h"}
MERIDIEMS: dict[str, Meridiem] = {"am": "am", "pm": "pm"}
DAYPARTS: dict[str, Meridiem] = {
    "morgens": "am", "frueh": "am", "vormittag": "am", "vormittags": "am",
    "nachmittag": "pm", "nachmittags": "pm", "abend": "pm", "abends": "pm",
}  # fmt: skip
DAY_WORDS = WEEKDAYS.keys() | DAYS_FROM_TODAY.keys() | MONTHS.keys() | NEXT
RANGE_SEPARATORS = {"-", "bis", "to", "until", "till"}
ORDINAL_SUFFIXES = {"st", "nd", "rd", "th"}
FILLERS = {"am", "an", "den", "dem", "der", "on", "the", "of"}


# --- tokens ------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    parts: tuple[str, ...]  # the digit groups, as typed
    glued: bool  # nothing between it and the token before ("5pm")

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.parts)


# Tried in order at each position; the first match wins.
_TOKEN_PATTERNS = [
    ("ymd", re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?![0-9])")),
    ("dmy", re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4}|[0-9]{2})(?![0-9])")),
    ("colon", re.compile(r"([0-9]{1,2}):([0-9]{2})(?![0-9])")),
    ("dm_dot", re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.")),
    ("dm", re.compile(r"([0-9]{1,2})\.([0-9]{1,2})(?![0-9])")),
    ("d_dot", re.compile(r"([0-9]{1,2})\.")),
    ("num", re.compile(r"([0-9]+)")),
    ("word", re.compile(r"[a-z]+")),
    ("dash", re.compile(r"-")),
    ("skip", re.compile(r"[\s.,;:!?()]+")),
]
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−"})
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_DOTTED_MERIDIEM = re.compile(r"(?<![a-z])([ap])\.\s?m\.?(?![a-z])")


def _normalise(text: str) -> str:
    # NFKC folds full-width digits and no-break spaces; casefold makes ß "ss".
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(_UMLAUTS).translate(_DASHES)
    return _DOTTED_MERIDIEM.sub(r"\1m", text)


def _token_at(text: str, pos: int) -> tuple[str, re.Match[str]] | None:
    for kind, pattern in _TOKEN_PATTERNS:
        match = pattern.match(text, pos)
        if match:
            return kind, match
    return None


def _tokens(text: str) -> list[_Token] | None:
    text = _normalise(text)
    tokens: list[_Token] = []
    pos = 0
    glued = False
    while pos < len(text):
        found = _token_at(text, pos)
        if found is None:
            return None  # a character no date is written with
        kind, match = found
        if kind == "skip":
            glued = False
        else:
            tokens.append(_Token(kind, match.group(), match.groups(), glued))
            glued = True
        pos = match.end()
    return tokens


# --- reading -----------------------------------------------------------------


@dataclass(frozen=True)
class _Clock:
    hour: int
    minute: int
    meridiem: Meridiem | None = None


@dataclass
class _Reading:
    """What the text says, before it is placed in the calendar."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    days_from_today: int | None = None
    weekday: int | None = None
    after_today: bool = False  # "nächsten Dienstag"
    next_week: bool = False  # "Dienstag nächste Woche"
    daypart: Meridiem | None = None
    start: _Clock | None = None
    end: _Clock | None = None

    @property
    def has_date(self) -> bool:
        return self.day is not None

    @property
    def day_fixed(self) -> bool:
        return self.has_date or self.days_from_today is not None


class _NotUnderstood(Exception):
    """Raised inside the parser; never leaves this module."""


def _read(text: str) -> _Reading | None:
    if not text or len(text) > MAX_LENGTH:
        return None
    tokens = _tokens(text)
    if not tokens:
        return None
    try:
        return _Parser(tokens).read()
    except _NotUnderstood:
        return None


class _Parser:
    """Reads tokens left to right; each part (day, date, time, filler) may come in any order."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.reading = _Reading()

    def read(self) -> _Reading:
        while self.pos < len(self.tokens):
            if not (self._time() or self._date() or self._day_word() or self._filler()):
                raise _NotUnderstood
        return self.reading

    # helpers

    def _peek(self, ahead: int = 0) -> _Token | None:
        i = self.pos + ahead
        return self.tokens[i] if i < len(self.tokens) else None

    def _word(self, ahead: int = 0) -> str | None:
        token = self._peek(ahead)
        return token.text if token and token.kind == "word" else None

    def _accept_word(self, words: Container[str]) -> str | None:
        word = self._word()
        if word is not None and word in words:
            self.pos += 1
            return word
        return None

    def _year(self) -> int | None:
        token = self._peek()
        if token and token.kind == "num" and len(token.text) == 4:
            self.pos += 1
            return int(token.text)
        return None

    # times

    def _time(self) -> bool:
        start_pos = self.pos
        prefixed = self._accept_word(TIME_PREFIXES) is not None
        first = self._clock()
        if first is None:
            self.pos = start_pos
            return False
        start, start_marked = first
        token = self._peek()
        separated = (token is not None and token.kind == "dash") or (
            self._word() in RANGE_SEPARATORS
        )
        if not (prefixed or start_marked or separated):
            self.pos = start_pos
            return False
        end = None
        if separated:
            self.pos += 1
            second = self._clock()
            if second is None:
                raise _NotUnderstood
            end = second[0]
        if self.reading.start is not None:
            raise _NotUnderstood  # two times
        self.reading.start, self.reading.end = start, end
        return True

    def _clock(self) -> tuple[_Clock, bool] | None:
        """A time of day at the cursor, and whether it is marked as one ("Uhr", ":", "pm")."""
        token = self._peek()
        if token is None:
            return None
        if token.kind == "num" and len(token.text) <= 2:
            hour, minute = int(token.text), 0
            marked = False
            after = self._word(1)
            if after in MONTHS or after in ORDINAL_SUFFIXES:
                return None  # "25 Nov", "25th"
        elif token.kind == "colon":
            hour, minute = token.numbers
            marked = True
        elif token.kind in ("dm", "dm_dot") and len(token.parts[1]) == 2:
            hour, minute = token.numbers
            # "12.10" is a date until a day has been named; "17.30" cannot be one.
            marked = self.reading.day_fixed or not _could_be_date(hour, minute)
        else:
            return None
        if hour > 24 or minute > 59:
            return None
        self.pos += 1
        unit = self._accept_word(HOUR_UNITS)
        if unit is not None:
            marked = True
        if unit == "uhr":
            minute = self._minutes_after_uhr(minute)
        meridiem = self._meridiem() if unit is None and 1 <= hour <= 12 else None
        if meridiem is not None:
            marked = True
        return _Clock(hour, minute, meridiem), marked

    def _meridiem(self) -> Meridiem | None:
        token = self._peek()
        if token is None or token.text not in MERIDIEMS:
            return None
        # "12:00 am Dienstag" is German for noon on Tuesday; "5am Tuesday" is English.
        after = self._word(1)
        if token.text == "am" and not token.glued and after in DAY_WORDS:
            return None
        self.pos += 1
        return MERIDIEMS[token.text]

    def _minutes_after_uhr(self, minute: int) -> int:
        """'17 Uhr 30' as it is said."""
        token = self._peek()
        if (
            minute == 0
            and token is not None
            and token.kind == "num"
            and len(token.text) == 2
            and int(token.text) <= 59
            and self._word(1) not in MONTHS
        ):
            self.pos += 1
            return int(token.text)
        return minute

    # dates

    def _date(self) -> bool:
        start_pos = self.pos
        token = self._peek()
        if token is None:
            return False
        year: int | None = None
        month: int | None
        if token.kind == "ymd":
            year, month, day = token.numbers
            self.pos += 1
        elif token.kind == "dmy":
            day, month, year = token.numbers
            if len(token.parts[2]) == 2:
                year += 2000
            self.pos += 1
        elif token.kind in ("dm_dot", "dm"):
            day, month = token.numbers
            self.pos += 1
            year = self._year()
        elif token.kind in ("num", "d_dot") and len(token.parts[0]) <= 2:
            day = token.numbers[0]
            self.pos += 1
            if token.kind == "num":
                self._accept_word(ORDINAL_SUFFIXES)
                self._accept_word({"of"})
            month = MONTHS.get(self._word() or "")
            if month is not None:
                self.pos += 1
                year = self._year()
            elif token.kind == "num":
                self.pos = start_pos  # a bare number is no date
                return False
        elif token.kind == "word" and token.text in MONTHS:
            month = MONTHS[token.text]
            day_token = self._peek(1)
            if day_token is None or day_token.kind not in ("num", "d_dot"):
                return False
            if len(day_token.parts[0]) > 2 or self._word(2) in HOUR_UNITS | MERIDIEMS.keys():
                return False  # "Nov 5pm" is no date
            day = day_token.numbers[0]
            self.pos += 2
            self._accept_word(ORDINAL_SUFFIXES)
            year = self._year()
        else:
            return False
        if self.reading.has_date:
            raise _NotUnderstood  # two dates
        self.reading.year, self.reading.month, self.reading.day = year, month, day
        return True

    # day words

    def _day_word(self) -> bool:
        word = self._word()
        reading = self.reading
        if word in DAYS_FROM_TODAY:
            if reading.days_from_today is not None:
                raise _NotUnderstood
            reading.days_from_today = DAYS_FROM_TODAY[word]
        elif word in WEEKDAYS:
            self._set_weekday(WEEKDAYS[word])
        elif word in NEXT:
            following = self._word(1)
            if following in WEEK:
                reading.next_week = True
            elif following in WEEKDAYS:
                reading.after_today = True
                self._set_weekday(WEEKDAYS[following])
            else:
                raise _NotUnderstood
            self.pos += 1
        elif word in DAYPARTS:
            if reading.daypart not in (None, DAYPARTS[word]):
                raise _NotUnderstood
            reading.daypart = DAYPARTS[word]
        else:
            return False
        self.pos += 1
        return True

    def _set_weekday(self, weekday: int) -> None:
        if self.reading.weekday is not None:
            raise _NotUnderstood
        self.reading.weekday = weekday

    def _filler(self) -> bool:
        return self._accept_word(FILLERS) is not None


def _could_be_date(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


# --- placing in the calendar ---------------------------------------------------


def _to_24h(hour: int, meridiem: Meridiem) -> int:
    return hour % 12 + (12 if meridiem == "pm" else 0)


def _clocks(reading: _Reading) -> tuple[time, time | None] | None:
    """Start and end as times of day; an end of 00:00 stands for the following midnight."""
    start, end = reading.start, reading.end
    if start is None:
        return None
    if reading.daypart == "pm":
        # "7 Uhr abends", "8-11 abends": the evening applies to the last hour written.
        last = end or start
        if last.meridiem is None and 1 <= last.hour <= 12:
            last = _Clock(last.hour, last.minute, "pm")
        start, end = (start, last) if end else (last, None)

    start_hour = _to_24h(start.hour, start.meridiem) if start.meridiem else start.hour
    if end is None:
        if start_hour > 23:
            return None
        return time(start_hour, start.minute), None

    end_hour = _to_24h(end.hour, end.meridiem) if end.meridiem else end.hour
    if end.meridiem and not start.meridiem and 1 <= start.hour <= 12:
        # "5-8pm" is 17-20, but "11-1pm" is 11-13.
        guess = _to_24h(start.hour, end.meridiem)
        if (guess, start.minute) < (end_hour, end.minute):
            start_hour = guess
    elif start.meridiem and not end.meridiem and 1 <= end.hour <= 12:
        # "5pm-8" is 17-20, "11am-1" is 11-13.
        end_hour = _to_24h(end.hour, start.meridiem)
        if (end_hour, end.minute) <= (start_hour, start.minute):
            end_hour = _to_24h(end.hour, "am" if start.meridiem == "pm" else "pm")
    if start_hour > 23 or end_hour > 24 or (end_hour == 24 and end.minute):
        return None
    return time(start_hour, start.minute), time(end_hour % 24, end.minute)


def _wall_time(day: date, at: time, tz: ZoneInfo) -> datetime:
    # The round trip through UTC moves a time in the spring gap forward.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC).astimezone(tz)


def _pick_day(reading: _Reading, now: datetime, at: time, tz: ZoneInfo) -> date | None:
    """The day meant; an open year, month or week goes to the first start from `now` on."""
    today = now.date()

    def ahead(day: date) -> bool:
        return _wall_time(day, at, tz) >= now

    if reading.next_week and (reading.weekday is None or reading.day_fixed):
        return None
    if reading.has_date:
        assert reading.day is not None
        day = _calendar_day(reading.year, reading.month, reading.day, today, ahead)
        if day is None:
            return None
        if reading.days_from_today is not None and day != today + timedelta(
            reading.days_from_today
        ):
            return None
    elif reading.days_from_today is not None:
        day = today + timedelta(reading.days_from_today)
    elif reading.weekday is not None:
        if reading.next_week:
            monday = today - timedelta(today.weekday())
            return monday + timedelta(7 + reading.weekday)
        day = today + timedelta((reading.weekday - today.weekday()) % 7)
        if (reading.after_today and day == today) or not ahead(day):
            day += timedelta(7)
    else:
        return None
    if reading.weekday is not None and day.weekday() != reading.weekday:
        return None
    return day


def _calendar_day(
    year: int | None, month: int | None, day: int, today: date, ahead: Callable[[date], bool]
) -> date | None:
    if year is not None:
        if year not in YEARS or month is None:
            return None
        try:
            return date(year, month, day)
        except ValueError:
            return None
    if month is not None:
        candidates = ((today.year + i, month) for i in range(YEAR_SEARCH))
    else:  # "am 25.": this month or a later one
        candidates = (
            (today.year + (today.month - 1 + i) // 12, (today.month - 1 + i) % 12 + 1)
            for i in range(13)
        )
    for y, m in candidates:
        try:
            candidate = date(y, m, day)
        except ValueError:
            continue
        if ahead(candidate):
            return candidate
    return None
