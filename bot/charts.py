"""Bar charts as PNG images, drawn with matplotlib's object API (no pyplot).

`render` draws in a worker process (`python -m bot.charts`), started with the first
chart and ended after `IDLE_SECONDS` without one. matplotlib costs about 0.7 s and 45 MB
once it has drawn (and every Figure lingers until the cycle collector runs): a bot that
runs for months should not carry that for a screen organisers open now and then, and a
chart that fails or crashes cannot take the bot down. The worker imports nothing of
the bot but this module, so it starts in about half a second; the event loop only
awaits the answer, in a thread.

Every group of bars shares one axes: one counting axis under all, a bold heading
above each group. Drawing time grows with the number of axes and ticks (five panels
took 0.3 s, one takes a third of that), and counts of people read well on one scale.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass

# Colours that stay apart for people with the common red-green weakness (Okabe–Ito).
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")
WIDTH_INCHES = 8.0
ROW_INCHES = 0.3
DPI = 100
# The worker ends this long after its last chart (the next one starts it again, ~1 s).
IDLE_SECONDS = 120.0
# A chart takes 0.2 s (the first, with matplotlib's import and font cache, a few): one
# that takes this long is given up, and the worker with it.
DRAW_SECONDS = 30.0
MAX_PNG = 20_000_000  # bytes; a larger length means the answer is out of step


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
    """The chart as a PNG, drawn in the worker process (awaited in a thread, so any
    event loop may ask)."""
    return await asyncio.to_thread(_WORKER.draw, chart)


class ChartFailed(Exception):
    """The worker could not draw the chart (it said why, or it died)."""


class _Worker:
    """One drawing process (`python -m bot.charts`), shared by every event loop and
    thread of this process. It reads a chart per line as JSON on stdin and answers with
    the PNG's length and bytes; it ends when its stdin closes: when idle for
    IDLE_SECONDS, or when this process ends however it ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._timer: threading.Timer | None = None

    def draw(self, chart: Chart) -> bytes:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            try:
                return self._ask(chart)
            finally:
                self._timer = threading.Timer(IDLE_SECONDS, self.stop)
                self._timer.daemon = True
                self._timer.start()

    def _ask(self, chart: Chart) -> bytes:
        process = self._process
        if process is None or process.poll() is not None:
            process = self._process = subprocess.Popen(
                [sys.executable, "-m", "bot.charts"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None,  # its tracebacks go to our log's stderr
            )
        assert process.stdin is not None and process.stdout is not None
        # A worker that hangs is killed, which ends the reads below: nothing waits forever.
        watchdog = threading.Timer(DRAW_SECONDS, process.kill)
        watchdog.daemon = True
        watchdog.start()
        try:
            process.stdin.write(json.dumps(asdict(chart)).encode() + b"\n")
            process.stdin.flush()
            header = process.stdout.read(5)
            ok, size = header[:1], int.from_bytes(header[1:], "big")
            body = process.stdout.read(size) if len(header) == 5 and size <= MAX_PNG else b""
            if len(header) < 5 or len(body) != size or ok not in (b"+", b"-"):
                raise ChartFailed("the chart worker ended or lost its place")
        except (OSError, ValueError, ChartFailed) as error:
            self._end(process)
            raise ChartFailed(str(error)) from error
        finally:
            watchdog.cancel()
        if ok != b"+":
            raise ChartFailed(body.decode(errors="replace"))
        return body

    def stop(self) -> None:
        with self._lock:
            if self._process is not None:
                self._end(self._process)

    def _end(self, process: subprocess.Popen[bytes]) -> None:
        self._process = None
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_WORKER = _Worker()


def _serve() -> None:
    """The worker's loop: a chart per line in, "+" or "-", a length and bytes out."""
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        try:
            given = json.loads(line)
            chart = Chart(
                given["title"],
                tuple(
                    Group(g["heading"], tuple(Bar(**b) for b in g["bars"])) for g in given["groups"]
                ),
                given["axis_label"],
            )
            status, body = b"+", png(chart)
        except Exception as error:  # told to the bot, which shows the figures as text
            status, body = b"-", repr(error).encode()
        out.write(status + len(body).to_bytes(4, "big") + body)
        out.flush()


def png(chart: Chart) -> bytes:
    out = io.BytesIO()
    draw(chart).savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def draw(chart: Chart):  # type: ignore[no-untyped-def]  # a matplotlib Figure
    """The chart as a matplotlib Figure (tests read its axes)."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    # Titles are people's text: "$5 $" is not a formula (mathtext would refuse it).
    matplotlib.rcParams["text.parse_math"] = False

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


if __name__ == "__main__":
    _serve()
