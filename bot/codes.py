"""Every code Werkbank stores or passes around, written once (issue 11).

The database keeps these values as plain strings, dialogs turn them into plain
words (bot/dialogs/words.py), and the rules that belong to a code live here, on
its enum. This module is the lowest layer: it imports nothing from `bot`, so the
storage models, the services, the contracts and the dialogs may all use it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TypeVar


class Role(enum.StrEnum):
    """What a member may do beyond using the bot; granted with `werkbank admin grant`."""

    MEMBER = "member"
    ORGANISER = "organiser"  # publishes and runs events (their own)
    ADMIN = "admin"  # an organiser who may act on anyone's events

    @property
    def may_organise(self) -> bool:
        """Publish events and run them: the organiser menu is shown."""
        return self in (Role.ORGANISER, Role.ADMIN)


class Field(enum.StrEnum):
    """What a member works in (DOMAIN.md: craft, design, digital fabrication)."""

    CRAFT = "craft"
    DESIGN = "design"
    DIGITAL = "digital"
    OTHER = "other"  # "just looking"


class Channel(enum.StrEnum):
    """The messenger an account writes from."""

    CONSOLE = "console"
    TELEGRAM = "telegram"
    MATRIX = "matrix"

    @property
    def numbers_options(self) -> bool:
        """Buttons shown as numbered lines (typed "2" picks the second), which work
        only against the screen saved with them; Telegram shows real buttons."""
        return self != Channel.TELEGRAM


class PlaceStatus(enum.StrEnum):
    """Whether a place still exists."""

    ACTIVE = "active"
    CLOSED = "closed"  # permanently closed: never shown as open


class PlaceType(enum.StrEnum):
    """What kind of place it is (a place may be several); the order is the menu's."""

    WORKSHOP = "workshop"  # tech workshop / makerspace / FabLab: "Offene Werkstatt"
    REPAIR_CAFE = "repair_cafe"
    DIGITAL_LEARNING = "digital_learning"
    INFO_PLACE = "info_place"
    COLAB = "colab"
    NETWORK = "network"
    CRAFT_FIRM = "craft_firm"


class Equipment(enum.StrEnum):
    """Machines and tools a place has; the order is the menu's."""

    PRINTER_3D = "3d_printer"
    LASER_CUTTER = "laser_cutter"
    VINYL_CUTTER = "vinyl_cutter"
    CNC = "cnc"
    SEWING = "sewing"
    WOOD = "wood"
    METAL = "metal"
    SOLDERING = "soldering"


class StepFree(enum.StrEnum):
    """Whether a wheelchair gets in (OSM wheelchair=yes|limited|no); unknown is None."""

    YES = "yes"
    LIMITED = "limited"
    NO = "no"


# The seats the transfer workshop works best with (the pilot); the dialog suggests it.
TRANSFER_SEATS = 5


class EventFormat(enum.StrEnum):
    """What kind of event it is (DOMAIN.md, the pilot's formats)."""

    NETWORKING = "networking"
    OPEN_WORKSHOP = "open_workshop"
    TRANSFER = "transfer"  # a small workshop: TRANSFER_SEATS seats are recommended
    PRO2PRO = "pro2pro"
    OTHER = "other"

    @property
    def asks_expectation(self) -> bool:
        """Members signing up are asked what they expect: the pilot found written-down
        expectations make these formats work."""
        return self in (EventFormat.TRANSFER, EventFormat.PRO2PRO)


class EventStatus(enum.StrEnum):
    """Where an event is in its life; only published ones can be signed up for."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class RegistrationStatus(enum.StrEnum):
    """A member's place at an event."""

    REGISTERED = "registered"  # has a seat
    WAITLISTED = "waitlisted"  # waits for a seat, in sign-up order
    CANCELLED = "cancelled"  # gave it up (the row is kept and reused on a new sign-up)
    ATTENDED = "attended"  # had a seat and came (marked by the organiser)
    HELD = "held"  # a seat kept for a personally invited member until `held_until`

    @property
    def holds_seat(self) -> bool:
        """Counts against the event's capacity."""
        return self in (
            RegistrationStatus.REGISTERED,
            RegistrationStatus.ATTENDED,
            RegistrationStatus.HELD,
        )


# The statuses that take a seat, for queries: `Registration.status.in_(HOLDS_SEAT)`.
HOLDS_SEAT = tuple(status for status in RegistrationStatus if status.holds_seat)


