"""Topics: what members want to learn or work on, and who nearby wants the same.

A topic lies where its author lives (`lat`, `lon`, found by the box index
`ix_topic_box`); "near me" counts its author and supporters whose home lies within
the viewer's radius. Nobody ever sees who supports a topic, only how many near them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.codes import (
    INVITATIONS,
    EventStatus,
    Field,
    NoticeKind,
    Role,
    TopicStatus,
    WorkStatus,
    known_code,
    known_codes,
)
from bot.geo import GeoPoint, haversine_km, search_box
from bot.grouping import Candidate, Group, crowded_centre, propose_group
from bot.matching import TitleKey, score, title_key
from bot.matching import most_similar as most_similar_titles
from bot.services import NotAllowed, ServiceError
from bot.services.contracts import (
    MAX_TOPIC_SENTENCE,
    MAX_TOPIC_TITLE,
    GroupMember,
    Proposed,
    Supported,
    TopicGroup,
    TopicView,
)
from bot.services.database import Database
from bot.services.views import join_codes, split_codes
from bot.storage.engine import dialect_insert
from bot.storage.models import Event, Member, Notice, Place, Topic, TopicInterest, lat_band

# A title the same member proposes again scores this much against their earlier one.
SAME_TITLE = 95


class Topics:
    def __init__(self, db: Database, demand_people: int = 3, demand_km: float = 30) -> None:
        self.db = db
        # Organisers hear of a topic once this many of its people live this near together.
        self.demand_people = demand_people
        self.demand_km = demand_km

    def _demand(self, homes: Sequence[GeoPoint]) -> bool:
        return crowded_centre(homes, self.demand_people, self.demand_km) is not None

    # -- proposing ---------------------------------------------------------------
    async def propose(
        self,
        member_id: int,
        title: str,
        sentence: str | None,
        fields: Sequence[Field],
        now: datetime,
    ) -> tuple[Proposed, int]:
        """A new open topic where the member lives; the same title again is the old one."""
        title, sentence = title.strip(), (sentence or "").strip() or None
        if not title or len(title) > MAX_TOPIC_TITLE or not any(c.isalnum() for c in title):
            raise ServiceError("a topic needs a title of words, up to 120 characters")
        if sentence is not None and len(sentence) > MAX_TOPIC_SENTENCE:
            raise ServiceError("the sentence is too long")
        async with self.db.transaction() as session:
            member = await session.get(Member, member_id, with_for_update=True)
            if member is None:
                raise NotAllowed(f"no member {member_id}")
            earlier = await session.scalars(
                select(Topic).where(
                    Topic.proposer_id == member_id, Topic.status == TopicStatus.OPEN
                )
            )
            key = title_key(title)
            for topic in earlier:
                if _same(key, topic.title):
                    return Proposed.ALREADY, topic.id
            topic = Topic(
                title=title,
                description=sentence,
                proposer_id=member_id,
                status=TopicStatus.OPEN,
                fields=join_codes([str(f) for f in fields]),
                lat=member.home_lat,
                lon=member.home_lon,
                lat_band=lat_band(member.home_lat) if member.home_lat is not None else None,
                created_at=now,
                updated_at=now,
            )
            session.add(topic)
            await session.flush()
            return Proposed.NEW, topic.id

    async def similar(
        self, member_id: int, point: GeoPoint, radius_km: float, title: str
    ) -> Sequence[TopicView]:
        """Open topics within the radius whose title looks like `title`, most alike first."""
        async with self.db.sessions() as session:
            topics = await _open_near(session, point, radius_km)
            found = most_similar_titles(title, [title_key(t.title) for t in topics])
            chosen = [topics[index] for index, _ in found]
            return await _views(session, chosen, member_id, point, radius_km)

    # -- reading -----------------------------------------------------------------
    async def nearby(
        self,
        member_id: int,
        point: GeoPoint,
        radius_km: float,
        offset: int = 0,
        limit: int = 5,
        with_demand: bool = False,
    ) -> tuple[Sequence[TopicView], bool]:
        """Open topics within the radius, most supporters near the member first; with
        `with_demand` only those whose people are enough near each other (organisers)."""
        async with self.db.sessions() as session:
            topics = await _open_near(session, point, radius_km)
            views = await _views(session, topics, member_id, point, radius_km, self._demand)
        if with_demand:
            views = [v for v in views if v.demand]
        ranked = sorted(views, key=lambda v: (-v.near, -v.id))
        return ranked[offset : offset + limit], len(ranked) > offset + limit

    async def get(
        self,
        member_id: int,
        topic_id: int,
        point: GeoPoint | None,
        radius_km: float,
        now: datetime | None = None,
    ) -> TopicView | None:
        """One topic; with `now`, a planned one whose workshop is over shows as done."""
        async with self.db.sessions() as session:
            topic = await session.get(Topic, topic_id)
            if topic is None:
                return None
            [view] = await _views(session, [topic], member_id, point, radius_km)
            if view.status != TopicStatus.PLANNED:
                return view
            workshop = (
                await session.execute(
                    select(Event.id, func.coalesce(Event.end_at, Event.start_at))
                    .where(Event.topic_id == topic_id, Event.status == EventStatus.PUBLISHED)
                    .order_by(Event.start_at.desc())
                    .limit(1)
                )
            ).first()
            if workshop is None:
                return view
            over = now is not None and workshop[1] <= now
            return replace(
                view, event_id=workshop[0], status=TopicStatus.DONE if over else view.status
            )

    async def mine(self, member_id: int) -> Sequence[TopicView]:
        """The open topics the member proposed or supports."""
        async with self.db.sessions() as session:
            supported = select(TopicInterest.topic_id).where(TopicInterest.member_id == member_id)
            topics = (
                await session.scalars(
                    select(Topic)
                    .where(
                        Topic.status.in_((TopicStatus.OPEN, TopicStatus.PLANNED)),
                        (Topic.proposer_id == member_id) | Topic.id.in_(supported),
                    )
                    .order_by(Topic.id.desc())
                )
            ).all()
            return await _views(session, list(topics), member_id, None, 0)

    # -- supporting ----------------------------------------------------------------
    async def support(
        self,
        member_id: int,
        topic_id: int,
        expectation: str | None = None,
        now: datetime | None = None,
    ) -> Supported:
        """Add the member's support; organisers hear when a group near each other forms."""
        now = now or datetime.now(UTC)
        async with self.db.transaction() as session:
            topic = await session.get(Topic, topic_id)
            if topic is None or topic.status != TopicStatus.OPEN:
                return Supported.GONE
            if topic.proposer_id == member_id:
                return Supported.OWN
            insert = dialect_insert(self.db.engine.dialect.name)
            added = await session.execute(
                insert(TopicInterest)
                .values(topic_id=topic_id, member_id=member_id, expectation=expectation)
                .on_conflict_do_nothing()
            )
            if added.rowcount:  # type: ignore[attr-defined]
                await self._tell_organisers(session, topic, now)
                return Supported.ADDED
            if expectation:  # "Ich auch" again, now with a wish: keep the wish
                interest = await session.get(TopicInterest, (topic_id, member_id))
                if interest is not None:
                    interest.expectation = expectation
            return Supported.ALREADY

    async def _tell_organisers(self, session: AsyncSession, topic: Topic, now: datetime) -> None:
        """Where enough of the topic's people live near each other, its organisers get one
        notice; later supporters bring at most one update a day (never one per tap)."""
        people = await _people(session, topic)
        centre = crowded_centre(people, self.demand_people, self.demand_km)
        if centre is None:
            return
        insert = dialect_insert(self.db.engine.dialect.name)
        tomorrow = (now + timedelta(days=1)).date()
        for organiser in await _organisers_near(session, centre, self.demand_km):
            first = f"topic_demand:{topic.id}:{organiser}"
            told = await session.execute(
                insert(Notice)
                .values(_demand_notice(organiser, topic.id, first, now))
                .on_conflict_do_nothing()
            )
            if told.rowcount:  # type: ignore[attr-defined]
                continue
            digest = datetime.combine(tomorrow, time(8, 0), UTC)  # about 9 or 10 in Germany
            await session.execute(
                insert(Notice)
                .values(_demand_notice(organiser, topic.id, f"{first}:{tomorrow}", digest))
                .on_conflict_do_nothing()
            )

    async def group(
        self, organiser_id: int, topic_id: int, without: Sequence[int] = ()
    ) -> TopicGroup | None:
        """A group of 3–5 of the topic's people who agreed to personal invitations,
        different fields where they allow it, at the organiser's place nearest for all
        (or around the topic when the organiser has none there yet). `without`: people the
        organiser swapped out; the next best take their place."""
        async with self.db.sessions() as session:
            organiser = await session.get(Member, organiser_id)
            if organiser is None or not Role(organiser.role).may_organise:
                raise NotAllowed(f"member {organiser_id} is no organiser")
            topic = await session.get(Topic, topic_id)
            if topic is None or topic.lat is None or topic.lon is None:
                return None
            supporters = select(TopicInterest.member_id).where(TopicInterest.topic_id == topic_id)
            people = (
                await session.scalars(
                    select(Member).where(
                        Member.id.in_(supporters) | (Member.id == topic.proposer_id),
                        Member.deleted_at.is_(None),
                        Member.home_lat.is_not(None),
                        Member.home_lon.is_not(None),
                    )
                )
            ).all()
            willing = {
                m.id: m
                for m in people
                if (m.consents or {}).get(INVITATIONS) is True and m.id not in set(without)
            }
            candidates = [
                Candidate(m.id, known_code(Field, m.field), GeoPoint(m.home_lat, m.home_lon))
                for m in willing.values()
                if m.home_lat is not None and m.home_lon is not None
            ]
            centre = GeoPoint(topic.lat, topic.lon)
            places = await _organisers_places(session, organiser_id, centre, self.demand_km)
            options: list[tuple[int | None, str | None, GeoPoint]] = [*places]
            if not options:
                options = [(None, None, centre)]
            best = _best_group(candidates, options)
            if best is None:
                return None
            group, place_id, place_name = best
            members = tuple(
                GroupMember(
                    c.member_id,
                    _first_name(willing[c.member_id].display_name),
                    c.field,
                    willing[c.member_id].home_label,
                )
                for c in group.members
            )
            return TopicGroup(members, place_id, place_name, group.longest_km)

    async def close(self, organiser_id: int, topic_id: int, reason: str, now: datetime) -> int:
        """An organiser closes an open topic; its people hear the reason once."""
        reason = reason.strip()
        if not reason or len(reason) > MAX_TOPIC_SENTENCE:
            raise ServiceError("a reason of up to 300 characters")
        async with self.db.transaction() as session:
            topic = await _open_for_organiser(session, organiser_id, topic_id)
            topic.status, topic.close_reason, topic.updated_at = TopicStatus.CLOSED, reason, now
            people = await _everyone(session, topic)
            for person in people:
                session.add(
                    Notice(
                        member_id=person,
                        kind=NoticeKind.TOPIC_CLOSED,
                        params={"topic_id": topic.id, "reason": reason},
                        dedupe=f"topic_closed:{topic.id}:{person}",
                        due_at=now,
                        created_at=now,
                    )
                )
            return len(people)

    async def merge(self, organiser_id: int, topic_id: int, into_id: int, now: datetime) -> int:
        """An organiser joins a duplicate into another open topic. Its supporters are asked
        whether to move their support; nothing moves without their yes."""
        if topic_id == into_id:
            raise ServiceError("a topic cannot be merged into itself")
        async with self.db.transaction() as session:
            topic = await _open_for_organiser(session, organiser_id, topic_id)
            into = await _open_for_organiser(session, organiser_id, into_id)
            topic.status, topic.merged_into_id, topic.updated_at = (
                TopicStatus.MERGED,
                into.id,
                now,
            )
            people = await _everyone(session, topic)
            for person in people:
                session.add(
                    Notice(
                        member_id=person,
                        kind=NoticeKind.TOPIC_MERGED,
                        params={"topic_id": topic.id, "into": into.id, "into_title": into.title},
                        dedupe=f"topic_merged:{topic.id}:{person}",
                        due_at=now,
                        created_at=now,
                    )
                )
            return len(people)

    async def unsupport(self, member_id: int, topic_id: int) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                delete(TopicInterest).where(
                    TopicInterest.topic_id == topic_id, TopicInterest.member_id == member_id
                )
            )

    # -- the author's ------------------------------------------------------------------
    async def edit(
        self, member_id: int, topic_id: int, title: str | None, sentence: str | None, now: datetime
    ) -> None:
        async with self.db.transaction() as session:
            topic = await _own_open(session, member_id, topic_id)
            if title is not None:
                if not title.strip() or len(title) > MAX_TOPIC_TITLE:
                    raise ServiceError("a topic needs a title, up to 120 characters")
                topic.title = title.strip()
            if sentence is not None:
                if len(sentence) > MAX_TOPIC_SENTENCE:
                    raise ServiceError("the sentence is too long")
                topic.description = sentence.strip() or None
            topic.updated_at = now

    async def withdraw(self, member_id: int, topic_id: int, now: datetime) -> int:
        """The author takes the topic back; each supporter hears of it once. Returns how
        many are told."""
        async with self.db.transaction() as session:
            topic = await _own_open(session, member_id, topic_id)
            topic.status = TopicStatus.WITHDRAWN
            topic.updated_at = now
            supporters = (
                await session.scalars(
                    select(TopicInterest.member_id).where(TopicInterest.topic_id == topic_id)
                )
            ).all()
            for supporter in supporters:
                session.add(
                    Notice(
                        member_id=supporter,
                        kind=NoticeKind.TOPIC_WITHDRAWN,
                        params={"title": topic.title},
                        # Exactly once, however often the withdrawal is retried.
                        dedupe=f"topic_withdrawn:{topic_id}:{supporter}",
                        due_at=now,
                        created_at=now,
                    )
                )
            return len(supporters)


