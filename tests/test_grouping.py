"""The group proposed for a transfer workshop covers the fields its candidates bring and
keeps the longest trip as short as any group of that size with that coverage."""

from __future__ import annotations

import itertools
import random

from bot.codes import Field
from bot.geo import GeoPoint
from bot.grouping import Candidate, propose_group, quality

PLACE = GeoPoint(50.43, 7.57)  # Bendorf


def near(km_north: float) -> GeoPoint:
    return GeoPoint(PLACE.lat + km_north / 111.2, PLACE.lon)


def test_a_mix_of_fields_beats_the_nearest_people_of_one_field() -> None:
    crafts = [Candidate(i, Field.CRAFT, near(i)) for i in range(1, 6)]  # 1–5 km
    designer = Candidate(10, Field.DESIGN, near(12))
    maker = Candidate(11, Field.DIGITAL, near(20))
    group = propose_group([*crafts, designer, maker], PLACE)
    assert group is not None
    assert group.fields == {Field.CRAFT, Field.DESIGN, Field.DIGITAL}
    assert len(group.members) == 5 and designer in group.members and maker in group.members
    assert round(group.longest_km) == 20


def test_too_few_candidates_make_no_group() -> None:
    assert propose_group([Candidate(1, Field.CRAFT, near(1))] * 2, PLACE) is None


def test_no_group_of_that_size_and_coverage_has_a_shorter_longest_trip() -> None:
    rng = random.Random(3)
    fields = [Field.CRAFT, Field.DESIGN, Field.DIGITAL, Field.OTHER, None]
    for _ in range(60):
        people = [
            Candidate(i, rng.choice(fields), near(rng.uniform(-40, 40)))
            for i in range(rng.randint(3, 9))
        ]
        group = propose_group(people, PLACE)
        assert group is not None
        size = len(group.members)
        best = min(
            (quality(combo, PLACE) for combo in itertools.combinations(people, size)),
            key=lambda g: (-len(g.fields), g.longest_km),
        )
        assert len(group.fields) == len(best.fields)
        assert group.longest_km <= best.longest_km + 1e-9


def test_the_crowded_centre_is_what_comparing_every_pair_finds() -> None:
    from bot.geo import haversine_km
    from bot.grouping import crowded_centre

    rng = random.Random(5)
    for _ in range(40):
        people = [
            GeoPoint(rng.uniform(47.5, 54.8), rng.uniform(6.0, 14.8))
            for _ in range(rng.randint(0, 60))
        ]
        people += [near(rng.uniform(-30, 30)) for _ in range(rng.randint(0, 4))]
        counts = [sum(1 for q in people if haversine_km(p, q) <= 30) for p in people]
        found = crowded_centre(people, 3, 30)
        if max(counts, default=0) < 3:
            assert found is None
        else:
            assert found is not None
            assert sum(1 for q in people if haversine_km(found, q) <= 30) == max(counts)
