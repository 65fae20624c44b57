"""Step 7: settings — language, location, radius, interests; and help."""

from __future__ import annotations

from tests.support.chat import ChatUser


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
    text = await user.send("9999 km")
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
    assert "Werkbank zeigt dir" in text
    assert "Schreibe „Kennung“" in text  # how to become an organiser
    assert len(user.last[0].text.splitlines()) <= 7
    assert "Was möchtest du tun?" in await user.tap("Zurück")


async def test_help_works_in_the_middle_of_onboarding_and_back_returns(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    await user.agree()
    assert "Werkbank zeigt dir" in await user.send("Hilfe")
    assert "Wo bist du?" in await user.send("zurück")


async def test_back_after_saving_leads_out_of_settings_not_into_them_again(user: ChatUser) -> None:
    await user.onboard()
    await user.tap("Einstellungen")
    await user.tap("Umkreis ändern")
    await user.tap("50 km")
    assert "Was möchtest du tun?" in await user.send("Zurück")


async def test_a_bare_number_is_the_option_and_kilometres_come_with_their_unit(
    user: ChatUser,
) -> None:
    await user.onboard()
    await user.tap("Einstellungen")
    await user.tap("Umkreis ändern")
    assert user.labels[3] == "100 km"
    assert "Umkreis: 100 km" in await user.send("4")  # option 4, never 4 km
    await user.tap("Umkreis ändern")
    text = await user.send("30")  # no option 30: how to type 30 km
    assert "Die Nummer 30 gibt es hier nicht" in text and "schreibe „30 km“" in text
    assert "Umkreis: 5 km" in await user.send("5 km")
    await user.tap("Umkreis ändern")
    assert "Umkreis: 30 km" in await user.send("30 Kilometer")
    await user.tap("Umkreis ändern")
    text = await user.send("³")
    assert "von 1 bis 500" in text and "etwas schiefgegangen" not in text


async def test_help_twice_then_back_returns_to_where_help_was_asked(user: ChatUser) -> None:
    await user.onboard()
    await user.tap("Einstellungen")
    await user.send("Hilfe")
    await user.send("Hilfe")
    assert "Deine Einstellungen" in await user.send("Zurück")
