"""In-memory fakes of the services dialogs use, for fast dialog tests without a database.

Each fake implements one Protocol of `bot.services.contracts` (checked by mypy at the
bottom of this module) over one shared `FakeStore`: members, a few places, events,
registrations with seats and a waitlist, and the notices the real services would
queue. The rules are the ones a dialog relies on (never overbooked, waitlist order,
sign-up closes at the start or deadline, only organisers organise their own events),
not a second implementation of every detail: the end-to-end tests on SQLite and
PostgreSQL keep the real services honest.

    world = fake_world()            # a Runner over the fakes, the clock at NOW
    anna = world.user("anna")       # a ChatUser on that runner
    await anna.onboard("Bendorf")   # the real gazetteer: towns, postcodes, typos
    event_id = world.add_event("Holz trifft Laser", capacity=1)
    world.clock[0] = ...            # move time
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

from bot.codes import (
    CHECKINS,
    INVITATIONS,
    NAME_TO_ORGANISER,
    NEWS,
    NO_ANNOUNCEMENTS,
    PRIVACY_VERSION,
    Equipment,
    EventFormat,
    EventStatus,
    Field,
    NoticeKind,
    PlaceType,
    RegistrationStatus,
    Role,
    StepFree,
    TopicStatus,
)
from bot.geo import GeoPoint, default_gazetteer, haversine_km
from bot.grouping import Candidate, propose_group
from bot.handlers.runner import Runner
from bot.hours import HoursError, parse_hours
from bot.i18n import normalise_locale
from bot.matching import most_similar, title_key
from bot.messages import AccountRef
from bot.services.contracts import (
    MAX_EXPECTATION,
    Attendee,
    Cancelled,
    CheckinFigures,
    CheckinService,
    EventChange,
    EventDetails,
    EventDraft,
    EventHit,
    EventService,
    GroupMember,
    Impact,
    MemberService,
    MemberView,
    MyRegistration,
    NearbyPage,
    NotAllowed,
    OrganisedEvent,
    OrganiserService,
    Outcome,
    PlaceChoice,
    PlaceDetails,
    PlaceFilter,
    PlaceHit,
    PlaceService,
    Proposed,
    RegistrationService,
    Roster,
    ServiceError,
    Services,
    SignUp,
    Supported,
    TopicGroup,
    TopicService,
    TopicView,
)
from bot.services.conversations import Conversation, Conversations
from tests.support.chat import ChatUser
from tests.support.clock import NOW, START

_HOLDING = (RegistrationStatus.REGISTERED, RegistrationStatus.ATTENDED)
_TOLD = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
# Pointless once the event is cancelled (the fakes queue no reminders).
_MOOT_AFTER_CANCEL = (NoticeKind.MOVED_UP, NoticeKind.MINIMUM_CHECK)
_MAX_CHOICES = 8
_NO_FILTER = PlaceFilter()
_KEEP_PAST = timedelta(days=7)
# The organiser service names what changed in English message ids (translated by dialogs).
TITLE_CHANGED = "The title has changed."
DESCRIPTION_CHANGED = "The description has changed."
TIME_CHANGED = "The date or time has changed."
SEATS_CHANGED = "The number of seats has changed."
_CSV_STATUS = {
    RegistrationStatus.REGISTERED: "angemeldet",
    RegistrationStatus.WAITLISTED: "Warteliste",
    RegistrationStatus.ATTENDED: "teilgenommen",
    RegistrationStatus.CANCELLED: "abgemeldet",
}


# -- the state ---------------------------------------------------------------------
@dataclass
class FakeEvent:
    id: int
    title: str
    format: EventFormat
    start_at: datetime
    end_at: datetime | None
    place_id: int | None
    capacity: int | None
    description: str | None = None
    deadline: datetime | None = None
    minimum: int | None = None
    minimum_by: datetime | None = None
    status: EventStatus = EventStatus.PUBLISHED
    cancel_reason: str | None = None
    organiser_id: int | None = None
    sequence: int = 0  # the calendar file's SEQUENCE, raised on every change


@dataclass
class FakeRegistration:
    id: int
    event_id: int
    member_id: int
    status: RegistrationStatus
    position: int | None
    expectation: str | None
    created_at: datetime


@dataclass
class FakeNotice:
    """What the real services would put in the outbox (nothing sends it here)."""

    kind: NoticeKind
    member_id: int
    event_id: int | None
    registration_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    done: bool = False


@dataclass
class FakeTopic:
    id: int
    title: str
    sentence: str | None
    fields: tuple[Field, ...]
    author: int
    point: GeoPoint | None
    status: TopicStatus = TopicStatus.OPEN


@dataclass
class FakeStore:
    """Everything the fakes know; tests may read and change it directly."""

    members: dict[int, MemberView] = field(default_factory=dict)
    accounts: dict[tuple[str, str], int] = field(default_factory=dict)  # -> account id
    account_members: dict[int, int] = field(default_factory=dict)  # account id -> member id
    states: dict[int, tuple[str, str, dict[str, Any]]] = field(default_factory=dict)
    processed: set[tuple[str, str]] = field(default_factory=set)  # (channel, update id)
    places: dict[int, PlaceDetails] = field(default_factory=dict)
    events: dict[int, FakeEvent] = field(default_factory=dict)
    registrations: dict[int, FakeRegistration] = field(default_factory=dict)
    notices: list[FakeNotice] = field(default_factory=list)
    topics: dict[int, FakeTopic] = field(default_factory=dict)
    interests: dict[tuple[int, int], str | None] = field(default_factory=dict)  # -> wish
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> int:
        return next(self._ids)

    # -- members ---------------------------------------------------------------
    def member(self, member_id: int) -> MemberView:
        member = self.members.get(member_id)
        if member is None:
            raise ServiceError(f"there is no member {member_id}")
        return member

    def change_member(self, member_id: int, **changes: Any) -> MemberView:
        self.members[member_id] = replace(self.member(member_id), **changes)
        return self.members[member_id]

    def add_member(
        self, display_name: str, locale: str = "de", radius_km: int = 25, **values: Any
    ) -> MemberView:
        member = MemberView(
            id=self.next_id(),
            locale=locale,
            display_name=display_name[:200],
            home=values.pop("home", None),
            home_label=values.pop("home_label", None),
            radius_km=radius_km,
            field=values.pop("field", None),
            role=values.pop("role", Role.MEMBER),
            onboarded=values.pop("onboarded", False),
            **values,
        )
        self.members[member.id] = member
        return member

    def account_member(self, channel: str, external_id: str) -> MemberView:
        account_id = self.accounts.get((channel, external_id))
        if account_id is None:
            raise ServiceError(f"no member has written from {channel}:{external_id} yet")
        return self.member(self.account_members[account_id])

    # -- places ------------------------------------------------------------------
    def add_place(
        self,
        name: str,
        town: str,
        point: GeoPoint,
        types: Sequence[PlaceType] = (PlaceType.WORKSHOP,),
        opening_hours: str | None = None,
        equipment: Sequence[Equipment] = (),
        step_free: StepFree | None = None,
        closed: bool = False,
        **values: Any,
    ) -> int:
        place = PlaceDetails(
            id=self.next_id(),
            name=name,
            types=tuple(types),
            operator=values.pop("operator", None),
            street=values.pop("street", None),
            postcode=values.pop("postcode", None),
            town=town,
            point=point,
            approximate=values.pop("approximate", True),
            opening_hours=opening_hours,
            mobile=values.pop("mobile", False),
            equipment=tuple(equipment),
            step_free=step_free,
            cost=values.pop("cost", None),
            registration_required=values.pop("registration_required", None),
            contact=values.pop("contact", None),
            website=values.pop("website", None),
            description=values.pop("description", None),
            closed_for_good=closed,
            status_note=values.pop("status_note", None),
            **values,
        )
        self.places[place.id] = place
        return place.id

    def place_id(self, name: str) -> int:
        for place in self.places.values():
            if place.name == name:
                return place.id
        raise KeyError(name)

    # -- events ------------------------------------------------------------------
    def add_event(
        self,
        title: str,
        place_id: int | None,
        start: datetime,
        end: datetime | None = None,
        capacity: int | None = 5,
        fmt: EventFormat = EventFormat.TRANSFER,
        **values: Any,
    ) -> int:
        event = FakeEvent(
            id=self.next_id(),
            title=title,
            format=EventFormat(fmt),
            start_at=start,
            end_at=end,
            place_id=place_id,
            capacity=capacity,
            **values,
        )
        self.events[event.id] = event
        return event.id

    def event(self, event_id: int) -> FakeEvent | None:
        return self.events.get(event_id)

    def registrations_of(self, event_id: int) -> list[FakeRegistration]:
        return [r for r in self.registrations.values() if r.event_id == event_id]

    def held(self, event_id: int) -> int:
        return sum(1 for r in self.registrations_of(event_id) if r.status in _HOLDING)

    def waitlisted(self, event_id: int) -> list[FakeRegistration]:
        waiting = [
            r for r in self.registrations_of(event_id) if r.status == RegistrationStatus.WAITLISTED
        ]
        return sorted(waiting, key=lambda r: (r.position or 0, r.id))

    def event_hit(self, event: FakeEvent, origin: GeoPoint | None) -> EventHit:
        place = self.places.get(event.place_id) if event.place_id is not None else None
        distance = haversine_km(origin, place.point) if origin and place else None
        free = None if event.capacity is None else max(0, event.capacity - self.held(event.id))
        return EventHit(
            id=event.id,
            title=event.title,
            format=event.format,
            start_at=event.start_at,
            end_at=event.end_at,
            place_id=place.id if place else None,
            place_name=place.name if place else None,
            town=place.town if place else None,
            distance_km=distance,
            free_seats=free,
            cancelled=event.status == EventStatus.CANCELLED,
        )

    def fill_free_seats(self, event: FakeEvent, now: datetime) -> tuple[int, ...]:
        """Move members up from the waitlist into free seats; each gets a notice."""
        if event.status != EventStatus.PUBLISHED or now >= event.start_at:
            return ()
        moved: list[int] = []
        for reg in self.waitlisted(event.id):
            if event.capacity is not None and self.held(event.id) >= event.capacity:
                break
            reg.status = RegistrationStatus.REGISTERED
            self.notices.append(FakeNotice(NoticeKind.MOVED_UP, reg.member_id, event.id, reg.id))
            moved.append(reg.member_id)
        return tuple(moved)

    def tell(self, event: FakeEvent, kind: NoticeKind, params: dict[str, Any]) -> int:
        """A notice to everyone signed up or waiting; returns how many."""
        told = [r for r in self.registrations_of(event.id) if r.status in _TOLD]
        for reg in told:
            self.notices.append(FakeNotice(kind, reg.member_id, event.id, reg.id, dict(params)))
        return len(told)


def _open_at(rule: str | None, moment: datetime) -> bool:
    if not rule:
        return False
    try:
        return parse_hours(rule).is_open(moment)
    except HoursError:
        return False


def _sign_up_open(event: FakeEvent, now: datetime) -> bool:
    closes = min(event.deadline, event.start_at) if event.deadline else event.start_at
    return event.status == EventStatus.PUBLISHED and now < closes


# -- the services -------------------------------------------------------------------
class FakeMembers:
    """MemberService: each change replaces the member's MemberView."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def set_locale(self, member_id: int, locale: str) -> None:
        self.store.change_member(member_id, locale=locale)

    async def set_home(self, member_id: int, point: GeoPoint, label: str) -> None:
        self.store.change_member(member_id, home=point, home_label=label[:200])

    async def set_radius(self, member_id: int, radius_km: int) -> None:
        self.store.change_member(member_id, radius_km=max(1, min(500, radius_km)))

    async def set_field(self, member_id: int, field: Field | str) -> None:
        if field not in tuple(Field):
            raise ServiceError(f"unknown field {field!r}")
        self.store.change_member(member_id, field=Field(field))

    async def finish_onboarding(self, member_id: int) -> None:
        self.store.change_member(member_id, onboarded=True)

    async def set_reminders(
        self, member_id: int, day_before: bool | None = None, two_hours: bool | None = None
    ) -> None:
        if day_before is not None:
            self.store.change_member(member_id, remind_day_before=day_before)
        if two_hours is not None:
            self.store.change_member(member_id, remind_two_hours=two_hours)

    async def set_consent(self, member_id: int, key: str, value: bool) -> None:
        if key not in (INVITATIONS, CHECKINS, NAME_TO_ORGANISER, NEWS, NO_ANNOUNCEMENTS):
            raise ServiceError(f"unknown consent {key!r}")
        if key == NO_ANNOUNCEMENTS:  # MemberView tells the opposite: do they get them?
            key, value = "announcements", not value
        self.store.change_member(member_id, **{key: value})

    async def agree_to_privacy(self, member_id: int, now: datetime, display_name: str = "") -> None:
        self.store.change_member(member_id, privacy_version=PRIVACY_VERSION)


