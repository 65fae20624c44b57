"""Settings on fakes: what is set, language, location, radius, interests, reminders."""

from __future__ import annotations

from tests.support.chat import ChatUser


async def test_settings_show_what_onboarding_set(anna: ChatUser) -> None:
    await anna.onboard("Iserlohn")
    text = await anna.tap("Einstellungen")
    assert "Sprache: Deutsch" in text
    assert "Ort: Iserlohn" in text
    assert "Umkreis: 25 km" in text
    assert "Interesse: Handwerk" in text
    assert "Erinnerung am Vortag: an" in text


async def test_a_radius_button_saves_and_back_leaves_the_settings(anna: ChatUser) -> None:
    await anna.onboard("Bendorf")
    await anna.tap("Einstellungen")
    await anna.tap("Umkreis ändern")
    assert anna.labels[:4] == ["10 km", "25 km", "50 km", "100 km"]
    text = await anna.tap("50 km")
    assert "Umkreis: 50 km" in text
    assert "Was möchtest du tun?" in await anna.send("Zurück")


async def test_a_new_town_and_a_new_interest(anna: ChatUser) -> None:
    await anna.onboard("Iserlohn")
    await anna.tap("Einstellungen")
    await anna.tap("Ort ändern")
    assert "Ort: Bendorf" in await anna.send("Bendorf")
    await anna.tap("Interessen ändern")
    assert "Interesse: Digitale Fertigung" in await anna.tap("Digitale Fertigung")


async def test_english_changes_every_following_word(anna: ChatUser) -> None:
    await anna.onboard("Bendorf")
    await anna.tap("Einstellungen")
    await anna.tap("Sprache ändern")
    text = await anna.tap("English")
    assert "Language: English" in text and "Location: Bendorf" in text
    assert "What would you like to do?" in await anna.send("Menu")


async def test_reminders_switch_off_and_on(anna: ChatUser) -> None:
    await anna.onboard("Bendorf")
    await anna.tap("Einstellungen")
    text = await anna.tap("Erinnerung am Vortag")
    assert "Erinnerung ausgeschaltet." in text and "Erinnerung am Vortag: aus" in text
    assert "Erinnerung 2 Stunden vorher: an" in text
    text = await anna.tap("Erinnerung am Vortag")
    assert "Erinnerung eingeschaltet." in text and "Erinnerung am Vortag: an" in text
