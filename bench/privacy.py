"""Privacy (issue 17): "Meine Daten" and "Alles löschen" for a member with a long history,
each beside a baseline from the same run.

One member, onboarded through the runner (language, "Einverstanden", Bendorf, Handwerk),
with 500 sign-ups to 500 events (250 past, attended, and 250 coming, each with two
pending reminders), every sign-up with a wish; 500 check-in answers (two check-ins of
each past event, each with a line of text and the check-in notice that asked it); 5
topics of her own (2 supported by someone else) and 20 of someone else's she supports.

1. export: `app.privacy.export(member_id, now)` and the dialog's rendering of both files
   (`readable_export` and the JSON dump, as `MyData._send` does), median of 7, beside
   the same registrations and answers read by SQLAlchemy Core and dumped with
   json.dumps. The issue's target: ≤ 1 s. Also the whole dialog step ("Meine Daten
   schicken" through `runner.handle`), which is what the member waits for before the
   channel uploads the two files.
2. erase: `app.privacy.erase(member_id, now)`, median of 7, each on its own copy of the
   member (same history), with its parts (seats given up one by one, past sign-ups and
   answers moved to stand-ins, topics, audit trail), beside a bare
   `DELETE FROM member WHERE id = …` (the cascade drops everything, keeps no counts)
   on 7 more copies.

Run from the repository root: `python bench/privacy.py` (SQLite file, about 20 s);
`--database-url postgresql+asyncpg://…/<an empty database>` for PostgreSQL. See
docs/BENCHMARKS.md, "Privacy: export and erasure (issue 17)".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, insert, select  # noqa: E402

import bot.services.privacy as privacy_module  # noqa: E402
from bench.statements import StatementClock  # noqa: E402
from bot.app import Werkbank  # noqa: E402
from bot.codes import (  # noqa: E402
    Checkin,
    EventFormat,
    EventStatus,
    Field,
    NoticeKind,
    RegistrationStatus,
    WorkStatus,
)
from bot.config import Settings  # noqa: E402
from bot.dialogs.base import Context  # noqa: E402
from bot.dialogs.privacy import SEND, readable_export  # noqa: E402
from bot.i18n import translator  # noqa: E402
from bot.messages import AccountRef, Incoming, Kind, OutMessage  # noqa: E402
from bot.storage.models import (  # noqa: E402
    ChannelAccount,
    Event,
    Followup,
    Member,
    Notice,
    Place,
    Registration,
    Topic,
    TopicInterest,
    lat_band,
)

PAST, COMING = 250, 250  # events signed up for: 500
KINDS = (Checkin.NEXT_DAY, Checkin.WEEKS)  # two answered check-ins per past event: 500
OWN_TOPICS, SUPPORTED = 5, 20
BENDORF = (50.43, 7.57)
FIRST_USER = 900_000  # Telegram user ids of the bench members
TARGET_S = 1.0


def median_ms(values: Sequence[float]) -> float:
    return statistics.median(values) * 1000


# -- setup (not timed) ---------------------------------------------------------------
async def onboard(app: Werkbank) -> tuple[int, AccountRef]:
    """The member as she came: through the runner, the privacy text agreed to."""
    account = AccountRef(
        "telegram", str(FIRST_USER), chat_id=str(FIRST_USER), display_name="Erika", language="de"
    )
    said: list[OutMessage] = []
    for incoming in (
        Incoming(account, Kind.COMMAND, text="/start"),
        Incoming(account, Kind.TEXT, text="Deutsch"),
        Incoming(account, Kind.TEXT, text="Einverstanden"),
        Incoming(account, Kind.LOCATION, lat=BENDORF[0], lon=BENDORF[1]),
        Incoming(account, Kind.TEXT, text="Handwerk"),
    ):
        said = await app.runner.handle(incoming)
    if not any("Was möchtest du tun?" in m.text for m in said):
        raise SystemExit(f"onboarding did not reach the menu: {[m.text for m in said]}")
    async with app.db.sessions() as session:
        member_id = await session.scalar(
            select(ChannelAccount.member_id).where(ChannelAccount.external_id == str(FIRST_USER))
        )
    assert member_id is not None
    return int(member_id), account


async def add_place(app: Werkbank) -> int:
    async with app.db.engine.begin() as conn:
        return int(
            await conn.scalar(
                insert(Place)
                .values(
                    name="MakerSpace Bench",
                    town="Bendorf",
                    lat=BENDORF[0],
                    lon=BENDORF[1],
                    lat_band=lat_band(BENDORF[0]),
                )
                .returning(Place.id)
            )
        )


async def add_events(
    app: Werkbank, place_id: int, now: datetime, seats: int
) -> tuple[list[int], list[int]]:
    """PAST events (a month to a year and a half ago) and COMING ones (the next 250 days),
    with `seats` seats: as many as members sign up, so a seat given up is offered to the
    waitlist (empty), as at a full event."""
    starts = [now - timedelta(days=30 + 2 * i, hours=2) for i in range(PAST)] + [
        now + timedelta(days=1 + i, hours=3) for i in range(COMING)
    ]
    rows = [
        {
            "uid": f"bench-privacy-{i}@werkbank",
            "title": f"Holz trifft Laser, Abend {i + 1}",
            "format": EventFormat.TRANSFER,
            "place_id": place_id,
            "start_at": start,
            "end_at": start + timedelta(hours=3),
            "capacity": seats,
            "status": EventStatus.PUBLISHED,
        }
        for i, start in enumerate(starts)
    ]
    async with app.db.engine.begin() as conn:
        ids = list((await conn.scalars(insert(Event).returning(Event.id), rows)).all())
    return ids[:PAST], ids[PAST:]


async def add_member(app: Werkbank, number: int, consents: dict[str, Any]) -> int:
    """A copy of the member as onboarding leaves her, with a Telegram account of her own."""
    async with app.db.engine.begin() as conn:
        member_id = int(
            await conn.scalar(
                insert(Member)
                .values(
                    display_name=f"Erika {number}",
                    locale="de",
                    home_lat=BENDORF[0],
                    home_lon=BENDORF[1],
                    home_label="Bendorf",
                    field=Field.CRAFT,
                    consents=consents,
                    onboarded=True,
                )
                .returning(Member.id)
            )
        )
        await conn.execute(
            insert(ChannelAccount).values(
                channel="telegram",
                external_id=str(FIRST_USER + number),
                chat_id=str(FIRST_USER + number),
                member_id=member_id,
            )
        )
    return member_id


async def add_topics(app: Werkbank, proposer: int, count: int, tag: str) -> list[int]:
    rows = [
        {
            "title": f"{tag}: Drechseln für Anfänger {i + 1}",
            "description": "Schalen und Griffe, mit eigener Drehbank",
            "proposer_id": proposer,
            "fields": "|craft|",
            "lat": BENDORF[0] + 0.001 * i,
            "lon": BENDORF[1],
            "lat_band": lat_band(BENDORF[0] + 0.001 * i),
        }
        for i in range(count)
    ]
    async with app.db.engine.begin() as conn:
        return list((await conn.scalars(insert(Topic).returning(Topic.id), rows)).all())


async def add_history(
    app: Werkbank,
    member_id: int,
    events: tuple[list[int], list[int]],
    other: int,
    others_topics: Sequence[int],
    now: datetime,
) -> None:
    """500 sign-ups with wishes, 500 answers with a line, reminders, check-in notices,
    topics of her own and support for others'."""
    past, coming = events
    wish = "Ich möchte lernen, wie man Intarsien aus Furnier sauber mit dem Laser schneidet"
    async with app.db.engine.begin() as conn:
        registrations = [
            {
                "event_id": event_id,
                "member_id": member_id,
                "status": status,
                "expectation": f"{wish} ({n})",
                "created_at": now - timedelta(days=400 - n % 365),
            }
            for n, (event_id, status) in enumerate(
                [(e, RegistrationStatus.ATTENDED) for e in past]
                + [(e, RegistrationStatus.REGISTERED) for e in coming]
            )
        ]
        ids = list(
            (
                await conn.scalars(
                    insert(Registration).returning(Registration.id, sort_by_parameter_order=True),
                    registrations,
                )
            ).all()
        )
        rows = await conn.execute(
            select(Event.id, Event.start_at).where(Event.id.in_(past + coming))
        )
        starts: dict[int, datetime] = {event_id: start for event_id, start in rows}
        reminders = [
            {
                "member_id": member_id,
                "kind": kind,
                "event_id": event_id,
                "registration_id": registration_id,
                "due_at": starts[event_id] - before,
                "dedupe": f"{kind}-{registration_id}",
                "status": WorkStatus.PENDING,
            }
            for registration_id, event_id in zip(ids[PAST:], coming, strict=True)
            for kind, before in (
                (NoticeKind.REMINDER_DAY_BEFORE, timedelta(days=1)),
                (NoticeKind.REMINDER_TWO_HOURS, timedelta(hours=2)),
            )
        ]
        await conn.execute(insert(Notice), reminders)
        answers, asked = [], []
        for n, event_id in enumerate(past):
            for kind in KINDS:
                due = starts[event_id] + (
                    timedelta(days=1) if kind == Checkin.NEXT_DAY else timedelta(weeks=4)
                )
                answers.append(
                    {
                        "member_id": member_id,
                        "event_id": event_id,
                        "kind": kind,
                        "due_at": due,
                        "status": WorkStatus.DONE,
                        "met": "partly" if kind == Checkin.NEXT_DAY else None,
                        "tried": "started" if kind == Checkin.WEEKS else None,
                        "takeaway": f"Furnier mit scharfem Messer und Stahllineal schneiden ({n})",
                        "help": "Wer hat einen Absaugschlauch für den Laser?"
                        if n % 10 == 0
                        else None,
                    }
                )
                asked.append(
                    {
                        "member_id": member_id,
                        "kind": kind.notice,
                        "event_id": event_id,
                        "due_at": due,
                        "status": WorkStatus.DONE,
                        "done_at": due,
                    }
                )
        await conn.execute(insert(Followup), answers)
        await conn.execute(insert(Notice), asked)
        await conn.execute(
            insert(TopicInterest),
            [
                {"topic_id": t, "member_id": member_id, "expectation": "Schalen drechseln"}
                for t in others_topics
            ],
        )
    own = await add_topics(app, member_id, OWN_TOPICS, f"Thema von {member_id}")
    async with app.db.engine.begin() as conn:
        await conn.execute(
            insert(TopicInterest), [{"topic_id": t, "member_id": other} for t in own[:2]]
        )


