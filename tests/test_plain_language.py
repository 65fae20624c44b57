"""German in plain words (Einfache Sprache), as "du" and as "Sie".

Every German text of the catalogue (the "du" form and the "Sie" form, every plural
form) is checked:

- Readability: a text of three sentences or more scores at most 7 on the Wiener
  Sachtextformel, variant 1 (textstat, language "de"). A chat message uses line
  breaks as sentence ends, so before scoring and counting, every line that does
  not end with . ! ? or : (closing quotes and brackets aside) gets a full stop,
  and every {placeholder} becomes a short word ("Wort"). The sentence count is
  textstat's `sentence_count` of that text.
- No English jargon where a German word exists (DENIED, at word boundaries;
  "Workshop" is the domain's own word and allowed).
- Imperatives in one form: the full written one ("Schreibe", "Tippe"), never the
  short one ("Schreib", "tipp", "Prüf bitte"); irregular verbs keep theirs ("Gib").
- Every message has its "Sie" form; no "Sie" form says du, dich, dir, dein…,
  euch or uses a "du" imperative; and a "du" form that addresses the reader has
  a "Sie" form that differs from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import pytest
import textstat
from babel.messages.pofile import read_po

from bot.i18n import FORMAL_CONTEXT, LOCALES_DIR

MAX_WSTF = 7.0
MIN_SENTENCES = 3
PLACEHOLDER = re.compile(r"\{\w+\}")
SENTENCE_END = ".!?:"
CLOSERS = "“”\"'’)»«"

# English words with a plain German one (case-sensitive, whole words; plurals and
# compounds with a hyphen count, "Werkbank-Team" too).
DENIED = (
    r"Filter\w*",
    r"filter\w*",
    r"Links?",
    r"Flyern?",
    r"CSV",
    r"Standard\w*",
    r"Minimum",
    r"Feedbacks?",
    r"Updates?",
    r"Downloads?",
    r"Uploads?",
    r"Buttons?",
    r"Events?",
    r"Tools?",
    r"Accounts?",
    r"Log-?ins?",
    r"Status",
    r"Teams?",
    r"Check-?ins?",
    r"Newsletter",
    r"Community",
    r"Features?",
    r"Tickets?",
    r"Location",
    r"Support",
    r"Admins?",
    r"Settings",
    r"Meetings?",
    r"Networking",
    r"Pro2Pro-Fortbildung",
)
DENIED_WORDS = re.compile(r"(?<!\w)(?:" + "|".join(DENIED) + r")(?![\w])")

# Short "du" imperatives; the written form has an -e ("Schreibe", "Tippe", "Prüfe").
SHORT_IMPERATIVES = (
    "schreib",
    "tipp",
    "prüf",
    "wähl",
    "teil",
    "sag",
    "schick",
    "drück",
    "such",
    "schau",
    "frag",
    "meld",
    "versuch",
    "überspring",
    "schlag",
    "ergänz",
    "kürz",
    "lad",
    "beschreib",
    "mach",
    "hol",
    "zeig",
    "leg",
    "bleib",
    "stell",
    "wart",
)
# The full "du" imperatives the catalogue uses (a "Sie" form has "Schreiben Sie").
DU_IMPERATIVES = (
    "schreibe",
    "tippe",
    "prüfe",
    "wähle",
    "teile",
    "sage",
    "schicke",
    "drücke",
    "suche",
    "schaue",
    "frage",
    "melde",
    "versuche",
    "überspringe",
    "schlage",
    "ergänze",
    "kürze",
    "lade",
    "beschreibe",
    "entschuldige",
    "gib",
    "nimm",
    "sieh",
    "lies",
    "hilf",
)
# After one of these a word is a noun ("ein Teil davon", "eine Frage") or a verb of
# the first person ("ich frage", "ich sage"), not an imperative.
NOT_BEFORE_AN_IMPERATIVE = frozenset(
    (
        *("der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer"),
        *("eines", "kein", "keine", "keinen", "zum", "zur", "vom", "im", "am", "ins"),
        *("diese", "dieser", "diesen", "jede", "jeder", "ich"),
    )
)
# A word of the "du" address, unless quoted as a word ("Sollen wir „du“ oder „Sie“ sagen?").
DU_WORDS = re.compile(r"(?<!„)\b(?:du|dich|dir|dein\w*|euch|euer|eure\w*)\b(?!“)", re.IGNORECASE)


@dataclass(frozen=True)
class Text:
    msgid: str
    formal: bool
    text: str

    def __str__(self) -> str:
        return f"{'Sie' if self.formal else 'du'} {self.msgid!r}: {self.text!r}"


@cache
def catalogue() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The German catalogue as ("du" texts, "Sie" texts), each msgid -> its plural forms."""
    with (LOCALES_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        po = read_po(handle, locale="de")
    du: dict[str, tuple[str, ...]] = {}
    sie: dict[str, tuple[str, ...]] = {}
    for message in po:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        (sie if message.context == FORMAL_CONTEXT else du)[msgid] = tuple(forms)
    return du, sie


def german_texts() -> Iterator[Text]:
    """Every German text: both forms of every message, every plural form, none empty."""
    du, sie = catalogue()
    for formal, table in ((False, du), (True, sie)):
        for msgid, forms in table.items():
            for form in forms:
                if form:
                    yield Text(msgid, formal, form)


def prepared(text: str) -> str:
    """The text as the formula reads it: placeholders as a word, each line a sentence."""
    lines = []
    for line in PLACEHOLDER.sub("Wort", text).splitlines():
        line = line.strip()
        if not line:
            continue
        if line.rstrip(CLOSERS)[-1:] not in SENTENCE_END:
            line += "."
        lines.append(line)
    return "\n".join(lines)


def sentences(text: str) -> int:
    textstat.set_lang("de")
    return textstat.sentence_count(prepared(text))


def wstf(text: str) -> float:
    """Wiener Sachtextformel (variant 1) of the prepared text."""
    textstat.set_lang("de")
    return textstat.wiener_sachtextformel(prepared(text), 1)


def scored() -> list[tuple[float, Text]]:
    """(score, text) of every German text of three sentences or more."""
    return [(wstf(t.text), t) for t in german_texts() if sentences(t.text) >= MIN_SENTENCES]


def imperatives(text: str, words: tuple[str, ...]) -> list[str]:
    """The words of `words` used as an imperative: not after an article ("ein Teil"),
    not beside "ich" ("ich frage", "frage ich"), not a label of one word ("Frage")."""
    if text.strip().lower() in words:
        return []
    pattern = re.compile(
        r"(?<![\w-])(" + "|".join(words) + r")(?=[\s,.!;:?“”\"')]|$)", re.IGNORECASE
    )
    found = []
    for match in pattern.finditer(text):
        before = re.findall(r"[\w-]+", text[: match.start()])
        if before and before[-1].lower() in NOT_BEFORE_AN_IMPERATIVE:
            continue
        if re.match(r"\s+ich\b", text[match.end() :], re.IGNORECASE):  # "frage ich"
            continue
        found.append(match.group(1))
    return found


def test_the_catalogue_is_read() -> None:
    du, sie = catalogue()
    assert len(du) > 100
    assert set(du) == set(sie)


def test_long_texts_are_easy_to_read() -> None:
    hard = [f"{score:.1f} {t}" for score, t in scored() if score > MAX_WSTF]
    assert not hard, "\n".join(hard)
    assert scored(), "no German text of three sentences or more: the rule checks nothing"


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Hallo, schön von dir zu hören\nWähle unten einen Ort aus\nDann geht es weiter", 3),
        ("Gestern war „{title}“. Wie war es? Schreibe es mir.", 3),
        ("Orte im Umkreis von {radius}:", 1),
    ],
)
def test_lines_count_as_sentences(text: str, count: int) -> None:
    assert sentences(text) == count


