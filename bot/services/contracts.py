"""What dialogs may know about the world: frozen values and service interfaces.

Dialogs import this module, never the storage layer, so a dialog can be tested
with any object that has these methods.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.codes import (
    AnnouncementButton,
    AnnouncementStatus,
    Audience,
    Equipment,
    EventFormat,
    EventPeople,
    Field,
    NoticeKind,
    PlaceType,
    RegistrationStatus,
    Role,
    StepFree,
    TopicStatus,
    known_code,
    known_codes,
)
from bot.geo import Gazetteer, GeoPoint
from bot.i18n import N_

# The errors a dialog may catch, re-exported so dialogs import only this module.
from bot.services import NotAllowed as NotAllowed
from bot.services import ServiceError as ServiceError

# The codes a dialog offers, in menu order (bot.codes holds them; these names stay for
# the dialogs that import them from here).
PLACE_TYPES: tuple[PlaceType, ...] = tuple(PlaceType)
EQUIPMENT: tuple[Equipment, ...] = tuple(Equipment)
FIELDS: tuple[Field, ...] = tuple(Field)
EVENT_FORMATS: tuple[EventFormat, ...] = tuple(EventFormat)
RADIUS_CHOICES_KM: tuple[int, ...] = (10, 25, 50, 100)
# Longest texts kept; a dialog asks for a shorter one rather than cut it.
MAX_EXPECTATION = 1000
MAX_CHECKIN_LINE = 300  # a takeaway or a call for help after a workshop: one line
MAX_CHECKIN_REPLY = 900  # the organiser's answer to a call for help
MAX_CANCEL_REASON = 500
# An event's words, the same whether typed in the dialog or read from a calendar file
# (an import cuts longer ones and says so; the dialog asks for a shorter one).
MAX_EVENT_TITLE = 120
MAX_EVENT_DESCRIPTION = 2000

# What an organiser's edit changed, as English message ids: the organiser service
# returns them and stores them with the change notice; dialogs translate them.
TITLE_CHANGED = N_("The title has changed.")
DESCRIPTION_CHANGED = N_("The description has changed.")
TIME_CHANGED = N_("The date or time has changed.")
SEATS_CHANGED = N_("The number of seats has changed.")


@dataclass(frozen=True)
class MemberView:
    id: int
    locale: str
    display_name: str
    home: GeoPoint | None
    home_label: str | None
    radius_km: int
    field: Field | None
    role: Role
    onboarded: bool
    remind_day_before: bool = True
    remind_two_hours: bool = True
    # May organisers invite them personally into a small group? None: not asked yet.
    invitations: bool | None = None
    checkins: bool = True  # check-ins after workshops, until they say "no more"
    # Their first name beside their check-in answers for organisers; None: not asked yet.
    name_to_organiser: bool | None = None
    news: bool = False  # "Neuigkeiten aus deiner Nähe": region announcements (default no)
    announcements: bool = True  # False after "Keine Ankündigungen mehr" from anyone
    privacy_version: int | None = None  # of the privacy text they agreed to; None: not yet

    @property
    def is_organiser(self) -> bool:
        return self.role.may_organise


@dataclass(frozen=True)
class PlaceFilter:
    """A code given as a plain string (a dialog's saved state) is turned into the code;
    one that no longer exists is dropped, so a stale filter never breaks the search."""

    open_now: bool = False
    place_type: PlaceType | None = None
    equipment: Equipment | None = None
    step_free: bool = False  # only places a wheelchair gets into (StepFree.YES)
    known_hours: bool = False  # only places whose opening hours are known

    def __post_init__(self) -> None:
        object.__setattr__(self, "place_type", known_code(PlaceType, self.place_type))
        object.__setattr__(self, "equipment", known_code(Equipment, self.equipment))


@dataclass(frozen=True)
class PlaceHit:
    """One line of "places near me"."""

    id: int
    name: str
    town: str
    types: tuple[PlaceType, ...]
    distance_km: float
    opening_hours: str | None
    step_free: StepFree | None  # None: unknown
    mobile: bool


@dataclass(frozen=True)
class NearbyPage:
    hits: tuple[PlaceHit, ...]
    has_more: bool


@dataclass(frozen=True)
class EventHit:
    id: int
    title: str
    format: EventFormat
    start_at: datetime
    end_at: datetime | None
    place_id: int | None
    place_name: str | None
    town: str | None
    distance_km: float | None
    free_seats: int | None  # None = no limit
    cancelled: bool = False


@dataclass(frozen=True)
class PlaceDetails:
    id: int
    name: str
    types: tuple[PlaceType, ...]
    operator: str | None
    street: str | None
    postcode: str | None
    town: str
    point: GeoPoint
    approximate: bool
    opening_hours: str | None
    mobile: bool
    equipment: tuple[Equipment, ...]
    step_free: StepFree | None  # None: unknown
    cost: str | None
    registration_required: bool | None
    contact: str | None
    website: str | None
    description: str | None
    closed_for_good: bool
    status_note: str | None
    upcoming_events: tuple[EventHit, ...] = field(default=())


@dataclass(frozen=True)
class EventDetails:
    hit: EventHit
    description: str | None
    capacity: int | None
    registered: int
    place: PlaceDetails | None
    open_for_sign_up: bool = False
    topic_id: int | None = None  # the members' topic it was made of
    minimum: int | None = None  # it takes place only with this many sign-ups …
    minimum_by: datetime | None = None  # … decided then


class Outcome(enum.StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    ALREADY = "already"  # already registered or waitlisted: nothing changed
    CLOSED = "closed"  # past the deadline or the start
    CANCELLED = "cancelled"  # the event was cancelled
    UNKNOWN = "unknown"  # no such published event


@dataclass(frozen=True)
class MyRegistration:
    """One of a member's registrations, as "Meine Anmeldungen" shows it."""

    id: int
    event_id: int
    title: str
    format: EventFormat
    start_at: datetime
    end_at: datetime | None
    place_name: str | None
    town: str | None
    status: RegistrationStatus
    waitlist_number: int | None  # 1 = next to move up; None when not waitlisted
    expectation: str | None
    event_cancelled: bool
    cancel_reason: str | None
    held_until: datetime | None = None  # while a seat is kept for the member (invited)
    minimum: int | None = None  # it takes place only with this many sign-ups …
    minimum_by: datetime | None = None  # … decided then


@dataclass(frozen=True)
class SignUp:
    outcome: Outcome
    registration: MyRegistration | None = None


@dataclass(frozen=True)
class Cancelled:
    """What a cancellation changed: who moved up from the waitlist (member ids)."""

    registration: MyRegistration
    moved_up: tuple[int, ...] = ()


@dataclass(frozen=True)
class NoticeView:
    """A message to a member outside a reply (a reminder, "a seat came free", …)."""

    id: int
    kind: NoticeKind
    member_id: int
    event_id: int | None
    registration_id: int | None
    title: str
    start_at: datetime | None
    end_at: datetime | None
    place_name: str | None
    town: str | None
    params: dict[str, object] = field(default_factory=dict)
    registered: int = 0
    minimum: int | None = None
    # A topic's notices: its id, and how many want it with the mix of their fields.
    topic_id: int | None = None
    people: int = 0
    fields: Mapping[Field, int] = field(default_factory=dict)
    locale: str = "de"  # the member's language (words made without opening their dialog)


class MemberService(Protocol):
    async def set_locale(self, member_id: int, locale: str) -> None: ...
    async def set_home(self, member_id: int, point: GeoPoint, label: str) -> None: ...
    async def set_radius(self, member_id: int, radius_km: int) -> None: ...
    async def set_field(self, member_id: int, field: Field | str) -> None: ...
    async def finish_onboarding(self, member_id: int) -> None: ...
    async def set_reminders(
        self, member_id: int, day_before: bool | None = None, two_hours: bool | None = None
    ) -> None: ...
    async def set_consent(self, member_id: int, key: str, value: bool) -> None: ...
    async def agree_to_privacy(
        self, member_id: int, now: datetime, display_name: str = ""
    ) -> None: ...


class PlaceService(Protocol):
    async def find_nearby(
        self,
        point: GeoPoint,
        radius_km: float,
        now: datetime,
        filters: PlaceFilter = ...,
        offset: int = 0,
        limit: int = 5,
    ) -> NearbyPage: ...
    async def details(self, place_id: int, now: datetime) -> PlaceDetails | None: ...
    async def equipment_nearby(self, point: GeoPoint, radius_km: float) -> Sequence[Equipment]: ...


class EventService(Protocol):
    async def upcoming_nearby(
        self,
        point: GeoPoint,
        radius_km: float,
        start: datetime,
        end: datetime | None,
        offset: int = 0,
        limit: int = 5,
    ) -> tuple[tuple[EventHit, ...], bool]: ...
    async def details(
        self, event_id: int, origin: GeoPoint | None, now: datetime | None = None
    ) -> EventDetails | None: ...


class RegistrationService(Protocol):
    async def mine(self, member_id: int, now: datetime) -> Sequence[MyRegistration]: ...
    async def get(self, member_id: int, registration_id: int) -> MyRegistration | None: ...
    async def for_event(self, member_id: int, event_id: int) -> MyRegistration | None: ...
    async def sign_up(
        self, member_id: int, event_id: int, now: datetime, expectation: str | None = None
    ) -> SignUp: ...
    async def set_expectation(self, member_id: int, registration_id: int, text: str) -> None: ...
    async def cancel(self, member_id: int, registration_id: int, now: datetime) -> Cancelled: ...
    async def calendar_file(self, event_id: int, locale: str = "de") -> bytes | None: ...


@dataclass(frozen=True)
class EventDraft:
    """What the "create an event" dialog has gathered; all times aware."""

    # A plain code is still accepted (the service refuses an unknown one); EventFormat
    # only once the organiser dialog builds the draft with the enum.
    format: EventFormat | str
    title: str
    description: str | None
    place_id: int
    start_at: datetime
    end_at: datetime | None
    capacity: int | None  # None = no limit
    minimum: int | None = None
    minimum_by: datetime | None = None  # when the minimum must be reached
    deadline: datetime | None = None  # sign-up closes (at the start when None)
    topic_id: int | None = None  # the topic it was made of ("Workshop daraus machen")
    invite: tuple[int, ...] = ()  # the topic's proposed group: invited personally
    # Publishing with a key already used returns that event instead of a second one.
    key: str | None = None


@dataclass(frozen=True)
class EventChange:
    """An organiser's edit: only the fields that are not None change."""

    title: str | None = None
    description: str | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    capacity: int | None = None
    unlimited: bool = False  # set: capacity becomes None (no limit)


@dataclass(frozen=True)
class OrganisedEvent:
    """One line of "Meine Veranstaltungen"."""

    id: int
    title: str
    format: EventFormat
    start_at: datetime
    end_at: datetime | None
    place_name: str | None
    town: str | None
    capacity: int | None
    minimum: int | None
    registered: int
    waitlisted: int
    cancelled: bool


@dataclass(frozen=True)
class Attendee:
    registration_id: int
    name: str
    status: RegistrationStatus
    expectation: str | None
    waitlist_number: int | None


@dataclass(frozen=True)
class Roster:
    event: OrganisedEvent
    attendees: tuple[Attendee, ...]  # registered and attended first, then the waitlist


@dataclass(frozen=True)
class PlaceChoice:
    id: int
    name: str
    town: str


class OrganiserService(Protocol):
    """Everything an organiser does; every method refuses (NotAllowed) members without the
    organiser role, and organisers acting on someone else's event (admins may)."""

    async def places_named(self, member_id: int, text: str) -> Sequence[PlaceChoice]: ...
    async def places_near(
        self, member_id: int, point: GeoPoint, radius_km: float
    ) -> Sequence[PlaceChoice]: ...
    async def new_place(self, member_id: int, name: str, point: GeoPoint, town: str) -> int: ...
    async def create(self, member_id: int, draft: EventDraft, now: datetime) -> int: ...
    async def mine(self, member_id: int, now: datetime) -> Sequence[OrganisedEvent]: ...
    async def roster(self, member_id: int, event_id: int) -> Roster: ...
    async def set_attended(
        self, member_id: int, event_id: int, registration_id: int, attended: bool
    ) -> None: ...
    async def change(
        self, member_id: int, event_id: int, change: EventChange, now: datetime
    ) -> tuple[str, ...]: ...
    async def cancel(self, member_id: int, event_id: int, reason: str, now: datetime) -> int: ...
    async def hold(self, member_id: int, event_id: int) -> None: ...
    async def attendee_csv(self, member_id: int, event_id: int) -> bytes: ...


# Topics: what members want to learn; others support them ("Ich auch").
MAX_TOPIC_TITLE = 120
MAX_TOPIC_SENTENCE = 300


@dataclass(frozen=True)
class TopicView:
    """A topic as a member sees it: never who supports it, only how many near them."""

    id: int
    title: str
    sentence: str | None
    fields: tuple[Field, ...]
    status: TopicStatus
    near: int  # supporters (the author included) within the viewer's radius
    mine: bool  # the viewer proposed it
    supported: bool  # the viewer supports it
    expectation: str | None = None  # the viewer's, when supporting
    event_id: int | None = None  # the workshop made of it, once planned
    demand: bool = False  # enough of its people live near each other (for organisers)


@dataclass(frozen=True)
class GroupMember:
    """One person of a proposed group, as the organiser sees them (they agreed to it)."""

    member_id: int
    first_name: str
    field: Field | None
    town: str | None


@dataclass(frozen=True)
class TopicGroup:
    """Whom to invite into a small workshop for a topic, and where."""

    members: tuple[GroupMember, ...]
    place_id: int | None
    place_name: str | None
    longest_km: float


class Proposed(enum.StrEnum):
    NEW = "new"
    ALREADY = "already"  # the same member proposed the same title before: that one


class Supported(enum.StrEnum):
    ADDED = "added"
    ALREADY = "already"  # a second tap changes nothing
    OWN = "own"  # one's own topic is supported by proposing it
    GONE = "gone"  # withdrawn, merged or closed meanwhile


class TopicService(Protocol):
    async def propose(
        self,
        member_id: int,
        title: str,
        sentence: str | None,
        fields: Sequence[Field],
        now: datetime,
    ) -> tuple[Proposed, int]: ...
    async def similar(
        self, member_id: int, point: GeoPoint, radius_km: float, title: str
    ) -> Sequence[TopicView]: ...
    async def nearby(
        self,
        member_id: int,
        point: GeoPoint,
        radius_km: float,
        offset: int = 0,
        limit: int = 5,
        with_demand: bool = False,
    ) -> tuple[Sequence[TopicView], bool]: ...
    async def get(
        self,
        member_id: int,
        topic_id: int,
        point: GeoPoint | None,
        radius_km: float,
        now: datetime | None = None,
    ) -> TopicView | None: ...
    async def mine(self, member_id: int) -> Sequence[TopicView]: ...
    async def support(
        self,
        member_id: int,
        topic_id: int,
        expectation: str | None = None,
        now: datetime | None = None,
    ) -> Supported: ...
    async def unsupport(self, member_id: int, topic_id: int) -> None: ...
    async def edit(
        self, member_id: int, topic_id: int, title: str | None, sentence: str | None, now: datetime
    ) -> None: ...
    async def withdraw(self, member_id: int, topic_id: int, now: datetime) -> int: ...
    async def group(
        self, organiser_id: int, topic_id: int, without: Sequence[int] = ()
    ) -> TopicGroup | None: ...
    async def close(self, organiser_id: int, topic_id: int, reason: str, now: datetime) -> int: ...
    async def merge(self, organiser_id: int, topic_id: int, into_id: int, now: datetime) -> int: ...


@dataclass(frozen=True)
class Said:
    """A member's free-text answer; `name` is their first name only if they agreed to
    share it with the organiser, else empty."""

    text: str
    name: str = ""


@dataclass(frozen=True)
class CheckinFigures:
    """One check-in of one event (or of several events), as counts."""

    kind: str  # next_day | weeks | months
    invited: int  # check-ins sent
    answered: int
    counts: Mapping[str, Mapping[str, int]]  # question -> answer -> how many
    lines: tuple[Said, ...] = ()  # the newest free-text answers (takeaways)
    line_count: int = 0  # how many free-text answers there are in all


@dataclass(frozen=True)
class Impact:
    """What came of workshops, from their check-ins ("Wirkung"): of one event (`title`
    is its title) or of several (`title` empty); `events` counts those followed up."""

    title: str
    events: int
    checkins: tuple[CheckinFigures, ...]
    help_requests: tuple[Said, ...]  # the newest "Ich brauche Hilfe" lines not answered yet
    open_help: int = 0  # how many there are in all

    @property
    def answered(self) -> int:
        return sum(f.answered for f in self.checkins)


class CheckinService(Protocol):
    async def answer(
        self, member_id: int, event_id: int, kind: str, values: Mapping[str, str], now: datetime
    ) -> None: ...
    async def impact(self, organiser_id: int, event_id: int | None = None) -> Impact: ...
    async def reply(
        self,
        organiser_id: int,
        event_id: int,
        member_id: int,
        text: str,
        now: datetime,
        about: str = "",
    ) -> None: ...


# -- announcements (bot.services.announcements) -----------------------------------------
MAX_ANNOUNCEMENT = 1000


def visible(text: str) -> bool:
    """Whether a text shows anything: not only spaces or invisible characters (a
    zero-width space, a direction mark), which would arrive as an empty message."""
    return any(ch.isprintable() and not ch.isspace() for ch in text)


NEARBY_KM = (10, 25, 50)
MAX_NEARBY_KM = 200


class AnnouncementRefused(ServiceError):
    """A kind no: `reason` is one of the REFUSED_* codes below, for the dialog's words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


EMPTY_TEXT = "empty_text"
TOO_LONG = "too_long"
NOBODY = "nobody"  # the audience is empty
WEEK_CAP = "week_cap"  # two region announcements this week already
NOT_DRAFT = "not_draft"  # sent already (a second tap on "Senden")
GONE = "gone"  # no such announcement of this organiser
STALE_PREVIEW = "stale_preview"  # "Senden" under a preview changed since


@dataclass(frozen=True)
class AudienceChoice:
    """An audience as the organiser chose it; stored as a dict on the broadcast."""

    kind: Audience
    event_id: int | None = None
    people: EventPeople = EventPeople.BOTH
    topic_id: int | None = None
    place_id: int | None = None
    km: int = 25
    fields: tuple[Field, ...] = ()  # NEARBY: only these (none: everyone)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "event_id": self.event_id,
            "people": self.people.value,
            "topic_id": self.topic_id,
            "place_id": self.place_id,
            "km": self.km,
            "fields": [f.value for f in self.fields],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AudienceChoice | None:
        """None for anything that is not a complete audience (a stale dialog state)."""
        kind = known_code(Audience, data.get("kind"))
        if kind is None:
            return None
        km = data.get("km")
        choice = cls(
            kind,
            event_id=int_or_none(data.get("event_id")),
            people=known_code(EventPeople, data.get("people")) or EventPeople.BOTH,
            topic_id=int_or_none(data.get("topic_id")),
            place_id=int_or_none(data.get("place_id")),
            km=km if isinstance(km, int) and 0 < km <= MAX_NEARBY_KM else 25,
            fields=known_codes(Field, data.get("fields") or ()),
        )
        needs = {
            Audience.EVENT: choice.event_id,
            Audience.TOPIC: choice.topic_id,
            Audience.NEARBY: choice.place_id,
            Audience.REGION: 0,
        }
        return None if needs[kind] is None else choice


def int_or_none(value: object) -> int | None:
    """An id kept in a stored dict (a dialog state, an audience); None for anything else."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Choice:
    """An event, topic or place an organiser may pick: its id and its words."""

    id: int
    title: str
    start_at: datetime | None = None
    people: int = 0


@dataclass(frozen=True)
class AnnouncementDraft:
    text: str
    audience: AudienceChoice
    button: AnnouncementButton = AnnouncementButton.NONE
    event_id: int | None = None  # the "Anmelden" button's event
    topic_id: int | None = None  # the "Ich auch" button's topic


@dataclass(frozen=True)
class Preview:
    """What "Senden" would do: the draft's id (the send button carries it), how many
    get it, and why it cannot go out (None: it can)."""

    id: int
    revision: int
    count: int
    organiser_name: str
    button_title: str | None  # the event's or topic's title under its button
    refused: str | None = None


@dataclass(frozen=True)
class Progress:
    id: int
    status: AnnouncementStatus
    total: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    skipped: int = 0  # opted out since, or their account closed
    waiting: int = 0  # not due yet: the quiet hours, or a member's one news a day
    to_send: int = 0  # due, or paused

    @property
    def handled(self) -> int:
        return self.sent + self.blocked + self.failed + self.skipped

    @property
    def finished(self) -> bool:
        return self.status in (AnnouncementStatus.DONE, AnnouncementStatus.CANCELLED)


class AnnouncementService(Protocol):
    async def events(self, organiser_id: int, now: datetime) -> Sequence[Choice]: ...
    async def places(self, organiser_id: int) -> Sequence[Choice]: ...
    async def topics(self, organiser_id: int) -> Sequence[Choice]: ...
    async def preview(
        self, organiser_id: int, draft: AnnouncementDraft, now: datetime, draft_id: int | None
    ) -> Preview: ...
    async def confirm(
        self, organiser_id: int, broadcast_id: int, revision: int, now: datetime, account_id: int
    ) -> Progress: ...
    async def pause(self, organiser_id: int, broadcast_id: int, now: datetime) -> Progress: ...
    async def resume(self, organiser_id: int, broadcast_id: int, now: datetime) -> Progress: ...
    async def cancel(self, organiser_id: int, broadcast_id: int, now: datetime) -> Progress: ...
    async def progress(self, organiser_id: int, broadcast_id: int, now: datetime) -> Progress: ...
    async def opt_out(self, member_id: int, organiser_id: int | None) -> None: ...
    async def opt_in(self, member_id: int, organiser_id: int | None) -> None: ...
    async def organiser_name(self, organiser_id: int) -> str: ...


@dataclass(frozen=True)
class ErasurePlan:
    """What "Alles löschen" will do, for the question before it."""

    seats: int  # future sign-ups and waitlist places given up
    events: int  # future events they organise
    events_go_to: str  # "operator" or "cancelled"


@dataclass(frozen=True)
class Erasure:
    """What was done; `found` is False when there was nothing left to erase."""

    found: bool
    seats: int = 0
    events: int = 0
    events_go_to: str = "operator"


class PrivacyService(Protocol):
    async def export(self, member_id: int, now: datetime) -> dict[str, Any]: ...
    async def plan(self, member_id: int, now: datetime) -> ErasurePlan: ...
    async def erase(self, member_id: int, now: datetime) -> Erasure: ...


@dataclass(frozen=True)
class Services:
    members: MemberService
    places: PlaceService
    events: EventService
    registrations: RegistrationService
    organiser: OrganiserService
    topics: TopicService
    checkins: CheckinService
    gazetteer: Gazetteer
    # None only in the dialog tests' fake world, which sends no announcements.
    announcements: AnnouncementService | None = None
    # None only in the dialog tests' fake world: "Meine Daten" is tested on real databases.
    privacy: PrivacyService | None = None
