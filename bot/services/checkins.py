"""Check-ins after a workshop: the answers, kept per member, event and check-in.

The questions go out as notices (`NoticeKind.CHECKIN_NEXT_DAY`, scheduled with the
seat like the reminders); the answers land here, one `followup` row per member, event
and kind, changed in place while the member answers again.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.codes import (
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
from bot.services.contracts import CheckinFigures, Impact, Said
from bot.services.database import Database
from bot.services.organising import organiser, own_event
from bot.storage.models import Event, Followup, Member, Notice, Place, Registration

MAX_LINE = 300  # a takeaway or a call for help: one line
# The newest free-text answers "Wirkung" shows per check-in, and of the open calls for
# help: enough to hear people, short enough for one Telegram message (4 096 characters).
LINES_SHOWN = 5
# The free-text answers "Wirkung" quotes (calls for help are listed apart, while open).
_LINES = (Question.TAKEAWAY,)


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
        async with self.db.transaction() as session:
            seat = await session.scalar(
                select(Registration.id).where(
                    Registration.member_id == member_id,
                    Registration.event_id == event_id,
                    Registration.status.in_(
                        (RegistrationStatus.REGISTERED, RegistrationStatus.ATTENDED)
                    ),
                )
            )
            if seat is None:
                raise NotAllowed(f"member {member_id} had no seat at event {event_id}")
            asked = await session.scalar(
                select(func.min(Notice.done_at)).where(
                    Notice.registration_id == seat,
                    Notice.kind == checkin.notice,
                    Notice.status == WorkStatus.DONE,
                )
            )
            if asked is None or now > asked + CHECKIN_OPEN:
                raise NotAllowed(f"check-in {kind} of seat {seat} is not open")
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
            answers = {**json.loads(row.answer or "{}"), **values}
            row.answer = json.dumps(answers, ensure_ascii=False)
            if Question.RATING in values:
                row.rating = int(values[Question.RATING])
            await _reach_organiser(session, member_id, event_id, values, now)

    async def reply(
        self, organiser_id: int, event_id: int, member_id: int, text: str, now: datetime
    ) -> None:
        """The organiser answers a help or contact request; it arrives in the member's chat."""
        text = text.strip()
        if not text or len(text) > MAX_LINE * 3:
            raise NotAllowed("a reply of up to 900 characters")
        async with self.db.transaction() as session:
            await own_event(session, organiser_id, event_id)
            # Only to someone who was at this event (the request's screen names them).
            seat = await session.scalar(
                select(Registration.id).where(
                    Registration.event_id == event_id, Registration.member_id == member_id
                )
            )
            if seat is None:
                raise NotAllowed(f"member {member_id} was not at event {event_id}")
            session.add(
                Notice(
                    member_id=member_id,
                    kind=NoticeKind.ORGANISER_REPLY,
                    event_id=event_id,
                    params={"text": text},
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
            return await _impact(session, select(Event.id).where(Event.id == event_id), title or "")

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
            return await _impact(session, events, "")


def _check_answer(key: str, value: str) -> None:
    question = known_code(Question, key)
    if question is None:
        raise NotAllowed(f"no question {key!r}")
    allowed = question.answers
    if allowed is None and not 0 < len(value) <= MAX_LINE:
        raise NotAllowed("a line of up to 300 characters")
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
    session.add(
        Notice(
            member_id=organiser_id,
            kind=NoticeKind.CHECKIN_REQUEST,
            event_id=event_id,
            params={"member": member_id, "what": what, "text": help_line or ""},
            dedupe=f"checkin_request:{event_id}:{member_id}:{what}",
            due_at=now,
            created_at=now,
        )
    )


async def _impact(session: AsyncSession, events: Select[Any], title: str) -> Impact:
    """The check-ins of `events`, in four queries whatever their number: how many were
    sent, to how many events (those not followed up yet count for nothing), the answers
    (newest first), and which calls for help were answered."""
    sent = dict(
        (
            await session.execute(
                select(Notice.kind, func.count(Notice.id))
                .where(
                    Notice.event_id.in_(events),
                    Notice.kind.in_(CHECKIN_KINDS),
                    Notice.status == WorkStatus.DONE,
                )
                .group_by(Notice.kind)
            )
        ).all()
    )
    count = await session.scalar(
        select(func.count(func.distinct(Notice.event_id))).where(
            Notice.event_id.in_(events),
            Notice.kind.in_(CHECKIN_KINDS),
            Notice.status == WorkStatus.DONE,
        )
    )
    rows = (
        await session.execute(
            select(
                Followup.kind,
                Followup.answer,
                Followup.event_id,
                Followup.member_id,
                Member.display_name,
                Member.consents[NAME_TO_ORGANISER].as_boolean(),
            )
            .join(Member, Member.id == Followup.member_id)
            .where(Followup.event_id.in_(events))
            .order_by(Followup.id.desc())
        )
    ).all()
    replied = set(
        (
            await session.execute(
                select(Notice.event_id, Notice.member_id).where(
                    Notice.event_id.in_(events), Notice.kind == NoticeKind.ORGANISER_REPLY
                )
            )
        ).all()
    )
    tally = {checkin: _Tally() for checkin in Checkin}
    help_requests: list[Said] = []
    open_help = 0
    for kind, answer, event_id, member_id, name, share_name in rows:
        checkin = known_code(Checkin, kind)
        if checkin is None:
            continue
        answers = json.loads(answer or "{}")
        signed = _first_name(name) if share_name else ""
        tally[checkin].add(answers, signed)
        if answers.get(Question.HELP) and (event_id, member_id) not in replied:
            open_help += 1
            if len(help_requests) < LINES_SHOWN:
                help_requests.append(Said(answers[Question.HELP], signed))
    figures = tuple(
        tally[checkin].figures(checkin, int(sent.get(checkin.notice, 0))) for checkin in Checkin
    )
    return Impact(title, int(count or 0), figures, tuple(help_requests), open_help)


def _first_name(display_name: str | None) -> str:
    return (display_name or "").strip().split(" ")[0]


class _Tally:
    """The answers to one check-in, counted as they are read."""

    def __init__(self) -> None:
        self.answered = 0
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.lines: list[Said] = []
        self.line_count = 0

    def add(self, answers: Mapping[str, str], name: str) -> None:
        self.answered += 1
        for key, value in answers.items():
            question = known_code(Question, key)
            if question in _LINES:
                self.line_count += 1
                if len(self.lines) < LINES_SHOWN:
                    self.lines.append(Said(value, name))
            elif question is not None and question.answers is not None:
                self.counts[question][value] += 1

    def figures(self, checkin: Checkin, invited: int) -> CheckinFigures:
        counts = {question: dict(c) for question, c in self.counts.items()}
        return CheckinFigures(
            checkin, invited, self.answered, counts, tuple(self.lines), self.line_count
        )
