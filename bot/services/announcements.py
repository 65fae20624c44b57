"""Organisers' announcements: the audience, the preview, the outbox rows, the progress.

An announcement is a `broadcast` row. While the organiser writes it, it is a draft
the preview shows; "Senden" fixes its list of recipients as `notice` rows of kind
`announcement` (one per member: a unique index), and the dispatcher sends them at
the channels' pace like every other notice. Pausing holds the rows still to send
(`WorkStatus.HELD`, outside the claim's index), cancelling skips them. A row claimed
when the organiser pauses or cancels is still sent (at most one batch).

Rules (checked before anything is written, so a refusal changes nothing):
- only organisers (and admins) announce, to their own events and places, or to an
  open topic's people;
- news (`Audience.is_news`: near one of my places, or the whole region) go only to
  members who said yes to "Neuigkeiten aus deiner Nähe", at most `per_week` a week
  per organiser (unless an operator lifted the caps), and at most one a day per
  member: more wait for the next morning;
- nobody gets announcements after "Keine Ankündigungen mehr" (from that organiser,
  or at all); that is checked again at send time;
- nothing goes out in the quiet hours (21:00 to 8:00 local time): it waits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession

from bot.codes import (
    MUTED_ORGANISERS,
    NO_ANNOUNCEMENTS,
    AnnouncementStatus,
    EventStatus,
    NoticeKind,
    Role,
    TopicStatus,
    WorkStatus,
)
from bot.services.audiences import button_target, check_audience, members_reached
from bot.services.checkin_times import CheckinTimes
from bot.services.contracts import (
    EMPTY_TEXT,
    GONE,
    MAX_ANNOUNCEMENT,
    NOBODY,
    NOT_DRAFT,
    STALE_PREVIEW,
    TOO_LONG,
    WEEK_CAP,
    AnnouncementDraft,
    AnnouncementRefused,
    AudienceChoice,
    Choice,
    Preview,
    Progress,
    visible,
)
from bot.services.database import Database
from bot.services.members import UnknownAccount, member_by_account
from bot.services.organising import MAX_CHOICES, organiser
from bot.storage.models import (
    AuditLog,
    Broadcast,
    ChannelAccount,
    Event,
    Member,
    Notice,
    Place,
    Topic,
    TopicInterest,
)

# Rows written per INSERT when the list is fixed.
CHUNK = 2000
ANALYZE_FROM = 1000


@dataclass(frozen=True)
class Report:
    """A progress message due to an organiser: where, and which message to edit."""

    progress: Progress
    channel: str
    account: str
    chat_id: str | None  # where the account last wrote from (a Matrix room)
    message_id: str | None
    final: bool
    tenths: tuple[int, int] = (0, 0)  # the tenth claimed for it, and the one before


@dataclass(frozen=True)
class Listed:
    """One line of `werkbank announcements`."""

    progress: Progress
    organiser: str
    audience: str
    confirmed_at: datetime | None
    text: str


class Announcements:
    def __init__(
        self,
        db: Database,
        times: CheckinTimes | None = None,
        per_week: int = 2,
        region_km: int = 50,
    ) -> None:
        self.db = db
        self.times = times or CheckinTimes()
        self.per_week = per_week
        self.region_km = region_km

    # -- what an organiser picks from --------------------------------------------
    async def events(self, organiser_id: int, now: datetime) -> Sequence[Choice]:
        """The organiser's published events, the next first (and last week's, for a word
        to those who came)."""
        async with self.db.sessions() as session:
            member = await organiser(session, organiser_id)
            rows = await session.execute(
                select(Event.id, Event.title, Event.start_at)
                .where(
                    Event.organiser_id == member.id,
                    Event.status == EventStatus.PUBLISHED,
                    Event.start_at >= now - timedelta(days=7),
                )
                .order_by(Event.start_at, Event.id)
                .limit(MAX_CHOICES)
            )
            return [Choice(i, title, start) for i, title, start in rows.all()]

    async def places(self, organiser_id: int) -> Sequence[Choice]:
        """The places of the organiser's events."""
        async with self.db.sessions() as session:
            member = await organiser(session, organiser_id)
            rows = await session.execute(
                select(Place.id, Place.name)
                .join(Event, Event.place_id == Place.id)
                .where(Event.organiser_id == member.id)
                .group_by(Place.id, Place.name)
                .order_by(func.max(Event.start_at).desc(), Place.id)
                .limit(MAX_CHOICES)
            )
            return [Choice(i, name) for i, name in rows.all()]

    async def topics(self, organiser_id: int) -> Sequence[Choice]:
        """Open topics, those most people want first."""
        async with self.db.sessions() as session:
            await organiser(session, organiser_id)
            supporters = (
                select(func.count())
                .where(TopicInterest.topic_id == Topic.id)
                .correlate(Topic)
                .scalar_subquery()
            )
            rows = await session.execute(
                select(Topic.id, Topic.title, supporters)
                .where(Topic.status == TopicStatus.OPEN)
                .order_by(supporters.desc(), Topic.id)
                .limit(MAX_CHOICES)
            )
            return [Choice(i, title, people=int(n) + 1) for i, title, n in rows.all()]

    # -- writing and sending -------------------------------------------------------
    async def preview(
        self, organiser_id: int, draft: AnnouncementDraft, now: datetime, draft_id: int | None
    ) -> Preview:
        """Save the draft (into `draft_id` or the organiser's open draft, while it is one;
        else a new one) and count its audience. Refuses an empty or too long text and
        what is not theirs."""
        text = draft.text.strip()
        if not visible(text):
            raise AnnouncementRefused(EMPTY_TEXT)
        if len(text) > MAX_ANNOUNCEMENT:
            raise AnnouncementRefused(TOO_LONG)
        async with self.db.transaction() as session:
            member = await organiser(session, organiser_id)
            await check_audience(session, member, draft.audience)
            button, event_id, topic_id, button_title = await button_target(session, member, draft)
            # One draft per organiser: the preview shows the latest, and a preview seen
            # again (after "Zurück") does not leave another row behind.
            broadcast = await session.scalar(
                select(Broadcast)
                .where(
                    Broadcast.organiser_id == organiser_id,
                    Broadcast.status == AnnouncementStatus.DRAFT,
                    *((Broadcast.id == draft_id,) if draft_id is not None else ()),
                )
                .order_by(Broadcast.id.desc())
                .limit(1)
            )
            if broadcast is None:
                broadcast = Broadcast(organiser_id=organiser_id, created_at=now)
                session.add(broadcast)
            broadcast.text = text
            broadcast.revision = (broadcast.revision or 0) + 1
            broadcast.audience = draft.audience.as_dict()
            broadcast.news = draft.audience.kind.is_news
            broadcast.button = button
            broadcast.event_id, broadcast.topic_id = event_id, topic_id
            broadcast.status = AnnouncementStatus.DRAFT
            await session.flush()
            count = len(await members_reached(session, member, draft.audience, self.region_km))
            refused = None
            if count == 0:
                refused = NOBODY
            elif broadcast.news and not await self._under_week_cap(session, member, now):
                refused = WEEK_CAP
            return Preview(
                broadcast.id, broadcast.revision, count, member.display_name, button_title, refused
            )

    async def confirm(
        self, organiser_id: int, broadcast_id: int, revision: int, now: datetime, account_id: int
    ) -> Progress:
        """Fix the list and put one outbox row per recipient; the organiser follows the
        progress on the account they confirmed from (`account_id`). A second "Senden"
        changes nothing (`AnnouncementRefused(NOT_DRAFT)`); one under a preview of an
        older `revision` neither (`STALE_PREVIEW`)."""
        async with self.db.transaction() as session:
            # Locked first: two confirms of one organiser (two workers) count the week's
            # news one after the other, so the cap holds.
            await session.get(Member, organiser_id, with_for_update=True)
            member = await organiser(session, organiser_id)
            # The row lock (PostgreSQL) or the write lock (SQLite) taken first: of two
            # taps, on two workers, one confirms and the other finds no draft.
            claimed = await session.execute(
                update(Broadcast)
                .where(
                    Broadcast.id == broadcast_id,
                    Broadcast.organiser_id == organiser_id,
                    Broadcast.status == AnnouncementStatus.DRAFT,
                    Broadcast.revision == revision,
                )
                .values(status=AnnouncementStatus.SENDING)
                .returning(Broadcast.id)
            )
            if claimed.scalar_one_or_none() is None:
                exists_ = await session.get(Broadcast, broadcast_id)
                if exists_ is None or exists_.organiser_id != organiser_id:
                    raise AnnouncementRefused(GONE)
                if exists_.status == AnnouncementStatus.DRAFT:
                    raise AnnouncementRefused(STALE_PREVIEW)
                raise AnnouncementRefused(NOT_DRAFT)
            broadcast = await session.get(Broadcast, broadcast_id, populate_existing=True)
            assert broadcast is not None
            audience = AudienceChoice.from_dict(broadcast.audience)
            if audience is None:
                raise AnnouncementRefused(GONE)
            await check_audience(session, member, audience)
            if broadcast.news and not await self._under_week_cap(session, member, now):
                raise AnnouncementRefused(WEEK_CAP)
            recipients = await members_reached(session, member, audience, self.region_km)
            if not recipients:
                raise AnnouncementRefused(NOBODY)
            start = self.after_quiet(now)
            due = (
                await self._one_news_a_day(session, recipients, start)
                if broadcast.news
                else dict.fromkeys(recipients, start)
            )
            rows = [
                {
                    "member_id": member_id,
                    "kind": NoticeKind.ANNOUNCEMENT,
                    "broadcast_id": broadcast_id,
                    "params": {},
                    "due_at": due[member_id],
                    "status": WorkStatus.PENDING,
                    "attempts": 0,
                    "created_at": now,
                }
                for member_id in recipients
            ]
            for i in range(0, len(rows), CHUNK):
                await session.execute(insert(Notice), rows[i : i + CHUNK])
            if len(rows) >= ANALYZE_FROM and self.db.engine.dialect.name == "postgresql":
                # Thousands of new rows at once: without fresh statistics PostgreSQL may
                # plan the claim as a nested loop over them (seconds per batch).
                await session.execute(sql("ANALYZE notice"))
            broadcast.total = len(rows)
            broadcast.confirmed_at = now
            reporter = await session.get(ChannelAccount, account_id)
            if reporter is not None and reporter.member_id == organiser_id:
                broadcast.report_channel = str(reporter.channel)
                broadcast.report_account = reporter.external_id
            session.add(
                AuditLog(
                    actor_member_id=organiser_id,
                    action="announcement.send",
                    subject=f"broadcast:{broadcast_id}",
                    detail={"audience": audience.kind.value, "total": len(rows)},
                )
            )
            return await _progress(session, broadcast, now)

    async def pause(self, organiser_id: int, broadcast_id: int, now: datetime) -> Progress:
        return await self._control(
            organiser_id,
            broadcast_id,
            now,
            AnnouncementStatus.SENDING,
            AnnouncementStatus.PAUSED,
            WorkStatus.PENDING,
            WorkStatus.HELD,
        )

    async def resume(self, organiser_id: int, broadcast_id: int, now: datetime) -> Progress:
        return await self._control(
            organiser_id,
            broadcast_id,
            now,
            AnnouncementStatus.PAUSED,
            AnnouncementStatus.SENDING,
            WorkStatus.HELD,
            WorkStatus.PENDING,
        )

    async def cancel(self, organiser_id: int, broadcast_id: int, now: datetime) -> Progress:
        """Stop for good: what is not yet claimed is skipped."""
        async with self.db.transaction() as session:
            broadcast = await self._own(session, organiser_id, broadcast_id)
            if broadcast.status in (AnnouncementStatus.SENDING, AnnouncementStatus.PAUSED):
                broadcast.status = AnnouncementStatus.CANCELLED
                broadcast.finished_at = now
                await session.execute(
                    update(Notice)
                    .where(
                        Notice.broadcast_id == broadcast_id,
                        Notice.status.in_((WorkStatus.PENDING, WorkStatus.HELD)),
                    )
                    .values(status=WorkStatus.SKIPPED, done_at=now, error="cancelled")
                    .execution_options(synchronize_session=False)
                )
            return await _progress(session, broadcast, now)

    async def progress(self, organiser_id: int, broadcast_id: int, now: datetime) -> Progress:
        async with self.db.sessions() as session:
            broadcast = await self._own(session, organiser_id, broadcast_id, lock=False)
            return await _progress(session, broadcast, now)

    async def _control(
        self,
        organiser_id: int,
        broadcast_id: int,
        now: datetime,
        before: AnnouncementStatus,
        after: AnnouncementStatus,
        rows_from: WorkStatus,
        rows_to: WorkStatus,
    ) -> Progress:
        """Pause or resume; from any other state it changes nothing and says where it is."""
        async with self.db.transaction() as session:
            broadcast = await self._own(session, organiser_id, broadcast_id)
            if broadcast.status == before:
                broadcast.status = after
                await session.execute(
                    update(Notice)
                    .where(Notice.broadcast_id == broadcast_id, Notice.status == rows_from)
                    .values(status=rows_to)
                    .execution_options(synchronize_session=False)
                )
            return await _progress(session, broadcast, now)

    async def _own(
        self, session: AsyncSession, organiser_id: int, broadcast_id: int, lock: bool = True
    ) -> Broadcast:
        member = await organiser(session, organiser_id)
        broadcast = await session.get(Broadcast, broadcast_id, with_for_update=lock)
        if broadcast is None or (
            broadcast.organiser_id != organiser_id and member.role != Role.ADMIN
        ):
            raise AnnouncementRefused(GONE)
        return broadcast

    # -- the organiser's progress messages (the dispatcher asks after each round) ------
    async def reports(
        self, now: datetime, served: Mapping[str, Sequence[str] | None] | None = None
    ) -> list[Report]:
        """Progress due to organisers followed on `served` channels (channel → the
        accounts served there, None = all; no mapping: every channel): for each
        announcement under way a new tenth of the way, and the summary when it is done.
        Any worker marks an announcement done; a tenth is claimed in the database, so of
        several workers only one that serves the organiser's channel reports it."""
        out: list[Report] = []
        async with self.db.transaction() as session:
            under_way = (
                await session.scalars(
                    select(Broadcast).where(
                        or_(
                            Broadcast.status == AnnouncementStatus.SENDING,
                            Broadcast.status.in_(
                                (AnnouncementStatus.CANCELLED, AnnouncementStatus.DONE)
                            )
                            & (Broadcast.reported_tenths < 10),
                        )
                    )
                )
            ).all()
            for broadcast in under_way:
                progress = await _progress(session, broadcast, now)
                # The summary comes when nothing is left to send now (some may wait for
                # the morning: it says how many); done is done when they went out too.
                final = progress.to_send == 0
                if (
                    final
                    and progress.waiting == 0
                    and broadcast.status == AnnouncementStatus.SENDING
                ):
                    broadcast.status = AnnouncementStatus.DONE
                    broadcast.finished_at = now
                    progress = replace(progress, status=AnnouncementStatus.DONE)
                follower = _follower(broadcast, served)
                if follower is False:
                    continue  # another worker serves the organiser's channel
                tenths = 10 if final else min(9, progress.handled * 10 // max(1, progress.total))
                before = broadcast.reported_tenths
                if tenths <= before:
                    continue
                moved = await session.execute(
                    update(Broadcast)
                    .where(
                        Broadcast.id == broadcast.id,
                        Broadcast.reported_tenths == before,
                    )
                    .values(reported_tenths=tenths)
                    .returning(Broadcast.id)
                )
                if moved.scalar_one_or_none() is None or follower is None:
                    continue  # another worker reported it, or nobody follows it (the CLI)
                report = await _report(session, broadcast, progress, final)
                out.append(replace(report, tenths=(tenths, before)))
        return out

    async def report_failed(self, report: Report) -> None:
        """A report that could not be sent is due again: its tenth goes back (unless a
        later one was reported meanwhile)."""
        claimed, before = report.tenths
        if claimed == before:
            return
        async with self.db.transaction() as session:
            await session.execute(
                update(Broadcast)
                .where(Broadcast.id == report.progress.id, Broadcast.reported_tenths == claimed)
                .values(reported_tenths=before)
            )

    async def edits(self, now: datetime) -> list[Report]:
        """Where every announcement under way stands, for channels that edit one progress
        message in place (Telegram), without claiming a tenth."""
        async with self.db.sessions() as session:
            under_way = (
                await session.scalars(
                    select(Broadcast).where(
                        Broadcast.status == AnnouncementStatus.SENDING,
                        Broadcast.report_account.is_not(None),
                        Broadcast.reported_tenths < 10,  # its summary is not overwritten
                    )
                )
            ).all()
            return [
                await _report(session, b, await _progress(session, b, now), False)
                for b in under_way
            ]

    async def set_report_message(self, broadcast_id: int, message_id: str) -> None:
        """The progress message a channel edits from now on (the first one wins: of two
        workers that both sent one, the later is not edited, rather than both)."""
        async with self.db.transaction() as session:
            await session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id, Broadcast.report_message.is_(None))
                .values(report_message=message_id[:100])
            )

    # -- members -------------------------------------------------------------------
    async def opt_out(self, member_id: int, organiser_id: int | None) -> None:
        """No more announcements from this organiser (None: from anyone)."""
        await self._consents(member_id, organiser_id, stop=True)

    async def opt_in(self, member_id: int, organiser_id: int | None) -> None:
        """The undo of `opt_out`."""
        await self._consents(member_id, organiser_id, stop=False)

    async def _consents(self, member_id: int, organiser_id: int | None, stop: bool) -> None:
        async with self.db.transaction() as session:
            member = await session.get(Member, member_id, with_for_update=True)
            if member is None:
                raise UnknownAccount(f"member {member_id}")
            consents = dict(member.consents or {})
            if organiser_id is None:
                consents[NO_ANNOUNCEMENTS] = stop
            else:
                muted = {m for m in consents.get(MUTED_ORGANISERS) or () if isinstance(m, int)}
                muted = muted | {organiser_id} if stop else muted - {organiser_id}
                consents[MUTED_ORGANISERS] = sorted(muted)
            member.consents = consents
            session.add(
                AuditLog(
                    actor_member_id=member_id,
                    action="consent.announcements",
                    subject=f"member:{member_id}",
                    detail={"organiser": organiser_id, "stop": stop},
                )
            )

    async def organiser_name(self, organiser_id: int) -> str:
        async with self.db.sessions() as session:
            member = await session.get(Member, organiser_id)
            return member.display_name if member is not None else ""

    # -- the operator -----------------------------------------------------------------
    async def recent(self, limit: int = 20, now: datetime | None = None) -> list[Listed]:
        now = now or datetime.now(UTC)
        async with self.db.sessions() as session:
            rows = (
                await session.execute(
                    select(Broadcast, Member.display_name)
                    .outerjoin(Member, Member.id == Broadcast.organiser_id)
                    .where(Broadcast.status != AnnouncementStatus.DRAFT)
                    .order_by(Broadcast.confirmed_at.desc(), Broadcast.id.desc())
                    .limit(limit)
                )
            ).all()
            return [
                Listed(
                    await _progress(session, b, now),
                    name or "",
                    str((b.audience or {}).get("kind", "")),
                    b.confirmed_at,
                    b.text,
                )
                for b, name in rows
            ]

    async def lift_caps(self, account: str, lifted: bool = True, actor: str = "cli") -> str:
        """`werkbank admin caps lift|restore <account>`: the organiser's display name."""
        async with self.db.transaction() as session:
            member = await member_by_account(session, account)
            member.news_caps_lifted = lifted
            session.add(
                AuditLog(
                    actor_member_id=None,
                    action="announcement.caps",
                    subject=account,
                    detail={"lifted": lifted, "by": actor},
                )
            )
            return member.display_name

    # -- rules ------------------------------------------------------------------------
    def after_quiet(self, now: datetime) -> datetime:
        """`now`, or the end of the quiet hours it falls in (8:00 local time)."""
        return self.times.quiet_until(now) or now

    async def _under_week_cap(self, session: AsyncSession, member: Member, now: datetime) -> bool:
        if member.news_caps_lifted:
            return True
        sent = await session.scalar(
            select(func.count(Broadcast.id)).where(
                Broadcast.organiser_id == member.id,
                Broadcast.news.is_(True),
                Broadcast.confirmed_at > now - timedelta(days=7),
                Broadcast.status != AnnouncementStatus.DRAFT,
            )
        )
        return int(sent or 0) < self.per_week

    async def _one_news_a_day(
        self, session: AsyncSession, members: Sequence[int], start: datetime
    ) -> dict[int, datetime]:
        """When each member's copy goes out: `start`, or the next morning after the last
        news they have got or will get (one a day, in local days)."""
        latest: dict[int, datetime] = {}
        for i in range(0, len(members), CHUNK):
            rows = await session.execute(
                select(Notice.member_id, func.max(Notice.due_at))
                .join(Broadcast, Broadcast.id == Notice.broadcast_id)
                .where(
                    Notice.member_id.in_(members[i : i + CHUNK]),
                    Broadcast.news.is_(True),
                    Notice.status.in_(
                        (WorkStatus.PENDING, WorkStatus.CLAIMED, WorkStatus.HELD, WorkStatus.DONE)
                    ),
                    Notice.due_at > start - timedelta(days=2),
                )
                .group_by(Notice.member_id)
            )
            latest.update({m: d for m, d in rows.all() if d is not None})
        tz = self.times.tz
        due: dict[int, datetime] = {}
        for member_id in members:
            last = latest.get(member_id)
            if last is None or last.astimezone(tz).date() < start.astimezone(tz).date():
                due[member_id] = start
            else:
                day = last.astimezone(tz).date() + timedelta(days=1)
                due[member_id] = datetime.combine(day, time(self.times.quiet[1]), tz).astimezone(
                    UTC
                )
        return due