class FakePlaces:
    """PlaceService: active places within the radius, nearest first."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def find_nearby(
        self,
        point: GeoPoint,
        radius_km: float,
        now: datetime,
        filters: PlaceFilter = _NO_FILTER,
        offset: int = 0,
        limit: int = 5,
    ) -> NearbyPage:
        hits: list[PlaceHit] = []
        for place in self.store.places.values():
            distance = haversine_km(point, place.point)
            if place.closed_for_good or distance > radius_km:
                continue
            if filters.open_now and not _open_at(place.opening_hours, now):
                continue
            if filters.place_type is not None and filters.place_type not in place.types:
                continue
            if filters.equipment is not None and filters.equipment not in place.equipment:
                continue
            if filters.step_free and place.step_free != StepFree.YES:
                continue
            if filters.known_hours and not place.opening_hours:
                continue
            hits.append(
                PlaceHit(
                    id=place.id,
                    name=place.name,
                    town=place.town,
                    types=place.types,
                    distance_km=distance,
                    opening_hours=place.opening_hours,
                    step_free=place.step_free,
                    mobile=place.mobile,
                )
            )
        hits.sort(key=lambda h: (h.distance_km, h.id))
        return NearbyPage(tuple(hits[offset : offset + limit]), len(hits) > offset + limit)

    async def details(self, place_id: int, now: datetime) -> PlaceDetails | None:
        place = self.store.places.get(place_id)
        if place is None:
            return None
        upcoming = sorted(
            (
                e
                for e in self.store.events.values()
                if e.place_id == place_id
                and e.status == EventStatus.PUBLISHED
                and e.start_at >= now
            ),
            key=lambda e: (e.start_at, e.id),
        )[:3]
        return replace(
            place, upcoming_events=tuple(self.store.event_hit(e, None) for e in upcoming)
        )

    async def equipment_nearby(self, point: GeoPoint, radius_km: float) -> Sequence[Equipment]:
        found = {
            code
            for place in self.store.places.values()
            if not place.closed_for_good and haversine_km(point, place.point) <= radius_km
            for code in place.equipment
        }
        return [code for code in Equipment if code in found]


class FakeEvents:
    """EventService: published and cancelled events (drafts stay the organiser's)."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def upcoming_nearby(
        self,
        point: GeoPoint,
        radius_km: float,
        start: datetime,
        end: datetime | None,
        offset: int = 0,
        limit: int = 5,
    ) -> tuple[tuple[EventHit, ...], bool]:
        events = sorted(
            (
                e
                for e in self.store.events.values()
                if e.status in (EventStatus.PUBLISHED, EventStatus.CANCELLED)
                and e.start_at >= start
                and (end is None or e.start_at < end)
            ),
            key=lambda e: (e.start_at, e.id),
        )
        hits = [
            hit
            for hit in (self.store.event_hit(e, point) for e in events)
            if hit.distance_km is not None and hit.distance_km <= radius_km
        ]
        return tuple(hits[offset : offset + limit]), len(hits) > offset + limit

    async def details(
        self, event_id: int, origin: GeoPoint | None, now: datetime | None = None
    ) -> EventDetails | None:
        event = self.store.event(event_id)
        if event is None or event.status == EventStatus.DRAFT:
            return None
        place = self.store.places.get(event.place_id) if event.place_id is not None else None
        return EventDetails(
            hit=self.store.event_hit(event, origin),
            description=event.description,
            capacity=event.capacity,
            registered=self.store.held(event.id),
            place=place,
            open_for_sign_up=now is not None and _sign_up_open(event, now),
            minimum=event.minimum,
            minimum_by=event.minimum_by if event.minimum is not None else None,
        )


