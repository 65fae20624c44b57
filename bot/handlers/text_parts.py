"""Texts longer than a channel takes in one message, split into parts that each fit.

A channel measures in its own unit: Telegram counts UTF-16 code units, Matrix the bytes
of the whole event. The split prefers a paragraph break, then a line break, then a
space, in the second half of what fits; only a text without any of them is cut
between two characters (never inside one: a part is a slice of a Python string, so a
surrogate pair or a UTF-8 sequence stays whole, and a channel escapes each part itself,
so no HTML entity or tag is cut either).
"""

from __future__ import annotations

from collections.abc import Callable

# Where a part may end, best first.
_BREAKS = ("\n\n", "\n", " ")


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: characters outside the BMP (most emoji) count two."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int, size: Callable[[str], int]) -> list[str]:
    """`text` in parts whose `size` is at most `limit`; one part if it fits.

    `size` must grow with the text and count every character at least one, so that
    no part needs more characters than `limit`."""
    parts: list[str] = []
    rest = text
    # More characters than `limit` never fit: no need to measure a long rest whole.
    while len(rest) > limit or size(rest) > limit:
        fits = _longest_fit(rest, limit, size)
        cut = _break(rest, fits)
        part = rest[:cut].rstrip()
        if part:
            parts.append(part)
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


def _longest_fit(text: str, limit: int, size: Callable[[str], int]) -> int:
    """The most characters from the start of `text` whose size is within `limit` (≥ 1)."""
    low, high = 1, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if size(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _break(text: str, fits: int) -> int:
    """Where to end a part of at most `fits` characters: after the best break in its
    second half (so no part is needlessly short), else right at `fits`."""
    for mark in _BREAKS:
        at = text.rfind(mark, fits // 2, fits)
        if at > 0:
            return at + len(mark)
    return fits
