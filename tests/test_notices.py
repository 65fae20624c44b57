"""The outbox: reminders survive restarts, two processes never send one twice,
blocked members keep their seat, deleted ones free it, the minimum check asks."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.app import Werkbank
from bot.codes import NoticeKind, Role, WorkStatus
from bot.config import Settings
from bot.dialogs.my_events import HOLD
from bot.messages import AccountRef, Delivered
from bot.services.contracts import EventChange
from bot.services.notices import Notices
from bot.storage.models import Member, Notice
from tests.support.chat import ChatUser
from tests.support.factories import START, add_event, open_event
from tests.support.inbox import Inbox, dispatcher


async def signed_up(app: Werkbank, names: tuple[str, ...], capacity: int | None = None) -> int:
    from bot.codes import EventFormat

    event_id = await add_event(app, fmt=EventFormat.NETWORKING, capacity=capacity)
    for name in names:
        user = ChatUser(app.runner, name)
        await user.onboard("Bendorf")
        await open_event(user, event_id)
        await user.tap("Anmelden" if "Anmelden" in user.labels else "Warteliste")
    return event_id


async def test_a_restart_between_scheduling_and_due_time_sends_each_reminder_once(
    app: Werkbank, settings: Settings, clock: list[datetime]
) -> None:
    await signed_up(app, ("anna", "ben"))
    await app.close()  # the bot stops after the sign-ups …
    again = await Werkbank.open(settings, clock=lambda: clock[0])  # … and starts again
    try:
        inbox = Inbox()
        clock[0] = START - timedelta(hours=23)
        first = dispatcher(again, inbox, clock)
        assert await first.run_once() == 2
        await again.close()
        again = await Werkbank.open(settings, clock=lambda: clock[0])
        assert await dispatcher(again, inbox, clock).run_once() == 0
        assert sorted(name for name, _ in inbox.got) == ["anna", "ben"]
    finally:
        await again.close()
    app.db = again.db  # the fixture closes it once more: harmless


@pytest.mark.postgres
async def test_two_bot_processes_on_one_postgresql_never_send_the_same_notice(
    app: Werkbank, settings: Settings, clock: list[datetime]
) -> None:
    if app.db.dialect != "postgresql":
        pytest.skip("SKIP LOCKED is a PostgreSQL matter; SQLite has a single writer")
    names = tuple(f"m{i}" for i in range(30))
    await signed_up(app, names)
    other = await Werkbank.open(settings, clock=lambda: clock[0])  # a second process: own pool
    try:
        clock[0] = START - timedelta(hours=23)
        inbox = Inbox(delay=0.01)  # slow sends, so the two really overlap
        sent = await asyncio.gather(
            dispatcher(app, inbox, clock, "one", batch=3).run_once(),
            dispatcher(other, inbox, clock, "two", batch=3).run_once(),
        )
    finally:
        await other.close()
    assert sum(sent) == 30 and all(sent)  # both worked, and together sent each once
    assert sorted(name for name, _ in inbox.got) == sorted(names)


async def test_a_notice_claimed_by_a_process_that_died_is_taken_over_later(
    app: Werkbank, clock: list[datetime]
) -> None:
    await signed_up(app, ("anna",))
    clock[0] = START - timedelta(hours=23)
    notices = Notices(app.db)
    claimed = await notices.claim_due("dead", clock[0], {"console": None})
    assert len(claimed) == 1  # … and then the process died before sending
    inbox = Inbox()
    assert await dispatcher(app, inbox, clock).run_once() == 0  # still leased to "dead"
    clock[0] += timedelta(minutes=6)
    assert await dispatcher(app, inbox, clock).run_once() == 1


async def test_a_member_who_blocked_the_bot_keeps_the_seat_and_gets_no_reminder(
    app: Werkbank, clock: list[datetime]
) -> None:
    event_id = await signed_up(app, ("anna",))
    await app.conversations.mark_blocked("console", "anna")
    clock[0] = START - timedelta(hours=23)
    inbox = Inbox()
    assert await dispatcher(app, inbox, clock).run_once() == 0
    anna = await app.conversations.open(AccountRef("console", "anna"))
    mine = await app.services.registrations.for_event(anna.member.id, event_id)
    assert mine is not None and mine.status == "registered"


async def test_a_blocked_delivery_is_skipped_not_retried(
    app: Werkbank, clock: list[datetime]
) -> None:
    await signed_up(app, ("anna",))
    clock[0] = START - timedelta(hours=23)
    inbox = Inbox(answer=Delivered.BLOCKED)
    assert await dispatcher(app, inbox, clock).run_once() == 0
    async with app.db.sessions() as session:
        reminder = await session.scalar(
            select(Notice).where(Notice.kind == NoticeKind.REMINDER_DAY_BEFORE)
        )
    assert reminder is not None and reminder.status == WorkStatus.SKIPPED
    clock[0] += timedelta(minutes=30)
    inbox.answer = Delivered.SENT
    assert await dispatcher(app, inbox, clock).run_once() == 0
    assert len(inbox.got) == 1  # the one blocked attempt, never repeated


async def test_a_failed_send_is_tried_again_later(app: Werkbank, clock: list[datetime]) -> None:
    await signed_up(app, ("anna",))
    clock[0] = START - timedelta(hours=23)
    inbox = Inbox(answer=Delivered.FAILED)
    assert await dispatcher(app, inbox, clock).run_once() == 0
    inbox.answer = Delivered.SENT
    clock[0] += timedelta(minutes=3)
    assert await dispatcher(app, inbox, clock).run_once() == 1
    assert "Morgen" in inbox.got[-1][1]


async def test_a_deleted_account_frees_its_seat_for_the_waitlist(
    app: Werkbank, clock: list[datetime]
) -> None:
    event_id = await signed_up(app, ("anna", "ben"), capacity=1)
    anna = await app.conversations.open(AccountRef("console", "anna"))
    ben = await app.conversations.open(AccountRef("console", "ben"))
    moved = await app.services.registrations.forget_member(anna.member.id, clock[0])  # type: ignore[attr-defined]
    assert moved == (ben.member.id,)
    mine = await app.services.registrations.for_event(ben.member.id, event_id)
    assert mine is not None and mine.status == "registered"


async def test_too_few_sign_ups_by_the_set_time_ask_the_organiser_to_hold_or_cancel(
    app: Werkbank, clock: list[datetime]
) -> None:
    olga = ChatUser(app.runner, "olga")
    await olga.onboard("Bendorf")
    await app.members.set_role("console:olga", Role.ORGANISER)
    await olga.send("Menü")
    await olga.tap("Veranstaltung anlegen")
    await olga.tap("Transfer-Workshop")
    await olga.send("Holz trifft Laser")
    await olga.tap("Überspringen")
    await olga.tap("MakerSpace Mayen-Koblenz")
    await olga.send("Do 17-20 Uhr")
    await olga.tap("Ja")
    await olga.send("5 Plätze")
    await olga.send("3 Personen")
    await olga.send("Mi 12 Uhr")  # the minimum must be reached by Wednesday noon
    await olga.tap("Bis zum Beginn")
    await olga.tap("Veröffentlichen")
    await olga.send("Menü")

    inbox = Inbox()
    clock[0] = START - timedelta(hours=23)
    await dispatcher(app, inbox, clock).run_once()
    asked = [text for name, text in inbox.got if name == "olga"]
    assert asked and "bisher 0 Anmeldungen" in asked[0] and "mindestens 3" in asked[0]
    # The notice opened the decision: its button is an option on Olga's screen now.
    text = await olga.press(HOLD.payload)
    assert "findet wie geplant statt" in text
    async with app.db.sessions() as session:
        kinds = (await session.scalars(select(Notice.kind).where(Notice.member_id != 0))).all()
    assert NoticeKind.MINIMUM_CHECK in kinds


async def test_a_new_time_reaches_seat_and_waitlist_after_a_restart_with_the_old_time_and_ics(
    app: Werkbank, settings: Settings, clock: list[datetime]
) -> None:
    event_id = await signed_up(app, ("anna", "ben"), capacity=1)  # Ben waits for a seat
    ben = await app.conversations.open(AccountRef("console", "ben"))
    await app.services.members.set_locale(ben.member.id, "en")
    async with app.db.transaction() as session:
        admin = Member(display_name="Olga", role=Role.ADMIN, consents={})
        session.add(admin)
        await session.flush()
    later = EventChange(start_at=START + timedelta(minutes=30))
    await app.services.organiser.change(admin.id, event_id, later, clock[0])
    await app.close()  # the notice goes out after a restart: it kept the old time
    again = await Werkbank.open(settings, clock=lambda: clock[0])
    try:
        inbox = Inbox()
        assert await dispatcher(again, inbox, clock).run_once() == 2
    finally:
        await again.close()
    app.db = again.db

    assert "• Neue Zeit: Do., 26. Nov., 17:30–20:30 Uhr (vorher 17–20 Uhr)" in inbox.text("anna")
    english = inbox.text("ben").replace("\u2009", " ").replace("\u202f", " ")  # Babel's spaces
    assert "• New time: Thu, Nov 26, 5:30 – 8:30 PM (was 5 – 8 PM)" in english
    for name, reminder in (("anna", "Erinnerung"), ("ben", "Reminder")):
        [ics] = [m.attachment for m in inbox.messages(name) if m.attachment is not None]
        [vevent] = Calendar.from_ical(ics.data).walk("VEVENT")
        # The entry they have, moved: same UID, the next SEQUENCE, their language.
        assert str(vevent["UID"]) == "Holz trifft Laser@test"
        assert vevent.decoded("SEQUENCE") == 1
        assert vevent.decoded("DTSTART") == START + timedelta(minutes=30)
        [alarm] = vevent.walk("VALARM")
        assert str(alarm["DESCRIPTION"]) == f"{reminder}: Holz trifft Laser"


async def test_a_sign_up_shortly_before_the_start_gets_no_belated_reminder(
    app: Werkbank, clock: list[datetime]
) -> None:
    clock[0] = START - timedelta(hours=5)  # the day-before reminder's time has passed
    await signed_up(app, ("anna",))
    inbox = Inbox()
    assert await dispatcher(app, inbox, clock).run_once() == 0  # no "it's tomorrow" at once
    clock[0] = START - timedelta(hours=2)
    assert await dispatcher(app, inbox, clock).run_once() == 1
    [(_, text)] = inbox.got
    assert "beginnt in zwei Stunden" in text


async def test_a_day_before_reminder_sent_late_on_the_day_says_today(
    app: Werkbank, clock: list[datetime]
) -> None:
    await signed_up(app, ("anna",))
    clock[0] = START - timedelta(hours=6)  # the bot was down the day before
    inbox = Inbox()
    assert await dispatcher(app, inbox, clock).run_once() == 1
    [(_, text)] = inbox.got
    assert "Heute ist „" in text and "Morgen" not in text


async def test_the_claim_reads_only_the_notices_still_to_send(
    app: Werkbank, clock: list[datetime]
) -> None:
    """Done notices are kept: the claim must use the partial index over open ones, or
    every claim (and every idle tick) slows down as the table grows."""
    from sqlalchemy import event

    statements: list[tuple[str, object]] = []

    def capture(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
        statements.append((statement, params))

    event.listen(app.db.engine.sync_engine, "before_cursor_execute", capture)
    try:
        await app.notices.claim_due("w1", clock[0], {"console": None})
    finally:
        event.remove(app.db.engine.sync_engine, "before_cursor_execute", capture)
    plans = []
    async with app.db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            explain = "EXPLAIN QUERY PLAN "
        else:
            await conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table
            explain = "EXPLAIN "
        # Personal notices first, then announcements' rows: each by its partial index.
        claims = [(st, params) for st, params in statements if st.lstrip().startswith("WITH")]
        for claim, params in claims[:2]:
            rows = await conn.exec_driver_sql(explain + claim, params)
            plans.append(" ".join(str(row) for row in rows))
    assert "ix_notice_open_personal" in plans[0]
    assert "ix_notice_open_due" in plans[1]