class FakeRegistrations:
    """RegistrationService: a seat while one is free, else the end of the waitlist."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _view(self, reg: FakeRegistration) -> MyRegistration:
        event = self.store.events[reg.event_id]
        place = self.store.places.get(event.place_id) if event.place_id is not None else None
        number = None
        if reg.status == RegistrationStatus.WAITLISTED:
            number = [r.id for r in self.store.waitlisted(reg.event_id)].index(reg.id) + 1
        return MyRegistration(
            id=reg.id,
            event_id=event.id,
            title=event.title,
            format=event.format,
            start_at=event.start_at,
            end_at=event.end_at,
            place_name=place.name if place else None,
            town=place.town if place else None,
            status=reg.status,
            waitlist_number=number,
            expectation=reg.expectation,
            event_cancelled=event.status == EventStatus.CANCELLED,
            cancel_reason=event.cancel_reason,
            minimum=event.minimum,
            minimum_by=event.minimum_by if event.minimum is not None else None,
        )

    def _own(self, member_id: int, registration_id: int) -> FakeRegistration:
        reg = self.store.registrations.get(registration_id)
        if reg is None or reg.member_id != member_id:
            raise ServiceError(f"registration {registration_id} is not member {member_id}'s")
        return reg

    async def mine(self, member_id: int, now: datetime) -> Sequence[MyRegistration]:
        regs = [
            r
            for r in self.store.registrations.values()
            if r.member_id == member_id
            and r.status in (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
        ]
        events = self.store.events
        current = [
            r for r in regs if (events[r.event_id].end_at or events[r.event_id].start_at) >= now
        ]
        current.sort(key=lambda r: (events[r.event_id].start_at, r.event_id))
        return [self._view(r) for r in current]

    async def get(self, member_id: int, registration_id: int) -> MyRegistration | None:
        reg = self.store.registrations.get(registration_id)
        if reg is None or reg.member_id != member_id:
            return None
        return self._view(reg)

    async def for_event(self, member_id: int, event_id: int) -> MyRegistration | None:
        for reg in self.store.registrations_of(event_id):
            if reg.member_id == member_id and reg.status != RegistrationStatus.CANCELLED:
                return self._view(reg)
        return None

    async def sign_up(
        self, member_id: int, event_id: int, now: datetime, expectation: str | None = None
    ) -> SignUp:
        if expectation is not None:
            expectation = expectation.strip()[:MAX_EXPECTATION] or None
        event = self.store.event(event_id)
        if event is None or event.status == EventStatus.DRAFT:
            return SignUp(Outcome.UNKNOWN)
        if event.status == EventStatus.CANCELLED:
            return SignUp(Outcome.CANCELLED)
        reg = next(
            (r for r in self.store.registrations_of(event_id) if r.member_id == member_id), None
        )
        if reg is not None and reg.status != RegistrationStatus.CANCELLED:
            return SignUp(Outcome.ALREADY, self._view(reg))
        if not _sign_up_open(event, now):
            return SignUp(Outcome.CLOSED)
        seat = event.capacity is None or self.store.held(event_id) < event.capacity
        status = RegistrationStatus.REGISTERED if seat else RegistrationStatus.WAITLISTED
        position = 1 + max(
            (r.position or 0 for r in self.store.registrations_of(event_id)), default=0
        )
        if reg is None:
            reg = FakeRegistration(
                self.store.next_id(), event_id, member_id, status, position, expectation, now
            )
            self.store.registrations[reg.id] = reg
        else:
            reg.status, reg.position, reg.expectation = status, position, expectation
        return SignUp(Outcome(status.value), self._view(reg))

    async def set_expectation(self, member_id: int, registration_id: int, text: str) -> None:
        self._own(member_id, registration_id).expectation = text.strip()[:MAX_EXPECTATION] or None

    async def cancel(self, member_id: int, registration_id: int, now: datetime) -> Cancelled:
        reg = self._own(member_id, registration_id)
        if reg.status == RegistrationStatus.CANCELLED:
            return Cancelled(self._view(reg))
        reg.status, reg.position = RegistrationStatus.CANCELLED, None
        moved = self.store.fill_free_seats(self.store.events[reg.event_id], now)
        return Cancelled(self._view(reg), moved)

    async def calendar_file(self, event_id: int, locale: str = "de") -> bytes | None:
        event = self.store.event(event_id)
        if event is None:
            return None
        start = event.start_at.strftime("%Y%m%dT%H%M%S")
        lines = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Werkbank//tests fake//DE",
            "BEGIN:VEVENT",
            f"UID:werkbank-fake-{event.id}@werkbank",
            f"SEQUENCE:{event.sequence}",
            f"SUMMARY:{event.title}",
            f"DTSTART;TZID=Europe/Berlin:{start}",
            "END:VEVENT",
            "END:VCALENDAR",
        ]
        return ("\r\n".join(lines) + "\r\n").encode()


class FakeOrganiser:
    """OrganiserService: organisers (and admins) act on their own events only."""

    def __init__(self, store: FakeStore, places: FakePlaces) -> None:
        self.store = store
        self._places = places

    def _organiser(self, member_id: int) -> MemberView:
        member = self.store.members.get(member_id)
        if member is None or not member.is_organiser:
            raise NotAllowed(f"member {member_id} is no organiser")
        return member

    def _own_event(self, member_id: int, event_id: int) -> FakeEvent:
        member = self._organiser(member_id)
        event = self.store.event(event_id)
        if event is None:
            raise NotAllowed(f"there is no event {event_id}")
        if member.role != Role.ADMIN and event.organiser_id != member_id:
            raise NotAllowed(f"event {event_id} is not organised by member {member_id}")
        return event

    def _organised(self, event: FakeEvent) -> OrganisedEvent:
        place = self.store.places.get(event.place_id) if event.place_id is not None else None
        return OrganisedEvent(
            id=event.id,
            title=event.title,
            format=event.format,
            start_at=event.start_at,
            end_at=event.end_at,
            place_name=place.name if place else None,
            town=place.town if place else None,
            capacity=event.capacity,
            minimum=event.minimum,
            registered=self.store.held(event.id),
            waitlisted=len(self.store.waitlisted(event.id)),
            cancelled=event.status == EventStatus.CANCELLED,
        )

    def _roster(self, event_id: int) -> list[tuple[FakeRegistration, str, int | None]]:
        regs = sorted(
            (
                r
                for r in self.store.registrations_of(event_id)
                if r.status != RegistrationStatus.CANCELLED
            ),
            key=lambda r: (r.status == RegistrationStatus.WAITLISTED, r.position or 0, r.id),
        )
        rows: list[tuple[FakeRegistration, str, int | None]] = []
        waiting = 0
        for reg in regs:
            number = None
            if reg.status == RegistrationStatus.WAITLISTED:
                waiting += 1
                number = waiting
            member = self.store.members.get(reg.member_id)
            name = member.display_name if member and member.display_name else None
            rows.append((reg, name or f"Mitglied {reg.member_id}", number))
        return rows

    async def places_named(self, member_id: int, text: str) -> Sequence[PlaceChoice]:
        self._organiser(member_id)
        wanted = text.strip().casefold()
        if not wanted:
            return []
        found = sorted(
            (p for p in self.store.places.values() if wanted in p.name.casefold()),
            key=lambda p: (p.closed_for_good, not p.name.casefold().startswith(wanted), p.name),
        )
        return [PlaceChoice(p.id, p.name, p.town) for p in found[:_MAX_CHOICES]]

    async def places_near(
        self, member_id: int, point: GeoPoint, radius_km: float
    ) -> Sequence[PlaceChoice]:
        self._organiser(member_id)
        page = await self._places.find_nearby(point, radius_km, NOW, limit=_MAX_CHOICES)
        return [PlaceChoice(hit.id, hit.name, hit.town) for hit in page.hits]

    async def new_place(self, member_id: int, name: str, point: GeoPoint, town: str) -> int:
        self._organiser(member_id)
        name, town = name.strip()[:200], town.strip()[:200]
        if not name:
            raise ServiceError("a place needs a name")
        for place in self.store.places.values():
            if place.name == name and place.town == town and not place.closed_for_good:
                return place.id
        return self.store.add_place(name, town, point, types=())

    async def create(self, member_id: int, draft: EventDraft, now: datetime) -> int:
        self._organiser(member_id)
        title = draft.title.strip()
        if draft.format not in tuple(EventFormat):
            raise ServiceError(f"unknown format {draft.format!r}")
        if not title:
            raise ServiceError("the title is empty")
        if draft.start_at <= now:
            raise ServiceError("the start is in the past")
        if draft.end_at is not None and draft.end_at <= draft.start_at:
            raise ServiceError("the end is not after the start")
        _check_seats(draft.capacity, draft.minimum)
        if draft.deadline is not None and draft.deadline > draft.start_at:
            raise ServiceError("the sign-up deadline is after the start")
        if draft.place_id not in self.store.places:
            raise ServiceError(f"there is no place {draft.place_id}")
        event_id = self.store.add_event(
            title,
            draft.place_id,
            draft.start_at,
            draft.end_at,
            capacity=draft.capacity,
            fmt=EventFormat(draft.format),
            description=(draft.description or "").strip() or None,
            deadline=draft.deadline,
            minimum=draft.minimum,
            minimum_by=draft.minimum_by if draft.minimum is not None else None,
            organiser_id=member_id,
        )
        if draft.minimum is not None and draft.minimum_by is not None:
            self.store.notices.append(FakeNotice(NoticeKind.MINIMUM_CHECK, member_id, event_id))
        return event_id

    async def mine(self, member_id: int, now: datetime) -> Sequence[OrganisedEvent]:
        self._organiser(member_id)
        events = sorted(
            (
                e
                for e in self.store.events.values()
                if e.organiser_id == member_id and (e.end_at or e.start_at) >= now - _KEEP_PAST
            ),
            key=lambda e: (e.start_at, e.id),
        )
        return [self._organised(e) for e in events]

    async def roster(self, member_id: int, event_id: int) -> Roster:
        event = self._own_event(member_id, event_id)
        attendees = tuple(
            Attendee(reg.id, name, reg.status, reg.expectation, number)
            for reg, name, number in self._roster(event_id)
        )
        return Roster(self._organised(event), attendees)

    async def set_attended(
        self, member_id: int, event_id: int, registration_id: int, attended: bool
    ) -> None:
        self._own_event(member_id, event_id)
        reg = self.store.registrations.get(registration_id)
        if reg is None or reg.event_id != event_id:
            raise NotAllowed(f"registration {registration_id} is not of event {event_id}")
        if reg.status not in _HOLDING:
            raise ServiceError("only a member with a seat can be marked as attended")
        reg.status = RegistrationStatus.ATTENDED if attended else RegistrationStatus.REGISTERED

    async def change(
        self, member_id: int, event_id: int, change: EventChange, now: datetime
    ) -> tuple[str, ...]:
        event = self._own_event(member_id, event_id)
        if event.status == EventStatus.CANCELLED:
            raise ServiceError("the event is cancelled")
        changes: list[str] = []
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        title = change.title.strip() if change.title is not None else None
        if title is not None and title != event.title:
            if not title:
                raise ServiceError("the title is empty")
            before["title"], after["title"] = event.title, title
            event.title = title
            changes.append(TITLE_CHANGED)
        description = change.description.strip() if change.description is not None else None
        if description is not None and description != (event.description or ""):
            event.description = description or None
            changes.append(DESCRIPTION_CHANGED)
        start = change.start_at if change.start_at is not None else event.start_at
        shift = start - event.start_at
        end = (
            change.end_at
            if change.end_at is not None
            else (event.end_at + shift if event.end_at is not None else None)
        )
        if (start, end) != (event.start_at, event.end_at):
            if start != event.start_at and start <= now:
                raise ServiceError("the start is in the past")
            if end is not None and end <= start:
                raise ServiceError("the end is not after the start")
            if event.deadline is not None:
                event.deadline += shift
            if event.minimum_by is not None:
                event.minimum_by += shift
            before.update(start_at=_iso(event.start_at), end_at=_iso(event.end_at))
            after.update(start_at=_iso(start), end_at=_iso(end))
            event.start_at, event.end_at = start, end
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
        self.store.tell(event, NoticeKind.EVENT_CHANGED, params)
        if more_seats:
            self.store.fill_free_seats(event, now)
        return tuple(changes)

    async def cancel(self, member_id: int, event_id: int, reason: str, now: datetime) -> int:
        event = self._own_event(member_id, event_id)
        if event.status == EventStatus.CANCELLED:
            return 0
        event.status, event.cancel_reason = EventStatus.CANCELLED, reason.strip() or None
        for notice in self.store.notices:
            if notice.event_id == event_id and notice.kind in _MOOT_AFTER_CANCEL:
                notice.done = True
        return self.store.tell(event, NoticeKind.EVENT_CANCELLED, {"reason": reason.strip()})

    async def hold(self, member_id: int, event_id: int) -> None:
        self._own_event(member_id, event_id)
        for notice in self.store.notices:
            if notice.event_id == event_id and notice.kind == NoticeKind.MINIMUM_CHECK:
                notice.done = True

    async def attendee_csv(self, member_id: int, event_id: int) -> bytes:
        self._own_event(member_id, event_id)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(("Name", "Anmeldung", "Warteliste Nr.", "Erwartung", "Angemeldet am"))
        for reg, name, number in self._roster(event_id):
            writer.writerow(
                (
                    name,
                    _CSV_STATUS[reg.status],
                    "" if number is None else str(number),
                    reg.expectation or "",
                    reg.created_at.strftime("%d.%m.%Y %H:%M"),
                )
            )
        return out.getvalue().encode("utf-8-sig")


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _check_seats(capacity: int | None, minimum: int | None) -> None:
    if capacity is not None and capacity < 1:
        raise ServiceError("there must be at least one seat")
    if minimum is not None and minimum < 1:
        raise ServiceError("the minimum must be at least one")
    if capacity is not None and minimum is not None and minimum > capacity:
        raise ServiceError("the minimum is more than the seats")


# -- conversations --------------------------------------------------------------------


class FakeTopics:
    """TopicService: topics in a dict, matched with the real `bot.matching`."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _view(self, t: FakeTopic, viewer: int, point: GeoPoint | None, radius: float) -> TopicView:
        people = [t.author] + [m for (tid, m) in self.store.interests if tid == t.id]

        def near(member_id: int) -> bool:
            home = self.store.member(member_id).home
            return point is None or (home is not None and haversine_km(point, home) <= radius)

        return TopicView(
            id=t.id,
            title=t.title,
            sentence=t.sentence,
            fields=t.fields,
            status=t.status,
            near=sum(1 for p in people if near(p)),
            mine=t.author == viewer,
            supported=(t.id, viewer) in self.store.interests,
            expectation=self.store.interests.get((t.id, viewer)),
        )

    def _open_near(self, point: GeoPoint, radius: float) -> list[FakeTopic]:
        return [
            t
            for t in self.store.topics.values()
            if t.status == TopicStatus.OPEN
            and t.point is not None
            and haversine_km(point, t.point) <= radius
        ]

    async def propose(
        self,
        member_id: int,
        title: str,
        sentence: str | None,
        fields: Sequence[Field],
        now: datetime,
    ) -> tuple[Proposed, int]:
        for t in self.store.topics.values():
            if t.author == member_id and t.status == TopicStatus.OPEN and t.title == title:
                return Proposed.ALREADY, t.id
        topic = FakeTopic(
            self.store.next_id(),
            title,
            sentence,
            tuple(fields),
            member_id,
            self.store.member(member_id).home,
        )
        self.store.topics[topic.id] = topic
        return Proposed.NEW, topic.id

    async def similar(
        self, member_id: int, point: GeoPoint, radius_km: float, title: str
    ) -> Sequence[TopicView]:
        topics = self._open_near(point, radius_km)
        found = most_similar(title, [title_key(t.title) for t in topics])
        return [self._view(topics[i], member_id, point, radius_km) for i, _ in found]

    async def nearby(
        self,
        member_id: int,
        point: GeoPoint,
        radius_km: float,
        offset: int = 0,
        limit: int = 5,
        with_demand: bool = False,
    ) -> tuple[Sequence[TopicView], bool]:
        views = [
            self._view(t, member_id, point, radius_km) for t in self._open_near(point, radius_km)
        ]
        views.sort(key=lambda v: (-v.near, -v.id))
        return views[offset : offset + limit], len(views) > offset + limit

    async def get(
        self,
        member_id: int,
        topic_id: int,
        point: GeoPoint | None,
        radius_km: float,
        now: datetime | None = None,
    ) -> TopicView | None:
        topic = self.store.topics.get(topic_id)
        return None if topic is None else self._view(topic, member_id, point, radius_km)

    async def mine(self, member_id: int) -> Sequence[TopicView]:
        return [
            self._view(t, member_id, None, 0)
            for t in self.store.topics.values()
            if t.author == member_id or (t.id, member_id) in self.store.interests
        ]

    async def support(
        self,
        member_id: int,
        topic_id: int,
        expectation: str | None = None,
        now: datetime | None = None,
    ) -> Supported:
        topic = self.store.topics.get(topic_id)
        if topic is None or topic.status != TopicStatus.OPEN:
            return Supported.GONE
        if topic.author == member_id:
            return Supported.OWN
        if (topic_id, member_id) in self.store.interests:
            return Supported.ALREADY
        self.store.interests[(topic_id, member_id)] = expectation
        return Supported.ADDED

    async def unsupport(self, member_id: int, topic_id: int) -> None:
        self.store.interests.pop((topic_id, member_id), None)

    def _own_open(self, member_id: int, topic_id: int) -> FakeTopic:
        topic = self.store.topics.get(topic_id)
        if topic is None or topic.author != member_id:
            raise NotAllowed(f"topic {topic_id} is not member {member_id}'s")
        if topic.status != TopicStatus.OPEN:
            raise ServiceError(f"topic {topic_id} is {topic.status}")
        return topic

    async def edit(
        self, member_id: int, topic_id: int, title: str | None, sentence: str | None, now: datetime
    ) -> None:
        topic = self._own_open(member_id, topic_id)
        if title is not None:
            topic.title = title
        if sentence is not None:
            topic.sentence = sentence

    async def group(
        self, organiser_id: int, topic_id: int, without: Sequence[int] = ()
    ) -> TopicGroup | None:
        """The real grouping over the members who agreed; around the topic (the fakes
        keep no organisers' places)."""
        topic = self.store.topics.get(topic_id)
        if topic is None or topic.point is None:
            return None
        ids = [topic.author] + [m for (tid, m) in self.store.interests if tid == topic_id]
        people = [self.store.member(i) for i in ids]
        candidates = [Candidate(m.id, m.field, m.home) for m in people if m.invitations and m.home]
        found = propose_group(candidates, topic.point)
        if found is None:
            return None
        members = tuple(
            GroupMember(c.member_id, self.store.member(c.member_id).display_name, c.field, None)
            for c in found.members
        )
        return TopicGroup(members, None, None, found.longest_km)

    def _open(self, organiser_id: int, topic_id: int) -> FakeTopic:
        if not self.store.member(organiser_id).is_organiser:
            raise NotAllowed(f"member {organiser_id} is no organiser")
        topic = self.store.topics.get(topic_id)
        if topic is None or topic.status != TopicStatus.OPEN:
            raise ServiceError(f"topic {topic_id} is not open")
        return topic

    def _people(self, topic: FakeTopic) -> int:
        return 1 + sum(1 for tid, _ in self.store.interests if tid == topic.id)

    async def close(self, organiser_id: int, topic_id: int, reason: str, now: datetime) -> int:
        topic = self._open(organiser_id, topic_id)
        topic.status = TopicStatus.CLOSED
        return self._people(topic)

    async def merge(self, organiser_id: int, topic_id: int, into_id: int, now: datetime) -> int:
        topic, _ = self._open(organiser_id, topic_id), self._open(organiser_id, into_id)
        topic.status = TopicStatus.MERGED
        return self._people(topic)

    async def withdraw(self, member_id: int, topic_id: int, now: datetime) -> int:
        topic = self._own_open(member_id, topic_id)
        topic.status = TopicStatus.WITHDRAWN
        return sum(1 for tid, _ in self.store.interests if tid == topic_id)


