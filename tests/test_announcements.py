"""Announcements (issue 14) on SQLite and PostgreSQL: the organiser's dialog with its
preview and count, the outbox rows, each person once, consent and the caps, the way
out with its undo, quiet hours, pausing and cancelling, blocked and failing members."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Werkbank
from bot.cli import main
from bot.codes import Audience, EventPeople, NoticeKind, WorkStatus
from bot.geo import default_gazetteer
from bot.messages import Delivered
from bot.services.contracts import (
    NOBODY,
    WEEK_CAP,
    AnnouncementDraft,
    AnnouncementRefused,
    AudienceChoice,
    NotAllowed,
)
from bot.services.demo import load_demo_data
from bot.storage.models import Broadcast, Notice
from tests.support.attendees import organised_by, organiser, signed_up
from tests.support.chat import ChatUser
from tests.support.clock import BERLIN, NOW
from tests.support.inbox import Inbox, dispatcher

TEXT = "Am Samstag ist die Werkstatt offen: bringt eure Ideen mit!"


async def _rows(app: Werkbank, broadcast_id: int | None = None) -> list[Notice]:
    async with app.db.sessions() as session:
        query = select(Notice).where(Notice.kind == NoticeKind.ANNOUNCEMENT)
        if broadcast_id is not None:
            query = query.where(Notice.broadcast_id == broadcast_id)
        return list((await session.scalars(query.order_by(Notice.id))).all())


async def _announce_to_event(olga: ChatUser, text: str = TEXT) -> str:
    """Olga, at the menu, writes to everyone of her one event; returns the preview."""
    await olga.send("Menü")
    await olga.tap("Ankündigung senden")
    await olga.tap("Menschen einer meiner Veranstaltungen")
    await olga.tap("Werkstatttag")
    await olga.tap("Beide")
    return await olga.send(text)


async def _member_id(app: Werkbank, user: ChatUser) -> int:
    return (await app.runner.conversations.open(user.account)).member.id


async def test_an_organiser_previews_sends_and_each_person_gets_it_once(
    app: Werkbank, clock: list[datetime]
) -> None:
    olga, _ = await organiser(app)
    event_id = await organised_by(app, (await _member_id(app, olga)), "Werkstatttag")
    anna = await signed_up(app, "anna", event_id)
    ben = await signed_up(app, "ben", event_id)
    _, otto_id = await organiser(app, "otto")
    await signed_up(app, "cora", await organised_by(app, otto_id, "Fremd"))

    preview = await _announce_to_event(olga)
    # The event's people get "Anmelden" for it unless she chooses otherwise.
    assert "So sieht sie aus:" in preview
    assert "📣 Ankündigung von olga:" in preview and TEXT in preview
    assert "Veranstaltung: „Werkstatttag“" in preview
    assert "Geht an 2 Personen." in preview
    send = olga.button("Senden").payload
    await olga.tap("Senden")
    assert "Ich sende sie jetzt." in olga.text
    assert "0 von 2 gesendet" in olga.text

    # A second tap on the same preview changes nothing.
    await olga.press(send)
    assert "schon unterwegs" in olga.text
    assert len(await _rows(app)) == 2

    inbox = Inbox()
    assert await dispatcher(app, inbox, clock).run_once() == 2
    assert await dispatcher(app, inbox, clock).run_once() == 0
    assert inbox.text("anna").count(TEXT) == 1 and inbox.text("ben").count(TEXT) == 1
    assert TEXT not in inbox.text("cora")
    assert "Anmelden" in inbox.labels("anna") and "Keine Ankündigungen mehr" in inbox.labels("anna")
    # The organiser heard how far it got, and the summary.
    assert "Ankündigung gesendet." in inbox.text("olga") and "Gesendet: 2" in inbox.text("olga")

    # On the console the announcement opened its screen: its buttons work there.
    await ben.open_chat()
    await ben.tap("Keine Ankündigungen mehr")
    assert "von wem?" in ben.text and "Nur von olga" in ben.labels
    await anna.open_chat()
    await anna.tap("Anmelden")
    assert "Was erwartest du von dem Workshop?" in anna.text


async def test_bad_input_gets_a_kind_answer_and_nothing_is_sent(
    app: Werkbank, clock: list[datetime]
) -> None:
    olga, olga_id = await organiser(app)
    event_id = await organised_by(app, olga_id, "Werkstatttag")
    await olga.send("Menü")
    await olga.tap("Ankündigung senden")
    await olga.tap("Menschen einer meiner Veranstaltungen")
    await olga.tap("Werkstatttag")
    await olga.tap("Beide")
    assert "Schreibe deine Ankündigung" in olga.text
    await olga.send("x" * 1001)
    assert "höchstens 1.000" in olga.text
    await olga.send("   ")
    assert "Schreibe deine Ankündigung" in olga.text
    await olga.send(TEXT)
    # Nobody is signed up yet: no "Senden".
    assert "niemand" in olga.text
    assert "Senden" not in olga.labels
    assert await _rows(app) == []

    # A member who is no organiser cannot get there, nor by a forged button.
    mia = ChatUser(app.runner, "mia")
    await mia.onboard("Bendorf")
    await mia.press("go:announce")
    assert "Ankündigung" not in mia.text and "Was möchtest du tun?" in mia.text
    await mia.press("aud:event")
    assert "Was möchtest du tun?" in mia.text
    assert await _rows(app) == []
    with pytest.raises(NotAllowed):
        await app.announcements.preview(
            await _member_id(app, mia),
            AnnouncementDraft(TEXT, AudienceChoice(Audience.EVENT, event_id=event_id)),
            NOW,
            None,
        )
    # Steering someone else's announcement is refused kindly.
    await mia.press("ann_pause:1")
    assert "nicht von dir" in mia.text or "nicht mehr aktuell" in mia.text


async def test_region_news_reach_only_those_who_said_yes_and_are_capped(
    app: Werkbank, clock: list[datetime]
) -> None:
    _, olga_id = await organiser(app)
    await organised_by(app, olga_id, "Werkstatttag")
    yes = ChatUser(app.runner, "yes")
    await yes.onboard("Bendorf")
    assert "Möchtest du Neuigkeiten aus deiner Nähe?" in yes.text
    await yes.tap("Ja, gern")
    assert "Neuigkeiten aus deiner Nähe: ja" in yes.text
    no = ChatUser(app.runner, "no")
    await no.onboard("Bendorf")  # never answered: the default is no

    region = AudienceChoice(Audience.REGION)
    ids = []
    for n in range(3):
        preview = await app.announcements.preview(
            olga_id, AnnouncementDraft(f"{TEXT} {n}", region), NOW, None
        )
        if n < 2:
            assert preview.count == 1 and preview.refused is None
            await app.announcements.confirm(olga_id, preview.id, preview.revision, NOW, 0)
            ids.append(preview.id)
        else:
            assert preview.refused == WEEK_CAP  # two a week
            with pytest.raises(AnnouncementRefused):
                await app.announcements.confirm(olga_id, preview.id, preview.revision, NOW, 0)
    # One a day per member: the second waits for the next morning, 8:00.
    first, second = (await _rows(app, ids[0]))[0], (await _rows(app, ids[1]))[0]
    assert first.due_at == NOW
    assert second.due_at.astimezone(BERLIN) == datetime(2026, 11, 25, 8, 0, tzinfo=BERLIN)

    inbox = Inbox()
    assert await dispatcher(app, inbox, clock).run_once() == 1
    assert f"{TEXT} 0" in inbox.text("yes") and f"{TEXT} 1" not in inbox.text("yes")
    assert inbox.text("no") == ""
    clock[0] = datetime(2026, 11, 25, 8, 1, tzinfo=BERLIN)
    assert await dispatcher(app, inbox, clock).run_once() == 1
    assert f"{TEXT} 1" in inbox.text("yes")

    # The operator lifts the caps: a third goes.
    await app.announcements.lift_caps("console:olga")
    preview = await app.announcements.preview(
        olga_id, AnnouncementDraft(TEXT, region), clock[0], None
    )
    assert preview.refused is None

    # Saying no in the settings takes one out.
    await yes.send("/einstellungen")
    await yes.tap("Neuigkeiten aus deiner Nähe")
    preview = await app.announcements.preview(
        olga_id, AnnouncementDraft(TEXT, region), clock[0], preview.id
    )
    assert preview.count == 0 and preview.refused == NOBODY


async def test_no_more_announcements_from_one_or_all_with_undo(
    app: Werkbank, clock: list[datetime]
) -> None:
    _, olga_id = await organiser(app)
    event_id = await organised_by(app, olga_id, "Werkstatttag")
    anna = await signed_up(app, "anna", event_id)
    anna_id = await _member_id(app, anna)
    audience = AudienceChoice(Audience.EVENT, event_id=event_id, people=EventPeople.SIGNED_UP)

    async def announce(text: str) -> int:
        preview = await app.announcements.preview(
            olga_id, AnnouncementDraft(text, audience), clock[0], None
        )
        await app.announcements.confirm(olga_id, preview.id, preview.revision, clock[0], 0)
        return preview.id

    await announce("Erste")
    inbox = Inbox()
    # Anna taps the way out in the first one (on the console it opened its screen).
    await dispatcher(app, inbox, clock).run_once()
    assert "Erste" in inbox.text("anna")
    second = await announce("Zweite")  # queued when she opts out: never sent
    await anna.open_chat()
    await anna.tap("Keine Ankündigungen mehr")
    await anna.tap("Nur von olga")
    assert "Von olga bekommst du keine Ankündigungen mehr." in anna.text
    await dispatcher(app, inbox, clock).run_once()
    assert "Zweite" not in inbox.text("anna")
    assert (await _rows(app, second))[0].status == WorkStatus.SKIPPED
    # Nobody to send to any more, and the queued one is skipped at send time.
    preview = await app.announcements.preview(
        olga_id, AnnouncementDraft("Dritte", audience), clock[0], None
    )
    assert preview.count == 0

    await anna.tap("Rückgängig")
    assert "Du bekommst wieder Ankündigungen." in anna.text
    await announce("Vierte")
    await dispatcher(app, inbox, clock).run_once()
    assert "Vierte" in inbox.text("anna")

    # From anyone: also the settings show it and bring them back.
    await app.announcements.opt_out(anna_id, None)
    await anna.send("/einstellungen")
    assert "Ankündigungen: keine" in anna.text
    await anna.tap("Wieder Ankündigungen bekommen")
    assert (
        await app.announcements.preview(
            olga_id, AnnouncementDraft("Fünfte", audience), clock[0], None
        )
    ).count == 1


async def test_an_announcement_waits_for_the_morning_in_the_quiet_hours(
    app: Werkbank, clock: list[datetime]
) -> None:
    _, olga_id = await organiser(app)
    event_id = await organised_by(app, olga_id, "Werkstatttag")
    await signed_up(app, "anna", event_id)
    clock[0] = datetime(2026, 11, 24, 22, 30, tzinfo=BERLIN)
    audience = AudienceChoice(Audience.EVENT, event_id=event_id)
    preview = await app.announcements.preview(
        olga_id, AnnouncementDraft(TEXT, audience), clock[0], None
    )
    progress = await app.announcements.confirm(olga_id, preview.id, preview.revision, clock[0], 0)
    assert progress.waiting == 1
    inbox = Inbox()
    assert await dispatcher(app, inbox, clock).run_once() == 0
    clock[0] = datetime(2026, 11, 25, 8, 0, tzinfo=BERLIN)
    assert await dispatcher(app, inbox, clock).run_once() == 1
    assert TEXT in inbox.text("anna")


async def test_pause_resume_and_cancel_while_it_goes_out(
    app: Werkbank, clock: list[datetime]
) -> None:
    olga, olga_id = await organiser(app)
    event_id = await organised_by(app, olga_id, "Werkstatttag")
    for name in ("anna", "ben", "cora"):
        await signed_up(app, name, event_id)
    await _announce_to_event(olga)
    await olga.tap("Senden")
    broadcast_id = int(olga.button("Anhalten").payload.split(":")[1])
    await olga.tap("Anhalten")
    assert "Angehalten." in olga.text and "Weiter" in olga.labels
    inbox = Inbox()
    assert await dispatcher(app, inbox, clock).run_once() == 0
    await olga.tap("Weiter")
    assert "Anhalten" in olga.labels
    assert {r.status for r in await _rows(app, broadcast_id)} == {WorkStatus.PENDING}
    await olga.send("Menü")
    # The buttons of the progress message still steer it from the menu.
    await olga.press(f"ann_cancel:{broadcast_id}")
    assert "Ankündigung abgebrochen." in olga.text
    rows = await _rows(app, broadcast_id)
    assert {(r.status, r.error) for r in rows} == {(WorkStatus.SKIPPED, "cancelled")}
    await dispatcher(app, inbox, clock).run_once()
    # Only the organiser hears something: the summary.
    assert [name for name, _ in inbox.deliveries] == ["olga"]
    assert "Ankündigung abgebrochen." in inbox.text("olga")
    # Buttons of a stopped announcement: a kind answer, nothing sent.
    await olga.press(f"ann_resume:{broadcast_id}")
    assert await dispatcher(app, inbox, clock).run_once() == 0
    async with app.db.sessions() as session:
        assert (await session.get(Broadcast, broadcast_id)).status == "cancelled"


async def test_blocked_and_failing_members_are_counted(
    app: Werkbank, clock: list[datetime]
) -> None:
    olga, olga_id = await organiser(app)
    event_id = await organised_by(app, olga_id, "Werkstatttag")
    await signed_up(app, "anna", event_id)
    await signed_up(app, "ben", event_id)
    await _announce_to_event(olga)
    broadcast_id = int(olga.button("Senden").payload.split(":")[1].split(".")[0])
    await olga.tap("Senden")

    class Picky(Inbox):
        """Anna's channel fails every time; Ben blocked the bot."""

        async def deliver(self, account, messages, key=None):  # type: ignore[no-untyped-def]
            self.deliveries.append((account.external_id, list(messages)))
            answers = {"anna": Delivered.FAILED, "ben": Delivered.BLOCKED}
            return answers.get(account.external_id, Delivered.SENT)

    inbox = Picky()
    waits = []
    for _ in range(5):  # retried with growing waits, then failed
        await dispatcher(app, inbox, clock).run_once()
        row = next(r for r in await _rows(app, broadcast_id) if r.error != "blocked")
        waits.append(row.due_at - clock[0])
        clock[0] = row.due_at
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert row.status == WorkStatus.FAILED and row.attempts == 5
    progress = await app.announcements.progress(olga_id, broadcast_id, clock[0])
    assert (progress.sent, progress.blocked, progress.failed) == (0, 1, 1)
    assert "Bot blockiert: 1" in inbox.text("olga")
    assert "Nicht zugestellt: 1" in inbox.text("olga")


