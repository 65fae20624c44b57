"""Storage on SQLite and PostgreSQL alike (every test runs on both)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import event, func, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from bot.app import Werkbank
from bot.codes import EventFormat, RegistrationStatus, Role
from bot.geo import GeoPoint
from bot.messages import AccountRef
from bot.services.contracts import PlaceFilter
from bot.services.members import UnknownAccount
from bot.storage.engine import _alembic_config, create_engine, current_revision, upgrade
from bot.storage.models import Base, ChannelAccount, Event, Member, Place, Registration, lat_band
from bot.storage.sqlite_inline import inline_connector
from tests.support.chat import ChatUser
from tests.support.clock import NOW


async def test_migrations_create_every_table_and_run_again_harmlessly(app: Werkbank) -> None:
    async with app.db.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert set(Base.metadata.tables) <= tables
    await upgrade(app.db.engine)
    heads = ScriptDirectory.from_config(_alembic_config(None)).get_heads()  # type: ignore[arg-type]
    assert [await current_revision(app.db.engine)] == heads


async def test_the_migrations_match_the_models(app: Werkbank) -> None:
    """A model changed without a migration would only fail on someone's live database."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def differences(sync: object) -> list[object]:
        context = MigrationContext.configure(sync, opts={"compare_type": True})  # type: ignore[arg-type]
        return compare_metadata(context, Base.metadata)

    async with app.db.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_times_come_back_aware_and_in_utc(app: Werkbank) -> None:
    start = datetime(2026, 11, 24, 17, 0, tzinfo=timezone(timedelta(hours=1)))
    async with app.db.transaction() as session:
        session.add(Event(uid="tz@test", title="t", format=EventFormat.OTHER, start_at=start))
    async with app.db.sessions() as session:
        stored = (
            await session.execute(select(Event.start_at).where(Event.uid == "tz@test"))
        ).scalar_one()
    assert stored == start and stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


async def test_one_registration_per_member_and_event(app: Werkbank) -> None:
    async with app.db.transaction() as session:
        member = Member(display_name="x", consents={})
        event = Event(uid="reg@test", title="t", format=EventFormat.TRANSFER, start_at=NOW)
        session.add_all([member, event])
        await session.flush()
        ids = (member.id, event.id)
    async with app.db.transaction() as session:
        session.add(
            Registration(member_id=ids[0], event_id=ids[1], status=RegistrationStatus.REGISTERED)
        )
    with pytest.raises(IntegrityError):
        async with app.db.transaction() as session:
            session.add(
                Registration(
                    member_id=ids[0], event_id=ids[1], status=RegistrationStatus.WAITLISTED
                )
            )


async def test_a_conversation_saved_in_the_old_organiser_flow_continues_after_the_update(
    app: Werkbank, user: ChatUser
) -> None:
    """Until Dec 2026 creating and managing events was one flow, "organiser"; a member
    who stood on one of its screens finds the same screen after the update."""
    await user.onboard("Bendorf")
    await app.members.set_role("console:anna", Role.ORGANISER)
    conv = await app.runner.conversations.open(user.account)
    history = [["menu", "main", {}], ["organiser", "format", {"draft": {}}]]
    data = {"draft": {"format": "networking"}, "_history": history}
    await app.runner.conversations.save(conv, "organiser", "title", data)
    assert "Wie heißt die Veranstaltung?" in await user.open_chat()
    assert "Was für eine Veranstaltung" in await user.send("Zurück")  # the old history too
    conv = await app.runner.conversations.open(user.account)
    await app.runner.conversations.save(conv, "organiser", "mine", {})
    assert "noch keine Veranstaltungen" in await user.open_chat()


async def test_a_redelivered_update_has_no_second_effect(app: Werkbank, user: ChatUser) -> None:
    await user.onboard("Bendorf")
    await user.tap("Einstellungen")
    await user.tap("Umkreis ändern")
    payload = user.button("50 km").payload
    first = await user.press(payload, update_id="4711")
    assert "Umkreis: 50 km" in first
    await user.tap("Umkreis ändern")
    assert await user.press(payload, update_id="4711") == ""  # the same update again: nothing
    assert "Wie weit" in await user.open_chat()  # still at the question it was at


async def test_the_first_message_from_two_workers_makes_one_member(app: Werkbank) -> None:
    ref = AccountRef("telegram", "777", chat_id="777")
    await asyncio.gather(*(app.conversations.open(ref) for _ in range(5)))
    async with app.db.sessions() as session:
        accounts = (
            await session.execute(
                select(func.count())
                .select_from(ChannelAccount)
                .where(ChannelAccount.external_id == "777")
            )
        ).scalar_one()
    assert accounts == 1


async def test_roles_are_granted_and_revoked_by_account(app: Werkbank, user: ChatUser) -> None:
    await user.onboard()
    assert (await app.members.set_role("console:anna", Role.ORGANISER)).is_organiser
    assert not (await app.members.set_role("console:anna", Role.MEMBER)).is_organiser
    with pytest.raises(UnknownAccount):
        await app.members.set_role("matrix:@nobody:example.org", Role.ORGANISER)


