"""Where a member is, typed as people write it: additions, districts, addresses."""

from __future__ import annotations

import pytest

from bot.geo import GeoPoint, haversine_km
from tests.support.chat import ChatUser
from tests.support.fakes import FakeWorld

HAGEN = GeoPoint(51.36, 7.47)
ISERLOHN = GeoPoint(51.38, 7.70)


@pytest.mark.parametrize(
    ("typed", "said", "label", "near"),
    [
        ("Hagen (Westf.)", "Alles klar: Hagen (Nordrhein-Westfalen)", "Hagen", HAGEN),
        (
            "Letmathe",
            "Alles klar: Iserlohn-Letmathe (Nordrhein-Westfalen)",
            "Iserlohn-Letmathe",
            ISERLOHN,
        ),
        ("Bahnhofstr. 1 Iserlohn", "Alles klar: Iserlohn", "Iserlohn", ISERLOHN),
        (
            "Bahnhofstraße 1, 58636 Iserlohn",
            "Alles klar: 58636 Iserlohn",
            "58636 Iserlohn",
            ISERLOHN,
        ),
    ],
)
async def test_a_newcomer_types_the_place_as_people_write_it(
    world: FakeWorld, anna: ChatUser, typed: str, said: str, label: str, near: GeoPoint
) -> None:
    await anna.send("/start")
    await anna.tap("Deutsch")
    await anna.agree()
    text = await anna.send(typed)
    assert said in text and "Was interessiert dich" in text
    member = world.member(anna)
    assert member.home_label == label
    assert member.home is not None and haversine_km(member.home, near) < 5


async def test_an_address_with_a_misspelt_town_is_confirmed_in_settings(
    world: FakeWorld, anna: ChatUser
) -> None:
    await anna.onboard("Bendorf")
    await anna.tap("Einstellungen")
    await anna.tap("Ort ändern")
    text = await anna.send("Bahnhofstr. 1 Iserlon")
    assert "Ich habe verstanden: Iserlohn" in text and "Ort: Iserlohn" in text
    member = world.member(anna)
    assert member.home is not None and haversine_km(member.home, ISERLOHN) < 5