async def _open_for_organiser(session: AsyncSession, organiser_id: int, topic_id: int) -> Topic:
    organiser = await session.get(Member, organiser_id)
    if organiser is None or not Role(organiser.role).may_organise:
        raise NotAllowed(f"member {organiser_id} is no organiser")
    topic = await session.get(Topic, topic_id, with_for_update=True)
    if topic is None or topic.status != TopicStatus.OPEN:
        raise ServiceError(f"topic {topic_id} is not open")
    return topic


async def _everyone(session: AsyncSession, topic: Topic) -> list[int]:
    """The topic's author and supporters (member ids)."""
    supporters = select(TopicInterest.member_id).where(TopicInterest.topic_id == topic.id)
    people = set((await session.scalars(supporters)).all())
    if topic.proposer_id is not None:
        people.add(topic.proposer_id)
    return sorted(people)


def _best_group(
    candidates: Sequence[Candidate], places: Sequence[tuple[int | None, str | None, GeoPoint]]
) -> tuple[Group, int | None, str | None] | None:
    """The group and place covering the most fields, then with the shortest longest trip."""
    best: tuple[Group, int | None, str | None] | None = None
    for place_id, name, point in places:
        found = propose_group(candidates, point)
        if found is not None and (
            best is None
            or (-len(found.fields), found.longest_km) < (-len(best[0].fields), best[0].longest_km)
        ):
            best = (found, place_id, name)
    return best