async def test_nearby_search_orders_by_distance_and_respects_the_radius(app: Werkbank) -> None:
    kempten = GeoPoint(47.7267, 10.3139)
    page = await app.services.places.find_nearby(kempten, 25, NOW, PlaceFilter(), limit=10)
    names = [hit.name for hit in page.hits]
    assert {"Makerspace Kempten", "Digitallabor 8743x", "Zukunftslabor"} <= set(names)
    assert all(hit.distance_km <= 25 for hit in page.hits)
    assert [h.distance_km for h in page.hits] == sorted(h.distance_km for h in page.hits)
    assert not page.has_more


async def test_nearby_search_sees_a_place_across_a_band_edge(app: Werkbank) -> None:
    # Two places 2 km apart on either side of a latitude band boundary.
    edge = (lat_band(51.0) + 1) * 0.1
    async with app.db.transaction() as session:
        for name, lat in (("Südlich", edge - 0.009), ("Nördlich", edge + 0.009)):
            session.add(Place(name=name, town="Test", lat=lat, lon=9.0, lat_band=lat_band(lat)))
    page = await app.services.places.find_nearby(GeoPoint(edge - 0.009, 9.0), 5, NOW, PlaceFilter())
    assert [h.name for h in page.hits] == ["Südlich", "Nördlich"]


async def test_equipment_filter_on_both_databases(app: Werkbank) -> None:
    bendorf = GeoPoint(50.43, 7.57)
    page = await app.services.places.find_nearby(
        bendorf, 50, NOW, PlaceFilter(equipment="laser_cutter")
    )
    assert [h.name for h in page.hits] == ["MakerSpace Mayen-Koblenz"]
    assert "laser_cutter" in await app.services.places.equipment_nearby(bendorf, 50)


async def test_nearby_search_agrees_with_brute_force_on_random_places(app: Werkbank) -> None:
    """The index, the early stop and the two-step radius must never change the answer."""
    import random

    from bot.geo import haversine_km
    from bot.services.places import is_open_at

    rng = random.Random(7)
    rules = [
        None,
        "Mo-Fr 10:00-18:00",
        "Tu,Th 16:00-21:00",
        "Sa 10:00-14:00",
        "24/7",
        "Mo-Su 14:00-16:00",
    ]
    places = []
    for i in range(1500):
        lat, lon = 51.0 + rng.gauss(0, 0.25), 7.5 + rng.gauss(0, 0.4)
        places.append(
            Place(
                name=f"P{i}",
                town="T",
                lat=lat,
                lon=lon,
                lat_band=lat_band(lat),
                opening_hours=rng.choice(rules),
            )
        )
    async with app.db.transaction() as session:
        session.add_all(places)
    async with app.db.sessions() as session:
        stored = (
            await session.execute(
                select(Place.id, Place.lat, Place.lon, Place.opening_hours, Place.status)
            )
        ).all()
    for _ in range(25):
        origin = GeoPoint(51.0 + rng.gauss(0, 0.3), 7.5 + rng.gauss(0, 0.5))
        for radius, open_now, offset in ((25, True, 0), (10, False, 5), (100, True, 10)):
            expected = sorted(
                (haversine_km(origin, GeoPoint(r.lat, r.lon)), r.id)
                for r in stored
                if r.status == "active"
                and haversine_km(origin, GeoPoint(r.lat, r.lon)) <= radius
                and (not open_now or is_open_at(r.opening_hours, NOW))
            )
            page = await app.services.places.find_nearby(
                origin, radius, NOW, PlaceFilter(open_now=open_now), offset=offset, limit=5
            )
            assert [h.id for h in page.hits] == [pid for _, pid in expected[offset : offset + 5]]
            assert page.has_more == (len(expected) > offset + 5)


async def test_a_dialog_step_uses_one_pooled_connection(app: Werkbank, user: ChatUser) -> None:
    """Reading the conversation, searching and saving share one checkout: each checkout
    costs a pool round and a reset (and a ping on PostgreSQL), more than a statement.
    SQLite, one step at a time per process, keeps its step connection between steps."""
    await user.onboard("Bendorf")
    checkouts: list[object] = []

    def count(*_: object) -> None:
        checkouts.append(None)

    event.listen(app.db.engine.sync_engine.pool, "checkout", count)
    try:
        reply = await user.tap("Offene Werkstätten in der Nähe")
    finally:
        event.remove(app.db.engine.sync_engine.pool, "checkout", count)
    assert "km" in reply  # the places near Bendorf, with their distances
    assert len(checkouts) == (0 if app.db.dialect == "sqlite" else 1)


