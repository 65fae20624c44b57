"""Telegram throughput: a full "places near me" step through python-telegram-bot and a
loopback Bot API server, beside a bare PTB echo bot on the same server.

Run from the repository root: `python bench/telegram_throughput.py` (about 2 min).
Targets (issue "Telegram"): at least 60 % of the echo bot's updates per second, and
p95 update→reply ≤ 50 ms at that rate. The echo bot is PTB as shipped (httpx); a second
echo bot on Werkbank's aiohttp transport shows how much of the result is the transport.
Each round runs all three back to back; the share is the median of the rounds' ratios,
as this machine's speed drifts by a third within a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.app import Werkbank  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.geo import GeoPoint, default_gazetteer  # noqa: E402
from bot.handlers.telegram import TelegramChannel  # noqa: E402
from bot.handlers.telegram_http import over_aiohttp  # noqa: E402
from bot.messages import AccountRef, Incoming, Kind  # noqa: E402
from bot.services.demo import load_demo_data  # noqa: E402
from tests.e2e.botapi import BotApiServer  # noqa: E402

LOAD = 0.7  # share of the measured throughput at which latency is measured
STEP_TEXT = "Offene Werkstätten in der Nähe"  # the main menu button, typed: the runner maps it
FIRST_USER = 10_000
BENDORF = GeoPoint(50.43, 7.57)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def replies_for(
    server: BotApiServer, users: list[int], inject: Callable[[int], Awaitable[object]], pace: float
) -> tuple[float, list[float]]:
    """Inject one update per user (`pace` seconds apart; 0 = all at once) and wait for every
    reply. Returns (seconds from first injection to last reply, per-update latencies)."""
    before = len(server.calls)
    sent_at: dict[int, float] = {}
    start = time.perf_counter()
    for user in users:
        sent_at[user] = time.perf_counter()
        await inject(user)
        if pace:
            await asyncio.sleep(pace)
    answered: dict[int, float] = {}
    deadline = time.perf_counter() + 60
    seen = before
    while len(answered) < len(users):
        # Only the calls new since the last look: rescanning all of them every 2 ms would
        # cost the loop the bots share more, the longer a bot takes.
        new, seen = server.calls[seen:], len(server.calls)
        for call in new:
            if call.method in ("sendMessage", "editMessageText"):
                chat = int(call.params["chat_id"])
                answered.setdefault(chat, call.at)
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{len(users) - len(answered)} updates unanswered")
        await asyncio.sleep(0.002)
    elapsed = max(answered.values()) - start
    return elapsed, [answered[u] - sent_at[u] for u in users]


async def echo_bot(server: BotApiServer, aiohttp: bool = False) -> Application:  # type: ignore[type-arg]
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_message is not None
        await context.bot.send_message(
            update.effective_chat.id, update.effective_message.text or ""
        )

    builder = (
        Application.builder()
        .token(server.token)
        .base_url(f"{server.url}/bot")
        .base_file_url(f"{server.url}/file/bot")
    )
    if aiohttp:
        builder = over_aiohttp(builder)  # the second baseline: the same echo, Werkbank's transport
    app = builder.build()
    app.add_handler(MessageHandler(filters.ALL, echo))
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    return app


async def stop_ptb(app: Application) -> None:  # type: ignore[type-arg]
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def measure(server: BotApiServer, users: list[int], text: str) -> dict[str, float]:
    async def inject(user: int) -> object:
        return await server.send_text(user, text)

    burst, _ = await replies_for(server, users, inject, pace=0)
    rate = len(users) / burst
    # Latency under load below saturation (at saturation the queue, not the bot, decides).
    _, latencies = await replies_for(server, users, inject, pace=1 / (rate * LOAD))
    return {
        "updates_per_s": rate,
        "latency_median_ms": statistics.median(latencies) * 1000,
        "latency_p95_ms": percentile(latencies, 0.95) * 1000,
    }


async def main(users_count: int, rounds: int, database_url: str | None = None) -> dict[str, object]:
    logging.basicConfig(level=logging.WARNING)
    server = BotApiServer()
    await server.start()
    users = list(range(FIRST_USER, FIRST_USER + users_count))
    results: dict[str, list[dict[str, float]]] = {"echo": [], "echo_aiohttp": [], "werkbank": []}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            telegram_token=server.token,
            telegram_api_url=server.url,
            telegram_rate_limit=0,
            telegram_poll_timeout=1,
        )
        app = await Werkbank.open(settings)
        await load_demo_data(
            app.db,
            default_gazetteer(),
            __import__("datetime").datetime.now(__import__("datetime").UTC),
        )

        async def to_menu() -> None:
            # Every user onboarded near Bendorf and standing at the main menu.
            for user in users:
                account = AccountRef("telegram", str(user), chat_id=str(user), language="de")
                await app.runner.handle(Incoming(account, Kind.COMMAND, text="/menu"))

        for user in users:
            account = AccountRef("telegram", str(user), chat_id=str(user), language="de")
            for incoming in (
                Incoming(account, Kind.COMMAND, text="/start"),
                Incoming(account, Kind.TEXT, text="Deutsch"),
                Incoming(account, Kind.TEXT, text="Einverstanden"),  # the privacy text
                Incoming(account, Kind.LOCATION, lat=BENDORF.lat, lon=BENDORF.lon),
                Incoming(account, Kind.TEXT, text="Handwerk"),
            ):
                said = await app.runner.handle(incoming)
            # A step the onboarding did not expect would leave them short of the menu,
            # and the timed step would measure another screen.
            labels = {b.label for m in said for b in m.all_buttons()}
            if STEP_TEXT not in labels:
                raise SystemExit(f"user {user} did not reach the main menu: {labels}")

        async def run(kind: str) -> dict[str, float]:
            if kind != "werkbank":
                echo = await echo_bot(server, aiohttp=kind == "echo_aiohttp")
                try:
                    return await measure(server, users, "hallo")
                finally:
                    await stop_ptb(echo)
            channel = TelegramChannel(app)
            await channel.start()
            try:
                await to_menu()
                burst = await measure(server, users, STEP_TEXT)
                await to_menu()
                return burst
            finally:
                await channel.stop()

        kinds = list(results)
        for number in range(rounds):
            # A round runs the three back to back, so its ratios compare runs made at
            # nearly the same moment; every other round in reverse, so no bot always
            # runs first (or last) after the others warmed the machine.
            for kind in kinds if number % 2 == 0 else kinds[::-1]:
                results[kind].append(await run(kind))
        await app.close()
    await server.stop()

    def ratios(baseline: str) -> list[float]:
        return [
            w["updates_per_s"] / b["updates_per_s"]
            for w, b in zip(results["werkbank"], results[baseline], strict=True)
        ]

    def median_run(kind: str) -> dict[str, float]:
        runs = sorted(results[kind], key=lambda r: r["updates_per_s"])
        return runs[len(runs) // 2]

    per_round = ratios("echo")
    share = statistics.median(per_round)
    share_same_transport = statistics.median(ratios("echo_aiohttp"))
    echo, echo_aiohttp, werkbank = (median_run(k) for k in ("echo", "echo_aiohttp", "werkbank"))
    summary = {
        "users": users_count,
        "rounds": rounds,
        "echo": echo,
        "echo_aiohttp": echo_aiohttp,
        "werkbank": werkbank,
        "share_of_echo_rate": share,
        "share_of_echo_rate_per_round": per_round,
        "share_of_echo_aiohttp_rate": share_same_transport,
        "all_rounds": results,
    }
    print(
        f"echo bot (PTB as shipped, httpx): {echo['updates_per_s']:.0f} updates/s, "
        f"p95 {echo['latency_p95_ms']:.1f} ms\n"
        f"echo bot on aiohttp:              {echo_aiohttp['updates_per_s']:.0f} updates/s, "
        f"p95 {echo_aiohttp['latency_p95_ms']:.1f} ms\n"
        f"werkbank:                         {werkbank['updates_per_s']:.0f} updates/s, "
        f"median {werkbank['latency_median_ms']:.1f} ms, "
        f"p95 {werkbank['latency_p95_ms']:.1f} ms (at 70 % load)\n"
        f"share of the echo bot's rate (median of the rounds' ratios): {share:.0%} "
        f"(rounds: {', '.join(f'{r:.0%}' for r in per_round)}; target ≥ 60 %)\n"
        f"share of the aiohttp echo bot's rate: {share_same_transport:.0%}; "
        f"p95 target ≤ 50 ms"
    )
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=300, help="updates per measurement")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--database-url", default=None, help="an empty database to use (default: a SQLite file)"
    )
    args = parser.parse_args()
    summary = asyncio.run(main(args.users, args.rounds, args.database_url))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "telegram.json").write_text(json.dumps(summary, indent=2))
