"""Sign-up throughput: `Registrations.sign_up` with 50 concurrent members on PostgreSQL,
and the whole dialog step ("Anmelden" on an event's detail screen), beside bare INSERTs of
a registration row through the same engine with the same 50 workers.

Run from the repository root: `python bench/signups.py` (about 1.5 minutes; `--quick` for a
smoke run). By default it creates a database `werkbank_bench_<random>` on
postgresql://postgres@127.0.0.1:5432 (or `$WERKBANK_TEST_PG`) and drops it at the end;
`--database-url` uses a given empty database instead, `--sqlite` adds a run on a SQLite file.
See docs/BENCHMARKS.md, "Sign-ups".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.statements import StatementClock  # noqa: E402
from bot.app import Werkbank  # noqa: E402
from bot.codes import EventFormat, EventStatus, Field, RegistrationStatus  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.dialogs.actions import SIGN_UP  # noqa: E402
from bot.messages import AccountRef, Incoming, Kind, OutMessage  # noqa: E402
from bot.storage.models import (  # noqa: E402
    ChannelAccount,
    Event,
    Member,
    Place,
    Registration,
    lat_band,
)

PG_SERVER = os.environ.get("WERKBANK_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
WORKERS = 50
LIMITED, SEATS, UNLIMITED = 20, 5, 5  # per event set: 20 events of 5 seats, 5 without a limit
FIRST_USER = 500_000  # Telegram user ids of the bench members
BENDORF = (50.43, 7.57)
SEED = 7
Tally = dict[str, float]


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Timing:
    count: int
    seconds: float
    latencies: list[float]
    cpu_seconds: float  # this process's CPU time (all threads) during the run

    def summary(self) -> dict[str, float]:
        return {
            "count": self.count,
            "seconds": self.seconds,
            "per_s": self.count / self.seconds,
            "cpu_ms_per_sign_up": self.cpu_seconds * 1000 / self.count,
            "median_ms": statistics.median(self.latencies) * 1000,
            "p95_ms": percentile(self.latencies, 0.95) * 1000,
        }


async def in_workers(
    jobs: Sequence[tuple[int, int]],
    call: Callable[[int, int], Awaitable[object]],
    workers: int = WORKERS,
) -> Timing:
    """Run `call(member, event)` for every job with `workers` workers; time each call."""
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            member, event_id = queue.get_nowait()
            began = time.perf_counter()
            await call(member, event_id)
            latencies.append(time.perf_counter() - began)

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return Timing(len(jobs), time.perf_counter() - start, latencies, time.process_time() - cpu)


# -- setup (not timed) ---------------------------------------------------------------
async def add_place(app: Werkbank) -> int:
    async with app.db.transaction() as session:
        place = Place(
            name="MakerSpace Bench",
            town="Bendorf",
            lat=BENDORF[0],
            lon=BENDORF[1],
            lat_band=lat_band(BENDORF[0]),
        )
        session.add(place)
        await session.flush()
        return place.id


async def add_events(app: Werkbank, tag: str, place_id: int, start: datetime) -> list[int]:
    """One event set: LIMITED events with SEATS seats, UNLIMITED without a limit."""
    capacities: list[int | None] = [SEATS] * LIMITED + [None] * UNLIMITED
    rows = [
        {
            "uid": f"bench-{tag}-{i}@werkbank",
            "title": f"Werkstattabend {tag} {i}",
            "format": EventFormat.OPEN_WORKSHOP,  # asks no expectation: one step to sign up
            "place_id": place_id,
            "start_at": start + timedelta(hours=i),
            "end_at": start + timedelta(hours=i + 3),
            "capacity": capacity,
            "status": EventStatus.PUBLISHED,
        }
        for i, capacity in enumerate(capacities)
    ]
    async with app.db.engine.begin() as conn:
        return list((await conn.scalars(insert(Event).returning(Event.id), rows)).all())


async def add_members(app: Werkbank, count: int) -> list[int]:
    """Onboarded members near Bendorf, each with a Telegram account (user id = chat id)."""
    rows = [
        {
            "display_name": f"Mitglied {i}",
            "locale": "de",
            "home_lat": BENDORF[0],
            "home_lon": BENDORF[1],
            "home_label": "Bendorf",
            "field": Field.CRAFT,
            "consents": {},
            "onboarded": True,
        }
        for i in range(count)
    ]
    async with app.db.engine.begin() as conn:
        ids = list((await conn.scalars(insert(Member).returning(Member.id), rows)).all())
        accounts = [
            {
                "channel": "telegram",
                "external_id": str(FIRST_USER + i),
                "chat_id": str(FIRST_USER + i),
                "member_id": member_id,
            }
            for i, member_id in enumerate(ids)
        ]
        await conn.execute(insert(ChannelAccount), accounts)
    return ids


def pairs(
    members: Sequence[int], events: Sequence[int], rng: random.Random
) -> list[tuple[int, int]]:
    """Every member once, the events in turn (so each event gets the same share), shuffled."""
    jobs = [(member, events[i % len(events)]) for i, member in enumerate(members)]
    rng.shuffle(jobs)
    return jobs


# -- the three ways to sign up ----------------------------------------------------------
async def run_bare(app: Werkbank, jobs: Sequence[tuple[int, int]]) -> Timing:
    """Baseline: one INSERT of a registration row per sign-up, in its own transaction."""

    async def bare(member: int, event_id: int) -> None:
        async with app.db.engine.begin() as conn:
            await conn.execute(
                insert(Registration).values(
                    event_id=event_id,
                    member_id=member,
                    status=RegistrationStatus.REGISTERED,
                    position=1,
                )
            )

    return await in_workers(jobs, bare)


async def run_service(
    app: Werkbank,
    jobs: Sequence[tuple[int, int]],
    now: datetime,
    outcomes: Counter[str],
    workers: int = WORKERS,
) -> Timing:
    async def service(member: int, event_id: int) -> None:
        result = await app.registrations.sign_up(member, event_id, now)
        outcomes[result.outcome.value] += 1

    return await in_workers(jobs, service, workers)


def dialog_outcome(replies: Sequence[OutMessage]) -> str:
    text = replies[0].text if replies else ""
    if "Du bist angemeldet" in text:
        return "registered"
    if "Warteliste" in text:
        return "waitlisted"
    return "other: " + text[:60]


class DialogMembers:
    """Members talking to the runner as Telegram would: each stands on an event's screen."""

    def __init__(self, app: Werkbank, members: Sequence[int]) -> None:
        self.app = app
        self.accounts = {
            member: AccountRef("telegram", str(FIRST_USER + i), chat_id=str(FIRST_USER + i))
            for i, member in enumerate(members)
        }
        self.updates = iter(range(1, 10**9))

    def incoming(self, member: int, **kwargs: Any) -> Incoming:
        return Incoming(self.accounts[member], update_id=str(next(self.updates)), **kwargs)

    async def open_event(self, jobs: Sequence[tuple[int, int]]) -> None:
        """`/menu` (a first message gets the menu) and then the event's link, for each."""

        async def stand_on(member: int, event_id: int) -> None:
            handle = self.app.runner.handle
            await handle(self.incoming(member, kind=Kind.COMMAND, text="/menu"))
            shown = await handle(
                self.incoming(member, kind=Kind.COMMAND, text=f"/start ev_{event_id}")
            )
            payloads = {b.payload for m in shown for row in m.buttons for b in row}
            assert SIGN_UP(event_id) in payloads, shown

        await in_workers(jobs, stand_on)

    async def press(
        self, jobs: Sequence[tuple[int, int]], outcomes: Counter[str], workers: int = WORKERS
    ) -> Timing:
        async def sign_up(member: int, event_id: int) -> None:
            replies = await self.app.runner.handle(
                self.incoming(member, kind=Kind.BUTTON, payload=SIGN_UP(event_id))
            )
            outcomes[dialog_outcome(replies)] += 1

        return await in_workers(jobs, sign_up, workers)


