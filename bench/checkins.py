"""Check-ins and "Wirkung": four figures, each beside a baseline from the same run.

1. dispatch: 10 000 due next-day check-ins through `Dispatcher.run_once` and the Telegram
   channel against the test Bot API server (tests/e2e/botapi.py, in this process), beside
   bare `bot.send_message` calls through the same PTB application (as bench/reminders.py);
   every check-in is sent and marked done exactly once.
2. impact: `Checkins.report()` (all events) and `Checkins.impact()` (one organiser, one
   event) over 100 000 answers to 2 000 events of 50 organisers, median of 5, beside
   loading every followup row as ORM objects and counting in Python; with the query plan
   of the answer query. On PostgreSQL and on SQLite.
3. chart: `png(chart(impact))` of the 100 000 answers, warm (median of 10) and cold (a
   fresh process, matplotlib's import included), beside the same bars drawn one
   constrained subplot per question.
4. rss: `werkbank run` as a subprocess on the SQLite file of 2., against the test Bot API
   server, while an organiser opens "Wirkung" 20 times through the chat (and that of all
   their events 5 times); VmRSS and VmHWM before and after.

Run from the repository root: `python bench/checkins.py` (about 5.5 minutes on two cores;
`--quick` for a smoke run of under a minute). PostgreSQL databases
`werkbank_bench_<random>` are created on postgresql://postgres@127.0.0.1:5432 (or
`$WERKBANK_TEST_PG`) and dropped at the end; `--skip-postgres` runs the dispatch on SQLite
and the impact on SQLite only. See docs/BENCHMARKS.md, "Check-ins and Wirkung".
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import os
import platform
import pstats
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "1")

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import event as sa_event  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from telegram import InlineKeyboardMarkup  # noqa: E402

from bench.reminders import (  # noqa: E402
    ALONE,
    CONCURRENCY,
    FIRST_USER,
    MEMBERS_PER_EVENT,
    PG_SERVER,
    StatementCounter,
    alone_split,
    bare_sends,
    bulk,
    one_at_a_time,
    pg_admin,
    seat_holders,
    timed_parts,
)
from bot.app import Werkbank  # noqa: E402
from bot.charts import COLOURS, DPI, ROW_INCHES, WIDTH_INCHES, Chart, png  # noqa: E402
from bot.codes import (  # noqa: E402
    CHECKIN_KINDS,
    NAME_TO_ORGANISER,
    Answer,
    Checkin,
    EventFormat,
    EventStatus,
    Field,
    NoticeKind,
    Question,
    RegistrationStatus,
    Role,
    WorkStatus,
)
from bot.config import Settings  # noqa: E402
from bot.dialogs.impact import heading  # noqa: E402
from bot.handlers.telegram import TelegramChannel  # noqa: E402
from bot.i18n import Translator  # noqa: E402
from bot.impact_report import chart  # noqa: E402
from bot.services.checkins import Checkins  # noqa: E402
from bot.services.contracts import Impact  # noqa: E402
from bot.services.registrations import SEAT_NOTICES, reminder_key, seat_notice_due  # noqa: E402
from bot.storage.models import (  # noqa: E402
    ChannelAccount,
    DialogState,
    Event,
    Followup,
    Member,
    Notice,
    Place,
    Registration,
    lat_band,
)
from tests.e2e.botapi import BotApiServer, Call  # noqa: E402

WARM = 200  # warm-up check-ins, for members of their own
CHUNK = 5000  # rows per bulk INSERT
# Targets of the issue.
IMPACT_TARGET_S = 1.0
CHART_TARGET_S = 0.3
RSS_TARGET_MIB = 200.0
ORGANISER_CHAT = 7_000_001  # the organiser's Telegram user id in the `werkbank run` part
SEED = 20261124


@dataclass(frozen=True)
class Sizes:
    checkins: int  # due next-day check-ins through the dispatcher
    answers: int  # followup rows
    events: int
    organisers: int
    members: int  # who answer
    runs: int  # timed runs of each impact query (median)
    charts: int  # timed warm charts (median)
    colds: int  # fresh processes for the cold chart
    rounds: int  # "Wirkung" of one event through the chat
    all_rounds: int  # "Wirkung of all my events" through the chat


FULL = Sizes(10_000, 100_000, 2_000, 50, 20_000, 5, 10, 3, 20, 5)
QUICK = Sizes(300, 5_000, 100, 10, 2_000, 3, 3, 1, 3, 1)


def median_ms(values: Sequence[float]) -> float:
    return statistics.median(values) * 1000


# == 1. dispatch ============================================================================
class Clock:
    """Real time until `set`, then running on from the moment set: the check-ins' morning
    (a check-in due in the quiet hours at night is put back to the morning, so the bench
    must not depend on when it runs)."""

    def __init__(self) -> None:
        self.at: datetime | None = None
        self.began = 0.0

    def set(self, at: datetime) -> None:
        self.at, self.began = at, time.perf_counter()

    def __call__(self) -> datetime:
        if self.at is None:
            return datetime.now(UTC)
        return self.at + timedelta(seconds=time.perf_counter() - self.began)


# The check-ins a seat brings (SEAT_NOTICES without the reminders, which are long done).
SEAT_CHECKINS = tuple(kind for kind in SEAT_NOTICES if kind.is_checkin)


async def seed_due_checkins(app: Werkbank, count: int, today: date) -> tuple[list[int], datetime]:
    """`count` + WARM + ALONE members with a Telegram account (at the main menu), each with
    a seat at one of the workshops that ended yesterday afternoon, each seat with its
    check-in notices as the registrations schedule them (`seat_notice_due`): the next-day
    one due this morning (the warm-up's and the one-at-a-time run's an hour earlier, so
    they come first), the later ones (some weeks, three months, and the reminders of
    unanswered ones) pending. Returns the members and when their check-ins fell due."""
    total = count + WARM + ALONE
    n_events = -(-total // MEMBERS_PER_EVENT)
    yesterday = today - timedelta(days=1)
    starts = [
        datetime.combine(yesterday, clock_time(14), UTC) + timedelta(minutes=i)
        for i in range(n_events)
    ]
    # What the check-ins are timed by: the events' start and end (seat_holders' three hours).
    shapes = [
        Event(start_at=s, end_at=s + timedelta(hours=3), format=EventFormat.OPEN_WORKSHOP)
        for s in starts
    ]
    times = app.registrations.times
    seats = await seat_holders(app, starts, total, "bench-checkin")
    members, registrations = seats.members, seats.registrations
    notices = []
    for i, (member_id, reg_id) in enumerate(zip(members, registrations, strict=True)):
        shape = shapes[i // MEMBERS_PER_EVENT]
        for kind in SEAT_CHECKINS:
            due = seat_notice_due(kind, shape, times)
            if kind == NoticeKind.CHECKIN_NEXT_DAY and i >= count:
                due -= timedelta(hours=1)
            notices.append(
                {
                    "member_id": member_id,
                    "kind": kind,
                    "event_id": seats.event_of(i),
                    "registration_id": reg_id,
                    "params": {},
                    "dedupe": reminder_key(kind, reg_id),
                    "due_at": due,
                    "status": WorkStatus.PENDING,
                }
            )
    for chunk in range(0, len(notices), CHUNK):
        await bulk(app, Notice, notices[chunk : chunk + CHUNK])
    await analyse(app)
    due = seat_notice_due(NoticeKind.CHECKIN_NEXT_DAY, shapes[0], times)
    return members[:count], due


async def analyse(app: Werkbank) -> None:
    if app.db.dialect == "postgresql":
        # Autovacuum would analyse the fresh tables within a minute; do it now, committed
        # (statistics gathered in a transaction that is rolled back are lost).
        async with app.db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))


CHECKIN_OPENINGS = ("Gestern war „", "Yesterday was “")
# The check-in's screen: its "5" button ("rating:5", or with the seat, "rating:12.5").
RATING_BUTTON = re.compile(r'"callback_data": "rating:[^"]*5"')


@dataclass
class CheckinsSent:
    checkins: int  # sendMessage calls that carry the check-in
    with_screen: int  # of them, with the rating buttons of the check-in's screen
    english: int
    messages: int  # sendMessage calls to these chats
    other: int  # any other call, or a message that is no check-in
    chats_with_one: int


def what_was_sent(server: BotApiServer, since: int, chats: set[int]) -> CheckinsSent:
    per_chat: Counter[int] = Counter()
    screens = english = messages = other = 0
    for call in server.calls[since:]:
        chat = int(call.params.get("chat_id", 0))
        if call.method != "sendMessage" or chat not in chats:
            other += 1
            continue
        messages += 1
        said = str(call.params.get("text", ""))
        if not said.startswith(CHECKIN_OPENINGS):
            other += 1
            continue
        per_chat[chat] += 1
        english += said.startswith(CHECKIN_OPENINGS[1])
        screens += bool(RATING_BUTTON.search(json.dumps(call.params.get("reply_markup"))))
    return CheckinsSent(
        checkins=sum(per_chat.values()),
        with_screen=screens,
        english=english,
        messages=messages,
        other=other,
        chats_with_one=sum(1 for c in chats if per_chat[c] == 1),
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


async def dispatch_bench(database_url: str, count: int, label: str) -> dict[str, Any]:
    server = BotApiServer()
    await server.start()
    settings = Settings(
        database_url=database_url,
        telegram_token=SecretStr(server.token),
        telegram_api_url=server.url,
        telegram_rate_limit=0,  # AIORateLimiter stays in the stack, without a limit
        telegram_poll_timeout=1,
    )
    clock = Clock()
    app = await Werkbank.open(settings, clock)
    channel = TelegramChannel(app)
    try:
        began = time.perf_counter()
        members, due = await seed_due_checkins(app, count, datetime.now(UTC).date())
        clock.set(due + timedelta(minutes=5))  # this morning, just after they fell due
        setup_s = time.perf_counter() - began
        chats = [FIRST_USER + i for i in range(count)]
        await channel.start()

        # Warm-up: the WARM members' check-ins (due earlier, so claimed first); the message
        # one member got is the baselines' text.
        warm_chats = [str(FIRST_USER + count + i) for i in range(WARM)]
        since = len(server.calls)
        warm = app.dispatcher({"telegram": channel}, {"telegram": warm_chats})
        assert await warm.run_once() == WARM
        first = int(warm_chats[0])
        sample = [c for c in server.calls[since:] if int(c.params["chat_id"]) == first]
        same = [
            (
                str(c.params["text"]),
                InlineKeyboardMarkup.de_json(c.params["reply_markup"], None)
                if c.params.get("reply_markup")
                else None,
            )
            for c in sample
        ]
        checkin_text = same[0][0].split("\n\n")[0]
        await bare_sends(channel, [int(c) for c in warm_chats], [(checkin_text, None)])

        # One at a time, every part timed: where a check-in's time goes without queueing.
        alone_chats = [str(FIRST_USER + count + WARM + i) for i in range(ALONE)]
        alone_s, alone_parts, alone_statements = await one_at_a_time(app, channel, alone_chats)
        alone_bare = await bare_sends(channel, [int(c) for c in alone_chats], same, concurrency=1)

        # Baseline: the check-in's words, one bare send per member.
        bare_one = await bare_sends(channel, chats, [(checkin_text, None)])

        # The dispatcher: every due check-in, with claim, render, deliver and finish timed.
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
        states = await notice_states(app, members)

        # Baseline with the dispatcher's very message (check-in and screen, with buttons),
        # to a fifth of the chats.
        two_chats = chats[: max(1, count // 5)]
        bare_two = await bare_sends(channel, two_chats, same)
        again = await app.dispatcher({"telegram": channel}).run_once()
    finally:
        await channel.stop()
        await app.close()
        await server.stop()

    claims = parts["claim_due"]
    result: dict[str, Any] = {
        "database": label,
        "checkins": count,
        "setup_s": setup_s,
        "sent": sent,
        "sent_again": again,
        "dispatch_s": dispatch_s,
        "dispatch_cpu_s": dispatch_cpu,
        "bare_one_s": bare_one,
        "bare_two_chats": len(two_chats),
        "bare_two_s": bare_two,
        "clock": clock().isoformat(),
        "message": same[0][0],
        "ms_per_checkin": {
            "dispatcher": dispatch_s * 1000 / count,
            "bare_one": bare_one * 1000 / count,
            "bare_two": bare_two * 1000 / len(two_chats),
        },
        "ratio_to_bare_one": dispatch_s / bare_one,
        "ratio_to_bare_two": dispatch_s / count / (bare_two / len(two_chats)),
        "sent_messages": asdict(what),
        "notice_states": states,
        "parts": {
            "claim_batches": len(claims) - 1,  # the last claim finds nothing
            "claim_s_total": sum(claims),
            "claim_ms_median": median_ms(claims[:-1]) if len(claims) > 1 else 0.0,
            "claim_statements_per_batch": statistics.mean(parts["claim_due statements"][:-1])
            if len(claims) > 1
            else 0.0,
            "statements_per_checkin": (sum(statements.count.values()) - statements.count["COMMIT"])
            / count,
            "statements": {k: n / count for k, n in statements.count.most_common()},
        },
        "one_at_a_time": alone_split(alone_parts, alone_statements, alone_s, alone_bare),
    }
    result["sound"] = dispatch_sound(result)
    report_dispatch(result)
    return result


def dispatch_sound(r: dict[str, Any]) -> bool:
    """Every check-in sent and marked done exactly once; every chat got exactly one; the
    later check-ins of the same seats still pending."""
    n, s, states = r["checkins"], r["sent_messages"], r["notice_states"]
    next_day = {k: v for k, v in states.items() if k.startswith("checkin_next_day/")}
    later = sum(v for k, v in states.items() if not k.startswith("checkin_next_day/"))
    later_pending = sum(
        v for k, v in states.items() if not k.startswith("checkin_next_day/") and "/pending/" in k
    )
    return bool(
        r["sent"] == n
        and r["sent_again"] == 0
        and s["checkins"] == n
        and s["messages"] == n
        and s["chats_with_one"] == n
        and s["with_screen"] == n
        and s["other"] == 0
        and next_day == {"checkin_next_day/done/attempts=1": n}
        and later == later_pending == n * (len(SEAT_CHECKINS) - 1)
    )


def report_dispatch(r: dict[str, Any]) -> None:
    n, p, s, ms = r["checkins"], r["parts"], r["sent_messages"], r["ms_per_checkin"]
    print(f"\n1. dispatch, {r['database']}: {n} due next-day check-ins, {CONCURRENCY} at once")
    print(f"  setup (bulk rows, not timed): {r['setup_s']:.1f} s")
    print(f"  the message: {r['message'][:160]!r}…")
    print(
        f"  baseline, bare send_message × {n}: {r['bare_one_s']:.1f} s "
        f"({ms['bare_one']:.2f} ms each)"
    )
    print(
        f"  dispatcher.run_once: {r['dispatch_s']:.1f} s ({ms['dispatcher']:.2f} ms per "
        f"check-in; CPU {r['dispatch_cpu_s']:.1f} s) = {r['ratio_to_bare_one']:.2f}× the baseline"
    )
    print(
        f"  the same message with its buttons bare, to {r['bare_two_chats']} chats: "
        f"{r['bare_two_s']:.1f} s ({ms['bare_two']:.2f} ms per chat): the dispatcher takes "
        f"{r['ratio_to_bare_two']:.2f}×"
    )
    print(
        f"  claims: {p['claim_batches']} batches, {p['claim_s_total']:.1f} s in all (median "
        f"{p['claim_ms_median']:.0f} ms, {p['claim_statements_per_batch']:.0f} statements each)"
    )
    print(
        f"  {p['statements_per_checkin']:.1f} statements per check-in (and commits): "
        + ", ".join(f"{k} {v:.2f}" for k, v in p["statements"].items())
    )
    a = r["one_at_a_time"]
    print(
        f"  one at a time ({a['notices']} more): {a['ms_per_notice']:.1f} ms per check-in "
        f"(the same message bare: {a['bare_two_messages_ms']:.1f} ms) = "
        + ", ".join(f"{k} {v:.2f}" for k, v in a["parts_ms"].items())
    )
    print("    render: " + ", ".join(f"{k} {v:.2f}" for k, v in a["render_ms"].items()))
    print(
        f"  sent {r['sent']} ({r['sent_again']} on a second run); the server got {s['checkins']} "
        f"check-ins ({s['english']} in English, {s['with_screen']} with the rating buttons; "
        f"every chat exactly one: {s['chats_with_one'] == n}) in {s['messages']} messages, "
        f"+ {s['other']} other calls"
    )
    print(f"  notices: {r['notice_states']}  → {'OK' if r['sound'] else 'MISMATCH'}")


# == 2. impact ==============================================================================
ANSWER_RATE = {Checkin.NEXT_DAY: 0.75, Checkin.WEEKS: 0.55, Checkin.MONTHS: 0.45}
EVENTS_SPAN = timedelta(days=667)  # the events of 22 months (2 000: one every 8 hours)
CHECKIN_OF = {c.notice: c for c in Checkin}
SEATS_MAX = 1000  # a member sits at most once per event: seat r of event e is member e·P + r
TOWNS = (
    ("Bendorf", 50.43, 7.57),
    ("Koblenz", 50.36, 7.59),
    ("Neuwied", 50.43, 7.46),
    ("Iserlohn", 51.38, 7.69),
    ("Siegen", 50.87, 8.02),
    ("Kassel", 51.31, 9.49),
    ("Leipzig", 51.34, 12.37),
    ("Freiburg", 47.99, 7.85),
)
TITLES = (
    "Löten für Einsteiger",
    "Holz trifft Laser",
    "Reparaturcafé",
    "CNC-Fräsen kennenlernen",
    "Nähen mit der Overlock",
    "3D-Druck für Handwerksbetriebe",
    "Offene Werkstatt",
    "Upcycling-Abend",
)
TAKEAWAYS = (
    "Wie man eine Lötstelle sauber hinbekommt",
    "Dass der Lasercutter auch Leder kann",
    "Kontakte zu zwei Tischlereien in der Nähe",
    "Mehr Mut, einfach anzufangen",
    "Die Vorlage für die Kalkulation",
    "Wie ich mein Fahrrad selbst einstelle",
    "Eine Idee für unser nächstes Produkt",
    "Dass es hier eine offene Werkstatt gibt",
)
HELP_LINES = (
    "Ich komme mit der Software für den Laser nicht weiter",
    "Wer kann mir bei der Kalkulation helfen?",
    "Ich suche jemanden mit einer Drehbank",
)
FIRST_NAMES = ("Anna", "Ben", "Clara", "Deniz", "Emil", "Fatma", "Greta", "Hannes", "Ida", "Jonas")


def pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([a for a, _ in weighted], [w for _, w in weighted])[0]


def answer_for(rng: random.Random, checkin: Checkin) -> dict[str, str]:
    """Answers as the check-in dialogs store them (`bot/dialogs/checkins.py`)."""
    if checkin == Checkin.NEXT_DAY:
        answers: dict[str, str]
        if rng.random() < 0.6:  # the member had written an expectation
            met = ((Answer.YES, 0.55), (Answer.PARTLY, 0.3), (Answer.NO, 0.15))
            answers = {Question.MET: pick(rng, met)}
        else:
            stars = (("1", 0.03), ("2", 0.07), ("3", 0.2), ("4", 0.4), ("5", 0.3))
            answers = {Question.RATING: pick(rng, stars)}
        if rng.random() < 0.65:
            answers[Question.TAKEAWAY] = f"{rng.choice(TAKEAWAYS)} ({rng.randrange(1000)})"
        if rng.random() < 0.7:
            answers[Question.CONTACT] = pick(rng, ((Answer.YES, 0.35), (Answer.NO, 0.65)))
        return answers
    if checkin == Checkin.WEEKS:
        tried = pick(
            rng,
            (
                (Answer.DONE, 0.3),
                (Answer.STARTED, 0.3),
                (Answer.NO_TIME, 0.3),
                (Answer.NEEDS_HELP, 0.1),
            ),
        )
        answers = {Question.TRIED: tried}
        if tried == Answer.NEEDS_HELP and rng.random() < 0.8:
            answers[Question.HELP] = rng.choice(HELP_LINES)
        return answers
    outcome = (
        (Answer.ORDER, 0.1),
        (Answer.COOPERATION, 0.15),
        (Answer.PROJECT, 0.2),
        (Answer.TOPIC, 0.1),
        (Answer.NOTHING, 0.45),
    )
    return {Question.OUTCOME: pick(rng, outcome)}


@dataclass
class Seeded:
    organisers: list[int]
    events: list[int]  # newest first: events[0] ended two days ago
    organiser_of: list[int]  # per event index
    invited: dict[str, int]  # check-in (next_day, …) -> DONE notices
    answered: dict[str, int]
    seats: int
    notices: int
    help_lines: int
    replied: int
    setup_s: float = 0.0


async def bulk_chunks(
    app: Werkbank, model: Any, rows: list[dict[str, Any]], returning: Any = None
) -> list[Any]:
    out: list[Any] = []
    for chunk in range(0, len(rows), CHUNK):
        got = await bulk(app, model, rows[chunk : chunk + CHUNK], returning)
        if returning is not None:
            out += got
    return out


async def seed_answers(app: Werkbank, s: Sizes, now: datetime) -> Seeded:
    """`s.answers` followup rows over `s.events` past workshops of `s.organisers` organisers
    (spread over 22 months back from two days ago), with the DONE check-in notice of
    every seat whose check-in was due by now (so "asked" counts are real), answered at
    rates of 75 / 55 / 45 %; every third member shares their first name; half of the calls
    for help were answered by the organiser. Seats are added round-robin over the events
    until there are `s.answers` answers (the same rows on every database: a fixed seed)."""
    began = time.perf_counter()
    rng = random.Random(SEED)
    places = await bulk(
        app,
        Place,
        [
            {
                "name": f"Werkstatt {town}",
                "town": town,
                "lat": lat,
                "lon": lon,
                "lat_band": lat_band(lat),
            }
            for town, lat, lon in TOWNS
        ],
        Place.id,
    )

    def person(i: int, role: Role) -> dict[str, Any]:
        return {
            "display_name": f"{FIRST_NAMES[i % len(FIRST_NAMES)]} Muster{i}",
            "locale": "de",
            "field": Field.CRAFT,
            "consents": {NAME_TO_ORGANISER: True} if i % 3 == 0 else {},
            "onboarded": True,
            "role": role,
        }

    organisers = await bulk(
        app, Member, [person(i, Role.ORGANISER) for i in range(s.organisers)], Member.id
    )
    members = await bulk_chunks(
        app, Member, [person(i, Role.MEMBER) for i in range(s.members)], Member.id
    )
    last_end = datetime.combine(now.date() - timedelta(days=2), clock_time(19), UTC)
    ends = [last_end - i * (EVENTS_SPAN / s.events) for i in range(s.events)]
    shapes = [
        Event(start_at=end - timedelta(hours=3), end_at=end, format=EventFormat.OPEN_WORKSHOP)
        for end in ends
    ]
    times = app.registrations.times
    organiser_of = [organisers[i % s.organisers] for i in range(s.events)]
    events = await bulk(
        app,
        Event,
        [
            {
                "uid": f"bench-impact-{i}@werkbank",
                "title": f"{TITLES[i % len(TITLES)]} {i}",
                "format": EventFormat.OPEN_WORKSHOP,
                "place_id": places[i % len(places)],
                "start_at": shape.start_at,
                "end_at": shape.end_at,
                "status": EventStatus.PUBLISHED,
                "organiser_id": organiser_of[i],
            }
            for i, shape in enumerate(shapes)
        ],
        Event.id,
    )
    # The check-ins each event's seats were asked, and when.
    asked = [
        [
            (kind, due)
            for kind in CHECKIN_KINDS
            if (due := seat_notice_due(kind, shape, times)) <= now
        ]
        for shape in shapes
    ]
    seats: list[tuple[int, int]] = []  # (event index, member index)
    sent: list[tuple[int, NoticeKind, datetime]] = []  # (seat, kind, due)
    answers: list[tuple[int, Checkin, datetime, dict[str, str]]] = []
    seat_round = 0
    while len(answers) < s.answers and seat_round < SEATS_MAX:
        for e in range(s.events):
            seat = len(seats)
            seats.append((e, (e * SEATS_MAX + seat_round) % s.members))
            for kind, due in asked[e]:
                sent.append((seat, kind, due))
                checkin = CHECKIN_OF[kind]
                if rng.random() < ANSWER_RATE[checkin]:
                    answers.append((seat, checkin, due, answer_for(rng, checkin)))
            if len(answers) >= s.answers:
                break
        seat_round += 1
    answers = answers[: s.answers]
    registrations = await bulk_chunks(
        app,
        Registration,
        [
            {
                "event_id": events[e],
                "member_id": members[m],
                "status": RegistrationStatus.REGISTERED,
                "position": None,
            }
            for e, m in seats
        ],
        Registration.id,
    )
    await bulk_chunks(
        app,
        Notice,
        [
            {
                "member_id": members[seats[seat][1]],
                "kind": kind,
                "event_id": events[seats[seat][0]],
                "registration_id": registrations[seat],
                "params": {},
                "dedupe": reminder_key(kind, registrations[seat]),
                "due_at": due,
                "status": WorkStatus.DONE,
                "attempts": 1,
                "done_at": due + timedelta(seconds=seat % 600),
                "created_at": due - timedelta(days=10),
            }
            for seat, kind, due in sent
        ],
    )
    followups = []
    replies = []
    for n, (seat, checkin, due, said) in enumerate(answers):
        e, m = seats[seat]
        followups.append(
            {
                "member_id": members[m],
                "event_id": events[e],
                "kind": checkin.value,
                "due_at": due,
                "status": WorkStatus.DONE,
                # A column per question, as Checkins.answer keeps them (a rating as a number).
                **{q.value: None for q in Question},
                **{str(q): v for q, v in said.items()},
                "rating": int(said[Question.RATING]) if Question.RATING in said else None,
            }
        )
        if Question.HELP in said and n % 2 == 0:
            replies.append(
                {
                    "member_id": members[m],
                    "kind": NoticeKind.ORGANISER_REPLY,
                    "event_id": events[e],
                    "params": {"text": "Komm gern am Donnerstag vorbei."},
                    "due_at": due + timedelta(days=1),
                    "status": WorkStatus.DONE,
                    "attempts": 1,
                    "done_at": due + timedelta(days=1),
                }
            )
    await bulk_chunks(app, Followup, followups)
    if replies:
        await bulk_chunks(app, Notice, replies)
    await analyse(app)
    invited = Counter(CHECKIN_OF[kind].value for _, kind, _ in sent)
    answered = Counter(checkin.value for _, checkin, _, _ in answers)
    return Seeded(
        organisers=organisers,
        events=events,
        organiser_of=organiser_of,
        invited=dict(invited),
        answered=dict(answered),
        seats=len(seats),
        notices=len(sent) + len(replies),
        help_lines=sum(1 for *_, said in answers if Question.HELP in said),
        replied=len(replies),
        setup_s=time.perf_counter() - began,
    )


def counted(rows: Sequence[tuple[str, Mapping[str, str]]]) -> dict[str, Counter[str]]:
    """check-in -> Counter of "question=answer" (free text as "takeaway=…") and "rows"."""
    out: dict[str, Counter[str]] = {c.value: Counter() for c in Checkin}
    for kind, answers in rows:
        tally = out.setdefault(kind, Counter())
        tally["rows"] += 1
        for key, value in answers.items():
            if key in (Question.TAKEAWAY, Question.HELP):
                tally[f"{key}=…"] += 1
            else:
                tally[f"{key}={value}"] += 1
    return out


async def brute_force(
    app: Werkbank, organiser_id: int | None = None, event_id: int | None = None
) -> dict[str, Counter[str]]:
    """The baseline: every followup row (of one organiser's events, of one event) as an
    ORM object, its answers counted in Python."""
    query = select(Followup)
    if organiser_id is not None:
        mine = select(Event.id).where(Event.organiser_id == organiser_id)
        query = query.where(Followup.event_id.in_(mine))
    if event_id is not None:
        query = query.where(Followup.event_id == event_id)
    async with app.db.sessions() as session:
        rows = (await session.scalars(query)).all()
        return counted([(f.kind, f.answers()) for f in rows])


def agrees(impact: Impact, brute: dict[str, Counter[str]], invited: dict[str, int] | None) -> bool:
    """The impact's figures are the brute-force count's (and its "asked" the notices')."""
    for f in impact.checkins:
        tally = brute.get(f.kind, Counter())
        if f.answered != tally["rows"] or f.line_count != tally["takeaway=…"]:
            return False
        if invited is not None and f.invited != invited.get(f.kind, 0):
            return False
        for question, answers in f.counts.items():
            for answer, n in answers.items():
                if tally[f"{question}={answer}"] != n:
                    return False
        choices = sum(n for key, n in tally.items() if "=" in key and not key.endswith("=…"))
        if choices != sum(n for answers in f.counts.values() for n in answers.values()):
            return False
    return True


async def timed(call: Callable[[], Awaitable[Any]], runs: int) -> tuple[list[float], Any]:
    """One untimed call (caches, the connection pool), then `runs` timed ones."""
    result = await call()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        result = await call()
        times.append(time.perf_counter() - began)
    return times, result


async def statements_of(app: Werkbank, call: Callable[[], Awaitable[Any]]) -> list[tuple[str, Any]]:
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        captured.append((statement, params))

    engine = app.db.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", capture)
    try:
        await call()
    finally:
        sa_event.remove(engine, "before_cursor_execute", capture)
    return captured


async def query_plan(app: Werkbank, statement: str, params: Any) -> str:
    async with app.db.engine.connect() as conn:
        if app.db.dialect == "sqlite":
            rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()
            depth: dict[int, int] = {0: -1}
            lines = []
            for row in cast(list[Any], rows):
                node, parent, detail = int(row[0]), int(row[1]), str(row[3])
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + detail)
            return "\n".join(lines)
        rows = (await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)).all()
        return "\n".join(str(row[0]) for row in rows)


