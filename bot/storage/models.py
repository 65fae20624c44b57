"""Database tables (DESIGN.md, "Data"). Times are stored in UTC.

Later issues (sign-ups, follow-ups, broadcasts) add behaviour on these tables,
so they are all here from the first migration on.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The codes live in bot.codes (one source for every code); the columns below store them.
from bot.codes import (
    Channel,
    EventFormat,
    EventStatus,
    Field,
    NoticeKind,
    PlaceStatus,
    Question,
    RegistrationStatus,
    Role,
    WorkStatus,
)

# Stable constraint names make Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Degrees of latitude per band of the nearby-search index (about 11 km).
LAT_BAND_DEGREES = 0.1


def lat_band(lat: float) -> int:
    """The band a latitude falls into; (lat_band, lon) is the portable spatial index."""
    return int(lat // LAT_BAND_DEGREES)


# PostgreSQL's nearest-first index (migration 0009) is a GiST over its built-in `point`
# at (longitude · 0.63, latitude): 0.63 ≈ cos 51°, so on that plane a degree east is as
# long as a degree north in the middle of Germany; bot.services.places bounds the error
# of this one scale elsewhere. The search must spell the expression as the index does.
NEAR_LON_SCALE = 0.63
NEAR_POINT_SQL = f"point(lon * {NEAR_LON_SCALE}, lat)"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out — also on SQLite, which keeps no zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# PostgreSQL's options of some indexes (a partial index's `where`, GiST's `using`): given
# to them by `use_postgresql` when an engine for PostgreSQL is made (bot.storage.engine),
# not where they are declared: naming one makes SQLAlchemy import its PostgreSQL dialect
# to check it (0.04 s of every start), which a start on SQLite never needs.
_POSTGRESQL_OPTIONS: list[tuple[Index, dict[str, Any]]] = []


def _postgresql(index: Index, **options: Any) -> Index:
    _POSTGRESQL_OPTIONS.append((index, options))
    return index


def use_postgresql() -> None:
    """Give the indexes their PostgreSQL options (idempotent): before DDL is made or the
    models are compared with a PostgreSQL database."""
    for index, options in _POSTGRESQL_OPTIONS:
        for name, value in options.items():
            index.dialect_kwargs[f"postgresql_{name}"] = value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar = {datetime: UTCDateTime, dict[str, Any]: JSON}


def _enum(kind: type[enum.Enum]) -> Enum:
    # Store values as plain strings (no native PG enum): adding a value later is no migration pain.
    return Enum(
        kind,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Member(Base):
    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="de")
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    home_label: Mapped[str | None] = mapped_column(String(200))
    radius_km: Mapped[int] = mapped_column(Integer, default=25)
    field: Mapped[Field | None] = mapped_column(_enum(Field))
    trade: Mapped[str | None] = mapped_column(String(200))
    skills: Mapped[str | None] = mapped_column(Text)
    resources: Mapped[str | None] = mapped_column(Text)
    consents: Mapped[dict[str, Any]] = mapped_column(default=dict)
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.MEMBER)
    onboarded: Mapped[bool] = mapped_column(Boolean, default=False)
    remind_day_before: Mapped[bool] = mapped_column(Boolean, default=True)
    remind_two_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by `werkbank admin caps lift`: this organiser's region announcements are not capped.
    news_caps_lifted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]


class ChannelAccount(Base):
    __tablename__ = "channel_account"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    external_id: Mapped[str] = mapped_column(String(255))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[str | None] = mapped_column(String(255))
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Place(Base):
    __tablename__ = "place"
    __table_args__ = (
        # The nearby search seeks a few latitude bands, each over a longitude range:
        # a B-tree that works the same on SQLite and PostgreSQL (no PostGIS needed).
        # lat and status ride along so the box and the sort are answered from the index.
        Index("ix_place_box", "lat_band", "lon", "lat", "status"),
        # PostgreSQL only: reads the places nearest a point in order (ORDER BY <->).
        _postgresql(Index("ix_place_near", text(NEAR_POINT_SQL)), using="gist").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # PlaceType values, '|workshop|repair_cafe|': delimited so one LIKE filters on any database.
    types: Mapped[str] = mapped_column(String(200), default="")
    anchor_type: Mapped[int | None] = mapped_column(Integer)
    operator: Mapped[str | None] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(10))
    town: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    lat_band: Mapped[int] = mapped_column(Integer)
    approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    opening_hours: Mapped[str | None] = mapped_column(String(500))
    mobile: Mapped[bool] = mapped_column(Boolean, default=False)
    equipment: Mapped[str] = mapped_column(String(500), default="")  # Equipment values, '|'d
    step_free: Mapped[str | None] = mapped_column(String(10))  # a StepFree value (OSM wheelchair)
    cost: Mapped[str | None] = mapped_column(String(200))
    registration_required: Mapped[bool | None] = mapped_column(Boolean)
    contact: Mapped[str | None] = mapped_column(String(300))
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[PlaceStatus] = mapped_column(_enum(PlaceStatus), default=PlaceStatus.ACTIVE)
    status_note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Topic(Base):
    """What a member wants to learn or work on; others support it ("Ich auch")."""

    __tablename__ = "topic"
    __table_args__ = (Index("ix_topic_box", "status", "lat_band", "lon"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    proposer_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="open")  # a TopicStatus
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fields: Mapped[str] = mapped_column(String(100), default="")  # |craft|design|
    # Where it was proposed (the author's home), so "near me" finds it by the box index.
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    lat_band: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="SET NULL"))
    close_reason: Mapped[str | None] = mapped_column(Text)


class TopicInterest(Base):
    """One member's support of a topic, with what they hope for."""

    __tablename__ = "topic_interest"

    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expectation: Mapped[str | None] = mapped_column(Text)