# -- export ----------------------------------------------------------------------------
def render(ctx: Context, data: dict[str, Any]) -> tuple[bytes, bytes]:
    """The two files as `MyData._send` makes them."""
    readable = readable_export(ctx, data).encode("utf-8")
    machine = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    return readable, machine


async def bare_read(app: Werkbank, member_id: int) -> bytes:
    """Baseline: the same registrations (with event and place) and answers (with the
    event) by SQLAlchemy Core, as rows, dumped with json.dumps: no ORM, no formatting."""
    async with app.db.engine.connect() as conn:
        registrations = (
            await conn.execute(
                select(
                    Event.title,
                    Event.start_at,
                    Place.name,
                    Place.town,
                    Registration.status,
                    Registration.expectation,
                    Registration.created_at,
                )
                .join(Event, Event.id == Registration.event_id)
                .outerjoin(Place, Place.id == Event.place_id)
                .where(Registration.member_id == member_id)
                .order_by(Event.start_at)
            )
        ).all()
        answers = (
            await conn.execute(
                select(
                    Event.title,
                    Followup.kind,
                    Followup.due_at,
                    Followup.met,
                    Followup.tried,
                    Followup.takeaway,
                    Followup.help,
                )
                .outerjoin(Event, Event.id == Followup.event_id)
                .where(Followup.member_id == member_id)
                .order_by(Followup.due_at)
            )
        ).all()
    rows = {
        "registrations": [list(r) for r in registrations],
        "answers": [list(a) for a in answers],
    }
    return json.dumps(rows, default=str, ensure_ascii=False).encode("utf-8")


