"""The async engine, sessions, and migrations applied at start."""

from __future__ import annotations

import ast
import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.storage.sqlite_inline import inline_connector

if TYPE_CHECKING:
    # Alembic (with Mako and Pygments) costs a third of a second to import: it is only
    # loaded when a migration has to run, not at a start whose schema is current.
    from alembic.config import Config
    from sqlalchemy.engine import Connection

# How long a statement waits for another connection's write lock before it fails. A
# member waits this long at most before "one moment, please" (`is_busy`); SQLite's
# writes here take milliseconds, so a lock held longer is a long job (an import), and
# waiting half a minute in silence only looked like a dead bot.
BUSY_TIMEOUT_S = 3
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# PostgreSQL's codes for "could not get the lock in time": lock_not_available (lock_timeout
# or NOWAIT), query_canceled (statement_timeout) and deadlock_detected.
_PG_BUSY = {"55P03", "57014", "40P01"}


class DatabaseUnavailable(Exception):
    """The database cannot be opened or used at all; the message is one line, no secret."""


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
            _check_sqlite_file(Path(path).expanduser())
        engine = create_async_engine(
            url,
            # One shared connection for in-memory databases, or each session would see its own.
            poolclass=StaticPool if in_memory else None,
            async_creator=inline_connector(":memory:" if in_memory else path, BUSY_TIMEOUT_S),
            **({} if in_memory else _SQLITE_POOL),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    from bot.storage.models import use_postgresql

    use_postgresql()  # the indexes' PostgreSQL options, for DDL and comparisons
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=20,
        # No ping before each checkout (a second round trip per step and per search):
        # a connection PostgreSQL dropped (a restart) fails its first statement, the
        # pool then drops all of them, and the runner runs the step again once
        # (`lost_connection`).
        pool_pre_ping=False,
        # The same short wait for a row or table lock as SQLite's busy timeout; without
        # one, a transaction left open elsewhere (a psql session) holds a step for ever.
        connect_args={"server_settings": {"lock_timeout": str(BUSY_TIMEOUT_S * 1000)}},
    )


_Built = TypeVar("_Built")


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's `insert` (the one with `on_conflict_do_nothing`), imported when first
    asked for: SQLAlchemy's PostgreSQL dialect takes 0.04 s to import, and a start on
    SQLite never needs it."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


class PerDialect(Generic[_Built]):
    """A statement built once per dialect, at its first use: `build` gets the dialect's
    `insert` (see `dialect_insert`); `statements[engine.dialect.name]` is the statement."""

    def __init__(self, build: Callable[[Callable[..., Any]], _Built]) -> None:
        self._build = build
        self._built: dict[str, _Built] = {}

    def __getitem__(self, dialect: str) -> _Built:
        built = self._built.get(dialect)
        if built is None:
            built = self._built[dialect] = self._build(dialect_insert(dialect))
        return built


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


def _check_sqlite_file(path: Path) -> None:
    """Say in one line why a SQLite file cannot be used, before SQLite says it worse.

    A read-only file would only fail at the first write, in the middle of a chat."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # private, if made here
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot create the directory of the database {path}: {exc.strerror or exc}"
        ) from None
    if path.is_dir():
        raise DatabaseUnavailable(f"the database {path} is a directory, not a file")
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise DatabaseUnavailable(
                f"cannot read and write the database {path}: permission denied or read-only"
            )
    elif not os.access(path.parent, os.W_OK | os.X_OK):
        raise DatabaseUnavailable(
            f"cannot create the database {path}: its directory is not writable"
        )
    _create_private_file(path)


def _create_private_file(path: Path) -> None:
    """Create the database file with mode 0600 if it is missing: it holds people's names
    and messages. SQLite gives its -wal and -shm files the database file's mode."""
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        os.close(os.open(path, flags, 0o600))
    except FileExistsError:
        # One made by an older version is readable by every user of the machine: take
        # that away (a group the operator gave it stays theirs).
        for held in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))):
            with contextlib.suppress(OSError):
                mode = held.stat().st_mode
                if mode & 0o007:
                    held.chmod(mode & 0o770)


