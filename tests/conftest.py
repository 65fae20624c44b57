"""Shared fixtures: a database on SQLite and on PostgreSQL, a fixed clock, chat users.

PostgreSQL is required, not optional: CI must not pass by skipping it. Set
WERKBANK_TEST_PG to another server URL, or WERKBANK_TEST_SKIP_PG=1 to skip
explicitly on a machine without one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.app import Werkbank
from bot.config import Settings
from bot.geo import default_gazetteer
from bot.services.demo import load_demo_data
from tests.support.chat import ChatUser
from tests.support.clock import BERLIN, NOW

# python-telegram-bot's opt-in to the coming timedelta API (silences a deprecation warning).
os.environ.setdefault("PTB_TIMEDELTA", "1")

PG_SERVER = os.environ.get("WERKBANK_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


def _pg_admin_url() -> str:
    return PG_SERVER.rstrip("/") + "/postgres"


async def _pg_execute(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_url())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database on each engine."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'werkbank.db'}"
        return
    if os.environ.get("WERKBANK_TEST_SKIP_PG") == "1":
        pytest.skip("WERKBANK_TEST_SKIP_PG=1")
    name = f"werkbank_test_{uuid.uuid4().hex[:12]}"
    await _pg_execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER.replace('postgresql://', 'postgresql+asyncpg://').rstrip('/')}/{name}"
    finally:
        await _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, timezone="Europe/Berlin", default_locale="de")


@pytest.fixture
def clock() -> Iterator[list[datetime]]:
    """A settable clock: tests move time by replacing clock[0]."""
    yield [NOW]


@pytest.fixture
async def app(settings: Settings, clock: list[datetime]) -> AsyncIterator[Werkbank]:
    app = await Werkbank.open(settings, clock=lambda: clock[0])
    await load_demo_data(app.db, default_gazetteer(), NOW, BERLIN)
    try:
        yield app
    finally:
        await app.close()


@pytest.fixture
def user(app: Werkbank) -> ChatUser:
    return ChatUser(app.runner, "anna")
