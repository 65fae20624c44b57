"""Calendar files (RFC 5545): an event as an .ics file, and .ics files imported as events.

Export: one VEVENT whose UID is the event's stable `uid` and whose SEQUENCE is the
event's, so a changed or cancelled event updates the entry a member already has
instead of adding a second one.

Import: every VEVENT becomes an event, matched by UID, so importing the same file
again updates and never duplicates. Rules, in the order they are applied:
- a VEVENT without UID gets one derived from its summary and start;
- all-day events (DATE values) are skipped: a Werkbank event needs a start time;
- a recurring event (RRULE/RDATE) becomes one event per occurrence in the next
  eight weeks, each with the UID `<uid>/<date of the occurrence>`; a moved
  occurrence (RECURRENCE-ID) keeps the date it was planned for, so it updates;
- a series is expanded from now, never from its first date: one that began in 1990
  and repeats every second costs what one that began yesterday does;
- what is too much is cut, not refused: a series after MAX_OCCURRENCES, the file
  after MAX_EVENTS, the reading after READ_SECONDS; titles and descriptions longer
  than the dialog allows are shortened. ImportResult.cut says what was cut;
- text is cleaned of NUL and other control characters (newlines and tabs stay);
- past events are skipped, and so are cancelled ones that were never imported;
- STATUS:CANCELLED cancels a known event; an import never revives a cancelled one
  (members were told it is off; an old file must not quietly bring it back);
- a known event gets the file's title, description, times (and the place, when
  one is given) and raises its SEQUENCE only when one of them changed.
The whole file is read and checked before anything is written, in one transaction.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Alarm, Calendar, Component, Timezone
from icalendar import Event as VEvent
from icalendar.prop import vRecur
from sqlalchemy import select

from bot.codes import EventFormat, EventStatus, Role
from bot.control_characters import without_control_characters
from bot.i18n import DEFAULT_LOCALE, N_, translator
from bot.services import ServiceError
from bot.services.contracts import MAX_EVENT_DESCRIPTION, MAX_EVENT_TITLE
from bot.services.database import Database
from bot.services.members import parse_account
from bot.storage.models import ChannelAccount, Event, Member, Place

PRODID = "-//Werkbank//Werkbank//DE"
# What a calendar shows for an event without an end.
DEFAULT_DURATION = timedelta(hours=2)
ALARM_BEFORE = timedelta(hours=1)
# Occurrences of a recurring event are imported this far ahead from now.
RECURRING_HORIZON = timedelta(weeks=8)
# Events taken from one file, occurrences included, and occurrences of one series:
# FREQ=MINUTELY must not flood the database nor crowd out the file's other events.
MAX_EVENTS = 1000
MAX_OCCURRENCES = 200
# A calendar file larger than this is refused before it is read (a year of a busy
# venue's events is well under 1 MB; parsing 5 MB takes a few seconds).
MAX_ICS_BYTES = 5 * 1024 * 1024
# Reading a file (parsing and expanding its series) stops after this long.
READ_SECONDS = 20.0
# A series with COUNT and BY… parts must be walked from its first date; one that would
# take more steps than this to reach the horizon is left out.
MAX_RULE_STEPS = 200_000
# A series of more occurrences a day than this is left out: occurrences are stored
# one per day (their UID has the date), and a denser rule is no workshop's schedule.
MAX_PER_DAY = 24
_UID_MAX = 255  # Event.uid
_UTC_NAMES = {"UTC", "Etc/UTC", "Z"}
# Words in the file, in the language of the member who gets it (English message ids).
CANCELLED = N_("Cancelled: {text}")
ORGANISED_BY = N_("Organised by: {name}")
REMINDER = N_("Reminder: {title}")
_TIME_PROPERTIES = {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"}

# Words in CATEGORIES or SUMMARY that say what kind of event it is; the first match wins.
_FORMAT_WORDS: tuple[tuple[EventFormat, tuple[str, ...]], ...] = (
    (EventFormat.PRO2PRO, ("pro2pro",)),
    (EventFormat.TRANSFER, ("transfer",)),
    (
        EventFormat.OPEN_WORKSHOP,
        ("open_workshop", "offene werkstatt", "open workshop", "repair café", "repair cafe"),
    ),
    (EventFormat.NETWORKING, ("networking", "stammtisch", "netzwerk")),
)


class CalendarError(ServiceError):
    """A calendar file Werkbank cannot read, or an import option that names nothing.

    The message is one short line for the user (English, like the CLI's)."""


@dataclass(frozen=True)
class CalendarEvent:
    """What goes into an .ics file; times are aware."""

    uid: str
    title: str
    description: str | None
    start: datetime
    end: datetime | None
    location: str | None
    lat: float | None = None
    lon: float | None = None
    url: str | None = None
    sequence: int = 0
    cancelled: bool = False
    organiser: str | None = None
    cancel_reason: str | None = None


@dataclass(frozen=True)
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0  # all-day, past, cancelled before ever being imported, no start
    unchanged: int = 0  # known already, nothing changed
    cut: tuple[str, ...] = ()  # what was left out or shortened, in English for the operator


# -- export ------------------------------------------------------------------------


def event_ics(
    event: CalendarEvent,
    tz: str = "Europe/Berlin",
    *,
    stamp: datetime | None = None,
    locale: str = DEFAULT_LOCALE,
) -> bytes:
    """The event as an iCalendar file (UTF-8); METHOD:CANCEL when it is cancelled. Its
    own words (the reminder, "Cancelled: …") are in `locale`, the member's language."""
    _ = translator(locale)._
    # Local time with TZID and its VTIMEZONE rather than UTC: Google, Apple, Outlook
    # and Thunderbird all read it; Outlook, the one that insists on a VTIMEZONE for
    # every TZID, gets one; and an app that opens or edits the entry shows it in the
    # zone it happens in ("18:00, Europe/Berlin"), not as a converted UTC time.
    zone = UTC if tz in _UTC_NAMES else ZoneInfo(tz)
    start = event.start.astimezone(zone)
    end = event.end if event.end is not None and event.end > event.start else None
    end = (end or event.start + DEFAULT_DURATION).astimezone(zone)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if event.cancelled else "PUBLISH")
    if zone is not UTC:
        # Only the years the event needs: the whole 1970-2038 history is many lines.
        calendar.add_component(
            Timezone.from_tzid(
                tz, first_date=date(start.year, 1, 1), last_date=date(end.year + 1, 12, 31)
            )
        )

    vevent = VEvent()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    vevent.add("dtstart", start)
    vevent.add("dtend", end)
    vevent.add("sequence", event.sequence)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    # Google Calendar ignores STATUS in a file; the title says it everywhere.
    cancelled = _(CANCELLED)
    vevent.add("summary", cancelled.format(text=event.title) if event.cancelled else event.title)
    description = "\n\n".join(
        part
        for part in (
            cancelled.format(text=event.cancel_reason)
            if event.cancelled and event.cancel_reason
            else "",
            (event.description or "").strip(),
            _(ORGANISED_BY).format(name=event.organiser) if event.organiser else "",
        )
        if part
    )
    if description:
        vevent.add("description", description)
    if event.location:
        vevent.add("location", event.location)
    if event.lat is not None and event.lon is not None:
        vevent.add("geo", (event.lat, event.lon))
    if event.url:
        vevent.add("url", event.url)
    # No ORGANIZER: it needs a mailto: address we do not have, and apps that see one
    # treat the entry as an invitation to answer. The name goes into the description.
    if not event.cancelled:  # a reminder for what no longer happens would be wrong
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _(REMINDER).format(title=event.title))
        alarm.add("trigger", -ALARM_BEFORE)
        vevent.add_component(alarm)
    calendar.add_component(vevent)
    return calendar.to_ical()