async def answer_query_alone(app: Werkbank, statement: str, params: Any, runs: int) -> float:
    """The answer query through the driver, no ORM, no Python tally: median seconds."""
    times = []
    for _ in range(runs + 1):
        async with app.db.engine.connect() as conn:
            began = time.perf_counter()
            (await conn.exec_driver_sql(statement, params)).all()
            times.append(time.perf_counter() - began)
    return statistics.median(times[1:])


async def profile_of(call: Callable[[], Awaitable[Any]], top: int = 14) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    await call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


async def impact_bench(
    database_url: str, label: str, s: Sizes, timings: bool = True
) -> tuple[dict[str, Any], Impact, Seeded]:
    app = await Werkbank.open(Settings(database_url=database_url))
    try:
        seeded = await seed_answers(app, s, datetime.now(UTC))
        checkins = Checkins(app.db)
        organiser = seeded.organisers[0]
        # One of the organiser's events old enough for all three check-ins.
        older = [
            i
            for i, o in enumerate(seeded.organiser_of)
            if o == organiser and i * (EVENTS_SPAN / s.events) > timedelta(days=95)
        ]
        event_index = older[0] if older else 0
        event_id = seeded.events[event_index]
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "report()": checkins.report,
            "impact(organiser)": lambda: checkins.impact(organiser),
            "impact(organiser, event)": lambda: checkins.impact(organiser, event_id),
        }
        result: dict[str, Any] = {
            "database": label,
            "seeded": {
                k: v
                for k, v in asdict(seeded).items()
                if k not in ("organisers", "events", "organiser_of")
            },
        }
        report = await checkins.report()
        mine = await checkins.impact(organiser)
        one = await checkins.impact(organiser, event_id)
        brute_all = await brute_force(app)
        brute_mine = await brute_force(app, organiser)
        brute_one = await brute_force(app, event_id=event_id)
        result["checks"] = {
            "report agrees with the brute-force count": agrees(report, brute_all, seeded.invited),
            "impact(organiser) agrees with its brute-force count": agrees(mine, brute_mine, None),
            "impact(organiser, event) agrees with its brute-force count": agrees(
                one, brute_one, None
            ),
            "report counts every answer": report.answered == s.answers,
            "impact(organiser, event) has all three check-ins": all(
                f.answered for f in one.checkins
            ),
        }
        result["answers"] = {
            "report": report.answered,
            "organiser": mine.answered,
            "event": one.answered,
            "organiser_events": mine.events,
            "help_requests_open": report.open_help,
        }
        if timings:
            times: dict[str, list[float]] = {}
            for name, call in calls.items():
                times[name], _ = await timed(call, s.runs)
            times["brute force, all rows"], _ = await timed(lambda: brute_force(app), s.runs)
            times["brute force, the organiser's rows"], _ = await timed(
                lambda: brute_force(app, organiser), s.runs
            )
            times["brute force, the event's rows"], _ = await timed(
                lambda: brute_force(app, event_id=event_id), s.runs
            )
            result["seconds"] = {k: statistics.median(v) for k, v in times.items()}
            result["runs"] = times
            med = result["seconds"]
            result["ratios"] = {
                "report / brute force": med["report()"] / med["brute force, all rows"],
                "impact(organiser) / brute force of its rows": med["impact(organiser)"]
                / med["brute force, the organiser's rows"],
                "impact(organiser, event) / brute force of its rows": med[
                    "impact(organiser, event)"
                ]
                / med["brute force, the event's rows"],
            }
            plans: dict[str, dict[str, str]] = {}
            for name, call in calls.items():
                said = await statements_of(app, call)
                # The answers counted by combination (bot.services.checkins._combinations).
                rows_query = next(
                    (st, p) for st, p in said if "FROM followup" in st and "GROUP BY" in st
                )
                sent_query = next((st, p) for st, p in said if "GROUP BY notice.kind" in st)
                plans[name] = {
                    "answers": await query_plan(app, *rows_query),
                    "asked": await query_plan(app, *sent_query),
                }
                if name == "report()":
                    result["report_answer_query_alone_s"] = await answer_query_alone(
                        app, *rows_query, s.runs
                    )
                    result["report_answer_query"] = rows_query[0]
            result["plans"] = plans
            result["report_profile"] = await profile_of(checkins.report)
        report_impact(result, s)
        return result, report, seeded
    finally:
        await app.close()


