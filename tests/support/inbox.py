"""A channel for notices that keeps what the scheduler delivers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from bot.app import Werkbank
from bot.messages import AccountRef, Delivered, OutMessage
from bot.scheduling.dispatcher import Dispatcher
from bot.services.notices import BATCH


class Inbox:
    """Records every delivery, in order; `answer` decides how each one goes
    (set it to BLOCKED or FAILED to play a blocked or unreachable member)."""

    def __init__(self, answer: Delivered = Delivered.SENT, delay: float = 0.0) -> None:
        self.deliveries: list[tuple[str, list[OutMessage]]] = []
        self.answer = answer
        self.delay = delay

    async def deliver(
        self, account: AccountRef, messages: Sequence[OutMessage], key: str | None = None
    ) -> Delivered:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.deliveries.append((account.external_id, list(messages)))
        return self.answer

    @property
    def got(self) -> list[tuple[str, str]]:
        """Each delivery as (account, its texts joined by newlines)."""
        return [(name, "\n".join(m.text for m in got)) for name, got in self.deliveries]

    def messages(self, name: str) -> list[OutMessage]:
        return [m for who, got in self.deliveries if who == name for m in got]

    def text(self, name: str) -> str:
        """All that was delivered to `name`, one message a line."""
        return "\n".join(m.text for m in self.messages(name))

    def labels(self, name: str) -> list[str]:
        """The labels of every button delivered to `name`, numbered as a channel would."""
        return [b.label for m in self.messages(name) for b in m.all_buttons()]


def dispatcher(
    app: Werkbank,
    inbox: Inbox,
    clock: list[datetime],
    worker: str | None = None,
    batch: int = BATCH,
) -> Dispatcher:
    """The scheduler of `app`, delivering console notices to `inbox` at `clock[0]`."""
    return Dispatcher(
        app.notices,
        app.runner.notice,
        {"console": inbox},
        clock=lambda: clock[0],
        worker=worker,
        batch=batch,
        announcements=app.announcements,
        report=app.runner.report,
    )
