"""Check-ins after a workshop: the answers, kept per member, event and check-in.

The questions go out as notices (`NoticeKind.CHECKIN_NEXT_DAY`, scheduled with the
seat like the reminders); the answers land here, one `followup` row per member, event
and kind, changed in place while the member answers again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.codes import (
    CHECKIN_AGAIN,
    CHECKIN_KINDS,
    NAME_TO_ORGANISER,
    Answer,
    Checkin,
    NoticeKind,
    Question,
    RegistrationStatus,
    WorkStatus,
    known_code,
)
from bot.services import NotAllowed
from bot.services.contracts import (
    MAX_CHECKIN_LINE,
    MAX_CHECKIN_REPLY,
    CheckinFigures,
    Impact,
    Said,
)
from bot.services.database import Database
from bot.services.organising import organiser, own_event
from bot.storage.models import HAS_HELP, Event, Followup, Member, Notice, Place, Registration

# The newest free-text answers "Wirkung" shows per check-in, and of the open calls for
# help: enough to hear people, short enough for one Telegram message (4 096 characters).
LINES_SHOWN = 5


# A check-in takes answers this long after it went out; then it has lapsed.
CHECKIN_OPEN = timedelta(days=14)


class Checkins:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def answer(
        self, member_id: int, event_id: int, kind: str, values: Mapping[str, str], now: datetime
    ) -> None:
        """Record answers to a check-in while it is open; a second answer to the same
        question replaces the first."""
        checkin = known_code(Checkin, kind)
        if checkin is None:
            raise NotAllowed(f"no check-in {kind!r}")
        for key, value in values.items():
            _check_answer(key, value)
        try:
            await self._answer(member_id, event_id, checkin, values, now)
        except IntegrityError:
            # The same answer row made at once by another worker (a double tap handled
            # by two processes): it exists now, so this time the answer lands in it.
            await self._answer(member_id, event_id, checkin, values, now)

    async def _answer(
        self,
        member_id: int,
        event_id: int,
        checkin: Checkin,
        values: Mapping[str, str],
        now: datetime,
    ) -> None:
        async with self.db.transaction() as session:
            seat = await _seat(session, member_id, event_id)
            if seat is None:
                raise NotAllowed(f"member {member_id} had no seat at event {event_id}")
            asked = await session.scalar(
                select(func.min(Notice.done_at)).where(
                    Notice.registration_id == seat,
                    # Asked by the check-in, or only by its reminder (the first failed).
                    Notice.kind.in_((checkin.notice, CHECKIN_AGAIN[checkin.notice])),
                    Notice.status == WorkStatus.DONE,
                )
            )
            if asked is None or now > asked + CHECKIN_OPEN:
                raise NotAllowed(f"check-in {checkin} of seat {seat} is not open")
            row = await session.scalar(
                select(Followup).where(
                    Followup.member_id == member_id,
                    Followup.event_id == event_id,
                    Followup.kind == checkin,
                )
            )
            if row is None:
                row = Followup(
                    member_id=member_id,
                    event_id=event_id,
                    kind=checkin,
                    due_at=asked,
                    status=WorkStatus.DONE,
                )
                session.add(row)
            for question, value in values.items():
                setattr(row, question, int(value) if question == Question.RATING else value)
            await _reach_organiser(session, member_id, event_id, values, now)

    async def reply(
        self,
        organiser_id: int,
        event_id: int,
        member_id: int,
        text: str,
        now: datetime,
        about: str = "",
    ) -> None:
        """The organiser answers a help or contact request (`about`: "help", "contact");
        it arrives in the member's chat. A help request answered is no longer open."""
        text = text.strip()
        if not text or len(text) > MAX_CHECKIN_REPLY:
            raise NotAllowed(f"a reply of up to {MAX_CHECKIN_REPLY} characters")
        async with self.db.transaction() as session:
            await own_event(session, organiser_id, event_id)
            # Only to someone who was at this event (the request's screen names them).
            if await _seat(session, member_id, event_id) is None:
                raise NotAllowed(f"member {member_id} was not at event {event_id}")
            session.add(
                Notice(
                    member_id=member_id,
                    kind=NoticeKind.ORGANISER_REPLY,
                    event_id=event_id,
                    params={"text": text, "about": about},
                    due_at=now,
                    created_at=now,
                )
            )

    async def impact(self, organiser_id: int, event_id: int | None = None) -> Impact:
        """What the check-ins of one of the organiser's events say, or (`event_id` None)
        of all their events: counts, and free text without names."""
        async with self.db.sessions() as session:
            if event_id is None:
                await organiser(session, organiser_id)
                events = select(Event.id).where(Event.organiser_id == organiser_id)
                return await _impact(session, events, "")
            await own_event(session, organiser_id, event_id)
            title = await session.scalar(select(Event.title).where(Event.id == event_id))
            one = select(Event.id).where(Event.id == event_id)
            return await _impact(session, one, title or "")

    async def report(self, since: datetime | None = None, place: str = "") -> Impact:
        """The operator's report over all events (for funders): those starting from
        `since`, at places whose name or town contains `place`."""
        events = select(Event.id)
        if since is not None:
            events = events.where(Event.start_at >= since)
        if place.strip():
            pattern = f"%{place.strip().lower()}%"
            events = events.join(Place, Place.id == Event.place_id).where(
                func.lower(Place.name).like(pattern) | func.lower(Place.town).like(pattern)
            )
        async with self.db.sessions() as session:
            impact = await _impact(session, events, "")
        # Members agreed to show their name to the organisers, not in reports for funders.
        return replace(
            impact,
            checkins=tuple(
                replace(f, lines=tuple(replace(said, name="") for said in f.lines))
                for f in impact.checkins
            ),
            help_requests=tuple(replace(said, name="") for said in impact.help_requests),
        )


