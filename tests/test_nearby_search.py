"""The nearby search's plane, its early stop, ties and filters, on both databases.

On PostgreSQL the places come nearest first from a GiST index over a plane with one
longitude scale for all of Germany; on SQLite from a box sorted by a plane with the
query's own scale. Either way the answer must be exactly the haversine one.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bot.app import Werkbank
from bot.codes import Equipment, PlaceType, StepFree
from bot.geo import GeoPoint, haversine_km
from bot.services import places
from bot.services.contracts import PlaceFilter
from bot.services.places import KM_PER_DEGREE, haversine_from, is_open_at, plane_margin
from bot.storage.engine import create_engine, lost_connection
from bot.storage.models import NEAR_LON_SCALE, Place, lat_band
from tests.support.clock import NOW

RULES = (None, "", "Mo-Fr 10:00-18:00", "Tu,Th 16:00-21:00", "Sa 10:00-14:00", "24/7")


def offset_point(origin: GeoPoint, north_km: float, east_km: float) -> GeoPoint:
    lat = origin.lat + north_km / KM_PER_DEGREE
    return GeoPoint(lat, origin.lon + east_km / (KM_PER_DEGREE * math.cos(math.radians(lat))))


async def add_places(app: Werkbank, places: list[dict[str, object]]) -> None:
    async with app.db.transaction() as session:
        for values in places:
            lat = float(values["lat"])  # type: ignore[arg-type]
            session.add(Place(town="Test", lat_band=lat_band(lat), **values))


@pytest.fixture(params=["growing circles", "one scan"])
def sqlite_strategy(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, app: Werkbank
) -> str:
    """SQLite finds the nearest in growing circles when there are many places and in one
    scan of the whole circle when there are few: both must give the same answer."""
    if app.db.dialect != "sqlite" and request.param != "growing circles":
        pytest.skip("PostgreSQL has one way to search: its index")
    monkeypatch.setattr(places, "FEW_PLACES", 0 if request.param == "growing circles" else 10**9)
    return str(request.param)


async def stored_places(app: Werkbank) -> list[Place]:
    async with app.db.sessions() as session:
        return list((await session.execute(select(Place))).scalars().all())


def brute_force(
    rows: list[Place], origin: GeoPoint, radius_km: float, filters: PlaceFilter
) -> list[int]:
    """Every stored place checked one by one: the answer the search must give, in order."""
    kept = []
    for place in rows:
        distance = haversine_km(origin, GeoPoint(place.lat, place.lon))
        if (
            place.status == "active"
            and distance <= radius_km
            and (filters.place_type is None or f"|{filters.place_type}|" in place.types)
            and (filters.equipment is None or f"|{filters.equipment}|" in place.equipment)
            and (not filters.step_free or place.step_free == StepFree.YES)
            and (not filters.known_hours or place.opening_hours)
            and (not filters.open_now or is_open_at(place.opening_hours, NOW))
        ):
            kept.append((distance, place.id))
    return [place_id for _, place_id in sorted(kept)]


def test_the_plane_never_stretches_a_distance_beyond_the_margin() -> None:
    """The early stop's proof (bot.services.places), tried on places all around points
    from the Alps to the Danish border, for the index's scale and the query's own."""
    rng = random.Random(16)
    for _ in range(20_000):
        origin = GeoPoint(rng.uniform(47.2, 55.1), rng.uniform(5.8, 15.1))
        reach = rng.choice((5.0, 25.0, 100.0, 1000.0))
        place = GeoPoint(
            origin.lat + rng.uniform(-1, 1) * reach / KM_PER_DEGREE,
            origin.lon + rng.uniform(-1, 1) * reach / (KM_PER_DEGREE * 0.3),
        )
        distance = haversine_km(origin, place)
        if distance > reach:
            continue
        for scale in (NEAR_LON_SCALE, math.cos(math.radians(origin.lat))):
            plane = math.hypot(place.lat - origin.lat, (place.lon - origin.lon) * scale)
            assert plane * KM_PER_DEGREE <= plane_margin(origin, reach, scale) * distance + 1e-9


def test_the_search_measures_as_haversine_does_to_the_last_bit() -> None:
    """Ties are broken by id only when two distances are equal: the search's own
    haversine must give bot.geo's value exactly, as the brute force uses it."""
    rng = random.Random(8)
    for _ in range(2000):
        origin = GeoPoint(rng.uniform(47, 55), rng.uniform(6, 15))
        place = GeoPoint(origin.lat + rng.gauss(0, 0.3), origin.lon + rng.gauss(0, 0.4))
        assert haversine_from(origin)(place.lat, place.lon) == haversine_km(origin, place)


