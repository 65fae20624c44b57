"""Steps 1–3 of the first journey: greeting, language, where, interests."""

from __future__ import annotations

from bot.app import Werkbank
from tests.support.chat import ChatUser


async def test_start_greets_in_plain_german_and_offers_both_languages(user: ChatUser) -> None:
    text = await user.send("/start")
    assert "Willkommen bei Werkbank" in text
    assert user.labels == ["Deutsch (du)", "Deutsch (Sie)", "English"]


async def test_postcode_then_interest_leads_to_the_main_menu(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    text = await user.agree()
    assert "Wo bist du?" in text
    assert user.last[-1].location_button == "📍 Standort senden"
    text = await user.send("58636")
    assert "58636 Iserlohn" in text
    assert "Was interessiert dich" in text
    text = await user.tap("Handwerk")
    assert "Was möchtest du tun?" in text
    assert user.labels[:8] == [
        "Offene Werkstätten in der Nähe",
        "Veranstaltungen",
        "Meine Anmeldungen",
        "Themen in der Nähe",
        "Thema vorschlagen",
        "Einstellungen",
        "Meine Daten",
        "Hilfe",
    ]


async def test_misspelt_town_is_understood_and_said_back(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    await user.agree()
    text = await user.send("Iserlon")
    assert "Ich habe verstanden: Iserlohn" in text


async def test_sloppy_and_transliterated_towns_are_found(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    await user.agree()
    assert "Alles klar: Iserlohn (Nordrhein-Westfalen)." in await user.send(" iserlohn ")
    await user.send("/einstellungen")
    await user.tap("Ort ändern")
    assert "Mönchengladbach" in await user.send("Moenchengladbach")


async def test_ambiguous_town_asks_which_one_with_the_state(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    await user.agree()
    text = await user.send("Neustadt")
    assert "Welchen meinst du?" in text
    towns = [label for label in user.labels if label.startswith("Neustadt")]
    assert len(towns) >= 3
    assert any("Rheinland-Pfalz" in label for label in towns)
    assert any("Holstein" in label or "Schleswig-Holstein" in label for label in towns)
    pick = next(label for label in towns if "Rheinland-Pfalz" in label)
    text = await user.tap(pick)
    assert "Was interessiert dich" in text


async def test_none_of_these_asks_for_the_place_again(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    await user.agree()
    await user.send("Neustadt")
    assert "Wo bist du?" in await user.tap("Keiner davon")


async def test_shared_location_is_accepted(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    await user.agree()
    text = await user.share_location(51.3745, 7.6961)
    assert "Danke, ich habe deinen Standort (bei Iserlohn)." in text
    assert "Was interessiert dich" in text


async def test_location_abroad_gets_a_kind_answer(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    await user.agree()
    text = await user.share_location(48.8566, 2.3522)
    assert "nicht in Deutschland" in text
    assert "Wo bist du?" in text


async def test_unknown_town_gets_a_hint_and_the_question_again(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    await user.agree()
    text = await user.send("Atlantis am Meer")
    assert "nicht finden" in text
    assert "Wo bist du?" in text


async def test_onboarding_in_english(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("English")
    text = await user.agree()
    assert "Where are you?" in text
    await user.send("Iserlohn")
    text = await user.tap("Craft")
    assert "What would you like to do?" in text
    assert "Open workshops nearby" in user.labels


async def test_onboarding_by_typing_numbers_and_labels(user: ChatUser) -> None:
    await user.send("/start")
    assert "Einverstanden" in await user.send("1")
    assert "Wo bist du?" in await user.send("einverstanden")
    await user.send("Iserlohn")
    assert "Was möchtest du tun?" in await user.send("handwerk")


async def test_restart_in_the_middle_of_onboarding_continues(app: Werkbank, clock: list) -> None:
    first = ChatUser(app.runner, "bernd")
    await first.send("/start")
    await first.tap("Deutsch")
    await first.agree()
    # The chat program ends; a new process opens the same database.
    again = await Werkbank.open(app.settings, clock=lambda: clock[0])
    try:
        second = ChatUser(again.runner, "bernd")
        assert "Wo bist du?" in await second.open_chat()
        assert "Wo bist du?" in await second.send("/start")
        assert "Was interessiert dich" in await second.send("Iserlohn")
    finally:
        await again.close()


async def test_known_member_gets_the_menu_not_the_onboarding(app: Werkbank, user: ChatUser) -> None:
    await user.onboard()
    text = await user.send("/start")
    assert "Was möchtest du tun?" in text
    assert "Willkommen bei Werkbank" not in text
    returning = ChatUser(app.runner, "anna")
    assert "Was möchtest du tun?" in await returning.open_chat()


async def test_first_message_of_any_kind_gets_the_greeting_without_a_scolding(
    user: ChatUser,
) -> None:
    text = await user.send("hallo")
    assert "Willkommen bei Werkbank" in text
    assert "nicht verstanden" not in text


async def test_language_can_be_typed(user: ChatUser) -> None:
    await user.send("/start")
    assert "I agree" in await user.send("englisch")
    assert "Where are you?" in await user.send("1")


async def test_menu_during_onboarding_keeps_the_member_in_onboarding(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    await user.agree()
    assert "Wo bist du?" in await user.send("Menü")
    assert "Wo bist du?" in await user.send("/gibtsnicht")
    await user.send("Hilfe")
    assert "Wo bist du?" in await user.send("Menü")


async def test_which_town_also_takes_a_typed_postcode(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    await user.agree()
    await user.send("Neustadt")
    text = await user.send("67433")
    assert "67433 Neustadt an der Weinstraße" in text
    assert "Was interessiert dich" in text


async def test_back_from_the_menu_after_onboarding_does_not_reopen_onboarding(
    user: ChatUser,
) -> None:
    await user.onboard()
    assert "Was möchtest du tun?" in await user.send("Zurück")


async def test_a_shared_location_reads_the_same_after_switching_language(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    await user.agree()
    await user.share_location(50.43, 7.57)
    await user.tap("Handwerk")
    await user.tap("Einstellungen")
    await user.tap("Sprache ändern")
    text = await user.tap("English")
    assert "Location: Bendorf" in text


async def test_a_poster_link_opens_the_place_after_language_and_location(
    app: Werkbank, user: ChatUser
) -> None:
    from sqlalchemy import select

    from bot.storage.models import Place

    async with app.db.sessions() as session:
        place_id = (
            await session.execute(select(Place.id).where(Place.name == "MakerSpace Mayen-Koblenz"))
        ).scalar_one()
    assert "Willkommen bei Werkbank" in await user.send(f"/start pl_{place_id}")
    await user.tap("Deutsch")
    await user.agree()
    text = await user.send("Bendorf")
    assert "MakerSpace Mayen-Koblenz" in text and "Öffnungszeiten:" in text
    assert "Was interessiert dich" not in text
    assert "Was möchtest du tun?" in await user.send("Menü")  # onboarded: the menu, not questions


async def test_a_poster_link_for_a_known_member_opens_at_once(
    app: Werkbank, user: ChatUser
) -> None:
    from sqlalchemy import select

    from bot.storage.models import Event

    await user.onboard("Bendorf")
    async with app.db.sessions() as session:
        event_id = (await session.execute(select(Event.id).limit(1))).scalar_one()
    text = await user.send(f"/start ev_{event_id}")
    assert "Uhr" in text and "Wo:" in text
    assert "nicht mehr" in await user.send("/start ev_999999")
