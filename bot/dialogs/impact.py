""" "Wirkung": what came of an organiser's workshops, from their check-ins, in plain
words, as a chart and as a CSV file.

The figures are `bot.impact_report`'s rows, so the text, the chart and the file agree.
Shares only from five answers on; free text with a first name only where the member
agreed to share it.
"""

from __future__ import annotations

import logging

from bot.charts import render
from bot.dialogs.base import ButtonRow, Context, Screenful, say
from bot.dialogs.places import short
from bot.i18n import Translator
from bot.impact_report import chart, csv_file, figures
from bot.messages import Attachment, OutMessage
from bot.services.contracts import Impact, Said

CHART_TITLE = 70  # characters of the chart's title that fit its width

log = logging.getLogger(__name__)


def heading(t: Translator, impact: Impact) -> str:
    if impact.title:
        return t._("Impact of “{title}”").format(title=impact.title)
    return t.ngettext(
        "Impact of your {count} event", "Impact of your {count} events", impact.events
    ).format(count=impact.events)


def impact_text(t: Translator, impact: Impact, title: str = "") -> str:
    """The figures in words, under `title` (by default the event's or "your events")."""
    lines = [title or heading(t, impact)]
    if not impact.answered:
        lines += [
            "",
            t._(
                "No answers yet. Those who came are asked the morning after the event, "
                "after some weeks and after three months."
            ),
        ]
    for f in figures(impact, t._):
        rate = "" if f.rate is None else f" ({f.rate} %)"
        lines += [
            "",
            t._("{when}: {asked} asked, {answered} answered").format(
                when=f.checkin, asked=f.invited, answered=f.answered
            )
            + rate,
        ]
        for question, rows in f.answers.items():
            parts = [
                f"{row.answer} {row.count}" + ("" if row.share is None else f" ({row.share} %)")
                for row in rows
            ]
            lines.append(f"  {question}: " + ", ".join(parts))
    for checkin in impact.checkins:
        if checkin.lines:
            lines += ["", t._("What they take away:")]
            lines += [f"  {quoted(t, said)}" for said in checkin.lines]
            lines += _more(t, checkin.line_count - len(checkin.lines))
    if impact.help_requests:
        lines += ["", t._("Asked for help, not answered yet:")]
        lines += [f"• {quoted(t, said)}" for said in impact.help_requests]
        lines += _more(t, impact.open_help - len(impact.help_requests))
    return "\n".join(lines)


def _more(t: Translator, count: int) -> list[str]:
    return ["  " + t._("… and {count} more").format(count=count)] if count > 0 else []


def quoted(t: Translator, said: Said) -> str:
    if said.name:
        return t._("“{text}” – {name}").format(text=said.text, name=said.name)
    return t._("“{text}”").format(text=said.text)


async def impact_screen(ctx: Context, impact: Impact, *rows: ButtonRow) -> Screenful:
    """The figures in words, then the chart (when anyone answered) with the buttons."""
    text = impact_text(ctx.t, impact)
    bars = chart(impact, short(heading(ctx.t, impact), CHART_TITLE), ctx._)
    if bars is None:
        return (say(text, *rows),)
    try:
        picture = Attachment(ctx._("impact.png"), "image/png", await render(bars))
    except Exception:  # no chart (a broken font, no memory) must not cost the figures
        log.exception("impact: the chart could not be drawn")
        return (say(text, *rows),)
    caption = ctx._("The figures as a chart:")
    return (say(text), OutMessage(caption, rows, attachment=picture))


def impact_csv(ctx: Context, impact: Impact) -> OutMessage:
    file = Attachment(ctx._("impact.csv"), "text/csv", csv_file(impact, ctx._))
    text = ctx._("The figures as a spreadsheet file (opens in Excel and LibreOffice).")
    return OutMessage(text, attachment=file)
