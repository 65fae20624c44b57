"""What organisers do: choose or add a place, publish an event, change or cancel it,
see who comes, mark attendance, and download the list.

Rules for every method (checked before anything is written, so a refusal
changes nothing): the member must be an organiser or an admin, and an organiser
acts only on events they organise; admins may act on any event. An event id
that does not exist is refused the same way: button payloads are never trusted.

Changes to an event's seats go through the same event-row lock as sign-ups
(`bot.services.registrations`), so an edit or a cancellation never races a
sign-up into an overbooked or half-told event.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, ScalarSelect, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.codes import (
    HOLDS_SEAT,
    EventFormat,
    EventStatus,
    NoticeKind,
    PlaceStatus,
    RegistrationStatus,
    Role,
    TopicStatus,
    WorkStatus,
    known_code,
)
from bot.geo import GeoPoint, default_gazetteer
from bot.i18n import N_, translator
from bot.services import NotAllowed, ServiceError
from bot.services.checkin_times import CheckinTimes
from bot.services.contracts import (
    DESCRIPTION_CHANGED,
    SEATS_CHANGED,
    TIME_CHANGED,
    TITLE_CHANGED,
    Attendee,
    EventChange,
    EventDraft,
    OrganisedEvent,
    PlaceChoice,
    Roster,
)
from bot.services.database import Database
from bot.services.places import PlaceSearch
from bot.services.registrations import (
    SEAT_NOTICES,
    _lock_event,
    fill_free_seats,
    hold_seats,
    reschedule_reminders,
)
from bot.storage.models import (
    AuditLog,
    Event,
    Member,
    Notice,
    Place,
    Registration,
    Topic,
    TopicInterest,
    lat_band,
)

MAX_CHOICES = 8
# Events stay in "Meine Veranstaltungen" this long after they end: time to mark attendance.
KEEP_PAST = timedelta(days=7)

_TOLD = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
# A cancelled event makes every pending notice about it pointless, except the cancellation.
_MOOT_AFTER_CANCEL = (
    *SEAT_NOTICES,
    NoticeKind.MOVED_UP,
    NoticeKind.EVENT_CHANGED,
    NoticeKind.MINIMUM_CHECK,
)
_UMLAUTS = (("Ä", "ae"), ("Ö", "oe"), ("Ü", "ue"), ("ä", "ae"), ("ö", "oe"), ("ü", "ue"))
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})

# The attendee list's header and statuses: English message ids, in the organiser's language.
CSV_HEADER = (
    N_("Name"),
    N_("Sign-up status"),
    N_("Waiting list no."),
    N_("Expectation"),
    N_("Signed up on"),
)
CSV_STATUS = {
    RegistrationStatus.REGISTERED: N_("signed up"),
    RegistrationStatus.WAITLISTED: N_("waiting list"),
    RegistrationStatus.ATTENDED: N_("took part"),
    RegistrationStatus.CANCELLED: N_("withdrawn"),
    RegistrationStatus.HELD: N_("invited, seat kept"),
}
# How the list writes when someone signed up: as a German or an English spreadsheet reads it.
CSV_TIME = {"de": "%d.%m.%Y %H:%M", "en": "%Y-%m-%d %H:%M"}
UNNAMED = N_("Member {id}")  # a member without a display name
# A past sign-up kept as a count after its member deleted everything (a stand-in).
ERASED = N_("deleted member")
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class InvalidEvent(ServiceError):
    """An event, or a change to one, that breaks a rule; the message says which (English)."""


def minimum_check_key(event_id: int) -> str:
    return f"minimum_check:{event_id}"


def _fold(text: str) -> str:
    """'Mühle', 'MUEHLE' -> 'muehle': the form names are compared in."""
    return text.casefold().translate(_GERMAN)


def _folded_column(column: Any) -> ColumnElement[str]:
    """_fold in SQL, the same on SQLite (whose lower() knows only ASCII) and PostgreSQL."""
    expr = column
    for umlaut, plain in _UMLAUTS:
        expr = func.replace(expr, umlaut, plain)
    return func.lower(func.replace(expr, "ß", "ss"))


def _cell(value: str) -> str:
    """A spreadsheet shows this as text, never runs it as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


