"""Check-ins after a workshop: the answers, kept per member, event and check-in.

The questions go out as notices (`NoticeKind.CHECKIN_NEXT_DAY`, scheduled with the
seat like the reminders); the answers land here, one `followup` row per member, event
and kind, changed in place while the member answers again.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.codes import NoticeKind, RegistrationStatus, Role, WorkStatus
from bot.services import NotAllowed
from bot.services.contracts import CheckinFigures, Impact
from bot.services.database import Database
from bot.services.organising import own_event
from bot.storage.models import Event, Followup, Member, Notice, Registration

# The answers a check-in takes, and the values each may have (free text: None).
ANSWERS: Mapping[str, frozenset[str] | None] = {
    "met": frozenset({"yes", "partly", "no"}),  # the expectation quoted back
    "rating": frozenset({"1", "2", "3", "4", "5"}),  # without an expectation
    "takeaway": None,  # "Was nimmst du mit?", one line
    "contact": frozenset({"yes", "no"}),  # stay in touch with someone from the group?
    # Four weeks on: tried anything of it since?
    "tried": frozenset({"done", "started", "no_time", "help"}),
    "help": None,  # what they need help with, one line
    # Three months on: what came of it?
    "outcome": frozenset({"order", "cooperation", "project", "topic", "nothing"}),
}
MAX_TAKEAWAY = 300


# Check-in kinds in order, with the notice that asks each.
KINDS = {
    "next_day": NoticeKind.CHECKIN_NEXT_DAY,
    "weeks": NoticeKind.CHECKIN_WEEKS,
    "months": NoticeKind.CHECKIN_MONTHS,
}
# Free-text answers shown (without names) in the impact report.
_LINES = ("takeaway",)


class Checkins:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def answer(
        self, member_id: int, event_id: int, kind: str, values: Mapping[str, str], now: datetime
    ) -> None:
        """Record answers to a check-in; a second answer to the same question replaces it."""
        for key, value in values.items():
            allowed = ANSWERS.get(key, frozenset())
            if allowed is not None and value not in allowed:
                raise NotAllowed(f"no answer {key}={value!r}")
            if allowed is None and len(value) > MAX_TAKEAWAY:
                raise NotAllowed("the line is too long")
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
            row = await session.scalar(
                select(Followup).where(
                    Followup.member_id == member_id,
                    Followup.event_id == event_id,
                    Followup.kind == kind,
                )
            )
            if row is None:
                row = Followup(
                    member_id=member_id,
                    event_id=event_id,
                    kind=kind,
                    due_at=now,
                    status=WorkStatus.DONE,
                )
                session.add(row)
            answers = {**json.loads(row.answer or "{}"), **values}
            row.answer = json.dumps(answers, ensure_ascii=False)
            if "rating" in values:
                row.rating = int(values["rating"])
            await _reach_organiser(session, member_id, event_id, values, now)

    async def answers(self, member_id: int, event_id: int, kind: str) -> Mapping[str, str]:
        """What the member answered so far (empty before the first answer)."""
        async with self.db.sessions() as session:
            row = await session.scalar(
                select(Followup.answer).where(
                    Followup.member_id == member_id,
                    Followup.event_id == event_id,
                    Followup.kind == kind,
                )
            )
            return json.loads(row) if row else {}

    async def reply(
        self, organiser_id: int, event_id: int, member_id: int, text: str, now: datetime
    ) -> None:
        """The organiser answers a help or contact request; it arrives in the member's chat."""
        text = text.strip()
        if not text or len(text) > MAX_TAKEAWAY * 3:
            raise NotAllowed("a reply of up to 900 characters")
        async with self.db.transaction() as session:
            event = await session.get(Event, event_id)
            organiser = await session.get(Member, organiser_id)
            if (
                event is None
                or organiser is None
                or (organiser.role != Role.ADMIN and event.organiser_id != organiser_id)
            ):
                raise NotAllowed(f"event {event_id} is not organised by member {organiser_id}")
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

    async def impact(self, organiser_id: int, event_id: int) -> Impact:
        """The check-ins of one of the organiser's events: how many were asked and
        answered, and what they said, as counts; free text without names."""
        async with self.db.sessions() as session:
            await own_event(session, organiser_id, event_id)
            event = await session.get(Event, event_id)
            assert event is not None  # own_event refused a missing one
            sent = dict(
                (
                    await session.execute(
                        select(Notice.kind, func.count(Notice.id))
                        .where(Notice.event_id == event_id, Notice.status == WorkStatus.DONE)
                        .group_by(Notice.kind)
                    )
                ).all()
            )
            rows = (
                await session.execute(
                    select(Followup.kind, Followup.answer).where(Followup.event_id == event_id)
                )
            ).all()
        given: dict[str, list[dict[str, str]]] = {kind: [] for kind in KINDS}
        for kind, answer in rows:
            given.setdefault(kind, []).append(json.loads(answer or "{}"))
        figures = tuple(
            _figures(kind, int(sent.get(notice, 0)), given.get(kind, []))
            for kind, notice in KINDS.items()
        )
        help_requests = tuple(a["help"] for a in given.get("weeks", []) if a.get("help"))
        return Impact(event.title, figures, help_requests)


async def _reach_organiser(
    session: AsyncSession, member_id: int, event_id: int, values: Mapping[str, str], now: datetime
) -> None:
    """ "Ich brauche Hilfe" (with its line) and "in Kontakt bleiben" go to the event's
    organiser as a notice with a reply button; once each, and without the member's name."""
    what = "help" if values.get("help") else "contact" if values.get("contact") == "yes" else None
    if what is None:
        return
    organiser = await session.scalar(select(Event.organiser_id).where(Event.id == event_id))
    if organiser is None or organiser == member_id:
        return
    session.add(
        Notice(
            member_id=organiser,
            kind=NoticeKind.CHECKIN_REQUEST,
            event_id=event_id,
            params={"member": member_id, "what": what, "text": values.get("help", "")},
            dedupe=f"checkin_request:{event_id}:{member_id}:{what}",
            due_at=now,
            created_at=now,
        )
    )


def _figures(kind: str, invited: int, answers: list[dict[str, str]]) -> CheckinFigures:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    lines: list[str] = []
    for answer in answers:
        for question, value in answer.items():
            if question in _LINES:
                lines.append(value)
            elif ANSWERS.get(question) is not None:
                counts[question][value] += 1
    return CheckinFigures(
        kind, invited, len(answers), {q: dict(c) for q, c in counts.items()}, tuple(lines)
    )
