"""Ids too large for the database's INTEGER, typed into a poster's link or forged into a
button, are no id of ours: the kind "not found" answer, and no error in the log."""

from __future__ import annotations

import logging

import pytest

from bot.app import Werkbank
from tests.support.chat import ChatUser

HUGE_IDS = ["123456789012", "99999999999", "2147483648"]


@pytest.mark.parametrize("number", HUGE_IDS)
async def test_a_deep_link_to_an_event_with_a_huge_id_says_it_is_not_listed(
    app: Werkbank, user: ChatUser, number: str, caplog: pytest.LogCaptureFixture
) -> None:
    await user.onboard("Bendorf")
    with caplog.at_level(logging.WARNING):
        text = await user.send(f"/start ev_{number}")
    assert "nicht mehr" in text and "Veranstaltung" in text, text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("number", HUGE_IDS)
async def test_a_deep_link_to_a_place_with_a_huge_id_says_it_is_not_listed(
    app: Werkbank, user: ChatUser, number: str, caplog: pytest.LogCaptureFixture
) -> None:
    await user.onboard("Bendorf")
    with caplog.at_level(logging.WARNING):
        text = await user.send(f"/start pl_{number}")
    assert "nicht mehr" in text and "Ort" in text, text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_huge_link_before_onboarding_is_not_found_after_it(
    app: Werkbank, user: ChatUser, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        await user.send("/start ev_123456789012")
        await user.tap("Deutsch")
        await user.agree()
        text = await user.send("Bendorf")  # a poster's link opens right after the place
    assert "nicht mehr" in text, text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("payload", ["ev:123456789012", "pl:99999999999", "signup:2147483648"])
async def test_a_button_with_a_huge_id_is_treated_as_stale(
    app: Werkbank, user: ChatUser, payload: str, caplog: pytest.LogCaptureFixture
) -> None:
    await user.onboard("Bendorf")
    with caplog.at_level(logging.WARNING):
        text = await user.press(payload)
    assert "nicht mehr aktuell" in text, text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
