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
- past events are skipped, and so are cancelled ones that were never imported;
- STATUS:CANCELLED cancels a known event; an import never revives a cancelled one
  (members were told it is off; an old file must not quietly bring it back);
- a known event gets the file's title, description, times (and the place, when
  one is given) and raises its SEQUENCE only when one of them changed.
The whole file is read and checked before anything is written, in one transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Alarm, Calendar, Component, Timezone
from icalendar import Event as VEvent
from sqlalchemy import select

from bot.codes import EventFormat, EventStatus, Role
from bot.i18n import DEFAULT_LOCALE, N_, translator
from bot.services import ServiceError
from bot.services.database import Database
from bot.services.members import parse_account
from bot.storage.models import ChannelAccount, Event, Member, Place

PRODID = "-//Werkbank//Werkbank//DE"
# What a calendar shows for an event without an end.
DEFAULT_DURATION = timedelta(hours=2)
ALARM_BEFORE = timedelta(hours=1)
# Occurrences of a recurring event are imported this far ahead from now.
RECURRING_HORIZON = timedelta(weeks=8)
# Events in one file, occurrences included: FREQ=MINUTELY must not flood the database.
MAX_EVENTS = 1000
_UID_MAX = 255  # Event.uid
_TITLE_MAX = 200  # Event.title
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
    file that is no calendar, and for a place or organiser that does not exist."""
    incoming, skipped = _read(data, now, UTC if tz in _UTC_NAMES else ZoneInfo(tz))
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
    return ImportResult(created=created, updated=updated, skipped=skipped, unchanged=unchanged)


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


def _read(data: bytes, now: datetime, zone: tzinfo) -> tuple[dict[str, _Incoming], int]:
    """The events to store, by UID, and how many VEVENTs (or occurrences) were skipped."""
    incoming: dict[str, _Incoming] = {}
    skipped = 0

    def take(vevent: Component, uid: str) -> None:
        nonlocal skipped
        start = _start(vevent, zone)
        if not isinstance(start, datetime) or start < now:
            skipped += 1  # no start, all day, or past
            return
        incoming[uid] = _incoming(vevent, uid, start, zone)
        if len(incoming) > MAX_EVENTS:
            raise CalendarError(f"more than {MAX_EVENTS} events in one file")

    for calendar in _parse(data):
        vevents = list(calendar.walk("VEVENT"))
        for vevent in vevents:
            _check_times(vevent)
            if not str(vevent.get("UID", "")).strip():
                uid = _derived_uid(vevent, zone)
                vevent.pop("UID", None)
                vevent.add("UID", uid)
        masters = [v for v in vevents if "RRULE" in v or "RDATE" in v]
        series = {str(v["UID"]).strip() for v in masters}
        for vevent in vevents:
            uid = str(vevent["UID"]).strip()
            if uid in series:
                continue  # expanded below, moved occurrences included
            if "RECURRENCE-ID" in vevent:  # a moved occurrence whose series is not here
                uid = _occurrence_uid(uid, _when(vevent, "RECURRENCE-ID", zone))
            take(vevent, _fit_uid(uid))
        all_day = {
            str(v["UID"]).strip() for v in masters if not isinstance(_start(v, zone), datetime)
        }
        skipped += len(all_day)
        if series - all_day:
            for occurrence in _occurrences(calendar, series - all_day, now, zone):
                start = _start(occurrence, zone)
                if isinstance(start, datetime) and start >= now + RECURRING_HORIZON:
                    break
                planned = _when(occurrence, "RECURRENCE-ID", zone) or start
                take(occurrence, _occurrence_uid(str(occurrence["UID"]).strip(), planned))
    return incoming, skipped


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
    calendar: Calendar, uids: set[str], now: datetime, zone: tzinfo
) -> list[Component]:
    """Occurrences of these series from `now` until the horizon (and one more), by start."""
    only = Calendar()
    for component in calendar.subcomponents:
        if component.name == "VTIMEZONE" or (
            component.name == "VEVENT" and str(component.get("UID", "")).strip() in uids
        ):
            only.add_component(component)
    found: list[Component] = []
    try:
        # after() yields in order of start, so the caller can stop at the horizon;
        # between() would first compute every occurrence of a FREQ=SECONDLY rule.
        for occurrence in recurring_ical_events.of(only).after(now):
            found.append(occurrence)
            start = getattr(occurrence.get("DTSTART"), "dt", None)
            if start is not None and _aware(start, zone) >= now + RECURRING_HORIZON:
                break
            if len(found) > MAX_EVENTS:
                raise CalendarError(f"more than {MAX_EVENTS} events in one file")
    except (ValueError, TypeError, KeyError) as exc:  # InvalidCalendar is a ValueError
        raise CalendarError(f"a recurring event cannot be read ({_short(exc)})") from exc
    return found


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


def _incoming(vevent: Component, uid: str, start: datetime, zone: tzinfo) -> _Incoming:
    end = _when(vevent, "DTEND", zone)
    if not isinstance(end, datetime):
        duration = _value(vevent, "DURATION")
        end = start + duration if isinstance(duration, timedelta) else None
    title = _summary(vevent) or "Ohne Titel"
    description = str(vevent.get("DESCRIPTION", "")).strip() or None
    try:
        sequence = max(0, int(vevent.get("SEQUENCE", 0)))
    except (TypeError, ValueError):
        sequence = 0
    return _Incoming(
        uid=uid,
        title=title[:_TITLE_MAX],
        description=description,
        start=start.astimezone(UTC),
        end=end.astimezone(UTC) if end is not None and end > start else None,
        cancelled=str(vevent.get("STATUS", "")).strip().upper() == "CANCELLED",
        sequence=sequence,
        format=_format(title, _categories(vevent)),
    )


def _summary(vevent: Component) -> str:
    return " ".join(str(vevent.get("SUMMARY", "")).split())


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