class Organising:
    """The OrganiserService used by dialogs (see bot.services.contracts)."""

    def __init__(
        self,
        db: Database,
        timezone: str,
        hold: timedelta = timedelta(hours=48),
        times: CheckinTimes | None = None,
    ) -> None:
        self.db = db
        self.tz = ZoneInfo(timezone)
        self.times = times or CheckinTimes(self.tz)
        self._places = PlaceSearch(db)
        # How long a workshop made of a topic keeps seats for its invited group.
        self.seat_hold = hold

    # -- places --------------------------------------------------------------
    async def places_named(self, member_id: int, text: str) -> Sequence[PlaceChoice]:
        """Places whose name contains `text` ("Muehle" finds "Mühle"); active ones first."""
        async with self.db.sessions() as session:
            await organiser(session, member_id)
            wanted = _fold(text.strip())
            if not wanted:
                return []
            name = _folded_column(Place.name)
            rows = await session.execute(
                select(Place.id, Place.name, Place.town)
                .where(name.contains(wanted, autoescape=True))
                .order_by(
                    case((Place.status == PlaceStatus.ACTIVE, 0), else_=1),
                    case((name.startswith(wanted, autoescape=True), 0), else_=1),
                    Place.name,
                    Place.id,
                )
                .limit(MAX_CHOICES)
            )
            return [PlaceChoice(id=r.id, name=r.name, town=r.town) for r in rows]

    async def places_near(
        self, member_id: int, point: GeoPoint, radius_km: float
    ) -> Sequence[PlaceChoice]:
        """The nearest active places within the radius."""
        async with self.db.sessions() as session:
            await organiser(session, member_id)
        # No opening-hours filter is asked for, so the moment does not matter.
        page = await self._places.find_nearby(
            point, radius_km, datetime.now(UTC), limit=MAX_CHOICES
        )
        return [PlaceChoice(id=hit.id, name=hit.name, town=hit.town) for hit in page.hits]

    async def new_place(self, member_id: int, name: str, point: GeoPoint, town: str) -> int:
        """An active place an organiser adds; the same name in the same town is reused."""
        name, town = name.strip()[:200], town.strip()[:200]
        if not name:
            raise InvalidEvent("a place needs a name")
        async with self.db.transaction() as session:
            await organiser(session, member_id)
            existing = await session.scalar(
                select(Place.id).where(
                    Place.name == name, Place.town == town, Place.status == PlaceStatus.ACTIVE
                )
            )
            if existing is not None:
                return existing
            place = Place(
                name=name,
                types="",
                town=town,
                lat=point.lat,
                lon=point.lon,
                lat_band=lat_band(point.lat),
                approximate=_is_town_centre(point, town),
                status=PlaceStatus.ACTIVE,
                source=f"organiser {member_id}",
            )
            session.add(place)
            await session.flush()
            session.add(
                AuditLog(
                    actor_member_id=member_id,
                    action="place.create",
                    subject=f"place:{place.id}",
                    detail={"name": name, "town": town},
                )
            )
            return place.id

    # -- events ----------------------------------------------------------------
    async def create(self, member_id: int, draft: EventDraft, now: datetime) -> int:
        """Publish an event; with a minimum, the organiser is asked by `minimum_by`
        whether to hold it (a MINIMUM_CHECK notice)."""
        title = draft.title.strip()
        uid = f"werkbank-{draft.key or secrets.token_hex(12)}@werkbank"
        async with self.db.transaction() as session:
            await organiser(session, member_id)
            fmt = _check_draft(draft, title, now)
            if await session.get(Place, draft.place_id) is None:
                raise InvalidEvent(f"there is no place {draft.place_id}")
            published = await _published(session, member_id, uid)
            if published is not None:
                return published  # the same button again: a double tap, a redelivery
            event = Event(
                uid=uid,
                title=title,
                description=(draft.description or "").strip() or None,
                format=fmt,
                place_id=draft.place_id,
                start_at=draft.start_at,
                end_at=draft.end_at,
                capacity=draft.capacity,
                minimum=draft.minimum,
                minimum_by=draft.minimum_by if draft.minimum is not None else None,
                deadline=draft.deadline,
                sequence=0,
                status=EventStatus.PUBLISHED,
                organiser_id=member_id,
            )
            try:
                async with session.begin_nested():  # undone alone if the key is taken
                    session.add(event)
                    await session.flush()
            except IntegrityError:
                # Another worker published with this key a moment ago: that is the event.
                published = await _published(session, member_id, uid)
                if published is None:
                    raise
                return published
            if event.minimum is not None and event.minimum_by is not None:
                session.add(
                    Notice(
                        member_id=member_id,
                        kind=NoticeKind.MINIMUM_CHECK,
                        event_id=event.id,
                        params={},
                        dedupe=minimum_check_key(event.id),
                        due_at=event.minimum_by,
                    )
                )
            if draft.topic_id is not None:
                await _plan_topic(
                    session, draft.topic_id, event, now, list(draft.invite), now + self.seat_hold
                )
            _audit(session, member_id, "event.create", event, {"title": title})
            return event.id

    async def mine(self, member_id: int, now: datetime) -> Sequence[OrganisedEvent]:
        """The events the member organises (an admin's own too), from a week ago on."""
        async with self.db.sessions() as session:
            await organiser(session, member_id)
            return await _organised(
                session,
                Event.organiser_id == member_id,
                func.coalesce(Event.end_at, Event.start_at) >= now - KEEP_PAST,
            )

    async def roster(self, member_id: int, event_id: int) -> Roster:
        """Who has a seat (by sign-up order), then the waitlist numbered 1..n."""
        async with self.db.sessions() as session:
            member = await own_event(session, member_id, event_id)
            rows = await _roster_rows(session, event_id, translator(member.locale)._)
            return Roster(
                event=(await _organised(session, Event.id == event_id))[0],
                attendees=tuple(_attendee(reg, name, number) for reg, name, number in rows),
            )

    async def set_attended(
        self, member_id: int, event_id: int, registration_id: int, attended: bool
    ) -> None:
        """Mark a member with a seat as attended, or take the mark back."""
        async with self.db.transaction() as session:
            await own_event(session, member_id, event_id)
            reg = await session.get(Registration, registration_id)
            if reg is None or reg.event_id != event_id:
                raise NotAllowed(f"registration {registration_id} is not of event {event_id}")
            await _lock_event(session, event_id)  # a member's own cancel must not interleave
            await session.refresh(reg)
            if not reg.status.holds_seat:
                raise InvalidEvent("only a member with a seat can be marked as attended")
            reg.status = RegistrationStatus.ATTENDED if attended else RegistrationStatus.REGISTERED

    async def change(
        self, member_id: int, event_id: int, change: EventChange, now: datetime
    ) -> tuple[str, ...]:
        """Apply an edit; everyone signed up or waiting is told once what changed.

        A new start moves the end, the sign-up deadline, the minimum check and the
        pending reminders along with it (an end given in the same edit wins). More
        seats move members up from the waitlist. Fewer seats never remove anyone who
        already has one: the new number only holds back later sign-ups until enough
        people have left. Returns the changes as English message ids.
        """
        async with self.db.transaction() as session:
            await own_event(session, member_id, event_id)
            event = await _lock_event(session, event_id)
            assert event is not None  # own_event found it; events are not deleted
            if event.status == EventStatus.CANCELLED:
                raise InvalidEvent("the event is cancelled")
            changes: list[str] = []
            # Old and new values go with the notice: it is sent later, maybe after
            # another edit, and says "new time … (before …)" as it was at this edit.
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            title = change.title.strip() if change.title is not None else None
            if title is not None and title != event.title:
                if not title:
                    raise InvalidEvent("the title is empty")
                before["title"], after["title"] = event.title, title
                event.title = title
                changes.append(TITLE_CHANGED)
            description = change.description.strip() if change.description is not None else None
            if description is not None and description != (event.description or ""):
                event.description = description or None
                changes.append(DESCRIPTION_CHANGED)
            old_start, old_end = event.start_at, event.end_at
            if _time_changed(event, change, now):
                before.update(start_at=_iso(old_start), end_at=_iso(old_end))
                after.update(start_at=_iso(event.start_at), end_at=_iso(event.end_at))
                changes.append(TIME_CHANGED)
            more_seats = False
            capacity = None if change.unlimited else change.capacity
            if (change.unlimited or change.capacity is not None) and capacity != event.capacity:
                _check_seats(capacity, event.minimum)
                old = event.capacity
                more_seats = capacity is None or (old is not None and capacity > old)
                before["capacity"], after["capacity"] = old, capacity
                event.capacity = capacity
                changes.append(SEATS_CHANGED)
            if not changes:
                return ()
            event.sequence += 1
            params = {"changes": changes, "before": before, "after": after}
            await _tell(session, event, NoticeKind.EVENT_CHANGED, params, now)
            if event.start_at != old_start:
                await _move_timed_notices(session, event, now, self.times)
            if more_seats:
                await fill_free_seats(session, event, now, self.times)
            _audit(session, member_id, "event.change", event, {"changes": changes})
            return tuple(changes)

    async def cancel(self, member_id: int, event_id: int, reason: str, now: datetime) -> int:
        """Cancel the event and tell everyone signed up or waiting, with the reason;
        returns how many are told (0 when it was cancelled already)."""
        reason = reason.strip()
        async with self.db.transaction() as session:
            await own_event(session, member_id, event_id)
            event = await _lock_event(session, event_id)
            assert event is not None
            if event.status == EventStatus.CANCELLED:
                return 0
            event.status, event.cancel_reason = EventStatus.CANCELLED, reason or None
            event.sequence += 1
            await session.execute(
                update(Notice)
                .where(
                    Notice.event_id == event_id,
                    Notice.kind.in_(_MOOT_AFTER_CANCEL),
                    Notice.status == WorkStatus.PENDING,
                )
                .values(status=WorkStatus.SKIPPED, error="event cancelled")
                .execution_options(synchronize_session=False)
            )
            told = await _tell(session, event, NoticeKind.EVENT_CANCELLED, {"reason": reason}, now)
            _audit(session, member_id, "event.cancel", event, {"reason": reason, "told": told})
            return told

    async def hold(self, member_id: int, event_id: int) -> None:
        """The organiser holds the event although the minimum is not reached (yet):
        the pending minimum check is done; nothing else changes."""
        async with self.db.transaction() as session:
            await own_event(session, member_id, event_id)
            await session.execute(
                update(Notice)
                .where(
                    Notice.dedupe == minimum_check_key(event_id),
                    Notice.status == WorkStatus.PENDING,
                )
                .values(status=WorkStatus.DONE, done_at=datetime.now(UTC))
                .execution_options(synchronize_session=False)
            )

    async def attendee_csv(self, member_id: int, event_id: int) -> bytes:
        """The roster as a CSV file that LibreOffice and a German Excel open as is:
        UTF-8 with a byte order mark, ';' between cells, CRLF, a header in the
        organiser's language."""
        async with self.db.sessions() as session:
            member = await own_event(session, member_id, event_id)
            t = translator(member.locale)
            rows = await _roster_rows(session, event_id, t._)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow([t._(column) for column in CSV_HEADER])
        time_format = CSV_TIME.get(t.locale, CSV_TIME["de"])
        for reg, name, number in rows:
            signed_up = reg.created_at.astimezone(self.tz).strftime(time_format)
            writer.writerow(
                (
                    _cell(name),
                    t._(CSV_STATUS[reg.status]),
                    "" if number is None else str(number),
                    _cell(reg.expectation or ""),
                    signed_up,
                )
            )
        return out.getvalue().encode("utf-8-sig")


