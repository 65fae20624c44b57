"""`werkbank demo-data`: the real places from the anchor-place study, and fictional events.

Places get town-level coordinates from the gazetteer and are marked approximate.
Events are invented but plausible, of every format, over the next 8 weeks; they
are regenerated relative to today each time, with stable UIDs so a reload
updates rather than duplicates.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.codes import EventFormat, EventStatus, PlaceStatus
from bot.geo import Gazetteer
from bot.services.database import Database
from bot.services.demo_places import DEMO_PLACES, DemoPlace
from bot.services.views import join_codes
from bot.storage.models import Event, Place, lat_band

DEMO_UID_DOMAIN = "demo.werkbank.invalid"
DEMO_DAYS = 56  # eight weeks
BERLIN = ZoneInfo("Europe/Berlin")

# (format, title, description, start hour, hours, capacity)
_EVENT_IDEAS: tuple[tuple[EventFormat, str, str, int, int, int | None], ...] = (
    (
        EventFormat.TRANSFER,
        "Holz trifft Laser: Intarsien mit dem Lasercutter",
        "Drei bis fünf Leute aus Tischlerei, Design und Digitalwerkstatt probieren gemeinsam, "
        "wie Holzintarsien mit dem Lasercutter gelingen.",
        17,
        3,
        5,
    ),
    (
        EventFormat.TRANSFER,
        "Maßschuhe und 3D-Scan",
        "Schuhmacherin, Produktdesigner und 3D-Druck-Kundige suchen zusammen nach Wegen, "
        "Leisten schneller anzupassen.",
        17,
        3,
        5,
    ),
    (
        EventFormat.NETWORKING,
        "Stammtisch Handwerk, Design und Werkstatt",
        "Kennenlernen, erzählen, woran man arbeitet, und Themen für Transfer-Workshops sammeln.",
        18,
        2,
        30,
    ),
    (
        EventFormat.OPEN_WORKSHOP,
        "Offene Werkstatt: Reparieren statt wegwerfen",
        "Bring mit, was kaputt ist. Gemeinsam schauen wir, ob es sich reparieren lässt.",
        14,
        4,
        None,
    ),
    (
        EventFormat.PRO2PRO,
        "Fortbildung: Schneideplotter für Schilder und Folien",
        "Von Fachleuten für Fachleute: Vom Entwurf bis zur fertigen Folie.",
        9,
        4,
        8,
    ),
    (
        EventFormat.OTHER,
        "Lange Nacht des Handwerks",
        "Betriebe und Werkstätten öffnen ihre Türen bis spät in den Abend.",
        18,
        5,
        None,
    ),
    (
        EventFormat.PRO2PRO,
        "Nähen mit der Computerstickmaschine",
        "Für Schneiderinnen und Schneider, die Stickmuster selbst gestalten wollen.",
        10,
        3,
        6,
    ),
    (
        EventFormat.OPEN_WORKSHOP,
        "Offene Holzwerkstatt am Samstag",
        "Eigene Projekte bauen, mit Hilfe von Tischlern aus der Gegend.",
        10,
        4,
        12,
    ),
)


@dataclass(frozen=True)
class DemoSummary:
    places: int
    events: int


def _place_row(demo: DemoPlace, gazetteer: Gazetteer) -> dict[str, object]:
    found = gazetteer.lookup(demo.town).matches
    if not found:
        raise LookupError(f"demo place town {demo.town!r} is not in the gazetteer")
    town = found[0]  # the most populous match: a demo file names towns unambiguously enough
    return {
        "name": demo.name,
        "types": join_codes(demo.types),
        "anchor_type": demo.anchor_type,
        "operator": demo.operator,
        "town": demo.town,
        "postcode": town.postcode,
        "lat": town.point.lat,
        "lon": town.point.lon,
        "lat_band": lat_band(town.point.lat),
        "approximate": True,
        "opening_hours": demo.opening_hours,
        "mobile": demo.mobile,
        "equipment": join_codes(demo.equipment),
        "step_free": demo.step_free,
        "cost": demo.cost,
        "registration_required": demo.registration_required,
        "website": demo.website,
        "description": demo.description,
        "source": demo.source,
        "status": PlaceStatus.CLOSED if demo.closed else PlaceStatus.ACTIVE,
        "status_note": demo.status_note,
    }


async def load_demo_data(
    db: Database, gazetteer: Gazetteer, now: datetime, tz: ZoneInfo = BERLIN
) -> DemoSummary:
    """Insert or update the demo places and events (idempotent: by name and by UID)."""
    async with db.transaction() as session:
        places: list[Place] = []
        for demo in DEMO_PLACES:
            values = _place_row(demo, gazetteer)
            place = (
                await session.execute(
                    select(Place).where(Place.name == demo.name, Place.town == demo.town)
                )
            ).scalar_one_or_none()
            if place is None:
                place = Place(**values)
                session.add(place)
            else:
                for key, value in values.items():
                    setattr(place, key, value)
            places.append(place)
        await session.flush()

        open_places = [p for p in places if p.status == PlaceStatus.ACTIVE]
        rng = random.Random(20261122)  # the same events for the same day, every time
        today = now.astimezone(tz).date()
        count = 0
        for index in range(48):
            fmt, title, description, hour, hours, capacity = _EVENT_IDEAS[index % len(_EVENT_IDEAS)]
            place = open_places[(index * 7) % len(open_places)]
            day = today + timedelta(days=1 + (index * 53) % DEMO_DAYS)
            if fmt == EventFormat.OPEN_WORKSHOP and day.weekday() != 5:
                # Open workshop days fall on Saturdays, still within the eight weeks.
                day += timedelta(days=(5 - day.weekday()) % 7)
                if day > today + timedelta(days=DEMO_DAYS):
                    day -= timedelta(days=7)
            start = datetime.combine(day, time(hour), tzinfo=tz)
            uid = f"demo-{index:03d}@{DEMO_UID_DOMAIN}"
            values = {
                "title": title,
                "description": description,
                "format": fmt,
                "place_id": place.id,
                "start_at": start,
                "end_at": start + timedelta(hours=hours),
                "capacity": capacity,
                "minimum": 3 if fmt == EventFormat.TRANSFER else None,
                "deadline": start - timedelta(days=1) if capacity else None,
                "status": EventStatus.CANCELLED if rng.random() < 0.05 else EventStatus.PUBLISHED,
            }
            event = (
                await session.execute(select(Event).where(Event.uid == uid))
            ).scalar_one_or_none()
            if event is None:
                session.add(Event(uid=uid, **values))
            else:
                for key, value in values.items():
                    setattr(event, key, value)
            count += 1
        return DemoSummary(places=len(places), events=count)
