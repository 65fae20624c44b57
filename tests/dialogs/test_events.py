"""Events near me on fakes: this week, next weekend, later; details; cancelled; closed."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.codes import EventFormat, EventStatus
from tests.support.chat import ChatUser
from tests.support.clock import BERLIN, START
from tests.support.fakes import FakeWorld


async def test_this_week_lists_date_format_place_distance_and_seats(
    world: FakeWorld, anna: ChatUser
) -> None:
    world.add_event("Holz und Laser", start=datetime(2026, 11, 25, 17, tzinfo=BERLIN))
    await anna.onboard("Bendorf")
    text = await anna.tap("Veranstaltungen")
    assert "Welche Veranstaltungen" in text
    assert {"Diese Woche", "Nächstes Wochenende", "Später"} <= set(anna.labels)
    text = await anna.tap("Diese Woche")
    assert "Veranstaltungen diese Woche im Umkreis von 25 km:" in text
    assert "Mi., 25. Nov., 17–20 Uhr · Transfer-Workshop" in text
    assert "Holz und Laser" in text
    assert "MakerSpace Mayen-Koblenz, Bendorf · 970 m · 5 Plätze frei" in text


async def test_next_weekend_and_later_split_the_calendar(world: FakeWorld, anna: ChatUser) -> None:
    world.add_event("Samstagswerkstatt", start=datetime(2026, 11, 28, 10, tzinfo=BERLIN))
    world.add_event("Dezembertreffen", start=datetime(2026, 12, 10, 17, tzinfo=BERLIN))
    world.add_event("Zu weit weg", place="Werkraum Iserlohn")
    await anna.onboard("Bendorf")
    await anna.tap("Veranstaltungen")
    weekend = await anna.tap("Nächstes Wochenende")
    assert "Samstagswerkstatt" in weekend and "Dezembertreffen" not in weekend
    await anna.send("Zurück")
    later = await anna.tap("Später")
    assert "Dezembertreffen" in later and "Samstagswerkstatt" not in later
    await anna.send("Zurück")
    week = await anna.tap("Diese Woche")
    assert "Samstagswerkstatt" in week and "Zu weit weg" not in week  # Iserlohn: too far


async def test_details_lead_to_the_place_and_back(world: FakeWorld, anna: ChatUser) -> None:
    world.add_event(
        "Maßschuhe und 3D-Scan",
        fmt=EventFormat.PRO2PRO,
        description="Vom Fußabdruck zum Leisten.",
    )
    await anna.onboard("Bendorf")
    await anna.tap("Veranstaltungen")
    await anna.tap("Diese Woche")
    text = await anna.tap("Maßschuhe")
    assert "Pro2Pro-Fortbildung" in text and "Do., 26. Nov., 17–20 Uhr" in text
    assert "Wo: MakerSpace Mayen-Koblenz, Bendorf (970 m)" in text
    assert "Plätze: 5 von 5 frei" in text and "Vom Fußabdruck zum Leisten." in text
    text = await anna.tap("Zum Ort")
    assert "MakerSpace Mayen-Koblenz" in text and "Öffnungszeiten:" in text
    assert "Maßschuhe und 3D-Scan" in await anna.send("Zurück")


async def test_nothing_this_week_says_so_and_offers_other_periods(anna: ChatUser) -> None:
    await anna.onboard("Bendorf")
    await anna.tap("Veranstaltungen")
    text = await anna.tap("Diese Woche")
    assert "keine Veranstaltungen im Umkreis von 25 km" in text
    assert {"Nächstes Wochenende", "Später"} <= set(anna.labels)


async def test_a_cancelled_event_says_so_and_offers_no_sign_up(
    world: FakeWorld, anna: ChatUser
) -> None:
    world.add_event("Stammtisch", status=EventStatus.CANCELLED, cancel_reason="Krank.")
    await anna.onboard("Bendorf")
    await anna.tap("Veranstaltungen")
    assert "❌ abgesagt" in await anna.tap("Diese Woche")
    text = await anna.tap("Stammtisch")
    assert "❌ Diese Veranstaltung wurde abgesagt." in text
    assert "Anmelden" not in anna.labels and "Plätze" not in text


async def test_sign_up_closes_at_the_start(world: FakeWorld, anna: ChatUser) -> None:
    event_id = world.add_event("Stammtisch", fmt=EventFormat.NETWORKING)
    await anna.onboard("Bendorf")
    await anna.send(f"/start ev_{event_id}")
    assert "Anmelden" in anna.labels
    world.clock[0] = START + timedelta(minutes=5)
    text = await anna.send(f"/start ev_{event_id}")
    assert "Anmelden" not in anna.labels and "Anmeldung" in text and "geschlossen" in text
