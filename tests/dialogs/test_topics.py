"""Topics on fakes: proposing with the similar topics first, "Themen in der Nähe",
"Ich auch" with a wish and the one question about invitations, and the author's edits."""

from __future__ import annotations

from tests.support.chat import ChatUser
from tests.support.fakes import FakeWorld


async def propose(user: ChatUser, title: str, sentence: str = "", *fields: str) -> str:
    await user.send("Menü")
    await user.tap("Thema vorschlagen")
    text = await user.send(title)
    if "Ist es eines davon?" in text:
        text = await user.tap("meins ist neu")
    if sentence:
        await user.send(sentence)
    else:
        await user.tap("Überspringen")
    for field in fields or ("Handwerk",):
        await user.tap(field)
    return await user.tap("Weiter")


async def test_a_member_proposes_a_topic_in_three_short_steps(anna: ChatUser) -> None:
    await anna.onboard("Bendorf")
    assert "Worum geht es?" in await anna.tap("Thema vorschlagen")
    assert "In einem Satz" in await anna.send("Lasercutter für Holz")
    text = await anna.send("Ich will Intarsien für Möbel schneiden.")
    assert "Welche Bereiche" in text and anna.labels[:3] == [
        "Handwerk",
        "Gestaltung (Design)",
        "Digitale Fertigung",
    ]
    assert "Bitte wähle mindestens einen Bereich." in await anna.tap("Weiter")
    await anna.tap("Handwerk")
    assert anna.labels[0] == "✓ Handwerk"
    await anna.tap("Digitale Fertigung")
    text = await anna.tap("Weiter")
    assert "Dein Thema ist eingetragen" in text
    assert "Lasercutter für Holz" in text and "Handwerk, Digitale Fertigung" in text
    assert "1 Person in deiner Nähe" in text and "Du hast dieses Thema vorgeschlagen." in text


async def test_a_similar_topic_nearby_is_offered_and_joining_is_one_tap(world: FakeWorld) -> None:
    anna, ben = world.user("anna"), world.user("ben")
    await anna.onboard("Bendorf")
    await propose(anna, "Lasercutter für Holz")
    await ben.onboard("Bendorf")
    await ben.tap("Thema vorschlagen")
    text = await ben.send("Laser-Cutter fuer Hölzer")
    assert "Ist es eines davon?" in text
    assert ben.labels[0] == "Ich auch: Lasercutter für Holz"
    assert "erhoffst" in await ben.tap("Ich auch: Lasercutter")
    text = await ben.send("Schwalbenschwänze sauber schneiden")
    assert "Notiert: Du willst das auch." in text
    assert "Dürfen Veranstalter dich persönlich" in text
    text = await ben.tap("Ja")
    assert "Persönliche Einladungen in kleine Gruppen: an" in text
    assert "2 Leute in deiner Nähe" in text and "Dein Wunsch: Schwalbenschwänze" in text
    await anna.send("Menü")
    assert "ben" not in (await anna.tap("Themen in der Nähe")).lower()  # never who


async def test_joining_is_never_forced_and_the_question_comes_once(world: FakeWorld) -> None:
    anna, ben = world.user("anna"), world.user("ben")
    await anna.onboard("Bendorf")
    await propose(anna, "Lasercutter für Holz")
    await propose(anna, "Drechseln")
    await ben.onboard("Bendorf")
    await propose(ben, "Holz lasern")  # looks alike; "Nein, meins ist neu"
    await ben.send("Menü")
    text = await ben.tap("Themen in der Nähe")
    assert "Holz lasern" in text and "Lasercutter für Holz" in text
    await ben.tap("Drechseln")
    await ben.tap("Ich auch")
    text = await ben.tap("Überspringen")
    assert "Dürfen Veranstalter" in text
    await ben.tap("Nein")
    await ben.send("Menü")
    await ben.tap("Themen in der Nähe")
    await ben.tap("Lasercutter für Holz")
    await ben.tap("Ich auch")
    text = await ben.tap("Überspringen")
    assert "Notiert" in text and "Dürfen Veranstalter" not in text  # asked once


async def test_own_topics_supporting_twice_and_withdrawing(world: FakeWorld) -> None:
    anna, ben = world.user("anna"), world.user("ben")
    await anna.onboard("Bendorf")
    await propose(anna, "Lasercutter für Holz")
    assert "Dieses Thema hast du schon vorgeschlagen" in await propose(anna, "Lasercutter für Holz")
    await ben.onboard("Bendorf")
    await ben.tap("Themen in der Nähe")
    await ben.tap("Lasercutter für Holz")
    await ben.tap("Ich auch")
    await ben.tap("Überspringen")
    await ben.tap("Nein")
    again = await ben.tap("Will ich nicht mehr")
    assert "Du unterstützt dieses Thema nicht mehr." in again and "Ich auch" in ben.labels

    await anna.send("Menü")
    await anna.tap("Themen in der Nähe")
    await anna.tap("Lasercutter für Holz")
    assert "Ich auch" not in anna.labels  # one's own topic counts already
    await anna.tap("Titel ändern")
    assert "Geändert." in await anna.send("Lasercutter für Holz und Acryl")
    await anna.tap("Thema zurückziehen")
    text = await anna.tap("Ja, zurückziehen")
    assert "Das Thema ist zurückgezogen." in text and "Was möchtest du tun?" in text
    await ben.send("Menü")
    assert "Lasercutter" not in await ben.tap("Themen in der Nähe")


async def test_titles_without_words_or_too_long_are_asked_again(anna: ChatUser) -> None:
    await anna.onboard("Bendorf")
    await anna.tap("Thema vorschlagen")
    assert "Bitte schreibe den Titel in Worten." in await anna.send("🔥🔥🔥")
    text = await anna.send("Holz " * 40)
    assert "höchstens 120" in text and "Worum geht es?" in text


async def test_an_organiser_whose_role_was_taken_back_gets_the_kind_refusal(
    world: FakeWorld,
) -> None:
    from bot.codes import Role

    anna, olga = world.user("anna"), world.user("olga")
    await anna.onboard("Bendorf")
    await propose(anna, "Lasercutter für Holz")
    await olga.onboard("Bendorf")
    world.grant(olga)
    await olga.send("Menü")
    await olga.tap("Themen in der Nähe")
    await olga.tap("Lasercutter für Holz")
    world.grant(olga, Role.MEMBER)  # revoked while the screen is open
    text = await olga.tap("Workshop daraus machen")
    assert "Das dürfen nur Veranstalter" in text and "Was möchtest du tun?" in text


async def test_an_organiser_closes_a_topic_with_a_reason(world: FakeWorld) -> None:
    anna, olga = world.user("anna"), world.user("olga")
    await anna.onboard("Bendorf")
    await propose(anna, "Plotter für Schilder")
    await olga.onboard("Bendorf")
    world.grant(olga)
    await olga.send("Menü")
    await olga.tap("Themen in der Nähe")
    await olga.tap("Plotter für Schilder")
    assert "Warum schließt du das Thema?" in await olga.tap("Thema schließen")
    text = await olga.send("Gibt es schon in Koblenz.")
    assert "Grund: Gibt es schon in Koblenz." in text
    text = await olga.tap("Ja, schließen")
    assert "Das Thema ist geschlossen. Ich sage es 1 Person." in text
    assert "noch keine Themen" in text  # closed topics are no longer listed
