""" "Wirkung" on SQLite and PostgreSQL, with the test clock: what organisers see of the
check-ins (text, chart, CSV), per event and over all their events; shares only from
five answers; names only with consent; answers only while a check-in is open; and
`werkbank report impact` for the operator."""

from __future__ import annotations

import asyncio
import csv
import io
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Werkbank
from bot.cli import main
from bot.codes import EventFormat, Role
from bot.config import Settings
from bot.dialogs.checkins import SHOW_NAME
from bot.dialogs.my_events import EVENT
from bot.geo import default_gazetteer
from bot.handlers.matrix import png_size
from bot.services import NotAllowed
from bot.services.demo import load_demo_data
from bot.storage.models import Followup
from tests.support.attendees import FRIDAY_MORNING, organised_by, organiser, signed_up
from tests.support.chat import ChatUser
from tests.support.clock import BERLIN, NOW, START
from tests.support.factories import add_event
from tests.support.inbox import Inbox, dispatcher


async def send_due(app: Werkbank, clock: list[datetime]) -> dict[str, str]:
    inbox = Inbox()
    await dispatcher(app, inbox, clock).run_once()
    return dict(inbox.got)


async def open_impact(olga: ChatUser, event_id: int) -> str:
    await olga.send("Menü")
    await olga.tap("Meine Veranstaltungen")
    await olga.press(EVENT(event_id))
    return await olga.tap("Wirkung")


