"""Step 7: settings — language, location, radius, interests; and help."""

from __future__ import annotations

from tests.chat import ChatUser


async def test_settings_show_current_values(user: ChatUser) -> None:
    await user.onboard("Iserlohn")
    text = await user.tap("Einstellungen")
    assert "Sprache: Deutsch" in text
    assert "Ort: Iserlohn" in text
    assert "Umkreis: 25 km" in text
    assert "Interesse: Handwerk" in text


async def test_switching_to_english_changes_every_following_word(user: ChatUser) -> None:
    await user.onboard()
    await user.tap("Einstellungen")
    await user.tap("Sprache ändern")
    text = await user.tap("English")
    assert "Language: English" in text
    assert "What would you like to do?" in await user.send("Menu")


async def test_radius_by_button_and_by_typing(user: ChatUser) -> None:
    await user.onboard()
    await user.tap("Einstellungen")
    await user.tap("Umkreis ändern")
    assert "Umkreis: 50 km" in await user.tap("50 km")
    await user.tap("Umkreis ändern")
    assert "Umkreis: 35 km" in await user.send("35 km")
    await user.tap("Umkreis ändern")
    text = await user.send("9999")
    assert "von 1 bis 500" in text
    assert "Wie weit" in text


async def test_changing_location_and_interest(user: ChatUser) -> None:
    await user.onboard()
    await user.tap("Einstellungen")
    await user.tap("Ort ändern")
    assert "Ort: Bendorf" in await user.send("Bendorf")
    await user.tap("Interessen ändern")
    assert "Interesse: Digitale Fertigung" in await user.tap("Digitale Fertigung")


async def test_help_says_what_the_bot_does_in_a_few_lines(user: ChatUser) -> None:
    await user.onboard()
    text = await user.tap("Hilfe")
    assert "Werkbank hilft dir" in text
    assert len(user.last[0].text.splitlines()) <= 6
    assert "Was möchtest du tun?" in await user.tap("Zurück")


async def test_help_works_in_the_middle_of_onboarding_and_back_returns(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    assert "Werkbank hilft dir" in await user.send("Hilfe")
    assert "Wo bist du?" in await user.send("zurück")
