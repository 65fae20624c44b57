"""Fixtures for driving python-telegram-bot over real HTTP against tests/e2e/botapi.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path

import pytest

from bot.app import Werkbank
from bot.config import Settings
from bot.geo import default_gazetteer
from bot.handlers.matrix import MatrixChannel
from bot.handlers.telegram import TelegramChannel
from bot.services.demo import load_demo_data
from tests.e2e.botapi import BotApiServer, Call
from tests.support.clock import BERLIN, NOW

# How long the bot must stay silent after its last call for a reply to count as complete.
QUIET_SECONDS = 0.3


@pytest.fixture
async def botapi() -> AsyncIterator[BotApiServer]:
    server = BotApiServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    assert server.unknown == [], (
        f"the bot called methods the server does not implement: {server.unknown}"
    )


def telegram_settings(tmp_path: Path, botapi: BotApiServer, **extra: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'telegram.db'}",
        "telegram_token": botapi.token,
        "telegram_api_url": botapi.url,
        "telegram_rate_limit": 0,  # AIORateLimiter throttles for real; only the 429 test needs it
        "telegram_poll_timeout": 1,  # stopping waits for the running long poll
    }
    return Settings(**{**values, **extra})  # type: ignore[arg-type]


class RunningBot:
    """Werkbank with one channel, started inside the test's event loop."""

    channel_type: type[TelegramChannel | MatrixChannel]

    def __init__(self, settings: Settings, clock: list[datetime]) -> None:
        self.settings = settings
        self.clock = clock
        self.app: Werkbank | None = None
        self.channel: TelegramChannel | MatrixChannel | None = None

    async def start(self, demo: bool = True) -> None:
        self.app = await Werkbank.open(self.settings, clock=lambda: self.clock[0])
        if demo:
            await load_demo_data(self.app.db, default_gazetteer(), NOW, BERLIN)
        self.channel = self.channel_type(self.app)
        await self.channel.start()

    async def stop(self) -> None:
        if self.channel is not None:
            await self.channel.stop()
        if self.app is not None:
            await self.app.close()
        self.channel, self.app = None, None


class TelegramBot(RunningBot):
    channel_type = TelegramChannel


@pytest.fixture
async def bot(tmp_path: Path, botapi: BotApiServer) -> AsyncIterator[TelegramBot]:
    running = TelegramBot(telegram_settings(tmp_path, botapi), [NOW])
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def exchange(
    botapi: BotApiServer, act: Callable[[], Awaitable[object]], timeout: float = 10
) -> list[Call]:
    """Do something as the user, then return every call the bot made in answer to it."""
    before = len(botapi.calls)
    await act()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(botapi.calls) == before:
        if loop.time() > deadline:
            raise AssertionError("the bot did not answer")
        await asyncio.sleep(0.01)
    # A button press is answered at once (answerCallbackQuery), the reply after the
    # dialog step: on a busy machine that step can outlast the quiet spell below.
    reply_due = min(deadline, loop.time() + 3)
    while loop.time() < reply_due and all(
        c.method == "answerCallbackQuery" for c in botapi.calls[before:]
    ):
        await asyncio.sleep(0.01)
    seen = -1
    while seen != len(botapi.calls):
        seen = len(botapi.calls)
        await asyncio.sleep(QUIET_SECONDS)
    return botapi.calls[before:]


def texts(calls: list[Call]) -> str:
    return "\n".join(str(c.params.get("text", "")) for c in calls)


def buttons(call: Call) -> dict[str, str]:
    """label -> callback data of an inline keyboard."""
    markup = call.params.get("reply_markup") or {}
    return {
        b["text"]: b.get("callback_data", "")
        for row in markup.get("inline_keyboard", [])
        for b in row
    }


def last_keyboard(calls: list[Call]) -> dict[str, str]:
    for call in reversed(calls):
        found = buttons(call)
        if found:
            return found
    return {}