class Event(Base):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(255), unique=True)  # iCalendar UID, stable
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    format: Mapped[EventFormat] = mapped_column(_enum(EventFormat))
    place_id: Mapped[int | None] = mapped_column(
        ForeignKey("place.id", ondelete="SET NULL"), index=True
    )
    start_at: Mapped[datetime] = mapped_column(index=True)
    end_at: Mapped[datetime | None]
    capacity: Mapped[int | None] = mapped_column(Integer)
    minimum: Mapped[int | None] = mapped_column(Integer)
    deadline: Mapped[datetime | None]
    # When the minimum must be reached; then the organiser is asked: hold or cancel?
    minimum_by: Mapped[datetime | None]
    # iCalendar SEQUENCE: raised on every change a calendar should pick up.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus), default=EventStatus.PUBLISHED)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Indexed: "Meine Veranstaltungen" and "Wirkung" over all of an organiser's events.
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True
    )
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Registration(Base):
    __tablename__ = "registration"
    __table_args__ = (UniqueConstraint("event_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    status: Mapped[RegistrationStatus] = mapped_column(_enum(RegistrationStatus))
    expectation: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int | None] = mapped_column(Integer)  # waitlist order
    # While HELD: when the seat goes to everyone (indexed for the sweep of lapsed holds).
    held_until: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


OPEN_NOTICE = "status IN ('pending', 'claimed')"
# The claim takes personal notices first, then announcements' rows, each by its index.
OPEN_PERSONAL = f"notice.{OPEN_NOTICE} AND notice.broadcast_id IS NULL"
OPEN_ANNOUNCEMENT = f"notice.{OPEN_NOTICE} AND notice.broadcast_id IS NOT NULL"
OPEN_PERSONAL_INDEX = f"{OPEN_NOTICE} AND broadcast_id IS NULL"
ANNOUNCEMENT_ROW = "broadcast_id IS NOT NULL"


class Notice(Base):
    """The outbox: one row per message to one member, sent by the scheduler when due.

    A durable row rather than a send inside the step that caused it: a crash or a
    blocked channel loses nothing, and on PostgreSQL several bot processes claim
    rows with SKIP LOCKED, so none is sent twice. `dedupe` keeps a reminder from
    being scheduled twice for the same registration."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(_enum(NoticeKind))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    # Indexed: deleting a sign-up deletes its reminders (ON DELETE CASCADE).
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # An announcement's row: its text and buttons are read from the broadcast at send time.
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcast.id", ondelete="CASCADE"))
    dedupe: Mapped[str | None] = mapped_column(String(100), unique=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[WorkStatus] = mapped_column(_enum(WorkStatus), default=WorkStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The claim's index: only notices still to send, so done ones (never deleted) do not
    # slow it down as the table grows. The claim repeats OPEN_NOTICE word for word,
    # which SQLite needs to use a partial index.
    __table_args__ = (
        _postgresql(
            Index(
                "ix_notice_open_due",
                "due_at",
                "id",
                sqlite_where=text(OPEN_NOTICE),
            ),
            where=text(OPEN_NOTICE),
        ),
        _postgresql(
            Index(
                "ix_notice_open_personal",
                "due_at",
                "id",
                sqlite_where=text(OPEN_PERSONAL_INDEX),
            ),
            where=text(OPEN_PERSONAL_INDEX),
        ),
        # "Wirkung" counts the check-ins an event sent.
        Index("ix_notice_event_kind", "event_id", "kind", "status"),
        # Each member at most once per announcement; its progress counted by status.
        # Partial: the claim of personal notices (broadcast_id IS NULL) must not pick them.
        _postgresql(
            Index(
                "ux_notice_broadcast_member",
                "broadcast_id",
                "member_id",
                unique=True,
                sqlite_where=text(ANNOUNCEMENT_ROW),
            ),
            where=text(ANNOUNCEMENT_ROW),
        ),
        _postgresql(
            Index(
                "ix_notice_broadcast_status",
                "broadcast_id",
                "status",
                sqlite_where=text(ANNOUNCEMENT_ROW),
            ),
            where=text(ANNOUNCEMENT_ROW),
        ),
    )


# The condition of `ix_followup_help`; queries repeat it word for word (SQLite needs that
# to use a partial index).
HAS_HELP = "help IS NOT NULL"


class Followup(Base):
    """A member's answers to one check-in of one event: a column per question
    (`bot.codes.Question`), empty where not (yet) answered, so "Wirkung" counts them
    with GROUP BY on plain columns rather than parsing a document per row."""

    __tablename__ = "followup"
    __table_args__ = (
        Index("ux_followup_event_kind_member", "event_id", "kind", "member_id", unique=True),
        # The calls for help, few among many answers: "Wirkung" lists the open ones.
        _postgresql(
            Index(
                "ix_followup_help",
                "event_id",
                "member_id",
                sqlite_where=text(HAS_HELP),
            ),
            where=text(HAS_HELP),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))  # a Checkin
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[WorkStatus] = mapped_column(_enum(WorkStatus), default=WorkStatus.PENDING)
    met: Mapped[str | None] = mapped_column(String(20))
    rating: Mapped[int | None] = mapped_column(Integer)
    takeaway: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(20))
    tried: Mapped[str | None] = mapped_column(String(20))
    help: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(20))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]

    def answers(self) -> dict[str, str]:
        """The answers given so far, question -> answer (a rating as its digit)."""
        given = {q.value: getattr(self, q.value) for q in Question}
        return {q: str(v) for q, v in given.items() if v is not None}


class Broadcast(Base):
    """An organiser's announcement. Its recipients are `notice` rows (kind
    `announcement`, one per member: the unique index `ux_notice_broadcast_member`),
    written when the organiser confirms, so the list is fixed then and the outbox
    sends it at the channels' pace (migration 0007 replaced the unused `delivery`)."""

    __tablename__ = "broadcast"
    __table_args__ = (Index("ix_broadcast_organiser_confirmed", "organiser_id", "confirmed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    # The audience as chosen: {"kind": Audience, "event_id", "people", "topic_id",
    # "place_id", "km", "fields"}; `news` repeats whether it is capped (Audience.is_news).
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    news: Mapped[bool] = mapped_column(Boolean, default=False)
    button: Mapped[str] = mapped_column(String(20), default="none")  # AnnouncementButton
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="draft")  # AnnouncementStatus
    # Raised on every save of the draft; "Senden" carries it, so a preview seen before a
    # change can never send what its organiser did not see.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Where the organiser follows it: their account, the progress message to edit
    # (Telegram), and the last tenth reported (Matrix, console).
    report_channel: Mapped[str | None] = mapped_column(String(20))
    report_account: Mapped[str | None] = mapped_column(String(255))
    report_message: Mapped[str | None] = mapped_column(String(100))
    reported_tenths: Mapped[int] = mapped_column(Integer, default=0)


class DialogState(Base):
    """Where each account is in its conversation; a restart continues from here."""

    __tablename__ = "dialog_state"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), primary_key=True
    )
    flow: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Raised by every save; a save of a version that is no longer current fails (see
    # Conversations.save): of two concurrent steps for one member, only one wins.
    version: Mapped[int] = mapped_column(default=0, server_default="0")


class ProcessedUpdate(Base):
    """Channel update ids already handled, so a redelivered update has no double effect."""

    __tablename__ = "processed_update"

    channel: Mapped[Channel] = mapped_column(_enum(Channel), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