def _first_name(display_name: str) -> str:
    return (display_name.split() or ["?"])[0][:40]


async def _organisers_places(
    session: AsyncSession, organiser_id: int, centre: GeoPoint, km: float
) -> list[tuple[int, str, GeoPoint]]:
    """The places of the organiser's events within `km` of `centre`."""
    min_lat, max_lat, min_lon, max_lon = search_box(centre, km)
    rows = await session.execute(
        select(Place.id, Place.name, Place.lat, Place.lon)
        .join(Event, Event.place_id == Place.id)
        .where(
            Event.organiser_id == organiser_id,
            Place.lat.between(min_lat, max_lat),
            Place.lon.between(min_lon, max_lon),
        )
        .distinct()
    )
    return [
        (pid, name, GeoPoint(lat, lon))
        for pid, name, lat, lon in rows.all()
        if haversine_km(centre, GeoPoint(lat, lon)) <= km
    ]


def _demand_notice(organiser: int, topic_id: int, dedupe: str, due: datetime) -> dict[str, Any]:
    return {
        "member_id": organiser,
        "kind": NoticeKind.TOPIC_DEMAND,
        "params": {"topic_id": topic_id},
        "dedupe": dedupe,
        "due_at": due,
        "status": WorkStatus.PENDING,
        "attempts": 0,
        "created_at": due,
    }


