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
    await anna.tap("Genauer suchen")
    await anna.tap("Nur jetzt geöffnet")
    assert "✓ Nur jetzt geöffnet" in anna.labels
    text = await anna.tap("Ergebnisse zeigen")
    assert "(nach deiner Auswahl)" in text
    assert "MakerSpace Mayen-Koblenz" in text and "Holzwerkstatt Montabaur" in text
    assert "Repair-Café Neuwied" not in text  # opens on Saturday

    world.clock[0] = datetime(2026, 11, 24, 22, 0, tzinfo=BERLIN)
    await anna.tap("Genauer suchen")
    text = await anna.tap("Ergebnisse zeigen")
    assert "Im Umkreis von 25 km hat gerade kein Ort geöffnet." in text
    assert not [label for label in anna.labels if label.startswith("Weiter suchen")]
    text = await anna.tap("Auswahl aufheben")
    assert "MakerSpace Mayen-Koblenz" in text and "(nach deiner Auswahl)" not in text

    await anna.tap("Genauer suchen")
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


GARMISCH = (47.49, 11.09)  # no place of the fake world within 300 km


async def _new_in_garmisch(anna: ChatUser) -> None:
    await anna.send("/start")
    await anna.tap("Deutsch")
    await anna.agree()
    await anna.share_location(*GARMISCH)
    await anna.tap("Handwerk")


async def test_nothing_nearby_names_the_nearest_place_and_looks_further_for_once(
    world: FakeWorld, anna: ChatUser
) -> None:
    world.store.add_place("Werkstatt Weilheim", "Weilheim", GeoPoint(47.84, 11.14))  # 39 km
    await _new_in_garmisch(anna)
    text = await anna.tap("Offene Werkstätten")
    assert "Im Umkreis von 25 km um Garmisch-Partenkirchen kenne ich keinen Ort." in text
    # The nearest place at any distance, with its distance, one tap away.
    assert "Der nächste Ort: Werkstatt Weilheim in Weilheim, 39 km entfernt." in text
    assert "Werkstatt Weilheim" in anna.labels
    # A wider search is offered from where it reaches that place on.
    assert "Weiter suchen: 50 km" in anna.labels
    text = await anna.tap("Weiter suchen: 50 km")
    assert "Orte im Umkreis von 50 km um Garmisch-Partenkirchen:" in text
    assert "1. Werkstatt Weilheim" in text
    assert world.member("anna").radius_km == 25  # looking further once changes no setting
    await anna.send("Menü")
    text = await anna.tap("Offene Werkstätten")  # a new visit: the member's own radius
    assert "Im Umkreis von 25 km um Garmisch-Partenkirchen" in text
    await anna.tap("Weiter suchen: 50 km")
    text = await anna.tap("50 km als meinen Umkreis merken")
    assert "Dein Umkreis ist jetzt 50 km." in text
    assert world.member("anna").radius_km == 50
    assert "50 km als meinen Umkreis merken" not in anna.labels


async def test_far_from_everything_the_nearest_place_is_still_one_tap_away(
    anna: ChatUser,
) -> None:
    await _new_in_garmisch(anna)
    text = await anna.tap("Offene Werkstätten")
    assert "Der nächste Ort: Holzwerkstatt Montabaur in Montabaur," in text
    # No wider search that would come back empty: 200 km reach no place here.
    assert not [label for label in anna.labels if label.startswith("Weiter suchen")]
    text = await anna.tap("Holzwerkstatt Montabaur")
    assert text.startswith("Holzwerkstatt Montabaur") and "openstreetmap.org" in text


async def test_a_first_screen_of_unknown_hours_also_shows_known_ones_within_twice_the_radius(
    world: FakeWorld, anna: ChatUser
) -> None:
    world.store.add_place("Werkstatt ohne Zeiten", "Farchant", GeoPoint(47.53, 11.11))
    world.store.add_place(
        "Werkstatt mit Zeiten",
        "Weilheim",
        GeoPoint(47.84, 11.14),
        opening_hours="Mo-Su 08:00-20:00",
    )
    world.store.add_place(
        "Werkstatt zu weit", "Landsberg", GeoPoint(48.05, 10.87), opening_hours="Mo-Su 08:00-20:00"
    )
    await _new_in_garmisch(anna)
    text = await anna.tap("Offene Werkstätten")
    head, _, extra = text.partition("Etwas weiter weg, mit Öffnungszeiten:")
    assert "1. Werkstatt ohne Zeiten" in head and "Öffnungszeiten unbekannt" in head
    assert "2. Werkstatt mit Zeiten, Weilheim — 39 km" in extra
    assert "Heute offen bis 20 Uhr" in extra
    assert "Werkstatt zu weit" not in text  # 64 km: beyond twice the radius
    assert "Werkstatt mit Zeiten" in anna.labels
