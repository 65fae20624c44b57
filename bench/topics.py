"""Similar topics: how fast and how well `bot.matching` finds a topic among 10 000.

Run from the repository root: `python bench/topics.py` (about half a minute;
`--topics N`, `--queries N`, `--seed N`). It prints a Markdown table and writes
bench/results/topics.json. See docs/BENCHMARKS.md, "Topics".

- **Speed**: `most_similar(title, keys)` over the keys of 10 000 open topics with
  realistic German titles (the worst case: a radius that holds all of Germany),
  beside the baseline `rapidfuzz.process.extract(title, titles, limit=3)` (WRatio over
  the raw titles) in the same run, taking turns in blocks. The keys are made once,
  as the service's cache holds them; making them is timed separately. And the service
  itself, `Topics.similar`, on SQLite with the topics spread over Germany, at 25 km.
- **Quality**: precision and recall on labelled pairs of titles: the same topic
  written differently (case, "ae" for "ä", hyphens and spaces in compounds, plural
  endings, word order, small typos, small words) and different topics that share
  words, for `bot.matching` (score ≥ SIMILAR) and for the baseline (WRatio ≥ 85).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from bot.codes import Field  # noqa: E402
from bot.geo import GeoPoint, haversine_km  # noqa: E402
from bot.grouping import Candidate, crowded_centre, propose_group  # noqa: E402
from bot.grouping import quality as group_quality  # noqa: E402
from bot.matching import SIMILAR, most_similar, score, title_key  # noqa: E402

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
Pair = tuple[str, str, bool, str]  # (one title, another, the same topic?, how written)
BASELINE_CUTOFF = 85
SUBJECTS = (
    "Lasercutter",
    "3D-Druck",
    "CNC-Fräse",
    "Nähmaschine",
    "Löten",
    "Schweißen",
    "Drechseln",
    "Keramik",
    "Siebdruck",
    "Holzverbindungen",
    "Epoxidharz",
    "Leder",
    "Textildruck",
    "Upcycling",
    "Fahrradreparatur",
    "Elektronik",
    "Arduino",
    "Plotter",
    "Stickmaschine",
    "Glasperlen",
    "Schmieden",
    "Polstern",
    "Vergolden",
    "Buchbinden",
    "Korbflechten",
    "Steinmetz",
    "Gießen",
    "Fotogravur",
    "Schablonen",
    "Intarsien",
)
OBJECTS = (
    "für Holz",
    "für Acryl",
    "für Tischler",
    "im Möbelbau",
    "für Schmuck",
    "für Ersatzteile",
    "für Prototypen",
    "mit Kindern",
    "für Anfänger",
    "für Profis",
    "für Schilder",
    "für Taschen",
    "im Handwerksbetrieb",
    "für Designer",
    "mit Recyclingmaterial",
    "für Lampen",
    "für Fliesen",
    "für Textilien",
    "für Modellbau",
    "für Werkzeuge",
)
# Labelled pairs written by hand, beside the generated ones.
SAME_BY_HAND = (
    ("Lasercutter für Holz", "Holz lasern mit dem Laser Cutter"),
    ("Nähmaschinen reparieren", "Naehmaschine reparieren"),
    ("3D-Druck für Tischler", "Tischler und 3D Druck"),
    ("Keramik glasieren", "Kermaik glasiren"),
    ("Holzverbindungen fräsen", "CNC fräsen Holzverbindung"),
    ("Fahrrad reparieren", "Fahrräder reparieren"),
)
DIFFERENT_BY_HAND = (
    ("Schweißen lernen", "Löten lernen"),
    ("Möbel restaurieren", "Möbel bauen"),
    ("Siebdruck auf Stoff", "3D-Druck für Tischler"),
    ("Nähen mit Leder", "Löten für Anfänger"),
)


def titles(rng: random.Random, n: int) -> list[str]:
    return [f"{rng.choice(SUBJECTS)} {rng.choice(OBJECTS)}" for _ in range(n)]


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 6:
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # two letters swapped


def _compound(title: str, rng: random.Random) -> str:
    if "-" in title:
        return title.replace("-", " ")
    return title.replace("cutter", "-Cutter").replace("druck", " Druck")


def _first_word_typo(title: str, rng: random.Random) -> str:
    first, _, rest = title.partition(" ")
    return f"{_typo(first, rng)} {rest}"


def _plural(title: str, rng: random.Random) -> str:
    for one, many in (("maschine", "maschinen"), ("Lasercutter", "Lasercuttern")):
        title = title.replace(one, many)
    return title.replace("verbindungen", "verbindung").replace("Schablonen", "Schablone")


# How people write the same title differently; each returns a variant of `title`.
VARIANTS: dict[str, Callable[[str, random.Random], str]] = {
    "case": lambda t, r: t.lower() if r.random() < 0.5 else t.upper(),
    "umlaut as ae": lambda t, r: t.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue"),
    "hyphen or space in a compound": _compound,
    "word order": lambda t, r: " ".join(reversed(t.split(" ", 1))),
    "small typo": _first_word_typo,
    "small words": lambda t, r: "Ich möchte " + t + " lernen",
    "plural": _plural,
}


def labelled_pairs(rng: random.Random, per_kind: int) -> list[Pair]:
    """(one, other, same topic?, kind) pairs: variants of one title, and different
    topics that share their subject or their object."""
    pairs: list[Pair] = []
    for kind, variant in VARIANTS.items():
        for title in titles(rng, per_kind):
            other = variant(title, rng)
            if other != title:
                pairs.append((title, other, True, kind))
    for _ in range(per_kind * 3):
        subject, other_subject = rng.sample(SUBJECTS, 2)
        thing, other_thing = rng.sample(OBJECTS, 2)
        pairs.append((f"{subject} {thing}", f"{other_subject} {thing}", False, "same object"))
        pairs.append((f"{subject} {thing}", f"{subject} {other_thing}", False, "same subject"))
    pairs += [(a, b, True, "by hand") for a, b in SAME_BY_HAND]
    pairs += [(a, b, False, "by hand") for a, b in DIFFERENT_BY_HAND]
    return pairs


def quality(
    pairs: Sequence[tuple[str, str, bool, str]], similar: Callable[[str, str], bool]
) -> dict[str, float]:
    tp = sum(1 for a, b, same, _ in pairs if same and similar(a, b))
    fp = sum(1 for a, b, same, _ in pairs if not same and similar(a, b))
    fn = sum(1 for a, b, same, _ in pairs if same and not similar(a, b))
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "pairs": len(pairs),
    }


def found_among(pairs: Sequence[Pair], corpus: list[str], limit: int = 3) -> dict[str, float]:
    """Retrieval: with `other` hidden among the corpus, is it in the top `limit` for
    `one`? For bot.matching and for process.extract over the raw titles. Copies of
    `one` itself are left out of the corpus: they are the same topic, so finding them
    first would be right too (the generated corpus repeats its 600 title shapes)."""
    same = [(a, b) for a, b, is_same, _ in pairs if is_same]
    ours = base = 0
    for one, other in same:
        pool = [t for t in corpus if t != one]
        hits = most_similar(one, [*(title_key(t) for t in pool), title_key(other)], limit=limit)
        ours += any(index == len(pool) for index, _ in hits)
        found = process.extract(one, [*pool, other], limit=limit)
        base += any(index == len(pool) for _, _, index in found)
    return {"ours": ours / len(same), "baseline": base / len(same), "pairs": len(same)}


def timed(call: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    """Milliseconds one call takes."""
    start = time.perf_counter()
    call(*args, **kwargs)
    return (time.perf_counter() - start) * 1000


def speed(args: argparse.Namespace, rng: random.Random) -> dict[str, object]:
    corpus = titles(rng, args.topics)
    start = time.perf_counter()
    title_key.cache_clear()
    keys = [title_key(t) for t in corpus]
    making = (time.perf_counter() - start) * 1000
    queries = titles(rng, args.queries)
    ours: list[float] = []
    baseline: list[float] = []
    for block in range(0, len(queries), 25):  # taking turns, so both see the same machine
        for q in queries[block : block + 25]:
            ours.append(timed(most_similar, q, keys))
        for q in queries[block : block + 25]:
            baseline.append(timed(process.extract, q, corpus, limit=3))
    return {
        "topics": args.topics,
        "queries": len(queries),
        "keys_made_ms": making,
        "ours_median_ms": statistics.median(ours),
        "ours_p95_ms": statistics.quantiles(ours, n=20)[-1],
        "baseline_median_ms": statistics.median(baseline),
        "baseline_p95_ms": statistics.quantiles(baseline, n=20)[-1],
    }


def demand(rng: random.Random, topics: int = 1_000, people: int = 100) -> dict[str, Any]:
    """`crowded_centre` over `topics` × `people` homes (100 000 supports), against
    comparing every pair, the baseline, on a tenth of the topics (it is that slow)."""
    homes = [
        [GeoPoint(rng.uniform(47.5, 54.8), rng.uniform(6.0, 14.8)) for _ in range(people)]
        for _ in range(topics)
    ]
    start = time.perf_counter()
    found = sum(crowded_centre(h, 3, 30) is not None for h in homes)
    ours = time.perf_counter() - start

    def every_pair(points: list[GeoPoint]) -> bool:
        return any(sum(haversine_km(p, q) <= 30 for q in points) >= 3 for p in points)

    tenth = homes[: topics // 10]
    start = time.perf_counter()
    agree = sum(every_pair(h) == (crowded_centre(h, 3, 30) is not None) for h in tenth)
    pairs = time.perf_counter() - start
    return {
        "supports": topics * people,
        "ours_s": ours,
        "with_demand": found,
        "baseline_s_per_topic": pairs / len(tenth),
        "ours_s_per_topic": ours / topics,
        "agree": f"{agree}/{len(tenth)}",
    }


def grouping(rng: random.Random, supporters: int = 200, rounds: int = 100) -> dict[str, Any]:
    """`propose_group` for a topic with 200 consenting supporters within 30 km, against
    random groups of the same size: time, fields covered, longest trip."""
    place = GeoPoint(51.37, 7.70)
    fields = [Field.CRAFT, Field.CRAFT, Field.CRAFT, Field.DESIGN, Field.DIGITAL, Field.OTHER]
    spent, ours_fields, ours_km, rand_fields, rand_km = [], [], [], [], []
    for _ in range(rounds):
        people = [
            Candidate(
                i,
                rng.choice(fields),
                GeoPoint(
                    place.lat + rng.uniform(-0.27, 0.27), place.lon + rng.uniform(-0.42, 0.42)
                ),
            )
            for i in range(supporters)
        ]
        spent.append(timed(propose_group, people, place))
        group = propose_group(people, place)
        assert group is not None
        ours_fields.append(len(group.fields))
        ours_km.append(group.longest_km)
        other = group_quality(rng.sample(people, len(group.members)), place)
        rand_fields.append(len(other.fields))
        rand_km.append(other.longest_km)
    return {
        "supporters": supporters,
        "median_ms": statistics.median(spent),
        "fields": statistics.mean(ours_fields),
        "longest_km": statistics.mean(ours_km),
        "random_fields": statistics.mean(rand_fields),
        "random_longest_km": statistics.mean(rand_km),
    }


async def service(args: argparse.Namespace, rng: random.Random) -> dict[str, object]:
    """`Topics.similar` on SQLite, the topics' authors spread over Germany."""
    from sqlalchemy import insert

    from bot.services.database import Database
    from bot.services.topics import Topics
    from bot.storage.models import Member, Topic, lat_band

    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(f"sqlite+aiosqlite:///{tmp}/topics.db")
        try:
            async with db.transaction() as session:
                await session.execute(
                    insert(Member), [{"id": 1, "display_name": "x", "consents": {}}]
                )
                rows = []
                for i, title in enumerate(titles(rng, args.topics), 1):
                    lat, lon = rng.uniform(47.5, 54.8), rng.uniform(6.0, 14.8)
                    rows.append(
                        {
                            "id": i,
                            "title": title,
                            "proposer_id": 1,
                            "status": "open",
                            "fields": f"|{Field.CRAFT}|",
                            "lat": lat,
                            "lon": lon,
                            "lat_band": lat_band(lat),
                            "created_at": NOW,
                        }
                    )
                await session.execute(insert(Topic), rows)
            topics = Topics(db)
            point = GeoPoint(51.37, 7.70)
            for q in titles(rng, 20):  # warm-up: the key cache fills as in a running bot
                await topics.similar(2, point, 25, q)
            spent = []
            for q in titles(rng, args.queries):
                start = time.perf_counter()
                await topics.similar(2, point, 25, q)
                spent.append((time.perf_counter() - start) * 1000)
            return {
                "radius_km": 25,
                "median_ms": statistics.median(spent),
                "p95_ms": statistics.quantiles(spent, n=20)[-1],
            }
        finally:
            await db.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--topics", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pairs-per-kind", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    pairs = labelled_pairs(rng, args.pairs_per_kind)
    ours_q = quality(pairs, lambda a, b: score(title_key(a), title_key(b)) >= SIMILAR)
    base_q = quality(pairs, lambda a, b: fuzz.WRatio(a, b) >= BASELINE_CUTOFF)
    misses = [
        (a, b, kind)
        for a, b, same, kind in pairs
        if same != (score(title_key(a), title_key(b)) >= SIMILAR)
    ]
    fast = speed(args, rng)
    retrieval = found_among(pairs, titles(rng, args.topics))
    db = asyncio.run(service(args, rng))
    crowds = demand(rng)
    groups = grouping(rng)
    report(args, len(pairs), fast, ours_q, base_q, retrieval, db, misses)
    print(
        f"\nDemand over {crowds['supports']:,} supports (1 000 topics): {crowds['ours_s']:.2f} s, "
        f"{crowds['ours_s_per_topic'] * 1000:.2f} ms a topic; every pair compared: "
        f"{crowds['baseline_s_per_topic'] * 1000:.1f} ms a topic; the same answer on "
        f"{crowds['agree']} topics; {crowds['with_demand']} topics with a group."
    )
    print(
        f"Group of 5 from {groups['supporters']} supporters: {groups['median_ms']:.2f} ms; "
        f"fields {groups['fields']:.2f} of 3, longest trip {groups['longest_km']:.1f} km; "
        f"random groups: fields {groups['random_fields']:.2f}, "
        f"longest trip {groups['random_longest_km']:.1f} km."
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    figures = {"speed": fast, "service": db, "ours": ours_q, "baseline": base_q}
    figures |= {"retrieval": retrieval, "misses": misses, "demand": crowds, "grouping": groups}
    (out / "topics.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


def report(
    args: argparse.Namespace,
    pairs: int,
    fast: dict[str, Any],
    ours: dict[str, float],
    base: dict[str, float],
    retrieval: dict[str, float],
    db: dict[str, Any],
    misses: list[tuple[str, str, str]],
) -> None:
    ratio = fast["baseline_median_ms"] / fast["ours_median_ms"]
    compared = f"{ratio:.1f}× faster" if ratio >= 1 else f"{1 / ratio:.1f}× slower"
    n = f"{args.topics:,}"
    rows = [
        (
            f"Similar titles among {n}",
            f"{fast['ours_median_ms']:.2f} ms (p95 {fast['ours_p95_ms']:.2f})",
            f"process.extract(WRatio) {fast['baseline_median_ms']:.2f} ms "
            f"(p95 {fast['baseline_p95_ms']:.2f})",
            compared,
        ),
        (
            "Precision / recall",
            f"{ours['precision']:.2f} / {ours['recall']:.2f}",
            f"WRatio ≥ {BASELINE_CUTOFF}: {base['precision']:.2f} / {base['recall']:.2f}",
            "–",
        ),
        (
            f"The same topic found among {n} (top 3)",
            f"{retrieval['ours']:.2f}",
            f"process.extract: {retrieval['baseline']:.2f}",
            "–",
        ),
        (
            "Topics.similar, SQLite, 25 km",
            f"{db['median_ms']:.2f} ms (p95 {db['p95_ms']:.2f})",
            "–",
            "–",
        ),
    ]
    print(f"{n} topics, {fast['queries']} queries, {pairs} labelled pairs\n")
    print("| Figure | Measured | Baseline (same run) | Ratio |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nKeys of {n} titles made in {fast['keys_made_ms']:.0f} ms (once; cached).")
    if misses:
        shown = "; ".join(f"{a!r} ~ {b!r} ({k})" for a, b, k in misses[:5])
        print(f"Wrong on {len(misses)} pairs, e.g.: {shown}")


if __name__ == "__main__":
    raise SystemExit(main())