class FakeCheckins:
    """CheckinService: the answers in a dict."""

    def __init__(self) -> None:
        self.given: dict[tuple[int, int, str], dict[str, str]] = {}

    async def answer(
        self, member_id: int, event_id: int, kind: str, values: Mapping[str, str], now: datetime
    ) -> None:
        self.given.setdefault((member_id, event_id, kind), {}).update(values)

    async def impact(self, organiser_id: int, event_id: int | None = None) -> Impact:
        """The morning-after answers counted (every member asked is taken to answer)."""
        answered = [
            v for (_, e, k), v in self.given.items() if event_id in (None, e) and k == "next_day"
        ]
        counts: dict[str, dict[str, int]] = {}
        for answers in answered:
            for question, value in answers.items():
                per_question = counts.setdefault(question, {})
                per_question[value] = per_question.get(value, 0) + 1
        figures = CheckinFigures("next_day", len(answered), len(answered), counts)
        return Impact("Fake" if event_id else "", 1, (figures,), ())

    async def reply(
        self,
        organiser_id: int,
        event_id: int,
        member_id: int,
        text: str,
        now: datetime,
        about: str = "",
    ) -> None:
        self.given.setdefault((member_id, event_id, "reply"), {})["text"] = text


class RunnerConversations(Protocol):
    """What `Runner` uses of `bot.services.conversations.Conversations`."""

    def step(self) -> AbstractAsyncContextManager[None]: ...
    async def open(self, ref: AccountRef) -> Conversation: ...
    async def open_update(self, ref: AccountRef, update_id: str | None) -> Conversation | None: ...
    async def open_existing(self, ref: AccountRef) -> Conversation | None: ...
    async def member(self, member_id: int) -> MemberView: ...
    async def save(
        self, conv: Conversation, flow: str, state: str, data: dict[str, Any], seen: bool = True
    ) -> None: ...


