"""Charts are drawn in a worker process: the bot's own process never imports matplotlib,
the worker ends when idle, one that died is replaced by the next chart, and a chart it
cannot draw is refused without ending it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from bot import charts
from bot.charts import Bar, Chart, ChartFailed, Group, render
from bot.handlers.matrix import png_size

CHART = Chart("Wirkung", (Group("Am Tag danach", (Bar("gefragt", 4), Bar("geantwortet", 3))),), "")


def test_the_bot_process_does_not_import_matplotlib_to_draw() -> None:
    code = (
        "import asyncio, sys; from bot.charts import Bar, Chart, Group, render;"
        "chart = Chart('Wirkung', (Group('Am Tag danach', (Bar('gefragt', 4),)),), '');"
        "data = asyncio.run(render(chart)); print(len(data), 'matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert int(out[0]) > 1000 and out[1] == "False"


async def test_the_worker_ends_when_idle_and_a_dead_one_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(charts, "IDLE_SECONDS", 0.2)
    assert png_size(await render(CHART)) is not None
    worker = charts._WORKER._process
    assert worker is not None and worker.pid != os.getpid()
    deadline = time.monotonic() + 10
    while worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.poll() is not None  # idle: gone

    assert png_size(await render(CHART)) is not None  # started again
    second = charts._WORKER._process
    assert second is not None
    os.kill(second.pid, signal.SIGKILL)  # out of memory, say
    second.wait()
    assert png_size(await render(CHART)) is not None  # the next chart gets a new worker
    third = charts._WORKER._process
    assert third is not None and third.pid != second.pid


async def test_a_chart_the_worker_cannot_draw_is_refused_and_it_goes_on() -> None:
    broken = Chart("Wirkung", (Group("x", (Bar("y", "viele", 0),)),), "")  # type: ignore[arg-type]
    with pytest.raises(ChartFailed):
        await render(broken)
    assert png_size(await render(CHART)) is not None
