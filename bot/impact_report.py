""" "Wirkung" in figures: the rows behind the text, the CSV file and the chart.

One `Impact` (from `bot.services.checkins`) becomes rows of translated words and
counts; the organiser's screen, the CSV file, the chart and `werkbank report impact`
all read the same rows, so they never disagree. Shares are given only from
`SMALL_GROUP` answers on: a share of three people says little and points at persons.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.charts import Bar, Chart, Group
from bot.codes import Answer, Checkin, Question
from bot.i18n import N_
from bot.services.contracts import CheckinFigures, Impact

SMALL_GROUP = 5

Gettext = Callable[[str], str]

CHECKIN_WORDS = {
    Checkin.NEXT_DAY: N_("The day after"),
    Checkin.WEEKS: N_("After some weeks"),
    Checkin.MONTHS: N_("After three months"),
}
QUESTION_WORDS = {
    Question.MET: N_("Expectation met"),
    Question.RATING: N_("Rating (1–5)"),
    Question.CONTACT: N_("Want to stay in touch"),
    Question.TRIED: N_("Tried since"),
    Question.OUTCOME: N_("What came of it"),
}
ANSWER_WORDS = {
    Answer.YES: N_("yes"),
    Answer.PARTLY: N_("partly"),
    Answer.NO: N_("no"),
    Answer.DONE: N_("already done"),
    Answer.STARTED: N_("started"),
    Answer.NO_TIME: N_("not yet, no time"),
    Answer.NEEDS_HELP: N_("needs help"),
    Answer.ORDER: N_("an order or a product"),
    Answer.COOPERATION: N_("a cooperation"),
    Answer.PROJECT: N_("a new project"),
    Answer.TOPIC: N_("a topic for a workshop"),
    Answer.NOTHING: N_("nothing"),
}


@dataclass(frozen=True)
class Row:
    """One figure: how many gave `answer` to `question` in the check-in `checkin`."""

    checkin: str
    question: str
    answer: str
    count: int
    share: int | None  # percent of those who answered; None in a small group


@dataclass(frozen=True)
class Figures:
    """One check-in in words: how many were asked and answered, and the answers."""

    checkin: str
    invited: int
    answered: int
    rate: int | None  # percent who answered; None in a small group
    answers: dict[str, list[Row]]  # question -> its rows, in the answers' order


def figures(impact: Impact, _: Gettext) -> list[Figures]:
    """The check-ins that were asked at all, in words."""
    return [_in_words(f, _) for f in impact.checkins if f.invited or f.answered]


def _in_words(f: CheckinFigures, _: Gettext) -> Figures:
    checkin = known_words(CHECKIN_WORDS, f.kind, _)
    small = f.answered < SMALL_GROUP
    answers: dict[str, list[Row]] = {}
    for question in Question:
        counts = f.counts.get(question)
        if not counts or question.answers is None:
            continue
        name = known_words(QUESTION_WORDS, question, _)
        answers[name] = [
            Row(
                checkin,
                name,
                known_words(ANSWER_WORDS, answer, _),
                counts[answer],
                None if small else round(100 * counts[answer] / f.answered),
            )
            for answer in question.answers
            if counts.get(answer)
        ]
    rate = None if small or not f.invited else round(100 * f.answered / f.invited)
    return Figures(checkin, f.invited, f.answered, rate, answers)


def known_words(words: Mapping[Any, str], code: str, _: Gettext) -> str:
    """The word for a code; a rating ("4") or a code from a later version as it is."""
    word = words.get(code)
    return _(word) if word else code


def rows(impact: Impact, _: Gettext) -> list[Row]:
    """Every figure as a row: asked and answered per check-in, then each answer."""
    out: list[Row] = []
    for f in figures(impact, _):
        out.append(Row(f.checkin, _("Asked"), "", f.invited, None))
        out.append(Row(f.checkin, _("Answered"), "", f.answered, f.rate))
        for answer_rows in f.answers.values():
            out.extend(answer_rows)
    return out


def csv_file(impact: Impact, _: Gettext) -> bytes:
    """The figures as a CSV file that LibreOffice and a German Excel open as is:
    UTF-8 with a byte order mark, ';' between cells, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow((_("Check-in"), _("Question"), _("Answer"), _("Number"), _("Share in %")))
    for row in rows(impact, _):
        share = "" if row.share is None else str(row.share)
        writer.writerow((row.checkin, row.question, row.answer, row.count, share))
    return out.getvalue().encode("utf-8-sig")


def chart(impact: Impact, title: str, _: Gettext) -> Chart | None:
    """The figures as bars: asked and answered per check-in, then the answers to each
    question; None when nobody answered (a chart of zeros tells nothing)."""
    if not impact.answered:
        return None
    groups: list[Group] = []
    for f in figures(impact, _):
        asked = (Bar(_("asked"), f.invited, 0), Bar(_("answered"), f.answered, 1))
        groups.append(Group(f.checkin, asked))
        for question, answer_rows in f.answers.items():
            bars = tuple(Bar(row.answer, row.count, 2) for row in answer_rows)
            groups.append(Group(f"{f.checkin}: {question}", bars))
    return Chart(title, tuple(groups), _("Number of people"))
