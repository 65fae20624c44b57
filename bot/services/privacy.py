"""Members' rights over their data: consent, export ("Meine Daten"), erasure ("Alles
löschen"), retention, and the audit trail of all of these.

Erasure keeps what others rely on and nothing that points to the person:
- future seats are given up (the waitlist moves up) and an organiser's future events are
  handed to the operator or cancelled with the usual notice;
- past sign-ups and check-in answers stay as counts: each past event's rows move to a
  new empty member of their own (a tombstone per event, so nothing links them), with
  every free text blanked; "Wirkung" thus counts what it counted before;
- topics they proposed stay where others support them, without author and with the
  place coarsened to about 10 km; those nobody else supports go;
- the member row goes, and with it (ON DELETE CASCADE) accounts, dialog state, notices,
  supports and whatever else was theirs alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.codes import (
    CHECKIN_KINDS,
    MUTED_ORGANISERS,
    RETENTION_WARNED,
    EventStatus,
    NoticeKind,
    RegistrationStatus,
    Role,
    WorkStatus,
)
from bot.services.contracts import Erasure, ErasurePlan
from bot.services.database import Database
from bot.services.members import UnknownAccount, audit, parse_account
from bot.storage.models import (
    AuditLog,
    Broadcast,
    ChannelAccount,
    DialogState,
    Event,
    Followup,
    Member,
    Notice,
    Place,
    Registration,
    Topic,
    TopicInterest,
    lat_band,
)

log = logging.getLogger(__name__)

EXPORT_FORMAT = "werkbank-export-1"
# Topics of an erased author keep a place this coarse (degrees; about 10 km).
COARSE_DEGREES = 0.1
FREE_TEXT_GONE = ""  # a blanked answer: still counted as "wrote a line", never shown

Actor = Literal["self", "operator", "retention"]
ACTIVE_SEATS = (
    RegistrationStatus.REGISTERED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.HELD,
)


@dataclass(frozen=True)
class RetentionRun:
    warned: tuple[int, ...]  # members told their data will go
    erased: int
    answers_blanked: int


class SeatReleaser(Protocol):
    """The part of Registrations erasure needs: give up one sign-up as the member would."""

    async def cancel(self, member_id: int, registration_id: int, now: datetime) -> Any: ...


class EventCanceller(Protocol):
    """The part of Organising erasure needs: cancel an event with the usual notice."""

    async def cancel(self, member_id: int, event_id: int, reason: str, now: datetime) -> int: ...


class Privacy:
    def __init__(
        self,
        db: Database,
        registrations: SeatReleaser,
        organiser: EventCanceller,
        events_go_to: str = "operator",
    ) -> None:
        self.db = db
        self.registrations = registrations
        self.organiser = organiser
        self.events_go_to = events_go_to

    # -- export ----------------------------------------------------------------
    async def export(self, member_id: int, now: datetime, actor: Actor = "self") -> dict[str, Any]:
        """Everything stored about the member, as plain JSON values; the export itself
        is written to the audit log (that it happened, never what it held)."""
        async with self.db.transaction() as session:
            member = await session.get(Member, member_id)
            if member is None:
                raise UnknownAccount(f"member {member_id}")
            data = await _gather(session, member, now)
            session.add(audit("export", member_id if actor == "self" else None, {"by": actor}))
        return data

    async def export_account(self, account: str, now: datetime) -> dict[str, Any]:
        """`werkbank admin export telegram:123`: for a request that came by mail."""
        return await self.export(await self._member_of(account), now, actor="operator")

    # -- erasure ---------------------------------------------------------------
    async def plan(self, member_id: int, now: datetime) -> ErasurePlan:
        async with self.db.sessions() as session:
            seats = await session.scalar(
                select(func.count()).select_from(_coming_seats(member_id, now).subquery())
            )
            events = await session.scalar(
                select(func.count(Event.id)).where(_future_events_of(member_id, now))
            )
        return ErasurePlan(int(seats or 0), int(events or 0), self.events_go_to)

    async def erase(self, member_id: int, now: datetime, actor: Actor = "self") -> Erasure:
        """Delete the member as described at the top of this module, in one transaction
        (inside a dialog step, the step's): it all happens, or none of it."""
        async with self.db.step():
            return await self._erase(member_id, now, actor)

    async def _erase(self, member_id: int, now: datetime, actor: Actor) -> Erasure:
        async with self.db.transaction() as session:
            # Locked first: a second "Alles löschen" (another channel, another worker)
            # waits here, then finds nothing and says so.
            member = await session.get(Member, member_id, with_for_update=True)
            if member is None or member.deleted_at is not None:
                return Erasure(found=False)
            may_organise = Role(member.role).may_organise
            accounts = [
                f"{channel}:{external_id}"
                for channel, external_id in (
                    await session.execute(
                        select(ChannelAccount.channel, ChannelAccount.external_id).where(
                            ChannelAccount.member_id == member_id
                        )
                    )
                ).all()
            ]
        seats = await self._give_up_seats(member_id, now)
        events = await self._hand_over_events(member_id, now, may_organise)
        async with self.db.transaction() as session:
            await _anonymise_past(session, member_id, now)
            await _release_topics(session, member_id)
            await _scrub_audit(session, member_id, accounts)
            await _scrub_what_others_hold(session, member_id)
            await session.execute(
                update(Broadcast)
                .where(Broadcast.organiser_id == member_id)
                .values(report_channel=None, report_account=None, report_message=None)
            )
            await session.execute(delete(Member).where(Member.id == member_id))
            session.add(audit("erase", None, {"by": actor, "accounts": len(accounts)}))
        return Erasure(True, seats, events, self.events_go_to)

    async def erase_account(self, account: str, now: datetime) -> Erasure:
        """`werkbank admin delete telegram:123`."""
        return await self.erase(await self._member_of(account), now, actor="operator")

    async def _give_up_seats(self, member_id: int, now: datetime) -> int:
        async with self.db.sessions() as session:
            ids = (await session.scalars(_coming_seats(member_id, now))).all()
        for registration_id in ids:
            await self.registrations.cancel(member_id, registration_id, now)
        return len(ids)

    async def _hand_over_events(self, member_id: int, now: datetime, may_organise: bool) -> int:
        async with self.db.sessions() as session:
            ids = (
                await session.scalars(select(Event.id).where(_future_events_of(member_id, now)))
            ).all()
        if self.events_go_to == "cancelled" and may_organise:
            # (Someone whose role was taken away cannot cancel: their events go to the
            # operator, who can.)
            for event_id in ids:
                await self.organiser.cancel(member_id, event_id, "", now)
        async with self.db.transaction() as session:
            # Past events too: "Wirkung" stays the operator's to see; no event keeps the id.
            await session.execute(
                update(Event).where(Event.organiser_id == member_id).values(organiser_id=None)
            )
        return len(ids)

    async def _member_of(self, account: str) -> int:
        channel, external_id = parse_account(account)
        async with self.db.sessions() as session:
            member_id = await session.scalar(
                select(ChannelAccount.member_id).where(
                    ChannelAccount.channel == channel, ChannelAccount.external_id == external_id
                )
            )
        if member_id is None:
            raise UnknownAccount(f"no member has written from {account}")
        return int(member_id)

    # -- retention -------------------------------------------------------------
    async def retention(
        self,
        now: datetime,
        inactive: timedelta,
        grace: timedelta,
        answers_kept: timedelta,
    ) -> RetentionRun:
        """Members silent for `inactive` are told once (a RETENTION_WARNING notice, which
        the dispatcher sends); silent `grace` longer, they are erased. Free-text
        answers older than `answers_kept` are blanked, their counts kept."""
        last_seen = (
            select(func.max(DialogState.updated_at))
            .join(ChannelAccount, ChannelAccount.id == DialogState.account_id)
            .where(ChannelAccount.member_id == Member.id)
            .scalar_subquery()
        )
        seen = func.coalesce(last_seen, Member.created_at)
        async with self.db.sessions() as session:
            rows = (
                await session.execute(
                    select(Member.id, Member.consents, seen)
                    .where(Member.deleted_at.is_(None), seen < now - inactive)
                    # Organisers and admins are the operator's to remove, not the clock's:
                    # their coming events and roles would go with them.
                    .where(Member.role == Role.MEMBER)
                    .where(exists().where(ChannelAccount.member_id == Member.id))
                )
            ).all()
        warned: list[int] = []
        erased = 0
        for member_id, consents, seen_at in rows:
            try:
                told = (consents or {}).get(RETENTION_WARNED)
                told_at = datetime.fromisoformat(told) if isinstance(told, str) else None
                if told_at is not None and told_at > seen_at:
                    if now - told_at >= grace:
                        erased += (await self.erase(member_id, now, actor="retention")).found
                    continue
                if await self._warn(member_id, now, grace):
                    warned.append(member_id)
            except Exception:
                # One member's trouble must not stop the others, nor the blanking below.
                log.exception("retention: member %s could not be handled", member_id)
        blanked = await self._blank_old_answers(now - answers_kept)
        return RetentionRun(tuple(warned), erased, blanked)

    async def _warn(self, member_id: int, now: datetime, grace: timedelta) -> bool:
        """Tell the member once that their data goes in `grace`; False if another worker
        told them today already (the notice's dedupe key)."""
        try:
            async with self.db.transaction() as session:
                member = await session.get(Member, member_id, with_for_update=True)
                if member is None:
                    return False
                member.consents = {**(member.consents or {}), RETENTION_WARNED: now.isoformat()}
                session.add(
                    Notice(
                        member_id=member_id,
                        kind=NoticeKind.RETENTION_WARNING,
                        params={"days": grace.days},
                        due_at=now,
                        dedupe=f"retention-{member_id}-{now.date().isoformat()}",
                    )
                )
                session.add(audit("retention.warned", None, {}))
        except IntegrityError:
            return False
        return True

    async def _blank_old_answers(self, before: datetime) -> int:
        """Check-in lines and calls for help, and sign-up wishes of events, older than
        `before`: blanked ('' is still counted as a line written, and never shown)."""
        written = or_(
            and_(Followup.takeaway.is_not(None), Followup.takeaway != FREE_TEXT_GONE),
            and_(Followup.help.is_not(None), Followup.help != FREE_TEXT_GONE),
        )
        old_events = select(Event.id).where(Event.start_at < before)
        async with self.db.transaction() as session:
            answers = await session.execute(
                update(Followup)
                .where(Followup.due_at < before, written)
                .values(takeaway=_blanked(Followup.takeaway), help=_blanked(Followup.help))
                .execution_options(synchronize_session=False)
            )
            await session.execute(
                update(TopicInterest)
                .where(TopicInterest.created_at < before, TopicInterest.expectation.is_not(None))
                .values(expectation=None)
                .execution_options(synchronize_session=False)
            )
            wishes = await session.execute(
                update(Registration)
                .where(Registration.event_id.in_(old_events), Registration.expectation.is_not(None))
                .values(expectation=None)
                .execution_options(synchronize_session=False)
            )
            return int(answers.rowcount or 0) + int(wishes.rowcount or 0)  # type: ignore[attr-defined]

    # -- audit -----------------------------------------------------------------
    async def audit_trail(self, since: datetime | None = None) -> Sequence[AuditLog]:
        async with self.db.sessions() as session:
            query = select(AuditLog).order_by(AuditLog.at, AuditLog.id)
            if since is not None:
                query = query.where(AuditLog.at >= since)
            return (await session.scalars(query)).all()


def _coming_seats(member_id: int, now: datetime) -> Select[int]:
    """The member's sign-ups and waitlist places for events still to come."""
    return (
        select(Registration.id)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.member_id == member_id,
            Registration.status.in_(ACTIVE_SEATS),
            Event.start_at > now,
        )
    )


