"""SQLite for the async engine, with statements run on the event loop's own thread.

aiosqlite hands every call (cursor, execute, fetch, close, commit) to a worker thread
and back: four or five thread hops per statement, about 0.3 ms, where SQLite itself
answers a typical Werkbank statement in 10 to 50 µs. This connection runs each call
inline instead. Only a call that finds the database locked by another connection (the
command line writing while the bot runs, or another task's open transaction) goes to
aiosqlite's thread and waits there, up to the busy timeout, so the event loop is never
held up by a lock. See docs/BENCHMARKS.md ("Telegram throughput") for what it saves.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite

# sqlite3 says "database is locked" for SQLITE_BUSY and "database table is locked" for
# SQLITE_LOCKED; both may clear by waiting.
_LOCKED = "is locked"


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread unless they must wait."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_timeout_s: float):
        super().__init__(connector, iter_chunk_size=64)
        self._busy_timeout_ms = round(busy_timeout_s * 1000)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as error:
            if _LOCKED not in str(error):
                raise
        # SQLite undid the failed call, so it may simply be made again, waiting this time.
        return await super()._execute(self._waiting, fn, *args, **kwargs)

    async def begin_immediate(self) -> None:
        """BEGIN IMMEDIATE straight on the connection: through SQLAlchemy's
        exec_driver_sql it cost a cursor, a greenlet round trip and a result, about
        0.1 ms of a dialog step, for a statement that returns nothing."""
        await self._execute(self._conn.execute, "BEGIN IMMEDIATE")

    def _waiting(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run on aiosqlite's thread: the call, with SQLite's busy timeout in force."""
        connection = self._conn
        connection.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        try:
            return fn(*args, **kwargs)
        finally:
            connection.execute("PRAGMA busy_timeout = 0")


def inline_connector(path: str, busy_timeout_s: float) -> Callable[[], Any]:
    """The `async_creator` for `create_async_engine`: a new InlineConnection to `path`."""

    async def connect() -> InlineConnection:
        # timeout=0: a locked database is reported at once (and then waited for on the
        # thread); check_same_thread=False: the loop's thread and aiosqlite's share it.
        connector = partial(sqlite3.connect, path, timeout=0, check_same_thread=False)
        connection = InlineConnection(connector, busy_timeout_s)
        await connection  # starts aiosqlite's thread and connects there
        return connection

    return connect
