"""Step 8 and promise 4: anything unexpected gets a short kind answer and the menu or the
question again — never silence, never a stack trace — and nothing is lost."""

from __future__ import annotations

import pytest

from bot.app import Werkbank
from bot.messages import Kind
from tests.support.chat import ChatUser

MENU_LABELS = {"Offene Werkstätten in der Nähe", "Veranstaltungen", "Einstellungen", "Hilfe"}
HUGE = "Xylofon " * 1250  # 10 000 characters of no request


async def profile(app: Werkbank, name: str = "anna") -> tuple:  # type: ignore[type-arg]
    conv = await app.conversations.open(ChatUser(app.runner, name).account)
    m = conv.member
    return (m.home, m.home_label, m.radius_km, m.field, m.locale, m.onboarded, m.role)


def assert_kind_answer_with_menu(user: ChatUser) -> None:
    text = user.text
    assert text.strip(), "silence"
    assert "Traceback" not in text and "Error" not in text
    assert set(user.labels) >= MENU_LABELS, user.labels
    assert len(user.last[0].text) < 200, "a hint is short"


# Typed into the main menu.
MENU_INPUT = [
    pytest.param("blablub", "nicht verstanden", id="random-text"),
    pytest.param("🙂", "nicht verstanden", id="emoji"),
    pytest.param(HUGE, "nicht verstanden", id="10000-characters"),
    pytest.param("12", "Die Nummer 12 gibt es hier nicht", id="option-out-of-range"),
    pytest.param("0", "Die Nummer 0 gibt es hier nicht", id="option-zero"),
    pytest.param("123", "Die Nummer 123 gibt es hier nicht", id="three-digit-number"),
    pytest.param("-1", "nicht verstanden", id="negative-number"),
    pytest.param("31.02.2026", "nicht verstanden", id="impossible-date"),
    pytest.param("'; DROP TABLE member; --", "nicht verstanden", id="sql-in-text"),
    pytest.param("<b>fett</b>", "nicht verstanden", id="html"),
    pytest.param("\x00\x07\x1b[31m", "nicht verstanden", id="control-characters"),
    pytest.param("مرحبا", "nicht verstanden", id="right-to-left-script"),
    pytest.param("/gibtsnicht", "Diesen Befehl kenne ich nicht", id="unknown-command"),
    pytest.param("/", "Diesen Befehl kenne ich nicht", id="bare-slash"),
]


@pytest.mark.parametrize(("text", "hint"), MENU_INPUT)
async def test_unexpected_text_in_the_menu(
    app: Werkbank, user: ChatUser, text: str, hint: str
) -> None:
    await user.onboard()
    before = await profile(app)
    await user.send(text)
    assert hint in user.text
    assert_kind_answer_with_menu(user)
    assert await profile(app) == before


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        pytest.param(Kind.VOICE, "nur Text und Knöpfe", id="voice-note"),
        pytest.param(Kind.FILE, "nur Text und Knöpfe", id="file"),
        pytest.param(Kind.OTHER, "nur Text und Knöpfe", id="sticker"),
    ],
)
async def test_media_gets_a_friendly_text(
    app: Werkbank, user: ChatUser, kind: Kind, hint: str
) -> None:
    await user.onboard()
    await user.send_kind(kind)
    assert hint in user.text
    assert_kind_answer_with_menu(user)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("pl:99999", id="forged-place-id"),
        pytest.param("x" * 64, id="forged-64-bytes"),
        pytest.param("more", id="stale-more-button"),
        pytest.param("lang:fr", id="stale-language-button"),
        pytest.param("", id="empty-payload"),
    ],
)
async def test_stale_or_forged_buttons_get_the_menu(
    app: Werkbank, user: ChatUser, payload: str
) -> None:
    await user.onboard()
    before = await profile(app)
    await user.press(payload)
    assert "nicht mehr aktuell" in user.text
    assert_kind_answer_with_menu(user)
    assert await profile(app) == before


async def test_a_location_nobody_asked_for(app: Werkbank, user: ChatUser) -> None:
    await user.onboard()
    before = await profile(app)
    await user.share_location(52.52, 13.40)
    assert "brauche ich gerade nicht" in user.text
    assert_kind_answer_with_menu(user)
    assert await profile(app) == before


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(HUGE, id="10000-characters"),
        pytest.param("🙂🙂🙂", id="emoji"),
        pytest.param("Xyzzy", id="unknown-town"),
        pytest.param("12", id="two-digit-not-a-postcode"),
        pytest.param("99999", id="postcode-that-does-not-exist"),
        pytest.param("   ", id="only-spaces"),
    ],
)
async def test_garbage_as_a_town_asks_again_kindly(
    app: Werkbank, user: ChatUser, text: str
) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    await user.agree()
    await user.send(text)
    assert "Wo bist du?" in user.text
    assert len(user.last[0].text) < 200
    assert "Zurück" in user.labels and "Menü" in user.labels


async def test_a_button_from_an_old_screen_after_moving_on(app: Werkbank, user: ChatUser) -> None:
    await user.onboard("Bendorf")
    await user.tap("Offene Werkstätten")
    old = user.button("MakerSpace").payload
    await user.send("Menü")
    await user.press(old)
    assert "nicht mehr aktuell" in user.text
    assert_kind_answer_with_menu(user)


async def test_menu_words_work_in_any_case(user: ChatUser) -> None:
    await user.onboard()
    await user.tap("Einstellungen")
    assert set((await user.send("MENÜ")) and user.labels) >= MENU_LABELS
    await user.tap("Einstellungen")
    assert set((await user.send("menu")) and user.labels) >= MENU_LABELS


async def test_a_failing_dialog_apologises_with_the_menu(app: Werkbank, user: ChatUser) -> None:
    await user.onboard()

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    app.services.places.find_nearby = broken  # type: ignore[method-assign]
    await user.tap("Offene Werkstätten")
    assert "etwas schiefgegangen" in user.text
    assert_kind_answer_with_menu(user)


ENGLISH_MENU = {"Open workshops nearby", "Events", "Settings", "Help"}


@pytest.mark.parametrize(
    ("send", "hint"),
    [
        pytest.param("blablub", "didn't understand", id="random-text"),
        pytest.param("12", "There is no number 12 here", id="option-out-of-range"),
        pytest.param("/nope", "don't know that command", id="unknown-command"),
        pytest.param(HUGE, "didn't understand", id="10000-characters"),
    ],
)
async def test_unexpected_input_in_english(user: ChatUser, send: str, hint: str) -> None:
    await user.onboard("Bendorf", language="English", field="Craft")
    await user.send(send)
    assert hint in user.text
    assert set(user.labels) >= ENGLISH_MENU


async def test_a_voice_note_in_english(user: ChatUser) -> None:
    await user.onboard("Bendorf", language="English", field="Craft")
    await user.send_kind(Kind.VOICE)
    assert "I understand text and buttons only" in user.text
    assert set(user.labels) >= ENGLISH_MENU