async def _seat(session: AsyncSession, member_id: int, event_id: int) -> int | None:
    """The member's seat at the event (signed up or marked present); None without one."""
    return await session.scalar(
        select(Registration.id).where(
            Registration.member_id == member_id,
            Registration.event_id == event_id,
            Registration.status.in_((RegistrationStatus.REGISTERED, RegistrationStatus.ATTENDED)),
        )
    )


def _check_answer(key: str, value: str) -> None:
    question = known_code(Question, key)
    if question is None:
        raise NotAllowed(f"no question {key!r}")
    allowed = question.answers
    if allowed is None and not 0 < len(value) <= MAX_CHECKIN_LINE:
        raise NotAllowed(f"a line of up to {MAX_CHECKIN_LINE} characters")
    if allowed is not None and value not in allowed:
        raise NotAllowed(f"no answer {key}={value!r}")


async def _reach_organiser(
    session: AsyncSession, member_id: int, event_id: int, values: Mapping[str, str], now: datetime
) -> None:
    """ "Ich brauche Hilfe" (with its line) and "in Kontakt bleiben" go to the event's
    organiser as a notice with a reply button; once each, and without the member's name."""
    help_line = values.get(Question.HELP)
    wants_contact = values.get(Question.CONTACT) == Answer.YES
    what = "help" if help_line else "contact" if wants_contact else None
    if what is None:
        return
    organiser_id = await session.scalar(select(Event.organiser_id).where(Event.id == event_id))
    if organiser_id is None or organiser_id == member_id:
        return
    dedupe = f"checkin_request:{event_id}:{member_id}:{what}"
    if await session.scalar(select(Notice.id).where(Notice.dedupe == dedupe)) is not None:
        return  # asked once already (the member answered again): the organiser knows
    session.add(
        Notice(
            member_id=organiser_id,
            kind=NoticeKind.CHECKIN_REQUEST,
            event_id=event_id,
            params={"member": member_id, "what": what, "text": help_line or ""},
            dedupe=dedupe,
            due_at=now,
            created_at=now,
        )
    )


async def _impact(session: AsyncSession, events: Select[Any], title: str) -> Impact:
    """The check-ins of `events`, counted by the database: Python sees one row per
    combination of answers, the newest lines and the calls for help, never every answer
    (reading 100 000 answers into Python took over a second)."""
    done = (
        Notice.event_id.in_(events),
        Notice.kind.in_(CHECKIN_KINDS),
        Notice.status == WorkStatus.DONE,
    )
    sent = dict(
        (
            await session.execute(
                select(Notice.kind, func.count()).where(*done).group_by(Notice.kind)
            )
        ).all()
    )
    count = await session.scalar(select(func.count(func.distinct(Notice.event_id))).where(*done))
    ours = Followup.event_id.in_(events)
    tally = {checkin: _Tally() for checkin in Checkin}
    for kind, values, number, lines in await _combinations(session, ours):
        if (checkin := known_code(Checkin, kind)) is not None:
            tally[checkin].add(values, number, lines)
    for checkin in Checkin:
        tally[checkin].lines = await _newest(session, ours, checkin)
    help_requests, open_help = await _open_help(session, ours, events)
    figures = tuple(
        tally[checkin].figures(checkin, int(sent.get(checkin.notice, 0))) for checkin in Checkin
    )
    return Impact(title, int(count or 0), figures, help_requests, open_help)


