"""Events near me on fakes: this week, next weekend, later; details; cancelled; closed."""

from __future__ import annotations

import re
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
    assert "Mi., 25. Nov., 17–20 Uhr · Workshop in kleiner Runde" in text
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
    assert "Fortbildung unter Fachleuten" in text and "Do., 26. Nov., 17–20 Uhr" in text
    assert "Wo: MakerSpace Mayen-Koblenz, Bendorf (970 m)" in text
    assert "Plätze: 5 von 5 frei" in text and "Vom Fußabdruck zum Leisten." in text
    text = await anna.tap("Zum Ort")
    assert "MakerSpace Mayen-Koblenz" in text and "Öffnungszeiten:" in text
    assert "Maßschuhe und 3D-Scan" in await anna.send("Zurück")


async def test_nothing_this_week_names_the_next_event_near_with_its_date(
    world: FakeWorld, anna: ChatUser
) -> None:
    world.add_event("Stammtisch", status=EventStatus.CANCELLED)  # this week, but called off
    world.add_event("Drechseln", start=datetime(2026, 12, 9, 17, tzinfo=BERLIN))
    await anna.onboard("Bendorf")
    await anna.tap("Veranstaltungen")
    text = await anna.tap("Nächstes Wochenende")
    assert "keine Veranstaltungen im Umkreis von 25 km" in text
    assert (
        "Der nächste Termin: Mi., 9. Dez., 17–20 Uhr, Drechseln (MakerSpace Mayen-Koblenz" in text
    )
    assert {"Diese Woche", "Später"} <= set(anna.labels)
    assert "Drechseln" in await anna.tap("Drechseln")
    assert "Anmelden" in anna.labels


async def test_no_event_near_names_the_nearest_one_and_looks_further_for_once(
    world: FakeWorld, anna: ChatUser
) -> None:
    world.add_event("Drechseln", start=datetime(2026, 12, 9, 17, tzinfo=BERLIN))
    await anna.send("/start")
    await anna.tap("Deutsch")
    await anna.agree()
    await anna.share_location(50.72, 7.55)  # Hennef-ish: 34 km from Bendorf's MakerSpace
    await anna.tap("Handwerk")
    await anna.tap("Veranstaltungen")
    text = await anna.tap("Später")
    assert "Der nächste Termin: Mi., 9. Dez., 17–20 Uhr, Drechseln" in text
    assert re.search(r"Bendorf, \d+ km\)\.", text), text
    text = await anna.tap("Weiter suchen: 50 km")
    assert "Spätere Veranstaltungen im Umkreis von 50 km:" in text and "Drechseln" in text
    assert world.member("anna").radius_km == 25
    await anna.tap("50 km als meinen Umkreis merken")
    assert world.member("anna").radius_km == 50


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