async def test_wirkung_shows_shares_from_five_answers_a_chart_a_csv_and_names_by_consent(
    app: Werkbank, clock: list[datetime]
) -> None:
    olga, olga_id = await organiser(app)
    event_id = await organised_by(app, olga_id, "Holz trifft Laser")
    people = [await signed_up(app, n, event_id, "Lasern lernen") for n in "abcdef"]
    clock[0] = FRIDAY_MORNING
    assert len(await send_due(app, clock)) == 6
    for person, met in zip(people[:5], ("Ja", "Ja", "Ja", "Teilweise", "Nein"), strict=True):
        await person.open_chat()  # the check-in as it arrived
        await person.tap(met)
    await people[0].send("Wie man Furnier schneidet")
    await people[0].press(SHOW_NAME(True))  # a: her name may be shown
    await people[1].send("Dass Lasern leicht ist")
    await people[1].press(SHOW_NAME(False))  # b: without

    text = await open_impact(olga, event_id)
    assert "Am Tag danach: 6 gefragt, 5 geantwortet (83 %)" in text
    assert "Erwartung erfüllt: ja 3 (60 %), teilweise 1 (20 %), nein 1 (20 %)" in text
    assert "„Wie man Furnier schneidet“ – a" in text
    assert "„Dass Lasern leicht ist“\n" in text + "\n"  # no name after it
    [chart] = [m.attachment for m in olga.last if m.attachment is not None]
    assert chart.is_image and chart.filename.endswith(".png")
    width, height = png_size(chart.data) or (0, 0)
    assert width >= 600 and height >= 300

    await olga.tap("Die Zahlen als Tabelle")
    [table] = [m.attachment for m in olga.last if m.attachment is not None]
    rows = list(csv.reader(io.StringIO(table.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Nachfrage", "Frage", "Antwort", "Anzahl", "Anteil in %"]
    assert ["Am Tag danach", "Gefragt", "", "6", ""] in rows
    assert ["Am Tag danach", "Erwartung erfüllt", "ja", "3", "60"] in rows
    assert not any("Furnier" in cell for row in rows for cell in row)  # counts, no text


async def test_a_small_group_gets_counts_only_and_all_events_add_up(
    app: Werkbank, clock: list[datetime]
) -> None:
    olga, olga_id = await organiser(app)
    first = await organised_by(app, olga_id, "Holz trifft Laser")
    second = await organised_by(app, olga_id, "Stammtisch", fmt=EventFormat.NETWORKING)
    fritz, fritz_id = await organiser(app, "fritz")
    elsewhere = await organised_by(app, fritz_id, "Fremde Runde", fmt=EventFormat.NETWORKING)
    anna = await signed_up(app, "anna", first, "Intarsien schneiden")
    ben = await signed_up(app, "ben", second)
    carl = await signed_up(app, "carl", elsewhere)
    clock[0] = FRIDAY_MORNING
    await send_due(app, clock)
    await anna.open_chat()  # the check-in as it arrived
    await anna.tap("Ja")
    await ben.open_chat()  # the check-in as it arrived
    await ben.tap("4")
    await carl.open_chat()  # the check-in as it arrived
    await carl.tap("1")

    text = await open_impact(olga, first)
    assert "Erwartung erfüllt: ja 1" in text and "%" not in text
    await olga.tap("Zurück")
    await olga.tap("Zurück")
    text = await olga.tap("Wirkung aller meiner Veranstaltungen")
    assert "Wirkung deiner 2 Veranstaltungen" in text
    assert "Am Tag danach: 2 gefragt, 2 geantwortet" in text
    assert "Bewertung (1–5): 4 1" in text and ": 1 1" not in text  # not Fritz's event
    assert any(m.attachment and m.attachment.is_image for m in olga.last)

    # Fritz cannot open Olga's event, by a button from an old screen or a forged one.
    await fritz.send("Menü")
    await fritz.tap("Meine Veranstaltungen")
    text = await fritz.press(EVENT(first))
    assert "Holz trifft Laser" not in text
    assert "Intarsien" not in text


async def test_an_event_nobody_answered_gets_a_kind_line_and_no_chart(
    app: Werkbank, clock: list[datetime]
) -> None:
    olga, olga_id = await organiser(app)
    event_id = await organised_by(app, olga_id, "Leere Runde")
    clock[0] = FRIDAY_MORNING
    text = await open_impact(olga, event_id)
    assert "Noch keine Antworten." in text
    assert all(m.attachment is None for m in olga.last)
    assert "Tabelle" not in text  # nothing to put in one


async def test_an_answer_changes_while_the_check_in_is_open_and_not_after(
    app: Werkbank, clock: list[datetime]
) -> None:
    event_id = await add_event(app)
    anna = await signed_up(app, "anna", event_id, "Intarsien schneiden")
    clock[0] = FRIDAY_MORNING
    await send_due(app, clock)
    await anna.open_chat()
    yes = anna.button("Ja").payload  # the check-in's buttons, as they stay in the chat
    await anna.tap("Nein")
    await anna.tap("Zurück")  # back to the question: she thinks again
    await anna.tap("Teilweise")
    assert await _answers(app, event_id) == [{"met": "partly"}]

    # She looks around, then taps "Ja" on the check-in further up: it still counts.
    await anna.send("Menü")
    await anna.tap("Meine Anmeldungen")
    assert "Was nimmst du mit?" in await anna.press(yes)
    assert await _answers(app, event_id) == [{"met": "yes"}]

    clock[0] = FRIDAY_MORNING + timedelta(days=15)  # long past: it lapsed
    await anna.send("Menü")
    text = await anna.press(yes)
    assert "Diese Nachfrage ist nicht mehr offen." in text  # a kind word, not an error
    assert "Was möchtest du tun?" in text  # and the menu
    assert await _answers(app, event_id) == [{"met": "yes"}]  # nothing changed
    forged = yes.replace(".yes", ".vielleicht")
    assert "nicht mehr aktuell" in await anna.press(forged)
    member_id = (await app.runner.conversations.open(anna.account)).member.id
    with pytest.raises(NotAllowed, match="not open"):
        await app.services.checkins.answer(
            member_id, event_id, "next_day", {"met": "yes"}, clock[0]
        )


async def _answers(app: Werkbank, event_id: int) -> list[dict[str, str]]:
    async with app.db.sessions() as session:
        rows = await session.scalars(select(Followup).where(Followup.event_id == event_id))
        return [row.answers() for row in rows]


def test_werkbank_report_impact_gives_the_operator_text_csv_and_chart(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the repository
    monkeypatch.setenv("WERKBANK_DATABASE_URL", database_url)
    asyncio.run(_workshop_with_answers(database_url))
    capsys.readouterr()

    assert main(["report", "impact"]) == 0
    out = capsys.readouterr().out
    assert "Wirkung von 2 Veranstaltungen" in out
    assert "Am Tag danach: 2 gefragt, 2 geantwortet" in out

    table, picture = tmp_path / "wirkung.csv", tmp_path / "wirkung.png"
    assert main(["report", "impact", "--place", "zukunftslabor", "--out", str(table)]) == 0
    assert "in „zukunftslabor“" in capsys.readouterr().out
    assert "Erwartung erfüllt;ja;1;" in table.read_bytes().decode("utf-8-sig")
    assert stat.S_IMODE(table.stat().st_mode) == 0o600  # figures about people: private
    assert main(["report", "impact", "--since", "1.12.2026", "--out", str(picture)]) == 2
    assert "no chart" in capsys.readouterr().err  # no event from then on
    assert main(["report", "impact", "--since", "2026-11-01", "--out", str(picture)]) == 0
    assert png_size(picture.read_bytes()) is not None

    for bad in (["--since", "gestern"], ["--out", str(tmp_path / "wirkung.pdf")]):
        assert main(["report", "impact", *bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err


async def _workshop_with_answers(database_url: str) -> None:
    """Two events, one at the Zukunftslabor, each with an attendee who answered."""
    clock = [NOW]
    settings = Settings(database_url=database_url, timezone="Europe/Berlin")
    app = await Werkbank.open(settings, clock=lambda: clock[0])
    try:
        await load_demo_data(app.db, default_gazetteer(), NOW, BERLIN)
        at_lab = await add_event(app, "Holz trifft Laser", place="Zukunftslabor", uid="lab")
        other = await add_event(app, "Stammtisch", fmt=EventFormat.NETWORKING, uid="other")
        anna = await signed_up(app, "anna", at_lab, "Intarsien")
        ben = await signed_up(app, "ben", other)
        clock[0] = FRIDAY_MORNING
        await dispatcher(app, Inbox(), clock).run_once()
        await anna.open_chat()  # the check-in as it arrived
        await anna.tap("Ja")
        await ben.open_chat()  # the check-in as it arrived
        await ben.tap("5")
        async with app.db.sessions() as session:
            assert await session.scalar(select(func.count(Followup.id))) == 2
        assert START < FRIDAY_MORNING
    finally:
        await app.close()


async def test_answering_again_old_buttons_and_odd_text_are_safe(
    app: Werkbank, clock: list[datetime]
) -> None:
    from bot.codes import NoticeKind
    from bot.services.checkins import Checkins
    from bot.storage.models import Notice

    _, olga_id = await organiser(app)
    event_id = await organised_by(app, olga_id, "Holz trifft Laser")
    anna = await signed_up(app, "anna", event_id, "Lasern")
    clock[0] = FRIDAY_MORNING
    await send_due(app, clock)
    await anna.open_chat()
    no_more = anna.button("Keine Nachfragen mehr").payload
    old_yes = anna.button("Ja").payload
    await anna.tap("Ja")
    await anna.send("Furnier\x00 schneiden")  # a NUL, as a hostile client sends it
    await anna.tap("Ja, mit Namen")
    contact = anna.button("Ja").payload
    assert "Danke!" in await anna.press(contact)
    assert "Danke!" in await anna.press(contact)  # the same answer again, from the chat
    async with app.db.sessions() as session:
        asked = await session.scalar(
            select(func.count(Notice.id)).where(Notice.kind == NoticeKind.CHECKIN_REQUEST)
        )
    assert asked == 1  # the organiser hears of it once
    assert (await _answers(app, event_id))[0]["takeaway"] == "Furnier schneiden"

    # Her name is for the organiser, not in the operator's report for funders.
    mine = await app.services.checkins.impact(olga_id, event_id)
    assert [s.name for s in mine.checkins[0].lines] == ["anna"]
    report = await Checkins(app.db).report()
    assert [s.name for s in report.checkins[0].lines] == [""]

    # An old button never throws away a draft of several answers.
    await app.members.set_role("console:anna", Role.ORGANISER)
    await anna.send("Menü")
    await anna.tap("Veranstaltung anlegen")
    await anna.tap("Transfer-Workshop")
    assert "Beschreibe sie" in await anna.send("Furnier für Anfänger")
    text = await anna.press(old_yes)
    assert "nicht mehr aktuell" in text and "verwerfen?" in text  # asked, not thrown away
    assert "Beschreibe sie" in await anna.tap("Nein, weitermachen")
    await anna.send("Menü")
    await anna.tap("Ja, verwerfen")  # she lets the draft go herself

    # "Keine Nachfragen mehr" works from further up the chat.
    text = await anna.press(no_more)
    assert "keine Nachfragen mehr" in text
    assert (await app.runner.conversations.open(anna.account)).member.checkins is False