async def test_a_step_that_fails_leaves_the_next_step_a_working_connection(
    app: Werkbank,
) -> None:
    """SQLite's kept step connection is dropped when a step fails; the next gets a new one."""
    with pytest.raises(RuntimeError):
        async with app.db.step():
            async with app.db.begin() as conn:
                await conn.execute(insert(Member).values(display_name="Halb"))
            raise RuntimeError("the step failed")
    async with app.db.step(), app.db.connection() as conn:
        names = (await conn.execute(select(Member.display_name))).scalars().all()
    assert "Halb" not in names  # rolled back, and the next step could read


async def test_a_failed_statement_in_a_step_does_not_spoil_the_next(app: Werkbank) -> None:
    """On PostgreSQL a failed statement aborts its transaction; the step's shared
    connection must be usable again by the statements after it."""
    members = select(func.count()).select_from(Member)
    async with app.db.connection() as conn:
        before = (await conn.execute(members)).scalar_one()
    async with app.db.step():
        with pytest.raises(IntegrityError):
            async with app.db.begin() as conn:
                await conn.execute(insert(Member).values(display_name="Anna"))
                await conn.execute(  # no such member: the foreign key refuses it
                    insert(ChannelAccount).values(channel="console", external_id="x", member_id=-1)
                )
        async with app.db.connection() as conn:
            assert (await conn.execute(members)).scalar_one() == before  # Anna rolled back
        async with app.db.begin() as conn:
            await conn.execute(insert(Member).values(display_name="Ben"))
    async with app.db.connection() as conn:
        assert (await conn.execute(members)).scalar_one() == before + 1


async def test_a_locked_sqlite_database_is_waited_for_while_the_bot_goes_on(
    tmp_path: Path,
) -> None:
    """Statements run on the event loop's thread; one that meets another process's write
    lock waits on a worker thread instead, so other chats are answered meanwhile."""
    path = tmp_path / "locked.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE note (text TEXT)")
    other = sqlite3.connect(path, isolation_level=None)  # e.g. `werkbank admin` writing
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def other_chats() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def release_later() -> None:
        await asyncio.sleep(0.3)
        other.execute("COMMIT")

    ticker = asyncio.create_task(other_chats())
    releaser = asyncio.create_task(release_later())
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("INSERT INTO note VALUES ('waited')")
        await releaser
        async with engine.connect() as conn:
            notes = (await conn.exec_driver_sql("SELECT text FROM note")).scalars().all()
    finally:
        ticker.cancel()
        other.close()
        await engine.dispose()
    assert notes == ["waited"]
    assert ticks >= 10  # the loop went on while the insert waited for the lock


async def test_a_lock_held_too_long_fails_after_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "stuck.db"
    connect = inline_connector(str(path), busy_timeout_s=0.2)
    first = await connect()
    await first.execute("CREATE TABLE note (text TEXT)")
    await first.commit()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await first.execute("INSERT INTO note VALUES ('never')")
    finally:
        other.close()
        await first.close()


async def test_check_in_answers_kept_as_a_document_move_into_their_columns(
    database_url: str,
) -> None:
    """Migration 0006: answers saved before the update are counted after it; two rows of
    one answer (made at once by two workers) become the newest; a document that cannot
    be read stops nothing; and the way down keeps the answers."""
    from sqlalchemy import text

    from bot.storage.engine import downgrade
    from bot.storage.models import Followup

    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0005")
        async with engine.begin() as conn:
            # Written as 0005 knew a member (today's model has columns added since).
            await conn.execute(
                text(
                    "INSERT INTO member (id, display_name, locale, radius_km, consents, role,"
                    " onboarded, remind_day_before, remind_two_hours, created_at) VALUES"
                    " (1, 'Anna', 'de', 25, '{}', 'member', false, true, true, CURRENT_TIMESTAMP)"
                )
            )
            for kind, answer in (
                ("next_day", '{"rating": "2"}'),  # the same answer twice: the newer counts
                ("next_day", '{"rating": "4", "takeaway": "Furnier", "contact": "yes"}'),
                ("weeks", "{kaputt"),
            ):
                await conn.execute(
                    text(
                        "INSERT INTO followup (member_id, event_id, kind, due_at, status, answer)"
                        " VALUES (1, NULL, :kind, CURRENT_TIMESTAMP, 'done', :answer)"
                    ),
                    {"kind": kind, "answer": answer},
                )
            await conn.execute(text("UPDATE followup SET rating = 4 WHERE answer LIKE '%Furnier%'"))
        await upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(Followup.__table__))).mappings().all()
        by_kind = {row["kind"]: row for row in rows}
        assert len(rows) == 2 and "answer" not in rows[0]
        row = by_kind["next_day"]
        assert (row["rating"], row["takeaway"], row["contact"], row["met"]) == (
            4,
            "Furnier",
            "yes",
            None,
        )
        await downgrade(engine, "0005")
        async with engine.connect() as conn:
            kept = await conn.scalar(text("SELECT answer FROM followup WHERE kind = 'next_day'"))
        assert json.loads(kept) == {"rating": "4", "takeaway": "Furnier", "contact": "yes"}
    finally:
        await engine.dispose()
