"""Do two topic titles mean the same thing? Matching that survives how people write German.

"Lasercutter für Holz", "Laser-Cutter fuer Hölzer" and "Holz lasern mit dem Laser Cutter"
should find each other; "Möbel bauen" and "Möbel restaurieren" should not. A title
becomes a key once (`title_key`): lower case, umlauts folded ("ä", "ae" and "a" meet,
so "Hölzer" meets "Holz"), hyphens inside words dropped, small words dropped, each
word cut to a rough stem (plural and case endings). Two keys score by the share of
their words that find a partner on the other side: the same stem, the same stem but
for a small typo, or two neighbouring words that together make it ("laser cutter" and
"lasercutter"). Word order does not matter.

Speed: rapidfuzz's C loops pick candidates first (`most_similar`), and only those get
the exact score: 10 000 titles take a few milliseconds.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

# Scores from 0 to 100; at or above this a topic is offered as "Ist es eines davon?".
SIMILAR = 75
# The cheap first pass keeps the titles at least this close, word sets or letters, and
# of those only the closest few for the exact score (a common word like "Holz" brings
# hundreds of weak candidates in a big region).
_CANDIDATE = 50
_CANDIDATES_PER_PASS = 25
_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_SPELLED_UMLAUT = re.compile(r"(?<=[a-z])(?:ae|oe|ue)")
_INNER_HYPHEN = re.compile(r"(?<=\w)[-‐‑/](?=\w)")
_WORD = re.compile(r"[a-z0-9]+")
# Words that carry no topic: articles, prepositions, "learn how to" words.
_SMALL = frozenset(
    (  # noqa: SIM905 - a list of words reads best as words
        "der die das den dem des ein eine einen einem einer eines und oder mit ohne fur "
        "von vom zum zur im in am an auf aus bei ich wir wie was mal mehr uber unter nach "
        "vor alle neu neue neuen neues lernen lerne machen selbst anfanger einsteiger "
        "workshop thema kurs grundlagen mochte will wurde gern gerne bitte etwas "
        "the a and or with for of to on how learn i want would like"
    ).split()
)
# Endings cut from words longer than five letters, longest first: "holzer" → "holz",
# "nahmaschinen" → "nahmaschin", "lasern" → "laser".
_ENDINGS = ("innen", "ungen", "ung", "ern", "en", "er", "es", "e", "n", "s")


@dataclass(frozen=True)
class TitleKey:
    """A title as matching sees it: its word stems in order, sorted, and run together."""

    stems: tuple[str, ...]
    words: str  # sorted, space-separated: for the first pass on word sets
    joined: str  # in order, run together: for the first pass on letters


def _stem(word: str) -> str:
    if len(word) <= 5:
        return word
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def _fold(word: str) -> str:
    return _SPELLED_UMLAUT.sub(lambda m: m[0][0], word)


# Cached: a search compares against every open topic nearby, and their titles repeat
# from call to call (a long-running bot sees the same topics over and over).
@functools.lru_cache(maxsize=65536)
def title_key(title: str) -> TitleKey:
    plain = _INNER_HYPHEN.sub("", title.casefold().translate(_UMLAUTS))
    words = [_fold(w) for w in _WORD.findall(plain)]
    stems = tuple(_stem(w) for w in words if w not in _SMALL)
    return TitleKey(stems, " ".join(sorted(stems)), "".join(stems))


def _alike(one: str, other: str) -> bool:
    """The same stem, or the same but for one slip of the keyboard (two in long words):
    "kermaik" is "keramik", but "modellbau" is not "mobelbau"."""
    if one == other:
        return True
    if min(len(one), len(other)) < 5:
        return False  # "holz" and "hols" are different words; short ones must be equal
    slips = 2 if min(len(one), len(other)) >= 10 else 1
    return DamerauLevenshtein.distance(one, other, score_cutoff=slips) <= slips


def _matched(stems: tuple[str, ...], other: tuple[str, ...]) -> int:
    """How many of `stems` find a partner in `other`: a stem alike, or a stem that is
    two neighbouring ones run together ("lasercutt" and "laser", "cutt")."""
    joined = [a + b for a, b in itertools.pairwise(other)]
    found = [any(_alike(s, o) for o in (*other, *joined)) for s in stems]
    for i in range(len(stems) - 1):
        if not (found[i] and found[i + 1]) and any(
            _alike(stems[i] + stems[i + 1], o) for o in other
        ):
            found[i] = found[i + 1] = True
    return sum(found)


def score(one: TitleKey, other: TitleKey) -> float:
    """0–100: the share of both titles' words that find a partner on the other side."""
    if not one.stems or not other.stems:
        return 0.0
    matched = _matched(one.stems, other.stems) + _matched(other.stems, one.stems)
    return 100.0 * matched / (len(one.stems) + len(other.stems))


def most_similar(
    title: str, keys: Sequence[TitleKey], limit: int = 3, cutoff: float = SIMILAR
) -> list[tuple[int, float]]:
    """(index into `keys`, score) of the titles most like `title`, best first."""
    query = title_key(title)
    if not query.stems or not keys:
        return []
    candidates: set[int] = set()
    passes = (
        (query.words, [k.words for k in keys], fuzz.token_set_ratio),
        (query.joined, [k.joined for k in keys], fuzz.partial_ratio),
    )
    for text, choices, scorer in passes:
        for _, _value, index in process.extract(
            text,
            choices,
            scorer=scorer,
            limit=_CANDIDATES_PER_PASS,
            score_cutoff=_CANDIDATE,
            processor=None,
        ):
            candidates.add(index)
    scored = ((index, score(query, keys[index])) for index in candidates)
    ranked = sorted((hit for hit in scored if hit[1] >= cutoff), key=lambda h: (-h[1], h[0]))
    return ranked[:limit]
