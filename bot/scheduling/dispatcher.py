"""Delivering due notices through the channels that run in this process.

An APScheduler interval job calls `Dispatcher.run_once`: claim a batch of due
notices (bot.services.notices), skip what no longer makes sense, let the runner
word each one in the member's language, and hand it to the member's channel.
Different members are served concurrently, up to `concurrency` at a time; the channel
paces them (Telegram's rate limiter, Matrix's). Reminders, check-ins and
announcements share this one path.

Outcomes are marked in groups (`Finisher`: every `FLUSH_EVERY` sends or
`FLUSH_SECONDS`, and at the end of a batch), one UPDATE each instead of a transaction
per notice. A crash resends at most what was sent since the last flush, once the
claim's lease runs out: at most one batch, and the resends are counted (`attempts`).
The next batch is claimed when one is down to its last `concurrency` sends, so a lease
must outlast one batch's sending (200 at 25/s: 8 s; the default lease is 300 s).
After each batch the organisers of announcements under way hear how far they are.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.codes import WorkStatus
from bot.messages import AccountRef, Delivered, Deliverer, OutMessage
from bot.services.announcements import Announcements, Progress, Report
from bot.services.contracts import NoticeView
from bot.services.notices import BATCH, Notices, Work

if TYPE_CHECKING:  # imported when the timer starts: a piped chat or a command runs none
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

Render = Callable[[AccountRef, NoticeView], Awaitable[list[OutMessage]]]
# An announcement's progress in the organiser's words (the runner's `report`).
RenderReport = Callable[[AccountRef, Progress, bool], Awaitable[list[OutMessage]]]
# A failed send is tried again later, this many times in all, waiting longer each time
# (1, 2, 4, 8 minutes): a channel's hiccup passes, a lasting fault ends as "failed".
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=1)
FLUSH_EVERY = 50
FLUSH_SECONDS = 1.0
# Telegram edits one progress message: not more often than this (1 message/s per chat).
EDIT_SECONDS = 3.0
# Progress is looked at after a flush at most this often (it counts the rows).
REPORT_SECONDS = 2.0


def retry_delay(attempts: int) -> timedelta:
    """The wait before the next try after `attempts` failed ones."""
    return RETRY_AFTER * 2 ** max(0, min(attempts, MAX_ATTEMPTS) - 1)


class Finisher:
    """Collects the outcomes of sends and writes them in groups."""

    def __init__(
        self,
        notices: Notices,
        clock: Callable[[], datetime],
        after_flush: Callable[[], Awaitable[None]] | None = None,
        worker: str | None = None,
    ) -> None:
        self.notices = notices
        self.clock = clock
        self.worker = worker
        self.after_flush = after_flush
        self._done: list[tuple[int, WorkStatus, str | None]] = []
        self._since = asyncio.get_running_loop().time()
        self._lock = asyncio.Lock()

    async def add(self, notice_id: int, status: WorkStatus, error: str | None = None) -> None:
        self._done.append((notice_id, status, error))
        due = asyncio.get_running_loop().time() - self._since >= FLUSH_SECONDS
        # One flush at a time; a send that finds one under way goes on (its outcome is
        # in the list for the next), rather than wait holding its concurrency slot.
        if (len(self._done) >= FLUSH_EVERY or due) and not self._lock.locked():
            await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            done, self._done = self._done, []
            self._since = asyncio.get_running_loop().time()
            await self.notices.finish_many(done, self.clock(), self.worker)
        if self.after_flush is not None and done:
            await self.after_flush()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Dispatcher:
    def __init__(
        self,
        notices: Notices,
        render: Render,
        channels: Mapping[str, Deliverer],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        only: Mapping[str, Sequence[str]] | None = None,
        worker: str | None = None,
        concurrency: int = 20,
        batch: int = BATCH,
        announcements: Announcements | None = None,
        report: RenderReport | None = None,
    ) -> None:
        """`only` limits a channel to some accounts (a local console chat delivers only to
        its own user, never to another local user who shares the database)."""
        self.notices = notices
        self.render = render
        self.channels = dict(channels)
        self.clock = clock
        self.only = dict(only or {})
        self.worker = worker or worker_name()
        self.batch = batch
        self.announcements = announcements
        self.report = report
        self._edited: dict[int, float] = {}  # announcement → when its message was last edited
        self._shown: dict[int, Progress] = {}  # what the progress message shows now
        self._reporting = False
        self._reported_at = 0.0
        self._edits_at = 0.0
        self.concurrency = concurrency
        self._limits: dict[str, asyncio.Semaphore] = {}  # one per channel
        self._scheduler: AsyncIOScheduler | None = None
        self._ticking: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many notices were sent.

        Each channel claims and sends on its own, side by side, with its own batch size
        and concurrency: a channel paced at 0.2 messages/s (Matrix's default) neither
        holds up Telegram's batches nor keeps a batch longer than the claim's lease."""
        finisher = Finisher(self.notices, self.clock, self._report_soon, self.worker)
        try:
            sent = await asyncio.gather(
                *(self._run_channel(name, finisher) for name in self.channels)
            )
        finally:
            await finisher.flush()
        await self._report_progress()
        return sum(sent)

    async def _run_channel(self, name: str, finisher: Finisher) -> int:
        served = {name: self.only.get(name)}
        size = min(self.batch, getattr(self.channels[name], "batch_size", None) or self.batch)
        limit = self._limits.setdefault(name, asyncio.Semaphore(self.concurrency))

        def claim() -> Awaitable[list[Work]]:
            return self.notices.claim_due(self.worker, self.clock(), served, size)

        sent = 0
        batch = await claim()
        while batch:
            done, following = await self._send_batch(
                batch, finisher, limit, claim if len(batch) == size else None
            )
            sent += done
            await self._report_progress()
            batch = await following if following is not None else await claim()
        return sent

    async def _send_batch(
        self,
        batch: list[Work],
        finisher: Finisher,
        limit: asyncio.Semaphore,
        claim_next: Callable[[], Awaitable[list[Work]]] | None,
    ) -> tuple[int, asyncio.Future[list[Work]] | None]:
        """Send a claimed batch; the notices sent, and the next batch's claim, started
        (`claim_next`, for a full batch) when this one is down to its last `concurrency`
        sends: no gap in the channel's pace between batches, and no batch claimed long
        before it is sent (its lease runs from the claim)."""
        following: asyncio.Future[list[Work]] | None = None
        left = len(batch)

        async def one(work: Work) -> bool:
            nonlocal following, left
            try:
                return await self._one(work, finisher, limit)
            finally:
                left -= 1
                if following is None and claim_next is not None and left <= self.concurrency:
                    following = asyncio.ensure_future(claim_next())

        try:
            results = await asyncio.gather(*(one(w) for w in batch))
        except BaseException:
            if following is not None:
                following.cancel()  # its claims lapse with the lease
            raise
        finally:
            await finisher.flush()
        return sum(results), following

    async def _one(self, work: Work, finisher: Finisher, limit: asyncio.Semaphore) -> bool:
        async with limit:
            notice = work.notice
            if work.skip_reason is not None:
                await finisher.add(notice.id, WorkStatus.SKIPPED, work.skip_reason)
                return False
            target = self._account(work)
            if target is None:
                await finisher.add(notice.id, WorkStatus.SKIPPED, "blocked")
                return False
            channel, account = target
            error: str | None = None
            try:
                messages = await self.render(account, notice)
                if not messages:  # the account is gone (deleted meanwhile): nobody to tell
                    await finisher.add(notice.id, WorkStatus.SKIPPED, "gone")
                    return False
                result = await channel.deliver(account, messages, key=f"notice-{notice.id}")
            except Exception as exc:
                log.exception("notice %s to %s failed", notice.id, account.channel)
                result, error = Delivered.FAILED, type(exc).__name__
            if result == Delivered.SENT:
                await finisher.add(notice.id, WorkStatus.DONE)
                return True
            if result == Delivered.BLOCKED:
                await finisher.add(notice.id, WorkStatus.SKIPPED, "blocked")
                return False
            await self.notices.retry_later(
                notice.id,
                self.clock(),
                MAX_ATTEMPTS,
                error or "send failed",
                retry_delay,
                self.worker,
            )
            return False

    # -- organisers follow their announcements ----------------------------------------
    async def _report_soon(self) -> None:
        """After a flush, while a batch goes out: at most one report round at a time and
        one every REPORT_SECONDS (each counts the rows of the announcements under way)."""
        loop = asyncio.get_running_loop().time()
        if self._reporting or loop - self._reported_at < REPORT_SECONDS:
            return
        self._reporting, self._reported_at = True, loop
        try:
            await self._report_progress()
        finally:
            self._reporting = False

    async def _report_progress(self) -> None:
        """A new tenth (or the end) of an announcement to its organiser; on a channel
        that edits (Telegram) also the running count, every few seconds."""
        if self.announcements is None or self.report is None:
            return
        try:
            now = self.clock()
            reported = {
                r.progress.id
                for r in await self._send_reports(
                    await self.announcements.reports(
                        now, {channel: self.only.get(channel) for channel in self.channels}
                    )
                )
            }
            loop = asyncio.get_running_loop().time()
            if loop - self._edits_at < EDIT_SECONDS:
                return  # the counts for edits are not read more often than edits are made
            self._edits_at = loop
            editable = [
                r
                for r in await self.announcements.edits(now)
                if r.progress.id not in reported
                and _edits(self.channels.get(r.channel))
                and loop - self._edited.get(r.progress.id, 0) >= EDIT_SECONDS
                and self._shown.get(r.progress.id) != r.progress  # only when it changed
            ]
            await self._send_reports(editable)
        except Exception:
            log.exception("announcement progress failed")  # the sends go on regardless

    async def _send_reports(self, reports: list[Report]) -> list[Report]:
        assert self.report is not None and self.announcements is not None
        done = []
        for report in reports:
            channel = self.channels.get(report.channel)
            allowed = self.only.get(report.channel)
            if channel is None or (allowed is not None and report.account not in allowed):
                continue
            account = AccountRef(report.channel, report.account, chat_id=report.chat_id)
            try:
                sent = await self._send_report(channel, account, report)
            except Exception:
                log.exception("progress of announcement %s failed", report.progress.id)
                sent = False
            if not sent:
                await self.announcements.report_failed(report)  # due again next round
                continue
            done.append(report)
        return done

    async def _send_report(self, channel: Deliverer, account: AccountRef, report: Report) -> bool:
        assert self.report is not None and self.announcements is not None
        messages = await self.report(account, report.progress, report.final)
        self._edited[report.progress.id] = asyncio.get_running_loop().time()
        self._shown[report.progress.id] = report.progress
        if _edits(channel):
            message_id = await channel.progress(  # type: ignore[attr-defined]
                account, messages, report.message_id
            )
            if message_id is None:
                return False
            if message_id != report.message_id:
                await self.announcements.set_report_message(report.progress.id, message_id)
            return True
        # Not behind the channel's queue of paced sends (Matrix): an answer of sorts.
        tell = getattr(channel, "tell", None) or channel.deliver
        return bool(await tell(account, messages) == Delivered.SENT)

    def _account(self, work: Work) -> tuple[Deliverer, AccountRef] | None:
        """The member's most recently used account on a channel this process serves."""
        for account, blocked in work.recipient.accounts:
            channel = self.channels.get(account.channel)
            allowed = self.only.get(account.channel)
            if channel is None or blocked:
                continue
            if allowed is not None and account.external_id not in allowed:
                continue
            return channel, account
        return None

    # -- the timer -----------------------------------------------------------
    def start(self, interval_seconds: float) -> None:
        """Run `run_once` every `interval_seconds` (never two at once) until `stop`."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self._tick,
            "interval",
            seconds=interval_seconds,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.start()
        self._scheduler = scheduler

    async def _tick(self) -> None:
        self._ticking = asyncio.current_task()
        try:
            await self.run_once()
        except Exception:
            # A database hiccup must not end the timer: the next tick tries again.
            log.exception("notice dispatch failed")

    async def stop(self, grace_seconds: float = 5) -> None:
        """End the timer and let a running round finish its sends (briefly: what is
        still claimed after that is taken over once its lease runs out)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        ticking, self._ticking = self._ticking, None
        if ticking is not None and not ticking.done():
            await asyncio.wait({ticking}, timeout=grace_seconds)


def _edits(channel: Deliverer | None) -> bool:
    """Whether a channel shows progress by editing one message (`progress`)."""
    return channel is not None and hasattr(channel, "progress")