# -- checks and the split ------------------------------------------------------------
async def seats_check(app: Werkbank, events: Sequence[int]) -> dict[str, Any]:
    """Registered vs capacity per event, and whether the waitlist order has no duplicates."""
    held = func.count(Registration.id).filter(Registration.status == RegistrationStatus.REGISTERED)
    waiting = func.count(Registration.id).filter(
        Registration.status == RegistrationStatus.WAITLISTED
    )
    async with app.db.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(
                    Event.id,
                    Event.capacity,
                    held,
                    waiting,
                    func.count(func.distinct(Registration.position)),
                    func.count(Registration.id),
                )
                .outerjoin(Registration, Registration.event_id == Event.id)
                .where(Event.id.in_(events))
                .group_by(Event.id, Event.capacity)
            )
        ).all()
    limited = [(int(r[1]), int(r[2])) for r in rows if r[1] is not None]
    return {
        "events": len(rows),
        "overbooked": sum(1 for capacity, held in limited if held > capacity),
        "max_registered_in_limited": max((held for _, held in limited), default=0),
        "capacity": SEATS,
        "registered": sum(r[2] for r in rows),
        "waitlisted": sum(r[3] for r in rows),
        "positions_unique": all(r[4] == r[5] for r in rows),
    }


@contextmanager
def timed_calls(app: Werkbank) -> Iterator[tuple[Counter[str], Tally]]:
    """Count and time the service calls of a dialog step (instance attributes wrap them)."""
    count: Counter[str] = Counter()
    seconds: Tally = defaultdict(float)
    wrapped = {
        app.conversations: ("open_update", "save", "member"),
        app.services.events: ("details",),
        app.registrations: ("sign_up", "calendar_file", "get", "for_event"),
    }

    def wrap(call: Callable[..., Awaitable[Any]], label: str) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*a: Any, **k: Any) -> Any:
            began = time.perf_counter()
            try:
                return await call(*a, **k)
            finally:
                count[label] += 1
                seconds[label] += time.perf_counter() - began

        return wrapper

    for owner, names in wrapped.items():
        for name in names:
            label = f"{type(owner).__name__.lower()}.{name}"
            setattr(owner, name, wrap(getattr(owner, name), label))
    try:
        yield count, seconds
    finally:
        for owner, names in wrapped.items():
            for name in names:
                delattr(owner, name)  # back to the class's method


