"""Topic titles that mean the same thing find each other, however people write German."""

from __future__ import annotations

import pytest

from bot.matching import SIMILAR, most_similar, score, title_key

SAME = [
    ("Lasercutter für Holz", "Laser-Cutter für Holz"),  # hyphen in a compound
    ("Laser Cutter Holz", "Holz lasern mit dem Lasercutter"),  # space in a compound, order
    ("Nähmaschinen reparieren", "Naehmaschine reparieren"),  # "ae" for "ä", plural
    ("Lasercutter für Hölzer", "lasercutter fuer holz"),  # case, umlaut plural
    ("3D-Druck für Tischler", "Tischler und 3D Druck"),  # word order, small words
    ("Keramik glasieren", "Kermaik glasiren"),  # small typos
    ("Holzverbindungen fräsen", "CNC fräsen Holzverbindung"),  # one word more
    ("Fahrrad reparieren", "Fahrräder reparieren"),
    ("Drechseln", "Drechseln für Anfänger"),
]
DIFFERENT = [
    ("Nähen mit Leder", "Löten für Anfänger"),
    ("Schweißen lernen", "Löten lernen"),
    ("Möbel restaurieren", "Möbel bauen"),
    ("Holz", "Hols"),  # short words must be spelled the same
    ("Siebdruck auf Stoff", "3D-Druck für Tischler"),
]


@pytest.mark.parametrize(("one", "other"), SAME)
def test_the_same_topic_written_differently_is_similar(one: str, other: str) -> None:
    assert score(title_key(one), title_key(other)) >= SIMILAR
    assert score(title_key(other), title_key(one)) >= SIMILAR


@pytest.mark.parametrize(("one", "other"), DIFFERENT)
def test_different_topics_are_not(one: str, other: str) -> None:
    assert score(title_key(one), title_key(other)) < SIMILAR


def test_the_closest_titles_come_first_and_unrelated_ones_not_at_all() -> None:
    titles = ["Löten für Anfänger", "Laser-Cutter für Holz", "Holz lasern", "Nähen mit Leder"]
    keys = [title_key(t) for t in titles]
    found = most_similar("Lasercutter Holz", keys)
    assert titles[found[0][0]] == "Laser-Cutter für Holz"
    assert all(titles[i] not in ("Löten für Anfänger", "Nähen mit Leder") for i, _ in found)


def test_titles_of_small_words_or_emoji_only_match_nothing() -> None:
    keys = [title_key("Holz lasern")]
    assert most_similar("für die und", keys) == []
    assert most_similar("🔥🔥", keys) == []
    assert most_similar("Holz", []) == []