class FakeConversations:
    """Accounts, their members and dialog state, kept as the database would keep them:
    the state goes through JSON, so a dialog that saves what JSON cannot hold fails here too."""

    def __init__(
        self, store: FakeStore, default_locale: str = "de", default_radius_km: int = 25
    ) -> None:
        self.store = store
        self.default_locale = default_locale
        self.default_radius_km = default_radius_km

    def step(self) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()

    async def open(self, ref: AccountRef) -> Conversation:
        conv = await self.open_update(ref, None)
        assert conv is not None
        return conv

    async def open_existing(self, ref: AccountRef) -> Conversation | None:
        if (ref.channel, ref.external_id) not in self.store.accounts:
            return None
        return await self.open_update(ref, None)

    async def open_update(self, ref: AccountRef, update_id: str | None) -> Conversation | None:
        if update_id is not None:
            if (ref.channel, update_id) in self.store.processed:
                return None  # a redelivery: answered already
            self.store.processed.add((ref.channel, update_id))
        account_id = self.store.accounts.get((ref.channel, ref.external_id))
        if account_id is None:
            locale = normalise_locale(ref.language) if ref.language else self.default_locale
            member = self.store.add_member(
                ref.display_name, locale=locale, radius_km=self.default_radius_km
            )
            account_id = self.store.next_id()
            self.store.accounts[(ref.channel, ref.external_id)] = account_id
            self.store.account_members[account_id] = member.id
            return Conversation(account_id=account_id, member=member, flow=None, state=None)
        member = self.store.member(self.store.account_members[account_id])
        saved = self.store.states.get(account_id)
        if saved is None:
            return Conversation(account_id=account_id, member=member, flow=None, state=None)
        flow, state, data = saved
        return Conversation(account_id, member, flow, state, json.loads(json.dumps(data)))

    async def member(self, member_id: int) -> MemberView:
        return self.store.member(member_id)

    async def save(
        self, conv: Conversation, flow: str, state: str, data: dict[str, Any], seen: bool = True
    ) -> None:
        self.store.states[conv.account_id] = (flow, state, json.loads(json.dumps(data)))


