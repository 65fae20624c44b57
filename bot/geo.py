"""Offline gazetteer for Germany: postcodes and towns with coordinates.

Everything comes from `bot/data/gazetteer.tsv.gz`, built by
`scripts/build_gazetteer.py` (see docs/DATA.md); nothing is fetched at run time.

A free-text answer to "where are you?" goes through `Gazetteer.lookup`:

1. five digits -> that postcode; a town name with it (before or after) only
   picks among the postcode's localities, and a street before it is ignored
   ("Bahnhofstraße 1, 58636 Iserlohn");
2. an address without a postcode ("Bahnhofstr. 1 Iserlohn", "Am Markt 3 in
   Menden") is looked up by the words after the house number;
3. a town name that matches exactly after `normalise` (also the part before
   "(", "/" or ",", GeoNames' alternative names such as "Munich", and city
   districts the build adds, such as "Letmathe");
4. the same with umlauts typed as plain vowels ("Koln", "Munchen"), then with
   usual abbreviations written out ("i. Br." -> "im Breisgau");
5. names that start with the input ("Frankfurt" -> "Frankfurt am Main");
6. a town name with an addition that tells which one ("Hagen (Westf.)",
   "Neumarkt Opf", "Frankfurt Main"): the addition must name a word of the
   town's names, its state or a region of that state;
7. a fuzzy match for typos ("Iserlon"), flagged as `corrected`.

When several places fit, one is chosen only if it is at least ten times as
populous as the next; otherwise the caller gets up to eight to offer as buttons.
"""

from __future__ import annotations

import bisect
import gc
import gzip
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz, process

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "gazetteer.tsv.gz"

MAX_MATCHES = 8
# A place wins outright over the runner-up when it is this many times as populous:
# "Frankfurt" means Frankfurt am Main, "Neustadt" needs a question.
DOMINANCE = 10
FUZZY_CUTOFF = 85.0
# Short inputs are mostly words ("hallo", "danke"), and one edit is a big share
# of a short word, so they need a closer fuzzy match.
SHORT_INPUT = 5
SHORT_FUZZY_CUTOFF = 90.0
# No German address is anywhere near this long; cutting the input keeps a
# pasted wall of text from costing anything.
MAX_INPUT_CHARS = 100
# An addition is a word or two ("Hagen i. d. Westf."); more is a sentence.
MAX_ADDITION_WORDS = 4
LABEL_MAX = 60
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float


@dataclass(frozen=True)
class Locality:
    """One resolved place a member can be "at"."""

    name: str  # 'Iserlohn', or for a postcode '58636 Iserlohn'
    state: str  # 'Nordrhein-Westfalen'
    point: GeoPoint
    postcode: str | None = None
    # The coordinates are borrowed from a neighbouring postcode (see docs/DATA.md).
    approximate: bool = False

    def label(self) -> str:
        """'Neustadt an der Weinstraße (Rheinland-Pfalz)', at most 60 characters."""
        # "Neustadt (Hessen)" and "Hamburg-Mitte" say their state already.
        suffix = "" if re.search(rf"\b{re.escape(self.state)}\b", self.name) else f" ({self.state})"
        if len(self.name) + len(suffix) <= LABEL_MAX:
            return self.name + suffix
        room = LABEL_MAX - len(suffix) - 1
        if room < 10:
            # Without a readable part of the name the state alone is no help.
            return self.name[: LABEL_MAX - 1] + "…"
        return self.name[:room].rstrip() + "…" + suffix


@dataclass(frozen=True)
class LookupResult:
    # Empty: not found; one: resolved; several: ask which one (most populous first).
    matches: tuple[Locality, ...]
    # A typo was corrected, so the bot should confirm ("Meintest du ...?").
    corrected: bool = False


KM_PER_DEGREE_LAT = 111.2


