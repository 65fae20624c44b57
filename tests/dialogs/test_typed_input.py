"""The rules every screen obeys for typed input, on fakes: a bare number where numbered
options are shown is that option; a value of one's own comes with its unit; the words
that leave a question are never its answer; a draft of several answers is discarded
only after asking."""

from __future__ import annotations

from tests.support.chat import ChatUser
from tests.support.fakes import FakeWorld


async def at_radius_question(user: ChatUser) -> str:
    await user.onboard("Bendorf")
    await user.tap("Einstellungen")
    return await user.tap("Umkreis ändern")


async def test_a_bare_number_is_the_numbered_option_never_kilometres(anna: ChatUser) -> None:
    text = await at_radius_question(anna)
    assert "[4] 100 km" in text and "„30 km“" in text  # the screen says how to type one
    assert "Umkreis: 100 km" in await anna.send("4")
    await anna.tap("Umkreis ändern")
    text = await anna.send("30")
    assert "Die Nummer 30 gibt es hier nicht. Bitte wähle eine Zahl von 1 bis 6." in text
    assert "Meinst du 30 km? Dann schreibe „30 km“." in text
    assert "Wie weit würdest du fahren?" in text  # the question again
    assert "Umkreis: 30 km" in await anna.send("30 km")
    await anna.tap("Umkreis ändern")
    assert "Umkreis: 42 km" in await anna.send("42 Kilometer")


async def test_where_buttons_show_no_numbers_a_bare_number_is_the_value(world: FakeWorld) -> None:
    erika = world.user("erika", channel="telegram")
    await at_radius_question(erika)
    assert "Umkreis: 4 km" in await erika.send("4")


async def draft_with_two_answers(world: FakeWorld) -> ChatUser:
    olga = world.user("olga")
    await olga.onboard("Bendorf")
    world.grant(olga)
    await olga.send("Menü")
    await olga.tap("Veranstaltung anlegen")
    await olga.tap("Treffen zum Kennenlernen")
    await olga.send("Stammtisch")
    return olga


async def test_seats_of_ones_own_come_with_the_word(world: FakeWorld) -> None:
    olga = await draft_with_two_answers(world)
    await olga.tap("Überspringen")
    await olga.tap("MakerSpace Mayen-Koblenz")
    await olga.send("Do 19 Uhr")
    text = await olga.tap("Ja")
    assert olga.labels[:3] == ["5 Plätze", "10 Plätze", "20 Plätze"]
    assert "„12 Plätze“" in text
    assert "Meinst du 12 Plätze?" in await olga.send("12")
    text = await olga.send("12 Plätze")
    assert "Mindestzahl" in text
    text = await olga.send("7")
    assert "Die Nummer 7 gibt es hier nicht" in text and "„7 Personen“" in text
    text = await olga.send("4 Personen")
    assert "Bis wann müssen genug Leute angemeldet sein?" in text


async def test_stop_at_the_expectation_question_signs_nobody_up(
    world: FakeWorld, anna: ChatUser
) -> None:
    event_id = world.add_event()  # a transfer workshop: it asks what one expects
    await anna.onboard("Bendorf")
    await anna.send(f"/start ev_{event_id}")
    assert "Was erwartest du" in await anna.tap("Anmelden")
    text = await anna.send("stop")
    assert "Gut, abgebrochen." in text and "Was möchtest du tun?" in text
    assert "Du bist noch für nichts angemeldet" in await anna.tap("Meine Anmeldungen")


async def test_every_word_for_leaving_leaves_and_is_never_saved(anna: ChatUser) -> None:
    await anna.onboard("Bendorf")
    for word in ("stop", "Stopp", "abbrechen", "Abbruch", "cancel", "quit", "/abbrechen"):
        await anna.tap("Einstellungen")
        assert "Wo bist du?" in await anna.tap("Ort ändern")
        text = await anna.send(word)
        assert "Was möchtest du tun?" in text, word
    assert "Dein Ort: Bendorf" in await anna.tap("Einstellungen")


async def test_leaving_a_draft_of_several_answers_asks_first(world: FakeWorld) -> None:
    olga = await draft_with_two_answers(world)
    text = await olga.send("abbrechen")
    assert "Alles verwerfen?" in text
    assert olga.labels == ["Ja, verwerfen", "Nein, weitermachen"]
    text = await olga.tap("weitermachen")
    assert "Beschreibe sie" in text  # the question she was at, the draft kept
    await olga.tap("Überspringen")
    await olga.tap("MakerSpace Mayen-Koblenz")
    assert "Alles verwerfen?" in await olga.send("Menü")
    text = await olga.tap("Ja, verwerfen")
    assert "Verworfen. Veröffentlicht ist nichts." in text
    assert "Was möchtest du tun?" in text
    assert "noch keine Veranstaltungen" in await olga.tap("Meine Veranstaltungen")


async def test_a_typed_request_in_a_draft_asks_before_the_answers_are_lost(
    world: FakeWorld,
) -> None:
    olga = await draft_with_two_answers(world)
    await olga.tap("Überspringen")
    assert "Wo findet sie statt?" in olga.text  # a screen of buttons
    assert "Alles verwerfen?" in await olga.send("termine morgen")
    assert "Wo findet sie statt?" in await olga.tap("weitermachen")


async def test_an_unknown_command_in_a_draft_keeps_the_draft(world: FakeWorld) -> None:
    olga = await draft_with_two_answers(world)
    text = await olga.send("/foo")
    assert "Diesen Befehl kenne ich nicht." in text and "Alles verwerfen?" in text
    assert "Beschreibe sie" in await olga.tap("weitermachen")


async def test_back_steps_through_a_draft_without_asking(world: FakeWorld) -> None:
    olga = await draft_with_two_answers(world)
    assert "Wie heißt die Veranstaltung?" in await olga.send("Zurück")


async def test_one_tap_into_a_new_event_leaves_without_asking(world: FakeWorld) -> None:
    olga = world.user("olga")
    await olga.onboard("Bendorf")
    world.grant(olga)
    await olga.send("Menü")
    await olga.tap("Veranstaltung anlegen")
    await olga.tap("Treffen zum Kennenlernen")  # one answer: nothing worth asking about
    text = await olga.send("stop")
    assert "Gut, abgebrochen." in text and "Was möchtest du tun?" in text


async def test_a_shared_location_is_no_answer_to_a_question_for_words(world: FakeWorld) -> None:
    olga = await draft_with_two_answers(world)
    text = await olga.share_location(50.43, 7.57)
    assert "einen Standort brauche ich gerade nicht" in text
    assert "Beschreibe sie" in text  # the same question, nothing stored
    await olga.tap("Überspringen")
    assert "Wo findet sie statt?" in olga.text


async def test_a_second_tap_on_the_previews_discard_only_asks_again(world: FakeWorld) -> None:
    olga = await draft_with_two_answers(world)
    await olga.tap("Überspringen")
    await olga.tap("MakerSpace Mayen-Koblenz")
    await olga.send("Do 19 Uhr")
    await olga.tap("Ja")
    await olga.tap("Unbegrenzt")
    await olga.tap("Keine Mindestzahl")
    await olga.tap("Bis zum Beginn")
    discard = olga.button("Verwerfen").payload
    assert "Alles verwerfen?" in await olga.press(discard)
    text = await olga.press(discard)  # the old preview's button, tapped again
    assert "Verworfen" not in text and "Alles verwerfen?" in text
    assert "Vorschau" in await olga.tap("weitermachen")
    await olga.press("seats:7")  # a forged button in the middle of a draft: it asks too
    assert "Alles verwerfen?" in olga.text
