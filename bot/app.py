"""Composition: settings → database → services → runner. Channels are built on top."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.codes import EventFormat
from bot.config import Settings
from bot.geo import LazyGazetteer
from bot.handlers.runner import Runner
from bot.messages import AccountRef, Deliverer
from bot.scheduling.dispatcher import Dispatcher
from bot.services.announcements import Announcements
from bot.services.checkin_times import CheckinTimes
from bot.services.checkins import Checkins
from bot.services.contracts import Services
from bot.services.conversations import Conversations
from bot.services.database import Database
from bot.services.events import EventQueries
from bot.services.members import Members
from bot.services.notices import Notices
from bot.services.organising import Organising
from bot.services.places import PlaceSearch
from bot.services.privacy import Privacy
from bot.services.registrations import Registrations
from bot.services.topics import Topics


@dataclass
class Werkbank:
    settings: Settings
    db: Database
    members: Members
    places: PlaceSearch
    conversations: Conversations
    services: Services
    runner: Runner
    registrations: Registrations
    notices: Notices
    announcements: Announcements
    privacy: Privacy
    clock: Callable[[], datetime]

    @classmethod
    async def open(
        cls, settings: Settings, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> Werkbank:
        db = await Database.open(settings.database_url)
        members = Members(db)
        places = PlaceSearch(db)
        times = checkin_times(settings)
        registrations = Registrations(db, settings.timezone, times)
        announcements = Announcements(
            db, times, settings.announcements_per_week, settings.news_region_km
        )
        organiser = Organising(
            db, settings.timezone, timedelta(hours=settings.topic_hold_hours), times
        )
        privacy = Privacy(db, registrations, organiser, settings.erased_events)
        services = Services(
            members=members,
            places=places,
            events=EventQueries(db),
            registrations=registrations,
            organiser=organiser,
            topics=Topics(db, settings.topic_demand_people, settings.topic_demand_km),
            checkins=Checkins(db),
            gazetteer=LazyGazetteer(),
            announcements=announcements,
            privacy=privacy,
        )
        conversations = Conversations(
            db, settings.default_locale, settings.default_radius_km, clock
        )
        runner = Runner(
            conversations, services, settings.timezone, clock, privacy_url=settings.privacy_url
        )
        return cls(
            settings,
            db,
            members,
            places,
            conversations,
            services,
            runner,
            registrations,
            Notices(db, times, timedelta(seconds=settings.claim_lease_seconds)),
            announcements,
            privacy,
            clock,
        )

    def dispatcher(
        self,
        channels: Mapping[str, Deliverer],
        only: Mapping[str, Sequence[str]] | None = None,
    ) -> Dispatcher:
        """The notice dispatcher for the channels running in this process."""
        return Dispatcher(
            self.notices,
            self.runner.notice,
            channels,
            self.clock,
            only,
            announcements=self.announcements,
            report=self.runner.report,
        )

    async def account_deleted(self, account: AccountRef) -> None:
        """The member's account is gone for good (e.g. a deleted Telegram account): it
        receives nothing more, and its seats go to the waitlist (blocking keeps them)."""
        await self.conversations.mark_blocked(account.channel, account.external_id)
        conv = await self.conversations.open(account)
        await self.registrations.forget_member(conv.member.id, self.clock())

    async def close(self) -> None:
        await self.db.close()


def checkin_times(settings: Settings) -> CheckinTimes:
    """When check-ins come, from the settings (bot/services/checkin_times.py)."""
    weeks = {EventFormat(name): count for name, count in settings.checkin_weeks.items()}
    return CheckinTimes(ZoneInfo(settings.timezone), settings.checkin_hour, weeks)