async def test_a_place_east_in_the_far_north_is_found_though_the_plane_stretches_it(
    app: Werkbank,
) -> None:
    # At 54.9° a degree east is 9 % shorter than the index's plane says: "Ost" lies
    # 10.96 km away on the plane, beyond the three places north, yet it is the nearest.
    sea = GeoPoint(54.9, 7.9)
    await add_places(
        app,
        [
            {"name": name, "lat": p.lat, "lon": p.lon}
            for name, p in (
                ("Nord 1", offset_point(sea, 10.1, 0)),
                ("Nord 2", offset_point(sea, 10.2, 0)),
                ("Nord 3", offset_point(sea, 10.3, 0)),
                ("Ost", offset_point(sea, 0, 10.0)),
                ("Rand", offset_point(sea, 0, 24.95)),
                ("Draußen", offset_point(sea, 0, 25.1)),
            )
        ],
    )
    search = app.services.places
    first = await search.find_nearby(sea, 25, NOW, PlaceFilter(), limit=1)
    assert [hit.name for hit in first.hits] == ["Ost"] and first.has_more
    page = await search.find_nearby(sea, 25, NOW, PlaceFilter(), limit=10)
    assert [hit.name for hit in page.hits] == ["Ost", "Nord 1", "Nord 2", "Nord 3", "Rand"]
    assert [hit.id for hit in page.hits] == brute_force(
        await stored_places(app), sea, 25, PlaceFilter()
    )


async def test_places_at_one_distance_come_by_id_across_every_batch(
    app: Werkbank, sqlite_strategy: str
) -> None:
    """100 places in one house: more than a round trip reads, all at one distance."""
    here = GeoPoint(47.9, 12.2)
    house = offset_point(here, -3, 1)
    await add_places(
        app,
        [
            {"name": f"Haus {i}", "lat": house.lat, "lon": house.lon, "opening_hours": RULES[i % 6]}
            for i in range(100)
        ],
    )
    rows = await stored_places(app)
    for filters, offset in (
        (PlaceFilter(), 0),
        (PlaceFilter(), 93),
        (PlaceFilter(open_now=True), 40),
    ):
        expected = brute_force(rows, here, 10, filters)
        page = await app.services.places.find_nearby(here, 10, NOW, filters, offset=offset, limit=5)
        assert [hit.id for hit in page.hits] == expected[offset : offset + 5]
        assert page.has_more == (len(expected) > offset + 5)