class WorkStatus(enum.StrEnum):
    """Life of a durable job row (reminder, follow-up, delivery)."""

    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    HELD = "held"  # an announcement's row while it is paused: not claimed until "Weiter"


class NoticeKind(enum.StrEnum):
    """What a notice tells a member outside a reply to their own message."""

    REMINDER_DAY_BEFORE = "reminder_day_before"
    REMINDER_TWO_HOURS = "reminder_two_hours"
    MOVED_UP = "moved_up"  # a seat came free: off the waitlist
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"
    MINIMUM_CHECK = "minimum_check"  # to the organiser: too few sign-ups, hold or cancel?
    TOPIC_WITHDRAWN = "topic_withdrawn"  # to supporters: the author took the topic back
    TOPIC_DEMAND = "topic_demand"  # to organisers: enough people near each other want it
    TOPIC_PLANNED = "topic_planned"  # to its people: a workshop was made of their topic
    TOPIC_INVITED = "topic_invited"  # to the proposed group: a personal invitation
    TOPIC_CLOSED = "topic_closed"  # to its people: an organiser closed it, with a reason
    TOPIC_MERGED = "topic_merged"  # to its supporters: joined into another; move along?
    HOLD_ENDS = "hold_ends"  # a seat kept for an invited member goes to everyone
    CHECKIN_NEXT_DAY = "checkin_next_day"  # the morning after a workshop: how was it?
    CHECKIN_WEEKS = "checkin_weeks"  # some weeks on (per format): tried anything of it since?
    CHECKIN_MONTHS = "checkin_months"  # three months on: what came of it?
    # Once, three days on, when a check-in was not answered; then it lapses quietly.
    CHECKIN_DAY_AGAIN = "checkin_day_again"
    CHECKIN_WEEKS_AGAIN = "checkin_weeks_again"
    CHECKIN_MONTHS_AGAIN = "checkin_months_again"
    CHECKIN_REQUEST = "checkin_request"  # to the organiser: someone needs help or contact
    ORGANISER_REPLY = "organiser_reply"  # to that member: the organiser's answer
    ANNOUNCEMENT = "announcement"  # an organiser's announcement (bot.services.announcements)
    # Long silent: their data goes in `params["days"]` days unless they write.
    RETENTION_WARNING = "retention_warning"

    @property
    def is_checkin(self) -> bool:
        return self in CHECKIN_KINDS or self in CHECKIN_AGAIN.values()

    @property
    def asked_first(self) -> NoticeKind:
        """The check-in a reminder is about (itself for a check-in)."""
        return next((first for first, again in CHECKIN_AGAIN.items() if again == self), self)


CHECKIN_KINDS = (
    NoticeKind.CHECKIN_NEXT_DAY,
    NoticeKind.CHECKIN_WEEKS,
    NoticeKind.CHECKIN_MONTHS,
)
CHECKIN_AGAIN = {
    NoticeKind.CHECKIN_NEXT_DAY: NoticeKind.CHECKIN_DAY_AGAIN,
    NoticeKind.CHECKIN_WEEKS: NoticeKind.CHECKIN_WEEKS_AGAIN,
    NoticeKind.CHECKIN_MONTHS: NoticeKind.CHECKIN_MONTHS_AGAIN,
}


class Checkin(enum.StrEnum):
    """The check-ins after a workshop (`followup.kind`), in the order they come."""

    NEXT_DAY = "next_day"
    WEEKS = "weeks"
    MONTHS = "months"

    @property
    def notice(self) -> NoticeKind:
        """The notice that asks it."""
        return CHECKIN_KINDS[list(Checkin).index(self)]

    @classmethod
    def asked_by(cls, notice: NoticeKind) -> Checkin:
        """The check-in a notice (or its reminder) asks."""
        return list(cls)[CHECKIN_KINDS.index(notice.asked_first)]


class Question(enum.StrEnum):
    """What a check-in asks; each takes one of its `answers`, or a line of text."""

    MET = "met"  # the expectation quoted back: did it work out?
    RATING = "rating"  # without an expectation: 1 to 5
    TAKEAWAY = "takeaway"  # "Was nimmst du mit?", one line
    CONTACT = "contact"  # stay in touch with someone from the group?
    TRIED = "tried"  # some weeks on (per format): tried anything of it since?
    HELP = "help"  # what they need help with, one line
    OUTCOME = "outcome"  # three months on: what came of it?

    @property
    def answers(self) -> tuple[str, ...] | None:
        """The answers it takes; None for a free line of text."""
        return QUESTION_ANSWERS[self]


