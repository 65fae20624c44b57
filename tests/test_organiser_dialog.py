"""Organisers in the chat: create an event, see who comes, edit, cancel, CSV; and refusals."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import func, select

from bot.app import Werkbank
from bot.storage.models import Event, Registration, Role
from tests.support.chat import ChatUser
from tests.support.inbox import Inbox, dispatcher


async def organiser(app: Werkbank, name: str = "olga") -> ChatUser:
    user = ChatUser(app.runner, name)
    await user.onboard("Bendorf")
    await app.members.set_role(f"console:{name}", Role.ORGANISER)
    await user.send("Menü")
    return user


async def begin_networking_meeting(olga: ChatUser) -> None:
    """ "Veranstaltung anlegen" as far as the description: a networking meeting "Stammtisch"."""
    await olga.tap("Veranstaltung anlegen")
    await olga.tap("Treffen zum Kennenlernen")
    await olga.send("Stammtisch")


async def create_transfer_workshop(olga: ChatUser, seats: str = "5 Plätze") -> str:
    await draft_transfer_workshop(olga, seats)
    return await olga.tap("Veröffentlichen")


async def draft_transfer_workshop(olga: ChatUser, seats: str = "5 Plätze") -> None:
    """ "Veranstaltung anlegen" as far as the preview of "Holz trifft Laser"."""
    await olga.tap("Veranstaltung anlegen")
    await olga.tap("Transfer-Workshop")
    await olga.send("Holz trifft Laser")
    await olga.send("Tischler:innen und Maker lasern gemeinsam Intarsien.")
    await olga.tap("MakerSpace Mayen-Koblenz")
    text = await olga.send("Do 17-20 Uhr")
    assert "Do., 26. Nov., 17–20 Uhr" in text and "Stimmt das?" in text
    await olga.tap("Ja")
    await olga.send(seats)
    await olga.tap("Keine Mindestzahl")
    text = await olga.tap("Bis zum Beginn")
    assert "Vorschau" in text and "Holz trifft Laser" in text


async def test_an_organiser_creates_and_publishes_a_transfer_workshop(app: Werkbank) -> None:
    olga = await organiser(app)
    text = await create_transfer_workshop(olga)
    assert "Veröffentlicht!" in text and "/start ev_" in text
    anna = ChatUser(app.runner, "anna")
    await anna.onboard("Bendorf")
    await anna.tap("Veranstaltungen")
    assert "Holz trifft Laser" in await anna.tap("Diese Woche")


async def test_a_date_is_confirmed_before_it_is_used_and_nonsense_is_asked_again(
    app: Werkbank,
) -> None:
    olga = await organiser(app)
    await begin_networking_meeting(olga)
    await olga.tap("Überspringen")
    await olga.tap("MakerSpace Mayen-Koblenz")
    assert "nicht verstanden" in await olga.send("irgendwann mal")
    assert "Uhrzeit" in await olga.send("25.11.") or "Uhr" in olga.text
    text = await olga.send("morgen 18 Uhr")
    assert "Mi., 25. Nov., 18:00" in text or "Mi., 25. Nov., 18 Uhr" in text
    text = await olga.tap("Nein")
    assert "Wann?" in text


async def test_more_than_five_seats_for_a_transfer_workshop_gets_a_warning(app: Werkbank) -> None:
    olga = await organiser(app)
    await olga.tap("Veranstaltung anlegen")
    await olga.tap("Transfer-Workshop")
    await olga.send("Großer Workshop")
    await olga.tap("Überspringen")
    await olga.tap("MakerSpace Mayen-Koblenz")
    await olga.send("25.11. 17:00-20:00")
    text = await olga.tap("Ja")
    assert "3 bis 5" in text and olga.labels[0] == "5 Plätze (Vorschlag)"
    text = await olga.send("12")  # a bare number is an option, and there is no 12th
    assert "Die Nummer 12 gibt es hier nicht" in text and "„12 Plätze“" in text
    text = await olga.send("12 Plätze")
    assert "⚠️" in text and "Kleine Gruppen" in text
    await olga.send("Zurück")
    text = await olga.tap("Unbegrenzt")
    assert "⚠️ Ohne Grenze kann ein Workshop in kleiner Runde groß werden" in text
    await olga.send("Zurück")
    text = await olga.tap("5 Plätze (Vorschlag)")
    assert "⚠️" not in text and "Mindestzahl" in text


async def test_registrations_expectations_attendance_and_csv(app: Werkbank) -> None:
    olga = await organiser(app)
    await create_transfer_workshop(olga)
    event_id = await latest_event(app)
    jürgen = ChatUser(app.runner, "Jürgen Müller")
    await jürgen.onboard("Bendorf")
    await jürgen.send(f"/start ev_{event_id}")
    await jürgen.tap("Anmelden")
    await jürgen.send("Intarsien für Möbel; „schön“ & schnell")

    await olga.send("Menü")
    await olga.tap("Meine Veranstaltungen")
    text = await olga.tap("Holz trifft Laser")
    assert "Jürgen Müller (angemeldet)" in text and "Intarsien für Möbel" in text
    await olga.tap("Anwesenheit")
    text = await olga.tap("Jürgen")
    assert "✅ Jürgen Müller" in olga.labels
    await olga.send("Zurück")
    await olga.tap("Tabelle")
    files = [m.attachment for m in olga.last if m.attachment]
    assert files and files[0].filename.endswith(".csv")
    data = files[0].data
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Name" and rows[1][0] == "Jürgen Müller"
    assert "teilgenommen" in rows[1]
    assert "Intarsien für Möbel; „schön“ & schnell" in rows[1]


async def test_cancelling_an_event_tells_everyone_at_once(
    app: Werkbank, clock: list[datetime]
) -> None:
    olga = await organiser(app)
    await create_transfer_workshop(olga, seats="1")
    event_id = await latest_event(app)
    people = [ChatUser(app.runner, name) for name in ("anna", "ben")]
    for person in people:
        await person.onboard("Bendorf")
        await person.send(f"/start ev_{event_id}")
        await person.tap("Anmelden" if "Anmelden" in person.labels else "Warteliste")
        if "Überspringen" in person.labels:
            await person.tap("Überspringen")

    await olga.send("Menü")
    await olga.tap("Meine Veranstaltungen")
    await olga.tap("Holz trifft Laser")
    await olga.tap("Absagen")
    await olga.send("Die Referentin ist krank.")
    text = await olga.tap("Ja, absagen")
    assert "2 Personen" in text

    inbox = Inbox()
    sent = await dispatcher(app, inbox, clock).run_once()
    assert sent == 2
    for name in ("anna", "ben"):
        told = inbox.text(name)
        assert "Abgesagt: „Holz trifft Laser“ findet nicht statt." in told
        assert "Die Referentin ist krank." in told
    async with app.db.sessions() as session:
        event = await session.get(Event, event_id)
        assert event is not None and str(event.status) == "cancelled"


async def test_editing_the_time_tells_the_registered(app: Werkbank, clock: list[datetime]) -> None:
    olga = await organiser(app)
    await create_transfer_workshop(olga)
    event_id = await latest_event(app)
    anna = ChatUser(app.runner, "anna")
    await anna.onboard("Bendorf")
    await anna.send(f"/start ev_{event_id}")
    await anna.tap("Anmelden")
    await anna.tap("Überspringen")

    await olga.send("Menü")
    await olga.tap("Meine Veranstaltungen")
    await olga.tap("Holz trifft Laser")
    await olga.tap("Bearbeiten")
    await olga.tap("Datum und Uhrzeit")
    await olga.send("Fr 18-21 Uhr")
    text = await olga.tap("Ja")
    assert "Gespeichert" in text

    inbox = Inbox()
    await dispatcher(app, inbox, clock).run_once()
    told = inbox.text("anna")
    assert "hat sich geändert" in told
    assert "Neue Zeit: Fr., 27. Nov., 18–21 Uhr (vorher Do., 26. Nov., 17–20 Uhr)" in told


async def test_a_member_without_the_role_gets_a_kind_refusal_and_nothing_changes(
    app: Werkbank,
) -> None:
    anna = ChatUser(app.runner, "anna")
    await anna.onboard("Bendorf")
    assert "Veranstaltung anlegen" not in anna.labels
    before = await event_count(app)
    text = await anna.send("/veranstalten")
    assert "Das dürfen nur Veranstalter" in text
    text = await anna.press("go:new_event")  # a forged button
    assert "Menü" in text or "Was möchtest du tun?" in text
    # An organiser whose role is revoked mid-dialog is refused at the next step.
    olga = await organiser(app)
    await olga.tap("Veranstaltung anlegen")
    await olga.tap("Treffen zum Kennenlernen")
    await app.members.set_role("console:olga", Role.MEMBER)
    text = await olga.send("Stammtisch")
    assert "Das dürfen nur Veranstalter" in text
    assert await event_count(app) == before


async def latest_event(app: Werkbank) -> int:
    async with app.db.sessions() as session:
        return int(await session.scalar(select(func.max(Event.id))) or 0)


async def event_count(app: Werkbank) -> int:
    async with app.db.sessions() as session:
        return int(await session.scalar(select(func.count(Event.id))) or 0)


async def registration_count(app: Werkbank) -> int:
    async with app.db.sessions() as session:
        return int(await session.scalar(select(func.count(Registration.id))) or 0)


async def test_id_tells_a_member_the_account_to_make_an_organiser(app: Werkbank) -> None:
    anna = ChatUser(app.runner, "anna")
    await anna.onboard("Bendorf")
    text = await anna.send("/id")
    assert "Dein Werkbank-Konto: console:anna" in text
    assert "Veranstaltungen anlegen" in text and "Was möchtest du tun?" in text  # and the menu
    # Exactly what the operator types; afterwards the menu offers organising.
    await app.members.set_role("console:anna", Role.ORGANISER)
    assert "Veranstaltung anlegen" in await anna.send("Menü")
    assert "Person, die Werkbank" not in await anna.send("/kennung")
    # The plain word works too: Element takes an unknown "/id" for a client command.
    assert "Dein Werkbank-Konto: console:anna" in await anna.send("Kennung")


async def test_a_long_description_is_kept_whole_and_a_too_long_one_is_asked_again(
    app: Werkbank,
) -> None:
    olga = await organiser(app)
    await begin_networking_meeting(olga)
    text = await olga.send("Holz" * 625)  # 2 500 characters, over the limit
    assert "Das sind 2.500 Zeichen. Hier passen höchstens 2.000." in text
    long = "Wir treffen uns in der Werkstatt. " * 50  # 1 700 characters: kept, not cut
    await olga.send(long)
    await olga.tap("MakerSpace Mayen-Koblenz, Bendorf")
    await olga.send("morgen 18 Uhr")
    await olga.tap("Ja")
    await olga.send("10 Plätze")
    await olga.tap("Keine Mindestzahl")
    await olga.tap("Bis zum Beginn")
    await olga.tap("Veröffentlichen")
    async with app.db.sessions() as session:
        event = await session.scalar(select(Event).where(Event.title == "Stammtisch"))
    assert event is not None and event.description == long.strip()