# -- the world ------------------------------------------------------------------------
BENDORF = GeoPoint(50.4294, 7.5702)


def seed_places(store: FakeStore) -> None:
    """A few places around Bendorf (Rhein), one of them closed for good, and one in Iserlohn."""
    store.add_place(
        "MakerSpace Mayen-Koblenz",
        "Bendorf",
        BENDORF,
        types=(PlaceType.WORKSHOP, PlaceType.REPAIR_CAFE),
        opening_hours="Mo-Fr 12:00-19:00",
        equipment=(
            Equipment.PRINTER_3D,
            Equipment.LASER_CUTTER,
            Equipment.SOLDERING,
            Equipment.WOOD,
        ),
        cost="free",
        registration_required=False,
        website="https://www.makerspace-myk.de",
        description="Offene Werkstatt mit 3D-Drucker, Lasercutter, Löten und Holz.",
    )
    store.add_place(
        "Repair-Café Neuwied",
        "Neuwied",
        GeoPoint(50.4286, 7.4614),
        types=(PlaceType.REPAIR_CAFE,),
        opening_hours="Sa 10:00-13:00",
        equipment=(Equipment.SOLDERING, Equipment.SEWING),
        step_free=StepFree.YES,
    )
    store.add_place(
        "Digitalwerkstatt Koblenz",
        "Koblenz",
        GeoPoint(50.3569, 7.5890),
        types=(PlaceType.DIGITAL_LEARNING,),
        equipment=(Equipment.PRINTER_3D,),
    )
    store.add_place(
        "Holzwerkstatt Montabaur",
        "Montabaur",
        GeoPoint(50.4375, 7.8258),
        types=(PlaceType.WORKSHOP, PlaceType.CRAFT_FIRM),
        opening_hours="Mo-Sa 09:00-17:00",
        equipment=(Equipment.WOOD, Equipment.CNC),
    )
    store.add_place(
        "Alte Schmiede Vallendar",
        "Vallendar",
        GeoPoint(50.3985, 7.6160),
        closed=True,
        status_note="geschlossen seit 2025",
    )
    store.add_place(
        "Werkraum Iserlohn",
        "Iserlohn",
        GeoPoint(51.3745, 7.6961),
        types=(PlaceType.WORKSHOP,),
        opening_hours="Di-Sa 10:00-18:00",
    )