def _future_events_of(member_id: int, now: datetime) -> Any:
    return and_(
        Event.organiser_id == member_id,
        Event.start_at > now,
        Event.status != EventStatus.CANCELLED,
    )


async def _anonymise_past(session: AsyncSession, member_id: int, now: datetime) -> None:
    """Each past event's sign-up and answers move to a new empty member of their own.

    Per set, not per event: the stand-ins come from one INSERT, and each table's rows
    move with one executemany, so a member of many years costs a handful of round
    trips (250 past events took 0.6 s on SQLite and 1.1 s on PostgreSQL one by one)."""
    past = [
        event_id
        for event_id in (
            await session.scalars(
                select(Registration.event_id)
                .join(Event, Event.id == Registration.event_id)
                .where(Registration.member_id == member_id, Event.start_at <= now)
                .union(
                    select(Followup.event_id).where(
                        Followup.member_id == member_id, Followup.event_id.is_not(None)
                    )
                )
            )
        ).all()
        if event_id is not None
    ]
    if not past:
        return
    # Each stand-in's times are its event's, as is its sign-up's: nothing dates them to
    # the erasure, so they cannot be told apart from other members' stand-ins by time.
    starts = dict(
        (await session.execute(select(Event.id, Event.start_at).where(Event.id.in_(past)))).all()
    )
    stand_ins = (
        await session.scalars(
            insert(Member).returning(Member.id, sort_by_parameter_order=True),
            [
                {
                    "display_name": "",
                    "consents": {},
                    "onboarded": False,
                    "created_at": starts.get(event_id, now),
                    "deleted_at": starts.get(event_id, now),
                }
                for event_id in past
            ],
        )
    ).all()
    moves = [
        {"me": member_id, "event": event_id, "stand_in": stand_in, "started": starts[event_id]}
        for event_id, stand_in in zip(past, stand_ins, strict=True)
    ]
    conn = await session.connection()  # Core executemany: one call per table
    await conn.execute(_MOVE_REGISTRATION, moves)
    await conn.execute(_MOVE_CHECKINS_SENT, moves)
    await conn.execute(_MOVE_ANSWERS, moves)


