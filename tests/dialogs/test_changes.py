"""Changes in full, on fakes: a change notice names the old and the new time, title and
seats and brings the calendar file; an event's details say from how many sign-ups it
takes place; an English organiser gets English date examples."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar

from bot.codes import NoticeKind
from bot.messages import OutMessage
from bot.services.contracts import EventChange, NoticeView
from tests.support.chat import ChatUser
from tests.support.clock import BERLIN, NOW, START
from tests.support.fakes import FakeWorld


async def member(world: FakeWorld, name: str, language: str = "Deutsch") -> ChatUser:
    user = world.user(name)
    await user.onboard(
        "Bendorf", language=language, field="Craft" if language != "Deutsch" else "Handwerk"
    )
    return user


async def signed_up(
    world: FakeWorld, name: str, event_id: int, language: str = "Deutsch"
) -> ChatUser:
    """A member with a seat, or on the waitlist once the seats are taken."""
    user = await member(world, name, language)
    await user.send(f"/start ev_{event_id}")
    sign_up = [label for label in user.labels if label in ("Anmelden", "Sign up")]
    await user.tap(sign_up[0] if sign_up else ("Warteliste", "waiting")[language != "Deutsch"])
    skip = [label for label in user.labels if label in ("Überspringen", "Skip")]
    if skip:  # a transfer workshop asks what they expect
        await user.tap(skip[0])
    return user


async def change_notice(world: FakeWorld, user: ChatUser) -> list[OutMessage]:
    """The change notice the outbox holds for `user`, as the dispatcher would render it."""
    me = world.member(user)
    [notice] = [
        n
        for n in world.store.notices
        if n.member_id == me.id and n.kind == NoticeKind.EVENT_CHANGED
    ]
    assert notice.event_id is not None
    event = world.store.events[notice.event_id]
    place = world.store.places[event.place_id] if event.place_id is not None else None
    view = NoticeView(
        id=1,
        kind=notice.kind,
        member_id=me.id,
        event_id=event.id,
        registration_id=notice.registration_id,
        title=event.title,
        start_at=event.start_at,
        end_at=event.end_at,
        place_name=place.name if place else None,
        town=place.town if place else None,
        params=notice.params,
        locale=me.locale,
    )
    return await world.runner.notice(user.account, view)


def calendar_of(messages: list[OutMessage]) -> tuple[str, int]:
    """UID and SEQUENCE of the one calendar file among `messages`."""
    [ics] = [m.attachment for m in messages if m.attachment is not None]
    assert ics.filename.endswith(".ics") and ics.mime_type == "text/calendar"
    [vevent] = Calendar.from_ical(ics.data).walk("VEVENT")
    return str(vevent["UID"]), int(vevent.decoded("SEQUENCE"))


async def test_a_later_start_names_the_old_time_and_brings_the_calendar_file_to_seat_and_waitlist(
    world: FakeWorld,
) -> None:
    olga = await member(world, "olga")
    owner = world.grant(olga)
    event_id = world.add_event(capacity=1, organiser=olga)
    anna = await signed_up(world, "anna", event_id)
    ben = await signed_up(world, "ben", event_id)  # the one seat is Anna's: Ben waits

    await world.services.organiser.change(
        owner.id, event_id, EventChange(start_at=START + timedelta(minutes=30)), NOW
    )

    for user in (anna, ben):
        said = await change_notice(world, user)
        text = "\n".join(m.text for m in said)
        assert "„Holz trifft Laser“ hat sich geändert:" in text
        # The same day: the old part names only the old time.
        assert "• Neue Zeit: Do., 26. Nov., 17:30–20:30 Uhr (vorher 17–20 Uhr)" in text
        assert calendar_of(said) == (f"werkbank-fake-{event_id}@werkbank", 1)


async def test_a_new_day_title_and_seats_name_old_and_new_in_the_members_language(
    world: FakeWorld,
) -> None:
    olga = await member(world, "olga")
    owner = world.grant(olga)
    event_id = world.add_event(capacity=1, organiser=olga)
    anna = await signed_up(world, "anna", event_id)
    emma = await signed_up(world, "emma", event_id, language="English")

    change = EventChange(
        title="Intarsien mit dem Laser", start_at=START + timedelta(days=1, minutes=30), capacity=3
    )
    await world.services.organiser.change(owner.id, event_id, change, NOW)

    german = "\n".join(m.text for m in await change_notice(world, anna))
    assert "„Holz trifft Laser“ hat sich geändert:" in german
    assert "• Neuer Titel: „Intarsien mit dem Laser“ (vorher „Holz trifft Laser“)" in german
    assert "• Neue Zeit: Fr., 27. Nov., 17:30–20:30 Uhr (vorher Do., 26. Nov., 17–20 Uhr)" in german
    assert "• Plätze: jetzt 3 (vorher 1)" in german
    english = await change_notice(world, emma)
    text = "\n".join(m.text for m in english)
    assert "• New title: “Intarsien mit dem Laser” (was “Holz trifft Laser”)" in text
    assert "• New time: Fri, Nov 27, 5:30" in text and "(was Thu, Nov 26, 5" in text
    assert "• Seats: now 3 (was 1)" in text
    assert "Uhr" not in text and "vorher" not in text
    assert calendar_of(english)[1] == 1


async def test_a_change_notice_written_before_old_values_were_kept_still_reads(
    world: FakeWorld,
) -> None:
    event_id = world.add_event()
    anna = await signed_up(world, "anna", event_id)
    world.store.tell(
        world.store.events[event_id],
        NoticeKind.EVENT_CHANGED,
        {"changes": ["The date or time has changed."]},
    )
    text = "\n".join(m.text for m in await change_notice(world, anna))
    assert "• Das Datum oder die Uhrzeit hat sich geändert." in text
    assert "Do., 26. Nov., 17–20 Uhr" in text  # then the time is said below


async def test_details_say_from_how_many_sign_ups_it_takes_place_and_when_that_is_decided(
    world: FakeWorld,
) -> None:
    decided = datetime(2026, 11, 25, 12, tzinfo=BERLIN)
    event_id = world.add_event(minimum=3, minimum_by=decided)
    anna = await member(world, "anna")
    text = await anna.send(f"/start ev_{event_id}")
    assert "Findet statt ab 3 Anmeldungen. Entscheidung am Mi., 25. Nov." in text
    assert "Nov.." not in text and "Minimum" not in text
    await anna.tap("Anmelden")
    await anna.tap("Überspringen")
    await anna.send("Menü")
    await anna.tap("Meine Anmeldungen")
    text = await anna.tap("Holz trifft Laser")
    assert "Findet statt ab 3 Anmeldungen. Entscheidung am Mi., 25. Nov." in text

    emma = await member(world, "emma", "English")
    text = await emma.send(f"/start ev_{event_id}")
    assert "Takes place with 3 sign-ups or more. Decided on Wed, Nov 25." in text

    world.clock[0] = decided + timedelta(hours=1)  # decided: it takes place
    assert "Findet statt ab" not in await anna.send(f"/start ev_{event_id}")
    plain = world.add_event(title="Ohne Mindestzahl")
    assert "Findet statt ab" not in await anna.send(f"/start ev_{plain}")


async def test_an_english_organiser_gets_english_date_examples_and_is_understood(
    world: FakeWorld,
) -> None:
    olga = await member(world, "olga", "English")
    world.grant(olga)
    await olga.send("Menu")
    await olga.tap("Create an event")
    text = await olga.tap("Transfer workshop")
    assert "Wood meets laser" in text and "Holz" not in text
    await olga.send("Marquetry with the laser")
    await olga.tap("Skip")
    text = await olga.tap("MakerSpace Mayen-Koblenz")
    assert "“Tue 5 pm”" in text and "Uhr" not in text and "morgen" not in text
    text = await olga.send("Tue 5 pm")
    assert "Uhr" not in text
    assert "Tue, Nov 24, 5" in text
