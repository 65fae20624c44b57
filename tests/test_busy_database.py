"""A database locked by another writer: a short wait, then a kind "one moment" answer.

The member's step is undone as a whole, so nothing is lost: the same message a moment
later goes through, and the dialog continues where it stood."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.app import Werkbank
from bot.dialogs.menu import busy_reply
from bot.i18n import translator
from bot.storage.engine import BUSY_TIMEOUT_S, is_busy
from tests.support.chat import ChatUser

BUSY = "Einen Moment, bitte."


@asynccontextmanager
async def another_writer(app: Werkbank) -> AsyncIterator[None]:
    """Another process's open write transaction on the same database."""
    url = app.settings.database_url
    if url.startswith("sqlite"):
        blocker = sqlite3.connect(url.split(":///", 1)[1], timeout=0, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # the write lock, held until the rollback
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        return
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        tx = conn.transaction()
        await tx.start()
        # Others may read, nobody may write: what a long migration or a forgotten psql
        # session holding locks does to a step.
        await conn.execute("LOCK TABLE dialog_state, member IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            await tx.rollback()
    finally:
        await conn.close()


async def test_a_locked_database_gets_one_moment_please_and_the_next_message_works(
    app: Werkbank,
) -> None:
    user = ChatUser(app.runner, "lena")
    first = await user.send("hallo")
    assert "Deutsch (du)" in first
    async with another_writer(app):
        started = time.monotonic()
        answer = await user.send("1")  # German, du: a write the lock holds up
        waited = time.monotonic() - started
    assert answer.startswith(BUSY), answer
    assert "etwas ist schiefgelaufen" not in answer.lower()
    assert waited < 2 * BUSY_TIMEOUT_S + 3, f"waited {waited:.1f} s"
    # Nothing half done: the language question is still open, and the answer now works.
    again = await user.send("1")
    assert "Bevor es losgeht" in again, again


def test_busy_is_recognised_on_sqlite_and_postgresql_and_nothing_else() -> None:
    locked = OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    assert is_busy(locked)

    class PgError(Exception):
        sqlstate = "55P03"  # lock_not_available: lock_timeout ran out

    assert is_busy(DBAPIError("UPDATE", {}, PgError("canceling statement due to lock timeout")))
    try:
        try:
            raise locked
        except OperationalError as exc:
            raise RuntimeError("the step failed") from exc
    except RuntimeError as wrapped:
        assert is_busy(wrapped)  # seen through what the runner may wrap it in
    broken = OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: member"))
    assert not is_busy(broken)
    assert not is_busy(ValueError("database is locked"))  # words alone are no lock


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("de", "Versuche es gleich noch einmal."),
        ("de@sie", "Versuchen Sie es gleich noch einmal."),
        ("en", "Try again shortly."),
    ],
)
def test_the_one_moment_answer_speaks_the_members_form(locale: str, words: str) -> None:
    assert busy_reply(translator(locale)).text.endswith(words)
