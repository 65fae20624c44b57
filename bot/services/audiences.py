"""Who an announcement reaches: the audiences organisers choose, checked against what
is theirs, and the members' consents (bot.services.announcements uses these)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.codes import (
    HOLDS_SEAT,
    MUTED_ORGANISERS,
    NEWS,
    NO_ANNOUNCEMENTS,
    AnnouncementButton,
    Audience,
    EventPeople,
    RegistrationStatus,
    Role,
    TopicStatus,
)
from bot.geo import GeoPoint, haversine_km, search_box
from bot.services import NotAllowed
from bot.services.contracts import AnnouncementDraft, AudienceChoice
from bot.storage.models import (
    ChannelAccount,
    Event,
    Member,
    Place,
    Registration,
    Topic,
    TopicInterest,
)


async def check_audience(session: AsyncSession, member: Member, audience: AudienceChoice) -> None:
    """Refuses (NotAllowed) an event or place that is not the organiser's, or a topic
    that is not open."""
    if audience.kind == Audience.EVENT:
        event = await session.get(Event, audience.event_id)
        if event is None or not _owns(member, event.organiser_id):
            raise NotAllowed(f"event {audience.event_id} is not theirs")
    elif audience.kind == Audience.TOPIC:
        topic = await session.get(Topic, audience.topic_id)
        if topic is None or topic.status not in (TopicStatus.OPEN, TopicStatus.PLANNED):
            raise NotAllowed(f"topic {audience.topic_id} is not open")
    elif audience.kind == Audience.NEARBY and audience.place_id not in await _place_ids(
        session, member
    ):
        raise NotAllowed(f"place {audience.place_id} is not theirs")


async def button_target(
    session: AsyncSession, member: Member, draft: AnnouncementDraft
) -> tuple[str, int | None, int | None, str | None]:
    if draft.button == AnnouncementButton.SIGN_UP:
        event = await session.get(Event, draft.event_id)
        if event is None or not _owns(member, event.organiser_id):
            raise NotAllowed(f"event {draft.event_id} is not theirs")
        return draft.button, event.id, None, event.title
    if draft.button == AnnouncementButton.ME_TOO:
        topic = await session.get(Topic, draft.topic_id)
        if topic is None or topic.status != TopicStatus.OPEN:
            raise NotAllowed(f"topic {draft.topic_id} is not open")
        return draft.button, None, topic.id, topic.title
    return AnnouncementButton.NONE, None, None, None


async def members_reached(
    session: AsyncSession, member: Member, audience: AudienceChoice, region_km: int
) -> list[int]:
    """The members the audience reaches today: reachable, not the organiser, and not
    opted out (news: only those who said yes)."""
    reachable = exists(
        select(ChannelAccount.id).where(
            ChannelAccount.member_id == Member.id, ChannelAccount.blocked.is_(False)
        )
    )
    query = select(Member.id, Member.consents, Member.home_lat, Member.home_lon).where(
        Member.deleted_at.is_(None), Member.id != member.id, reachable
    )
    centres: list[tuple[GeoPoint, float]] = []
    if audience.kind == Audience.EVENT:
        statuses: tuple[RegistrationStatus, ...] = ()
        if audience.people in (EventPeople.SIGNED_UP, EventPeople.BOTH):
            statuses += HOLDS_SEAT
        if audience.people in (EventPeople.WAITING, EventPeople.BOTH):
            statuses += (RegistrationStatus.WAITLISTED,)
        query = query.where(
            Member.id.in_(
                select(Registration.member_id).where(
                    Registration.event_id == audience.event_id,
                    Registration.status.in_(statuses),
                )
            )
        )
    elif audience.kind == Audience.TOPIC:
        proposer = select(Topic.proposer_id).where(Topic.id == audience.topic_id)
        supporters = select(TopicInterest.member_id).where(
            TopicInterest.topic_id == audience.topic_id
        )
        query = query.where(or_(Member.id.in_(supporters), Member.id.in_(proposer)))
    else:
        places = await _places(
            session, member, audience.place_id if audience.kind == Audience.NEARBY else None
        )
        km = float(audience.km if audience.kind == Audience.NEARBY else region_km)
        centres = [(point, km) for point in places]
        if not centres:
            return []
        query = query.where(or_(*(_box(point, km) for point, km in centres)))
        if audience.kind == Audience.NEARBY and audience.fields:
            query = query.where(Member.field.in_(audience.fields))
    rows = (await session.execute(query.order_by(Member.id))).all()
    out = []
    for member_id, consents, lat, lon in rows:
        consents = consents or {}
        if not wants_announcement(consents, member.id, news=audience.kind.is_news):
            continue
        if centres:
            if lat is None or lon is None:
                continue
            home = GeoPoint(lat, lon)
            if not any(haversine_km(home, point) <= km for point, km in centres):
                continue
        out.append(member_id)
    return out


def wants_announcement(consents: Mapping[str, Any], organiser_id: int | None, news: bool) -> bool:
    """Whether a member's consents let an announcement from `organiser_id` through
    (also checked at send time: an opt-out stops what is still queued)."""
    if consents.get(NO_ANNOUNCEMENTS) is True:
        return False
    if organiser_id is not None and organiser_id in (consents.get(MUTED_ORGANISERS) or ()):
        return False
    return not news or consents.get(NEWS) is True


def _owns(member: Member, organiser_id: int | None) -> bool:
    return member.role == Role.ADMIN or organiser_id == member.id


async def _place_ids(session: AsyncSession, member: Member) -> set[int]:
    rows = await session.scalars(
        select(Event.place_id).where(Event.organiser_id == member.id, Event.place_id.is_not(None))
    )
    return {p for p in rows.all() if p is not None}


async def _places(session: AsyncSession, member: Member, place_id: int | None) -> list[GeoPoint]:
    """Where the organiser's places are (one of them, or all)."""
    ids = await _place_ids(session, member)
    if place_id is not None:
        ids &= {place_id}
    if not ids:
        return []
    rows = await session.execute(select(Place.lat, Place.lon).where(Place.id.in_(ids)))
    return [GeoPoint(lat, lon) for lat, lon in rows.all()]


def _box(point: GeoPoint, km: float) -> ColumnElement[bool]:
    min_lat, max_lat, min_lon, max_lon = search_box(point, km)
    return Member.home_lat.between(min_lat, max_lat) & Member.home_lon.between(min_lon, max_lon)
