"""Matrix round trip: a "places near me" step through a real Synapse on 127.0.0.1, beside a
bare matrix-nio echo bot measured in the same run, in plain and in encrypted direct chats.

Run from the repository root: `python bench/matrix_roundtrip.py` (about 1–2 min).
Target (issue "Matrix"): the member sends → the bot's reply arrives, median and p95, at
most 1.5 × the echo bot's round trip.

Each bot gets one member client per chat kind (a nio client like Element, in a direct
chat). A timed step: the member stands at the main menu, sends "1" (= "Offene Werkstätten
in der Nähe"); the clock runs from just before `room_send` until the member's notice
callback sees the places list. Then "Menü" (untimed) goes back to the menu. The echo bot
gets the same two messages and echoes both. Steps run in blocks of 20, alternating bot and
chat kind, so machine noise spreads over all four series.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nio import (  # noqa: E402
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    MatrixRoom,
    MegolmEvent,
    RoomMessage,
    RoomMessageNotice,
    RoomMessageText,
)

from bot.app import Werkbank  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.geo import default_gazetteer  # noqa: E402
from bot.handlers.matrix import MatrixChannel  # noqa: E402
from bot.services.demo import load_demo_data  # noqa: E402
from tests.e2e.synapse import Synapse  # noqa: E402

SYNC_TIMEOUT_MS = 3000  # long-poll timeout, as MatrixChannel uses it
STEP = "1"  # "Offene Werkstätten in der Nähe" in the main menu
BACK = "Menü"
TARGET = 1.5
WARMUP = 3  # untimed steps per series first (megolm sessions, caches)
MODES = ("plain", "encrypted")
BOTS = ("werkbank", "echo")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Probe:
    """Timestamps inside a bot (same process, same clock): when its client saw the
    member's message, and when its reply's room_send started and returned."""

    def __init__(self) -> None:
        self.seen = self.send_start = self.send_end = self.handle_s = 0.0
        self._sending = False

    def on_seen(self) -> None:
        self.seen = time.perf_counter()
        self.send_start = self.send_end = self.handle_s = 0.0
        self._sending = False

    def wrap_room_send(self, client: AsyncClient) -> None:
        original = client.room_send

        async def room_send(*args: Any, **kwargs: Any) -> Any:
            first = not self._sending and self.send_start == 0.0
            if first:
                self._sending = True
                self.send_start = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                if first:
                    self.send_end = time.perf_counter()

        client.room_send = room_send  # type: ignore[method-assign]


class Member:
    """A person in Element, played by a nio client that syncs all the time."""

    def __init__(self, synapse: Synapse, directory: Path, name: str) -> None:
        self.user_id, self.password = synapse.register(name)
        directory.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            synapse.url,
            self.user_id,
            store_path=str(directory),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False),
        )
        self.room_id = ""
        self.started = self.sent = 0.0  # just before / after the last room_send
        self._waiting: tuple[Callable[[str], bool], asyncio.Future[float]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.client.login(self.password, device_name="Element")
        self.client.add_event_callback(self._on_notice, RoomMessageNotice)  # type: ignore[arg-type]
        await self.client.sync(timeout=0, full_state=True)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=SYNC_TIMEOUT_MS))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def _on_notice(self, room: MatrixRoom, event: RoomMessageNotice) -> None:
        now = time.perf_counter()
        if event.sender == self.user_id or room.room_id != self.room_id or not self._waiting:
            return
        wanted, future = self._waiting
        if wanted(event.body) and not future.done():
            future.set_result(now)

    async def open_direct_chat(self, bot_id: str, encrypted: bool) -> None:
        """Invite the bot the way Element does, and wait until it has joined."""
        state = (
            [
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ]
            if encrypted
            else []
        )
        response = await self.client.room_create(
            is_direct=True, invite=[bot_id], initial_state=state
        )
        self.room_id = response.room_id  # type: ignore[union-attr]
        deadline = time.monotonic() + 30
        while True:
            room = self.client.rooms.get(self.room_id)
            if room and bot_id in room.users and bot_id not in room.invited_users:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("the bot did not join")
            await asyncio.sleep(0.05)

    def expect(self, wanted: Callable[[str], bool]) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting = (wanted, future)
        return future

    async def step(self, text: str, wanted: Callable[[str], bool], timeout: float = 30) -> float:
        """Send `text`; seconds from just before room_send until a notice `wanted` arrives."""
        future = self.expect(wanted)
        start = self.started = time.perf_counter()
        response = await self.client.room_send(
            self.room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": text},
            ignore_unverified_devices=True,
        )
        if not hasattr(response, "event_id"):
            raise RuntimeError(f"could not send: {response}")
        self.sent = time.perf_counter()
        try:
            arrived = await asyncio.wait_for(future, timeout)
        finally:
            self._waiting = None
        return arrived - start


class EchoBot:
    """The baseline: a bare nio bot that joins on invite and echoes each m.text as m.notice.
    nio's default client config (encryption on, as installed with [e2e])."""

    def __init__(self, synapse: Synapse, directory: Path) -> None:
        self.user_id, self.password = synapse.register("echo")
        directory.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(synapse.url, self.user_id, store_path=str(directory))
        self.probe = Probe()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.client.login(self.password, device_name="echo")
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)  # type: ignore[arg-type]
        self.client.add_event_callback(self._on_text, RoomMessageText)  # type: ignore[arg-type]
        await self.client.sync(timeout=0, full_state=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self.probe.wrap_room_send(self.client)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=SYNC_TIMEOUT_MS))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == self.user_id and event.membership == "invite":
            await self.client.join(room.room_id)

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.user_id:
            return
        self.probe.on_seen()
        await self.client.room_send(
            room.room_id,
            "m.room.message",
            {"msgtype": "m.notice", "body": event.body},
            ignore_unverified_devices=True,
        )


class WerkbankBot:
    """MatrixChannel on a SQLite file with the demo data, as `werkbank run` starts it."""

    def __init__(self, synapse: Synapse, directory: Path) -> None:
        self.user_id, password = synapse.register("werkbank")
        self.settings = Settings(
            database_url=f"sqlite+aiosqlite:///{directory / 'werkbank.db'}",
            matrix_homeserver=synapse.url,
            matrix_user=self.user_id,
            matrix_password=password,
            matrix_store=str(directory / "store"),
        )
        self.probe = Probe()
        self.app: Werkbank | None = None
        self.channel: MatrixChannel | None = None

    async def start(self) -> None:
        self.app = await Werkbank.open(self.settings)
        await load_demo_data(self.app.db, default_gazetteer(), datetime.now(UTC))
        runner = self.app.runner
        handle = runner.handle

        async def timed_handle(msg: Any) -> Any:
            start = time.perf_counter()
            try:
                return await handle(msg)
            finally:
                self.probe.handle_s = time.perf_counter() - start

        runner.handle = timed_handle  # type: ignore[method-assign]
        self.channel = MatrixChannel(self.app)
        # Registered before the channel's own callbacks, so it runs first.
        self.channel.client.add_event_callback(self._seen, (RoomMessage, MegolmEvent))  # type: ignore[arg-type]
        self.probe.wrap_room_send(self.channel.client)
        await self.channel.start()

    async def _seen(self, room: MatrixRoom, event: Any) -> None:
        if event.sender != self.user_id:  # not its own replies coming back
            self.probe.on_seen()

    async def stop(self) -> None:
        if self.channel is not None:
            await self.channel.stop()
        if self.app is not None:
            await self.app.close()


def places_list(body: str) -> bool:
    return body.startswith("Orte im Umkreis") and "\n1. " in body


def main_menu(body: str) -> bool:
    return "Was möchtest du tun?" in body


def contains(text: str) -> Callable[[str], bool]:
    return lambda body: text in body


def echo_of(text: str) -> Callable[[str], bool]:
    return lambda body: body == text


class Series:
    """One bot in one kind of chat: its member, and what is measured."""

    def __init__(self, bot: str, mode: str, member: Member, probe: Probe) -> None:
        self.bot, self.mode, self.member, self.probe = bot, mode, member, probe
        self.round_trips: list[float] = []
        self.parts: list[dict[str, float]] = []

    def replies(self) -> tuple[Callable[[str], bool], Callable[[str], bool]]:
        if self.bot == "werkbank":
            return places_list, main_menu
        return echo_of(STEP), echo_of(BACK)

    async def run(self, steps: int, timed: bool = True, pause: float = 0) -> None:
        step_reply, back_reply = self.replies()
        for _ in range(steps):
            if pause:
                await asyncio.sleep(pause)
            seconds = await self.member.step(STEP, step_reply)
            start = self.member.started
            if timed:
                self.round_trips.append(seconds)
                p = self.probe
                end = start + seconds
                if p.seen and p.send_end:
                    self.parts.append(
                        {
                            "member_send": self.member.sent - start,
                            "to_bot": p.seen - start,
                            "in_bot": p.send_start - p.seen,
                            "runner": p.handle_s,
                            "reply_send": p.send_end - p.send_start,
                            "to_member": end - p.send_end,
                        }
                    )
            await self.member.step(BACK, back_reply)

    def summary(self) -> dict[str, Any]:
        ms = [s * 1000 for s in self.round_trips]
        parts = {key: statistics.median(p[key] for p in self.parts) * 1000 for key in self.parts[0]}
        return {
            "n": len(ms),
            "median_ms": statistics.median(ms),
            "p95_ms": percentile(ms, 0.95),
            "mean_ms": statistics.fmean(ms),
            "min_ms": min(ms),
            "max_ms": max(ms),
            "median_parts_ms": parts,
            "parts_n": len(self.parts),
            "round_trips_ms": [round(v, 3) for v in ms],
        }