async def calendar_event(db: Database, event_id: int) -> CalendarEvent | None:
    """The event with its place and organiser, ready for `event_ics`; None if unknown."""
    async with db.sessions() as session:
        row = (
            await session.execute(
                select(Event, Place, Member.display_name)
                .outerjoin(Place, Place.id == Event.place_id)
                .outerjoin(Member, (Member.id == Event.organiser_id) & Member.deleted_at.is_(None))
                .where(Event.id == event_id)
            )
        ).first()
    if row is None:
        return None
    event, place, organiser = row
    cancelled = event.status == EventStatus.CANCELLED
    # Town-level coordinates (approximate) would send a navigation app to the town centre.
    exact = place is not None and not place.approximate
    return CalendarEvent(
        uid=event.uid,
        title=event.title,
        description=event.description,
        start=event.start_at,
        end=event.end_at,
        location=_location(place),
        lat=place.lat if exact else None,
        lon=place.lon if exact else None,
        url=place.website if place is not None else None,
        sequence=event.sequence,
        cancelled=cancelled,
        organiser=organiser or None,
        cancel_reason=event.cancel_reason if cancelled else None,
    )


def _location(place: Place | None) -> str | None:
    """'Name, Street 1, 12345 Town'."""
    if place is None:
        return None
    town = " ".join(part for part in (place.postcode, place.town) if part)
    return ", ".join(part for part in (place.name, place.street, town) if part) or None