@dataclass
class FakeWorld:
    store: FakeStore
    services: Services
    conversations: FakeConversations
    runner: Runner
    clock: list[datetime]  # set clock[0] to move time

    def user(self, name: str, channel: str = "console", language: str | None = None) -> ChatUser:
        """A chat partner on this world's runner."""
        return ChatUser(self.runner, name, channel, language)

    def member(self, user: ChatUser | str) -> MemberView:
        """The member behind a chat user (or a console account name), as stored now."""
        account = user.account if isinstance(user, ChatUser) else AccountRef("console", user)
        return self.store.account_member(account.channel, account.external_id)

    def grant(self, user: ChatUser | str, role: Role = Role.ORGANISER) -> MemberView:
        """What `werkbank admin grant organiser console:<name>` does."""
        return self.store.change_member(self.member(user).id, role=role)

    def place_id(self, name: str) -> int:
        return self.store.place_id(name)

    def add_event(
        self,
        title: str = "Holz trifft Laser",
        capacity: int | None = 5,
        fmt: EventFormat = EventFormat.TRANSFER,
        start: datetime = START,
        *,
        place: str | int | None = "MakerSpace Mayen-Koblenz",
        end: datetime | None = None,
        duration: timedelta | None = timedelta(hours=3),
        organiser: ChatUser | str | None = None,
        **values: Any,
    ) -> int:
        """A published event (as tests.support.factories.add_event, without a database)."""
        place_id = self.place_id(place) if isinstance(place, str) else place
        if end is None and duration is not None:
            end = start + duration
        if organiser is not None:
            values["organiser_id"] = self.member(organiser).id
        return self.store.add_event(title, place_id, start, end, capacity, fmt, **values)


