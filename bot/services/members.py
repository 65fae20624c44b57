"""Members and their channel accounts: profile changes and roles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.codes import (
    CHECKINS,
    INVITATIONS,
    NAME_TO_ORGANISER,
    NEWS,
    NO_ANNOUNCEMENTS,
    PRIVACY,
    PRIVACY_VERSION,
    Channel,
    Field,
    Role,
    known_code,
)
from bot.geo import GeoPoint
from bot.services import ServiceError
from bot.services.contracts import MemberView
from bot.services.database import Database
from bot.storage.models import AuditLog, ChannelAccount, Member


class UnknownAccount(ServiceError):
    """No member has ever written from this account."""


def member_view(member: Any) -> MemberView:
    """A Member, or a row holding its columns, as the value dialogs see."""
    home = None
    if member.home_lat is not None and member.home_lon is not None:
        home = GeoPoint(member.home_lat, member.home_lon)
    return MemberView(
        id=member.id,
        locale=member.locale,
        display_name=member.display_name,
        home=home,
        home_label=member.home_label,
        radius_km=member.radius_km,
        field=known_code(Field, member.field),
        role=Role(member.role),
        onboarded=member.onboarded,
        remind_day_before=member.remind_day_before,
        remind_two_hours=member.remind_two_hours,
        invitations=(member.consents or {}).get(INVITATIONS),
        checkins=(member.consents or {}).get(CHECKINS) is not False,
        name_to_organiser=(member.consents or {}).get(NAME_TO_ORGANISER),
        news=(member.consents or {}).get(NEWS) is True,
        announcements=(member.consents or {}).get(NO_ANNOUNCEMENTS) is not True,
        privacy_version=_privacy_version(member.consents),
    )


def _privacy_version(consents: dict[str, Any] | None) -> int | None:
    agreed = (consents or {}).get(PRIVACY)
    version = agreed.get("version") if isinstance(agreed, dict) else None
    return version if isinstance(version, int) else None


def audit(
    action: str, actor: int | None, detail: dict[str, Any], subject: str | None = None
) -> AuditLog:
    """An audit entry: who, what, when; never the content (no text, no place)."""
    return AuditLog(actor_member_id=actor, action=action, subject=subject, detail=detail)


def parse_account(text: str) -> tuple[Channel, str]:
    """'telegram:123', 'matrix:@ann:example.org', 'console:ann' -> (channel, external id)."""
    channel, sep, external_id = text.partition(":")
    try:
        kind = Channel(channel)
    except ValueError:
        kind = None
    if not sep or not external_id or kind is None:
        raise ServiceError(
            f"{text!r} is not an account; "
            "write telegram:<id>, matrix:@user:server or console:<name>"
        )
    return kind, external_id


class Members:
    """The MemberService used by dialogs, plus the admin commands."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _update(self, member_id: int, **values: object) -> None:
        async with self.db.transaction() as session:
            await session.execute(update(Member).where(Member.id == member_id).values(**values))

    async def set_locale(self, member_id: int, locale: str) -> None:
        await self._update(member_id, locale=locale)

    async def set_home(self, member_id: int, point: GeoPoint, label: str) -> None:
        await self._update(
            member_id, home_lat=point.lat, home_lon=point.lon, home_label=label[:200]
        )

    async def set_radius(self, member_id: int, radius_km: int) -> None:
        await self._update(member_id, radius_km=max(1, min(500, radius_km)))

    async def set_field(self, member_id: int, field: Field | str) -> None:
        code = known_code(Field, field)
        if code is None:
            raise ServiceError(f"unknown field {field!r}")
        await self._update(member_id, field=code)

    async def finish_onboarding(self, member_id: int) -> None:
        await self._update(member_id, onboarded=True)

    async def set_reminders(
        self, member_id: int, day_before: bool | None = None, two_hours: bool | None = None
    ) -> None:
        """Switch the day-before or two-hours reminder on or off (None: leave it)."""
        values = {
            key: value
            for key, value in (("remind_day_before", day_before), ("remind_two_hours", two_hours))
            if value is not None
        }
        if values:
            await self._update(member_id, **values)

    async def set_consent(self, member_id: int, key: str, value: bool) -> None:
        """Record a yes or no to one of the consents (`bot.codes`: INVITATIONS …)."""
        async with self.db.transaction() as session:
            # Locked: two consents changed at once must not lose one (JSON is one value).
            member = await session.get(Member, member_id, with_for_update=True)
            if member is None:
                raise UnknownAccount(f"member {member_id}")
            member.consents = {**(member.consents or {}), key: value}
            # Who changed which consent when, never anything else (the audit trail).
            session.add(audit("consent", member_id, {"key": key, "value": value}))

    async def agree_to_privacy(self, member_id: int, now: datetime, display_name: str = "") -> None:
        """Record the yes to the privacy text (its version and when), and only now keep
        the channel's display name, which nothing before the yes stores."""
        async with self.db.transaction() as session:
            member = await session.get(Member, member_id, with_for_update=True)
            if member is None:
                raise UnknownAccount(f"member {member_id}")
            agreed = {"version": PRIVACY_VERSION, "at": now.isoformat()}
            member.consents = {**(member.consents or {}), PRIVACY: agreed}
            if display_name and not member.display_name:
                member.display_name = display_name[:200]
            session.add(audit("consent", member_id, {"key": PRIVACY, "value": PRIVACY_VERSION}))

    async def set_role(self, account: str, role: Role, actor: str = "cli") -> MemberView:
        """Grant or revoke a role by account (`werkbank admin grant organiser telegram:123`)."""
        async with self.db.transaction() as session:
            member = await member_by_account(session, account)
            member.role = role
            session.add(audit("role.set", None, {"role": role.value, "by": actor}, account))
            await session.flush()
            return member_view(member)


async def member_by_account(session: AsyncSession, account: str) -> Member:
    """The member behind 'telegram:123' (the operator's commands name people so);
    `UnknownAccount` when nobody has written from it yet."""
    channel, external_id = parse_account(account)
    member = await session.scalar(
        select(Member)
        .join(ChannelAccount, ChannelAccount.member_id == Member.id)
        .where(ChannelAccount.channel == channel, ChannelAccount.external_id == external_id)
    )
    if member is None:
        raise UnknownAccount(f"no member has written from {account} yet")
    return member
