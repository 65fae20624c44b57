"""Bar charts as PNG images, drawn with matplotlib's object API (no pyplot, no global
state, safe in a worker thread).

matplotlib costs about 0.7 s and 30 MB to import, so it is imported with the first
chart, never at start; `render` draws off the event loop so a chart never stalls other
chats. Every group of bars shares one axes: one counting axis under all, a bold heading
above each group. Drawing time grows with the number of axes and ticks (five panels
took 0.3 s, one takes a third of that), and counts of people read well on one scale.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

# Colours that stay apart for people with the common red-green weakness (Okabe–Ito).
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")
WIDTH_INCHES = 8.0
ROW_INCHES = 0.3
DPI = 100


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    colour: int = 0  # an index into COLOURS


@dataclass(frozen=True)
class Group:
    """Bars under one heading."""

    heading: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Chart:
    title: str
    groups: tuple[Group, ...]
    axis_label: str  # under the counting axis


async def render(chart: Chart) -> bytes:
    """The chart as a PNG, drawn in a worker thread."""
    return await asyncio.to_thread(png, chart)


def png(chart: Chart) -> bytes:
    out = io.BytesIO()
    draw(chart).savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def draw(chart: Chart):  # type: ignore[no-untyped-def]  # a matplotlib Figure
    """The chart as a matplotlib Figure (tests read its axes)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    labels: list[str] = []
    values: list[int] = []
    colours: list[str] = []
    headings: list[int] = []  # rows that carry a heading, not a bar
    for group in chart.groups:
        headings.append(len(labels))
        labels.append(group.heading)
        values.append(0)
        colours.append("none")
        for bar in group.bars:
            labels.append(bar.label)
            values.append(bar.value)
            colours.append(COLOURS[bar.colour % len(COLOURS)])
    height = 1.3 + ROW_INCHES * len(labels)
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI)
    figure.suptitle(chart.title, x=0.02, ha="left", fontsize=13, fontweight="bold")
    longest = max((len(label) for label in labels), default=8)
    # A fixed layout (tight or constrained layout doubles the drawing time), with room
    # on the left for the longest label at about 0.075 inches per character.
    left = min(0.5, (0.3 + 0.075 * longest) / WIDTH_INCHES)
    axes = figure.add_axes((left, 0.55 / height, 0.93 - left, 1 - 1.2 / height))
    rows = range(len(labels))
    bars = axes.barh(rows, values, height=0.75, color=colours)
    axes.bar_label(
        bars,
        labels=["" if row in headings else str(v) for row, v in zip(rows, values, strict=True)],
        padding=3,
        fontsize=9,
    )
    axes.set_yticks(rows, labels, fontsize=9)
    for row in headings:
        tick = axes.get_yticklabels()[row]
        tick.set_fontweight("bold")
    axes.tick_params(axis="y", length=0)
    axes.set_ylim(len(labels) - 0.5, -0.5)  # the first row on top, as on the screen
    axes.set_xlim(0, max(values, default=0) * 1.12 + 1)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))  # people come whole
    axes.set_xlabel(chart.axis_label, fontsize=9)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure
