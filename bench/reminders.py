"""Reminder dispatch: 10 000 due day-before reminders through `Dispatcher.run_once` and
the Telegram channel against the test Bot API server (tests/e2e/botapi.py, in this
process), beside bare `bot.send_message` calls through the same PTB application.

Run from the repository root: `python bench/reminders.py` (about five minutes on two
cores; `--quick` for a smoke run). By default it creates a database `werkbank_bench_<random>` on
postgresql://postgres@127.0.0.1:5432 (or `$WERKBANK_TEST_PG`) and drops it at the end;
`--database-url` uses a given empty database, `--sqlite` a SQLite file instead.

The rate limiter is switched off (`telegram_rate_limit=0`, as in the Telegram throughput
bench): the figures are what Werkbank costs, not Telegram's ~30 messages/s, which is what
decides in production. See docs/BENCHMARKS.md, "Reminders".
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
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "1")

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402
from telegram import InlineKeyboardMarkup  # noqa: E402

from bench.statements import StatementClock  # noqa: E402
from bot.app import Werkbank  # noqa: E402
from bot.codes import (  # noqa: E402
    EventFormat,
    EventStatus,
    Field,
    NoticeKind,
    RegistrationStatus,
    WorkStatus,
)
from bot.config import Settings  # noqa: E402
from bot.handlers.telegram import TelegramChannel  # noqa: E402
from bot.scheduling.dispatcher import Dispatcher  # noqa: E402
from bot.services.notices import BATCH  # noqa: E402
from bot.storage.models import (  # noqa: E402
    ChannelAccount,
    DialogState,
    Event,
    Member,
    Notice,
    Place,
    Registration,
)
from tests.e2e.botapi import BotApiServer  # noqa: E402

PG_SERVER = os.environ.get("WERKBANK_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
CONCURRENCY = 20  # the dispatcher's default semaphore; the baseline uses the same
TELEGRAM_RATE = 30  # messages per second Telegram allows a bot over all chats
MEMBERS_PER_EVENT = 100
FIRST_USER = 1_000_000
WARM = 200  # warm-up notices, for members of their own
LIMITED = 100  # notices sent once with Telegram's rate limit on, for members of their own
ALONE = 200  # notices sent one at a time, every part timed, for members of their own
ENGLISH_EVERY = 10  # every tenth member reads English
Tally = dict[str, float]


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# -- setup (not timed): rows in bulk ---------------------------------------------------
async def bulk(app: Werkbank, model: Any, rows: list[dict[str, Any]], returning: Any = None) -> Any:
    async with app.db.engine.begin() as conn:
        if returning is None:
            await conn.execute(insert(model), rows)
            return None
        return list((await conn.scalars(insert(model).returning(returning), rows)).all())


@dataclass(frozen=True)
class Seats:
    """Members at the main menu of their Telegram chat, each with a seat at one of the
    events (MEMBERS_PER_EVENT to an event, in order)."""

    events: list[int]
    members: list[int]
    registrations: list[int]

    def event_of(self, i: int) -> int:
        """The event of the i-th member's seat."""
        return self.events[i // MEMBERS_PER_EVENT]


async def seat_holders(app: Werkbank, starts: Sequence[datetime], total: int, uid: str) -> Seats:
    """`total` members with a Telegram account (every ENGLISH_EVERY-th reads English) and a
    seat at one of three-hour workshops starting at `starts`, by bulk INSERTs; the bench
    of reminders and that of check-ins add their notices."""
    async with app.db.transaction() as session:
        place = Place(name="MakerSpace Bench", town="Bendorf", lat=50.43, lon=7.57, lat_band=504)
        session.add(place)
        await session.flush()
        place_id = place.id
    events = await bulk(
        app,
        Event,
        [
            {
                "uid": f"{uid}-{i}@werkbank",
                "title": f"Werkstattabend {i}",
                "format": EventFormat.OPEN_WORKSHOP,
                "place_id": place_id,
                "start_at": start,
                "end_at": start + timedelta(hours=3),
                "status": EventStatus.PUBLISHED,
            }
            for i, start in enumerate(starts)
        ],
        Event.id,
    )
    members = await bulk(
        app,
        Member,
        [
            {
                "display_name": f"Mitglied {i}",
                "locale": "en" if i % ENGLISH_EVERY == ENGLISH_EVERY - 1 else "de",
                "home_lat": 50.43,
                "home_lon": 7.57,
                "home_label": "Bendorf",
                "field": Field.CRAFT,
                "consents": {},
                "onboarded": True,
            }
            for i in range(total)
        ],
        Member.id,
    )
    accounts = await bulk(
        app,
        ChannelAccount,
        [
            {
                "channel": "telegram",
                "external_id": str(FIRST_USER + i),
                "chat_id": str(FIRST_USER + i),
                "member_id": member_id,
            }
            for i, member_id in enumerate(members)
        ],
        ChannelAccount.id,
    )
    await bulk(
        app,
        DialogState,
        [{"account_id": a, "flow": "menu", "state": "main", "data": {}} for a in accounts],
    )
    registrations = await bulk(
        app,
        Registration,
        [
            {
                "event_id": events[i // MEMBERS_PER_EVENT],
                "member_id": member_id,
                "status": RegistrationStatus.REGISTERED,
                "position": i % MEMBERS_PER_EVENT + 1,
            }
            for i, member_id in enumerate(members)
        ],
        Registration.id,
    )
    return Seats(events, members, registrations)


async def populate(app: Werkbank, count: int, now: datetime) -> dict[str, list[int]]:
    """`count` + WARM + LIMITED + ALONE members with a Telegram account, each registered for one
    (starting in ~20 h), with a pending day-before reminder that fell due ~4 h ago and the
    two-hours reminder still ahead. Every account stands at the main menu."""
    total = count + WARM + LIMITED + ALONE
    n_events = -(-total // MEMBERS_PER_EVENT)
    starts = [now + timedelta(hours=20, minutes=i) for i in range(n_events)]
    seats = await seat_holders(app, starts, total, "bench-reminder")
    members, registrations = seats.members, seats.registrations
    notices = []
    for i, (member_id, reg_id) in enumerate(zip(members, registrations, strict=True)):
        start = starts[i // MEMBERS_PER_EVENT]
        for kind, before in (
            (NoticeKind.REMINDER_DAY_BEFORE, timedelta(days=1)),
            (NoticeKind.REMINDER_TWO_HOURS, timedelta(hours=2)),
        ):
            # The warm-up's (and the rate-limited run's) reminders fell due a little earlier.
            early = timedelta(hours=1) if i >= count else timedelta(0)
            notices.append(
                {
                    "member_id": member_id,
                    "kind": kind,
                    "event_id": seats.event_of(i),
                    "registration_id": reg_id,
                    "params": {},
                    "dedupe": f"{kind.value}:{reg_id}",
                    "due_at": start - before - early,
                    "status": WorkStatus.PENDING,
                }
            )
    for chunk in range(0, len(notices), 5000):
        await bulk(app, Notice, notices[chunk : chunk + 5000])
    if app.db.dialect == "postgresql":
        async with app.db.engine.connect() as conn:
            # Autovacuum would analyse the fresh tables within a minute; do it now.
            await conn.execute(text("ANALYZE"))
    return {"members": members[:count], "others": members[count:]}


# -- measuring -----------------------------------------------------------------------
class StatementCounter(StatementClock):
    """Counts and times the statements the engine sends (by their first words) and the
    COMMITs (a write's commit waits for PostgreSQL's WAL flush); the claim by name."""

    @staticmethod
    def kind(statement: str) -> str:
        words = statement.split()
        head = words[0].upper() if words else "?"
        if head == "WITH" or ("RETURNING" in words and head == "UPDATE"):
            return "claim: UPDATE … RETURNING"
        return StatementClock.kind(statement)


@contextmanager
def timed_parts(
    owners: dict[str, tuple[Any, str]], statements: StatementCounter
) -> Iterator[dict[str, list[float]]]:
    """Wrap `owner.name` for each label (instance attributes): every call's duration; for
    the claim also the statements it sent (it runs alone, between two batches)."""
    times: dict[str, list[float]] = {label: [] for label in owners}
    claim_statements: list[int] = []
    claim_starts: list[float] = []

    def wrap(call: Callable[..., Awaitable[Any]], label: str) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*a: Any, **k: Any) -> Any:
            sent = sum(statements.count.values()) - statements.count["COMMIT"]
            began = time.perf_counter()
            if label == "claim_due":
                claim_starts.append(began)
            try:
                return await call(*a, **k)
            finally:
                times[label].append(time.perf_counter() - began)
                if label == "claim_due":
                    done = sum(statements.count.values()) - statements.count["COMMIT"]
                    claim_statements.append(done - sent)

        return wrapper

    own = {label: vars(owner).get(name) for label, (owner, name) in owners.items()}
    for label, (owner, name) in owners.items():
        setattr(owner, name, wrap(getattr(owner, name), label))
    try:
        yield times
    finally:
        times["claim_due statements"] = [float(n) for n in claim_statements]
        # A batch: from the end of its claim to the start of the next claim.
        times["batch"] = [
            nxt - (start + claim)
            for start, claim, nxt in zip(
                claim_starts, times["claim_due"], claim_starts[1:], strict=False
            )
        ]
        for label, (owner, name) in owners.items():
            if own[label] is None:
                delattr(owner, name)  # back to the class's method
            else:
                setattr(owner, name, own[label])  # e.g. the dispatcher's render


async def one_at_a_time(
    app: Werkbank, channel: TelegramChannel, chats: list[str]
) -> tuple[float, dict[str, list[float]], StatementCounter]:
    """The notices of `chats` through a dispatcher of concurrency 1 (no queue for the
    event loop), every part timed and every statement counted: where a notice's time
    goes. Returns the seconds, the parts and the statements."""
    alone = Dispatcher(
        app.notices,
        app.runner.notice,
        {"telegram": channel},
        app.clock,
        {"telegram": chats},
        concurrency=1,
    )
    statements = StatementCounter()
    owners = {
        "claim_due": (app.notices, "claim_due"),
        "render": (alone, "render"),
        "deliver": (channel, "deliver"),
        "finish": (app.notices, "finish"),
        # Inside render: the runner's three service calls for the notice's screen.
        "render: conversations.open": (app.conversations, "open"),
        "render: registrations.get": (app.registrations, "get"),
        "render: conversations.save": (app.conversations, "save"),
    }
    with statements.attached(app), timed_parts(owners, statements) as parts:
        began = time.perf_counter()
        assert await alone.run_once() == len(chats)
        seconds = time.perf_counter() - began
    return seconds, parts, statements


async def bare_sends(
    channel: TelegramChannel,
    chats: Sequence[int],
    messages: Sequence[tuple[str, Any]],
    concurrency: int = CONCURRENCY,
) -> float:
    """`messages` (text, markup) to every chat, one chat after another in a task each,
    at most `concurrency` at once (the dispatcher's semaphore): seconds for all."""
    bot = channel.application.bot
    limit = asyncio.Semaphore(concurrency)

    async def one(chat: int) -> None:
        async with limit:
            for text, markup in messages:
                await bot.send_message(chat, text, reply_markup=markup)

    began = time.perf_counter()
    await asyncio.gather(*(one(chat) for chat in chats))
    return time.perf_counter() - began


@dataclass
class Sent:
    reminders: int
    screens: int
    messages: int
    other: int
    chats_with_one_reminder: int
    chats_with_one_screen: int
    english_reminders: int


def what_was_sent(server: BotApiServer, since: int, chats: set[int]) -> Sent:
    reminders: Counter[int] = Counter()
    screens: Counter[int] = Counter()
    other = english = messages = 0
    for call in server.calls[since:]:
        chat = int(call.params.get("chat_id", 0))
        text = str(call.params.get("text", ""))
        if call.method != "sendMessage" or chat not in chats:
            other += 1
            continue
        messages += 1
        known = False
        if text.startswith(("Erinnerung: Morgen ist", "Reminder: ")):
            reminders[chat] += 1
            english += text.startswith("Reminder: ")
            known = True
        if '"callback_data": "cancel"' in json.dumps(call.params.get("reply_markup") or {}):
            # The registration's screen, with "Abmelden" ("Cancel my sign-up") on it; the
            # reminder's text comes on top of it, in one message.
            screens[chat] += 1
            known = True
        other += not known
    return Sent(
        reminders=sum(reminders.values()),
        screens=sum(screens.values()),
        messages=messages,
        other=other,
        chats_with_one_reminder=sum(1 for c in chats if reminders[c] == 1),
        chats_with_one_screen=sum(1 for c in chats if screens[c] == 1),
        english_reminders=english,
    )


async def notice_states(app: Werkbank, members: Sequence[int]) -> dict[str, int]:
    async with app.db.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(Notice.kind, Notice.status, Notice.attempts, func.count(Notice.id))
                .where(Notice.member_id.between(min(members), max(members)))
                .group_by(Notice.kind, Notice.status, Notice.attempts)
            )
        ).all()
    return {f"{kind}/{status}/attempts={attempts}": n for kind, status, attempts, n in rows}


# -- the run ---------------------------------------------------------------------------
async def bench(
    database_url: str, count: int, label: str, full_baseline: bool = False
) -> dict[str, Any]:
    server = BotApiServer()
    await server.start()
    settings = Settings(
        database_url=database_url,
        telegram_token=SecretStr(server.token),
        telegram_api_url=server.url,
        telegram_rate_limit=0,  # AIORateLimiter stays in the stack, without a limit
        telegram_poll_timeout=1,
    )
    app = await Werkbank.open(settings)
    channel = TelegramChannel(app)
    try:
        now = datetime.now(UTC)
        began = time.perf_counter()
        who = await populate(app, count, now)
        setup_s = time.perf_counter() - began
        chats = [FIRST_USER + i for i in range(count)]
        await channel.start()

        # Warm-up: the WARM members' reminders (due earlier, so claimed first), through
        # the same dispatcher; its messages are the baseline's texts.
        warm_chats = [str(FIRST_USER + count + i) for i in range(WARM)]
        since = len(server.calls)
        warm_sent = await app.dispatcher({"telegram": channel}, {"telegram": warm_chats}).run_once()
        assert warm_sent == WARM, warm_sent
        first = int(warm_chats[0])
        sample = [c for c in server.calls[since:] if int(c.params["chat_id"]) == first]
        # What the dispatcher sends one member (now one message: the reminder on top of
        # the registration's screen), and the reminder's words alone.
        same = [
            (
                str(c.params["text"]),
                InlineKeyboardMarkup.de_json(c.params["reply_markup"], None)
                if c.params.get("reply_markup")
                else None,
            )
            for c in sample
        ]
        reminder_text = same[0][0].split("\n\n")[0]
        await bare_sends(channel, [int(c) for c in warm_chats], [(reminder_text, None)])

        # Telegram's limit on: LIMITED notices through a channel whose AIORateLimiter allows
        # TELEGRAM_RATE messages/s (the default setting), to show what decides in production.
        limited_chats = [str(FIRST_USER + count + WARM + i) for i in range(LIMITED)]
        limited_app = replace(
            app, settings=settings.model_copy(update={"telegram_rate_limit": TELEGRAM_RATE})
        )
        limited = TelegramChannel(limited_app)
        await limited.application.initialize()  # sending only: no polling
        try:
            since = len(server.calls)
            began = time.perf_counter()
            await app.dispatcher({"telegram": limited}, {"telegram": limited_chats}).run_once()
            limited_s = time.perf_counter() - began
            limited_messages = sum(1 for c in server.calls[since:] if c.method == "sendMessage")
        finally:
            await limited.application.shutdown()

        # One at a time (concurrency 1, like app.dispatcher otherwise): where a notice's
        # time goes without any queue for the event loop.
        alone_chats = [str(FIRST_USER + count + WARM + LIMITED + i) for i in range(ALONE)]
        alone_s, alone_parts, alone_statements = await one_at_a_time(app, channel, alone_chats)
        alone_bare = await bare_sends(
            channel,
            [int(c) for c in alone_chats],
            same,
            concurrency=1,
        )

        # 1. Baseline: one bare send per member.
        bare_one = await bare_sends(channel, chats, [(reminder_text, None)])

        # 2. The dispatcher: every due reminder, with claim, render and finish timed.
        statements = StatementCounter()
        dispatcher = app.dispatcher({"telegram": channel})
        owners = {
            "claim_due": (app.notices, "claim_due"),
            "render": (dispatcher, "render"),
            "deliver": (channel, "deliver"),
            "finish": (app.notices, "finish"),
        }
        since = len(server.calls)
        with statements.attached(app), timed_parts(owners, statements) as parts:
            began, cpu = time.perf_counter(), time.process_time()
            sent = await dispatcher.run_once()
            dispatch_s, dispatch_cpu = time.perf_counter() - began, time.process_time() - cpu
        what = what_was_sent(server, since, set(chats))
        states = await notice_states(app, who["members"])

        # 3. Baseline with the dispatcher's messages: the reminder on its screen, per member
        #    (on a fifth of the chats by default, to keep the run short).
        two_chats = chats if full_baseline else chats[: max(1, count // 5)]
        bare_two = await bare_sends(channel, two_chats, same)
        again = await app.dispatcher({"telegram": channel}).run_once()
    finally:
        await channel.stop()
        await app.close()
        await server.stop()

    claims = parts["claim_due"]
    claimed_batches = len(claims) - 1  # the last claim finds nothing
    result: dict[str, Any] = {
        "database": label,
        "notices": count,
        "setup_s": setup_s,
        "sent": sent,
        "sent_again": again,
        "dispatch_s": dispatch_s,
        "dispatch_cpu_s": dispatch_cpu,
        "bare_one_s": bare_one,
        "messages_per_notice": len(same),
        "bare_two_chats": len(two_chats),
        "bare_two_s": bare_two,
        "ms_per_notice": {
            "dispatcher": dispatch_s * 1000 / count,
            "bare_one": bare_one * 1000 / count,
            "bare_two": bare_two * 1000 / len(two_chats),
        },
        "ratio_to_bare_one": dispatch_s / bare_one,
        "ratio_to_bare_two": dispatch_s / count / (bare_two / len(two_chats)),
        "overhead_ms_per_notice": (dispatch_s / count - bare_two / len(two_chats)) * 1000,
        "at_telegram_rate_s": {
            "dispatcher": what.messages / TELEGRAM_RATE,
            "reminder_only": what.reminders / TELEGRAM_RATE,
        },
        "rate_limited_run": {
            "notices": LIMITED,
            "messages": limited_messages,
            "seconds": limited_s,
            "messages_per_s": limited_messages / limited_s,
        },
        "sent_messages": what.__dict__,
        "notice_states": states,
        "parts": {
            "claim_batches": claimed_batches,
            "claim_s_total": sum(claims),
            "claim_ms_first": claims[0] * 1000,
            "claim_ms_median": statistics.median(claims[:-1]) * 1000,
            "claim_ms_last_full": claims[-2] * 1000 if len(claims) > 1 else 0.0,
            "batch_ms": [b * 1000 for b in parts["batch"]],
            "claim_statements_per_batch": statistics.mean(parts["claim_due statements"][:-1]),
            "statements_per_notice": (sum(statements.count.values()) - statements.count["COMMIT"])
            / count,
            "statements": {k: n / count for k, n in statements.count.most_common()},
        },
        "one_at_a_time": alone_split(alone_parts, alone_statements, alone_s, alone_bare),
    }
    report(result)
    return result


def alone_split(
    parts: dict[str, list[float]], statements: StatementCounter, seconds: float, bare: float
) -> dict[str, Any]:
    """Mean ms per notice of each part, sent one at a time; the claim shared by its batch."""
    ms = {name: sum(parts[name]) * 1000 / ALONE for name in ("claim_due", "render", "deliver")}
    ms["finish"] = sum(parts["finish"]) * 1000 / ALONE
    ms["dispatcher, rest"] = seconds * 1000 / ALONE - sum(ms.values())
    inside = {
        name.removeprefix("render: "): sum(times) * 1000 / ALONE
        for name, times in parts.items()
        if name.startswith("render: ")
    }
    inside["rest (wording, screen, runner)"] = ms["render"] - sum(inside.values())
    return {
        "notices": ALONE,
        "ms_per_notice": seconds * 1000 / ALONE,
        "bare_two_messages_ms": bare * 1000 / ALONE,
        "parts_ms": ms,
        "render_ms": inside,
        "db": {
            k: {"per_notice": n / ALONE, "ms": statements.seconds[k] * 1000 / ALONE}
            for k, n in statements.count.most_common()
        },
    }


def sound(r: dict[str, Any]) -> bool:
    """Every reminder sent and marked done exactly once; every chat got exactly one."""
    n, s = r["notices"], r["sent_messages"]
    return bool(
        r["sent"] == n
        and r["sent_again"] == 0
        and s["reminders"] == n
        and s["chats_with_one_reminder"] == n
        and s["screens"] == n
        and s["other"] == 0
        and r["notice_states"].get("reminder_day_before/done/attempts=1") == n
        and sum(v for k, v in r["notice_states"].items() if "reminder_day_before" in k) == n
    )


def report(r: dict[str, Any]) -> None:
    n, p, s = r["notices"], r["parts"], r["sent_messages"]
    print(f"\n{r['database']}: {n} due reminders, rate limiter off, {CONCURRENCY} at once")
    print(f"  setup (bulk rows, not timed): {r['setup_s']:.1f} s")
    ms, two = r["ms_per_notice"], r["bare_two_chats"]
    print(
        f"  baseline, bare send_message × {n}: {r['bare_one_s']:.1f} s "
        f"({ms['bare_one']:.2f} ms each)"
    )
    print(
        f"  dispatcher.run_once: {r['dispatch_s']:.1f} s ({ms['dispatcher']:.2f} ms per notice; "
        f"CPU {r['dispatch_cpu_s']:.1f} s) = {r['ratio_to_bare_one']:.2f}× the baseline"
    )
    print(
        f"  the same {r['messages_per_notice']} message(s) bare, to {two} chats: "
        f"{r['bare_two_s']:.1f} s "
        f"({ms['bare_two']:.2f} ms per chat): the dispatcher takes {r['ratio_to_bare_two']:.2f}×, "
        f"{r['overhead_ms_per_notice']:.2f} ms more per notice"
    )
    print(
        f"  claims: {p['claim_batches']} batches, {p['claim_s_total']:.1f} s in all "
        f"(first {p['claim_ms_first']:.0f} ms, median {p['claim_ms_median']:.0f} ms, last "
        f"{p['claim_ms_last_full']:.0f} ms; {p['claim_statements_per_batch']:.0f} statements each)"
    )
    batches = p["batch_ms"]
    tenth = max(1, len(batches) // 10)
    print(
        f"  batches of {BATCH} after their claim: first tenth "
        f"{statistics.mean(batches[:tenth]):.0f} ms, last tenth "
        f"{statistics.mean(batches[-tenth:]):.0f} ms"
    )
    print(
        f"  {p['statements_per_notice']:.1f} statements per notice (and commits): "
        + ", ".join(f"{k} {v:.2f}" for k, v in p["statements"].items())
    )
    a = r["one_at_a_time"]
    print(
        f"  one at a time ({a['notices']} more): {a['ms_per_notice']:.1f} ms per notice "
        f"(the same messages bare: {a['bare_two_messages_ms']:.1f} ms) = "
        + ", ".join(f"{k} {v:.2f}" for k, v in a["parts_ms"].items())
    )
    print("    render: " + ", ".join(f"{k} {v:.2f}" for k, v in a["render_ms"].items()))
    print(
        "    in the database: "
        + ", ".join(f"{k} {v['per_notice']:.2f}× {v['ms']:.2f} ms" for k, v in a["db"].items())
    )
    ok = sound(r)
    print(
        f"  sent {r['sent']} notices ({r['sent_again']} on a second run); the server got "
        f"{s['reminders']} reminders ({s['english_reminders']} in English; every chat exactly "
        f"one: {s['chats_with_one_reminder'] == n}) with {s['screens']} registration screens, in "
        f"{s['messages']} messages, + {s['other']} other calls"
    )
    print(f"  notices: {r['notice_states']}  → {'OK' if ok else 'MISMATCH'}")
    at, lim = r["at_telegram_rate_s"], r["rate_limited_run"]
    print(
        f"  with the rate limiter at {TELEGRAM_RATE}/s (measured on {lim['notices']} more "
        f"notices): {lim['messages']} messages in {lim['seconds']:.1f} s = "
        f"{lim['messages_per_s']:.1f} messages/s"
    )
    print(
        f"  at Telegram's {TELEGRAM_RATE} messages/s: {at['dispatcher']:.0f} s "
        f"({at['dispatcher'] / 60:.1f} min) for these messages"
    )


async def pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_SERVER.rstrip("/") + "/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    logging.basicConfig(level=logging.WARNING)
    count = 1000 if args.quick else args.notices
    if args.database_url:
        url = Settings(database_url=args.database_url).database_url
        return await bench(url, count, url.split("+")[0], args.full_baseline)
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'r.db'}"
            return await bench(url, count, "SQLite", args.full_baseline)
    name = f"werkbank_bench_{uuid.uuid4().hex[:12]}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    try:
        server = PG_SERVER.replace("postgresql://", "postgresql+asyncpg://").rstrip("/")
        return await bench(f"{server}/{name}", count, "PostgreSQL", args.full_baseline)
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notices", type=int, default=10_000, help="due reminders to send")
    parser.add_argument("--quick", action="store_true", help="1 000 reminders: a smoke run")
    parser.add_argument("--database-url", default=None, help="an empty database to use")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, not PostgreSQL")
    parser.add_argument(
        "--full-baseline",
        action="store_true",
        help="send the two-message baseline to every chat, not a fifth",
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "reminders.json"))
    args = parser.parse_args()
    started = time.perf_counter()
    result = asyncio.run(main(args))
    print(f"\n({time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f})")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count()}
    out.write_text(json.dumps({"machine": machine, **result}, indent=2))
    if not sound(result):
        print("FAILED: a reminder was not sent exactly once (see above)")
        sys.exit(1)