# -- import ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Incoming:
    """One VEVENT (or occurrence) as it will be stored; times in UTC."""

    uid: str
    title: str
    description: str | None
    start: datetime
    end: datetime | None
    cancelled: bool
    sequence: int
    format: EventFormat


async def import_ics(
    db: Database,
    data: bytes,
    place_id: int | None,
    organiser_id: int | None,
    now: datetime,
    *,
    tz: str = "Europe/Berlin",
) -> ImportResult:
    """Create or update events from an iCalendar file (rules: module docstring).

    Times without a zone ("floating") are read in `tz`. Raises CalendarError for a
    file that is no calendar or larger than MAX_ICS_BYTES, and for a place or organiser
    that does not exist."""
    if len(data) > MAX_ICS_BYTES:
        raise CalendarError(f"larger than {MAX_ICS_BYTES // (1024 * 1024)} MB")
    cuts = _Cuts()
    incoming, skipped = _read(data, now, UTC if tz in _UTC_NAMES else ZoneInfo(tz), cuts)
    created = updated = unchanged = 0
    async with db.transaction() as session:
        if place_id is not None and await session.get(Place, place_id) is None:
            raise CalendarError(f"there is no place {place_id}")
        if organiser_id is not None and await session.get(Member, organiser_id) is None:
            raise CalendarError(f"there is no member {organiser_id}")
        uids = list(incoming)
        known: dict[str, Event] = {}
        for i in range(0, len(uids), 500):  # stay far below any bound-parameter limit
            chunk = uids[i : i + 500]
            known.update(
                (event.uid, event)
                for event in await session.scalars(select(Event).where(Event.uid.in_(chunk)))
            )
        for item in incoming.values():
            event = known.get(item.uid)
            if event is None:
                if item.cancelled:
                    skipped += 1
                    continue
                session.add(
                    Event(
                        uid=item.uid,
                        title=item.title,
                        description=item.description,
                        format=item.format,
                        place_id=place_id,
                        start_at=item.start,
                        end_at=item.end,
                        sequence=item.sequence,
                        status=EventStatus.PUBLISHED,
                        organiser_id=organiser_id,
                    )
                )
                created += 1
            elif _update(event, item, place_id):
                updated += 1
            else:
                unchanged += 1
    return ImportResult(
        created=created,
        updated=updated,
        skipped=skipped,
        unchanged=unchanged,
        cut=cuts.phrases(),
    )


def _update(event: Event, item: _Incoming, place_id: int | None) -> bool:
    """Apply the file's version; True (and SEQUENCE raised) when anything changed."""
    before = _snapshot(event)
    event.title, event.description = item.title, item.description
    event.start_at, event.end_at = item.start, item.end
    if item.cancelled:
        event.status = EventStatus.CANCELLED
    if place_id is not None:
        event.place_id = place_id
    if _snapshot(event) == before:
        return False
    # At least the file's own SEQUENCE: calendars that got the original from its
    # source then still take our version as the newer one.
    event.sequence = max(event.sequence + 1, item.sequence)
    return True


