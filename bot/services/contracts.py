"""What dialogs may know about the world: frozen values and service interfaces.

Dialogs import this module, never the storage layer, so a dialog can be tested
with any object that has these methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.geo import Gazetteer, GeoPoint

PLACE_TYPES: tuple[str, ...] = (
    "workshop",  # tech workshop / makerspace / FabLab: "Offene Werkstatt"
    "repair_cafe",
    "digital_learning",
    "info_place",
    "colab",
    "network",
    "craft_firm",
)
EQUIPMENT: tuple[str, ...] = (
    "3d_printer",
    "laser_cutter",
    "vinyl_cutter",
    "cnc",
    "sewing",
    "wood",
    "metal",
    "soldering",
)
FIELDS: tuple[str, ...] = ("craft", "design", "digital", "other")
EVENT_FORMATS: tuple[str, ...] = ("networking", "open_workshop", "transfer", "pro2pro", "other")
RADIUS_CHOICES_KM: tuple[int, ...] = (10, 25, 50, 100)


@dataclass(frozen=True)
class MemberView:
    id: int
    locale: str
    display_name: str
    home: GeoPoint | None
    home_label: str | None
    radius_km: int
    field: str | None
    role: str
    onboarded: bool

    @property
    def is_organiser(self) -> bool:
        return self.role in ("organiser", "admin")


@dataclass(frozen=True)
class PlaceFilter:
    open_now: bool = False
    place_type: str | None = None
    equipment: str | None = None
    step_free: bool = False


@dataclass(frozen=True)
class PlaceHit:
    """One line of "places near me"."""

    id: int
    name: str
    town: str
    types: tuple[str, ...]
    distance_km: float
    opening_hours: str | None
    step_free: str | None  # "yes" | "limited" | "no" | None (unknown)
    mobile: bool


@dataclass(frozen=True)
class NearbyPage:
    hits: tuple[PlaceHit, ...]
    has_more: bool


@dataclass(frozen=True)
class EventHit:
    id: int
    title: str
    format: str
    start_at: datetime
    end_at: datetime | None
    place_id: int | None
    place_name: str | None
    town: str | None
    distance_km: float | None
    free_seats: int | None  # None = no limit
    cancelled: bool = False


@dataclass(frozen=True)
class PlaceDetails:
    id: int
    name: str
    types: tuple[str, ...]
    operator: str | None
    street: str | None
    postcode: str | None
    town: str
    point: GeoPoint
    approximate: bool
    opening_hours: str | None
    mobile: bool
    equipment: tuple[str, ...]
    step_free: str | None
    cost: str | None
    registration_required: bool | None
    contact: str | None
    website: str | None
    description: str | None
    closed_for_good: bool
    status_note: str | None
    upcoming_events: tuple[EventHit, ...] = field(default=())


@dataclass(frozen=True)
class EventDetails:
    hit: EventHit
    description: str | None
    capacity: int | None
    registered: int
    place: PlaceDetails | None


class MemberService(Protocol):
    async def set_locale(self, member_id: int, locale: str) -> None: ...
    async def set_home(self, member_id: int, point: GeoPoint, label: str) -> None: ...
    async def set_radius(self, member_id: int, radius_km: int) -> None: ...
    async def set_field(self, member_id: int, field: str) -> None: ...
    async def finish_onboarding(self, member_id: int) -> None: ...


class PlaceService(Protocol):
    async def find_nearby(
        self,
        point: GeoPoint,
        radius_km: float,
        now: datetime,
        filters: PlaceFilter = ...,
        offset: int = 0,
        limit: int = 5,
    ) -> NearbyPage: ...
    async def details(self, place_id: int, now: datetime) -> PlaceDetails | None: ...
    async def equipment_nearby(self, point: GeoPoint, radius_km: float) -> Sequence[str]: ...


class EventService(Protocol):
    async def upcoming_nearby(
        self,
        point: GeoPoint,
        radius_km: float,
        start: datetime,
        end: datetime | None,
        offset: int = 0,
        limit: int = 5,
    ) -> tuple[tuple[EventHit, ...], bool]: ...
    async def details(self, event_id: int, origin: GeoPoint | None) -> EventDetails | None: ...


@dataclass(frozen=True)
class Services:
    members: MemberService
    places: PlaceService
    events: EventService
    gazetteer: Gazetteer