async def _progress(session: AsyncSession, broadcast: Broadcast, now: datetime) -> Progress:
    """Counts of the announcement's rows by what became of them (one grouped query)."""
    rows = await session.execute(
        select(
            Notice.status,
            Notice.error,
            func.count(Notice.id),
            # Not yet due and never tried: waiting for the morning (quiet hours, or the
            # member's one piece of news a day). A retry waiting for its turn is to send.
            func.count(Notice.id).filter(Notice.due_at > now, Notice.attempts == 0),
        )
        .where(Notice.broadcast_id == broadcast.id)
        .group_by(Notice.status, Notice.error)
    )
    counts: dict[str, int] = dict.fromkeys(
        ("sent", "blocked", "failed", "skipped", "waiting", "to_send"), 0
    )
    for status, error, n, later in rows.all():
        if WorkStatus(status) == WorkStatus.PENDING:
            counts["waiting"] += int(later)
            counts["to_send"] += int(n) - int(later)
        else:
            counts[_bucket(WorkStatus(status), error)] += int(n)
    return Progress(
        broadcast.id,
        AnnouncementStatus(broadcast.status),
        broadcast.total,
        **counts,
    )


def _follower(
    broadcast: Broadcast, served: Mapping[str, Sequence[str] | None] | None
) -> bool | None:
    """Whether this worker tells the organiser (None: nobody follows it)."""
    if broadcast.report_channel is None or broadcast.report_account is None:
        return None
    if served is None:
        return True
    if broadcast.report_channel not in served:
        return False
    accounts = served[broadcast.report_channel]
    return accounts is None or broadcast.report_account in accounts


async def _report(
    session: AsyncSession, broadcast: Broadcast, progress: Progress, final: bool
) -> Report:
    channel, account = str(broadcast.report_channel), str(broadcast.report_account)
    chat_id = await session.scalar(
        select(ChannelAccount.chat_id).where(
            ChannelAccount.channel == channel, ChannelAccount.external_id == account
        )
    )
    return Report(progress, channel, account, chat_id, broadcast.report_message, final)


def _bucket(status: WorkStatus, error: str | None) -> str:
    """What became of a row that is not pending (claimed and held ones are still to send)."""
    if status == WorkStatus.DONE:
        return "sent"
    if status == WorkStatus.FAILED:
        return "failed"
    if status == WorkStatus.SKIPPED:
        return "blocked" if error == "blocked" else "skipped"
    return "to_send"