def _snapshot(event: Event) -> tuple[object, ...]:
    """What a calendar shows of an event: a change here raises its SEQUENCE."""
    return (
        event.title,
        event.description,
        event.start_at,
        event.end_at,
        event.status,
        event.place_id,
    )


@dataclass
class _Cuts:
    """What reading a file left out or shortened."""

    series: list[str] = field(default_factory=list)  # titles of series cut short
    left_out: list[str] = field(default_factory=list)  # titles of series not expanded
    events_full: bool = False  # MAX_EVENTS reached
    out_of_time: bool = False  # READ_SECONDS passed
    titles: int = 0
    descriptions: int = 0
    deadline: float = field(default_factory=lambda: time.monotonic() + READ_SECONDS)

    def phrases(self) -> tuple[str, ...]:
        found: list[str] = []
        if self.series:
            found.append(f"series {_names(self.series)} only up to {MAX_OCCURRENCES} occurrences")
        if self.left_out:
            found.append(
                f"series {_names(self.left_out)} left out "
                f"(more than {MAX_PER_DAY} a day, or too many steps to expand)"
            )
        if self.events_full:
            found.append(f"only the first {MAX_EVENTS} events")
        if self.out_of_time:
            found.append(f"reading stopped after {READ_SECONDS:.0f} s")
        if self.titles:
            found.append(f"{self.titles} titles shortened to {MAX_EVENT_TITLE} characters")
        if self.descriptions:
            found.append(
                f"{self.descriptions} descriptions shortened to {MAX_EVENT_DESCRIPTION} characters"
            )
        return tuple(found)


def _names(titles: list[str]) -> str:
    """The first three titles, quoted and short."""
    names = ", ".join(repr(title[:40]) for title in titles[:3])
    return names + (f" and {len(titles) - 3} more" if len(titles) > 3 else "")


def _read(
    data: bytes, now: datetime, zone: tzinfo, cuts: _Cuts
) -> tuple[dict[str, _Incoming], int]:
    """The events to store, by UID, and how many VEVENTs (or occurrences) were skipped."""
    incoming: dict[str, _Incoming] = {}
    skipped = 0

    def take(vevent: Component, uid: str) -> None:
        nonlocal skipped
        start = _start(vevent, zone)
        if not isinstance(start, datetime) or start < now:
            skipped += 1  # no start, all day, or past
            return
        if len(incoming) >= MAX_EVENTS and uid not in incoming:
            cuts.events_full = True
            return
        incoming[uid] = _incoming(vevent, uid, start, zone, cuts)

    for calendar in _parse(data):
        vevents = list(calendar.walk("VEVENT"))
        for vevent in vevents:
            _check_times(vevent)
            if not _uid(vevent):
                uid = _derived_uid(vevent, zone)
                vevent.pop("UID", None)
                vevent.add("UID", uid)
        masters = [v for v in vevents if "RRULE" in v or "RDATE" in v]
        series = {_uid(v) for v in masters}
        for vevent in vevents:
            uid = _uid(vevent)
            if uid in series:
                continue  # expanded below, moved occurrences included
            if "RECURRENCE-ID" in vevent:  # a moved occurrence whose series is not here
                uid = _occurrence_uid(uid, _when(vevent, "RECURRENCE-ID", zone))
            take(vevent, _fit_uid(uid))
        all_day = {_uid(v) for v in masters if not isinstance(_start(v, zone), datetime)}
        skipped += len(all_day)
        timezones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
        for uid in dict.fromkeys(_uid(v) for v in masters if _uid(v) not in all_day):
            if cuts.events_full or cuts.out_of_time:
                break
            parts = [v for v in vevents if _uid(v) == uid]
            for occurrence in _occurrences(parts, timezones, now, zone, cuts):
                start = _start(occurrence, zone)
                planned = _when(occurrence, "RECURRENCE-ID", zone) or start
                take(occurrence, _occurrence_uid(uid, planned))
    return incoming, skipped