async def bench_export(
    app: Werkbank, member_id: int, account: AccountRef, now: datetime, runs: int
) -> dict[str, Any]:
    ctx = Context(
        await app.conversations.member(member_id), translator("de"), now, {}, app.services
    )
    data = await app.privacy.export(member_id, now)  # warm-up: caches, compiled statements
    readable, machine = render(ctx, data)
    await bare_read(app, member_id)
    clock = StatementClock()
    with clock.attached(app):
        await app.privacy.export(member_id, now)
    export_s: list[float] = []
    render_s: list[float] = []
    both_s: list[float] = []
    bare_s: list[float] = []
    for number in range(runs):
        # Alternate which goes first, so neither always follows the other.
        for which in ("werkbank", "bare") if number % 2 == 0 else ("bare", "werkbank"):
            began = time.perf_counter()
            if which == "bare":
                await bare_read(app, member_id)
                bare_s.append(time.perf_counter() - began)
                continue
            data = await app.privacy.export(member_id, now)
            exported = time.perf_counter()
            readable, machine = render(ctx, data)
            done = time.perf_counter()
            export_s.append(exported - began)
            render_s.append(done - exported)
            both_s.append(done - began)

    # The whole step, as the member's tap reaches the runner (no channel, no upload).
    handle = app.runner.handle
    await handle(Incoming(account, Kind.TEXT, text="meine daten"))
    step_s: list[float] = []
    for number in range(runs + 1):
        began = time.perf_counter()
        said = await handle(Incoming(account, Kind.BUTTON, payload=SEND.payload))
        if number:  # the first is the warm-up
            step_s.append(time.perf_counter() - began)
        files = [m.attachment.filename for m in said if m.attachment is not None]
        if [f.rsplit(".", 1)[1] for f in files] != ["txt", "json"]:
            raise SystemExit(f"the step did not send the two files: {[m.text for m in said]}")

    counted = {
        "registrations": len(data["registrations"]),
        "checkin_answers": len(data["checkin_answers"]),
        "topics_proposed": len(data["topics_proposed"]),
        "topic_supports": len(data["topic_supports"]),
    }
    expected = {
        "registrations": PAST + COMING,
        "checkin_answers": PAST * len(KINDS),
        "topics_proposed": OWN_TOPICS,
        "topic_supports": SUPPORTED,
    }
    if counted != expected:
        raise SystemExit(f"the export is incomplete: {counted}, expected {expected}")
    return {
        "runs": runs,
        "export_ms": median_ms(export_s),
        "render_ms": median_ms(render_s),
        "export_and_render_ms": median_ms(both_s),
        "export_and_render_max_ms": max(both_s) * 1000,
        "export_and_render_runs_ms": [round(v * 1000, 1) for v in both_s],
        "baseline_core_select_json_ms": median_ms(bare_s),
        "ratio": statistics.median(both_s) / statistics.median(bare_s),
        "dialog_step_ms": median_ms(step_s),
        "dialog_step_max_ms": max(step_s) * 1000,
        "statements": sum(n for k, n in clock.count.items() if k != "COMMIT"),
        "commits": clock.count["COMMIT"],
        "statements_ms": sum(clock.seconds.values()) * 1000,
        "txt_bytes": len(readable),
        "json_bytes": len(machine),
        "rows": counted,
        "met": statistics.median(both_s) <= TARGET_S,
    }