def search_box(point: GeoPoint, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a box that holds the circle around `point`."""
    dlat = radius_km / KM_PER_DEGREE_LAT
    dlon = radius_km / (KM_PER_DEGREE_LAT * max(0.05, math.cos(math.radians(point.lat))))
    return point.lat - dlat, point.lat + dlat, point.lon - dlon, point.lon + dlon


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in kilometres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "œ": "oe"})
# People without a German keyboard type "Koln"; folded keys catch that exactly.
_PLAIN = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "æ": "ae", "œ": "oe"})
_SANKT = re.compile(r"\bst\b\.?")
_AN_DER = re.compile(r"\ba\.\s*d\.")
_SEPARATORS = re.compile(r"[\W_]+")


def _normalise(text: str, table: dict[int, str]) -> str:
    if text.isascii():
        text = text.lower()
    else:
        # NFC first so a decomposed "ö" (o + combining diaeresis) is transliterated.
        text = unicodedata.normalize("NFC", text).casefold().translate(table)
        if not text.isascii():
            text = "".join(
                c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
            )
    if "st" in text:
        text = _SANKT.sub("sankt ", text)
    if "." in text:
        text = _AN_DER.sub(" an der ", text)
    if text.isalnum():
        return text
    return " ".join(_SEPARATORS.sub(" ", text).split())


def normalise(text: str) -> str:
    """Comparable form of a place name.

    'Mönchengladbach' and 'Moenchengladbach' -> 'moenchengladbach';
    'St. Ingbert' -> 'sankt ingbert'; 'Frankfurt (Oder)' -> 'frankfurt oder'.
    Punctuation becomes a space, other accents are dropped, emoji vanish.
    """
    return _normalise(text, _GERMAN)


def _fold(text: str) -> str:
    return _normalise(text, _PLAIN)


_BASE_SPLIT = re.compile(r"\s*[(/,]")
_POSTCODE = re.compile(r"(?<!\d)\d{5}(?!\d)")


def base_name(name: str) -> str:
    """'Halle (Saale)' -> 'Halle', 'Lichtenstein/Sachsen' -> 'Lichtenstein'."""
    if "(" in name or "/" in name or "," in name:
        return _BASE_SPLIT.split(name, maxsplit=1)[0].strip()
    return name


# Abbreviations in town additions, on normalised text ("Freiburg i. Br." ->
# "freiburg i br"). Words that an addition's prefix finds anyway ("Westf." ->
# "westfalen", "Thür." -> "thueringen") need no entry.
_ABBREVIATIONS = tuple(
    (re.compile(rf"\b(?:{pattern})\b"), words)
    for pattern, words in (
        (r"i br|i brsg|i breisg|brsg|breisg", "im breisgau"),
        (r"i a|i allg", "im allgaeu"),
        (r"i w|i wf|i westf|wf", "in westfalen"),
        (r"a m", "am main"),
        (r"a rh|a rhein", "am rhein"),
        (r"a d", "an der"),
        (r"i d", "in der"),
        (r"v d h", "vor der hoehe"),
        (r"opf", "oberpfalz"),
        (r"ofr", "oberfranken"),
        (r"mfr", "mittelfranken"),
        (r"ufr", "unterfranken"),
        (r"obb", "oberbayern"),
        (r"ndb", "niederbayern"),
        (r"oldb", "oldenburg"),
        (r"odw", "odenwald"),
        (r"ndrh", "niederrhein"),
        (r"hann", "hannoversch"),
    )
)
# Words of an addition that tell nothing about which town is meant.
_FILLERS = frozenset(
    [
        "a",
        "am",
        "an",
        "auf",
        "b",
        "bei",
        "d",
        "dem",
        "den",
        "der",
        "die",
        "i",
        "im",
        "in",
        "ob",
        "stadt",
        "vor",
        "zu",
        "deutschland",
        "germany",
    ]
)
# Regions people add to a town's name, by state (the state's own words count too).
_REGIONS = {
    "Baden-Württemberg": "bw baden wuerttemberg schwarzwald hohenzollern bodensee allgaeu",
    "Bayern": (
        "by bayern oberpfalz oberfranken mittelfranken unterfranken oberbayern niederbayern"
        " schwaben franken allgaeu bodensee"
    ),
    "Brandenburg": "bb mark uckermark lausitz niederlausitz havelland",
    "Hessen": "he odenwald taunus rhoen wetterau vogelsberg",
    "Mecklenburg-Vorpommern": "mv mecklenburg vorpommern pommern",
    "Niedersachsen": "nds oldenburg ostfriesland emsland harz hannover",
    "Nordrhein-Westfalen": "nrw westfalen rheinland sauerland muensterland lippe niederrhein",
    "Rheinland-Pfalz": "rlp rp pfalz rheinhessen eifel hunsrueck westerwald",
    "Saarland": "saar",
    "Sachsen": "sn vogtland erzgebirge lausitz oberlausitz",
    "Sachsen-Anhalt": "harz altmark",
    "Schleswig-Holstein": "sh holstein schleswig dithmarschen",
    "Thüringen": "th",
}
# A house number after a street's words, as in "Bahnhofstr. 12a" or "Am Markt 3-5".
_HOUSE_NUMBER = re.compile(
    r"(?<=[^\W\d_])(?:[.,]\s*|\s+)\d{1,4}(?:\s?[a-zA-Z](?![^\W\d_]))?(?:\s*[-/]\s*\d{1,4}[a-zA-Z]?)?"
    r"(?![\d])"
)
_LEADING_PREPOSITION = re.compile(r"^(?:in|bei|aus)\s+", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")


def town_of_address(text: str) -> str | None:
    """'Bahnhofstr. 1, Iserlohn' -> 'Iserlohn'; None when the text is no street address."""
    number = _HOUSE_NUMBER.search(text)
    if number is None:
        return None
    after = _LEADING_PREPOSITION.sub("", text[number.end() :].strip(" \t,;.-")).strip()
    if _LETTER.search(after):
        return after
    # "Iserlohn, Bahnhofstr. 1": the town before the street.
    before, comma, _ = text[: number.start()].partition(",")
    return before.strip() if comma and _LETTER.search(before) else None


def _all_said(addition: list[str], said: set[str]) -> bool:
    """Whether each word of an addition is one of `said` or (three letters or more) starts one."""
    return all(
        word in said or (len(word) >= 3 and any(s.startswith(word) for s in said))
        for word in addition
    )


def expand_abbreviations(query: str) -> str:
    """'freiburg i br' -> 'freiburg im breisgau', on a `normalise`d name."""
    for pattern, words in _ABBREVIATIONS:
        if pattern.search(query):
            query = pattern.sub(words, query)
    return query


@dataclass(frozen=True)
class TownRecord:
    """A town as stored in the gazetteer file."""

    locality: Locality
    population: int
    official: tuple[str, ...] = ()  # other official names, from the postcode data
    alternatives: tuple[str, ...] = ()  # GeoNames' alternative names ("Munich")


@dataclass(frozen=True)
class _Town:
    locality: Locality
    population: int
    names: frozenset[str]  # normalised own names, as opposed to alternative names
    aliases: tuple[str, ...]  # normalised alternative names


def _read(path: Path) -> tuple[list[TownRecord], list[Locality]]:
    towns: list[TownRecord] = []
    postcodes: list[Locality] = []
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            fields = line.rstrip("\n").split("\t")
            if fields[0] == "T":
                _, name, state, lat, lon, pop, _codes, approx, official, alternatives = fields
                point = GeoPoint(float(lat), float(lon))
                towns.append(
                    TownRecord(
                        Locality(name, state, point, None, approx == "1"),
                        int(pop),
                        tuple(official.split("|")) if official else (),
                        tuple(alternatives.split("|")) if alternatives else (),
                    )
                )
            elif fields[0] == "P":
                _, code, name, state, lat, lon, approx = fields
                point = GeoPoint(float(lat), float(lon))
                postcodes.append(Locality(f"{code} {name}", state, point, code, approx == "1"))
    return towns, postcodes


def _add(index: dict[str, list[int]], key: str, town: int) -> None:
    # Towns are added in rank order, so each list stays sorted, most populous first.
    ids = index.setdefault(key, [])
    if not ids or ids[-1] != town:
        ids.append(town)


class Gazetteer:
    """Towns and postcodes of Germany, looked up by what a member types."""

    def __init__(
        self,
        towns: Iterable[TownRecord],
        postcodes: Iterable[Locality],
    ) -> None:
        """towns: one per place; postcodes: one per postcode and locality."""
        ranked = sorted(towns, key=lambda t: (-t.population, t.locality.name, t.locality.state))
        memo: dict[str, str] = {}

        def norm(text: str) -> str:
            key = memo.get(text)
            if key is None:
                key = memo[text] = normalise(text)
            return key

        self._towns: list[_Town] = []
        names: dict[str, list[int]] = {}
        aliases: dict[str, list[int]] = {}
        folded: dict[str, list[int]] = {}
        population: dict[tuple[str, str], int] = {}
        for index, record in enumerate(ranked):
            locality = record.locality
            population.setdefault((locality.name, locality.state), record.population)
            own = {locality.name, base_name(locality.name)}
            for name in record.official:
                own.update((name, base_name(name)))
            keys: set[str] = set()
            for name in own:
                if key := norm(name):
                    _add(names, key, index)
                    keys.add(key)
                if not name.isascii() and (key := _fold(name)):
                    _add(folded, key, index)
                    keys.add(key)
            alias_keys: list[str] = []
            for alias in record.alternatives:
                if key := norm(alias):
                    _add(aliases, key, index)
                    alias_keys.append(key)
            self._towns.append(
                _Town(locality, record.population, frozenset(keys), tuple(alias_keys))
            )
        self._names = names
        self._aliases = aliases
        self._folded = folded
        self._state_words: dict[str, frozenset[str]] = {}
        self._name_keys = sorted(names)
        self._alias_keys = sorted(aliases)
        self._folded_keys = sorted(folded)
        # Fuzzy matching runs over names only: many alternative names are
        # transliterations that would just produce odd guesses. Bucketed by first
        # letter (typos rarely hit the first one, and "abbrechen" must not become
        # "Brechen") and by length, as a ratio >= 85 rules out lengths that
        # differ by more than about a quarter.
        self._fuzzy: dict[tuple[str, int], list[str]] = {}
        for key in self._name_keys:
            self._fuzzy.setdefault((key[0], len(key)), []).append(key)

        grouped: dict[str, list[Locality]] = {}
        for locality in postcodes:
            if locality.postcode:
                grouped.setdefault(locality.postcode, []).append(locality)
        self._postcodes: dict[str, tuple[Locality, ...]] = {}
        for code, localities in grouped.items():
            localities.sort(
                key=lambda loc: (
                    -population.get((loc.name.partition(" ")[2], loc.state), 0),
                    loc.name,
                    loc.state,
                )
            )
            self._postcodes[code] = tuple(localities)

    @classmethod
    def load(cls, path: Path | None = None) -> Gazetteer:
        """Read the gazetteer file (default: the one shipped in bot/data)."""
        # Tens of thousands of small objects, none of them garbage: collection
        # passes during the load would only cost time.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return cls(*_read(path or DEFAULT_PATH))
        finally:
            if collecting:
                gc.enable()

    def __len__(self) -> int:
        return len(self._towns)

    @property
    def postcode_count(self) -> int:
        return len(self._postcodes)

    def postcodes(self) -> Iterator[Locality]:
        """Every postcode locality, in postcode order."""
        for code in sorted(self._postcodes):
            yield from self._postcodes[code]

    def by_postcode(self, code: str) -> Locality | None:
        """The main locality of a postcode (the most populous one), or None."""
        localities = self._postcodes.get(code.strip())
        return localities[0] if localities else None

    def nearest_town(self, point: GeoPoint, max_km: float = 30) -> Locality | None:
        """The nearest town with inhabitants: how a shared location is named ("Iserlohn").

        A linear scan (about 13 000 towns, a few ms) is fine for a once-per-member action.
        """
        k = math.cos(math.radians(point.lat)) ** 2
        best: _Town | None = None
        best_d2 = float("inf")
        for town in self._towns:
            if town.population <= 0:
                continue
            p = town.locality.point
            d2 = (p.lat - point.lat) ** 2 + k * (p.lon - point.lon) ** 2
            if d2 < best_d2:
                best, best_d2 = town, d2
        if best is None or haversine_km(point, best.locality.point) > max_km:
            return None
        return best.locality

    def lookup(self, text: str) -> LookupResult:
        """Resolve a postcode, town name or address; see the module docstring for the rules."""
        text = text.strip()[:MAX_INPUT_CHARS]
        postcode = _POSTCODE.search(text)
        if postcode:
            # "58636", "58636 Iserlohn", "Iserlohn 58636", "Bahnhofstr. 1, 58636
            # Iserlohn": the code decides, the town after it (or else before it)
            # picks among the code's localities.
            code = postcode.group()
            after = text[postcode.end() :]
            rest = after if _LETTER.search(after) else text[: postcode.start()]
            localities = self._postcodes.get(code)
            if localities:
                return LookupResult(self._pick_postcode(localities, rest))
            text = rest
        town = town_of_address(text)
        return self._lookup_town(town if town is not None else text)

    def _lookup_town(self, text: str) -> LookupResult:
        query = normalise(text)
        if not query or query.isdigit():
            return LookupResult(())
        ids = self._exact(query)
        if not ids:
            ids = self._folded.get(query, [])
        if not ids:
            expanded = expand_abbreviations(query)
            if expanded != query:
                query = expanded
                ids = self._exact(query) or self._folded.get(query, [])
        if not ids:
            ids = self._prefixed(query)
        if not ids:
            query, ids = self._qualified(query)
        if ids:
            towns = self._decide(ids)
            # Found by an alternative name only ("Iserlon", "Cologne"): worth confirming.
            named = any(
                query in town.names or any(key.startswith(query + " ") for key in town.names)
                for town in towns
            )
            return LookupResult(tuple(t.locality for t in towns), corrected=not named)
        best = self._fuzzy_keys(query)
        ids = [town for key in best for town in self._exact(key)]
        towns = self._decide(ids)
        return LookupResult(tuple(t.locality for t in towns), corrected=bool(towns))

    def _qualified(self, query: str) -> tuple[str, list[int]]:
        """(name, places) for a name plus an addition that tells which place is meant.

        "hagen westfalen": of the places called Hagen (or "Hagen ..."), those
        that have "westfalen" among the words of their names or, failing that,
        of their state or its regions ("Neumarkt Opf" is Neumarkt in der
        Oberpfalz, not another Neumarkt in Bavaria).
        """
        words = query.split()
        for cut in range(len(words) - 1, 0, -1):
            addition = [w for w in words[cut:] if w not in _FILLERS]
            if not addition or len(addition) > MAX_ADDITION_WORDS:
                continue
            head = " ".join(words[:cut])
            found = {*self._exact(head), *self._folded.get(head, ()), *self._prefixed(head)}
            by_name: list[int] = []
            by_region: list[int] = []
            for index in found:
                town = self._towns[index]
                said = {w for key in (*town.names, *town.aliases) for w in key.split()}
                if _all_said(addition, said):
                    by_name.append(index)
                elif _all_said(addition, said | self._words_of_state(town.locality.state)):
                    by_region.append(index)
            if by_name or by_region:
                return head, sorted(by_name or by_region)
        return query, []

    def _words_of_state(self, state: str) -> frozenset[str]:
        words = self._state_words.get(state)
        if words is None:
            words = frozenset(
                {*normalise(state).split(), *_fold(state).split(), *_REGIONS.get(state, "").split()}
            )
            self._state_words[state] = words
        return words

    def _exact(self, key: str) -> list[int]:
        return sorted({*self._names.get(key, ()), *self._aliases.get(key, ())})

    def _pick_postcode(self, localities: tuple[Locality, ...], rest: str) -> tuple[Locality, ...]:
        """All localities of a postcode, or the ones the text after the code names."""
        wanted = normalise(rest)
        if wanted and len(localities) > 1:
            named = tuple(
                loc
                for loc in localities
                if normalise(loc.name.partition(" ")[2]).startswith(wanted)
                or _fold(loc.name.partition(" ")[2]).startswith(wanted)
            )
            if named:
                localities = named
        return localities[:MAX_MATCHES]

    def _prefixed(self, query: str) -> list[int]:
        """Places whose name is the query plus more words ('frankfurt am main')."""
        prefix = query + " "
        found: set[int] = set()
        for keys, index in (
            (self._name_keys, self._names),
            (self._alias_keys, self._aliases),
            (self._folded_keys, self._folded),
        ):
            for position in range(bisect.bisect_left(keys, prefix), len(keys)):
                key = keys[position]
                if not key.startswith(prefix):
                    break
                found.update(index[key])
        return sorted(found)

    def _fuzzy_keys(self, query: str) -> list[str]:
        """The closest names (all tying for the best score), or none that is close."""
        cutoff = SHORT_FUZZY_CUTOFF if len(query) <= SHORT_INPUT else FUZZY_CUTOFF
        # ratio = 2 * common / (len(a) + len(b)) bounds how far the lengths may differ.
        shortest = math.ceil(len(query) * cutoff / (200 - cutoff))
        longest = math.floor(len(query) * (200 - cutoff) / cutoff)
        best = cutoff
        found: list[str] = []
        for length in range(shortest, longest + 1):
            keys = self._fuzzy.get((query[0], length))
            if keys is None:
                continue
            for key, score, _ in process.extract(
                query, keys, scorer=fuzz.ratio, score_cutoff=best, limit=None
            ):
                if score > best:
                    best, found = score, []
                if score == best:
                    found.append(key)
        return found

    def _decide(self, ids: Iterable[int]) -> list[_Town]:
        """Distinct places, most populous first; just one if it clearly dominates."""
        seen: set[tuple[str, str]] = set()
        towns: list[_Town] = []
        for index in sorted(set(ids)):
            town = self._towns[index]
            # Two places with the same name in the same state would look the
            # same on a button; the bigger one stands for both.
            key = (town.locality.name, town.locality.state)
            if key not in seen:
                seen.add(key)
                towns.append(town)
        if len(towns) > 1 and towns[0].population >= DOMINANCE * max(towns[1].population, 1):
            towns = towns[:1]
        return towns[:MAX_MATCHES]


@cache
def default_gazetteer() -> Gazetteer:
    """The shipped gazetteer, loaded once per process."""
    return Gazetteer.load()


class LazyGazetteer(Gazetteer):
    """The shipped gazetteer, read on its first use: a start that needs no place names
    (`werkbank db upgrade`, a returning member's first answer) saves its quarter second."""

    def __init__(self) -> None:  # nothing read yet; every use goes to the loaded one
        pass

    def __len__(self) -> int:
        return len(default_gazetteer())

    @property
    def postcode_count(self) -> int:
        return default_gazetteer().postcode_count

    def postcodes(self) -> Iterator[Locality]:
        return default_gazetteer().postcodes()

    def by_postcode(self, code: str) -> Locality | None:
        return default_gazetteer().by_postcode(code)

    def nearest_town(self, point: GeoPoint, max_km: float = 30) -> Locality | None:
        return default_gazetteer().nearest_town(point, max_km)

    def lookup(self, text: str) -> LookupResult:
        return default_gazetteer().lookup(text)
