"""One handle on the database that every service shares."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.storage.engine import create_engine, session_factory, upgrade
from bot.storage.sqlite_inline import InlineConnection


async def _begin_immediate(conn: AsyncConnection) -> None:
    """SQLite's write lock for the step's transaction; on our inline connection without
    SQLAlchemy's round of cursor and result (`InlineConnection.begin_immediate`)."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if isinstance(driver, InlineConnection):
        await driver.begin_immediate()
    else:
        await conn.exec_driver_sql("BEGIN IMMEDIATE")


# The connection of the dialog step running in this task, if any (see `Database.step`).
_STEP_CONNECTION: ContextVar[AsyncConnection | None] = ContextVar("step_connection", default=None)


@dataclass
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # SQLite has one writer at a time, and a step writes: steps of this process queue
    # here (cheap, in order) rather than in SQLite's busy handler (polling on threads).
    _one_step_at_a_time: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _sqlite_step_connection: AsyncConnection | None = field(default=None, init=False)

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
        if self.dialect != "sqlite":  # a connection from the pool for each step
            async with self.engine.connect() as conn, self._in_step(conn):
                yield
            return
        async with self._one_step_at_a_time:
            # SQLite runs one step at a time per process anyway: they share one
            # connection, kept between steps, instead of a pool checkout and return
            # each (about 0.1 ms of a step). A connection an error left unusable is
            # closed and the next step opens a new one.
            kept = self._sqlite_step_connection
            if kept is None or kept.closed or kept.invalidated:
                kept = self._sqlite_step_connection = await self.engine.connect()
            conn = kept
            try:
                async with self._in_step(conn, sqlite=True):
                    yield
            except BaseException:
                self._sqlite_step_connection = None
                await conn.close()
                raise

    @asynccontextmanager
    async def _in_step(self, conn: AsyncConnection, sqlite: bool = False) -> AsyncIterator[None]:
        token = _STEP_CONNECTION.set(conn)
        try:
            async with conn.begin():
                if sqlite:
                    # The write lock from the start: a step that read first and
                    # wrote later would fail at once if another process wrote in
                    # between (WAL's snapshot rule); waiting for the lock here is
                    # what SQLite's busy timeout is for.
                    await _begin_immediate(conn)
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
        if self._sqlite_step_connection is not None:
            await self._sqlite_step_connection.close()
            self._sqlite_step_connection = None
        await self.engine.dispose()