async def _people(session: AsyncSession, topic: Topic) -> list[GeoPoint]:
    """Where the topic's author and supporters live (those who said where)."""
    supporters = select(TopicInterest.member_id).where(TopicInterest.topic_id == topic.id)
    rows = await session.execute(
        select(Member.home_lat, Member.home_lon).where(
            (Member.id.in_(supporters)) | (Member.id == topic.proposer_id),
            Member.deleted_at.is_(None),
            Member.home_lat.is_not(None),
            Member.home_lon.is_not(None),
        )
    )
    return [GeoPoint(lat, lon) for lat, lon in rows.all() if lat is not None and lon is not None]


async def _organisers_near(session: AsyncSession, centre: GeoPoint, km: float) -> list[int]:
    """Organisers with an event at a place within `km` of `centre`; all organisers when
    none has (a region nobody serves yet must still be heard)."""
    organisers = select(Member.id).where(
        Member.role.in_([r for r in Role if r.may_organise]), Member.deleted_at.is_(None)
    )
    min_lat, max_lat, min_lon, max_lon = search_box(centre, km)
    rows = await session.execute(
        select(Event.organiser_id, Place.lat, Place.lon)
        .join(Place, Place.id == Event.place_id)
        .where(
            Event.organiser_id.in_(organisers),
            Place.lat.between(min_lat, max_lat),
            Place.lon.between(min_lon, max_lon),
        )
        .distinct()
    )
    near = {
        o
        for o, lat, lon in rows.all()
        if o is not None and haversine_km(centre, GeoPoint(lat, lon)) <= km
    }
    if near:
        return sorted(near)
    return list((await session.scalars(organisers.order_by(Member.id))).all())


