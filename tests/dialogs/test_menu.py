"""The main menu and help on fakes: entries, numbers and labels, help, stale buttons."""

from __future__ import annotations

from tests.support.chat import ChatUser
from tests.support.fakes import FakeWorld


async def test_the_menu_offers_organising_only_to_organisers(
    world: FakeWorld, anna: ChatUser
) -> None:
    await anna.onboard("Bendorf")
    assert "Veranstaltung anlegen" not in anna.labels
    world.grant(anna)
    await anna.send("Menü")
    assert {"Veranstaltung anlegen", "Meine Veranstaltungen"} <= set(anna.labels)


async def test_numbers_and_labels_choose_and_a_wrong_number_is_explained(anna: ChatUser) -> None:
    await anna.onboard("Bendorf")
    assert "Welche Veranstaltungen" in await anna.send("2")
    assert "Was möchtest du tun?" in await anna.send("menü")
    assert "Orte im Umkreis" in await anna.send("Offene Werkstätten in der Nähe")
    await anna.send("Menü")
    text = await anna.send("9")
    assert "Die Nummer 9 gibt es hier nicht. Bitte wähle eine Zahl von 1 bis 8." in text
    assert "Was möchtest du tun?" in text


async def test_help_says_what_the_bot_does_and_back_returns(anna: ChatUser) -> None:
    await anna.onboard("Bendorf")
    text = await anna.tap("Hilfe")
    assert "Werkbank zeigt dir" in text
    assert "Schreibe „Kennung“" in text  # how to become an organiser
    assert len(anna.last[0].text.splitlines()) <= 7
    assert "Was möchtest du tun?" in await anna.tap("Zurück")
    await anna.tap("Einstellungen")
    await anna.send("Hilfe")
    assert "Deine Einstellungen" in await anna.send("Zurück")


async def test_my_id_names_the_account_for_the_operator(world: FakeWorld, anna: ChatUser) -> None:
    await anna.onboard("Bendorf")
    text = await anna.send("/id")
    assert "Dein Werkbank-Konto: console:anna" in text
    assert "Was möchtest du tun?" in text  # and the menu again
    world.grant(anna)
    assert "Person, die Werkbank" not in await anna.send("Kennung")


async def test_an_old_button_is_stale_and_leads_to_the_menu(anna: ChatUser) -> None:
    await anna.onboard("Bendorf")
    old = anna.button("Veranstaltungen").payload
    await anna.tap("Einstellungen")
    text = await anna.press(old)
    assert "nicht mehr aktuell" in text and "Was möchtest du tun?" in text
