"""Finding places: "the 5 nearest open now within 25 km", and a place's details.

The search is a box query on the (lat_band, lon) index, ordered by an
equirectangular distance in SQL, then checked exactly (haversine) and against
the opening hours in Python. Each opening-hours rule is parsed once per process
(`bot.hours.parse_hours` is cached), so a query costs a few index seeks and a
few rule evaluations.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.codes import Equipment, PlaceStatus, StepFree
from bot.geo import KM_PER_DEGREE_LAT, GeoPoint, haversine_km, search_box
from bot.hours import HoursError, parse_hours
from bot.services.contracts import NearbyPage, PlaceDetails, PlaceFilter, PlaceHit
from bot.services.database import Database
from bot.services.events import EventQueries
from bot.services.views import equipment_codes, place_details, place_types, step_free_code
from bot.storage.models import Place, lat_band

NO_FILTER = PlaceFilter()
# Rows fetched per round trip; most searches are answered by the first batch.
BATCH = 48

_COLUMNS = (
    Place.id,
    Place.name,
    Place.town,
    Place.types,
    Place.lat,
    Place.lon,
    Place.opening_hours,
    Place.step_free,
    Place.mobile,
)


def _flat_km(point: GeoPoint, row: Any, k: float) -> float:
    """The distance SQL orders by (equirectangular), in kilometres."""
    return math.hypot(row.lat - point.lat, (row.lon - point.lon) * k) * KM_PER_DEGREE_LAT


def _hit(row: Any, distance: float) -> PlaceHit:
    return PlaceHit(
        id=row.id,
        name=row.name,
        town=row.town,
        types=place_types(row.types),
        distance_km=distance,
        opening_hours=row.opening_hours,
        step_free=step_free_code(row.step_free),
        mobile=row.mobile,
    )


def is_open_at(rule: str | None, moment: datetime) -> bool:
    if not rule:
        return False
    try:
        return parse_hours(rule).is_open(moment)
    except HoursError:
        return False


def _nearby_batch(
    with_type: bool, with_equipment: bool, step_free: bool, known_hours: bool
) -> Select:  # type: ignore[type-arg]
    """The places of one batch of the box around a point, by a flat-earth distance.

    The ids are chosen by a subquery that, without filters, reads only ix_place_box:
    the database sorts small index entries, not whole rows. Built once per filter
    combination, so SQLAlchemy's compiled cache is hit every time.
    """
    lat0, lon0, k = (bindparam(name, type_=Float()) for name in ("lat0", "lon0", "k"))
    conditions = [
        Place.lat_band.in_(bindparam("bands", expanding=True)),
        Place.lon.between(bindparam("min_lon"), bindparam("max_lon")),
        Place.lat.between(bindparam("min_lat"), bindparam("max_lat")),
        Place.status == PlaceStatus.ACTIVE,
    ]
    if with_type:
        conditions.append(Place.types.like(bindparam("type_like")))
    if with_equipment:
        conditions.append(Place.equipment.like(bindparam("equipment_like")))
    if step_free:
        conditions.append(Place.step_free == StepFree.YES.value)
    if known_hours:
        conditions.append(and_(Place.opening_hours.is_not(None), Place.opening_hours != ""))
    dx = (Place.lon - lon0) * k
    dy = Place.lat - lat0
    nearest = (
        select(Place.id)
        .where(and_(*conditions))
        .order_by(dx * dx + dy * dy, Place.id)
        .limit(bindparam("batch"))
        .offset(bindparam("skip"))
    )
    # One round trip per batch: the rows of the nearest ids (their order is restored in Python).
    return select(*_COLUMNS).where(Place.id.in_(nearest.scalar_subquery()))


_BATCH_STATEMENTS = {
    flags: _nearby_batch(*flags) for flags in itertools.product((False, True), repeat=4)
}
# The flat distance SQL sorts by and the exact one differ by well under 3 % within
# 100 km in Germany: a row whose flat distance is beyond the n-th exact one by more
# than this cannot be nearer, so the scan may stop there.
FLAT_MARGIN = 1.03
FLAT_SLACK_KM = 0.05
# Most searches are answered within a few kilometres; the full radius only when not.
FIRST_RADIUS_KM = 5.0


class PlaceSearch:
    """The PlaceService used by dialogs (see bot.services.contracts)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.events = EventQueries(db)

    async def find_nearby(
        self,
        point: GeoPoint,
        radius_km: float,
        now: datetime,
        filters: PlaceFilter = NO_FILTER,
        offset: int = 0,
        limit: int = 5,
    ) -> NearbyPage:
        """Places within `radius_km`, nearest first; one more is looked for to know `has_more`."""
        wanted = offset + limit + 1
        async with self.db.connection() as conn:
            found: list[PlaceHit] = []
            if radius_km > FIRST_RADIUS_KM:
                # Everything within the small circle is nearer than anything outside it,
                # so when it already holds enough places, the answer is exact.
                found = await self._scan(conn, point, FIRST_RADIUS_KM, now, filters, wanted)
            if len(found) < wanted:
                found = await self._scan(conn, point, radius_km, now, filters, wanted)
        return NearbyPage(
            hits=tuple(found[offset : offset + limit]), has_more=len(found) > offset + limit
        )

    async def _scan(
        self,
        conn: AsyncConnection,
        point: GeoPoint,
        radius_km: float,
        now: datetime,
        filters: PlaceFilter,
        wanted: int,
    ) -> list[PlaceHit]:
        min_lat, max_lat, min_lon, max_lon = search_box(point, radius_km)
        k = math.cos(math.radians(point.lat))
        params = {
            "lat0": point.lat,
            "lon0": point.lon,
            "k": k,
            "bands": list(range(lat_band(min_lat), lat_band(max_lat) + 1)),
            "min_lat": min_lat,
            "max_lat": max_lat,
            "min_lon": min_lon,
            "max_lon": max_lon,
            "batch": BATCH,
            "type_like": f"%|{filters.place_type}|%",
            "equipment_like": f"%|{filters.equipment}|%",
        }
        statement = _BATCH_STATEMENTS[
            (
                filters.place_type is not None,
                filters.equipment is not None,
                filters.step_free,
                filters.known_hours,
            )
        ]
        found: list[PlaceHit] = []
        skip = 0
        while True:
            rows = (await conn.execute(statement, {**params, "skip": skip})).all()
            batch = sorted((_flat_km(point, row, k), row.id, row) for row in rows)
            for flat, _, row in batch:
                if len(found) >= wanted:
                    found.sort(key=lambda hit: (hit.distance_km, hit.id))
                    if flat > found[wanted - 1].distance_km * FLAT_MARGIN + FLAT_SLACK_KM:
                        return found
                distance = haversine_km(point, GeoPoint(row.lat, row.lon))
                if distance > radius_km:
                    continue
                if filters.open_now and not is_open_at(row.opening_hours, now):
                    continue
                found.append(_hit(row, distance))
            if len(batch) < BATCH or batch[-1][0] > radius_km * FLAT_MARGIN + FLAT_SLACK_KM:
                break
            skip += BATCH
        # SQL orders by a flat-earth distance; re-sort by the exact one for the last metres.
        found.sort(key=lambda hit: (hit.distance_km, hit.id))
        return found

    async def has_places(self) -> bool:
        async with self.db.sessions() as session:
            return (await session.execute(select(Place.id).limit(1))).first() is not None

    async def details(self, place_id: int, now: datetime) -> PlaceDetails | None:
        async with self.db.sessions() as session:
            place = await session.get(Place, place_id)
            if place is None:
                return None
            upcoming = await self.events.upcoming_at_place(session, place_id, now, limit=3)
            return place_details(place, upcoming)

    async def equipment_nearby(self, point: GeoPoint, radius_km: float) -> Sequence[Equipment]:
        """Equipment codes some active place within the box has: the filter offers only those."""
        min_lat, max_lat, min_lon, max_lon = search_box(point, radius_km)
        statement = (
            select(Place.equipment)
            .where(
                Place.lat_band.in_(range(lat_band(min_lat), lat_band(max_lat) + 1)),
                Place.lon.between(min_lon, max_lon),
                Place.status == PlaceStatus.ACTIVE,
                Place.equipment != "",
            )
            .distinct()
        )
        async with self.db.sessions() as session:
            codes = {
                code
                for (value,) in await session.execute(statement)
                for code in equipment_codes(value)
            }
        return sorted(codes)
