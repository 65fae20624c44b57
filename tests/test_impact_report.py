"""The figures of "Wirkung" as rows, CSV and chart, without a database: the chart
counts whole people in German words, and small groups get no shares."""

from __future__ import annotations

from bot.charts import draw, png
from bot.handlers.matrix import png_size
from bot.i18n import Translator
from bot.impact_report import chart, csv_file, rows
from bot.services.contracts import CheckinFigures, Impact

GERMAN = Translator("de")


def impact(answered: int) -> Impact:
    met = {"yes": answered - 1, "no": 1}
    return Impact(
        "Holz trifft Laser",
        1,
        (
            CheckinFigures("next_day", answered + 2, answered, {"met": met}),
            CheckinFigures("weeks", answered + 2, 1, {"tried": {"help": 1}}),
            CheckinFigures("months", 0, 0, {}),
        ),
        (),
    )


def test_the_chart_counts_whole_people_in_german_words() -> None:
    bars = chart(impact(7), "Wirkung von „Holz trifft Laser“", GERMAN._)
    assert bars is not None
    figure = draw(bars)
    [axes] = figure.axes
    ticks = list(axes.get_xticks())
    assert ticks and all(float(t).is_integer() for t in ticks)
    labels = [label.get_text() for label in axes.get_yticklabels()]
    assert "Am Tag danach: Erwartung erfüllt" in labels
    assert "braucht Hilfe" in labels and "gefragt" in labels
    assert "Nach drei Monaten" not in labels  # not asked yet: no empty group
    assert axes.get_xlabel() == "Anzahl Personen"
    width, height = png_size(png(bars)) or (0, 0)
    assert width == 800 and height > 400


def test_shares_only_from_five_answers_and_no_chart_without_any() -> None:
    assert all(row.share is None for row in rows(impact(4), GERMAN._))
    shared = {(r.checkin, r.question, r.answer): r.share for r in rows(impact(5), GERMAN._)}
    assert shared[("Am Tag danach", "Erwartung erfüllt", "ja")] == 80
    assert shared[("Am Tag danach", "Geantwortet", "")] == 71  # 5 of 7 asked
    assert shared[("Nach einigen Wochen", "Geantwortet", "")] is None  # one answer: a count
    empty = Impact("Leer", 1, (CheckinFigures("next_day", 3, 0, {}),), ())
    assert chart(empty, "Leer", GERMAN._) is None
    lines = csv_file(impact(5), Translator("en")._).decode("utf-8-sig").splitlines()
    assert lines[0] == "Check-in;Question;Answer;Number;Share in %"
    assert "The day after;Expectation met;yes;4;80" in lines
