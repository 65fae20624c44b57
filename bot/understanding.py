"""What a member meant by a typed message, where no button and no answer fits.

"was gibt es in der nähe", "termine morgen", "ich will mich anmelden", "Moin": a
small lexicon per language (`locales/<lang>/lexicon.toml`, data, not code) lists the
words and short phrases of each action. A message is lowercased, its umlauts folded
("ä" → "ae") and its filler words dropped; then every phrase is compared with every
run of as many words in it, with rapidfuzz's optimal-string-alignment distance: exact,
or one typo from five letters on, two from eight ("verantstaltungen", "anmelde").
Longer and exact matches win, and the words they cover are not matched again ("guten
morgen" is a greeting, not tomorrow).

The answer is a ranked tuple of actions: one when it is clear, two or three when the
message fits those about equally well (the bot then asks with buttons), none when
nothing fits. Pure and fast: no I/O after the lexicon's first load, no model.
"""

from __future__ import annotations

import enum
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.i18n import DEFAULT_LOCALE, LOCALES_DIR, normalise_locale


class Action(enum.StrEnum):
    """What a typed message can lead to (each names a section of the lexicon)."""

    PLACES = "places"
    EVENTS = "events"
    EVENTS_TODAY = "events_today"
    EVENTS_TOMORROW = "events_tomorrow"
    EVENTS_WEEKEND = "events_weekend"
    EVENTS_NEXT_WEEK = "events_next_week"
    SIGN_UP = "sign_up"
    MY_SIGNUPS = "my_signups"
    TOPICS = "topics"
    PROPOSE = "propose"
    SETTINGS = "settings"
    CHANGE_PLACE = "change_place"
    CHANGE_RADIUS = "change_radius"
    CHANGE_LANGUAGE = "change_language"
    MY_DATA = "my_data"
    ERASE = "erase"
    HELP = "help"
    MENU = "menu"
    GREETING = "greeting"
    THANKS = "thanks"
    BYE = "bye"

    @property
    def is_social(self) -> bool:
        """A greeting, thanks or goodbye: said beside a request, the request counts."""
        return self in _SOCIAL


_SOCIAL = (Action.BYE, Action.THANKS, Action.GREETING)  # the first found wins
# A time said with no other request, or with a general one, shows that time's events.
_WHEN = {
    "today": Action.EVENTS_TODAY,
    "tomorrow": Action.EVENTS_TOMORROW,
    "weekend": Action.EVENTS_WEEKEND,
    "next_week": Action.EVENTS_NEXT_WEEK,
}
_TIMED = (Action.EVENTS, Action.SIGN_UP)

# How far apart two actions' scores may be for the bot to ask rather than pick one.
TIE = 5
# An exact match scores 100, each typo 15 less; each word of a phrase beyond the first
# adds 10, so "meine anmeldungen" beats "anmeldung" within it.
_TYPO, _WORD = 15, 10
MOST_WORDS = 40  # of a long message, the first words are read (time stays bounded)
MAX_CHOICES = 3


@dataclass(frozen=True)
class Understood:
    """The likely actions, best first: one is clear, several are a question, none is
    not understood."""

    actions: tuple[Action, ...]
    unmatched: int = 0  # words neither matched nor ignored ("Hallo Welt": one)

    @property
    def clear(self) -> Action | None:
        return self.actions[0] if len(self.actions) == 1 else None


_APOSTROPHES = re.compile(r"['’`´]")
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)
_REPEATS = re.compile(r"(\w)\1{2,}", re.UNICODE)  # "hallooo", "!!!" is gone already
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def words(text: str) -> list[str]:
    """Lowercase words, umlauts folded, punctuation and emoji gone, "ooo" → "o"."""
    text = unicodedata.normalize("NFC", text.lower()).translate(_FOLD)
    text = _REPEATS.sub(r"\1", _APOSTROPHES.sub("", text))
    return [w for w in _NOT_WORD.sub(" ", text).replace("_", " ").split() if w]


def _typos_allowed(word_run: str) -> int:
    letters = len(word_run.replace(" ", ""))
    return 0 if letters <= 4 else 1 if letters < 8 else 2


