"""What-if for the nearby search: prototypes of the changes suggested in
docs/BENCHMARKS.md, timed against the current PlaceSearch on the same data.

Nothing here is used by the bot. Run from the repository root (about 2 minutes):

    python bench/nearby_variants.py [--places 100000] [--queries 500] [--skip-postgres]

Variants (each a subclass of the current PlaceSearch, same statements):

- core: one Core connection instead of an ORM session;
- early stop: rows of a batch are checked only until `wanted` hits are certain
  (the SQL order is the flat distance; a row whose flat distance exceeds the last
  needed exact distance by 1 % + 10 m cannot come before it);
- rings: search 5 km first and only then the full radius, so a city search does
  not sort every place of a 50 × 50 km box;
- all three together;
- each of them again on a copy of the SQLite database with one more index,
  (lat_band, lon, lat, status), and on a copy opened with a 64 MB page cache
  (PRAGMA cache_size; SQLite's default is 2 MB).

Queries are interleaved (every variant answers the same point in turn, the order
rotating), so drift on a shared machine hits all variants alike. Every variant's
answers (ids and has_more) are compared with the current service's.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from run import (
    NOW,
    OPEN_NOW,
    RADIUS_KM,
    bulk_insert,
    land_points,
    load_towns,
    make_places,
    people_points,
    pg_admin,
    place_rows,
)
from sqlalchemy import event

from bot.geo import KM_PER_DEGREE_LAT, GeoPoint, haversine_km, search_box
from bot.services.contracts import NearbyPage, PlaceFilter, PlaceHit
from bot.services.database import Database
from bot.services.places import _STATEMENTS, BATCH, PlaceSearch, is_open_at
from bot.services.views import split_codes
from bot.storage.models import lat_band

# The flat (equirectangular) distance the SQL orders by differs from the exact one
# by well under 1 % within 100 km in Germany; the margin keeps the early stop exact.
FLAT_MARGIN = 1.01
FLAT_SLACK_KM = 0.01
CACHE_KB = 65536


class Variant(PlaceSearch):
    rings: tuple[float, ...] = (5.0,)
    core = True
    early_stop = True

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        if self.core:
            async with self.db.engine.connect() as conn:
                yield conn
        else:
            async with self.db.sessions() as session:
                yield session

    async def find_nearby(
        self,
        point: GeoPoint,
        radius_km: float,
        now: datetime,
        filters: PlaceFilter = OPEN_NOW,
        offset: int = 0,
        limit: int = 5,
    ) -> NearbyPage:
        statement = _STATEMENTS[
            (filters.place_type is not None, filters.equipment is not None, filters.step_free)
        ]
        wanted = offset + limit + 1
        k = math.cos(math.radians(point.lat))
        radii = [r for r in self.rings if r < radius_km] + [radius_km]
        found: list[PlaceHit] = []
        async with self._connection() as conn:
            for radius in radii:
                found = await self._ring(conn, statement, point, radius, k, now, filters, wanted)
                if len(found) >= wanted:
                    break  # every place nearer than these is inside this ring
        found.sort(key=lambda hit: (hit.distance_km, hit.id))
        return NearbyPage(
            hits=tuple(found[offset : offset + limit]), has_more=len(found) > offset + limit
        )

    async def _ring(
        self,
        conn: Any,
        statement: Any,
        point: GeoPoint,
        radius_km: float,
        k: float,
        now: datetime,
        filters: PlaceFilter,
        wanted: int,
    ) -> list[PlaceHit]:
        min_lat, max_lat, min_lon, max_lon = search_box(point, radius_km)
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
        found: list[PlaceHit] = []
        skip = 0
        while True:
            rows = (await conn.execute(statement, {**params, "skip": skip})).all()
            for row in rows:
                if self.early_stop and len(found) >= wanted:
                    found.sort(key=lambda hit: (hit.distance_km, hit.id))
                    dx = (row.lon - point.lon) * k * KM_PER_DEGREE_LAT
                    dy = (row.lat - point.lat) * KM_PER_DEGREE_LAT
                    limit_km = found[wanted - 1].distance_km * FLAT_MARGIN + FLAT_SLACK_KM
                    if math.hypot(dx, dy) > limit_km:
                        return found
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
            if len(rows) < BATCH or (len(found) >= wanted and not self.early_stop):
                return found
            skip += BATCH


def _bigger_cache(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's default page cache is 2 MB; 100 000 places take about 17 MB.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KB}")
    cursor.close()


def variant(name: str, **settings: Any) -> type[Variant]:
    return type(name, (Variant,), settings)


VARIANTS: dict[str, type[PlaceSearch]] = {
    "current": PlaceSearch,
    "core connection": variant("Core", rings=(), early_stop=False),
    "early stop": variant("Early", rings=(), core=False),
    "rings 5 → 25 km": variant("Rings", core=False, early_stop=False),
    "all three": Variant,
}


async def compare(
    engine: str,
    dbs: dict[str, Database],
    warmup: Sequence[GeoPoint],
    sets: Mapping[str, Sequence[GeoPoint]],
) -> None:
    searches = {
        f"{db_name}{name}": cls(db) for db_name, db in dbs.items() for name, cls in VARIANTS.items()
    }
    names = list(searches)
    for search in searches.values():
        for point in warmup:
            await search.find_nearby(point, RADIUS_KM, NOW, OPEN_NOW)
    for set_name, points in sets.items():
        times: dict[str, list[float]] = {n: [] for n in names}
        answers: dict[str, list[Any]] = {n: [] for n in names}
        for i, point in enumerate(points):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                start = time.perf_counter()
                page = await searches[name].find_nearby(point, RADIUS_KM, NOW, OPEN_NOW)
                times[name].append(time.perf_counter() - start)
                answers[name].append(([h.id for h in page.hits], page.has_more))
        print(f"\n{engine}, {set_name} ({len(points)} queries): median / p95 ms")
        reference = answers[names[0]]
        for name in names:
            ms = np.asarray(times[name]) * 1000
            same = sum(a == b for a, b in zip(answers[name], reference, strict=True))
            print(
                f"  {name:34s} {np.median(ms):6.2f} / {np.percentile(ms, 95):6.2f}"
                f"   same answers {same}/{len(points)}"
            )


async def main(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    towns = load_towns()
    rows = place_rows(make_places(args.places, rng, towns))
    warmup = land_points(50, rng, towns)  # drawn as in run.py, so the query points match
    sets = {
        "points uniform over Germany": land_points(args.queries, rng, towns),
        "points where people live": people_points(args.queries, rng, towns),
    }
    with tempfile.TemporaryDirectory(prefix="werkbank-variants-") as name:
        tmp = Path(name)
        db = await Database.open(f"sqlite+aiosqlite:///{tmp / 'a.db'}")
        await bulk_insert(db, rows)
        await db.close()
        shutil.copy(tmp / "a.db", tmp / "b.db")
        conn = sqlite3.connect(tmp / "b.db")
        conn.execute("CREATE INDEX ix_bench_cover ON place (lat_band, lon, lat, status)")
        conn.commit()
        conn.close()
        shutil.copy(tmp / "a.db", tmp / "c.db")
        cached = await Database.open(f"sqlite+aiosqlite:///{tmp / 'c.db'}")
        event.listen(cached.engine.sync_engine, "connect", _bigger_cache)
        await cached.engine.dispose()  # connections from now on get the pragma
        dbs = {
            "": await Database.open(f"sqlite+aiosqlite:///{tmp / 'a.db'}"),
            "+index, ": await Database.open(f"sqlite+aiosqlite:///{tmp / 'b.db'}"),
            "+cache 64 MB, ": cached,
        }
        try:
            await compare("SQLite", dbs, warmup, sets)
        finally:
            for db in dbs.values():
                await db.close()
    if args.skip_postgres:
        return
    server = args.pg.replace("postgresql+asyncpg://", "postgresql://").rstrip("/")
    database = f"werkbank_bench_{uuid.uuid4().hex[:10]}"
    await pg_admin(server, f'CREATE DATABASE "{database}"')
    try:
        url = server.replace("postgresql://", "postgresql+asyncpg://") + "/" + database
        db = await Database.open(url)
        try:
            await bulk_insert(db, rows)
            await compare("PostgreSQL", {"": db}, warmup, sets)
        finally:
            await db.close()
    finally:
        await pg_admin(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="nearby-search what-if")
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--pg", default=os.environ.get("WERKBANK_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
