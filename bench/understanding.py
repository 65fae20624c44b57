"""Typed requests: how often and how fast a typed message leads where it was meant.

    python bench/understanding.py [--rounds 20]

On both corpora of tests/data (the one the lexicon was tuned on, and the held-out one
written apart from it), `bot.understanding.understand` against the baseline of
before: the text equal to a menu button's label or a navigation word, or a word of
four letters or more that is part of exactly one label (what `classify` did at the
menu). Accuracy as tests/test_understanding.py counts it; the time per message is
the median over all messages of the best of `--rounds` runs each (the lexicon loaded
before), in the same process, for both.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.dialogs.menu import LABELS  # noqa: E402
from bot.handlers.intents import NAV_WORDS, Nav, plain  # noqa: E402
from bot.i18n import translator  # noqa: E402
from bot.understanding import lexicon, understand  # noqa: E402
from tests.test_understanding import corpus  # noqa: E402

# The menu's buttons and the words every screen knew, as actions of the corpus.
MENU = {
    "places": "places",
    "events": "events",
    "registrations": "my_signups",
    "topics": "topics",
    "propose": "propose",
    "settings": "settings",
    "help": "help",
}
NAV = {Nav.MENU: "menu", Nav.HELP: "help", Nav.LEAVE: "bye"}


def baseline(locale: str) -> Callable[[str], tuple[str, ...]]:
    t = translator(locale)
    labels = {plain(t._(LABELS[name])): action for name, action in MENU.items()}

    def match(text: str) -> tuple[str, ...]:
        typed = plain(text)
        if typed in labels:
            return (labels[typed],)
        for nav, action in NAV.items():
            if typed in NAV_WORDS[nav]:
                return (action,)
        partly = [
            a for label, a in labels.items() if len(typed) >= 4 and f" {typed} " in f" {label} "
        ]
        return (partly[0],) if len(partly) == 1 else ()

    return match


def werkbank(locale: str) -> Callable[[str], tuple[str, ...]]:
    return lambda text: tuple(a.value for a in understand(text, locale).actions)


def measure(name: str, rounds: int) -> dict[str, dict[str, float]]:
    rows = corpus(name)
    out: dict[str, dict[str, float]] = {}
    for label, make in (("Werkbank", werkbank), ("baseline", baseline)):
        readers = {locale: make(locale) for locale in ("de", "en")}
        right, times = 0, []
        for locale, expected, text in rows:
            read = readers[locale]
            best = float("inf")
            for _ in range(rounds):
                began = time.perf_counter()
                actions = read(text)
                best = min(best, time.perf_counter() - began)
            times.append(best)
            right += (not actions) if expected == "none" else expected in actions
        out[label] = {
            "messages": len(rows),
            "accuracy": right / len(rows),
            "median_us": statistics.median(times) * 1e6,
            "p95_us": sorted(times)[int(0.95 * (len(times) - 1))] * 1e6,
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    for locale in ("de", "en"):
        lexicon(locale)  # loaded once, as in a running bot
    print(
        "| corpus | messages | Werkbank: accuracy | median / p95 per message | "
        "baseline (exact labels): accuracy | median / p95 | target |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in ("understanding_corpus.tsv", "understanding_heldout.tsv"):
        r = measure(name, args.rounds)
        w, b = r["Werkbank"], r["baseline"]
        print(
            f"| {name} | {w['messages']:.0f} | {w['accuracy']:.1%} | "
            f"{w['median_us']:.0f} / {w['p95_us']:.0f} µs | {b['accuracy']:.1%} | "
            f"{b['median_us']:.1f} / {b['p95_us']:.1f} µs | ≥ 90 %, ≤ 1 ms median |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
