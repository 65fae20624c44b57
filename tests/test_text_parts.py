"""Splitting a long text to a channel's limit: at paragraphs, lines, spaces, else anywhere
between two characters; nothing lost, no part over the limit."""

from __future__ import annotations

import re

from bot.handlers.text_parts import split_text, utf16_length
from bot.messages import clean_text


def test_a_text_that_fits_stays_one_part() -> None:
    assert split_text("Hallo 🪚", 10, utf16_length) == ["Hallo 🪚"]


def test_parts_end_at_a_paragraph_before_a_line_before_a_space() -> None:
    text = "eins zwei\ndrei\n\nvier fünf sechs"
    assert split_text(text, 16, len) == ["eins zwei\ndrei", "vier fünf sechs"]
    assert split_text("eins zwei\ndrei vier", 16, len) == ["eins zwei", "drei vier"]
    assert split_text("eins zwei drei vier", 16, len) == ["eins zwei drei", "vier"]


def test_emoji_count_two_and_are_never_cut_in_half() -> None:
    parts = split_text("🪚" * 5000, 4096, utf16_length)
    assert [utf16_length(part) for part in parts] == [4096, 4096, 1808]
    assert "".join(parts) == "🪚" * 5000


def test_nothing_is_lost_but_the_white_space_at_the_cuts() -> None:
    text = ("Späne 🪵 fliegen & <Öl>\n" * 500 + "\n") * 20 + "Ü🪚" * 3000
    parts = split_text(text, 1000, utf16_length)
    assert all(utf16_length(part) <= 1000 for part in parts)
    assert re.sub(r"\s", "", "".join(parts)) == re.sub(r"\s", "", text)


def test_control_characters_go_and_line_breaks_and_tabs_stay() -> None:
    assert clean_text("Ti\x00tel\x1b[1m\x7f\x85\r\nzwei\rdrei\tvier\ud800") == (
        "Titel[1m\nzwei\ndrei\tvier"
    )