def _uid(vevent: Component) -> str:
    return without_control_characters(str(vevent.get("UID", ""))).strip()


def _check_times(vevent: Component) -> None:
    """Refuse the file when a time the event depends on cannot be read.

    icalendar parses leniently: it notes what it could not read in `errors` and,
    depending on its version, drops the property or keeps it broken."""
    for name, _message in getattr(vevent, "errors", ()):
        if str(name).upper() in _TIME_PROPERTIES:
            raise CalendarError(f"{_summary(vevent) or 'an event'}: {name} cannot be read")


def _parse(data: bytes) -> list[Calendar]:
    try:
        text = data.decode("utf-8-sig")  # RFC 5545 says UTF-8; some add a BOM
    except UnicodeDecodeError:
        # Older Windows programs write their code page; better "Mühle" than "M�hle".
        text = data.decode("cp1252", errors="replace")
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except ValueError as exc:
        raise CalendarError(f"not a calendar file ({_short(exc)})") from exc
    calendars = [c for c in calendars if c.name == "VCALENDAR"]
    if not calendars:
        raise CalendarError("not a calendar file (no BEGIN:VCALENDAR … END:VCALENDAR)")
    return calendars


def _occurrences(
    parts: list[Component], timezones: list[Component], now: datetime, zone: tzinfo, cuts: _Cuts
) -> list[Component]:
    """One series' occurrences from `now` until the horizon, by start: at most
    MAX_OCCURRENCES (more cut), none once READ_SECONDS have passed."""
    only = Calendar()
    for timezone in timezones:
        only.add_component(timezone)
    title = ""
    for part in parts:
        if "RECURRENCE-ID" not in part:  # the series itself, not a moved occurrence
            title = _summary(part)
            bounded = _bounded(part, now, zone)
            if bounded is _ENDED:
                return []
            if bounded is None:
                cuts.left_out.append(title or _uid(part))
                return []
            part = bounded
        only.add_component(part)
    if time.monotonic() > cuts.deadline:
        cuts.out_of_time = True
        return []
    horizon = now + RECURRING_HORIZON
    try:
        # One query for the whole window: the rule is bounded now (at most MAX_PER_DAY a
        # day, ending at the horizon), where after()'s growing windows each walked the
        # rule again from its first date.
        occurrences = recurring_ical_events.of(only).between(now, horizon)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:  # InvalidCalendar: ValueError
        raise CalendarError(f"a recurring event cannot be read ({_short(exc)})") from exc
    timed = []
    for occurrence in occurrences:
        start = getattr(occurrence.get("DTSTART"), "dt", None)
        if start is not None and now <= _aware(start, zone) < horizon:  # not begun yet
            timed.append((_aware(start, zone), occurrence))
    timed.sort(key=lambda pair: pair[0])
    if len(timed) > MAX_OCCURRENCES:
        cuts.series.append(title or _uid(parts[0]))
    return [occurrence for _, occurrence in timed[:MAX_OCCURRENCES]]


# The length of one period of a rule, where it is always the same on the wall clock.
_FIXED_PERIODS = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(weeks=1),
}
_MONTHS = {"MONTHLY": 1, "YEARLY": 12}
# A rule without other parts has exactly one occurrence per period.
_SIMPLE_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"}
# BY… parts that add occurrences within a period (instead of filtering) when the
# rule's FREQ is coarser than the part: the part's unit, in FREQ order.
_ORDER = ["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"]
_PART_UNIT = {
    "BYSECOND": "SECONDLY",
    "BYMINUTE": "MINUTELY",
    "BYHOUR": "HOURLY",
    "BYDAY": "DAILY",
    "BYMONTHDAY": "DAILY",
    "BYYEARDAY": "DAILY",
    "BYWEEKNO": "WEEKLY",
    "BYMONTH": "MONTHLY",
}


