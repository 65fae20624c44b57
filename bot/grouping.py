"""A small group for a transfer workshop: 3–5 people from different fields, near a place.

The pilot's groups worked best with craft, design and digital fabrication at one table,
and nobody travelling far. `propose_group` therefore covers as many fields as the
candidates allow, and among such groups keeps the longest trip to the place shortest:
it widens a circle around the place, person by person in order of distance, until the
people inside cover every field that any candidate brings and are enough; then it takes
the nearest of each field and fills up with the nearest others. No group with that
coverage has a shorter longest trip, since each field's nearest person is inside the
circle and the circle is as small as the coverage allows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bot.codes import Field
from bot.geo import GeoPoint, haversine_km

SMALLEST, LARGEST = 3, 5  # the pilot's transfer workshops


@dataclass(frozen=True)
class Candidate:
    member_id: int
    field: Field | None
    home: GeoPoint


@dataclass(frozen=True)
class Group:
    members: tuple[Candidate, ...]
    fields: frozenset[Field]  # the fields it covers (craft, design, digital)
    longest_km: float  # the longest trip to the place


def _fields(people: Sequence[Candidate]) -> frozenset[Field]:
    return frozenset(p.field for p in people if p.field is not None and p.field != Field.OTHER)


def quality(members: Sequence[Candidate], place: GeoPoint) -> Group:
    """A group's fields and longest trip, for any set of members."""
    longest = max((haversine_km(place, m.home) for m in members), default=0.0)
    return Group(tuple(members), _fields(members), longest)


def propose_group(
    candidates: Sequence[Candidate], place: GeoPoint, size: int = LARGEST
) -> Group | None:
    """The group of up to `size` (at least SMALLEST) to invite; None when too few."""
    if len(candidates) < SMALLEST:
        return None
    by_distance = sorted(candidates, key=lambda c: (haversine_km(place, c.home), c.member_id))
    wanted = _fields(by_distance)
    inside = 0
    while inside < len(by_distance):
        inside += 1
        circle = by_distance[:inside]
        if inside >= min(size, len(by_distance)) and _fields(circle) == wanted:
            break
    circle = by_distance[:inside]
    chosen: list[Candidate] = []
    for field in sorted(wanted):  # the nearest of each field first
        chosen.append(next(c for c in circle if c.field == field))
    for person in circle:  # then the nearest others
        if len(chosen) >= size:
            break
        if person not in chosen:
            chosen.append(person)
    chosen.sort(key=lambda c: (haversine_km(place, c.home), c.member_id))
    return quality(chosen[:size], place)


def crowded_centre(people: Sequence[GeoPoint], enough: int, km: float) -> GeoPoint | None:
    """The home of one of `people` with at least `enough` of them (itself included)
    within `km`, the most crowded; None when there is none.

    People are put into cells `km` wide, so each is compared only with the 3×3 cells
    around it: 100 000 homes take a fraction of a second, where comparing every pair
    would take minutes."""
    if len(people) < enough:
        return None
    dlat = km / 111.2
    # Cells as wide as `km` at the northernmost home: narrower in degrees to the south
    # would miss neighbours, wider only costs a few more comparisons.
    north = max(abs(p.lat) for p in people)
    dlon = km / (111.2 * max(0.05, math.cos(math.radians(north))))
    cells: dict[tuple[int, int], list[GeoPoint]] = defaultdict(list)
    for p in people:
        cells[(math.floor(p.lat / dlat), math.floor(p.lon / dlon))].append(p)
    best, most = None, 0
    for (row, col), homes in cells.items():
        around = [
            q for dr in (-1, 0, 1) for dc in (-1, 0, 1) for q in cells.get((row + dr, col + dc), ())
        ]
        if len(around) < enough:
            continue
        for centre in homes:
            near = sum(1 for q in around if haversine_km(centre, q) <= km)
            if near >= enough and near > most:
                best, most = centre, near
    return best