# -- rights ----------------------------------------------------------------------
async def _published(session: AsyncSession, member_id: int, uid: str) -> int | None:
    """The event this organiser already published under this key, if any."""
    return await session.scalar(
        select(Event.id).where(Event.uid == uid, Event.organiser_id == member_id)
    )


async def organiser(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None or member.deleted_at is not None or not member.role.may_organise:
        raise NotAllowed(f"member {member_id} is no organiser")
    return member


async def own_event(session: AsyncSession, member_id: int, event_id: int) -> Member:
    """The organiser (or admin) acting on the event; refused unless it is theirs."""
    member = await organiser(session, member_id)
    row = (
        await session.execute(select(Event.organiser_id).where(Event.id == event_id))
    ).one_or_none()
    if row is None:
        raise NotAllowed(f"there is no event {event_id}")
    if member.role != Role.ADMIN and row.organiser_id != member_id:
        raise NotAllowed(f"event {event_id} is not organised by member {member_id}")
    return member


# -- rules -----------------------------------------------------------------------
def _check_draft(draft: EventDraft, title: str, now: datetime) -> EventFormat:
    """The draft's format, once the draft keeps every rule."""
    fmt = known_code(EventFormat, draft.format)
    if fmt is None:
        raise InvalidEvent(f"unknown format {draft.format!r}")
    if not title:
        raise InvalidEvent("the title is empty")
    if draft.start_at <= now:
        raise InvalidEvent("the start is in the past")
    _check_times(draft.start_at, draft.end_at)
    _check_seats(draft.capacity, draft.minimum)
    if draft.deadline is not None and draft.deadline > draft.start_at:
        raise InvalidEvent("the sign-up deadline is after the start")
    if draft.minimum_by is not None and draft.minimum_by > draft.start_at:
        raise InvalidEvent("the minimum is due after the start")
    return fmt


def _check_times(start: datetime, end: datetime | None) -> None:
    if end is not None and end <= start:
        raise InvalidEvent("the end is not after the start")


def _check_seats(capacity: int | None, minimum: int | None) -> None:
    if capacity is not None and capacity < 1:
        raise InvalidEvent("there must be at least one seat")
    if minimum is not None and minimum < 1:
        raise InvalidEvent("the minimum must be at least one")
    if capacity is not None and minimum is not None and minimum > capacity:
        raise InvalidEvent("the minimum is more than the seats")


def _time_changed(event: Event, change: EventChange, now: datetime) -> bool:
    """Apply a new start and/or end; True when either moved."""
    start = change.start_at if change.start_at is not None else event.start_at
    shift = start - event.start_at
    if change.end_at is not None:
        end: datetime | None = change.end_at
    else:
        end = event.end_at + shift if event.end_at is not None else None
    if start == event.start_at and end == event.end_at:
        return False
    if start != event.start_at and start <= now:
        raise InvalidEvent("the start is in the past")
    _check_times(start, end)
    if shift:
        # What was set relative to the start keeps its distance to it.
        if event.deadline is not None:
            event.deadline += shift
        if event.minimum_by is not None:
            event.minimum_by += shift
    event.start_at, event.end_at = start, end
    return True


def _iso(moment: datetime | None) -> str | None:
    """A time as a notice's params keep it (JSON): ISO 8601 with its offset."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _is_town_centre(point: GeoPoint, town: str) -> bool:
    """A point taken from the gazetteer stands for a whole town: shown as approximate."""
    return any(
        abs(m.point.lat - point.lat) < 1e-6 and abs(m.point.lon - point.lon) < 1e-6
        for m in default_gazetteer().lookup(town).matches
    )


# -- writing -----------------------------------------------------------------------
async def _tell(
    session: AsyncSession, event: Event, kind: NoticeKind, params: dict[str, Any], now: datetime
) -> int:
    """One notice, due now, to everyone signed up or waiting; returns how many."""
    regs = (
        await session.execute(
            select(Registration.id, Registration.member_id).where(
                Registration.event_id == event.id, Registration.status.in_(_TOLD)
            )
        )
    ).all()
    session.add_all(
        Notice(
            member_id=member,
            kind=kind,
            event_id=event.id,
            registration_id=reg_id,
            params=params,
            due_at=now,
        )
        for reg_id, member in regs
    )
    await session.flush()
    return len(regs)


async def _move_timed_notices(
    session: AsyncSession, event: Event, now: datetime, times: CheckinTimes
) -> None:
    """Reminders, check-ins and the minimum check follow the event to its new time."""
    await reschedule_reminders(session, event, now, times)
    if event.minimum_by is not None:
        await session.execute(
            update(Notice)
            .where(
                Notice.event_id == event.id,
                Notice.kind == NoticeKind.MINIMUM_CHECK,
                Notice.status == WorkStatus.PENDING,
            )
            .values(due_at=event.minimum_by)
            .execution_options(synchronize_session=False)
        )


def _audit(
    session: AsyncSession, member_id: int, action: str, event: Event, detail: dict[str, Any]
) -> None:
    session.add(
        AuditLog(
            actor_member_id=member_id, action=action, subject=f"event:{event.id}", detail=detail
        )
    )


# -- reading -----------------------------------------------------------------------
def _counted(statuses: Sequence[RegistrationStatus]) -> ScalarSelect[int]:
    return (
        select(func.count(Registration.id))
        .where(Registration.event_id == Event.id, Registration.status.in_(statuses))
        .correlate(Event)
        .scalar_subquery()
    )


async def _organised(
    session: AsyncSession, *conditions: ColumnElement[bool]
) -> list[OrganisedEvent]:
    """Events as "Meine Veranstaltungen" lists them, by start, in one query."""
    rows = await session.execute(
        select(
            Event,
            Place.name,
            Place.town,
            _counted(HOLDS_SEAT),
            _counted((RegistrationStatus.WAITLISTED,)),
        )
        .outerjoin(Place, Place.id == Event.place_id)
        .where(*conditions)
        .order_by(Event.start_at, Event.id)
    )
    return [
        OrganisedEvent(
            id=event.id,
            title=event.title,
            format=EventFormat(event.format),
            start_at=event.start_at,
            end_at=event.end_at,
            place_name=place_name,
            town=town,
            capacity=event.capacity,
            minimum=event.minimum,
            registered=registered,
            waitlisted=waitlisted,
            cancelled=event.status == EventStatus.CANCELLED,
        )
        for event, place_name, town, registered, waitlisted in rows
    ]


async def _roster_rows(
    session: AsyncSession, event_id: int, _: Callable[[str], str]
) -> list[tuple[Registration, str, int | None]]:
    """(registration, name, waitlist number): seats first, then the waitlist, each by
    sign-up order; cancelled registrations are left out."""
    rows = (
        await session.execute(
            select(Registration, Member.display_name, Member.deleted_at)
            .join(Member, Member.id == Registration.member_id)
            .where(
                Registration.event_id == event_id,
                Registration.status != RegistrationStatus.CANCELLED,
            )
            .order_by(
                case((Registration.status == RegistrationStatus.WAITLISTED, 1), else_=0),
                Registration.position,
                Registration.id,
            )
        )
    ).all()
    result: list[tuple[Registration, str, int | None]] = []
    waiting = 0
    for reg, display_name, deleted_at in rows:
        number = None
        if reg.status == RegistrationStatus.WAITLISTED:
            waiting += 1
            number = waiting
        if deleted_at is not None:  # no id: two events' stand-ins must not be linkable
            name = _(ERASED)
        else:
            name = display_name or _(UNNAMED).format(id=reg.member_id)
        result.append((reg, name, number))
    return result


def _attendee(reg: Registration, name: str, number: int | None) -> Attendee:
    return Attendee(
        registration_id=reg.id,
        name=name,
        status=RegistrationStatus(reg.status),
        expectation=reg.expectation,
        waitlist_number=number,
    )


async def _plan_topic(
    session: AsyncSession,
    topic_id: int,
    event: Event,
    now: datetime,
    invited: list[int],
    hold_until: datetime,
) -> None:
    """The workshop was made of an open topic: link them, keep seats for the proposed
    group until `hold_until`, and tell the topic's people once (each notice opens the
    workshop, so signing up is one tap): the group by a personal invitation, the others
    that it exists."""
    topic = await session.get(Topic, topic_id, with_for_update=True)
    if topic is None or topic.status != TopicStatus.OPEN:
        return  # withdrawn or planned meanwhile: the workshop stands on its own
    topic.status = TopicStatus.PLANNED
    event.topic_id = topic.id
    wishes: dict[int, str | None] = dict(
        (
            await session.execute(
                select(TopicInterest.member_id, TopicInterest.expectation).where(
                    TopicInterest.topic_id == topic.id
                )
            )
        ).all()
    )
    people = set(wishes)
    if topic.proposer_id is not None:
        people.add(topic.proposer_id)
    group = {m: wishes.get(m) for m in invited if m in people and m != event.organiser_id}
    held = set(await hold_seats(session, event, group, hold_until, now))
    for person in sorted(people - {event.organiser_id}):
        session.add(
            Notice(
                member_id=person,
                kind=NoticeKind.TOPIC_INVITED if person in held else NoticeKind.TOPIC_PLANNED,
                event_id=event.id,
                params={"topic_id": topic.id},
                dedupe=f"topic_planned:{topic.id}:{person}",
                due_at=now,
            )
        )
