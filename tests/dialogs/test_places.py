"""Open workshops near me on fakes: the list, filters, paging, details, a wider radius."""

from __future__ import annotations

from datetime import datetime

from bot.geo import GeoPoint
from tests.support.chat import ChatUser
from tests.support.clock import BERLIN
from tests.support.fakes import FakeWorld


async def test_the_list_is_nearest_first_with_distance_kind_and_opening_state(
    anna: ChatUser,
) -> None:
    await anna.onboard("Bendorf")
    text = await anna.tap("Offene Werkstätten")
    assert "Orte im Umkreis von 25 km um Bendorf:" in text
    assert "1. MakerSpace Mayen-Koblenz, Bendorf — 970 m" in text
    assert "Offene Werkstatt · Heute offen bis 19 Uhr" in text  # a Tuesday, 15 Uhr
    assert "Repair-Café Neuwied, Neuwied — 8,4 km" in text and "Öffnet Sa 10 Uhr" in text
    assert "Öffnungszeiten unbekannt" in text  # the Digitalwerkstatt gives none
    assert "Alte Schmiede Vallendar" not in text  # closed for good
    assert "Werkraum Iserlohn" not in text  # far away
    assert anna.labels[0] == "MakerSpace Mayen-Koblenz"


async def test_open_now_and_kind_filters_and_clearing_them(
    world: FakeWorld, anna: ChatUser
) -> None:
    await anna.onboard("Bendorf")
    await anna.tap("Offene Werkstätten")
    await anna.tap("Filter")
    await anna.tap("Nur jetzt geöffnet")
    assert "✓ Nur jetzt geöffnet" in anna.labels
    text = await anna.tap("Ergebnisse zeigen")
    assert "(gefiltert)" in text
    assert "MakerSpace Mayen-Koblenz" in text and "Holzwerkstatt Montabaur" in text
    assert "Repair-Café Neuwied" not in text  # opens on Saturday

    world.clock[0] = datetime(2026, 11, 24, 22, 0, tzinfo=BERLIN)
    await anna.tap("Filter")
    text = await anna.tap("Ergebnisse zeigen")
    assert "passt gerade kein Ort zu deiner Auswahl" in text
    text = await anna.tap("Filter zurücksetzen")
    assert "MakerSpace Mayen-Koblenz" in text and "(gefiltert)" not in text

    await anna.tap("Filter")
    await anna.tap("Art")
    await anna.tap("Reparatur-Café")
    assert "Art: Reparatur-Café" in anna.labels
    text = await anna.tap("Ergebnisse zeigen")
    assert "Repair-Café Neuwied" in text and "Digitalwerkstatt Koblenz" not in text


async def test_details_show_hours_equipment_events_and_a_map_pin(
    world: FakeWorld, anna: ChatUser
) -> None:
    world.add_event("Samstagswerkstatt", start=datetime(2026, 11, 28, 10, tzinfo=BERLIN))
    await anna.onboard("Bendorf")
    await anna.tap("Offene Werkstätten")
    text = await anna.tap("MakerSpace Mayen-Koblenz")
    assert "Heute offen bis 19 Uhr" in text
    assert "Öffnungszeiten:" in text and "Mo: 12–19 Uhr" in text and "Sa: geschlossen" in text
    assert "Ausstattung: 3D-Drucker, Lasercutter" in text
    assert "Kosten: kostenlos" in text and "Keine Anmeldung nötig." in text
    assert "Demnächst hier:" in text and "Sa., 28. Nov., 10–13 Uhr: Samstagswerkstatt" in text
    assert "openstreetmap.org" in text
    venue = anna.last[0].venue
    assert venue is not None and venue.name == "MakerSpace Mayen-Koblenz"
    text = await anna.tap("Samstagswerkstatt")
    assert "Plätze: 5 von 5 frei" in text and "Anmelden" in anna.labels


async def test_more_pages_and_back_to_the_first(world: FakeWorld, anna: ChatUser) -> None:
    for n in range(1, 5):
        world.store.add_place(f"Werkstatt {n}", "Bendorf", GeoPoint(50.43 + n / 100, 7.58))
    await anna.onboard("Bendorf")
    first = await anna.tap("Offene Werkstätten")
    assert "1. " in first and "5. " in first and "6. " not in first
    second = await anna.tap("Mehr")
    assert "6. " in second and "8. " in second and "1. " not in second
    assert "Mehr" not in anna.labels  # the last page
    assert "1. " in await anna.send("Zurück")


async def test_nothing_nearby_offers_a_wider_radius(anna: ChatUser) -> None:
    await anna.send("/start")
    await anna.tap("Deutsch")
    await anna.share_location(47.49, 11.09)  # Garmisch-Partenkirchen: no place near
    await anna.tap("Handwerk")
    text = await anna.tap("Offene Werkstätten")
    assert "Im Umkreis von 25 km um Garmisch-Partenkirchen kenne ich keine Orte." in text
    text = await anna.tap("Im Umkreis von 50 km suchen")
    assert "Dein Umkreis ist jetzt 50 km." in text
    assert "Im Umkreis von 100 km suchen" in anna.labels