_MOVE_REGISTRATION = (
    update(Registration)
    .where(
        Registration.member_id == bindparam("me"),
        Registration.event_id == bindparam("event"),
    )
    .values(
        member_id=bindparam("stand_in"),
        expectation=None,
        held_until=None,
        created_at=bindparam("started"),
        updated_at=bindparam("started"),
    )
)
# The check-ins it was sent: "Wirkung" counts them as invitations to answer.
_MOVE_CHECKINS_SENT = (
    update(Notice)
    .where(
        Notice.member_id == bindparam("me"),
        Notice.event_id == bindparam("event"),
        # Not IN (…): an expanding list cannot go into an executemany.
        or_(*(Notice.kind == kind for kind in CHECKIN_KINDS)),
        Notice.status == WorkStatus.DONE,
    )
    .values(member_id=bindparam("stand_in"), registration_id=None, params={})
)


def _blanked(column: Any) -> Any:
    """NULL stays NULL (no line written), any text becomes '' (a line was written)."""
    return case((column.is_(None), None), else_=FREE_TEXT_GONE)


_MOVE_ANSWERS = (
    update(Followup)
    .where(
        Followup.member_id == bindparam("me"),
        Followup.event_id == bindparam("event"),
    )
    .values(
        member_id=bindparam("stand_in"),
        claimed_by=None,
        takeaway=_blanked(Followup.takeaway),
        help=_blanked(Followup.help),
    )
)


