"""One handle on the database that every service shares."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.storage.engine import create_engine, session_factory, upgrade

# The connection of the dialog step running in this task, if any (see `Database.step`).
_STEP_CONNECTION: ContextVar[AsyncConnection | None] = ContextVar("step_connection", default=None)


@dataclass
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # SQLite has one writer at a time, and a step writes: steps of this process queue
    # here (cheap, in order) rather than in SQLite's busy handler (polling on threads).
    _one_step_at_a_time: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    @classmethod
    async def open(cls, url: str, migrate: bool = True) -> Database:
        engine = create_engine(url)
        if migrate:
            await upgrade(engine)
        return cls(engine, session_factory(engine))

    def sessions(self) -> AsyncSession:
        """An ORM session for reading: inside a step, one on the step's transaction that
        neither commits nor opens a savepoint (a read needs neither; two round trips
        less on PostgreSQL). Sessions that write come from `transaction`."""
        return self._session("rollback_only")

    def _session(self, join: Literal["rollback_only", "create_savepoint"]) -> AsyncSession:
        conn = _STEP_CONNECTION.get()
        if conn is None:
            return self.sessionmaker()
        return AsyncSession(bind=conn, join_transaction_mode=join, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """An ORM session that writes, committed at the end of the block; inside a step a
        savepoint of the step's transaction, so a service that fails undoes only its part."""
        async with self._session("create_savepoint") as session, session.begin():
            yield session

    @asynccontextmanager
    async def step(self) -> AsyncIterator[None]:
        """One transaction for everything a dialog step does, committed at its end.

        The update's id is claimed, the services' writes made and the dialog state saved
        in it, so a crash anywhere in between leaves nothing behind: the update is
        delivered again and handled again, and its effect happens once. It is also one
        connection and one commit per step instead of one per statement group. Inside
        this block `connection`, `begin`, `write` and `sessions` all use it; an error
        (or a crash) rolls all of it back."""
        if _STEP_CONNECTION.get() is not None:
            yield  # already inside a step (a notice opened by a step, say)
            return
        sqlite = self.dialect == "sqlite"
        async with (
            self._one_step_at_a_time if sqlite else contextlib.nullcontext(),
            self.engine.connect() as conn,
        ):
            token = _STEP_CONNECTION.set(conn)
            try:
                async with conn.begin():
                    if sqlite:
                        # The write lock from the start: a step that read first and
                        # wrote later would fail at once if another process wrote in
                        # between (WAL's snapshot rule); waiting for the lock here is
                        # what SQLite's busy timeout is for.
                        await conn.exec_driver_sql("BEGIN IMMEDIATE")
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
        yield conn

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A transaction committed at the end of the block (rolled back on an error);
        inside a step a savepoint of the step's transaction."""
        conn = _STEP_CONNECTION.get()
        if conn is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with conn.begin_nested():
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """Like `begin`, without the savepoint inside a step: for the runner's own
        statements (claim, state), whose failure fails the whole step anyway."""
        conn = _STEP_CONNECTION.get()
        if conn is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        yield conn

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def close(self) -> None:
        await self.engine.dispose()
