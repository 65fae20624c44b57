"""Signing up from an event's details, the waitlist, "Meine Anmeldungen", reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.app import Werkbank
from bot.codes import EventFormat
from bot.storage.models import Event
from tests.support.chat import ChatUser
from tests.support.factories import START, add_event, open_event
from tests.support.inbox import Inbox, dispatcher


async def test_sign_up_with_expectation_confirms_with_date_place_and_calendar_file(
    app: Werkbank, user: ChatUser
) -> None:
    event_id = await add_event(app)
    await user.onboard("Bendorf")
    text = await open_event(user, event_id)
    assert "Plätze: 5 von 5 frei" in text
    text = await user.tap("Anmelden")
    assert "Was erwartest du von dem Workshop?" in text and "Überspringen" in user.labels
    text = await user.send("Ich will lernen, wie man Holz mit dem Laser graviert.")
    assert "Du bist angemeldet für „Holz trifft Laser“." in text
    assert "Do., 26. Nov., 17–20 Uhr" in text
    assert "MakerSpace Mayen-Koblenz" in text
    files = [m.attachment for m in user.last if m.attachment]
    assert files and files[0].filename.endswith(".ics")
    assert b"BEGIN:VEVENT" in files[0].data and b"UID:" in files[0].data
    assert "Deine Erwartung: Ich will lernen" in text
    text = await open_event(user, event_id)
    assert "Plätze: 4 von 5 frei" in text and "Du bist angemeldet." in text


async def test_the_expectation_can_be_skipped_and_networking_does_not_ask(
    app: Werkbank, user: ChatUser
) -> None:
    transfer = await add_event(app)
    meeting = await add_event(app, "Stammtisch", fmt=EventFormat.NETWORKING, capacity=None)
    await user.onboard("Bendorf")
    await open_event(user, transfer)
    await user.tap("Anmelden")
    assert "Du bist angemeldet" in await user.tap("Überspringen")
    await open_event(user, meeting)
    assert "Du bist angemeldet für „Stammtisch“" in await user.tap("Anmelden")


async def test_a_full_event_puts_the_member_on_the_waitlist(app: Werkbank) -> None:
    event_id = await add_event(app, capacity=1, fmt=EventFormat.NETWORKING)
    anna, ben, cem = (ChatUser(app.runner, name) for name in ("anna", "ben", "cem"))
    for user in (anna, ben, cem):
        await user.onboard("Bendorf")
        await open_event(user, event_id)
    await anna.tap("Anmelden")
    text = await open_event(ben, event_id)
    assert "Plätze: 0 von 1 frei" in text and "Auf die Warteliste" in ben.labels
    text = await ben.tap("Auf die Warteliste")
    assert "ausgebucht" in text and "Du bist Nr. 1 auf der Warteliste." in text
    # Cem's screen is older: "Anmelden" on it still leads to the waitlist, and says so.
    assert "Du bist Nr. 2 auf der Warteliste." in await cem.tap("Anmelden")


async def test_a_word_of_one_button_typed_presses_it(app: Werkbank) -> None:
    event_id = await add_event(app, capacity=1, fmt=EventFormat.NETWORKING)
    anna, ben = ChatUser(app.runner, "anna"), ChatUser(app.runner, "ben")
    for user in (anna, ben):
        await user.onboard("Bendorf")
    await open_event(anna, event_id)
    assert "Du bist angemeldet" in await anna.send("anmelden")
    await open_event(ben, event_id)
    # "warteliste" is part of "Auf die Warteliste" only; "abmelden" of "Ja, abmelden".
    assert "Du bist Nr. 1 auf der Warteliste." in await ben.send("Warteliste")
    await ben.send("Abmelden")
    assert "abgemeldet" in await ben.send("abmelden")
    # Too short or in several labels: not a press, but a kind hint and the screen.
    await open_event(ben, event_id)
    assert "nicht verstanden" in await ben.send("auf")


async def test_cancelling_with_confirm_moves_the_next_up_and_tells_them(
    app: Werkbank, clock: list[datetime]
) -> None:
    event_id = await add_event(app, capacity=1, fmt=EventFormat.NETWORKING)
    anna, ben = ChatUser(app.runner, "anna"), ChatUser(app.runner, "ben")
    for user in (anna, ben):
        await user.onboard("Bendorf")
        await open_event(user, event_id)
        await user.tap("Anmelden") if user is anna else await user.tap("Auf die Warteliste")

    await anna.send("Menü")
    text = await anna.tap("Meine Anmeldungen")
    assert "Holz trifft Laser" in text and "Du bist angemeldet." in text
    await anna.tap("Holz trifft Laser")
    text = await anna.tap("Abmelden")
    assert "wirklich" in text
    text = await anna.tap("Nein")
    assert "Du bist angemeldet." in text  # nothing changed
    await anna.tap("Abmelden")
    text = await anna.tap("Ja, abmelden")
    assert "Du bist von „Holz trifft Laser“ abgemeldet." in text
    assert "Du bist noch für nichts angemeldet." in text

    inbox = Inbox()
    sent = await dispatcher(app, inbox, clock).run_once()
    assert sent == 1
    told = inbox.text("ben")
    assert "Ein Platz ist frei geworden" in told and "Platz ablehnen" in inbox.labels("ben")
    # The notice opened Ben's registration: declining is one tap (here: its number).
    number = inbox.labels("ben").index("Platz ablehnen") + 1
    text = await ben.send(str(number))
    assert "abgemeldet" in text


async def test_reminders_come_once_the_day_before_and_two_hours_before(
    app: Werkbank, user: ChatUser, clock: list[datetime]
) -> None:
    event_id = await add_event(app, fmt=EventFormat.NETWORKING)
    await user.onboard("Bendorf")
    await open_event(user, event_id)
    await user.tap("Anmelden")
    inbox = Inbox()
    send = dispatcher(app, inbox, clock)
    assert await send.run_once() == 0  # nothing due yet
    clock[0] = START - timedelta(hours=23)
    assert await send.run_once() == 1
    assert "Erinnerung: Morgen ist „Holz trifft Laser“." in inbox.text("anna")
    assert await send.run_once() == 0  # never twice
    clock[0] = START - timedelta(hours=1, minutes=50)
    assert await send.run_once() == 1
    assert "beginnt in zwei Stunden" in inbox.text("anna")


async def test_no_reminder_after_cancelling_or_when_switched_off(
    app: Werkbank, clock: list[datetime]
) -> None:
    event_id = await add_event(app, fmt=EventFormat.NETWORKING)
    anna, ben = ChatUser(app.runner, "anna"), ChatUser(app.runner, "ben")
    for user in (anna, ben):
        await user.onboard("Bendorf")
        await open_event(user, event_id)
        await user.tap("Anmelden")
    await anna.tap("Abmelden")
    await anna.tap("Ja, abmelden")
    await ben.send("/einstellungen")
    text = await ben.tap("Erinnerung am Vortag")
    assert "Erinnerung ausgeschaltet." in text and "Erinnerung am Vortag: aus" in text
    inbox = Inbox()
    clock[0] = START - timedelta(hours=23)
    assert await dispatcher(app, inbox, clock).run_once() == 0
    assert inbox.got == []


async def test_a_reminder_missed_while_down_comes_late_only_while_it_helps(
    app: Werkbank, user: ChatUser, clock: list[datetime]
) -> None:
    event_id = await add_event(app, fmt=EventFormat.NETWORKING)
    await user.onboard("Bendorf")
    await open_event(user, event_id)
    await user.tap("Anmelden")
    inbox = Inbox()
    # The bot was down from the day before until 90 minutes before the start:
    # the day-before reminder is stale, the two-hours one still helps.
    clock[0] = START - timedelta(minutes=90)
    assert await dispatcher(app, inbox, clock).run_once() == 1
    assert "beginnt in zwei Stunden" in inbox.text("anna")
    assert "Morgen" not in inbox.text("anna")


async def test_sign_up_is_closed_after_the_start(
    app: Werkbank, user: ChatUser, clock: list[datetime]
) -> None:
    event_id = await add_event(app, fmt=EventFormat.NETWORKING)
    await user.onboard("Bendorf")
    text = await open_event(user, event_id)
    assert "Anmelden" in user.labels
    clock[0] = START + timedelta(minutes=5)
    text = await open_event(user, event_id)
    assert "Anmelden" not in user.labels and "Anmeldung" in text and "geschlossen" in text


async def test_a_stale_sign_up_button_for_a_cancelled_event_is_answered_kindly(
    app: Werkbank, user: ChatUser
) -> None:
    event_id = await add_event(app, fmt=EventFormat.NETWORKING)
    await user.onboard("Bendorf")
    await open_event(user, event_id)
    async with app.db.transaction() as session:
        event = await session.get(Event, event_id)
        assert event is not None
        event.status = "cancelled"  # type: ignore[assignment]
    text = await user.tap("Anmelden")
    assert "abgesagt" in text
    async with app.db.sessions() as session:
        from bot.storage.models import Registration

        assert (await session.scalars(select(Registration))).all() == []


async def test_a_too_long_expectation_is_asked_again_not_cut(app: Werkbank, user: ChatUser) -> None:
    event_id = await add_event(app)
    await user.onboard("Bendorf")
    await open_event(user, event_id)
    await user.tap("Anmelden")
    text = await user.send("Ich möchte lernen. " * 100)  # 1 900 characters
    assert "Hier passen höchstens 1.000" in text and "Was erwartest du" in text
    assert "Du bist angemeldet" in await user.send("Intarsien mit dem Laser.")