async def _release_topics(session: AsyncSession, member_id: int) -> None:
    others = exists().where(
        TopicInterest.topic_id == Topic.id, TopicInterest.member_id != member_id
    )
    await session.execute(
        delete(Topic)
        .where(Topic.proposer_id == member_id, ~others)
        .execution_options(synchronize_session=False)
    )
    kept = (
        await session.execute(
            select(Topic.id, Topic.lat, Topic.lon).where(Topic.proposer_id == member_id)
        )
    ).all()
    for topic_id, lat, lon in kept:
        coarse_lat = None if lat is None else round(lat / COARSE_DEGREES) * COARSE_DEGREES
        coarse_lon = None if lon is None else round(lon / COARSE_DEGREES) * COARSE_DEGREES
        await session.execute(
            update(Topic)
            .where(Topic.id == topic_id)
            .values(
                proposer_id=None,
                description=None,  # the author's own words; the title says what it is
                lat=coarse_lat,
                lon=coarse_lon,
                lat_band=None if coarse_lat is None else lat_band(coarse_lat),
            )
        )


async def _scrub_what_others_hold(session: AsyncSession, member_id: int) -> None:
    """Rows of other people that name the member: their "help" and "contact" requests
    to organisers (with the line they wrote), organisers' mute lists, places they added,
    and their announcement drafts."""
    requests = f"checkin_request:%:{member_id}:%"
    await session.execute(
        delete(Notice)
        .where(Notice.kind == NoticeKind.CHECKIN_REQUEST, Notice.dedupe.like(requests))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Place)
        .where(Place.source == f"organiser {member_id}")
        .values(source="organiser")
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(Broadcast)
        .where(Broadcast.organiser_id == member_id, Broadcast.status == "draft")
        .execution_options(synchronize_session=False)
    )
    # Who muted them: a JSON list, read in Python (rare, and dialect-neutral).
    muting = (
        await session.execute(
            select(Member.id, Member.consents).where(Member.consents.is_not(None))
        )
    ).all()
    for other, consents in muting:
        muted = (consents or {}).get(MUTED_ORGANISERS)
        if isinstance(muted, list) and member_id in muted:
            kept = [m for m in muted if m != member_id]
            await session.execute(
                update(Member)
                .where(Member.id == other)
                .values(consents={**consents, MUTED_ORGANISERS: kept})
            )