class Split:
    """Per outcome (a seat, the waitlist): the mean sign-up, one at a time."""

    def __init__(self) -> None:
        self.n: Counter[str] = Counter()
        self.ms: Tally = defaultdict(float)
        self.cpu_ms: Tally = defaultdict(float)
        self.parts: dict[str, Tally] = defaultdict(lambda: defaultdict(float))

    def add(self, outcome: str, ms: float, cpu_ms: float, parts: Tally) -> None:
        self.n[outcome] += 1
        self.ms[outcome] += ms
        self.cpu_ms[outcome] += cpu_ms
        for key, value in parts.items():
            self.parts[outcome][key] += value

    def means(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for outcome, n in sorted(self.n.items()):
            parts = self.parts[outcome]
            out[outcome] = {
                "sign_ups": n,
                "ms": self.ms[outcome] / n,
                "cpu_ms": self.cpu_ms[outcome] / n,
                **{key: value / n for key, value in sorted(parts.items())},
            }
        return out


async def one_by_one(
    jobs: Sequence[tuple[int, int]],
    call: Callable[[int, int], Awaitable[str]],
    clock: StatementClock,
    calls: tuple[Counter[str], Tally] | None = None,
) -> Split:
    """Each sign-up alone: its statements, commits and service calls, by its outcome."""
    split = Split()

    def snapshot() -> Tally:
        snap: Tally = defaultdict(float)
        for kind, n in clock.count.items():
            snap["commits" if kind == "COMMIT" else "statements"] += n
            snap[f"{kind} ms"] += clock.seconds[kind] * 1000
            snap["database ms"] += clock.seconds[kind] * 1000
        if calls is not None:
            for label, n in calls[0].items():
                snap[f"{label} calls"] += n
                snap[f"{label} ms"] += calls[1][label] * 1000
        return snap

    for member, event_id in jobs:
        before, began, cpu = snapshot(), time.perf_counter(), time.process_time()
        outcome = await call(member, event_id)
        ms, cpu_ms = (time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000
        after = snapshot()
        split.add(outcome, ms, cpu_ms, {k: v - before.get(k, 0.0) for k, v in after.items()})
    return split


# -- one database --------------------------------------------------------------------
async def bench(database_url: str, count: int, label: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    start = now + timedelta(days=7)
    rng = random.Random(SEED)
    warm = max(WORKERS, count // 20)
    app = await Werkbank.open(Settings(database_url=database_url, timezone="Europe/Berlin"))
    try:
        place_id = await add_place(app)
        members = await add_members(app, count)
        sets = {
            name: await add_events(app, name, place_id, start)
            for name in ("warm", "bare", "service", "dialog", "split", "split_dialog")
        }
        dialog = DialogMembers(app, members)
        outcomes: dict[str, Counter[str]] = {"service": Counter(), "dialog": Counter()}

        # Warm-up: the engine's connections, caches of compiled statements, the runner.
        warm_jobs = pairs(members[:warm], sets["warm"], rng)
        await run_bare(app, warm_jobs[: warm // 2])
        await run_service(app, warm_jobs[warm // 2 :], now, Counter())
        await dialog.open_event(pairs(members[warm : 2 * warm], sets["warm"], rng))
        await dialog.press(pairs(members[warm : 2 * warm], sets["warm"], rng), Counter())

        bare_jobs = pairs(members, sets["bare"], rng)
        service_jobs = pairs(members, sets["service"], rng)
        dialog_jobs = pairs(members, sets["dialog"], rng)
        await dialog.open_event(dialog_jobs)  # setup: everyone on the event's screen

        bare = await run_bare(app, bare_jobs)
        service = await run_service(app, service_jobs, now, outcomes["service"])
        step = await dialog.press(dialog_jobs, outcomes["dialog"])

        # The split, one sign-up at a time on fresh events (no lock waits, no queue for the
        # event loop): every statement and commit timed, and the dialog step's service calls.
        # Two 5-seat events and one without a limit: both outcomes, in about the main mix.
        few = members[: max(50, count // 10)]
        split_events = {n: sets[n][:2] + sets[n][-1:] for n in ("split", "split_dialog")}
        service_clock, dialog_clock = StatementClock(), StatementClock()

        async def service_alone(member: int, event_id: int) -> str:
            return (await app.registrations.sign_up(member, event_id, now)).outcome.value

        async def step_alone(member: int, event_id: int) -> str:
            return dialog_outcome(
                await app.runner.handle(
                    dialog.incoming(member, kind=Kind.BUTTON, payload=SIGN_UP(event_id))
                )
            )

        with service_clock.attached(app):
            service_split = await one_by_one(
                pairs(few, split_events["split"], rng), service_alone, service_clock
            )
        split_jobs = pairs(few, split_events["split_dialog"], rng)
        await dialog.open_event(split_jobs)
        with dialog_clock.attached(app), timed_calls(app) as calls:
            dialog_split = await one_by_one(split_jobs, step_alone, dialog_clock, calls)

        checks = {name: await seats_check(app, sets[name]) for name in ("service", "dialog")}
        naive = await seats_check(app, sets["bare"])
        engine = app.db.engine
        pool = {
            "size": getattr(engine.pool, "size", lambda: None)(),
            "max_overflow": getattr(engine.pool, "_max_overflow", None),
        }
    finally:
        await app.close()

    result: dict[str, Any] = {
        "database": label,
        "sign_ups": count,
        "workers": WORKERS,
        "pool": pool,
        "bare_insert": bare.summary(),
        "service": service.summary(),
        "dialog_step": step.summary(),
        "service_vs_bare": service.count / service.seconds / (bare.count / bare.seconds),
        "dialog_vs_bare": step.count / step.seconds / (bare.count / bare.seconds),
        "outcomes": {k: dict(v) for k, v in outcomes.items()},
        "checks": checks,
        "bare_insert_seats": naive,
        "one_by_one": {"service": service_split.means(), "dialog_step": dialog_split.means()},
    }
    report(result)
    return result


def sound(r: dict[str, Any]) -> bool:
    """No event overbooked, waitlist positions unique, every sign-up a seat or a place."""
    return all(
        check["overbooked"] == 0
        and check["positions_unique"]
        and set(r["outcomes"][name]) <= {"registered", "waitlisted"}
        for name, check in r["checks"].items()
    )


def report(r: dict[str, Any]) -> None:
    def line(name: str, s: dict[str, float]) -> str:
        return (
            f"  {name:<28} {s['per_s']:7.0f} sign-ups/s   median {s['median_ms']:6.1f} ms"
            f"   p95 {s['p95_ms']:6.1f} ms   CPU {s['cpu_ms_per_sign_up']:4.1f} ms"
        )

    print(f"\n{r['database']}: {r['sign_ups']} sign-ups each, {r['workers']} workers")
    print(line("bare INSERT (baseline)", r["bare_insert"]))
    print(line("Registrations.sign_up", r["service"]) + f"   {r['service_vs_bare']:.0%} of bare")
    print(line("dialog step (runner.handle)", r["dialog_step"]) + f"   {r['dialog_vs_bare']:.0%}")
    for name, check in r["checks"].items():
        verdict = "none overbooked" if check["overbooked"] == 0 else "OVERBOOKED"
        print(
            f"  {name}: {verdict} (at most {check['max_registered_in_limited']} registered in a "
            f"{check['capacity']}-seat event; {check['registered']} registered, "
            f"{check['waitlisted']} waitlisted; waitlist positions unique: "
            f"{check['positions_unique']}); outcomes {r['outcomes'][name]}"
        )
    naive = r["bare_insert_seats"]
    print(
        f"  bare INSERTs, for comparison: {naive['overbooked']} of {LIMITED} limited events "
        f"overbooked, up to {naive['max_registered_in_limited']} in {SEATS} seats"
    )
    for name, by_outcome in r["one_by_one"].items():
        for outcome, m in by_outcome.items():
            print(
                f"  alone, {name}, {outcome} ({m['sign_ups']}): {m['ms']:.1f} ms "
                f"(CPU {m['cpu_ms']:.1f} ms); {m['statements']:.1f} statements and "
                f"{m.get('commits', 0):.1f} commits: {m['database ms']:.1f} ms in the database"
            )
            calls = [k[:-6] for k in m if k.endswith(" calls") and m[k] > 0]
            if calls:
                print("    " + "; ".join(f"{c} {m[c + ' ms']:.2f} ms" for c in calls))


async def pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_SERVER.rstrip("/") + "/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    logging.basicConfig(level=logging.WARNING)
    count = 200 if args.quick else args.sign_ups
    results = []
    if args.database_url:
        url = Settings(database_url=args.database_url).database_url
        results.append(await bench(url, count, url.split("+")[0]))
    else:
        name = f"werkbank_bench_{uuid.uuid4().hex[:12]}"
        await pg_admin(f'CREATE DATABASE "{name}"')
        try:
            server = PG_SERVER.replace("postgresql://", "postgresql+asyncpg://").rstrip("/")
            results.append(await bench(f"{server}/{name}", count, "PostgreSQL"))
        finally:
            await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'signups.db'}"
            results.append(await bench(url, count, "SQLite"))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sign-ups", type=int, default=2000, help="sign-ups per measurement")
    parser.add_argument("--quick", action="store_true", help="200 sign-ups: a smoke run")
    parser.add_argument("--database-url", default=None, help="an empty database to use")
    parser.add_argument("--sqlite", action="store_true", help="also run on a SQLite file")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "signups.json"))
    args = parser.parse_args()
    started = time.perf_counter()
    results = asyncio.run(main(args))
    print(f"\n({time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f})")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count()}
    out.write_text(json.dumps({"machine": machine, "runs": results}, indent=2))
    if not all(sound(r) for r in results):
        print("FAILED: an event is overbooked or a sign-up went wrong (see above)")
        sys.exit(1)
