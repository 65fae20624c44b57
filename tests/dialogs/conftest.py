"""Fast dialog tests: the real Runner and dialogs over in-memory fake services.

No database, no channel: each test drives a `ChatUser` through the runner and reads
what the member would see. The end-to-end tests one level up cover the same flows on
SQLite, PostgreSQL, the Bot API server and Synapse.
"""

from __future__ import annotations

import pytest

from tests.support.chat import ChatUser
from tests.support.fakes import FakeWorld, fake_world


@pytest.fixture
def world() -> FakeWorld:
    """A fresh world at NOW (Tuesday 24 Nov 2026, 15 Uhr) with places around Bendorf."""
    return fake_world()


@pytest.fixture
def anna(world: FakeWorld) -> ChatUser:
    """A newcomer who has not written yet."""
    return world.user("anna")
