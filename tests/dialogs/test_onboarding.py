"""Onboarding on fakes: greeting, language, where (postcode, town, location), interests."""

from __future__ import annotations

import re

from tests.support.chat import ChatUser
from tests.support.fakes import FakeWorld

MENU = [
    "Offene Werkstätten in der Nähe",
    "Veranstaltungen",
    "Meine Anmeldungen",
    "Themen in der Nähe",
    "Thema vorschlagen",
    "Einstellungen",
    "Meine Daten",
    "Hilfe",
]


async def test_a_newcomer_picks_german_types_a_postcode_and_an_interest(anna: ChatUser) -> None:
    text = await anna.send("hallo")
    assert "Willkommen bei Werkbank" in text and "nicht verstanden" not in text
    assert anna.labels == ["Deutsch (du)", "Deutsch (Sie)", "English"]
    await anna.tap("Deutsch")
    text = await anna.agree()
    assert "Wo bist du?" in text
    assert anna.last[-1].location_button == "📍 Standort senden"
    text = await anna.send("58636")
    assert "58636 Iserlohn" in text and "Was interessiert dich" in text
    text = await anna.tap("Handwerk")
    assert "Was möchtest du tun?" in text
    # Asked once, after the menu (its numbers stay the menu's); the default is no.
    assert "Möchtest du Neuigkeiten aus deiner Nähe?" in text
    assert anna.labels == [*MENU, "Ja, gern", "Nein, danke"]
    # Known from now on: /start is the menu, not the greeting again.
    text = await anna.send("/start")
    assert "Was möchtest du tun?" in text and "Willkommen" not in text


async def test_a_misspelt_or_ambiguous_town_is_sorted_out(anna: ChatUser) -> None:
    await anna.send("/start")
    await anna.tap("Deutsch")
    await anna.agree()
    assert "nicht finden" in await anna.send("Atlantis am Meer")
    assert "Wo bist du?" in anna.text
    text = await anna.send("Iserlon")
    assert "Ich habe verstanden: Iserlohn" in text and "Was interessiert dich" in text
    assert "Wo bist du?" in await anna.send("Zurück")
    text = await anna.send("Neustadt")
    assert "Welchen meinst du?" in text
    assert len([label for label in anna.labels if label.startswith("Neustadt")]) >= 3
    assert "Wo bist du?" in await anna.tap("Keiner davon")
    await anna.send("Neustadt")
    text = await anna.tap("Rheinland-Pfalz")
    assert "Was interessiert dich" in text


async def test_a_shared_location_must_be_in_germany(anna: ChatUser) -> None:
    await anna.send("/start")
    await anna.tap("Deutsch")
    await anna.agree()
    text = await anna.share_location(48.8566, 2.3522)  # Paris
    assert "nicht in Deutschland" in text and "Wo bist du?" in text
    text = await anna.share_location(50.43, 7.57)
    assert "Danke, ich habe deinen Standort (bei Bendorf)." in text
    assert "Was interessiert dich" in text


async def test_menu_and_help_during_onboarding_come_back_to_the_question(anna: ChatUser) -> None:
    await anna.send("/start")
    await anna.tap("Deutsch")
    await anna.agree()
    assert "Wo bist du?" in await anna.send("Menü")
    assert "Werkbank zeigt dir" in await anna.send("Hilfe")
    assert "Wo bist du?" in await anna.send("Zurück")


async def test_onboarding_in_english(anna: ChatUser) -> None:
    await anna.send("/start")
    await anna.tap("English")
    assert "Where are you?" in await anna.agree()
    await anna.send("Iserlohn")
    text = await anna.tap("Craft")
    assert "What would you like to do?" in text
    assert "Open workshops nearby" in anna.labels


async def test_a_poster_link_opens_the_event_right_after_the_location(
    world: FakeWorld, anna: ChatUser
) -> None:
    event_id = world.add_event("Holz trifft Laser")
    assert "Willkommen bei Werkbank" in await anna.send(f"/start ev_{event_id}")
    await anna.tap("Deutsch")
    await anna.agree()
    text = await anna.send("Bendorf")
    assert "Holz trifft Laser" in text and "Plätze: 5 von 5 frei" in text
    assert "Was interessiert dich" not in text  # the interests can wait for the settings
    assert "Was möchtest du tun?" in await anna.send("Menü")


DU_WORDS = re.compile(r"\b(du|dich|dir|dein\w*)\b", re.IGNORECASE)


async def test_one_tap_at_the_start_says_sie_and_the_settings_change_it(
    world: FakeWorld, anna: ChatUser
) -> None:
    text = await anna.send("/start")
    assert "Sollen wir „du“ oder „Sie“ sagen?" in text
    await anna.tap("Deutsch (Sie)")
    text = await anna.agree()
    assert world.member("anna").locale == "de@sie"
    assert "Sie" in text and not DU_WORDS.search(text), text
    text = await anna.send("58636")
    assert "58636 Iserlohn" in text and not DU_WORDS.search(text), text
    text = await anna.tap("Handwerk")
    assert not DU_WORDS.search(text), text
    text = await anna.tap("Einstellungen")
    assert "Deutsch (Sie)" in text and not DU_WORDS.search(text), text
    await anna.tap("Sprache ändern")
    text = await anna.tap("Deutsch (du)")
    assert world.member("anna").locale == "de"
    assert DU_WORDS.search(text), text  # "Deine Einstellungen", "du" again


async def test_typing_sie_at_the_language_question_picks_formal_german(
    world: FakeWorld, anna: ChatUser
) -> None:
    await anna.send("/start")
    text = await anna.send("Sie")
    assert world.member("anna").locale == "de@sie"
    assert not DU_WORDS.search(text), text