@pytest.mark.postgres
async def test_two_workers_send_each_person_once(app: Werkbank, clock: list[datetime]) -> None:
    if app.db.engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED: two workers share PostgreSQL")
    _, olga_id = await organiser(app)
    event_id = await organised_by(app, olga_id, "Werkstatttag")
    for n in range(10):
        await signed_up(app, f"m{n}", event_id)
    audience = AudienceChoice(Audience.EVENT, event_id=event_id)
    preview = await app.announcements.preview(
        olga_id, AnnouncementDraft(TEXT, audience), clock[0], None
    )
    await app.announcements.confirm(olga_id, preview.id, preview.revision, clock[0], 0)
    one, two = Inbox(delay=0.01), Inbox(delay=0.01)
    await asyncio.gather(
        dispatcher(app, one, clock, worker="a", batch=3).run_once(),
        dispatcher(app, two, clock, worker="b", batch=3).run_once(),
    )
    got = [name for name, text in one.got + two.got if TEXT in text]
    assert sorted(got) == sorted(f"m{n}" for n in range(10))
    assert one.got and two.got  # both took part
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.max(Notice.attempts))) == 1


async def test_consent_default_is_no(app: Werkbank) -> None:
    user = ChatUser(app.runner, "zoe")
    await user.onboard("Bendorf")
    member = (await app.runner.conversations.open(user.account)).member
    assert member.news is False
    await user.tap("Ja, gern")
    member = (await app.runner.conversations.open(user.account)).member
    assert member.news is True