def _same(key: TitleKey, title: str) -> bool:
    return score(key, title_key(title)) >= SAME_TITLE


async def _own_open(session: AsyncSession, member_id: int, topic_id: int) -> Topic:
    topic = await session.get(Topic, topic_id, with_for_update=True)
    if topic is None or topic.proposer_id != member_id:
        raise NotAllowed(f"topic {topic_id} is not member {member_id}'s")
    if topic.status != TopicStatus.OPEN:
        raise ServiceError(f"topic {topic_id} is {topic.status}")
    return topic


async def _open_near(session: AsyncSession, point: GeoPoint, radius_km: float) -> list[Topic]:
    """Open topics proposed within `radius_km` of `point`, by the box index then exactly."""
    min_lat, max_lat, min_lon, max_lon = search_box(point, radius_km)
    rows = await session.scalars(
        select(Topic).where(
            Topic.status == TopicStatus.OPEN,
            Topic.lat_band.between(lat_band(min_lat), lat_band(max_lat)),
            Topic.lon.between(min_lon, max_lon),
            Topic.lat.between(min_lat, max_lat),
        )
    )
    return [
        t
        for t in rows
        if t.lat is not None
        and t.lon is not None
        and haversine_km(point, GeoPoint(t.lat, t.lon)) <= radius_km
    ]


async def _views(
    session: AsyncSession,
    topics: Sequence[Topic],
    viewer: int,
    point: GeoPoint | None,
    radius_km: float,
    demand: Callable[[Sequence[GeoPoint]], bool] | None = None,
) -> list[TopicView]:
    """Topics as the viewer sees them, with how many people near them want each."""
    if not topics:
        return []
    ids = [t.id for t in topics]
    rows = await session.execute(
        select(
            TopicInterest.topic_id,
            TopicInterest.expectation,
            Member.id,
            Member.home_lat,
            Member.home_lon,
        )
        .join(Member, Member.id == TopicInterest.member_id)
        .where(TopicInterest.topic_id.in_(ids), Member.deleted_at.is_(None))
    )
    people: dict[int, list[tuple[int, float | None, float | None]]] = defaultdict(list)
    mine: dict[int, str | None] = {}
    for topic_id, expectation, member_id, lat, lon in rows.all():
        people[topic_id].append((member_id, lat, lon))
        if member_id == viewer:
            mine[topic_id] = expectation
    return [
        TopicView(
            id=t.id,
            title=t.title,
            sentence=t.description,
            fields=known_codes(Field, split_codes(t.fields)),
            status=TopicStatus(t.status),
            near=_near(point, radius_km, [*people[t.id], (t.proposer_id or 0, t.lat, t.lon)]),
            mine=t.proposer_id == viewer,
            supported=t.id in mine,
            expectation=mine.get(t.id),
            demand=demand is not None and demand(_homes([*people[t.id], (0, t.lat, t.lon)])),
        )
        for t in topics
    ]


def _homes(people: Iterable[tuple[int, float | None, float | None]]) -> list[GeoPoint]:
    return [GeoPoint(lat, lon) for _, lat, lon in people if lat is not None and lon is not None]


def _near(
    point: GeoPoint | None,
    radius_km: float,
    people: Iterable[tuple[int, float | None, float | None]],
) -> int:
    """How many of `people` live within `radius_km` of `point` (all of them without one)."""
    homes = [(lat, lon) for _, lat, lon in people]
    if point is None:
        return len(homes)
    return sum(
        1
        for lat, lon in homes
        if lat is not None
        and lon is not None
        and haversine_km(point, GeoPoint(lat, lon)) <= radius_km
    )