async def _scrub_audit(session: AsyncSession, member_id: int, accounts: list[str]) -> None:
    """Older entries keep what happened, not to whom: the accounts they name go."""
    if accounts:
        await session.execute(
            update(AuditLog).where(AuditLog.subject.in_(accounts)).values(subject=None)
        )
    await session.execute(
        update(AuditLog)
        .where(AuditLog.subject == f"member:{member_id}")
        .values(subject=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(AuditLog).where(AuditLog.actor_member_id == member_id).values(actor_member_id=None)
    )
    # Others' "no more announcements from …" entries name the organiser in their detail.
    naming = (
        await session.execute(
            select(AuditLog.id, AuditLog.detail).where(AuditLog.action == "consent.announcements")
        )
    ).all()
    for entry, detail in naming:
        if (detail or {}).get("organiser") == member_id:
            await session.execute(
                update(AuditLog)
                .where(AuditLog.id == entry)
                .values(detail={**detail, "organiser": None})
            )


async def _gather(session: AsyncSession, member: Member, now: datetime) -> dict[str, Any]:
    """The export's content: one query per kind of data, however long the history."""
    member_id = member.id
    accounts = (
        await session.scalars(select(ChannelAccount).where(ChannelAccount.member_id == member_id))
    ).all()
    registrations = (
        await session.execute(
            select(Registration, Event.title, Event.start_at, Place.name, Place.town)
            .join(Event, Event.id == Registration.event_id)
            .outerjoin(Place, Place.id == Event.place_id)
            .where(Registration.member_id == member_id)
            .order_by(Event.start_at)
        )
    ).all()
    proposed = (
        await session.scalars(
            select(Topic).where(Topic.proposer_id == member_id).order_by(Topic.id)
        )
    ).all()
    supports = (
        await session.execute(
            select(TopicInterest, Topic.title)
            .join(Topic, Topic.id == TopicInterest.topic_id)
            .where(TopicInterest.member_id == member_id)
            .order_by(TopicInterest.created_at)
        )
    ).all()
    answers = (
        await session.execute(
            select(Followup, Event.title)
            .outerjoin(Event, Event.id == Followup.event_id)
            .where(Followup.member_id == member_id)
            .order_by(Followup.due_at)
        )
    ).all()
    received = (
        await session.execute(
            select(Notice.done_at, Notice.status, Broadcast.text, Broadcast.confirmed_at)
            .join(Broadcast, Broadcast.id == Notice.broadcast_id)
            .where(Notice.member_id == member_id, Notice.kind == NoticeKind.ANNOUNCEMENT)
            .order_by(Notice.id)
        )
    ).all()
    organised = (
        await session.execute(
            select(Event.id, Event.title, Event.start_at, Event.status)
            .where(Event.organiser_id == member_id)
            .order_by(Event.start_at)
        )
    ).all()
    trail = (
        await session.scalars(
            select(AuditLog).where(AuditLog.actor_member_id == member_id).order_by(AuditLog.at)
        )
    ).all()
    sent = (
        await session.execute(
            select(Broadcast.text, Broadcast.status, Broadcast.created_at, Broadcast.total)
            .where(Broadcast.organiser_id == member_id)
            .order_by(Broadcast.id)
        )
    ).all()
    places = (
        await session.execute(
            select(Place.name, Place.town).where(Place.source == f"organiser {member_id}")
        )
    ).all()
    home = None
    if member.home_lat is not None and member.home_lon is not None:
        home = {"lat": member.home_lat, "lon": member.home_lon, "label": member.home_label}
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(now),
        "member": {
            "display_name": member.display_name,
            "language": member.locale,
            "home": home,
            "radius_km": member.radius_km,
            "interest": member.field,
            "trade": member.trade,
            "skills": member.skills,
            "resources": member.resources,
            "role": str(member.role),
            "onboarded": member.onboarded,
            "reminder_day_before": member.remind_day_before,
            "reminder_two_hours": member.remind_two_hours,
            "created_at": _iso(member.created_at),
        },
        "consents": _plain(member.consents or {}),
        "accounts": [
            {
                "channel": str(a.channel),
                "id": a.external_id,
                "chat": a.chat_id,
                "blocked": a.blocked,
                "created_at": _iso(a.created_at),
            }
            for a in accounts
        ],
        "registrations": [
            {
                "event": title,
                "starts_at": _iso(starts),
                "place": ", ".join(p for p in (place, town) if p) or None,
                "status": str(reg.status),
                "expectation": reg.expectation,
                "signed_up_at": _iso(reg.created_at),
            }
            for reg, title, starts, place, town in registrations
        ],
        "topics_proposed": [
            {
                "title": t.title,
                "description": t.description,
                "status": t.status,
                "created_at": _iso(t.created_at),
            }
            for t in proposed
        ],
        "topic_supports": [
            {"topic": title, "expectation": i.expectation, "since": _iso(i.created_at)}
            for i, title in supports
        ],
        "checkin_answers": [
            {"event": title, "checkin": f.kind, "due_at": _iso(f.due_at), **f.answers()}
            for f, title in answers
        ],
        "announcements_received": [
            {"text": text, "sent_at": _iso(done_at or confirmed), "status": str(status)}
            for done_at, status, text, confirmed in received
        ],
        "events_organised": [
            {"title": title, "starts_at": _iso(starts), "status": str(status)}
            for _id, title, starts, status in organised
        ],
        "announcements_sent": [
            {"text": text, "status": status, "written_at": _iso(written), "recipients": total}
            for text, status, written, total in sent
        ],
        "places_added": [{"name": name, "town": town} for name, town in places],
        "consent_changes": [
            {"at": _iso(entry.at), "action": entry.action, "detail": _plain(entry.detail)}
            for entry in trail
        ],
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _plain(value: Any) -> Any:
    """JSON values only (a consent may hold a list of organiser ids)."""
    return json.loads(json.dumps(value, default=str))


def export_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
