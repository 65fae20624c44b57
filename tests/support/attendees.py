"""Members who signed up for a workshop through the chat, as check-in tests need them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from bot.app import Werkbank
from bot.codes import EventFormat, Role
from bot.storage.models import Event
from tests.support.chat import ChatUser
from tests.support.factories import add_event

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


async def organiser(app: Werkbank, name: str = "olga") -> tuple[ChatUser, int]:
    """`name` onboarded in Bendorf with the organiser role; the chat and the member id."""
    user = ChatUser(app.runner, name)
    await user.onboard("Bendorf")
    await app.members.set_role(f"console:{name}", Role.ORGANISER)
    return user, (await app.runner.conversations.open(user.account)).member.id


async def organised_by(
    app: Werkbank, organiser_id: int, title: str, fmt: EventFormat = EventFormat.TRANSFER
) -> int:
    """A published event of `organiser_id` (START, ten seats); its id."""
    event_id = await add_event(app, title, capacity=10, fmt=fmt, uid=title)
    async with app.db.transaction() as session:
        await session.execute(
            update(Event).where(Event.id == event_id).values(organiser_id=organiser_id)
        )
    return event_id
