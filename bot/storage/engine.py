"""The async engine, sessions, and migrations applied at start."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.storage.sqlite_inline import inline_connector

# How long a statement waits for another connection's write lock before it fails.
BUSY_TIMEOUT_S = 30
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


# A step holds its connection while its ORM session takes a second one: the dispatcher's
# 20 notices at once and Telegram's 8 updates need up to 56. SQLite connections are a
# file handle each, and those beyond `pool_size` are closed when given back. (The
# default 5 + 10 ran dry when 15 check-ins of one workshop fell due together.)
_SQLITE_POOL = {"pool_size": 5, "max_overflow": 60}


def create_engine(url: str) -> AsyncEngine:
    """An engine for a `sqlite+aiosqlite` or `postgresql+asyncpg` URL."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        in_memory = path in ("", ":memory:")
        if not in_memory:
            file = Path(path).expanduser()
            file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # private, if made here
            _create_private_file(file)
        engine = create_async_engine(
            url,
            # One shared connection for in-memory databases, or each session would see its own.
            poolclass=StaticPool if in_memory else None,
            async_creator=inline_connector(":memory:" if in_memory else path, BUSY_TIMEOUT_S),
            **({} if in_memory else _SQLITE_POOL),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _create_private_file(path: Path) -> None:
    """Create the database file with mode 0600 if it is missing: it holds people's names
    and messages. SQLite gives its -wal and -shm files the database file's mode."""
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        os.close(os.open(path, flags, 0o600))
    except FileExistsError:
        pass  # an existing database keeps the mode its operator gave it


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL lets the chat read while a writer commits; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Up to 32 MB of page cache (default 2 MB): the place index stays in memory.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply every migration up to `revision` (idempotent; runs at every start)."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(_alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Undo migrations down to `revision` (for an operator going back a version)."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(_alembic_config(sync), revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