async def onboard(member: Member, bot_id: str, encrypted: bool, werkbank: bool) -> None:
    greeting = member.expect(contains("Willkommen bei Werkbank"))
    await member.open_direct_chat(bot_id, encrypted)
    if werkbank:
        await asyncio.wait_for(greeting, 30)
        await member.step("1", contains("Bevor es losgeht"))  # Deutsch: the privacy text
        await member.step("1", contains("Wo bist du?"))  # Einverstanden
        await member.step("Bendorf", contains("Was interessiert dich"))
        await member.step("1", main_menu)  # Handwerk
    else:
        await member.step("hallo", echo_of("hallo"))


async def main(steps: int, block: int, modes: tuple[str, ...], pause: float = 0) -> dict[str, Any]:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        synapse = Synapse(tmp / "synapse")
        synapse.start()
        members: list[Member] = []
        werkbank = WerkbankBot(synapse, tmp / "werkbank")
        echo = EchoBot(synapse, tmp / "echo")
        try:
            await werkbank.start()
            await echo.start()
            series: list[Series] = []
            for mode in modes:
                for bot in BOTS:
                    member = Member(synapse, tmp / f"member-{bot}-{mode}", "anna")
                    members.append(member)
                    await member.start()
                    bot_id = werkbank.user_id if bot == "werkbank" else echo.user_id
                    await onboard(member, bot_id, mode == "encrypted", bot == "werkbank")
                    probe = werkbank.probe if bot == "werkbank" else echo.probe
                    s = Series(bot, mode, member, probe)
                    await s.run(WARMUP, timed=False)
                    series.append(s)
            started = time.perf_counter()
            for number, offset in enumerate(range(0, steps, block)):
                # Alternate which bot goes first, so neither always follows the other.
                order = series if number % 2 == 0 else series[::-1]
                for s in order:
                    await s.run(min(block, steps - offset), pause=pause)
            elapsed = time.perf_counter() - started
        finally:
            for member in members:
                await member.stop()
            await echo.stop()
            await werkbank.stop()
            synapse.stop()

    result: dict[str, Any] = {
        "steps": steps,
        "block": block,
        "pause_s": pause,
        "target_ratio": TARGET,
        "measure_seconds": elapsed,
        "modes": {},
    }
    for mode in modes:
        by_bot = {s.bot: s.summary() for s in series if s.mode == mode}
        ratios = {
            figure: by_bot["werkbank"][f"{figure}_ms"] / by_bot["echo"][f"{figure}_ms"]
            for figure in ("median", "p95")
        }
        result["modes"][mode] = {
            **by_bot,
            "ratio": ratios,
            "met": all(r <= TARGET for r in ratios.values()),
        }
    return result


def table(result: dict[str, Any]) -> str:
    lines = [
        "| chat | figure | Werkbank | echo bot | ratio | target | met? |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, data in result["modes"].items():
        for figure in ("median", "p95"):
            w, e = data["werkbank"][f"{figure}_ms"], data["echo"][f"{figure}_ms"]
            ratio = data["ratio"][figure]
            met = "yes" if ratio <= TARGET else "**no**"
            lines.append(
                f"| {mode} | {figure} | {w:.1f} ms | {e:.1f} ms | {ratio:.2f}× "
                f"| ≤ {TARGET}× | {met} |"
            )
    return "\n".join(lines)


def parts_table(result: dict[str, Any]) -> str:
    lines = [
        "| chat | bot | member's room_send | member → bot's client | in the bot "
        "| of it runner.handle | bot's room_send | → member's client |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode, data in result["modes"].items():
        for bot in BOTS:
            p = data[bot]["median_parts_ms"]
            runner = f"{p['runner']:.1f}" if bot == "werkbank" else "–"
            lines.append(
                f"| {mode} | {bot} | {p['member_send']:.1f} | {p['to_bot']:.1f} "
                f"| {p['in_bot']:.1f} | {runner} "
                f"| {p['reply_send']:.1f} | {p['to_member']:.1f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=100, help="timed steps per series")
    parser.add_argument("--block", type=int, default=20, help="steps per block")
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="seconds the member waits before each timed step (default: none, back to back)",
    )
    parser.add_argument("--plain-only", action="store_true", help="skip encrypted chats")
    args = parser.parse_args()
    modes = MODES[:1] if args.plain_only else MODES
    result = asyncio.run(main(args.steps, args.block, modes, args.pause))
    print(table(result))
    print()
    print("Medians of the parts of one round trip (ms):")
    print(parts_table(result))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "matrix.json").write_text(json.dumps(result, indent=2))