_CHOICES = tuple(q for q in Question if q.answers is not None)


async def _combinations(
    session: AsyncSession, ours: ColumnElement[bool]
) -> list[tuple[str, dict[Question, str], int, int]]:
    """(check-in, its choice answers, how many gave exactly these, how many of them
    wrote a line), one row per combination: a few dozen rows for any number of answers."""
    columns = [getattr(Followup, q.value) for q in _CHOICES]
    rows = (
        await session.execute(
            select(Followup.kind, *columns, func.count(), func.count(Followup.takeaway))
            .where(ours)
            .group_by(Followup.kind, *columns)
        )
    ).all()
    out = []
    for kind, *given, number, lines in rows:
        chosen = {q: str(v) for q, v in zip(_CHOICES, given, strict=True) if v is not None}
        out.append((kind, chosen, int(number), int(lines)))
    return out


async def _newest(session: AsyncSession, ours: ColumnElement[bool], checkin: Checkin) -> list[Said]:
    """The newest LINES_SHOWN takeaways of one check-in."""
    rows = (
        await session.execute(
            select(Followup.takeaway, *_signature())
            .join(Member, Member.id == Followup.member_id)
            # '' is a line whose text is gone (erased, or kept past its time): counted only.
            .where(ours, Followup.kind == checkin, Followup.takeaway.is_not(None))
            .where(Followup.takeaway != "")
            .order_by(Followup.id.desc())
            .limit(LINES_SHOWN)
        )
    ).all()
    return [_said(line, name, shared) for line, name, shared in rows]


async def _open_help(
    session: AsyncSession, ours: ColumnElement[bool], events: Select[Any]
) -> tuple[tuple[Said, ...], int]:
    """The newest calls for help no organiser answered yet, and how many there are. Two
    small reads (the calls by their partial index, the replies by event and kind) rather
    than NOT EXISTS, for which SQLite, without statistics, may walk a member's notices."""
    replies = (
        await session.execute(
            select(Notice.event_id, Notice.member_id, Notice.params).where(
                Notice.event_id.in_(events), Notice.kind == NoticeKind.ORGANISER_REPLY
            )
        )
    ).all()
    # A reply to the contact request leaves a call for help open (replies from before
    # this was recorded answered both).
    replied = {
        (event_id, member_id)
        for event_id, member_id, params in replies
        if (params or {}).get("about") in (None, "", "help")
    }
    rows = (
        await session.execute(
            # HAS_HELP word for word, so SQLite takes the partial index `ix_followup_help`.
            select(Followup.event_id, Followup.member_id, Followup.help, *_signature())
            .join(Member, Member.id == Followup.member_id)
            .where(ours, text(HAS_HELP))
            .order_by(Followup.id.desc())
        )
    ).all()
    open_calls = [
        _said(line, name, shared)
        for event_id, member_id, line, name, shared in rows
        # '' is a call whose author deleted everything: nobody left to answer.
        if (event_id, member_id) not in replied and line
    ]
    return tuple(open_calls[:LINES_SHOWN]), len(open_calls)


def _signature() -> tuple[Any, ...]:
    """The member's name and whether they agreed to show it beside their answers."""
    return Member.display_name, Member.consents[NAME_TO_ORGANISER].as_boolean()


def _said(text: str, display_name: str | None, shared: bool | None) -> Said:
    first_name = (display_name or "").strip().split(" ")[0]
    return Said(text, first_name if shared else "")


class _Tally:
    """The answers to one check-in, counted from the database's combinations."""

    def __init__(self) -> None:
        self.answered = 0
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.lines: list[Said] = []
        self.line_count = 0

    def add(self, chosen: Mapping[Question, str], number: int, lines: int) -> None:
        self.answered += number
        self.line_count += lines
        for question, value in chosen.items():
            self.counts[question][value] += number

    def figures(self, checkin: Checkin, invited: int) -> CheckinFigures:
        counts = {question: dict(c) for question, c in self.counts.items()}
        return CheckinFigures(
            checkin, invited, self.answered, counts, tuple(self.lines), self.line_count
        )