# What _bounded returns for a series whose COUNT ran out before now.
_ENDED = VEvent()


def _bounded(vevent: Component, now: datetime, zone: tzinfo) -> Component | None:
    """The series moved up to just before `now` and ended at the horizon, so expanding it
    walks only the weeks that are imported; None when that cannot be done cheaply.

    Moving DTSTART by whole periods of its rule (INTERVAL included) keeps every
    occurrence from there on: the parts a rule takes from DTSTART (time of day,
    weekday, day of month) stay the same, and so does the phase of INTERVAL. A COUNT
    is lowered by the occurrences passed over, which is exact for a rule with one
    occurrence per period; other rules with COUNT are walked from the start, if short."""
    rules = vevent.get("RRULE")
    if rules is None:
        return vevent  # RDATEs only: a list in the file, as long as the file allows
    if isinstance(rules, list):
        if len(rules) != 1:
            return None  # several RRULEs: RFC 5545 advises against them; none seen in use
        rules = rules[0]
    rule: dict[str, list[Any]] = {str(k).upper(): list(v) for k, v in dict(rules).items()}
    start = _value(vevent, "DTSTART")
    if not isinstance(start, datetime):
        return vevent  # all-day; skipped by the caller
    freq = str(rule.get("FREQ", [""])[0]).upper()
    if freq not in _ORDER:
        return vevent  # the library says what is wrong with it
    try:
        interval = max(1, int(rule.get("INTERVAL", [1])[0]))
        count = int(rule["COUNT"][0]) if "COUNT" in rule else None
    except (TypeError, ValueError):
        return vevent
    if _per_day(rule, freq, interval) > MAX_PER_DAY:
        return None
    end = _value(vevent, "DTEND")
    duration = _value(vevent, "DURATION")
    if isinstance(end, datetime):
        length = _aware(end, zone) - _aware(start, zone)
    else:
        length = duration if isinstance(duration, timedelta) else timedelta(0)
    length = max(length, timedelta(0))
    horizon_end = now + RECURRING_HORIZON + timedelta(days=1)
    # The new first date ends one period and more before now: it and any occurrence
    # before it are past, so moving it changes nothing that is imported.
    steps, moved = _move(start, freq, interval, now - length, zone)
    simple = set(rule) <= _SIMPLE_PARTS and (freq in _FIXED_PERIODS or start.day <= 28)
    if count is not None:
        if simple and steps:
            if count - steps <= 0:
                return _ENDED
            rule["COUNT"] = [count - steps]
        else:
            walk = _walk_estimate(rule, freq, interval, start, horizon_end, zone)
            if walk > MAX_RULE_STEPS and walk > count:
                return None
            steps = 0  # walked from its own start
    else:
        until = horizon_end
        if simple and freq in _FIXED_PERIODS:
            # One occurrence per period: a few more periods than can be imported suffice.
            until = min(until, now + _FIXED_PERIODS[freq] * interval * (MAX_OCCURRENCES + 2))
        if "UNTIL" in rule:
            given = rule["UNTIL"][0]
            if isinstance(given, date):
                until = min(until, _aware(given, zone))
        if start.tzinfo is None:
            rule["UNTIL"] = [until.astimezone(zone).replace(tzinfo=None)]
        else:
            rule["UNTIL"] = [until.astimezone(UTC)]
    bounded = vevent.copy()
    for name in ("DTSTART", "DTEND", "RRULE"):
        bounded.pop(name, None)
    # A copy's subcomponents (VALARM) are shared; nothing here changes them.
    bounded.subcomponents = list(vevent.subcomponents)
    first = moved if steps else start
    bounded.add("DTSTART", first)
    if isinstance(end, datetime):
        bounded.add("DTEND", first + (end - start))
    bounded.add("RRULE", vRecur(rule))
    return bounded