class Answer(enum.StrEnum):
    """The answers check-in buttons give (ratings are the digits 1 to 5)."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"
    DONE = "done"
    STARTED = "started"
    NO_TIME = "no_time"
    NEEDS_HELP = "help"
    ORDER = "order"
    COOPERATION = "cooperation"
    PROJECT = "project"
    TOPIC = "topic"
    NOTHING = "nothing"


RATINGS = ("1", "2", "3", "4", "5")
QUESTION_ANSWERS: dict[Question, tuple[str, ...] | None] = {
    Question.MET: (Answer.YES, Answer.PARTLY, Answer.NO),
    Question.RATING: RATINGS,
    Question.TAKEAWAY: None,
    Question.CONTACT: (Answer.YES, Answer.NO),
    Question.TRIED: (Answer.DONE, Answer.STARTED, Answer.NO_TIME, Answer.NEEDS_HELP),
    Question.HELP: None,
    Question.OUTCOME: (
        Answer.ORDER,
        Answer.COOPERATION,
        Answer.PROJECT,
        Answer.TOPIC,
        Answer.NOTHING,
    ),
}


class TopicStatus(enum.StrEnum):
    """Where a topic members proposed stands."""

    OPEN = "open"  # gathering supporters
    PLANNED = "planned"  # a workshop was made of it
    DONE = "done"  # that workshop took place
    WITHDRAWN = "withdrawn"  # its author took it back
    MERGED = "merged"  # an organiser joined it into another
    CLOSED = "closed"  # an organiser closed it, with a reason


# Keys of Member.consents, each asked where it first matters and changeable in the settings.
INVITATIONS = "invitations"  # organisers may invite the member personally into a small group
CHECKINS = "checkins"  # check-ins after workshops (on unless the member said "no more")
# The member's first name beside their check-in answers for the organiser (else none).
NAME_TO_ORGANISER = "name_to_organiser"
NEWS = "news"  # "Neuigkeiten aus deiner Nähe": region announcements (off unless said yes)
# No announcements at all (True), or none from these organisers (a list of member ids).
NO_ANNOUNCEMENTS = "no_announcements"
MUTED_ORGANISERS = "muted_organisers"
# The yes to the privacy text at the start: {"version": int, "at": ISO time}. Raise
# PRIVACY_VERSION when the text (bot/dialogs/privacy.py) changes in substance: everyone
# is asked again before their next step.
PRIVACY = "privacy"
PRIVACY_VERSION = 1
RETENTION_WARNED = "retention_warned_at"  # when told that their long-unused data will go


class Audience(enum.StrEnum):
    """Who an announcement goes to."""

    EVENT = "event"  # signed up and/or waiting for one of the organiser's events
    TOPIC = "topic"  # the people of a topic (author and supporters)
    NEARBY = "nearby"  # who asked for news, within N km of one of the organiser's places
    REGION = "region"  # who asked for news, in the region of the organiser's places

    @property
    def is_news(self) -> bool:
        """Unasked news: only to those who said yes, and capped per week and per day."""
        return self in (Audience.NEARBY, Audience.REGION)


class EventPeople(enum.StrEnum):
    """Which of an event's people an announcement to it reaches."""

    SIGNED_UP = "signed_up"
    WAITING = "waiting"
    BOTH = "both"


class AnnouncementButton(enum.StrEnum):
    """The one button an announcement may bring."""

    NONE = "none"
    SIGN_UP = "sign_up"  # "Anmelden" for one of the organiser's events
    ME_TOO = "me_too"  # "Ich auch" for a topic


class AnnouncementStatus(enum.StrEnum):
    DRAFT = "draft"  # being written; the preview shows it
    SENDING = "sending"  # confirmed: its rows are in the outbox
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"  # every row sent, skipped or failed


C = TypeVar("C", bound=enum.StrEnum)


def known_code(kind: type[C], value: object) -> C | None:
    """`value` as a `kind` code; None when it is None or no such code exists (any more),
    for codes read from text the code did not write itself (a saved dialog state, a file)."""
    if isinstance(value, kind):
        return value
    if not isinstance(value, str):
        return None
    # The enum's own value index: a dict lookup, where kind(value) raises and catches.
    return kind._value2member_map_.get(value)  # type: ignore[return-value]


def known_codes(kind: type[C], values: Iterable[object]) -> tuple[C, ...]:
    """The `kind` codes among `values`, in their order; unknown ones are left out."""
    return tuple(code for code in (known_code(kind, v) for v in values) if code is not None)