def fake_world(now: datetime = NOW, *, places: bool = True) -> FakeWorld:
    """A Runner over in-memory fakes with a settable clock (at `now`), the real
    gazetteer, and (unless `places=False`) the places of `seed_places`."""
    store = FakeStore()
    if places:
        seed_places(store)
    fake_places = FakePlaces(store)
    services = Services(
        members=FakeMembers(store),
        places=fake_places,
        events=FakeEvents(store),
        registrations=FakeRegistrations(store),
        organiser=FakeOrganiser(store, fake_places),
        topics=FakeTopics(store),
        checkins=FakeCheckins(),
        gazetteer=default_gazetteer(),
    )
    conversations = FakeConversations(store)
    clock = [now]
    runner = Runner(
        cast(Conversations, conversations),  # the same methods: checked below
        services,
        timezone="Europe/Berlin",
        clock=lambda: clock[0],
    )
    return FakeWorld(store, services, conversations, runner, clock)


if TYPE_CHECKING:
    # mypy: each fake still matches its Protocol, and the runner's conversations too.
    def _conforms(store: FakeStore, real: Conversations) -> None:
        _members: MemberService = FakeMembers(store)
        _places: PlaceService = FakePlaces(store)
        _events: EventService = FakeEvents(store)
        _registrations: RegistrationService = FakeRegistrations(store)
        _organiser: OrganiserService = FakeOrganiser(store, FakePlaces(store))
        _topics: TopicService = FakeTopics(store)
        _checkins: CheckinService = FakeCheckins()
        _conversations: RunnerConversations = FakeConversations(store)
        _real: RunnerConversations = real