def report_impact(r: dict[str, Any], s: Sizes) -> None:
    seeded, answers = r["seeded"], r["answers"]
    print(
        f"\n2. impact, {r['database']}: {answers['report']} answers to {s.events} events of "
        f"{s.organisers} organisers ({seeded['seats']} seats, {seeded['notices']} DONE notices; "
        f"setup {seeded['setup_s']:.1f} s, not timed)"
    )
    print(f"  asked {seeded['invited']}, answered {seeded['answered']}")
    if "seconds" in r:
        med = r["seconds"]
        for name, runs in r["runs"].items():
            print(
                f"  {name}: median {med[name] * 1000:.0f} ms "
                f"(runs {', '.join(f'{t * 1000:.0f}' for t in runs)} ms)"
            )
        print(
            f"  answers: report {answers['report']}, the organiser's {answers['organiser']} "
            f"(of {answers['organiser_events']} events), the event's {answers['event']}"
        )
        for name, ratio in r["ratios"].items():
            print(f"  {name}: {ratio:.2f}×")
        print(
            f"  report's answer query alone (driver, no ORM): "
            f"{r['report_answer_query_alone_s'] * 1000:.0f} ms"
        )
        for name, plans in r["plans"].items():
            print(f"  plan of the answer query of {name}:")
            print("    " + plans["answers"].replace("\n", "\n    "))
        print("  plan of the 'asked' count of impact(organiser):")
        print("    " + r["plans"]["impact(organiser)"]["asked"].replace("\n", "\n    "))
    ok = all(r["checks"].values())
    print(f"  checks: {r['checks']} → {'OK' if ok else 'MISMATCH'}")


