"""Finding places: "the 5 nearest open now within 25 km", and a place's details.

The database hands out places nearest first by a distance on a plane, and Python
checks each exactly (haversine) and against its opening hours, stopping as soon as no
later place can be nearer than the ones found. On PostgreSQL the order comes from a
GiST index (`ix_place_near`, migration 0009); on SQLite from a box query on the
B-tree `(lat_band, lon)`, sorted in SQL. Each opening-hours rule is parsed once per
process (`bot.hours.parse_hours` is cached) and checked once per search.

How far the plane may be off, so that the early stop is exact. Both planes are
x = λ·s, y = φ (s = 0.63 for the GiST index, s = cos φ₀ for the box query), and a
place's plane distance from the point is f = R·hypot(Δφ, s·Δλ) in radians. Take a
place at great-circle distance d ≤ D. The shortest way there stays within latitudes
|φ| ≤ |φ₀| + D/R, where cos φ ≥ c := cos(|φ₀| + D/R). Its length is
∫ R·√(dφ² + cos²φ·dλ²) ≥ ∫ R·√(dφ² + c²·dλ²) ≥ R·hypot(Δφ, c·Δλ) (a straight line is
shortest), and f ≤ max(1, s/c)·R·hypot(Δφ, c·Δλ). So f ≤ M·d with M = max(1, s/c):
a place whose f exceeds M·D is farther than D. In Germany, for D = 25 km, M is 1 in
the south and at most 1.11 at the Danish border with the index (1.005 with s = cos φ₀).
Longitudes are not wrapped, as no place lies near ±180°.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.codes import Equipment, PlaceStatus, StepFree
from bot.geo import EARTH_RADIUS_KM, GeoPoint, search_box
from bot.hours import HoursError, parse_hours
from bot.services.contracts import NearbyPage, PlaceDetails, PlaceFilter, PlaceHit
from bot.services.database import Database
from bot.services.events import EventQueries
from bot.services.views import equipment_codes, place_details, place_types, step_free_code
from bot.storage.models import NEAR_LON_SCALE, NEAR_POINT_SQL, Place, lat_band

NO_FILTER = PlaceFilter()
# Rows of the first round trip: 99 % of searches for 6 places open now are answered
# within the nearest 22 (bench/run.py); a longer search asks for 4 times as many.
BATCH = 32
# Kilometres for the rounding of the plane and haversine distances (both are exact to
# far less than a millimetre within Germany).
SLACK_KM = 0.001
# On SQLite with many places most searches are answered within a few kilometres, whose
# box is small; the full radius only when not.
FIRST_RADIUS_KM = 5.0
RADIUS_GROWTH = 2.5
# With at most this many places in all, any box holds so few that one scan of the whole
# circle is cheaper than up to three growing ones (the usual case: a region's few hundred
# places). The count is a hint read again after HINT_SECONDS; it decides only how the
# answer is found, never which.
FEW_PLACES = 2_000
HINT_SECONDS = 60.0
# The box query names its latitude bands one by one; up to this many as fixed
# parameters (a 33 km radius), more in an expanding list.
BAND_SLOTS = 8
NO_BAND = 10**6  # fills unused slots: no latitude has this band
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180

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
# (place type, equipment, step-free, known hours): one statement per combination, built
# once (on its first use, not at import: a start needs none of them), so SQLAlchemy's
# compiled cache is hit every time.


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


def plane_margin(point: GeoPoint, reach_km: float, scale: float) -> float:
    """M: no place within `reach_km` of `point` is farther on the plane x = λ·scale, y = φ
    than M times its distance (see the module's docstring)."""
    widest = min(90.0, abs(point.lat) + reach_km / KM_PER_DEGREE)
    return max(1.0, scale / max(math.cos(math.radians(widest)), 1e-6))


def _filters(
    with_type: bool, with_equipment: bool, step_free: bool, known_hours: bool
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Place.status == PlaceStatus.ACTIVE]
    if with_type:
        conditions.append(Place.types.like(bindparam("type_like")))
    if with_equipment:
        conditions.append(Place.equipment.like(bindparam("equipment_like")))
    if step_free:
        conditions.append(Place.step_free == StepFree.YES.value)
    if known_hours:
        conditions.append(and_(Place.opening_hours.is_not(None), Place.opening_hours != ""))
    return conditions


@cache
def _nearest_first(flags: tuple[bool, bool, bool, bool]) -> Select:  # type: ignore[type-arg]
    """PostgreSQL: the first `batch` places of the box, nearest on the index's plane first.

    The box is an index condition, so a rare filter does not walk the index beyond it.
    No second sort key: PostgreSQL would then sort the box instead of reading the index
    in order; ties are left to the exact distance in Python.
    """
    # Spelt exactly as the index is, or PostgreSQL does not use it.
    near: ColumnElement[Any] = literal_column(NEAR_POINT_SQL)
    x0, y0, min_x, min_y, max_x, max_y = (
        bindparam(name, type_=Float()) for name in ("x0", "y0", "min_x", "min_y", "max_x", "max_y")
    )
    box = func.box(func.point(min_x, min_y), func.point(max_x, max_y))
    return (
        select(*_COLUMNS)
        .where(near.op("<@", is_comparison=True)(box), *_filters(*flags))
        .order_by(near.op("<->", return_type=Float())(func.point(x0, y0)))
        .limit(bindparam("batch"))
    )


@cache
def _place_row() -> type[Any]:
    """asyncpg's record for `_nearest_first`, read by name like SQLAlchemy's rows (made at
    the first search: a start on SQLite does not import asyncpg)."""
    import asyncpg

    columns = {column.key: property(itemgetter(i)) for i, column in enumerate(_COLUMNS)}
    return type("PlaceRow", (asyncpg.Record,), columns)


@cache
def _driver_statement(
    flags: tuple[bool, bool, bool, bool], dialect: Dialect
) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """`_nearest_first(flags)` as asyncpg takes it: the SQL SQLAlchemy compiles ($1, $2,
    ...), its parameters' names in that order, and the values it binds itself (the
    status, run through the column type's own conversion)."""
    compiled = _nearest_first(flags).compile(dialect=dialect)
    fixed: dict[str, Any] = {}
    for name, value in compiled.params.items():
        if value is not None:
            convert = compiled.binds[name].type.bind_processor(dialect)
            fixed[name] = convert(value) if convert else value
    return str(compiled), tuple(compiled.positiontup or ()), fixed


async def _fetch_nearest_first(
    conn: AsyncConnection, flags: tuple[bool, bool, bool, bool], params: dict[str, Any]
) -> Sequence[Any]:
    """One batch of `_nearest_first(flags)`, sent by asyncpg itself.

    SQLAlchemy's execute added 0.26 ms to asyncpg's 0.4 ms for this statement's round
    trip (of about 1 ms per search in all; docs/BENCHMARKS.md, issue 16), which kept the
    search short of issue 16's 3× on PostgreSQL. asyncpg prepares the statement once per
    connection (its statement cache), as SQLAlchemy's dialect does.

    It runs in the connection's transaction on the server, if one is open (in a step the
    step's; SQLAlchemy opens it at its first statement, so a search first in a step runs
    before it, on the same committed rows); outside a step alone, in autocommit: no BEGIN
    and ROLLBACK round trips. A lost connection is sent through SQLAlchemy again, which
    fails the same way, drops it from the pool and raises what the runner knows
    (`engine.lost_connection`); the server's own errors (a lock or statement timeout) are
    raised as asyncpg's, whose `sqlstate` `engine.is_busy` reads. SQLAlchemy's statement
    events do not see this statement.
    """
    sql, names, fixed = _driver_statement(flags, conn.dialect)
    values = {**fixed, **params}
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None  # a checked-out connection always has one
    try:
        return await driver.fetch(sql, *[values[name] for name in names], record_class=_place_row())
    except Exception:
        if not driver.is_closed():
            raise
    return (await conn.execute(_nearest_first(flags), params)).all()


@cache
def _box_by_distance(flags: tuple[bool, bool, bool, bool], slots: int) -> Select:  # type: ignore[type-arg]
    """SQLite: one batch of the box around a point, by the plane distance (x = λ·cos φ₀).

    The ids are chosen by a subquery that, without filters, reads only ix_place_box: the
    database sorts small index entries, not whole rows; the outer query returns the rows
    of those ids in the same order, with their squared plane distance in degrees.
    """
    x0, y0, k = (bindparam(name, type_=Float()) for name in ("lon0", "lat0", "k"))
    bands = (
        Place.lat_band.in_([bindparam(f"band{i}") for i in range(slots)])
        if slots
        else Place.lat_band.in_(bindparam("bands", expanding=True))
    )
    conditions = [
        bands,
        Place.lon.between(bindparam("min_lon"), bindparam("max_lon")),
        Place.lat.between(bindparam("min_lat"), bindparam("max_lat")),
        *_filters(*flags),
    ]
    dx = (Place.lon - x0) * k
    dy = Place.lat - y0
    plane = (dx * dx + dy * dy).label("plane")
    nearest = (
        select(Place.id)
        .where(*conditions)
        .order_by(plane, Place.id)
        .limit(bindparam("batch"))
        .offset(bindparam("skip"))
    )
    return (
        select(*_COLUMNS, plane)
        .where(Place.id.in_(nearest.scalar_subquery()))
        .order_by(plane, Place.id)
    )


class _Nearest:
    """The `wanted` nearest places offered so far that lie within the radius and fit."""

    def __init__(
        self, point: GeoPoint, radius_km: float, wanted: int, open_at: datetime | None
    ) -> None:
        self.radius_km = radius_km
        self.wanted = wanted
        self.open_at = open_at
        self.found: list[tuple[float, int, Any]] = []  # (distance, id, row), nearest first
        self._open: dict[str | None, bool] = {}
        self._distance = haversine_from(point)

    def bound(self) -> float:
        """The distance within which a place must lie to be among the wanted ones."""
        return self.found[-1][0] if len(self.found) >= self.wanted else self.radius_km

    def offer(self, row: Any) -> None:
        distance = self._distance(row.lat, row.lon)
        if distance > self.radius_km:
            return
        if len(self.found) >= self.wanted and (distance, row.id) > self.found[-1][:2]:
            return
        if self.open_at is not None:
            rule = row.opening_hours
            is_open = self._open.get(rule)
            if is_open is None:
                is_open = self._open[rule] = is_open_at(rule, self.open_at)
            if not is_open:
                return
        bisect.insort(self.found, (distance, row.id, row))
        del self.found[self.wanted :]


def haversine_from(point: GeoPoint) -> Callable[[float, float], float]:
    """bot.geo.haversine_km from `point`, to the last bit, with the point's part done once."""
    lat1 = math.radians(point.lat)
    cos1 = math.cos(lat1)
    radians, sin, cos, sqrt, asin = math.radians, math.sin, math.cos, math.sqrt, math.asin

    def distance(lat: float, lon: float) -> float:
        lat2 = radians(lat)
        h = sin((lat2 - lat1) / 2) ** 2 + cos1 * cos(lat2) * sin(radians(lon - point.lon) / 2) ** 2
        return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))

    return distance