def test_no_english_jargon() -> None:
    found = [f"{m.group(0)} in {t}" for t in german_texts() for m in DENIED_WORDS.finditer(t.text)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("text", "denied"),
    [
        ("Filter zurücksetzen", True),
        ("Frag das Werkbank-Team", True),
        ("Für Plakate und Flyer", True),
        ("Der Status", True),
        ("Ein Workshop in kleiner Runde", False),
        ("Bitte prüfe die Schreibweise.", False),
    ],
)
def test_the_jargon_check_finds_jargon(text: str, denied: bool) -> None:
    assert bool(DENIED_WORDS.search(text)) is denied


def test_imperatives_have_one_form() -> None:
    found = [
        f"{word!r} in {t}"
        for t in german_texts()
        for word in imperatives(t.text, SHORT_IMPERATIVES)
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ("Schreib deine Postleitzahl.", ["Schreib"]),
        ("Bitte tipp auf einen Knopf.", ["tipp"]),
        ("Prüf bitte die Schreibweise.", ["Prüf"]),
        ("Schreibe deine Postleitzahl.", []),
        ("Bitte prüfe die Schreibweise.", []),
        ("Schreiben Sie den Namen des Ortes. Ein Teil davon reicht.", []),
        ("Ein Tipp: frag, sag es, teil es.", ["frag", "sag", "teil"]),
        ("Ich frage alle. Dann sage ich dir Bescheid.", []),
    ],
)
def test_the_imperative_check_finds_short_ones(text: str, short: list[str]) -> None:
    assert imperatives(text, SHORT_IMPERATIVES) == short


def test_every_message_has_its_sie_form() -> None:
    _, sie = catalogue()
    missing = [msgid for msgid, forms in sie.items() if not all(forms)]
    assert not missing, f"{len(missing)} without a 'Sie' form, e.g. {missing[:5]}"


def test_sie_forms_do_not_say_du() -> None:
    found = [
        str(t)
        for t in german_texts()
        if t.formal and (DU_WORDS.search(t.text) or imperatives(t.text, DU_IMPERATIVES))
    ]
    assert not found, "\n".join(found)


def test_texts_that_say_du_have_their_own_sie_form() -> None:
    du, sie = catalogue()
    same = [
        msgid
        for msgid, forms in du.items()
        if any(DU_WORDS.search(f) or imperatives(f, DU_IMPERATIVES) for f in forms)
        and sie.get(msgid) == forms
    ]
    assert not same, same