async def test_filters_agree_with_brute_force_in_the_north_and_the_south(
    app: Werkbank, sqlite_strategy: str
) -> None:
    rng = random.Random(1600)
    centres = (GeoPoint(54.6, 9.6), GeoPoint(47.7, 10.6))
    places: list[dict[str, object]] = []
    for i in range(1200):
        centre = centres[i % 2]
        places.append(
            {
                "name": f"P{i}",
                "lat": centre.lat + rng.gauss(0, 0.2),
                "lon": centre.lon + rng.gauss(0, 0.3),
                "types": "|" + "|".join(rng.sample(list(PlaceType), rng.randint(1, 2))) + "|",
                "equipment": "|" + "|".join(rng.sample(list(Equipment), rng.randint(0, 2))) + "|",
                "step_free": rng.choice((None, "yes", "no", "limited")),
                "opening_hours": rng.choice(RULES),
                "status": "closed" if rng.random() < 0.05 else "active",
            }
        )
    await add_places(app, places)
    rows = await stored_places(app)
    choices = (
        PlaceFilter(),
        PlaceFilter(open_now=True),
        PlaceFilter(place_type=PlaceType.REPAIR_CAFE),
        PlaceFilter(equipment=Equipment.LASER_CUTTER, open_now=True),
        PlaceFilter(step_free=True, place_type=PlaceType.WORKSHOP),
        PlaceFilter(known_hours=True),
        PlaceFilter(known_hours=True, step_free=True, equipment=Equipment.WOOD),
    )
    for n in range(16):
        centre = centres[n % 2]
        origin = GeoPoint(centre.lat + rng.gauss(0, 0.25), centre.lon + rng.gauss(0, 0.4))
        for filters in choices:
            radius, offset = rng.choice(((5, 0), (25, 0), (25, 5), (60, 10)))
            expected = brute_force(rows, origin, radius, filters)
            page = await app.services.places.find_nearby(
                origin, radius, NOW, filters, offset=offset, limit=5
            )
            assert [hit.id for hit in page.hits] == expected[offset : offset + 5], (origin, filters)
            assert page.has_more == (len(expected) > offset + 5)


async def test_postgresql_reads_the_nearest_places_from_the_index_in_order(app: Werkbank) -> None:
    if app.db.dialect != "postgresql":
        pytest.skip("the nearest-first index is PostgreSQL's")
    statements: list[tuple[str, tuple[object, ...]]] = []

    def capture(query: Any) -> None:  # asyncpg's LoggedQuery
        if "FROM place" in query.query:
            statements.append((query.query, tuple(query.args)))

    # The search sends its statement by asyncpg itself, past SQLAlchemy's events: it is
    # read from asyncpg's own log of the connection, in a step the step's connection.
    filters = PlaceFilter(open_now=True, place_type=PlaceType.WORKSHOP)
    async with app.db.step(), app.db.connection() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        driver.add_query_logger(capture)
        try:
            await app.services.places.find_nearby(GeoPoint(51.37, 7.69), 25, NOW, filters)
        finally:
            driver.remove_query_logger(capture)
    sql, params = statements[0]
    async with app.db.engine.connect() as conn:
        # The demo's few places are read faster without an index; what counts is that
        # the statement can read this one in order, as it does on a full table.
        await conn.exec_driver_sql("SET enable_seqscan = off")
        await conn.exec_driver_sql("SET enable_bitmapscan = off")
        plan = "\n".join(row[0] for row in await conn.exec_driver_sql("EXPLAIN " + sql, params))
    assert "Index Scan using ix_place_near" in plan
    assert "Order By: (point((lon * '0.63'::double precision), lat) <->" in plan
    assert "Index Cond: (point(" in plan and "Sort" not in plan


async def test_a_search_on_a_connection_postgresql_dropped_fails_as_sqlalchemy_would(
    app: Werkbank,
) -> None:
    """Outside a step the search checks a connection out of the pool and sends its
    statement by asyncpg itself; one the server dropped (a restart) must still fail as
    the runner expects (`lost_connection`), and be gone from the pool afterwards."""
    if app.db.dialect != "postgresql":
        pytest.skip("the search sends its statement by asyncpg only on PostgreSQL")
    here = GeoPoint(51.37, 7.69)
    expected = await app.services.places.find_nearby(here, 25, NOW, PlaceFilter())
    admin = create_engine(app.settings.database_url)
    try:
        async with admin.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await admin.dispose()
    with pytest.raises(DBAPIError) as raised:
        await app.services.places.find_nearby(here, 25, NOW, PlaceFilter())
    assert lost_connection(raised.value)
    assert await app.services.places.find_nearby(here, 25, NOW, PlaceFilter()) == expected
