"""Members' rights on both databases: the privacy text at the start, "Meine Daten" as
two files, "Alles löschen" that leaves nothing of the person but keeps the counts, the
operator's export, delete and audit, and retention."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, inspect, select, text

from bot.app import Werkbank
from bot.codes import CHECKIN_KINDS, NoticeKind, RegistrationStatus, Role, WorkStatus
from bot.messages import AccountRef, OutMessage
from bot.services.contracts import NoticeView
from bot.services.members import UnknownAccount
from bot.storage.models import (
    AuditLog,
    ChannelAccount,
    Event,
    Followup,
    Member,
    Notice,
    Registration,
    Topic,
    TopicInterest,
)
from tests.support.chat import ChatUser
from tests.support.clock import NOW
from tests.support.factories import add_event, seat_with_someone_waiting
from tests.support.inbox import Inbox, dispatcher

SECRET_WISH = "Ich will Lasern lernen, Zauberwort Quittenbaum"
SECRET_LINE = "Mein Geheimnis ist der Ahornsirup"
NAME = "Erika Mustermann"


async def member_id_of(app: Werkbank, user: ChatUser) -> int:
    async with app.db.sessions() as session:
        found = await session.scalar(
            select(ChannelAccount.member_id).where(
                ChannelAccount.external_id == user.account.external_id
            )
        )
    assert found is not None
    return int(found)


async def history(app: Werkbank, erika: ChatUser) -> dict[str, int]:
    """Erika onboarded at Iserlohn, with a past workshop she attended and answered
    after, a seat at a coming one with someone waiting, a topic of her own and one
    she supports. Returns the ids."""
    await erika.onboard("Iserlohn")
    me = await member_id_of(app, erika)
    async with app.db.transaction() as session:
        # Her own street, not the town's centre (where a demo place stands).
        member = await session.get(Member, me)
        assert member is not None
        member.home_lat, member.home_lon = 51.39123, 7.66417
    past = await add_event(
        app, "Vergangen", start=NOW - timedelta(days=20), organiser="Olga Organisatorin"
    )
    earlier = await add_event(app, "Früher", start=NOW - timedelta(days=60))
    coming = await add_event(app, "Bald", capacity=1, start=NOW + timedelta(days=5))
    waiting = await seat_with_someone_waiting(app, me, coming, SECRET_WISH)
    async with app.db.sessions() as session:
        olga = await session.scalar(select(Event.organiser_id).where(Event.id == past))
    assert olga is not None
    async with app.db.transaction() as session:
        session.add_all(
            [
                Registration(
                    event_id=past,
                    member_id=me,
                    status=RegistrationStatus.ATTENDED,
                    expectation=SECRET_WISH,
                ),
                Registration(
                    event_id=earlier,
                    member_id=me,
                    status=RegistrationStatus.ATTENDED,
                    expectation=SECRET_WISH,
                ),
                Followup(
                    member_id=me,
                    event_id=past,
                    kind="next_day",
                    due_at=NOW - timedelta(days=19),
                    status=WorkStatus.DONE,
                    rating=5,
                    takeaway=SECRET_LINE,
                    help=SECRET_LINE,
                ),
                # Her call for help as the organiser got it (`checkins._reach_organiser`).
                Notice(
                    member_id=olga,
                    kind=NoticeKind.CHECKIN_REQUEST,
                    event_id=past,
                    params={"member": me, "what": "help", "text": SECRET_LINE},
                    dedupe=f"checkin_request:{past}:{me}:help",
                    due_at=NOW - timedelta(days=19),
                ),
                Notice(
                    member_id=me,
                    kind=CHECKIN_KINDS[0],
                    event_id=past,
                    due_at=NOW - timedelta(days=19),
                    status=WorkStatus.DONE,
                ),
            ]
        )
        own = Topic(title="Nur meins", description=SECRET_LINE, proposer_id=me, lat=51.3, lon=7.7)
        shared = Topic(title="Geteilt", proposer_id=me, lat=51.3751, lon=7.6952)
        session.add_all([own, shared])
        await session.flush()
        session.add_all(
            [
                TopicInterest(topic_id=shared.id, member_id=waiting),
                TopicInterest(topic_id=own.id, member_id=me, expectation=SECRET_WISH),
            ]
        )
        await session.flush()
        return {
            "me": me,
            "past": past,
            "coming": coming,
            "waiting": waiting,
            "shared": shared.id,
            "own": own.id,
        }


async def everything_stored(app: Werkbank) -> str:
    """Every row of every table, as text: what "no table holds" is checked against."""
    dump: list[str] = []
    async with app.db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        for table in tables:
            if table == "alembic_version":
                continue
            rows = (await conn.execute(text(f"SELECT * FROM {table}"))).mappings().all()
            dump += [f"{table}: {dict(row)}" for row in rows]
    return "\n".join(dump)


async def test_the_privacy_text_comes_before_anything_but_the_language(
    app: Werkbank, user: ChatUser
) -> None:
    await user.send("/start")
    text = await user.tap("Deutsch (du)")
    assert "Bevor es losgeht, kurz zu deinen Daten" in text
    assert "Niemand sieht, wo du wohnst" in text
    assert user.labels[:2] == ["Einverstanden", "Nicht einverstanden"]
    async with app.db.sessions() as session:
        member = await session.scalar(select(Member))
    assert member is not None and member.display_name == "" and member.home_lat is None
    text = await user.tap("Einverstanden")
    assert "Wo bist du?" in text
    async with app.db.sessions() as session:
        member = await session.scalar(select(Member))
        trail = (await session.scalars(select(AuditLog.action))).all()
    assert member is not None
    assert member.consents["privacy"]["version"] == 1
    assert member.display_name == user.account.display_name
    assert "consent" in trail


async def test_no_to_the_privacy_text_keeps_nothing_and_the_next_message_starts_anew(
    app: Werkbank, user: ChatUser
) -> None:
    await user.send("/start")
    await user.tap("Deutsch (Sie)")
    text = await user.tap("Nicht einverstanden")
    assert "Ich habe gelöscht, was ich von Ihnen wusste" in text
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count(Member.id))) == 0
        assert await session.scalar(select(func.count(ChannelAccount.id))) == 0
    text = await user.send("Hallo")
    assert "Welcome to Werkbank" in text or "Willkommen" in text


async def test_members_from_before_the_privacy_text_are_asked_once_then_go_on(
    app: Werkbank, user: ChatUser
) -> None:
    await user.onboard()
    async with app.db.transaction() as session:
        member = await session.scalar(select(Member))
        assert member is not None
        member.consents = {}
    text = await user.send("Veranstaltungen")
    assert "Bevor es losgeht" in text
    text = await user.tap("Einverstanden")
    assert "Danke!" in text and "Was möchtest du tun?" in text
    assert "Veranstaltungen" in await user.send("Veranstaltungen")


async def test_my_data_sends_everything_as_json_and_text(app: Werkbank, user: ChatUser) -> None:
    ids = await history(app, user)
    for typed in ("meine daten", "was weißt du über mich"):
        assert "zwei Dateien" in await user.send(typed)
    await user.tap("Meine Daten schicken")
    files = [m.attachment for m in user.last if m.attachment is not None]
    assert [f.filename.rsplit(".", 1)[1] for f in files] == ["txt", "json"]
    data = json.loads(files[1].data)
    assert data["member"]["home"]["label"] == "Iserlohn"
    assert [r["event"] for r in data["registrations"]] == ["Früher", "Vergangen", "Bald"]
    assert data["registrations"][0]["expectation"] == SECRET_WISH
    assert data["checkin_answers"][0]["takeaway"] == SECRET_LINE
    assert {t["title"] for t in data["topics_proposed"]} == {"Nur meins", "Geteilt"}
    assert data["topic_supports"][0]["expectation"] == SECRET_WISH
    assert data["consents"]["privacy"]["version"] == 1
    assert data["accounts"][0]["id"] == user.account.external_id
    readable = files[0].data.decode()
    assert "Über dich" in readable and SECRET_WISH in readable and "Vergangen" in readable
    # Field names in words, not the JSON's keys.
    assert f"Wunsch: {SECRET_WISH}" in readable and "expectation" not in readable
    async with app.db.sessions() as session:
        exports = await session.scalar(
            select(func.count(AuditLog.id)).where(
                AuditLog.action == "export", AuditLog.actor_member_id == ids["me"]
            )
        )
    assert exports == 1


async def test_deleting_everything_leaves_no_trace_and_keeps_the_counts(
    app: Werkbank, clock: list[Any]
) -> None:
    erika = ChatUser(app.runner, "erika", display_name=NAME)
    ids = await history(app, erika)
    impact_before = await app.services.checkins.report()
    async with app.db.sessions() as session:
        past_signups = await session.scalar(
            select(func.count(Registration.id)).where(Registration.event_id == ids["past"])
        )
        home = await session.get(Member, ids["me"])
        assert home is not None and home.home_lat is not None
        place = (repr(home.home_lat), repr(home.home_lon))
    text = await erika.send("alles löschen")
    assert "Wirklich alles löschen?" in text
    assert "Deine Anmeldungen: 1. Ich sage sie ab" in text
    text = await erika.tap("Ja, alles löschen")
    assert "Ich habe alles über dich gelöscht" in text

    stored = await everything_stored(app)
    for trace in (NAME, SECRET_WISH, SECRET_LINE, "51.3751", "7.6952", *place):
        assert trace not in stored, trace
    async with app.db.sessions() as session:
        for model, column in (
            (Member, Member.id),
            (ChannelAccount, ChannelAccount.member_id),
            (Registration, Registration.member_id),
            (Followup, Followup.member_id),
            (Notice, Notice.member_id),
            (TopicInterest, TopicInterest.member_id),
            (Topic, Topic.proposer_id),
            (AuditLog, AuditLog.actor_member_id),
        ):
            held = await session.scalar(select(func.count()).where(column == ids["me"]))
            assert held == 0, model.__tablename__
        # The coming seat went to the one waiting; the past sign-up is still counted.
        moved_up = await session.scalar(
            select(Registration.status).where(Registration.member_id == ids["waiting"])
        )
        assert moved_up == RegistrationStatus.REGISTERED
        assert past_signups == await session.scalar(
            select(func.count(Registration.id)).where(Registration.event_id == ids["past"])
        )
        # The topic others support stays, without author and with a coarse place.
        shared = await session.get(Topic, ids["shared"])
        assert shared is not None and shared.proposer_id is None
        assert await session.get(Topic, ids["own"]) is None
        assert await session.scalar(select(AuditLog.action).where(AuditLog.action == "erase"))
    impact_after = await app.services.checkins.report()
    for before, after in zip(impact_before.checkins, impact_after.checkins, strict=True):
        assert (before.invited, before.answered, before.counts, before.line_count) == (
            after.invited,
            after.answered,
            after.counts,
            after.line_count,
        )
    assert impact_after.events == impact_before.events
    assert not any(SECRET_LINE in str(line) for f in impact_after.checkins for line in f.lines)

    # Greeted as new: the language question, no menu.
    text = await erika.send("Hallo")
    assert "Welche Sprache" in text or "Which language" in text


async def test_deleting_twice_or_after_the_data_is_gone_says_so_kindly(
    app: Werkbank, user: ChatUser
) -> None:
    await user.onboard()
    await user.send("alles löschen")
    stale = user.buttons  # the same confirm screen, tapped again after the deletion
    await user.tap("Ja, alles löschen")
    again = await user.press(stale[0].payload)
    assert "Welcome to Werkbank" in again or "Willkommen" in again  # a new start, no error
    assert await app.privacy.erase(10**6, NOW) == type(await app.privacy.erase(10**6, NOW))(
        found=False
    )


async def test_an_organisers_coming_events_go_to_the_operator(app: Werkbank) -> None:
    olga = ChatUser(app.runner, "olga")
    await olga.onboard()
    me = await member_id_of(app, olga)
    async with app.db.transaction() as session:
        member = await session.get(Member, me)
        assert member is not None
        member.role = Role.ORGANISER
    event = await add_event(app, "Olgas Kurs", start=NOW + timedelta(days=3))
    async with app.db.transaction() as session:
        found = await session.get(Event, event)
        assert found is not None
        found.organiser_id = me
    async with app.db.transaction() as session:
        muting = Member(display_name="Mia", consents={"muted_organisers": [me, 10**6]})
        session.add(muting)
        await session.flush()
        mia = muting.id
    text = await olga.send("alles löschen")
    assert "Deine Veranstaltungen: 1. Sie gehen an den Betreiber von Werkbank" in text
    text = await olga.tap("Ja, alles löschen")
    assert "gehören jetzt dem Betreiber" in text
    async with app.db.sessions() as session:
        kept = await session.get(Member, mia)
    assert kept is not None and kept.consents["muted_organisers"] == [10**6]


async def test_a_former_organiser_is_erased_though_they_may_no_longer_cancel(
    app: Werkbank, user: ChatUser
) -> None:
    """With WERKBANK_ERASED_EVENTS=cancelled, events of someone whose role was taken
    away go to the operator (who may cancel them) instead of failing the erasure."""
    await user.onboard()
    me = await member_id_of(app, user)
    event = await add_event(app, "Alter Kurs", start=NOW + timedelta(days=3))
    async with app.db.transaction() as session:
        found = await session.get(Event, event)
        assert found is not None
        found.organiser_id = me
    app.privacy.events_go_to = "cancelled"
    done = await app.privacy.erase(me, NOW)
    assert done.found and done.events == 1
    async with app.db.sessions() as session:
        found = await session.get(Event, event)
        assert found is not None and found.organiser_id is None


async def test_the_operator_exports_deletes_and_reads_the_audit_trail(
    app: Werkbank, user: ChatUser
) -> None:
    await user.onboard()
    account = f"console:{user.account.external_id}"
    data = await app.privacy.export_account(account, NOW)
    assert data["accounts"][0]["id"] == user.account.external_id
    done = await app.privacy.erase_account(account, NOW)
    assert done.found
    try:
        await app.privacy.erase_account(account, NOW)
    except UnknownAccount as exc:
        assert "console:" in str(exc)
    else:
        raise AssertionError("deleting an unknown account must say so")
    actions = [entry.action for entry in await app.privacy.audit_trail()]
    assert actions.count("export") == 1 and actions.count("erase") == 1
    assert not await app.privacy.audit_trail(datetime.now(UTC) + timedelta(days=1))


async def test_retention_warns_once_then_deletes_unless_they_write(
    app: Werkbank, clock: list[Any]
) -> None:
    quiet, back = ChatUser(app.runner, "quiet"), ChatUser(app.runner, "back")
    await quiet.onboard()
    await back.onboard()
    later = NOW + timedelta(days=800)
    rules = {"inactive": timedelta(days=730), "grace": timedelta(days=30)}
    first = await app.privacy.retention(later, answers_kept=timedelta(days=365), **rules)
    assert len(first.warned) == 2 and first.erased == 0
    async with app.db.sessions() as session:
        told = await session.scalar(
            select(func.count(Notice.id)).where(Notice.kind == NoticeKind.RETENTION_WARNING)
        )
    assert told == 2
    again = await app.privacy.retention(later, answers_kept=timedelta(days=365), **rules)
    assert again.warned == () and again.erased == 0  # told once
    clock[0] = later + timedelta(days=10)
    await back.send("Menü")  # answering keeps the data
    gone = await app.privacy.retention(
        later + timedelta(days=31), answers_kept=timedelta(days=365), **rules
    )
    assert gone.erased == 1
    async with app.db.sessions() as session:
        left = (await session.scalars(select(ChannelAccount.external_id))).all()
    assert left == ["back"]


async def test_a_deletion_while_a_notice_is_on_its_way_sends_nothing_and_creates_no_one(
    app: Werkbank, clock: list[Any]
) -> None:
    """The dispatcher claimed a notice; the member deletes everything before it is shown."""
    gone, stays = ChatUser(app.runner, "gone"), ChatUser(app.runner, "stays")
    await gone.onboard()
    await stays.onboard()
    later = NOW + timedelta(days=800)
    rules = {"inactive": timedelta(days=730), "grace": timedelta(days=30)}
    await app.privacy.retention(later, answers_kept=timedelta(days=365), **rules)
    clock[0] = later
    me = await member_id_of(app, gone)
    render = app.runner.notice

    async def deleted_first(account: AccountRef, notice: NoticeView) -> list[OutMessage]:
        if account.external_id == "gone":
            await app.privacy.erase(me, later)
        return await render(account, notice)

    inbox = Inbox()
    run = dispatcher(app, inbox, clock)
    run.render = deleted_first
    await run.run_once()
    assert [name for name, _ in inbox.got] == ["stays"]
    assert "In 30 Tagen lösche ich, was ich über dich weiß" in inbox.text("stays")
    async with app.db.sessions() as session:
        names = (await session.scalars(select(ChannelAccount.external_id))).all()
    assert names == ["stays"]  # nobody was recreated for the notice


async def test_two_deletions_at_once_delete_once_and_neither_fails(app: Werkbank) -> None:
    """ "Alles löschen" from two chats (or two workers) at the same moment."""
    user = ChatUser(app.runner, "twice")
    await user.onboard()
    me = await member_id_of(app, user)
    first, second = await asyncio.gather(app.privacy.erase(me, NOW), app.privacy.erase(me, NOW))
    assert sorted([first.found, second.found]) == [False, True]
    async with app.db.sessions() as session:
        assert await session.get(Member, me) is None
        erasures = await session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "erase")
        )
    assert erasures == 1


async def forget_consent(app: Werkbank) -> None:
    """As if the member had come before the privacy text (or an older version of it)."""
    async with app.db.transaction() as session:
        for member in (await session.scalars(select(Member))).all():
            member.consents = {}


async def test_a_member_from_before_who_declines_is_asked_before_anything_is_deleted(
    app: Werkbank, user: ChatUser
) -> None:
    await user.onboard()
    await forget_consent(app)
    assert "Bevor es losgeht" in await user.send("Menü")
    text = await user.tap("Nicht einverstanden")
    assert "Wirklich alles löschen?" in text
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count(Member.id))) == 1
    text = await user.tap("Nein, Daten behalten")
    assert "Gut, nichts wurde gelöscht" in text and "Bevor es losgeht" in text
    await user.tap("Nicht einverstanden")
    text = await user.send("Menü")  # the question first; the menu only after agreeing
    assert "Bitte tippe zuerst auf „Einverstanden“" in text and "Bevor es losgeht" in text
    await user.tap("Nicht einverstanden")
    text = await user.tap("Ja, alles löschen")
    assert "Ich habe alles über dich gelöscht" in text
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count(Member.id))) == 0


async def test_nothing_leaves_the_privacy_text_but_its_answers(
    app: Werkbank, user: ChatUser
) -> None:
    event = await add_event(app, "Bald", start=NOW + timedelta(days=5))
    await user.send("/start")
    await user.tap("Deutsch (du)")
    for typed in ("Menü", "/einstellungen", "meine daten", "Ort ändern", "Zurück", "7"):
        text = await user.send(typed)
        assert "Bitte tippe zuerst auf „Einverstanden“" in text, typed
        assert "Bevor es losgeht" in text and user.labels[:2] == [
            "Einverstanden",
            "Nicht einverstanden",
        ]
    text = await user.share_location(51.3751, 7.6952)
    assert "Bitte tippe zuerst" in text and "Bevor es losgeht" in text
    text = await user.send(f"/start ev_{event}")  # a poster's link: kept for later
    assert "Bitte tippe zuerst" in text and "Bevor es losgeht" in text
    async with app.db.sessions() as session:
        member = await session.scalar(select(Member))
    assert member is not None and member.home_lat is None and member.display_name == ""
    assert "Wo bist du?" in await user.send("1")  # the number of "Einverstanden"
    text = await user.send("Iserlohn")
    assert "Bald" in text  # the link, right after the short onboarding


async def test_members_caught_mid_onboarding_agree_before_they_store_a_place(
    app: Werkbank, user: ChatUser
) -> None:
    await user.send("/start")
    await user.tap("Deutsch (Sie)")
    await user.agree()
    await forget_consent(app)  # a new version of the privacy text came meanwhile
    text = await user.send("Iserlohn")
    assert "Bevor es losgeht" in text
    async with app.db.sessions() as session:
        member = await session.scalar(select(Member))
    assert member is not None and member.home_lat is None
    text = await user.send("/einstellungen")
    assert "Bitte tippen Sie zuerst auf „Einverstanden“" in text
    assert "Wo sind Sie?" in await user.agree()
    await user.send("Iserlohn")
    text = await user.tap("Handwerk")
    async with app.db.sessions() as session:
        member = await session.scalar(select(Member))
    assert member is not None and member.home_lat is not None and member.onboarded


async def test_members_asked_again_after_their_place_are_not_asked_for_it_twice(
    app: Werkbank, user: ChatUser
) -> None:
    await user.send("/start")
    await user.tap("Deutsch (du)")
    await user.agree()
    await user.send("Iserlohn")  # now at the interests question
    await forget_consent(app)  # a new version of the privacy text came meanwhile
    assert "Bevor es losgeht" in await user.tap("Handwerk")
    text = await user.agree()
    assert "Was interessiert dich" in text and "Wo bist du?" not in text


async def test_a_notice_that_opens_a_screen_does_not_count_as_the_member_writing(
    app: Werkbank, clock: list[Any]
) -> None:
    quiet = ChatUser(app.runner, "quiet")
    await quiet.onboard()
    me = await member_id_of(app, quiet)
    event = await add_event(app, "Bald", start=NOW + timedelta(days=801))
    async with app.db.transaction() as session:
        signup = Registration(event_id=event, member_id=me, status=RegistrationStatus.REGISTERED)
        session.add(signup)
        await session.flush()
        signup_id = signup.id
    later = NOW + timedelta(days=800)
    rules = {"inactive": timedelta(days=730), "grace": timedelta(days=30)}
    first = await app.privacy.retention(later, answers_kept=timedelta(days=365), **rules)
    assert len(first.warned) == 1
    clock[0] = later + timedelta(days=10)
    reminder = NoticeView(
        id=0,
        kind=NoticeKind.REMINDER_DAY_BEFORE,
        member_id=me,
        event_id=event,
        registration_id=signup_id,
        title="Bald",
        start_at=NOW + timedelta(days=801),
        end_at=None,
        place_name=None,
        town="Iserlohn",
    )
    said = await app.runner.notice(quiet.account, reminder)
    assert "Erinnerung" in "\n".join(m.text for m in said)
    async with app.db.sessions() as session:
        flow = await session.scalar(text("SELECT flow FROM dialog_state"))
    assert flow == "registrations"  # the reminder opened the sign-up's screen
    gone = await app.privacy.retention(
        later + timedelta(days=31), answers_kept=timedelta(days=365), **rules
    )
    assert gone.erased == 1
