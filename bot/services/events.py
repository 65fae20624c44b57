"""Reading events: upcoming ones near a member, at a place, and one in detail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, ScalarSelect, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.codes import HOLDS_SEAT, EventFormat, EventStatus
from bot.geo import GeoPoint, haversine_km, search_box
from bot.services.contracts import EventDetails, EventHit
from bot.services.database import Database
from bot.services.views import place_details
from bot.storage.models import Event, Place, Registration, lat_band


def _registered_count() -> ScalarSelect[int]:
    return (
        select(func.count(Registration.id))
        .where(
            Registration.event_id == Event.id,
            Registration.status.in_(HOLDS_SEAT),
        )
        .correlate(Event)
        .scalar_subquery()
    )


def _hit_columns() -> Select:  # type: ignore[type-arg]
    return select(
        Event.id,
        Event.title,
        Event.format,
        Event.start_at,
        Event.end_at,
        Event.capacity,
        Event.status,
        Place.id.label("place_id"),
        Place.name.label("place_name"),
        Place.town,
        Place.lat,
        Place.lon,
        _registered_count().label("registered"),
    ).outerjoin(Place, Place.id == Event.place_id)


def _hit(row: Row, origin: GeoPoint | None) -> EventHit:  # type: ignore[type-arg]
    distance = None
    if origin is not None and row.lat is not None:
        distance = haversine_km(origin, GeoPoint(row.lat, row.lon))
    free = None if row.capacity is None else max(0, row.capacity - row.registered)
    return EventHit(
        id=row.id,
        title=row.title,
        format=EventFormat(row.format),
        start_at=row.start_at,
        end_at=row.end_at,
        place_id=row.place_id,
        place_name=row.place_name,
        town=row.town,
        distance_km=distance,
        free_seats=free,
        cancelled=row.status == EventStatus.CANCELLED,
    )


class EventQueries:
    """The EventService used by dialogs (see bot.services.contracts)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def upcoming_nearby(
        self,
        point: GeoPoint,
        radius_km: float,
        start: datetime,
        end: datetime | None,
        offset: int = 0,
        limit: int = 5,
    ) -> tuple[tuple[EventHit, ...], bool]:
        """Published or cancelled events starting in [start, end) within the radius, by date."""
        min_lat, max_lat, min_lon, max_lon = search_box(point, radius_km)
        statement = (
            _hit_columns()
            .where(
                Event.status.in_((EventStatus.PUBLISHED, EventStatus.CANCELLED)),
                Event.start_at >= start,
                Place.lat_band.in_(range(lat_band(min_lat), lat_band(max_lat) + 1)),
                Place.lon.between(min_lon, max_lon),
                Place.lat.between(min_lat, max_lat),
            )
            .order_by(Event.start_at, Event.id)
        )
        if end is not None:
            statement = statement.where(Event.start_at < end)
        async with self.db.sessions() as session:
            rows = (await session.execute(statement)).all()
        hits = [
            hit
            for hit in (_hit(row, point) for row in rows)
            if hit.distance_km is not None and hit.distance_km <= radius_km
        ]
        return tuple(hits[offset : offset + limit]), len(hits) > offset + limit

    async def upcoming_at_place(
        self, session: AsyncSession, place_id: int, now: datetime, limit: int = 3
    ) -> Sequence[EventHit]:
        statement = (
            _hit_columns()
            .where(
                Event.place_id == place_id,
                Event.status == EventStatus.PUBLISHED,
                Event.start_at >= now,
            )
            .order_by(Event.start_at)
            .limit(limit)
        )
        return [_hit(row, None) for row in (await session.execute(statement)).all()]

    async def details(
        self, event_id: int, origin: GeoPoint | None, now: datetime | None = None
    ) -> EventDetails | None:
        """One published or cancelled event; drafts are the organiser's business."""
        statement = (
            _hit_columns()
            .add_columns(
                Event.description,
                Event.deadline,
                Event.topic_id,
                Event.minimum,
                Event.minimum_by,
            )
            .where(Event.id == event_id, Event.status != EventStatus.DRAFT)
        )
        async with self.db.sessions() as session:
            row = (await session.execute(statement)).first()
            if row is None:
                return None
            place = await session.get(Place, row.place_id) if row.place_id else None
            return EventDetails(
                hit=_hit(row, origin),
                description=row.description,
                capacity=row.capacity,
                registered=row.registered,
                place=place_details(place, ()) if place else None,
                open_for_sign_up=(
                    now is not None
                    and row.status == EventStatus.PUBLISHED
                    and now < min(row.start_at, row.deadline or row.start_at)
                ),
                topic_id=row.topic_id,
                minimum=row.minimum,
                minimum_by=row.minimum_by if row.minimum is not None else None,
            )
