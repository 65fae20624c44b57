"""Plain German: how easy the bot's longer German texts are to read.

    python bench/plain_language.py

The set and the rule are those of tests/test_plain_language.py: every German text
of the catalogue ("du" and "Sie" form, every plural form) of three sentences or
more, each line read as a sentence and each {placeholder} as a short word, scored
with the Wiener Sachtextformel, variant 1 (textstat; about the school year a reader
needs, 4 is very easy, 15 very hard). Prints the count, the median and the five
hardest texts (seconds).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_plain_language import MAX_WSTF, MIN_SENTENCES, german_texts, scored  # noqa: E402


def main() -> int:
    rows = sorted(scored(), key=lambda row: row[0], reverse=True)
    total = sum(1 for _ in german_texts())
    scores = [score for score, _ in rows]
    print(f"German texts: {total}; of {MIN_SENTENCES} sentences or more: {len(rows)}")
    if not rows:
        return 0
    print(f"Wiener Sachtextformel (variant 1): median {statistics.median(scores):.1f}, ", end="")
    print(f"highest {scores[0]:.1f} (limit {MAX_WSTF:.0f}); above the limit: ", end="")
    print(sum(1 for s in scores if s > MAX_WSTF))
    print("The five hardest:")
    for score, text in rows[:5]:
        form = "Sie" if text.formal else "du"
        print(f"  {score:4.1f}  [{form}] {text.text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