# -- erase -----------------------------------------------------------------------------
@contextmanager
def timed_parts(app: Werkbank) -> Iterator[dict[str, float]]:
    """Time the parts of an erasure: the two methods that call other services, and the
    module's helpers that run inside its last transaction."""
    seconds: dict[str, float] = {}

    def wrap(call: Callable[..., Awaitable[Any]], label: str) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*a: Any, **k: Any) -> Any:
            began = time.perf_counter()
            try:
                return await call(*a, **k)
            finally:
                seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - began

        return wrapper

    privacy = app.privacy
    methods = {"_give_up_seats": "seats given up", "_hand_over_events": "events handed over"}
    helpers = {
        "_anonymise_past": "past moved to stand-ins",
        "_release_topics": "topics",
        "_scrub_audit": "audit trail",
    }
    saved = {name: getattr(privacy_module, name) for name in helpers}
    for name, label in methods.items():
        setattr(privacy, name, wrap(getattr(privacy, name), label))
    for name, label in helpers.items():
        setattr(privacy_module, name, wrap(saved[name], label))
    try:
        yield seconds
    finally:
        for name in methods:
            delattr(privacy, name)  # back to the class's method
        for name, call in saved.items():
            setattr(privacy_module, name, call)


async def bare_delete(app: Werkbank, member_id: int) -> None:
    async with app.db.engine.begin() as conn:
        await conn.execute(delete(Member).where(Member.id == member_id))


