"""Step 6: events near me this week, next weekend, later; details."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.app import Werkbank
from bot.codes import EventFormat
from bot.storage.models import Event
from tests.support.chat import ChatUser
from tests.support.clock import BERLIN, NOW
from tests.support.factories import add_event


async def test_this_week_lists_an_event_with_date_format_place_distance_and_seats(
    app: Werkbank, user: ChatUser
) -> None:
    await add_event(app, "Holz und Laser", start=datetime(2026, 11, 25, 17, tzinfo=BERLIN))
    await user.onboard("Bendorf")
    await user.tap("Veranstaltungen")
    text = await user.tap("Diese Woche")
    assert "Mi., 25. Nov., 17–20 Uhr · Workshop in kleiner Runde" in text
    assert "Holz und Laser" in text
    assert "MakerSpace Mayen-Koblenz, Bendorf" in text
    assert re.search(r"\d+(,\d)? km|\d+ m", text)
    assert "5 Plätze frei" in text


async def test_next_weekend_and_later_split_the_calendar(app: Werkbank, user: ChatUser) -> None:
    await add_event(
        app,
        "Samstagswerkstatt",
        start=datetime(2026, 11, 28, 10, tzinfo=BERLIN),
        end=datetime(2026, 11, 28, 20, tzinfo=BERLIN),
    )
    await add_event(app, "Dezembertreffen", start=datetime(2026, 12, 10, 17, tzinfo=BERLIN))
    await user.onboard("Bendorf")
    await user.tap("Veranstaltungen")
    weekend = await user.tap("Nächstes Wochenende")
    assert "Samstagswerkstatt" in weekend and "Dezembertreffen" not in weekend
    await user.send("Zurück")
    later = await user.tap("Später")
    assert "Dezembertreffen" in later and "Samstagswerkstatt" not in later


async def test_event_details_show_everything_and_lead_to_the_place(
    app: Werkbank, user: ChatUser
) -> None:
    await add_event(app, "Maßschuhe und 3D-Scan", start=datetime(2026, 11, 26, 17, tzinfo=BERLIN))
    await user.onboard("Bendorf")
    await user.tap("Veranstaltungen")
    await user.tap("Diese Woche")
    text = await user.tap("Maßschuhe")
    assert "Do., 26. Nov., 17–20 Uhr" in text
    assert "Plätze: 5 von 5 frei" in text
    text = await user.tap("Zum Ort")
    assert "MakerSpace Mayen-Koblenz" in text and "Öffnungszeiten:" in text


async def test_no_events_nearby_names_the_nearest_one_and_offers_other_periods(
    user: ChatUser,
) -> None:
    await user.send("/start")
    await user.tap("Deutsch")
    await user.agree()
    await user.share_location(47.49, 11.09)  # Garmisch-Partenkirchen: no demo place within 25 km
    await user.tap("Handwerk")
    await user.tap("Veranstaltungen")
    text = await user.tap("Diese Woche")
    assert "keine Veranstaltungen im Umkreis von 25 km" in text
    assert {"Nächstes Wochenende", "Später"} <= set(user.labels)
    # The nearest demo event at any distance, with its date and distance, one tap away.
    found = re.search(r"^Der nächste Termin: .+, (\d+) km\)\.$", text, re.MULTILINE)
    assert found, text
    assert int(found[1]) > 25
    title = user.labels[0].removesuffix("…")
    assert title in found[0]
    text = await user.tap(title)
    assert text.startswith(title) and "Wo:" in text


async def test_demo_events_cover_every_format_over_eight_weeks(app: Werkbank) -> None:
    from sqlalchemy import select

    async with app.db.sessions() as session:
        rows = (await session.execute(select(Event.format, Event.start_at))).all()
    assert {fmt for fmt, _ in rows} == set(EventFormat)
    assert all(NOW < start <= NOW + timedelta(days=57) for _, start in rows)


async def test_events_in_english(app: Werkbank, user: ChatUser) -> None:
    await add_event(app, "Wood meets laser", start=datetime(2026, 11, 25, 17, tzinfo=BERLIN))
    await user.onboard("Bendorf", language="English", field="Craft")
    await user.tap("Events")
    text = await user.tap("This week")
    # Babel puts thin and narrow no-break spaces around the dash and before PM.
    assert "Wed, Nov 25, 5 – 8 PM · Transfer workshop" in text.replace("\u2009", " ").replace(
        "\u202f", " "
    )
    assert "5 seats free" in text