# == 3. chart ===============================================================================
def obvious_png(c: Chart) -> bytes:
    """The baseline: the same bars drawn the obvious way, one subplot per question (and
    per check-in's asked/answered), each with its own scale, constrained layout."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = sum(len(g.bars) + 1 for g in c.groups)
    figure = Figure(figsize=(WIDTH_INCHES, 1.3 + ROW_INCHES * rows), dpi=DPI, layout="constrained")
    figure.suptitle(c.title, x=0.02, ha="left", fontsize=13, fontweight="bold")
    panels = figure.subplots(len(c.groups), 1, height_ratios=[len(g.bars) for g in c.groups])
    for axes, group in zip(panels, c.groups, strict=True):
        where = range(len(group.bars))
        bars = axes.barh(
            where,
            [b.value for b in group.bars],
            color=[COLOURS[b.colour % len(COLOURS)] for b in group.bars],
        )
        axes.bar_label(bars, padding=3, fontsize=9)
        axes.set_yticks(where, [b.label for b in group.bars], fontsize=9)
        axes.invert_yaxis()
        axes.set_title(group.heading, loc="left", fontsize=10, fontweight="bold")
        axes.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    panels[-1].set_xlabel(c.axis_label, fontsize=9)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


COLD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from bot.charts import Bar, Chart, Group, png
d = json.load(sys.stdin)
c = Chart(d["title"], tuple(Group(g["heading"], tuple(Bar(**b) for b in g["bars"]))
          for g in d["groups"]), d["axis_label"])
began = time.perf_counter()
if sys.argv[2] == "split":
    import matplotlib.figure, matplotlib.ticker
imported = time.perf_counter()
png(c)
drawn = time.perf_counter()
png(c)
again = time.perf_counter()
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]
print(json.dumps({"import": imported - began, "first": drawn - imported,
                  "second": again - drawn, "hwm_kib": int(hwm)}))
"""


