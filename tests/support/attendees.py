"""Members who signed up for a workshop through the chat, as check-in tests need them."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import Werkbank
from tests.support.chat import ChatUser

# START (tests/support/clock.py) is Thursday 26 Nov, 17–20 Uhr: the first check-in is
# due on Friday morning.
FRIDAY_MORNING = datetime(2026, 11, 27, 9, 5, tzinfo=UTC)


async def signed_up(app: Werkbank, name: str, event_id: int, expectation: str = "") -> ChatUser:
    """`name` onboarded in Bendorf and signed up by the event's deep link, with
    `expectation` where the format asks for one."""
    user = ChatUser(app.runner, name)
    await user.onboard("Bendorf")
    await user.send(f"/start ev_{event_id}")
    await user.tap("Anmelden")
    if expectation:
        await user.send(expectation)
    elif "Überspringen" in user.labels:
        await user.tap("Überspringen")
    return user
