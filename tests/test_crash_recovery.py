"""A step cut off between any two of its writes leaves nothing behind, and the update,
delivered again, has its effect once (SQLite and PostgreSQL).

The crash is an exception that is not an `Exception` (as a killed process is not), raised
before the n-th write statement of the step, for n = 1, 2, … until the step gets through:
so every write point of signing up, publishing and cancelling is tried."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Werkbank
from bot.config import Settings
from bot.storage.engine import create_engine
from bot.storage.models import Base, DialogState, Event, Registration
from tests.support.chat import ChatUser
from tests.test_organiser_dialog import (
    create_transfer_workshop,
    draft_transfer_workshop,
    latest_event,
    organiser,
)

WRITES = ("INSERT", "UPDATE", "DELETE")


class Crash(BaseException):
    """The process dies here: nothing may catch it and carry on."""


@contextmanager
def crash_before_write(engine: AsyncEngine, n: int) -> Iterator[None]:
    seen = 0

    def before(*args: Any) -> None:
        nonlocal seen
        statement: str = args[2]
        if statement.lstrip().upper().startswith(WRITES):
            seen += 1
            if seen == n:
                raise Crash(f"before write {n}: {statement[:60]}")

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


async def fingerprint(app: Werkbank) -> tuple[Any, ...]:
    """Every table's row count, and where every conversation stands."""
    async with app.db.engine.connect() as conn:
        counts = [
            (name, await conn.scalar(select(func.count()).select_from(table)))
            for name, table in sorted(Base.metadata.tables.items())
        ]
        states = (
            await conn.execute(
                select(DialogState.account_id, DialogState.flow, DialogState.state).order_by(
                    DialogState.account_id
                )
            )
        ).all()
    return tuple(counts), tuple(states)


async def press_through_crashes(app: Werkbank, user: ChatUser, payload: str) -> tuple[int, str]:
    """Press a button as one update, crashing before each of its writes in turn; then
    deliver it again. Returns how many writes the step makes and what it answered."""
    before = await fingerprint(app)
    for n in itertools.count(1):
        try:
            with crash_before_write(app.db.engine, n):
                answer = await user.press(payload, update_id="the-update")
        except Crash:
            assert await fingerprint(app) == before, f"a crash before write {n} left a trace"
            continue
        assert await user.press(payload, update_id="the-update") == ""  # redelivered: once
        return n - 1, answer
    raise AssertionError("unreachable")


async def count(app: Werkbank, column: Any, *where: Any) -> int:
    async with app.db.engine.connect() as conn:
        return int(await conn.scalar(select(func.count(column)).where(*where)) or 0)


async def anna_at_the_workshop(app: Werkbank) -> tuple[ChatUser, ChatUser, int]:
    """Olga publishes "Holz trifft Laser"; Anna, new, opens it and taps "Anmelden" (the
    question of what she expects comes next). Olga, Anna and the event's id."""
    olga = await organiser(app)
    await create_transfer_workshop(olga)
    event_id = await latest_event(app)
    anna = ChatUser(app.runner, "anna")
    await anna.onboard("Bendorf")
    await anna.send(f"/start ev_{event_id}")
    await anna.tap("Anmelden")
    return olga, anna, event_id


async def test_signing_up_cut_off_anywhere_signs_up_once(app: Werkbank) -> None:
    _, anna, event_id = await anna_at_the_workshop(app)
    # The seat is taken with the answer to what she expects (here: skipped).
    writes, answer = await press_through_crashes(app, anna, anna.button("Überspringen").payload)
    assert writes >= 3  # the update's claim, the registration, the state (and more)
    assert "angemeldet" in answer
    assert await count(app, Registration.id, Registration.event_id == event_id) == 1