def cold_chart(c: Chart, mode: str) -> dict[str, float]:
    """A fresh Python: `png` with matplotlib not yet imported (`mode` "split": the import
    timed apart first)."""
    done = subprocess.run(
        [sys.executable, "-c", COLD, str(ROOT), mode],
        input=json.dumps(asdict(c)),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def chart_bench(impact: Impact, s: Sizes) -> dict[str, Any]:
    t = Translator("de")
    title = heading(t, impact)

    def built() -> Chart:
        bars = chart(impact, title, t._)
        assert bars is not None
        return bars

    c = built()
    cold = [cold_chart(c, "whole") for _ in range(s.colds)]
    split = [cold_chart(c, "split") for _ in range(s.colds)]
    first = time.perf_counter()
    png(built())  # untimed: imports matplotlib in this process
    first_s = time.perf_counter() - first
    obvious_png(c)
    ours: list[float] = []
    obvious: list[float] = []
    for _ in range(s.charts):  # taking turns, so both see the same machine
        began = time.perf_counter()
        picture = png(built())
        ours.append(time.perf_counter() - began)
        began = time.perf_counter()
        theirs = obvious_png(built())
        obvious.append(time.perf_counter() - began)
    result = {
        "groups": len(c.groups),
        "bars": sum(len(g.bars) for g in c.groups),
        "png_bytes": len(picture),
        "obvious_png_bytes": len(theirs),
        "warm_s": statistics.median(ours),
        "warm_runs": ours,
        "obvious_s": statistics.median(obvious),
        "obvious_runs": obvious,
        "ratio": statistics.median(ours) / statistics.median(obvious),
        "cold_s": statistics.median(r["first"] for r in cold),
        "cold_runs": cold,
        "cold_import_s": statistics.median(r["import"] for r in split),
        "cold_draw_after_import_s": statistics.median(r["first"] for r in split),
        "cold_process_hwm_mib": statistics.median(r["hwm_kib"] for r in cold) / 1024,
        "first_in_bench_process_s": first_s,
    }
    report_chart(result)
    return result


def report_chart(r: dict[str, Any]) -> None:
    print(
        f"\n3. chart: {r['groups']} groups, {r['bars']} bars, PNG {r['png_bytes'] / 1024:.0f} KiB"
    )
    print(
        f"  warm png(chart(impact)): median {r['warm_s'] * 1000:.0f} ms "
        f"(runs {', '.join(f'{t * 1000:.0f}' for t in r['warm_runs'])})"
    )
    print(
        f"  baseline, one constrained subplot per question: median {r['obvious_s'] * 1000:.0f} ms "
        f"(runs {', '.join(f'{t * 1000:.0f}' for t in r['obvious_runs'])}) → "
        f"ratio {r['ratio']:.2f}"
    )
    print(
        f"  cold, a fresh process: {r['cold_s'] * 1000:.0f} ms for the first chart (timed apart "
        f"in other fresh processes: the import of matplotlib {r['cold_import_s'] * 1000:.0f} ms, "
        f"then the drawing {r['cold_draw_after_import_s'] * 1000:.0f} ms); that process peaks "
        f"at {r['cold_process_hwm_mib']:.0f} MiB"
    )


# == 4. werkbank run ========================================================================
GARBAGE = """
import asyncio, gc, json, sys
sys.path.insert(0, sys.argv[1])
from bot.charts import Bar, Chart, Group, render
d = json.load(sys.stdin)
c = Chart(d["title"], tuple(Group(g["heading"], tuple(Bar(**b) for b in g["bars"]))
          for g in d["groups"]), d["axis_label"])
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1])
async def main():
    import bot.app, bot.handlers.telegram  # what `werkbank run` holds before any chart
    said = {"start": rss()}
    for n in range(1, int(sys.argv[2]) + 1):
        await render(c)
        if sys.argv[3] == "collect":
            gc.collect()
        if n == 1:
            said["first"] = rss()
    said["last"] = rss()
    print(json.dumps(said))
asyncio.run(main())
"""


def chart_garbage(c: Chart, charts: int) -> dict[str, dict[str, float]]:
    """RSS (MiB) of a fresh process that draws `charts` charts with `render`, as the bot
    does, and the same with `gc.collect()` after each: how much of the growth is garbage
    waiting for Python's cycle collector."""
    out = {}
    for mode in ("as is", "collect"):
        done = subprocess.run(
            [sys.executable, "-c", GARBAGE, str(ROOT), str(charts), mode],
            input=json.dumps(asdict(c)),
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        kib = json.loads(done.stdout.strip().splitlines()[-1])
        out[mode] = {k: v / 1024 for k, v in kib.items()}
    return out


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MiB, and the RSS of its children (the chart
    worker, `python -m bot.charts`, while it runs)."""

    def status(of: int) -> dict[str, str]:
        lines = Path(f"/proc/{of}/status").read_text().splitlines()
        return {line.split(":")[0]: line.split()[1] for line in lines if line.startswith("Vm")}

    values = status(pid)
    children = [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
    worker = sum(int(status(child).get("VmRSS", 0)) for child in children)
    return {
        "rss_mib": int(values["VmRSS"]) / 1024,
        "hwm_mib": int(values["VmHWM"]) / 1024,
        "worker_rss_mib": worker / 1024,
    }


REPLIES = frozenset({"sendMessage", "editMessageText", "sendPhoto"})


class Chat:
    """The organiser's side of the chat with `werkbank run`: press, and wait for the reply."""

    def __init__(self, server: BotApiServer, process: subprocess.Popen[bytes], err: Path) -> None:
        self.server, self.process, self.err = server, process, err

    async def press(
        self, payload: str, wait_for: frozenset[str] = REPLIES, timeout: float = 60
    ) -> Call:
        before = len(self.server.calls)
        pressed = time.perf_counter()
        await self.server.press(ORGANISER_CHAT, payload)
        while True:
            got = [
                c
                for c in self.server.calls[before:]
                if c.method in wait_for and str(c.params.get("chat_id")) == str(ORGANISER_CHAT)
            ]
            if got:
                return got[-1]
            if self.process.poll() is not None:
                raise RuntimeError(f"werkbank run ended: {self.err.read_text()[-2000:]}")
            if time.perf_counter() - pressed > timeout:
                raise TimeoutError(f"no reply to {payload!r} within {timeout} s")
            await asyncio.sleep(0.005)


def payloads(call: Call) -> set[str]:
    markup = call.params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return {b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row}


async def to_organiser(database_url: str, organiser_id: int) -> None:
    """The organiser's Telegram account, standing at the main menu."""
    app = await Werkbank.open(Settings(database_url=database_url))
    try:
        async with app.db.transaction() as session:
            account = ChannelAccount(
                channel="telegram",
                external_id=str(ORGANISER_CHAT),
                chat_id=str(ORGANISER_CHAT),
                member_id=organiser_id,
            )
            session.add(account)
            await session.flush()
            session.add(DialogState(account_id=account.id, flow="menu", state="main", data={}))
    finally:
        await app.close()


async def wait_for_start(process: subprocess.Popen[bytes], out: Path, err: Path) -> None:
    began = time.perf_counter()
    while "running" not in out.read_text():
        if process.poll() is not None:
            raise RuntimeError(f"werkbank run ended: {err.read_text()[-2000:]}")
        if time.perf_counter() - began > 90:
            raise TimeoutError("werkbank run did not start within 90 s")
        await asyncio.sleep(0.05)


async def stop(process: subprocess.Popen[bytes]) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        began = time.perf_counter()
        while process.poll() is None and time.perf_counter() - began < 20:
            await asyncio.sleep(0.05)
        if process.poll() is None:
            process.kill()
            process.wait()
            return None
    return process.returncode


async def rss_bench(
    db_file: Path, seeded: Seeded, s: Sizes, tmp: Path, impact: Impact
) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{db_file}"
    organiser, event_id = seeded.organisers[0], seeded.events[0]
    await to_organiser(url, organiser)
    server = BotApiServer()
    await server.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WERKBANK_")},
        "WERKBANK_DATABASE_URL": f"sqlite:///{db_file}",
        "WERKBANK_TELEGRAM_TOKEN": server.token,
        "WERKBANK_TELEGRAM_API_URL": server.url,
        "WERKBANK_TELEGRAM_POLL_TIMEOUT": "1",
        "WERKBANK_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    out, err = tmp / "run.out", tmp / "run.err"
    readings: dict[str, dict[str, float]] = {}
    latencies: list[float] = []
    all_latencies: list[float] = []
    photo_bytes: list[int] = []
    with out.open("w") as stdout, err.open("w") as stderr:
        # cwd: a directory without a .env file, so only the settings above count.
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=tmp, env=env, stdout=stdout, stderr=stderr
        )
        try:
            began = time.perf_counter()
            await wait_for_start(process, out, err)
            start_s = time.perf_counter() - began
            await asyncio.sleep(2)  # the first long poll and dispatcher tick
            readings["after start"] = memory(process.pid)
            chat = Chat(server, process, err)

            async def to_event() -> None:
                await chat.press("menu")
                listed = await chat.press("go:my_events")
                if f"event:{event_id}" not in payloads(listed):
                    raise RuntimeError(f"event {event_id} is not in the list: {listed.params}")
                screen = await chat.press(f"event:{event_id}")
                if "impact" not in payloads(screen):
                    raise RuntimeError(f"no Wirkung button on the event: {screen.params}")

            await to_event()
            readings["after menu → my events → event (no chart yet)"] = memory(process.pid)
            for n in range(s.rounds):
                if n:
                    await to_event()
                pressed = time.perf_counter()
                photo = await chat.press("impact", frozenset({"sendPhoto"}))
                latencies.append(photo.at - pressed)
                photo_bytes.append(len(photo.params["photo"]["data"]))
                if n == 0:
                    readings["after the first chart"] = memory(process.pid)
            readings[f"after {s.rounds} charts of one event"] = memory(process.pid)
            for _ in range(s.all_rounds):
                await chat.press("menu")
                listed = await chat.press("go:my_events")
                if "all_impact" not in payloads(listed):
                    raise RuntimeError(f"no 'all my events' button: {listed.params}")
                pressed = time.perf_counter()
                photo = await chat.press("all_impact", frozenset({"sendPhoto"}))
                all_latencies.append(photo.at - pressed)
                photo_bytes.append(len(photo.params["photo"]["data"]))
            readings[f"after {s.all_rounds} more of all their events"] = memory(process.pid)
        finally:
            code = await stop(process)
            await server.stop()
    errors = [line for line in err.read_text().splitlines() if " ERROR " in line]
    first, last = readings["after start"], list(readings.values())[-1]
    result: dict[str, Any] = {
        "start_s": start_s,
        "readings": readings,
        "rss_ratio": last["rss_mib"] / first["rss_mib"],
        "rss_added_mib": last["rss_mib"] - first["rss_mib"],
        "hwm_mib": last["hwm_mib"],
        "latency_s": statistics.median(latencies),
        "latency_runs": latencies,
        "all_latency_s": statistics.median(all_latencies) if all_latencies else None,
        "all_latency_runs": all_latencies,
        "photo_kib": [b / 1024 for b in photo_bytes],
        "exit_code": code,
        "error_lines": errors,
        "unknown_methods": server.unknown,
    }
    t = Translator("de")
    bars = chart(impact, heading(t, impact), t._)
    if bars is not None:
        result["garbage_charts"] = 2 * (s.rounds + s.all_rounds)
        result["garbage"] = chart_garbage(bars, result["garbage_charts"])
    report_rss(result)
    return result


def report_rss(r: dict[str, Any]) -> None:
    print(f"\n4. werkbank run (started in {r['start_s']:.1f} s), the organiser's chat:")
    for name, m in r["readings"].items():
        print(
            f"  {name}: VmRSS {m['rss_mib']:.0f} MiB, VmHWM {m['hwm_mib']:.0f} MiB; "
            f"chart worker {m['worker_rss_mib']:.0f} MiB"
        )
    print(
        f"  RSS at the end = {r['rss_ratio']:.2f}× the RSS after start "
        f"(+{r['rss_added_mib']:.0f} MiB); peak {r['hwm_mib']:.0f} MiB"
    )
    print(
        f"  press 'Wirkung' → photo: median {r['latency_s'] * 1000:.0f} ms (one event), "
        + (
            f"{r['all_latency_s'] * 1000:.0f} ms (all their events)"
            if r["all_latency_s"] is not None
            else ""
        )
    )
    for mode, m in r.get("garbage", {}).items():
        print(
            f"  apart, a fresh process drawing {r['garbage_charts']} charts ({mode}): "
            f"{m['start']:.0f} MiB before, {m['first']:.0f} after the first, "
            f"{m['last']:.0f} after the last"
        )
    print(
        f"  stopped with SIGTERM: exit code {r['exit_code']}; {len(r['error_lines'])} ERROR lines; "
        f"unknown Bot API methods {r['unknown_methods']}"
    )


# == the run ================================================================================
@asynccontextmanager
async def pg_database(server: str) -> AsyncIterator[str]:
    name = f"werkbank_bench_{uuid.uuid4().hex[:12]}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server.replace('postgresql://', 'postgresql+asyncpg://').rstrip('/')}/{name}"
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Outcome:
    results: dict[str, Any] = field(default_factory=dict)
    sound: bool = True


async def main(args: argparse.Namespace) -> Outcome:
    logging.basicConfig(level=logging.WARNING)
    s = QUICK if args.quick else FULL
    parts = set(args.parts.split(","))
    outcome = Outcome({"sizes": asdict(s)})
    r = outcome.results
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if "dispatch" in parts:
            if args.skip_postgres:
                url = f"sqlite+aiosqlite:///{tmp / 'dispatch.db'}"
                r["dispatch"] = await dispatch_bench(url, s.checkins, "SQLite")
            else:
                async with pg_database(PG_SERVER) as url:
                    r["dispatch"] = await dispatch_bench(url, s.checkins, "PostgreSQL")
            outcome.sound &= r["dispatch"]["sound"]
        if "impact" in parts and not args.skip_postgres:
            async with pg_database(PG_SERVER) as url:
                r["impact_postgresql"], _, _ = await impact_bench(url, "PostgreSQL", s)
            outcome.sound &= all(r["impact_postgresql"]["checks"].values())
        if parts & {"impact", "chart", "rss"}:
            db_file = tmp / "impact.db"
            r["impact_sqlite"], impact, seeded = await impact_bench(
                f"sqlite+aiosqlite:///{db_file}", "SQLite", s, timings="impact" in parts
            )
            outcome.sound &= all(r["impact_sqlite"]["checks"].values())
            if "chart" in parts:
                r["chart"] = chart_bench(impact, s)
            if "rss" in parts:
                r["rss"] = await rss_bench(db_file, seeded, s, tmp, impact)
                outcome.sound &= r["rss"]["exit_code"] == 0 and not r["rss"]["error_lines"]
    summary(r)
    return outcome


def summary(r: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str, str, str]] = []
    if "dispatch" in r:
        d = r["dispatch"]
        rows.append(
            (
                f"{d['checkins']} due check-ins, run_once ({d['database']})",
                f"{d['dispatch_s']:.1f} s ({d['ms_per_checkin']['dispatcher']:.2f} ms each)",
                f"bare send_message: {d['bare_one_s']:.1f} s",
                f"{d['ratio_to_bare_one']:.2f}×",
                "each sent once: " + ("yes" if d["sound"] else "NO"),
            )
        )
    for key in ("impact_postgresql", "impact_sqlite"):
        i = r.get(key)
        if not i or "seconds" not in i:
            continue
        med, db = i["seconds"], i["database"]
        baselines = {
            "report()": med["brute force, all rows"],
            "impact(organiser)": med["brute force, the organiser's rows"],
            "impact(organiser, event)": med["brute force, the event's rows"],
        }
        for name, base in baselines.items():
            rows.append(
                (
                    f"{name}, {i['answers']['report']} answers ({db})",
                    f"{med[name] * 1000:.0f} ms",
                    f"brute force {'all' if name == 'report()' else 'its'} rows: "
                    f"{base * 1000:.0f} ms",
                    f"{med[name] / base:.2f}×",
                    f"≤ 1 s: {'met' if med[name] <= IMPACT_TARGET_S else 'MISSED'}",
                )
            )
    if "chart" in r:
        c = r["chart"]
        rows.append(
            (
                "one chart, warm",
                f"{c['warm_s'] * 1000:.0f} ms",
                f"subplot per question: {c['obvious_s'] * 1000:.0f} ms",
                f"{c['ratio']:.2f}×",
                f"≤ 300 ms: {'met' if c['warm_s'] <= CHART_TARGET_S else 'MISSED'}",
            )
        )
        rows.append(
            (
                "first chart in a fresh process",
                f"{c['cold_s'] * 1000:.0f} ms (import {c['cold_import_s'] * 1000:.0f} ms)",
                "–",
                "–",
                "–",
            )
        )
    if "rss" in r:
        m = r["rss"]
        last = list(m["readings"].values())[-1]
        rows.append(
            (
                "werkbank run after the charts, VmRSS (VmHWM)",
                f"{last['rss_mib']:.0f} MiB ({last['hwm_mib']:.0f} MiB)",
                f"after start: {m['readings']['after start']['rss_mib']:.0f} MiB",
                f"{m['rss_ratio']:.2f}× (+{m['rss_added_mib']:.0f} MiB)",
                f"≤ 200 MB: {'met' if last['hwm_mib'] <= RSS_TARGET_MIB else 'MISSED'}",
            )
        )
        worker = max(reading["worker_rss_mib"] for reading in m["readings"].values())
        rows.append(
            (
                "its chart worker while it runs (ends after 2 idle minutes)",
                f"{worker:.0f} MiB",
                "–",
                "–",
                "–",
            )
        )
    print("\n| figure | Werkbank | baseline (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--skip-postgres",
        action="store_true",
        help="without the PostgreSQL server: the dispatch on SQLite, the impact on SQLite only",
    )
    parser.add_argument(
        "--parts", default="dispatch,impact,chart,rss", help="which figures (comma-separated)"
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "checkins.json"))
    args = parser.parse_args()
    started = time.perf_counter()
    outcome = asyncio.run(main(args))
    print(f"\n({time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f})")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count()}
    out.write_text(json.dumps({"machine": machine, **outcome.results}, indent=2, default=str))
    if not outcome.sound:
        print("FAILED: a check did not hold (see above)")
        sys.exit(1)
