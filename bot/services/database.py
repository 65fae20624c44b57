"""One handle on the database that every service shares."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.storage.engine import create_engine, session_factory, upgrade

# The connection of the dialog step running in this task, if any (see `Database.step`).
_STEP_CONNECTION: ContextVar[AsyncConnection | None] = ContextVar("step_connection", default=None)


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    async def open(cls, url: str, migrate: bool = True) -> Database:
        engine = create_engine(url)
        if migrate:
            await upgrade(engine)
        return cls(engine, session_factory(engine))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def step(self) -> AsyncIterator[None]:
        """One pooled connection for the hot statements of a dialog step.

        A step reads the conversation, searches, and saves where it stands: three
        checkouts (each a pool round, a reset and, on PostgreSQL, a ping) cost more than
        the statements themselves. Inside this block `connection` and `begin` share one.
        Each `begin` is still its own transaction, committed at the end of its block, so
        nothing is held locked while the dialog runs; ORM sessions keep their own."""
        if _STEP_CONNECTION.get() is not None:
            yield  # already inside a step (a notice opened by a step, say)
            return
        async with self.engine.connect() as conn:
            token = _STEP_CONNECTION.set(conn)
            try:
                yield
            finally:
                _STEP_CONNECTION.reset(token)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading: the step's, or a new one outside a step."""
        conn = _STEP_CONNECTION.get()
        if conn is None:
            async with self.engine.connect() as conn:
                yield conn
            return
        try:
            yield conn
        finally:
            # End the read at once: an open SQLite read transaction would make this
            # connection's next write fail if another connection wrote in between.
            if conn.in_transaction():
                await conn.rollback()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A transaction committed at the end of the block (rolled back on an error)."""
        conn = _STEP_CONNECTION.get()
        if conn is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        # Never inside a transaction here: `connection` ends each read, `begin` each write.
        async with conn.begin():
            yield conn

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def close(self) -> None:
        await self.engine.dispose()