async def traces(app: Werkbank, member_id: int) -> int:
    """Rows still pointing at the member (0 after an erasure)."""
    found = 0
    async with app.db.engine.connect() as conn:
        for column in (
            Member.id,
            ChannelAccount.member_id,
            Registration.member_id,
            Followup.member_id,
            Notice.member_id,
            TopicInterest.member_id,
            Topic.proposer_id,
        ):
            found += int(await conn.scalar(select(func.count()).where(column == member_id)) or 0)
    return found


async def bench_erase(
    app: Werkbank, erase: Sequence[int], bare: Sequence[int], now: datetime
) -> dict[str, Any]:
    clock = StatementClock()
    with clock.attached(app):  # the warm-up, counted
        await app.privacy.erase(erase[0], now)
    await bare_delete(app, bare[0])
    erase_s: list[float] = []
    bare_s: list[float] = []
    parts: list[dict[str, float]] = []
    for number, (mine, theirs) in enumerate(zip(erase[1:], bare[1:], strict=True)):
        for which in ("werkbank", "bare") if number % 2 == 0 else ("bare", "werkbank"):
            if which == "bare":
                began = time.perf_counter()
                await bare_delete(app, theirs)
                bare_s.append(time.perf_counter() - began)
                continue
            with timed_parts(app) as seconds:
                began = time.perf_counter()
                done = await app.privacy.erase(mine, now)
                took = time.perf_counter() - began
            if not done.found or done.seats != COMING:
                raise SystemExit(f"erasure went wrong: {done}")
            erase_s.append(took)
            parts.append({**seconds, "rest": took - sum(seconds.values())})
    left = sum([await traces(app, m) for m in erase])
    async with app.db.engine.connect() as conn:
        kept = await conn.scalar(
            select(func.count(Registration.id)).where(
                Registration.member_id.not_in(select(Member.id).where(Member.deleted_at.is_(None)))
            )
        )
    median_run = sorted(range(len(erase_s)), key=erase_s.__getitem__)[len(erase_s) // 2]
    return {
        "runs": len(erase_s),
        "erase_ms": median_ms(erase_s),
        "erase_min_ms": min(erase_s) * 1000,
        "erase_max_ms": max(erase_s) * 1000,
        "erase_runs_ms": [round(v * 1000, 1) for v in erase_s],
        "baseline_bare_delete_ms": median_ms(bare_s),
        "ratio": statistics.median(erase_s) / statistics.median(bare_s),
        "parts_ms_of_median_run": {k: v * 1000 for k, v in parts[median_run].items()},
        "statements": sum(n for k, n in clock.count.items() if k != "COMMIT"),
        "statements_by_kind": dict(clock.count.most_common()),
        "statements_ms": sum(clock.seconds.values()) * 1000,
        "rows_left_pointing_at_erased": left,
        "past_sign_ups_kept_on_stand_ins": int(kept or 0),
    }


# -- one database ---------------------------------------------------------------------------
async def bench(database_url: str, label: str, runs: int) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    app = await Werkbank.open(
        Settings(database_url=database_url, timezone="Europe/Berlin"), clock=lambda: now
    )
    try:
        started = time.perf_counter()
        me, account = await onboard(app)
        async with app.db.sessions() as session:
            found = await session.get(Member, me)
            assert found is not None
            consents = dict(found.consents or {})
        other = await add_member(app, 1, consents)
        place_id = await add_place(app)
        copies = [await add_member(app, 10 + n, consents) for n in range(2 * (runs + 1))]
        events = await add_events(app, place_id, now, seats=1 + len(copies))
        others_topics = await add_topics(app, other, SUPPORTED, "Olgas Thema")
        for member_id in (me, *copies):
            await add_history(app, member_id, events, other, others_topics, now)
        setup_s = time.perf_counter() - started
        export = await bench_export(app, me, account, now, runs)
        erase = await bench_erase(app, copies[: runs + 1], copies[runs + 1 :], now)
    finally:
        await app.close()
    result = {"database": label, "setup_s": setup_s, "export": export, "erase": erase}
    report(result)
    return result


def report(r: dict[str, Any]) -> None:
    e, d = r["export"], r["erase"]
    print(
        f"\n{r['database']}: one member with {e['rows']['registrations']} sign-ups, "
        f"{e['rows']['checkin_answers']} check-in answers, {e['rows']['topics_proposed']} "
        f"topics and {e['rows']['topic_supports']} supports (median of {e['runs']})"
    )
    print(
        f"  export + both files        {e['export_and_render_ms']:7.1f} ms "
        f"(max {e['export_and_render_max_ms']:.1f}; export {e['export_ms']:.1f}, "
        f"files {e['render_ms']:.1f})   target ≤ {TARGET_S * 1000:.0f} ms: "
        f"{'met' if e['met'] else 'NOT MET'}"
    )
    print(
        f"  baseline: Core SELECT + json.dumps {e['baseline_core_select_json_ms']:5.1f} ms"
        f"   ratio {e['ratio']:.1f}×"
    )
    print(
        f"  whole dialog step          {e['dialog_step_ms']:7.1f} ms (max "
        f"{e['dialog_step_max_ms']:.1f})   {e['statements']} statements, {e['commits']} "
        f"commit(s) per export; files {e['txt_bytes'] / 1024:.0f} KB text, "
        f"{e['json_bytes'] / 1024:.0f} KB JSON"
    )
    print(
        f"  erase                      {d['erase_ms']:7.1f} ms (min {d['erase_min_ms']:.1f}, "
        f"max {d['erase_max_ms']:.1f})   baseline: bare DELETE {d['baseline_bare_delete_ms']:.1f}"
        f" ms   ratio {d['ratio']:.0f}×"
    )
    print(
        "    parts (median run): "
        + "; ".join(f"{k} {v:.1f} ms" for k, v in d["parts_ms_of_median_run"].items())
    )
    print(
        f"    {d['statements']} statements per erasure "
        f"({', '.join(f'{k} {n}' for k, n in list(d['statements_by_kind'].items())[:6])}); "
        f"rows left pointing at the erased: {d['rows_left_pointing_at_erased']}"
    )


async def main(args: argparse.Namespace) -> dict[str, Any]:
    logging.basicConfig(level=logging.WARNING)
    if args.database_url:
        url = Settings(database_url=args.database_url).database_url
        label = url.split("+")[0].split(":")[0]
        return await bench(url, label, args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'privacy.db'}"
        return await bench(url, "sqlite", args.runs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="timed runs (median)")
    parser.add_argument(
        "--database-url", default=None, help="an empty database (default: a SQLite file)"
    )
    parser.add_argument("--out", default=None, help="JSON results (default bench/results/)")
    args = parser.parse_args()
    started = time.perf_counter()
    result = asyncio.run(main(args))
    print(f"\n({time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f})")
    out = Path(args.out or ROOT / "bench" / "results" / f"privacy-{result['database']}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count()}
    out.write_text(json.dumps({"machine": machine, **result}, indent=2, default=str))
    if not (result["export"]["met"] and result["erase"]["rows_left_pointing_at_erased"] == 0):
        sys.exit(1)