@dataclass(frozen=True)
class Lexicon:
    """One language's phrases, prepared for matching."""

    ignore: frozenset[str]
    # Per phrase length in words: the phrases, and for each the keys it stands for.
    phrases: Mapping[int, tuple[str, ...]]
    keys: Mapping[str, tuple[str, ...]]  # phrase → actions' and `when:` keys

    @classmethod
    def parse(cls, data: Mapping[str, object]) -> Lexicon:
        ignore = frozenset(w for raw in _strings(data.get("ignore", ())) for w in words(raw))
        keys: dict[str, list[str]] = {}
        sections = {
            **{name: _strings(p) for name, p in _table(data.get("actions")).items()},
            **{f"when:{name}": _strings(p) for name, p in _table(data.get("when")).items()},
        }
        for key, raw_phrases in sections.items():
            if not key.startswith("when:"):
                Action(key)  # an unknown action name is a mistake in the file
            elif key[5:] not in _WHEN:
                raise ValueError(f"unknown time in the lexicon: {key[5:]}")
            for raw in raw_phrases:
                phrase = " ".join(w for w in words(raw) if w not in ignore)
                if phrase and key not in keys.setdefault(phrase, []):
                    keys[phrase].append(key)
        by_length: dict[int, list[str]] = {}
        for phrase in keys:
            by_length.setdefault(phrase.count(" ") + 1, []).append(phrase)
        return cls(
            ignore,
            {n: tuple(p) for n, p in sorted(by_length.items(), reverse=True)},
            {p: tuple(k) for p, k in keys.items()},
        )

    def understand(self, text: str) -> Understood:
        content = [w for w in words(text)[:MOST_WORDS] if w not in self.ignore]
        used = [False] * len(content)
        scores: dict[str, int] = {}
        for n, phrases in self.phrases.items():  # longest phrases first
            for start in range(len(content) - n + 1):
                if any(used[start : start + n]):
                    continue
                run = " ".join(content[start : start + n])
                found = self._match(run, phrases)
                if found is None and n == 1:
                    found = self._compound(run)
                if found is None:
                    continue
                phrase, typos = found
                score = 100 - _TYPO * typos + _WORD * (n - 1)
                for key in self.keys[phrase]:
                    scores[key] = max(scores.get(key, 0), score)
                used[start : start + n] = [True] * n
        unmatched = used.count(False)
        return Understood(_rank(scores, unmatched), unmatched)

    def _match(self, run: str, phrases: Sequence[str]) -> tuple[str, int] | None:
        if run in self.keys:
            return run, 0
        allowed = _typos_allowed(run)
        if not allowed:
            # Four letters: only two swapped ("hepl"), which changes no letter.
            if len(run) == 4 and run.isalpha():
                swapped = process.extractOne(run, phrases, scorer=OSA.distance, score_cutoff=1)
                if swapped is not None and sorted(swapped[0]) == sorted(run):
                    return swapped[0], 1
            return None
        best = process.extractOne(run, phrases, scorer=OSA.distance, score_cutoff=allowed)
        if best is None:
            return None
        phrase, typos, _ = best
        # A typo must not turn one short word into another ("halle", "bello" are not
        # "hallo", "hello"): the shorter side keeps at least five letters; below eight
        # the typo keeps the first letter, or only swaps two ("dnake") ...
        if typos and min(len(run), len(phrase)) < 5:
            return None
        if len(run) < 8 and run[0] != phrase[0] and sorted(run) != sorted(phrase):
            return None
        # ... and, below seven, adds, drops or swaps a letter but changes none ("halle").
        if len(run) < 7 and len(run) == len(phrase) and sorted(run) != sorted(phrase):
            return None
        return phrase, int(typos)

    def _compound(self, word: str) -> tuple[str, int] | None:
        """A German compound ending in a phrase's word ("holzwerkstatt",
        "drechselkurs"): that phrase, counted as one typo."""
        for cut in range(3, len(word) - 3):
            tail = word[cut:]
            if tail in self.keys and " " not in tail:
                return tail, 1
        return None


def _rank(scores: Mapping[str, int], unmatched: int) -> tuple[Action, ...]:
    when = max(((s, k) for k, s in scores.items() if k.startswith("when:")), default=None)
    actions = {Action(k): s for k, s in scores.items() if not k.startswith("when:")}
    requests = {a: s for a, s in actions.items() if not a.is_social}
    if when is not None and all(a in _TIMED for a in requests) and (requests or not unmatched):
        # "heute", "termine morgen", "anmelden am wochenende": that time's events; but
        # a time among other words ("schönes wetter heute") is no request.
        return (_WHEN[when[1][5:]],)
    if not requests:
        return next(((a,) for a in _SOCIAL if a in actions), ())
    best = max(requests.values())
    close = sorted((a for a, s in requests.items() if s >= best - TIE), key=lambda a: -requests[a])
    return tuple(close[:MAX_CHOICES])


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"the lexicon expects a list of strings, not {value!r}")
    return value


def _table(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ValueError(f"the lexicon expects a table, not {value!r}")
    return value


@cache
def lexicon(locale: str) -> Lexicon:
    """The lexicon of `locale` (the default language's where it has none)."""
    path = LOCALES_DIR / locale / "lexicon.toml"
    if not path.exists():
        path = LOCALES_DIR / DEFAULT_LOCALE / "lexicon.toml"
    return load(path)


def load(path: Path) -> Lexicon:
    with path.open("rb") as file:
        return Lexicon.parse(tomllib.load(file))


def understand(text: str, locale: str = DEFAULT_LOCALE) -> Understood:
    """What `text` asks for, in the member's language; people mix languages, so a
    message that means nothing in theirs is read in the other one too."""
    locale = normalise_locale(locale)  # "de@sie" reads German as "de" does
    first = lexicon(locale).understand(text)
    if first.actions:
        return first
    other = "en" if locale == DEFAULT_LOCALE else DEFAULT_LOCALE
    return lexicon(other).understand(text)
