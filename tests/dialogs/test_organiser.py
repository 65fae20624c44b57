"""Organisers on fakes: creating an event up to publishing; "Meine Veranstaltungen" with
the roster, a new title and cancelling; and the refusal for members without the role."""

from __future__ import annotations

import pytest

from bot.codes import Role
from tests.support.chat import ChatUser
from tests.support.fakes import FakeCheckins, FakeWorld


async def organiser(world: FakeWorld, name: str = "olga") -> ChatUser:
    user = world.user(name)
    await user.onboard("Bendorf")
    world.grant(user)
    await user.send("Menü")
    return user


async def create_transfer_workshop(olga: ChatUser) -> str:
    await olga.tap("Veranstaltung anlegen")
    await olga.tap("Transfer-Workshop")
    await olga.send("Holz trifft Laser")
    await olga.send("Tischler:innen und Maker lasern gemeinsam Intarsien.")
    await olga.tap("MakerSpace Mayen-Koblenz")
    await olga.send("Do 17-20 Uhr")
    await olga.tap("Ja")
    await olga.tap("(Vorschlag)")
    await olga.tap("Keine Mindestzahl")
    await olga.tap("Bis zum Beginn")
    return await olga.tap("Veröffentlichen")


async def signed_up(world: FakeWorld, name: str, event_id: int, expectation: str) -> ChatUser:
    user = world.user(name)
    await user.onboard("Bendorf")
    await user.send(f"/start ev_{event_id}")
    await user.tap("Anmelden" if "Anmelden" in user.labels else "Warteliste")
    if "Überspringen" in user.labels:
        await user.send(expectation)
    return user


async def test_an_organiser_creates_a_transfer_workshop_step_by_step(world: FakeWorld) -> None:
    olga = await organiser(world)
    assert "Was für eine Veranstaltung" in await olga.tap("Veranstaltung anlegen")
    assert "Wie heißt die Veranstaltung?" in await olga.tap("Transfer-Workshop")
    assert "Beschreibe sie" in await olga.send("Holz trifft Laser")
    text = await olga.send("Tischler:innen und Maker lasern gemeinsam Intarsien.")
    assert "Wo findet sie statt?" in text and olga.labels[0] == "MakerSpace Mayen-Koblenz, Bendorf"
    assert "Wann?" in await olga.tap("MakerSpace Mayen-Koblenz")
    text = await olga.send("Do 17-20 Uhr")
    assert "Do., 26. Nov., 17–20 Uhr" in text and "Stimmt das?" in text
    text = await olga.tap("Ja")
    # Five seats are the transfer workshop's default: the first choice.
    assert "3 bis 5" in text and olga.labels[0].startswith("5") and "(Vorschlag)" in olga.labels[0]
    await olga.tap("(Vorschlag)")
    assert "Keine Mindestzahl" in olga.labels
    assert "Bis wann kann man sich anmelden?" in await olga.tap("Keine Mindestzahl")
    text = await olga.tap("Bis zum Beginn")
    assert "Vorschau:" in text and "Holz trifft Laser" in text and "Plätze: 5" in text
    text = await olga.tap("Veröffentlichen")
    assert "Veröffentlicht!" in text and "/start ev_" in text

    anna = world.user("anna")
    await anna.onboard("Bendorf")
    await anna.tap("Veranstaltungen")
    assert "Holz trifft Laser" in await anna.tap("Diese Woche")


async def test_a_date_is_confirmed_and_a_big_workshop_gets_a_warning(world: FakeWorld) -> None:
    olga = await organiser(world)
    await olga.tap("Veranstaltung anlegen")
    await olga.tap("Transfer-Workshop")
    await olga.send("Großer Workshop")
    await olga.tap("Überspringen")
    await olga.tap("MakerSpace Mayen-Koblenz")
    assert "nicht verstanden" in await olga.send("irgendwann mal")
    await olga.send("morgen 18 Uhr")
    assert "Wann?" in await olga.tap("Nein, nochmal")
    await olga.send("25.11. 17:00-20:00")
    await olga.tap("Ja")
    text = await olga.tap("10")
    assert "⚠️" in text and "Kleine Gruppen" in text and "Keine Mindestzahl" in olga.labels
    await olga.send("Zurück")
    text = await olga.tap("Unbegrenzt")
    assert "⚠️ Ohne Grenze kann ein Workshop in kleiner Runde groß werden" in text