async def test_publishing_cut_off_anywhere_publishes_once(app: Werkbank) -> None:
    olga = await organiser(app)
    before = await count(app, Event.id)
    await draft_transfer_workshop(olga)  # then "Veröffentlichen" through every crash
    writes, answer = await press_through_crashes(app, olga, olga.button("Veröffentlichen").payload)
    assert writes >= 3
    assert "Veröffentlicht!" in answer
    assert await count(app, Event.id) == before + 1


async def test_cancelling_an_event_cut_off_anywhere_cancels_it_once(app: Werkbank) -> None:
    olga, anna, event_id = await anna_at_the_workshop(app)
    await anna.tap("Überspringen")
    await olga.send("Menü")
    await olga.tap("Meine Veranstaltungen")
    await olga.tap("Holz trifft Laser")
    await olga.tap("Absagen")
    await olga.send("Die Referentin ist krank.")
    writes, answer = await press_through_crashes(app, olga, olga.button("Ja, absagen").payload)
    assert writes >= 3 and "abgesagt" in answer.lower()
    async with app.db.sessions() as session:
        cancelled = await session.get(Event, event_id)
        assert cancelled is not None and str(cancelled.status) == "cancelled"
    async with app.db.engine.connect() as conn:
        told = await conn.scalar(
            text("SELECT count(*) FROM notice WHERE event_id = :e AND kind = 'event_cancelled'"),
            {"e": event_id},
        )
    assert told == 1  # anna is told once


async def test_cancelling_a_sign_up_cut_off_anywhere_cancels_it_once(app: Werkbank) -> None:
    _, anna, event_id = await anna_at_the_workshop(app)
    await anna.tap("Überspringen")
    await anna.send("Menü")
    await anna.tap("Meine Anmeldungen")
    await anna.tap("Holz trifft Laser")
    await anna.tap("Abmelden")
    confirm = next(label for label in anna.labels if label.startswith("Ja"))
    writes, answer = await press_through_crashes(app, anna, anna.button(confirm).payload)
    assert writes >= 2 and "abgemeldet" in answer.lower()
    async with app.db.engine.connect() as conn:
        statuses = (
            (
                await conn.execute(
                    select(Registration.status).where(Registration.event_id == event_id)
                )
            )
            .scalars()
            .all()
        )
    assert [str(s) for s in statuses] == ["cancelled"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_double_tap_on_publish_on_two_workers_publishes_once(
    app: Werkbank, settings: Settings, clock: list[datetime]
) -> None:
    """Two workers on one PostgreSQL database get the two taps at the same moment: one
    event; one tap publishes, the other is answered as a button no longer current."""
    second = await Werkbank.open(settings, clock=lambda: clock[0])
    try:
        olga = await organiser(app)
        before = await count(app, Event.id)
        await draft_transfer_workshop(olga)
        publish = olga.button("Veröffentlichen").payload
        on_second = ChatUser(second.runner, "olga")
        answers = await asyncio.gather(
            olga.press(publish, update_id="tap-1"), on_second.press(publish, update_id="tap-2")
        )
        assert await count(app, Event.id) == before + 1
        assert sum("Veröffentlicht!" in a for a in answers) == 1, answers
        assert sum("nicht mehr aktuell" in a for a in answers) == 1, answers
    finally:
        await second.close()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_connections_postgresql_dropped_are_replaced_without_bothering_the_member(
    app: Werkbank, user: ChatUser, caplog: pytest.LogCaptureFixture
) -> None:
    """The pool does not ping before each step (a round trip): a connection PostgreSQL
    dropped (a restart) fails the step's first statement, and the step runs again."""
    await user.onboard("Bendorf")
    async with app.db.engine.connect() as conn:  # fill the pool with a used connection
        await conn.execute(text("SELECT 1"))
    admin = create_engine(app.settings.database_url)
    try:
        async with admin.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await admin.dispose()
    text_ = await user.tap("Offene Werkstätten")
    assert "MakerSpace Mayen-Koblenz" in text_ and "Entschuldigung" not in text_
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
