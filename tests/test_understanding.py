"""Typed requests (issue 15, part 1): what people type instead of tapping leads where
they meant, on the corpus of realistic messages and in the chat itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Werkbank
from bot.understanding import Action, Lexicon, lexicon, understand
from tests.support.chat import ChatUser

DATA = Path(__file__).parent / "data"


def corpus(name: str) -> list[tuple[str, str, str]]:
    """(locale, expected action or "none", text) of a corpus file."""
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            locale, expected, text = line.split("\t")
            rows.append((locale, expected, text))
    return rows


def leads_where_meant(locale: str, expected: str, text: str) -> bool:
    """Right when the one action is the one meant, or it is among the two or three
    offered as buttons (one tap away); for "none", when nothing is read into it."""
    actions = [a.value for a in understand(text, locale).actions]
    return not actions if expected == "none" else expected in actions


def accuracy(name: str) -> tuple[float, list[tuple[str, str, str]]]:
    rows = corpus(name)
    wrong = [row for row in rows if not leads_where_meant(*row)]
    return 1 - len(wrong) / len(rows), wrong


def test_the_corpus_is_large_and_covers_every_action() -> None:
    rows = corpus("understanding_corpus.tsv")
    assert len(rows) >= 300
    named = {expected for _, expected, _ in rows}
    assert named == {a.value for a in Action} | {"none"}
    assert {locale for locale, _, _ in rows} == {"de", "en"}


def test_typed_messages_lead_where_they_were_meant() -> None:
    """The corpus the lexicon was tuned on: at most one message in 20 goes astray."""
    share, wrong = accuracy("understanding_corpus.tsv")
    assert share >= 0.95, "\n".join(" | ".join(row) for row in wrong)


def test_messages_nobody_tuned_for_lead_where_they_were_meant_nine_times_in_ten() -> None:
    """Written apart from the lexicon and never used to tune it: the honest figure."""
    share, wrong = accuracy("understanding_heldout.tsv")
    assert share >= 0.90, "\n".join(" | ".join(row) for row in wrong)


@pytest.mark.parametrize(
    ("text", "locale", "actions"),
    [
        ("Verantstaltungen", "de", (Action.EVENTS,)),
        ("TERMINE MORGEN!!!", "de", (Action.EVENTS_TOMORROW,)),
        ("guten morgen", "de", (Action.GREETING,)),  # a greeting, not tomorrow
        ("Moin, was ist heute los?", "de", (Action.EVENTS_TODAY,)),
        ("naechste woche", "de", (Action.EVENTS_NEXT_WEEK,)),
        ("meine anmeldungen", "de", (Action.MY_SIGNUPS,)),  # not "anmelden"
        ("Holzwerkstatt", "de", (Action.PLACES,)),  # a compound
        ("dnake", "de", (Action.THANKS,)),  # two letters swapped
        ("bello", "de", ()),  # one letter from "hello", but not a greeting
        ("Halle", "de", ()),  # a town, not "hallo"
        ("schönes wetter heute", "de", ()),  # a day among other words is no request
        ("events tomorow", "en", (Action.EVENTS_TOMORROW,)),
        ("Werkstatt", "en", (Action.PLACES,)),  # the other language is read too
    ],
)
def test_what_single_messages_mean(text: str, locale: str, actions: tuple[Action, ...]) -> None:
    assert understand(text, locale).actions == actions


def test_a_word_of_several_requests_asks_which() -> None:
    assert set(understand("ändern", "de").actions) == {
        Action.CHANGE_PLACE,
        Action.CHANGE_RADIUS,
        Action.CHANGE_LANGUAGE,
    }


def test_the_lexicon_is_data_checked_when_it_is_read() -> None:
    assert all(lexicon(locale).phrases for locale in ("de", "en"))
    with pytest.raises(ValueError, match="not_an_action"):
        Lexicon.parse({"ignore": [], "actions": {"not_an_action": ["x"]}, "when": {}})
    with pytest.raises(ValueError):
        Lexicon.parse({"ignore": [], "actions": {"places": "werkstatt"}, "when": {}})


def test_a_very_long_message_still_finds_its_request() -> None:
    # Only its first MOST_WORDS words are read, so the time stays that of a short one.
    assert understand("werkstatt " * 5000, "de").actions == (Action.PLACES,)


# -- in the chat ------------------------------------------------------------------------
async def test_typed_requests_at_the_menu_open_their_screens(user: ChatUser) -> None:
    await user.onboard()
    await user.send("termine morgen")
    text = user.text
    assert "Veranstaltungen morgen" in text or "Morgen gibt es keine Veranstaltungen" in text
    await user.send("Menü")
    await user.send("ich will meinen wohnort ändern")
    assert "Postleitzahl" in user.text
    await user.send("Menü")
    await user.send("was gibt es in der nähe")
    assert "Orte im Umkreis von 25 km" in user.text


async def test_an_unclear_request_asks_with_buttons_and_one_tap_goes_there(
    user: ChatUser,
) -> None:
    await user.onboard()
    await user.send("ändern")
    assert "Meinst du eins davon?" in user.text
    assert {"Meinen Ort ändern", "Umkreis ändern", "Sprache ändern"} <= set(user.labels)
    await user.tap("Umkreis ändern")
    assert "100 km" in user.labels
    await user.send("Zurück")
    assert "Meinst du eins davon?" in user.text


async def test_a_greeting_mid_question_greets_back_and_asks_again(
    app: Werkbank, user: ChatUser
) -> None:
    await user.onboard()
    await user.send("/einstellungen")
    await user.tap("Ort ändern")
    question = user.text
    await user.send("Moin")
    assert "Hallo!" in user.text and question.strip() in user.text
    conv = await app.conversations.open(user.account)
    assert conv.member.home_label is not None and "Iserlohn" in conv.member.home_label
    await user.send("danke")
    assert "Gern geschehen!" in user.text and "Was möchtest du tun?" in user.text


async def test_a_free_text_that_begins_with_hallo_is_still_the_answer(user: ChatUser) -> None:
    await user.onboard()
    await user.tap("Thema vorschlagen")
    await user.send("Hallo")  # a greeting alone: greeted, the question again
    assert "Hallo!" in user.text
    await user.send("Hallo Nachbarn: Sensen dengeln lernen")
    assert "Hallo!" not in user.text and "nicht verstanden" not in user.text


async def test_onboarding_questions_come_first_but_a_greeting_is_answered(
    user: ChatUser,
) -> None:
    await user.send("/start")
    first = user.text
    await user.send("Servus")
    assert "Hallo!" in user.text and first.strip() in user.text
    await user.send("termine")
    assert "Veranstaltungen" not in user.labels  # still the language question
    assert "Deutsch (du)" in user.labels


async def test_thanks_and_goodbye_end_at_the_menu_in_english(user: ChatUser) -> None:
    await user.onboard(language="English", town="Iserlohn", field="Craft")
    await user.send("events tomorow")
    assert "tomorrow" in user.text
    await user.send("thx")
    assert "You're welcome!" in user.text and "What would you like to do?" in user.text
    await user.send("bye")
    assert "Goodbye!" in user.text
