"""Turning stored rows into the frozen values dialogs see (bot.services.contracts)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.geo import GeoPoint
from bot.services.contracts import EventHit, PlaceDetails
from bot.storage.models import Place, PlaceStatus


def split_codes(value: str | None) -> tuple[str, ...]:
    """'|workshop|repair_cafe|' -> ('workshop', 'repair_cafe')."""
    return tuple(code for code in (value or "").split("|") if code)


def join_codes(codes: Sequence[str]) -> str:
    return "|" + "|".join(codes) + "|" if codes else ""


def place_details(place: Place, upcoming: Sequence[EventHit]) -> PlaceDetails:
    return PlaceDetails(
        id=place.id,
        name=place.name,
        types=split_codes(place.types),
        operator=place.operator,
        street=place.street,
        postcode=place.postcode,
        town=place.town,
        point=GeoPoint(place.lat, place.lon),
        approximate=place.approximate,
        opening_hours=place.opening_hours,
        mobile=place.mobile,
        equipment=split_codes(place.equipment),
        step_free=place.step_free,
        cost=place.cost,
        registration_required=place.registration_required,
        contact=place.contact,
        website=place.website,
        description=place.description,
        closed_for_good=place.status == PlaceStatus.CLOSED,
        status_note=place.status_note,
        upcoming_events=tuple(upcoming),
    )
