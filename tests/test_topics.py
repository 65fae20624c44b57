"""Topics on SQLite and PostgreSQL: proposing, the similar topics nearby, supporting
(a second tap harmless, two taps at once one support), what others see, and a
withdrawal told to each supporter exactly once through the notice outbox."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import pytest
from sqlalchemy import func, select, update

from bot.app import Werkbank
from bot.codes import HOLDS_SEAT, Field, TopicStatus
from bot.geo import GeoPoint
from bot.services import NotAllowed, ServiceError
from bot.services.contracts import Proposed, Supported
from bot.storage.models import Event, Place, Registration, TopicInterest
from tests.support.chat import ChatUser
from tests.support.clock import NOW
from tests.support.inbox import Inbox, dispatcher

BENDORF = GeoPoint(50.43, 7.57)
KOBLENZ = GeoPoint(50.36, 7.59)  # 8 km from Bendorf
BERLIN = GeoPoint(52.52, 13.40)


async def member_at(app: Werkbank, name: str, point: GeoPoint, radius_km: int = 25) -> int:
    user = ChatUser(app.runner, name)
    await user.send("/start")
    conv = await app.runner.conversations.open(user.account)
    await app.members.set_home(conv.member.id, point, name)
    await app.members.set_radius(conv.member.id, radius_km)
    return conv.member.id


async def test_similar_topics_are_found_nearby_only(app: Werkbank) -> None:
    topics = app.services.topics
    anna = await member_at(app, "anna", BENDORF)
    berta = await member_at(app, "berta", BERLIN)
    ben = await member_at(app, "ben", KOBLENZ)
    _, near = await topics.propose(anna, "Lasercutter für Holz", None, [Field.CRAFT], NOW)
    await topics.propose(berta, "Lasercutter für Holz", None, [Field.CRAFT], NOW)
    await topics.propose(anna, "Löten für Anfänger", None, [Field.DIGITAL], NOW)
    found = await topics.similar(ben, KOBLENZ, 25, "Laser-Cutter fuer Hölzer")
    assert [t.id for t in found] == [near]  # not Berlin's, not the soldering one
    assert found[0].near == 1 and not found[0].mine and not found[0].supported


async def test_supporting_twice_or_at_once_counts_once_and_never_ones_own(app: Werkbank) -> None:
    topics = app.services.topics
    anna = await member_at(app, "anna", BENDORF)
    ben = await member_at(app, "ben", KOBLENZ)
    _, topic = await topics.propose(anna, "Drechseln", "Schalen aus Kirschholz", [Field.CRAFT], NOW)
    results = await asyncio.gather(*(topics.support(ben, topic, "Schalen") for _ in range(5)))
    assert sorted(results) == sorted([Supported.ADDED] + [Supported.ALREADY] * 4)
    assert await topics.support(anna, topic) == Supported.OWN
    async with app.db.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(TopicInterest))
    assert count == 1
    view = await topics.get(ben, topic, KOBLENZ, 25)
    assert view is not None and view.supported and view.expectation == "Schalen"
    assert view.near == 2
    await topics.unsupport(ben, topic)
    view = await topics.get(ben, topic, KOBLENZ, 25)
    assert view is not None and not view.supported and view.near == 1


async def test_nearby_ranks_by_supporters_near_the_member(app: Werkbank) -> None:
    topics = app.services.topics
    anna = await member_at(app, "anna", BENDORF)
    fans = [await member_at(app, f"fan{i}", KOBLENZ) for i in range(3)]
    far = await member_at(app, "far", BERLIN)
    _, quiet = await topics.propose(anna, "Siebdruck", None, [Field.DESIGN], NOW)
    _, popular = await topics.propose(anna, "Fräsen mit CNC", None, [Field.DIGITAL], NOW)
    for fan in fans:
        await topics.support(fan, popular)
    await topics.support(far, quiet)  # lives in Berlin: not "near" in Koblenz
    shown, more = await topics.nearby(fans[0], KOBLENZ, 25)
    assert [(t.id, t.near) for t in shown] == [(popular, 4), (quiet, 1)] and not more


async def test_proposing_checks_the_title_and_the_same_title_twice_is_one_topic(
    app: Werkbank,
) -> None:
    topics = app.services.topics
    anna = await member_at(app, "anna", BENDORF)
    first = await topics.propose(anna, "Lasercutter für Holz", None, [Field.CRAFT], NOW)
    again = await topics.propose(anna, "lasercutter fuer holz", None, [Field.CRAFT], NOW)
    assert first[0] == Proposed.NEW and again == (Proposed.ALREADY, first[1])
    for bad in ("", "   ", "🔥🔥", "x" * 121):
        with pytest.raises(ServiceError):
            await topics.propose(anna, bad, None, [Field.CRAFT], NOW)


async def test_only_the_author_edits_or_withdraws_and_supporters_hear_it_once(
    app: Werkbank, clock: list[datetime]
) -> None:
    topics = app.services.topics
    anna = await member_at(app, "anna", BENDORF)
    ben = await member_at(app, "ben", KOBLENZ)
    _, topic = await topics.propose(anna, "Drechseln", None, [Field.CRAFT], NOW)
    await topics.support(ben, topic)
    with pytest.raises(NotAllowed):
        await topics.withdraw(ben, topic, NOW)
    with pytest.raises(NotAllowed):
        await topics.edit(ben, topic, "Mein Titel", None, NOW)
    await topics.edit(anna, topic, "Drechseln an der Wippdrehbank", None, NOW)
    assert await topics.withdraw(anna, topic, NOW) == 1
    with pytest.raises(ServiceError):
        await topics.withdraw(anna, topic, NOW)  # a second withdrawal changes nothing
    assert await topics.support(ben, topic) == Supported.GONE
    view = await topics.get(ben, topic, KOBLENZ, 25)
    assert view is not None and view.status == TopicStatus.WITHDRAWN

    inbox = Inbox()
    sent = await dispatcher(app, inbox, clock).run_once()
    assert sent == 1 and "Drechseln an der Wippdrehbank" in inbox.text("ben")
    assert "zurückgezogen" in inbox.text("ben")
    assert await dispatcher(app, inbox, clock).run_once() == 0  # never twice


async def test_in_the_chat_a_second_member_joins_the_first_ones_topic(app: Werkbank) -> None:
    anna, ben = ChatUser(app.runner, "anna"), ChatUser(app.runner, "ben")
    await anna.onboard("Bendorf")
    await anna.tap("Thema vorschlagen")
    await anna.send("Lasercutter für Holz")
    await anna.send("Intarsien für Möbel")
    await anna.tap("Handwerk")
    assert "Dein Thema ist eingetragen" in await anna.tap("Weiter")
    await ben.onboard("Koblenz")
    await ben.tap("Thema vorschlagen")
    assert "Ist es eines davon?" in await ben.send("Laser Cutter Holz")
    await ben.tap("Ich auch: Lasercutter")
    await ben.send("Schwalbenschwänze")
    text = await ben.tap("Ja")
    assert "2 Leute in deiner Nähe" in text and "Dein Wunsch: Schwalbenschwänze" in text
    assert "Persönliche Einladungen in kleine Gruppen: an" in await ben.send("/einstellungen")


async def test_organisers_near_a_group_hear_once_and_get_a_daily_update_at_most(
    app: Werkbank, clock: list[datetime]
) -> None:
    from datetime import timedelta

    from bot.codes import Role
    from tests.support.factories import add_event

    topics = app.services.topics
    olga = await member_at(app, "olga", BENDORF)
    fritz = await member_at(app, "fritz", BERLIN)
    for organiser in ("console:olga", "console:fritz"):
        await app.members.set_role(organiser, Role.ORGANISER)
    event = await add_event(app, "Stammtisch")  # at the MakerSpace near Bendorf
    async with app.db.transaction() as session:
        await session.execute(update(Event).where(Event.id == event).values(organiser_id=olga))
    anna = await member_at(app, "anna", BENDORF)
    _, topic = await topics.propose(anna, "Lasercutter für Holz", None, [Field.CRAFT], NOW)
    ben, carl, dora = [await member_at(app, n, KOBLENZ) for n in ("ben", "carl", "dora")]
    await app.members.set_field(ben, Field.DESIGN)
    await topics.support(ben, topic, now=NOW)

    inbox = Inbox()
    assert await dispatcher(app, inbox, clock).run_once() == 0  # two people: no demand yet
    await topics.support(carl, topic, now=NOW)
    assert await dispatcher(app, inbox, clock).run_once() == 1
    told = inbox.text("olga")
    assert "In deiner Nähe wollen 3 Leute „Lasercutter für Holz“ lernen." in told
    assert "Bereiche der Gruppe: Gestaltung (Design) 1" in told
    assert "Workshop daraus machen" in inbox.labels("olga")
    assert inbox.text("fritz") == ""  # Berlin is not this region
    assert fritz != olga

    await topics.support(dora, topic, now=NOW)  # a fourth the same day: no notice per tap
    assert await dispatcher(app, inbox, clock).run_once() == 0
    clock[0] = NOW + timedelta(days=1, hours=10)
    assert await dispatcher(app, inbox, clock).run_once() == 1
    assert "wollen 4 Leute" in inbox.text("olga")


async def test_a_workshop_made_of_a_topic_invites_its_group_and_tells_the_others(
    app: Werkbank, clock: list[datetime]
) -> None:
    from bot.codes import Role
    from bot.dialogs.actions import SIGN_UP
    from tests.support.factories import add_event

    olga, anna = ChatUser(app.runner, "olga"), ChatUser(app.runner, "anna")
    await olga.onboard("Bendorf")
    await app.members.set_role("console:olga", Role.ORGANISER)
    olga_id = (await app.runner.conversations.open(olga.account)).member.id
    stammtisch = await add_event(app, "Stammtisch")  # Olga's place: the MakerSpace
    async with app.db.transaction() as session:
        await session.execute(
            update(Event).where(Event.id == stammtisch).values(organiser_id=olga_id)
        )
    await anna.onboard("Bendorf")  # proposes, and will not be asked about invitations
    await anna.tap("Thema vorschlagen")
    await anna.send("Lasercutter für Holz")
    await anna.send("Intarsien für Möbel")
    await anna.tap("Handwerk")
    await anna.tap("Weiter")
    people = {}
    for name, field in (
        ("ben", "Gestaltung"),
        ("carl", "Handwerk"),
        ("dora", "Digitale"),
        ("emil", "Gestaltung"),
    ):
        person = ChatUser(app.runner, name, display_name=f"{name.title()} Muster")
        await person.onboard("Koblenz", field=field)
        await person.tap("Themen in der Nähe")
        await person.tap("Lasercutter für Holz")
        await person.tap("Ich auch")
        await person.tap("Überspringen")
        await person.tap("Ja")  # organisers may invite them
        people[name] = person

    await olga.send("Menü")
    await olga.tap("Themen in der Nähe")
    text = await olga.tap("Lasercutter für Holz")
    assert "Vorgeschlagene Gruppe, Treffpunkt MakerSpace Mayen-Koblenz:" in text
    assert "• Ben (Gestaltung (Design), Koblenz)" in text and "Muster" not in text
    assert "Anna" not in text  # she never agreed to be invited personally
    # How far they travel comes from where they live: rounded, never to the metre.
    assert re.search(r"Weitester Weg: (unter 5 km|ca\. [0-9]+ km)$", text, re.MULTILINE), text
    text = await olga.tap("Ben tauschen")  # she would rather not invite Ben this time
    assert "• Ben" not in text and "• Emil (Gestaltung (Design), Koblenz)" in text
    text = await olga.tap("Workshop daraus machen")
    assert "Wo findet sie statt?" in text
    assert olga.labels[0] == "MakerSpace Mayen-Koblenz (für die Gruppe am nächsten)"
    await olga.tap("für die Gruppe am nächsten")
    await olga.send("Do 17-20 Uhr")
    await olga.tap("Ja")
    await olga.tap("5 Plätze (Vorschlag)")
    await olga.tap("Keine Mindestzahl")
    text = await olga.tap("Bis zum Beginn")
    assert "Transfer-Workshop" in text and "Intarsien für Möbel" in text
    await olga.tap("Veröffentlichen")

    inbox = Inbox()
    assert await dispatcher(app, inbox, clock).run_once() == 5
    for name in ("carl", "dora", "emil"):
        assert "Du bist persönlich eingeladen" in inbox.text(name)
        assert "Anmelden" in inbox.labels(name)
    for name in ("anna", "ben"):
        assert "gibt es jetzt einen Workshop: „Lasercutter für Holz“" in inbox.text(name)
    async with app.db.sessions() as session:
        event = await session.scalar(select(Event).where(Event.title == "Lasercutter für Holz"))
    assert event is not None and event.topic_id is not None
    ben = people["ben"]
    assert "Du bist angemeldet" in await ben.press(SIGN_UP(event.id))  # one tap
    await anna.send("Menü")
    assert "Lasercutter für Holz" not in await anna.tap("Themen in der Nähe")  # planned now


async def test_an_organiser_closes_a_topic_and_merges_a_duplicate(
    app: Werkbank, clock: list[datetime]
) -> None:
    from bot.codes import Role
    from bot.dialogs.topics import MOVE

    olga, anna, ben, carl = (ChatUser(app.runner, n) for n in ("olga", "anna", "ben", "carl"))
    await olga.onboard("Bendorf")
    await app.members.set_role("console:olga", Role.ORGANISER)
    topics = app.services.topics
    await anna.onboard("Bendorf")
    await ben.onboard("Koblenz")
    await carl.onboard("Koblenz")
    anna_id = (await app.runner.conversations.open(anna.account)).member.id
    ben_id = (await app.runner.conversations.open(ben.account)).member.id
    carl_id = (await app.runner.conversations.open(carl.account)).member.id
    craft, design = [Field.CRAFT], [Field.DESIGN]
    _, keep = await topics.propose(anna_id, "Lasercutter für Holz", None, craft, NOW)
    _, twin = await topics.propose(ben_id, "Holz lasern mit dem Lasercutter", None, design, NOW)
    _, dull = await topics.propose(ben_id, "Plotter für Schilder", None, [Field.DIGITAL], NOW)
    await topics.support(carl_id, twin, now=NOW)

    with pytest.raises(NotAllowed):
        await topics.close(anna_id, dull, "Kein Interesse", NOW)  # members may not
    await olga.send("Menü")
    await olga.tap("Themen in der Nähe")
    await olga.tap("Plotter für Schilder")
    await olga.tap("Thema schließen")
    text = await olga.send("Dafür gibt es schon einen Kurs in Koblenz.")
    assert "„Plotter für Schilder“ schließen" in text
    assert "Das Thema ist geschlossen. Ich sage es 1 Person." in await olga.tap("Ja, schließen")

    await olga.tap("Holz lasern mit dem Lasercutter")
    await olga.tap("Zusammenlegen")
    text = await olga.tap("Lasercutter für Holz")
    assert "„Holz lasern mit dem Lasercutter“ mit „Lasercutter für Holz“ zusammenlegen?" in text
    assert "Ich frage jetzt 2 Personen" in await olga.tap("Ja, zusammenlegen")

    inbox = Inbox()
    assert await dispatcher(app, inbox, clock).run_once() == 3  # ben twice, carl once
    assert "Grund: Dafür gibt es schon einen Kurs in Koblenz." in inbox.text("ben")
    assert "gehört jetzt zu „Lasercutter für Holz“" in inbox.text("carl")
    assert "Unterstützung auf „Lasercutter für Holz“ übertragen?" in inbox.text("carl")
    view = await topics.get(carl_id, keep, None, 0)
    assert view is not None and not view.supported  # nothing moves without a yes
    assert "Notiert" in await carl.press(MOVE(True))
    view = await topics.get(carl_id, keep, None, 0)
    assert view is not None and view.supported
    assert await topics.support(carl_id, twin, now=NOW) == Supported.GONE


async def test_seats_kept_for_the_group_go_to_the_waitlist_when_their_time_is_up(
    app: Werkbank, clock: list[datetime]
) -> None:
    from datetime import timedelta

    from bot.codes import EventFormat, RegistrationStatus, Role
    from bot.services.contracts import EventDraft, Outcome
    from tests.support.clock import START

    topics, registrations = app.services.topics, app.services.registrations
    olga = await member_at(app, "olga", BENDORF)
    await app.members.set_role("console:olga", Role.ORGANISER)
    anna = await member_at(app, "anna", BENDORF)
    ben, carl, dora = [await member_at(app, n, KOBLENZ) for n in ("ben", "carl", "dora")]
    _, topic = await topics.propose(anna, "Drechseln", None, [Field.CRAFT], NOW)
    for supporter in (ben, carl):
        await topics.support(supporter, topic, now=NOW)
    async with app.db.sessions() as session:
        place = await session.scalar(select(Place.id).where(Place.town == "Bendorf"))
    assert place is not None
    event = await app.services.organiser.create(
        olga,
        EventDraft(
            format=EventFormat.TRANSFER,
            title="Drechseln",
            description=None,
            place_id=place,
            start_at=START,
            end_at=START + timedelta(hours=3),
            capacity=2,
            topic_id=topic,
            invite=(ben, carl),
        ),
        NOW,
    )
    # Both seats are kept for the group: someone else waits.
    assert (await registrations.sign_up(dora, event, NOW)).outcome == Outcome.WAITLISTED
    taken = await registrations.sign_up(ben, event, NOW)
    assert taken.outcome == Outcome.REGISTERED  # the kept seat is his with one tap
    held = await registrations.for_event(carl, event)
    assert held is not None and held.status == RegistrationStatus.HELD

    inbox = Inbox()
    await dispatcher(app, inbox, clock).run_once()  # the invitations and "it exists"
    clock[0] = NOW + timedelta(hours=48, minutes=1)
    inbox = Inbox()
    await dispatcher(app, inbox, clock).run_once()
    assert "keinen Platz mehr für dich frei" in inbox.text("carl")
    assert "für alle frei" not in inbox.text("ben")  # he took his: nothing to tell
    assert "Ein Platz ist frei geworden" in inbox.text("dora")
    moved = await registrations.for_event(dora, event)
    assert moved is not None and moved.status == RegistrationStatus.REGISTERED
    async with app.db.sessions() as session:
        seats = await session.scalar(
            select(func.count(Registration.id)).where(
                Registration.event_id == event, Registration.status.in_(HOLDS_SEAT)
            )
        )
    assert seats == 2  # never more than the capacity


async def test_a_planned_topic_links_its_workshop_and_is_done_once_it_took_place(
    app: Werkbank, clock: list[datetime]
) -> None:
    from datetime import timedelta

    from bot.codes import EventFormat, Role
    from bot.services.contracts import EventDraft
    from tests.support.clock import START

    topics = app.services.topics
    olga = await member_at(app, "olga", BENDORF)
    await app.members.set_role("console:olga", Role.ORGANISER)
    anna = ChatUser(app.runner, "anna")
    await anna.onboard("Bendorf")
    anna_id = (await app.runner.conversations.open(anna.account)).member.id
    _, topic = await topics.propose(anna_id, "Drechseln", None, [Field.CRAFT], NOW)
    async with app.db.sessions() as session:
        place = await session.scalar(select(Place.id).where(Place.town == "Bendorf"))
    assert place is not None
    await app.services.organiser.create(
        olga,
        EventDraft(
            format=EventFormat.TRANSFER,
            title="Drechseln",
            description=None,
            place_id=place,
            start_at=START,
            end_at=START + timedelta(hours=3),
            capacity=5,
            topic_id=topic,
        ),
        NOW,
    )
    await anna.send("Menü")
    assert "Drechseln" not in await anna.tap("Themen in der Nähe")  # no longer open
    assert "Drechseln" in await anna.tap("Meine Themen")  # but still hers
    text = await anna.tap("Drechseln")
    assert "Zu diesem Thema ist ein Workshop geplant." in text
    assert "Drechseln" in await anna.tap("Zum Workshop") and "Anmelden" in anna.labels
    view = await topics.get(anna_id, topic, None, 0, NOW)
    assert view is not None and view.status == TopicStatus.PLANNED and view.event_id
    clock[0] = START + timedelta(hours=4)
    view = await topics.get(anna_id, topic, None, 0, clock[0])
    assert view is not None and view.status == TopicStatus.DONE


async def test_organisers_list_the_topics_with_demand_in_their_region(app: Werkbank) -> None:
    from bot.codes import Role

    olga = ChatUser(app.runner, "olga")
    await olga.onboard("Bendorf")
    await app.members.set_role("console:olga", Role.ORGANISER)
    topics = app.services.topics
    anna = await member_at(app, "anna", BENDORF)
    _, wanted = await topics.propose(anna, "Lasercutter für Holz", None, [Field.CRAFT], NOW)
    await topics.propose(anna, "Siebdruck", None, [Field.DESIGN], NOW)
    for name in ("ben", "carl"):
        await topics.support(await member_at(app, name, KOBLENZ), wanted, now=NOW)
    await olga.send("Menü")
    text = await olga.tap("Themen in der Nähe")
    assert "👥 Lasercutter für Holz" in text and "Siebdruck" in text
    text = await olga.tap("Nur mit Nachfrage")
    assert "Lasercutter für Holz" in text and "Siebdruck" not in text
    assert "Siebdruck" in await olga.tap("Alle Themen")


async def test_a_hold_whose_invitee_blocked_the_bot_is_freed_all_the_same(
    app: Werkbank, clock: list[datetime]
) -> None:
    from datetime import timedelta

    from bot.codes import EventFormat, RegistrationStatus, Role
    from bot.services.contracts import EventDraft, Outcome
    from bot.storage.models import ChannelAccount
    from tests.support.clock import START

    topics, registrations = app.services.topics, app.services.registrations
    olga = await member_at(app, "olga", BENDORF)
    await app.members.set_role("console:olga", Role.ORGANISER)
    anna = await member_at(app, "anna", BENDORF)
    carl, dora = [await member_at(app, n, KOBLENZ) for n in ("carl", "dora")]
    _, topic = await topics.propose(anna, "Drechseln", None, [Field.CRAFT], NOW)
    await topics.support(carl, topic, "Schalen", now=NOW)
    async with app.db.sessions() as session:
        place = await session.scalar(select(Place.id).where(Place.town == "Bendorf"))
    assert place is not None
    draft = EventDraft(
        format=EventFormat.TRANSFER,
        title="Drechseln",
        description=None,
        place_id=place,
        start_at=START,
        end_at=START + timedelta(hours=3),
        capacity=1,
        topic_id=topic,
        invite=(carl,),
    )
    event = await app.services.organiser.create(olga, draft, NOW)
    held = await registrations.for_event(carl, event)
    assert held is not None and held.expectation == "Schalen"  # the wish comes along
    assert (await registrations.sign_up(dora, event, NOW)).outcome == Outcome.WAITLISTED
    async with app.db.transaction() as session:  # Carl blocked the bot
        await session.execute(
            update(ChannelAccount).where(ChannelAccount.member_id == carl).values(blocked=True)
        )
    clock[0] = NOW + timedelta(hours=48, minutes=11)
    await dispatcher(app, Inbox(), clock).run_once()
    moved = await registrations.for_event(dora, event)
    assert moved is not None and moved.status == RegistrationStatus.REGISTERED
