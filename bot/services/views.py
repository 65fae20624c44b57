"""Turning stored rows into the frozen values dialogs see (bot.services.contracts)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from bot.codes import (
    Equipment,
    PlaceStatus,
    PlaceType,
    StepFree,
    known_code,
    known_codes,
)
from bot.geo import GeoPoint
from bot.services.contracts import EventHit, PlaceDetails
from bot.storage.models import Place


def split_codes(value: str | None) -> tuple[str, ...]:
    """'|workshop|repair_cafe|' -> ('workshop', 'repair_cafe')."""
    return tuple(code for code in (value or "").split("|") if code)


# Cached: a search turns dozens of rows into hits, and the columns repeat a few values.
@functools.lru_cache(maxsize=4096)
def place_types(value: str | None) -> tuple[PlaceType, ...]:
    """A place's `types` column as codes; one this version does not know is left out."""
    return known_codes(PlaceType, split_codes(value))


@functools.lru_cache(maxsize=4096)
def equipment_codes(value: str | None) -> tuple[Equipment, ...]:
    """A place's `equipment` column as codes; one this version does not know is left out."""
    return known_codes(Equipment, split_codes(value))


def step_free_code(value: str | None) -> StepFree | None:
    """A place's `step_free` column (OSM wheelchair=…); anything else counts as unknown."""
    return known_code(StepFree, value)


def join_codes(codes: Sequence[str]) -> str:
    return "|" + "|".join(codes) + "|" if codes else ""


def place_details(place: Place, upcoming: Sequence[EventHit]) -> PlaceDetails:
    return PlaceDetails(
        id=place.id,
        name=place.name,
        types=place_types(place.types),
        operator=place.operator,
        street=place.street,
        postcode=place.postcode,
        town=place.town,
        point=GeoPoint(place.lat, place.lon),
        approximate=place.approximate,
        opening_hours=place.opening_hours,
        mobile=place.mobile,
        equipment=equipment_codes(place.equipment),
        step_free=step_free_code(place.step_free),
        cost=place.cost,
        registration_required=place.registration_required,
        contact=place.contact,
        website=place.website,
        description=place.description,
        closed_for_good=place.status == PlaceStatus.CLOSED,
        status_note=place.status_note,
        upcoming_events=tuple(upcoming),
    )