async def _one_announcement(database_url: str) -> None:
    """An organiser (console:olga) whose announcement to one member went out."""
    from bot.config import Settings

    app = await Werkbank.open(Settings(database_url=database_url), clock=lambda: NOW)
    try:
        await load_demo_data(app.db, default_gazetteer(), NOW, BERLIN)
        _, olga_id = await organiser(app)
        event_id = await organised_by(app, olga_id, "Werkstatttag")
        await signed_up(app, "anna", event_id)
        audience = AudienceChoice(Audience.EVENT, event_id=event_id)
        preview = await app.announcements.preview(
            olga_id, AnnouncementDraft(TEXT, audience), NOW, None
        )
        await app.announcements.confirm(olga_id, preview.id, preview.revision, NOW, 0)
        await dispatcher(app, Inbox(), [NOW]).run_once()
    finally:
        await app.close()


def test_werkbank_announcements_lists_them_and_admin_lifts_caps(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the repository
    monkeypatch.setenv("WERKBANK_DATABASE_URL", database_url)
    asyncio.run(_one_announcement(database_url))
    capsys.readouterr()
    assert main(["announcements"]) == 0
    line = capsys.readouterr().out.splitlines()[1].split()
    # id, day, time, status, audience, total, sent, blocked, failed, waiting
    assert line[3:10] == ["done", "event", "1", "1", "0", "0", "0"]
    assert main(["admin", "caps", "lift", "console:olga"]) == 0
    assert "lifted" in capsys.readouterr().out
    assert main(["admin", "caps", "lift", "console:nobody"]) == 2


async def test_a_worker_that_does_not_serve_the_organiser_leaves_the_summary_to_one_that_does(
    app: Werkbank, clock: list[datetime]
) -> None:
    """`werkbank chat` (its own console user only) beside `werkbank run`: the one that
    serves the organiser's chat tells them, whoever sent the messages."""
    from bot.scheduling.dispatcher import Dispatcher

    olga, olga_id = await organiser(app)
    event_id = await organised_by(app, olga_id, "Werkstatttag")
    await signed_up(app, "anna", event_id)
    await _announce_to_event(olga)
    await olga.tap("Senden")
    inbox = Inbox()
    anna_only = Dispatcher(
        app.notices,
        app.runner.notice,
        {"console": inbox},
        clock=lambda: clock[0],
        only={"console": ["anna"]},
        announcements=app.announcements,
        report=app.runner.report,
    )
    assert await anna_only.run_once() == 1
    assert TEXT in inbox.text("anna") and inbox.text("olga") == ""
    await dispatcher(app, inbox, clock).run_once()
    assert "Ankündigung gesendet." in inbox.text("olga")
    assert inbox.text("olga").count("Gesendet: 1") == 1


async def test_on_the_console_the_organiser_hears_every_tenth_of_the_way(
    app: Werkbank, clock: list[datetime]
) -> None:
    olga, olga_id = await organiser(app)
    event_id = await organised_by(app, olga_id, "Werkstatttag")
    for n in range(10):
        await signed_up(app, f"m{n}", event_id)
    await _announce_to_event(olga)
    await olga.tap("Senden")
    inbox = Inbox()
    assert await dispatcher(app, inbox, clock, batch=1).run_once() == 10
    updates = [m.text for m in inbox.messages("olga")]
    assert [u.splitlines()[0] for u in updates[:-1]] == [
        f"{n} von 10 gesendet" for n in range(1, 10)
    ]
    assert updates[-1].startswith("Ankündigung gesendet.\nGesendet: 10")
    # Each update opens the running screen: "1" pauses (nothing left to pause here).
    assert "Anhalten" in inbox.labels("olga")


async def test_senden_under_an_old_preview_sends_nothing_it_did_not_show(
    app: Werkbank, clock: list[datetime]
) -> None:
    olga, olga_id = await organiser(app)
    event_id = await organised_by(app, olga_id, "Werkstatttag")
    await signed_up(app, "anna", event_id)
    await _announce_to_event(olga, "Fassung A")
    old_send = olga.button("Senden").payload
    await olga.tap("Text ändern")
    await olga.send("Fassung B")
    assert "Fassung B" in olga.text
    await olga.press(old_send)  # the button under "Fassung A", further up the chat
    assert "Diese Vorschau war nicht mehr aktuell" in olga.text and "Fassung B" in olga.text
    assert await _rows(app) == []
    await olga.tap("Senden")
    inbox = Inbox()
    await dispatcher(app, inbox, clock).run_once()
    assert "Fassung B" in inbox.text("anna") and "Fassung A" not in inbox.text("anna")


async def test_one_piece_of_news_a_day_holds_after_a_pause(
    app: Werkbank, clock: list[datetime]
) -> None:
    """Olga's news is paused overnight while Otto's is due the next morning: when both
    fall due at 8:00 the member gets one that day and the other the day after."""
    _, olga_id = await organiser(app)
    _, otto_id = await organiser(app, "otto")
    await organised_by(app, olga_id, "Werkstatttag")
    await organised_by(app, otto_id, "Repair-Abend")
    yes = ChatUser(app.runner, "yes")
    await yes.onboard("Bendorf")
    await yes.tap("Ja, gern")

    async def news(organiser_id: int, text: str) -> int:
        region = AudienceChoice(Audience.REGION)
        preview = await app.announcements.preview(
            organiser_id, AnnouncementDraft(text, region), clock[0], None
        )
        await app.announcements.confirm(organiser_id, preview.id, preview.revision, clock[0], 0)
        return preview.id

    clock[0] = datetime(2026, 11, 24, 10, 0, tzinfo=BERLIN)
    olgas = await news(olga_id, "Von Olga")
    await app.announcements.pause(olga_id, olgas, clock[0])
    clock[0] = datetime(2026, 11, 24, 11, 0, tzinfo=BERLIN)
    await news(otto_id, "Von Otto")
    clock[0] = datetime(2026, 11, 25, 7, 0, tzinfo=BERLIN)
    await app.announcements.resume(olga_id, olgas, clock[0])
    inbox = Inbox()
    clock[0] = datetime(2026, 11, 25, 8, 1, tzinfo=BERLIN)
    assert await dispatcher(app, inbox, clock).run_once() == 1
    assert "Von Olga" in inbox.text("yes") and "Von Otto" not in inbox.text("yes")
    clock[0] = datetime(2026, 11, 26, 8, 1, tzinfo=BERLIN)
    assert await dispatcher(app, inbox, clock).run_once() == 1
    assert "Von Otto" in inbox.text("yes")


async def test_a_summary_that_could_not_be_sent_comes_with_the_next_round(
    app: Werkbank, clock: list[datetime]
) -> None:
    olga, olga_id = await organiser(app)
    event_id = await organised_by(app, olga_id, "Werkstatttag")
    await signed_up(app, "anna", event_id)
    await _announce_to_event(olga)
    await olga.tap("Senden")

    class OlgaOffline(Inbox):
        async def deliver(self, account, messages, key=None):  # type: ignore[no-untyped-def]
            if account.external_id == "olga":
                return Delivered.FAILED
            return await super().deliver(account, messages)

    await dispatcher(app, OlgaOffline(), clock).run_once()
    inbox = Inbox()
    await dispatcher(app, inbox, clock).run_once()
    assert "Ankündigung gesendet.\nGesendet: 1" in inbox.text("olga")
    assert TEXT not in inbox.text("anna")  # she had it already: nothing twice


async def test_invisible_text_and_typed_distances(app: Werkbank, clock: list[datetime]) -> None:
    olga, olga_id = await organiser(app)
    await organised_by(app, olga_id, "Werkstatttag")
    await olga.send("Menü")
    await olga.tap("Ankündigung senden")
    await olga.tap("Menschen in der Nähe eines meiner Orte")
    await olga.tap("MakerSpace")
    await olga.send("2,5 km")  # two and a half, not 25
    await olga.tap("Alle")
    await olga.send("\u200b\u200e")  # only invisible characters
    assert "Bitte schreibe ein paar Worte." in olga.text
    await olga.send(TEXT)
    await olga.tap("Ohne Knopf")
    async with app.db.sessions() as session:
        draft = await session.scalar(select(Broadcast))
    assert draft is not None and draft.audience["km"] == 2
    assert draft.text == TEXT
