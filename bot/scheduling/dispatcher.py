"""Delivering due notices through the channels that run in this process.

An APScheduler interval job calls `Dispatcher.run_once`: claim a batch of due
notices (bot.services.notices), skip what no longer makes sense, let the runner
word each one in the member's language, and hand it to the member's channel.
Different members are served concurrently, up to `concurrency` at a time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.codes import WorkStatus
from bot.messages import AccountRef, Delivered, Deliverer, OutMessage
from bot.services.contracts import NoticeView
from bot.services.notices import BATCH, Notices, Work

log = logging.getLogger(__name__)

Render = Callable[[AccountRef, NoticeView], Awaitable[list[OutMessage]]]
# A failed send is tried again later, this many times in all.
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=2)


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
        self._limit = asyncio.Semaphore(concurrency)
        self._scheduler: AsyncIOScheduler | None = None
        self._ticking: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many notices were sent."""
        sent = 0
        while True:
            served = {channel: self.only.get(channel) for channel in self.channels}
            batch = await self.notices.claim_due(self.worker, self.clock(), served, self.batch)
            if not batch:
                return sent
            results = await asyncio.gather(*(self._one(work) for work in batch))
            sent += sum(results)

    async def _one(self, work: Work) -> bool:
        async with self._limit:
            now = self.clock()
            notice = work.notice
            if work.skip_reason is not None:
                await self.notices.finish(notice.id, WorkStatus.SKIPPED, now, work.skip_reason)
                return False
            target = self._account(work)
            if target is None:
                await self.notices.finish(notice.id, WorkStatus.SKIPPED, now, "blocked")
                return False
            channel, account = target
            error: str | None = None
            try:
                messages = await self.render(account, notice)
                result = await channel.deliver(account, messages)
            except Exception as exc:
                log.exception("notice %s to %s failed", notice.id, account.channel)
                result, error = Delivered.FAILED, type(exc).__name__
            if result == Delivered.SENT:
                await self.notices.finish(notice.id, WorkStatus.DONE, self.clock())
                return True
            if result == Delivered.BLOCKED:
                await self.notices.finish(notice.id, WorkStatus.SKIPPED, self.clock(), "blocked")
                return False
            await self.notices.retry_later(
                notice.id, self.clock() + RETRY_AFTER, MAX_ATTEMPTS, error or "send failed"
            )
            return False

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
