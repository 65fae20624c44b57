"""Counting and timing the statements and COMMITs an engine sends, for the benchmarks."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from bot.app import Werkbank

Tally = dict[str, float]


class StatementClock:
    """Counts and times every statement the engine sends (by its first words) and every
    COMMIT: with one worker, the database's share of a sign-up; the rest is Python."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self.seconds: Tally = defaultdict(float)

    @staticmethod
    def kind(statement: str) -> str:
        words = statement.split()
        head = words[0].upper() if words else "?"
        if head == "UPDATE":
            return f"UPDATE {words[1]}"
        if head == "INSERT":
            return f"INSERT {words[2]}"
        if head == "SELECT":
            table = words[words.index("FROM") + 1] if "FROM" in words else "-"
            return f"SELECT … FROM {table}"
        return head

    @contextmanager
    def attached(self, app: Werkbank) -> Iterator[None]:
        engine = app.db.engine.sync_engine

        def before(conn: Connection, _c: Any, statement: str, *_: Any) -> None:
            conn.info.setdefault("bench_began", []).append(time.perf_counter())

        def after(conn: Connection, _c: Any, statement: str, *_: Any) -> None:
            kind = self.kind(statement)
            self.count[kind] += 1
            self.seconds[kind] += time.perf_counter() - conn.info["bench_began"].pop()

        dialect = engine.dialect
        do_commit = dialect.do_commit

        def timed_commit(dbapi_connection: Any) -> None:
            began = time.perf_counter()
            do_commit(dbapi_connection)
            self.count["COMMIT"] += 1
            self.seconds["COMMIT"] += time.perf_counter() - began

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        dialect.do_commit = timed_commit  # type: ignore[method-assign]
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
            del dialect.do_commit  # back to the class's method