def _flags(filters: PlaceFilter) -> tuple[bool, bool, bool, bool]:
    return (
        filters.place_type is not None,
        filters.equipment is not None,
        filters.step_free,
        filters.known_hours,
    )


def _filter_params(filters: PlaceFilter) -> dict[str, Any]:
    return {
        "type_like": f"%|{filters.place_type}|%",
        "equipment_like": f"%|{filters.equipment}|%",
    }


class PlaceSearch:
    """The PlaceService used by dialogs (see bot.services.contracts)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.events = EventQueries(db)
        self._few_places = False
        self._hint_until = -math.inf

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
            if self.db.dialect == "postgresql":
                nearest = await self._nearest_first(conn, point, radius_km, now, filters, wanted)
            else:
                # Everything within a smaller circle is nearer than anything outside it,
                # so when it already holds enough places, the answer is exact.
                few = await self._few_places_hint(conn)
                reach = radius_km if few else min(radius_km, FIRST_RADIUS_KM)
                while True:
                    nearest = await self._box_scan(conn, point, reach, now, filters, wanted)
                    if len(nearest.found) >= wanted or reach >= radius_km:
                        break
                    reach = min(radius_km, reach * RADIUS_GROWTH)
        found = nearest.found
        return NearbyPage(
            hits=tuple(_hit(row, distance) for distance, _, row in found[offset : offset + limit]),
            has_more=len(found) > offset + limit,
        )

    async def _few_places_hint(self, conn: AsyncConnection) -> bool:
        """Whether the table holds at most FEW_PLACES places, as last counted. The highest
        id is read from the end of the primary key (no scan) and is at least the count."""
        now = time.monotonic()
        if now >= self._hint_until:
            highest = (await conn.execute(select(func.max(Place.id)))).scalar()
            self._few_places = (highest or 0) <= FEW_PLACES
            self._hint_until = now + HINT_SECONDS
        return self._few_places

    async def _nearest_first(
        self,
        conn: AsyncConnection,
        point: GeoPoint,
        radius_km: float,
        now: datetime,
        filters: PlaceFilter,
        wanted: int,
    ) -> _Nearest:
        """PostgreSQL: read places from ix_place_near in order until none can be nearer.

        A longer search asks again from the start for 4 times as many rows, skipping the
        ones seen: unlike an OFFSET, this cannot miss a place that ties with the last
        one of a batch, or one that moved meanwhile.
        """
        nearest = _Nearest(point, radius_km, wanted, now if filters.open_now else None)
        margin = plane_margin(point, radius_km, NEAR_LON_SCALE)
        # No place within the radius lies farther than `reach` on the plane.
        reach = (radius_km * margin + SLACK_KM) / KM_PER_DEGREE
        x0, y0 = point.lon * NEAR_LON_SCALE, point.lat
        params = {
            "x0": x0,
            "y0": y0,
            "min_x": x0 - reach,
            "min_y": y0 - reach,
            "max_x": x0 + reach,
            "max_y": y0 + reach,
            **_filter_params(filters),
        }
        flags = _flags(filters)
        seen: set[int] = set()
        batch = BATCH
        while True:
            rows = await _fetch_nearest_first(conn, flags, {**params, "batch": batch})
            for row in rows:
                if row.id in seen:
                    continue
                seen.add(row.id)
                plane = math.hypot(row.lon * NEAR_LON_SCALE - x0, row.lat - y0) * KM_PER_DEGREE
                if plane > nearest.bound() * margin + SLACK_KM:
                    return nearest
                nearest.offer(row)
            if len(rows) < batch:
                return nearest
            batch *= 4

    async def _box_scan(
        self,
        conn: AsyncConnection,
        point: GeoPoint,
        radius_km: float,
        now: datetime,
        filters: PlaceFilter,
        wanted: int,
    ) -> _Nearest:
        """SQLite: the box around the circle, in batches by the plane distance."""
        nearest = _Nearest(point, radius_km, wanted, now if filters.open_now else None)
        k = math.cos(math.radians(point.lat))
        margin = plane_margin(point, radius_km, k)
        reach = (radius_km * margin + SLACK_KM) / KM_PER_DEGREE
        min_lon, max_lon = point.lon - reach / max(k, 1e-6), point.lon + reach / max(k, 1e-6)
        min_lat, max_lat = point.lat - reach, point.lat + reach
        bands = list(range(lat_band(min_lat), lat_band(max_lat) + 1))
        slots = BAND_SLOTS if len(bands) <= BAND_SLOTS else 0
        params: dict[str, Any] = {
            "lat0": point.lat,
            "lon0": point.lon,
            "k": k,
            "min_lat": min_lat,
            "max_lat": max_lat,
            "min_lon": min_lon,
            "max_lon": max_lon,
            "batch": BATCH,
            **_filter_params(filters),
        }
        if slots:
            params.update(
                (f"band{i}", bands[i] if i < len(bands) else NO_BAND) for i in range(slots)
            )
        else:
            params["bands"] = bands
        statement = _box_by_distance(_flags(filters), slots)
        skip = 0
        while True:
            rows = (await conn.execute(statement, {**params, "skip": skip})).all()
            for row in rows:
                plane = math.sqrt(row.plane) * KM_PER_DEGREE
                if plane > nearest.bound() * margin + SLACK_KM:
                    return nearest
                nearest.offer(row)
            if len(rows) < BATCH:
                return nearest
            skip += BATCH

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