async def test_my_events_show_the_roster_and_a_new_title_reaches_the_signed_up(
    world: FakeWorld,
) -> None:
    olga = await organiser(world)
    await create_transfer_workshop(olga)
    [event_id] = world.store.events
    await signed_up(world, "anna", event_id, "Intarsien für Möbel")

    await olga.send("Menü")
    text = await olga.tap("Meine Veranstaltungen")
    assert "Deine Veranstaltungen:" in text and "1/5 angemeldet" in text
    text = await olga.tap("Holz trifft Laser")
    assert "• anna (angemeldet)" in text and "erwartet: Intarsien für Möbel" in text
    await olga.tap("Bearbeiten")
    await olga.tap("Titel")
    text = await olga.send("Intarsien mit dem Laser")
    assert "Gespeichert." in text and "Intarsien mit dem Laser" in text

    anna = world.user("anna")
    await anna.send("Menü")
    assert "Intarsien mit dem Laser" in await anna.tap("Meine Anmeldungen")


async def test_cancelling_an_event_tells_everyone_signed_up_or_waiting(world: FakeWorld) -> None:
    olga = await organiser(world)
    await create_transfer_workshop(olga)
    [event_id] = world.store.events
    for name in ("anna", "ben", "cem", "dora", "emil", "fritz"):
        await signed_up(world, name, event_id, "Lernen.")

    await olga.send("Menü")
    await olga.tap("Meine Veranstaltungen")
    text = await olga.tap("Holz trifft Laser")
    assert "5/5 angemeldet" in text and "• fritz (Warteliste 1)" in text
    assert "Warum sagst du ab?" in await olga.tap("Absagen")
    text = await olga.send("Die Referentin ist krank.")
    assert "Grund: Die Referentin ist krank." in text
    text = await olga.tap("Ja, absagen")
    assert "Ich sage jetzt 6 Personen Bescheid." in text and "❌ abgesagt" in text
    assert "Absagen" not in olga.labels

    anna = world.user("anna")
    await anna.send("Menü")
    await anna.tap("Meine Anmeldungen")
    text = await anna.tap("Holz trifft Laser")
    assert "❌ Diese Veranstaltung wurde abgesagt." in text
    assert "Grund: Die Referentin ist krank." in text and "Abmelden" not in anna.labels


async def test_a_member_without_the_role_is_refused_kindly(world: FakeWorld) -> None:
    anna = world.user("anna")
    await anna.onboard("Bendorf")
    assert "Das dürfen nur Veranstalter" in await anna.send("/veranstalten")
    assert "Was möchtest du tun?" in await anna.press("go:new_event")  # a forged button
    # An organiser whose role is revoked mid-dialog is refused at the next step.
    olga = await organiser(world)
    await olga.tap("Veranstaltung anlegen")
    await olga.tap("Treffen zum Kennenlernen")
    world.grant(olga, Role.MEMBER)
    assert "Das dürfen nur Veranstalter" in await olga.send("Stammtisch")
    assert world.store.events == {}


async def test_wirkung_comes_with_a_chart_and_without_one_if_drawing_fails(
    world: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.dialogs.impact

    olga = await organiser(world)
    await create_transfer_workshop(olga)
    [event_id] = world.store.events
    checkins = world.services.checkins
    assert isinstance(checkins, FakeCheckins)
    for n, met in enumerate(("yes", "yes", "no")):
        checkins.given[(100 + n, event_id, "next_day")] = {"met": met}
    await olga.send("Menü")
    await olga.tap("Meine Veranstaltungen")
    await olga.tap("Holz trifft Laser")
    text = await olga.tap("Wirkung")
    assert "Erwartung erfüllt: ja 2, nein 1" in text
    assert [m.attachment.mime_type for m in olga.last if m.attachment] == ["image/png"]

    async def broken(chart: object) -> bytes:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(bot.dialogs.impact, "render", broken)
    text = await olga.tap("Zurück")
    text = await olga.tap("Wirkung")
    assert "Erwartung erfüllt: ja 2, nein 1" in text  # the figures, still
    assert all(m.attachment is None for m in olga.last)
