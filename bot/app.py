"""Composition: settings → database → services → runner. Channels are built on top."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config import Settings
from bot.geo import default_gazetteer
from bot.handlers.runner import Runner
from bot.services.contracts import Services
from bot.services.conversations import Conversations
from bot.services.database import Database
from bot.services.events import EventQueries
from bot.services.members import Members
from bot.services.organising import Organising
from bot.services.places import PlaceSearch
from bot.services.registrations import Registrations


@dataclass
class Werkbank:
    settings: Settings
    db: Database
    members: Members
    places: PlaceSearch
    conversations: Conversations
    services: Services
    runner: Runner

    @classmethod
    async def open(
        cls, settings: Settings, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> Werkbank:
        db = await Database.open(settings.database_url)
        members = Members(db)
        places = PlaceSearch(db)
        services = Services(
            members=members,
            places=places,
            events=EventQueries(db),
            registrations=Registrations(db, settings.timezone),
            organiser=Organising(db, settings.timezone),
            gazetteer=default_gazetteer(),
        )
        conversations = Conversations(db, settings.default_locale, settings.default_radius_km)
        runner = Runner(conversations, services, settings.timezone, clock)
        return cls(settings, db, members, places, conversations, services, runner)

    async def close(self) -> None:
        await self.db.close()
