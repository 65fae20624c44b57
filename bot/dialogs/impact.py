""" "Wirkung": what came of an event's workshop, from its check-ins, in plain words.

Counts only while fewer than five answered (a share of three people says little and
points at persons); free text without names.
"""

from __future__ import annotations

from bot.dialogs.base import Context
from bot.i18n import N_
from bot.services.contracts import CheckinFigures, Impact

SMALL_GROUP = 5
KIND_WORDS = {
    "next_day": N_("The day after"),
    "weeks": N_("After four weeks"),
    "months": N_("After three months"),
}
QUESTION_WORDS = {
    "met": N_("Expectation met"),
    "rating": N_("Rating (1–5)"),
    "contact": N_("Want to stay in touch"),
    "tried": N_("Tried since"),
    "outcome": N_("What came of it"),
}
ANSWER_WORDS = {
    "yes": N_("yes"),
    "partly": N_("partly"),
    "no": N_("no"),
    "done": N_("already done"),
    "started": N_("started"),
    "no_time": N_("not yet, no time"),
    "help": N_("needs help"),
    "order": N_("an order or a product"),
    "cooperation": N_("a cooperation"),
    "project": N_("a new project"),
    "topic": N_("a topic for a workshop"),
    "nothing": N_("nothing"),
}


def impact_text(ctx: Context, impact: Impact) -> str:
    lines = [ctx._("Impact of “{title}”").format(title=impact.title)]
    for figures in impact.checkins:
        lines += ["", _heading(ctx, figures), *_answers(ctx, figures)]
    if impact.help_requests:
        lines += ["", ctx._("Asked for help:")]
        lines += [f"• {text}" for text in impact.help_requests]
    return "\n".join(lines)


def _heading(ctx: Context, f: CheckinFigures) -> str:
    return ctx._("{when}: {asked} asked, {answered} answered").format(
        when=ctx._(KIND_WORDS.get(f.kind, f.kind)), asked=f.invited, answered=f.answered
    )


def _answers(ctx: Context, f: CheckinFigures) -> list[str]:
    lines = []
    for question, counts in f.counts.items():
        parts = []
        for answer, count in sorted(counts.items(), key=lambda item: -item[1]):
            word = ctx._(ANSWER_WORDS[answer]) if answer in ANSWER_WORDS else answer
            share = f" ({round(100 * count / f.answered)} %)" if f.answered >= SMALL_GROUP else ""
            parts.append(f"{word} {count}{share}")
        name = ctx._(QUESTION_WORDS[question]) if question in QUESTION_WORDS else question
        lines.append(f"  {name}: " + ", ".join(parts))
    lines += [f"  „{line}“" for line in f.lines]
    return lines
