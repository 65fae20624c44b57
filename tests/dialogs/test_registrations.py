"""Signing up on fakes: the expectation, the calendar file, the waitlist, cancelling."""

from __future__ import annotations

from bot.codes import EventFormat
from tests.support.chat import ChatUser
from tests.support.fakes import FakeWorld


async def onboarded(world: FakeWorld, *names: str) -> list[ChatUser]:
    users = [world.user(name) for name in names]
    for user in users:
        await user.onboard("Bendorf")
    return users


async def test_signing_up_with_an_expectation_confirms_with_a_calendar_file(
    world: FakeWorld, anna: ChatUser
) -> None:
    event_id = world.add_event("Holz trifft Laser")
    await anna.onboard("Bendorf")
    text = await anna.send(f"/start ev_{event_id}")
    assert "Plätze: 5 von 5 frei" in text
    text = await anna.tap("Anmelden")
    assert "Was erwartest du von dem Workshop?" in text and "Überspringen" in anna.labels
    text = await anna.send("Ich will lernen, wie man Holz mit dem Laser graviert.")
    assert "Du bist angemeldet für „Holz trifft Laser“." in text
    assert "Do., 26. Nov., 17–20 Uhr" in text and "MakerSpace Mayen-Koblenz" in text
    assert "Deine Erwartung: Ich will lernen" in text
    files = [m.attachment for m in anna.last if m.attachment]
    assert files and files[0].filename.endswith(".ics")
    text = await anna.send(f"/start ev_{event_id}")
    assert "Plätze: 4 von 5 frei" in text and "Du bist angemeldet." in text
    assert "Meine Anmeldung" in anna.labels and "Anmelden" not in anna.labels


async def test_networking_does_not_ask_and_a_workshop_expectation_can_be_skipped(
    world: FakeWorld, anna: ChatUser
) -> None:
    workshop = world.add_event("Holz trifft Laser")
    meeting = world.add_event("Stammtisch", capacity=None, fmt=EventFormat.NETWORKING)
    await anna.onboard("Bendorf")
    await anna.send(f"/start ev_{workshop}")
    await anna.tap("Anmelden")
    assert "Du bist angemeldet" in await anna.tap("Überspringen")
    await anna.send(f"/start ev_{meeting}")
    assert "Du bist angemeldet für „Stammtisch“" in await anna.tap("Anmelden")
    await anna.send("Menü")
    text = await anna.tap("Meine Anmeldungen")
    assert "Holz trifft Laser" in text and "Stammtisch" in text


async def test_a_full_event_puts_the_next_ones_on_the_waitlist_in_order(world: FakeWorld) -> None:
    event_id = world.add_event("Stammtisch", capacity=1, fmt=EventFormat.NETWORKING)
    anna, ben, cem = await onboarded(world, "anna", "ben", "cem")
    for user in (anna, ben, cem):
        await user.send(f"/start ev_{event_id}")
    await anna.tap("Anmelden")
    text = await ben.send(f"/start ev_{event_id}")
    assert "Plätze: 0 von 1 frei" in text and "Auf die Warteliste" in ben.labels
    text = await ben.tap("Auf die Warteliste")
    assert "ausgebucht" in text and "Du bist Nr. 1 auf der Warteliste." in text
    # Cem's screen is older: "Anmelden" on it still leads to the waitlist, and says so.
    assert "Du bist Nr. 2 auf der Warteliste." in await cem.tap("Anmelden")


async def test_cancelling_asks_first_and_the_next_one_moves_up(world: FakeWorld) -> None:
    event_id = world.add_event("Holz trifft Laser", capacity=1, fmt=EventFormat.NETWORKING)
    anna, ben, cem = await onboarded(world, "anna", "ben", "cem")
    for user in (anna, ben, cem):
        await user.send(f"/start ev_{event_id}")
        await user.tap("Anmelden" if user is anna else "Auf die Warteliste")

    await anna.send("Menü")
    text = await anna.tap("Meine Anmeldungen")
    assert "Holz trifft Laser" in text and "Du bist angemeldet." in text
    await anna.tap("Holz trifft Laser")
    assert "wirklich" in await anna.tap("Abmelden")
    assert "Du bist angemeldet." in await anna.tap("Nein")  # nothing changed
    await anna.tap("Abmelden")
    text = await anna.tap("Ja, abmelden")
    assert "Du bist von „Holz trifft Laser“ abgemeldet." in text
    assert "Du bist noch für nichts angemeldet." in text

    await ben.send("Menü")
    assert "Du bist angemeldet." in await ben.tap("Meine Anmeldungen")
    await cem.send("Menü")
    assert "Du bist Nr. 1 auf der Warteliste." in await cem.tap("Meine Anmeldungen")


async def test_a_too_long_expectation_is_asked_again_not_cut(
    world: FakeWorld, anna: ChatUser
) -> None:
    event_id = world.add_event("Holz trifft Laser")
    await anna.onboard("Bendorf")
    await anna.send(f"/start ev_{event_id}")
    await anna.tap("Anmelden")
    text = await anna.send("Ich möchte lernen. " * 100)  # 1 900 characters
    assert "Hier passen höchstens 1.000" in text and "Was erwartest du" in text
    assert "Du bist angemeldet" in await anna.send("Intarsien mit dem Laser.")
