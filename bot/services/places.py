"""Finding places: "the 5 nearest open now within 25 km", and a place's details.

The search is a box query on the (lat_band, lon) index, ordered by an
equirectangular distance in SQL, then checked exactly (haversine) and against
the opening hours in Python. Each opening-hours rule is parsed once per process
(`bot.hours.parse_hours` is cached), so a query costs a few index seeks and a
few rule evaluations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Float, Select, and_, bindparam, select

from bot.geo import GeoPoint, haversine_km, search_box
from bot.hours import HoursError, parse_hours
from bot.services.contracts import NearbyPage, PlaceDetails, PlaceFilter, PlaceHit
from bot.services.database import Database
from bot.services.events import EventQueries
from bot.services.views import place_details, split_codes
from bot.storage.models import Place, PlaceStatus, lat_band

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


def is_open_at(rule: str | None, moment: datetime) -> bool:
    if not rule:
        return False
    try:
        return parse_hours(rule).is_open(moment)
    except HoursError:
        return False


def _nearby_statement(with_type: bool, with_equipment: bool, step_free: bool) -> Select:  # type: ignore[type-arg]
    # Built once per filter combination, so SQLAlchemy's compiled cache is hit every time.
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
        conditions.append(Place.step_free == "yes")
    dx = (Place.lon - lon0) * k
    dy = Place.lat - lat0
    return (
        select(*_COLUMNS)
        .where(and_(*conditions))
        .order_by(dx * dx + dy * dy, Place.id)
        .limit(bindparam("batch"))
        .offset(bindparam("skip"))
    )


_STATEMENTS = {
    (t, e, s): _nearby_statement(t, e, s)
    for t in (False, True)
    for e in (False, True)
    for s in (False, True)
}


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
        min_lat, max_lat, min_lon, max_lon = search_box(point, radius_km)
        params = {
            "lat0": point.lat,
            "lon0": point.lon,
            "k": math.cos(math.radians(point.lat)),
            "bands": list(range(lat_band(min_lat), lat_band(max_lat) + 1)),
            "min_lat": min_lat,
            "max_lat": max_lat,
            "min_lon": min_lon,
            "max_lon": max_lon,
            "batch": BATCH,
            "type_like": f"%|{filters.place_type}|%",
            "equipment_like": f"%|{filters.equipment}|%",
        }
        statement = _STATEMENTS[
            (filters.place_type is not None, filters.equipment is not None, filters.step_free)
        ]
        wanted = offset + limit + 1
        found: list[PlaceHit] = []
        skip = 0
        async with self.db.sessions() as session:
            while len(found) < wanted:
                rows = (await session.execute(statement, {**params, "skip": skip})).all()
                for row in rows:
                    distance = haversine_km(point, GeoPoint(row.lat, row.lon))
                    if distance > radius_km:
                        continue
                    if filters.open_now and not is_open_at(row.opening_hours, now):
                        continue
                    found.append(
                        PlaceHit(
                            id=row.id,
                            name=row.name,
                            town=row.town,
                            types=split_codes(row.types),
                            distance_km=distance,
                            opening_hours=row.opening_hours,
                            step_free=row.step_free,
                            mobile=row.mobile,
                        )
                    )
                if len(rows) < BATCH:
                    break
                skip += BATCH
        # SQL orders by a flat-earth distance; re-sort by the exact one for the last metres.
        found.sort(key=lambda hit: (hit.distance_km, hit.id))
        return NearbyPage(
            hits=tuple(found[offset : offset + limit]), has_more=len(found) > offset + limit
        )

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

    async def equipment_nearby(self, point: GeoPoint, radius_km: float) -> Sequence[str]:
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
                code for (value,) in await session.execute(statement) for code in split_codes(value)
            }
        return sorted(codes)