def _per_day(rule: dict[str, list[Any]], freq: str, interval: int) -> float:
    """The most occurrences the rule can have in one day."""
    rank = _ORDER.index(freq)
    per_day = 1.0
    for part, count in (("BYHOUR", 24), ("BYMINUTE", 60), ("BYSECOND", 60)):
        if part in rule:
            per_day *= max(1, len(rule[part]))
        elif rank <= _ORDER.index(_PART_UNIT[part]):
            per_day *= count
    if freq in _FIXED_PERIODS and rank < _ORDER.index("DAILY"):
        per_day = min(per_day, 86400 / (_FIXED_PERIODS[freq].total_seconds() * interval))
    return per_day


def _move(
    start: datetime, freq: str, interval: int, before: datetime, zone: tzinfo
) -> tuple[int, datetime]:
    """(n, start moved by n whole periods), with n as large as keeps it two periods
    before `before`; (0, start) when it is not that far back."""
    aware = _aware(start, zone)
    if freq in _FIXED_PERIODS:
        period = _FIXED_PERIODS[freq] * interval
        # Minus two: the wall clock and UTC differ by a summer-time hour or so.
        n = (before - aware) // period - 2
        return (n, start + period * n) if n > 0 else (0, start)
    months = _MONTHS[freq] * interval
    local = before.astimezone(aware.tzinfo)
    n = ((local.year - start.year) * 12 + local.month - start.month) // months - 1
    for _ in range(50):  # 31 March + n months may not exist; an earlier period does
        if n <= 0:
            break
        total = start.month - 1 + n * months
        try:
            return n, start.replace(year=start.year + total // 12, month=total % 12 + 1)
        except ValueError:
            n -= 1
    return 0, start


def _walk_estimate(
    rule: dict[str, list[Any]],
    freq: str,
    interval: int,
    start: datetime,
    until: datetime,
    zone: tzinfo,
) -> float:
    """About how many steps expanding the rule from `start` to `until` takes."""
    if freq in _FIXED_PERIODS:
        period_days = _FIXED_PERIODS[freq].total_seconds() / 86400
    else:
        period_days = 30.5 * _MONTHS[freq]
    days = max(0.0, (until - _aware(start, zone)).total_seconds() / 86400)
    periods = days / (period_days * interval) + 1
    rank = _ORDER.index(freq)
    factor = 1.0
    for part, values in rule.items():
        unit = _PART_UNIT.get(part)
        if unit is not None and _ORDER.index(unit) < rank:
            factor *= max(1, len(values)) * (5 if part == "BYDAY" and rank > 4 else 1)
    return periods * factor


def _start(vevent: Component, zone: tzinfo) -> datetime | date | None:
    """DTSTART as an aware datetime, or a date for an all-day event, or None."""
    return _when(vevent, "DTSTART", zone)


def _when(vevent: Component, name: str, zone: tzinfo) -> datetime | date | None:
    value = _value(vevent, name)
    if value is None:
        return None
    if isinstance(value, datetime):
        return _aware(value, zone)
    if isinstance(value, date):
        return value
    raise CalendarError(f"{_summary(vevent) or 'an event'}: {name} is not a date or time")


def _value(vevent: Component, name: str) -> object:
    """The property's decoded value, None when it is missing."""
    prop = vevent.get(name)
    if prop is None:
        return None
    try:
        return getattr(prop, "dt", prop)
    except ValueError as exc:  # icalendar keeps an unreadable value and raises on use
        raise CalendarError(f"{_summary(vevent) or 'an event'}: {name} cannot be read") from exc


def _aware(value: datetime | date, zone: tzinfo) -> datetime:
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def _incoming(vevent: Component, uid: str, start: datetime, zone: tzinfo, cuts: _Cuts) -> _Incoming:
    end = _when(vevent, "DTEND", zone)
    if not isinstance(end, datetime):
        duration = _value(vevent, "DURATION")
        end = start + duration if isinstance(duration, timedelta) else None
    title = _summary(vevent) or "Ohne Titel"
    if len(title) > MAX_EVENT_TITLE:
        cuts.titles += 1
        title = _shortened(title, MAX_EVENT_TITLE)
    description = without_control_characters(str(vevent.get("DESCRIPTION", ""))).strip() or None
    if description is not None and len(description) > MAX_EVENT_DESCRIPTION:
        cuts.descriptions += 1
        description = _shortened(description, MAX_EVENT_DESCRIPTION)
    try:
        sequence = max(0, int(vevent.get("SEQUENCE", 0)))
    except (TypeError, ValueError):
        sequence = 0
    return _Incoming(
        uid=uid,
        title=title,
        description=description,
        start=start.astimezone(UTC),
        end=end.astimezone(UTC) if end is not None and end > start else None,
        cancelled=str(vevent.get("STATUS", "")).strip().upper() == "CANCELLED",
        sequence=sequence,
        format=_format(title, _categories(vevent)),
    )


def _summary(vevent: Component) -> str:
    """The title on one line, without control characters."""
    return " ".join(without_control_characters(str(vevent.get("SUMMARY", ""))).split())


def _shortened(text: str, limit: int) -> str:
    """At most `limit` characters, ending in "…" and, where one is near, at a word's end."""
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _categories(vevent: Component) -> list[str]:
    """CATEGORIES may appear several times, each with a list of words."""
    values: Any = vevent.get("CATEGORIES", [])
    found: list[str] = []
    for value in values if isinstance(values, list) else [values]:
        found.extend(str(cat) for cat in getattr(value, "cats", [value]))
    return found


def _format(title: str, categories: list[str]) -> EventFormat:
    """Keep it simple: a known word in the categories, else in the title, else OTHER."""
    for text in (" ".join(categories), title):
        folded = text.casefold()
        for kind, words in _FORMAT_WORDS:
            if any(word in folded for word in words):
                return kind
    return EventFormat.OTHER


def _derived_uid(vevent: Component, zone: tzinfo) -> str:
    """The same summary and start give the same UID, so a re-import still matches."""
    start = _start(vevent, zone)
    stamp = start.astimezone(UTC).isoformat() if isinstance(start, datetime) else str(start)
    digest = hashlib.sha256(f"{_summary(vevent)}\n{stamp}".encode()).hexdigest()
    return f"import-{digest[:32]}@werkbank"


def _occurrence_uid(uid: str, planned: datetime | date | None) -> str:
    day = planned.date() if isinstance(planned, datetime) else planned
    return _fit_uid(f"{uid}/{day.isoformat() if day else 'undated'}")


def _fit_uid(uid: str) -> str:
    """A UID longer than the column becomes a hash of itself (still stable)."""
    if len(uid) <= _UID_MAX:
        return uid
    return f"import-{hashlib.sha256(uid.encode()).hexdigest()}@werkbank"


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 80 else text[:77] + "…"


# -- options of `werkbank import ics` ------------------------------------------------


async def place_by_id_or_name(db: Database, text: str) -> int:
    """The id of the place with this id or exactly this name."""
    text = text.strip()
    async with db.sessions() as session:
        if text.isdigit() and await session.get(Place, int(text)) is not None:
            return int(text)
        ids = (await session.scalars(select(Place.id).where(Place.name == text).limit(2))).all()
    if not ids:
        raise CalendarError(f"there is no place {text!r} (give its id or its exact name)")
    if len(ids) > 1:
        raise CalendarError(f"more than one place is called {text!r}; give its id")
    return ids[0]


async def organiser_by_account(db: Database, account: str) -> int:
    """The member behind 'telegram:123' etc.; they must be an organiser or an admin."""
    try:
        channel, external_id = parse_account(account)
    except ServiceError as exc:
        raise CalendarError(str(exc)) from exc
    async with db.sessions() as session:
        row = (
            await session.execute(
                select(Member.id, Member.role)
                .join(ChannelAccount, ChannelAccount.member_id == Member.id)
                .where(ChannelAccount.channel == channel, ChannelAccount.external_id == external_id)
            )
        ).first()
    if row is None:
        raise CalendarError(f"no member has written from {account} yet")
    if not Role(row.role).may_organise:
        raise CalendarError(
            f"{account} is no organiser; first: werkbank admin grant organiser {account}"
        )
    return int(row.id)