def database_problem(exc: BaseException, url: str, connecting: bool = False) -> str | None:
    """One line for an operator when `exc` says the database cannot be used, else None
    (a bug, which keeps its traceback). Names the file or host, never a password.
    `connecting`: `exc` came from the first connection, where any OSError is the
    server's (refused, unknown host); later one may be a channel's."""
    if isinstance(exc, DatabaseUnavailable):
        return str(exc)
    where = _where(url)
    if is_busy(exc):
        return f"the database {where} is locked by another process; try again in a moment"
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, sqlite3.DatabaseError):
        message = str(orig)
        if "not a database" in message or "malformed" in message:
            return f"the database {where} is damaged or not a SQLite database"
        if "readonly" in message or "read-only" in message:
            return f"the database {where} is read-only"
        if "unable to open" in message or "disk I/O" in message:
            return f"cannot open the database {where} ({message})"
        return None
    if isinstance(exc, DBAPIError) and url.startswith("postgresql"):
        if getattr(orig, "sqlstate", None) or exc.connection_invalidated:
            first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
            return f"the database {where} refused: {first}"
        return None
    if connecting and isinstance(exc, OSError) and not url.startswith("sqlite"):
        reason = exc.strerror or str(exc) or type(exc).__name__
        return f"cannot connect to the database {where}: {reason}"
    return None


def _where(url: str) -> str:
    """The database in words an operator recognises: the file, or host:port/name."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return "(unreadable URL)"
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return f"at {parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def lost_connection(exc: BaseException) -> bool:
    """Whether `exc` is a database connection that was gone (a PostgreSQL restart, a
    terminated backend): nothing of the step was written, and it may run again."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def is_busy(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is another writer holding a lock too long:
    SQLite's "database is locked", PostgreSQL's lock and statement timeouts. Such a
    step is undone as a whole, and the same message a moment later goes through."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        orig = current.orig if isinstance(current, DBAPIError) else current
        if isinstance(orig, sqlite3.OperationalError) and "is locked" in str(orig):
            return True
        if getattr(orig, "sqlstate", None) in _PG_BUSY:
            return True
        current = current.__cause__ or current.__context__
    return False


def _alembic_config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revisions(versions: Path = MIGRATIONS_DIR / "versions") -> set[str]:
    """The migrations no other one builds on (what "head" means to Alembic)."""
    known, parents = _revision_graph(versions)
    return known - parents


def _revision_graph(versions: Path = MIGRATIONS_DIR / "versions") -> tuple[set[str], set[str]]:
    """Every migration, and those another builds on: read from the version files'
    `revision` and `down_revision` lines (a few ms; Alembic's script directory and its
    imports take half a second)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for file in versions.glob("*.py"):
        for node in ast.parse(file.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if not isinstance(target, ast.Name):
                continue
            if target.id == "revision":
                revisions.add(ast.literal_eval(value))
            elif target.id == "down_revision":
                down = ast.literal_eval(value)
                parents.update([down] if isinstance(down, str) else down or ())
    return revisions, parents


async def _stored_revisions(engine: AsyncEngine) -> set[str] | None:
    """The revisions the database says it is at; None before the first migration."""
    async with engine.connect() as conn:
        has_table = await conn.run_sync(
            lambda sync: sync.dialect.has_table(sync, "alembic_version")
        )
        if not has_table:
            return None
        rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        return {row[0] for row in rows}


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply every migration up to `revision` (idempotent; runs at every start).

    A database already at the head is only read, not handed to Alembic: that is
    nearly every start. A database that cannot be used raises DatabaseUnavailable."""
    url = engine.url.render_as_string(hide_password=True)
    try:
        stored = await _stored_revisions(engine)
        known, parents = _revision_graph()
        if revision == "head" and stored == known - parents:
            return
        if stored and not stored <= known:
            raise DatabaseUnavailable(
                f"the database {_where(url)} is at migration {', '.join(sorted(stored))}, "
                "which this version of Werkbank does not know (made by a newer one?)"
            )
        from alembic import command

        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: command.upgrade(_alembic_config(sync), revision))
    except Exception as exc:
        # Its connections closed: aiosqlite's threads would keep the process from ending.
        await engine.dispose()
        problem = database_problem(exc, url, connecting=True)
        if problem is None:
            raise
        raise DatabaseUnavailable(problem) from exc


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Undo migrations down to `revision` (for an operator going back a version)."""
    from alembic import command

    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(_alembic_config(sync), revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
