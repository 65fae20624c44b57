"""An announcement on Matrix against Synapse's default rate limit for messages: 20
members in their direct chats, an organiser in hers, and the bot paced like the
homeserver (`matrix_rate_limit`), so nothing is lost, nothing comes twice."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.codes import Role
from bot.config import Settings
from bot.handlers.matrix import MatrixChannel
from bot.messages import AccountRef
from bot.storage.models import Event
from tests.e2e.synapse import DEFAULT_MESSAGE_RATE, Synapse
from tests.e2e.test_matrix import MatrixBot, Member
from tests.support.clock import NOW
from tests.support.factories import add_event

RECIPIENTS = 20
TEXT = "Samstag räumen wir die Werkstatt auf. Wer mag, bringt Kuchen mit!"


async def test_matrix_on_synapse_with_its_default_rate_limits_20_members_get_it_once_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Synapse's own rc_message (0.2 messages/s, a burst of 10); joins, logins and
    # registrations stay generous, or the setup alone would take minutes.
    server = Synapse(tmp_path / "synapse", message_rate=DEFAULT_MESSAGE_RATE)
    server.start()
    bot = MatrixBot(server, tmp_path / "bot")  # the default pacing: 0.2/s, a burst of 10
    people = [Member(server, tmp_path / f"member{i}") for i in range(RECIPIENTS)]
    olga = Member(server, tmp_path / "olga")
    everyone = [*people, olga]
    try:
        # The 21 greetings and Olga's way through the dialog are not what is tested:
        # for them the bot runs as the README says for a bot whose limit an admin
        # lifted (override_ratelimit, and no pacing of its own).
        server.lift_rate_limits(bot.user_id)
        bot.settings = bot.settings.model_copy(update={"matrix_rate_limit": 0})
        await bot.start()
        assert bot.app is not None
        await asyncio.gather(*(p.start() for p in everyone))
        # Half of them in encrypted chats, as Element opens them; each greeting makes
        # the member's row, with the chat to reach them in.
        greetings = await asyncio.gather(
            *(
                p.reply(p.open_direct_chat(bot.user_id, encrypted=i % 2 == 0))
                for i, p in enumerate(everyone)
            )
        )
        assert all("Willkommen bei Werkbank" in g for g in greetings)

        event_id = await add_event(bot.app, "Aufräumtag", capacity=RECIPIENTS)
        for person in people:
            conv = await bot.app.conversations.open(AccountRef("matrix", person.user_id))
            await bot.app.registrations.sign_up(conv.member.id, event_id, NOW)
        await bot.app.members.set_role(f"matrix:{olga.user_id}", Role.ORGANISER)
        organiser = await bot.app.conversations.open(AccountRef("matrix", olga.user_id))
        async with bot.app.db.transaction() as session:
            await session.execute(
                update(Event).where(Event.id == event_id).values(organiser_id=organiser.member.id)
            )

        await olga.reply(olga.say("Deutsch"))
        await olga.reply(olga.say("Einverstanden"))  # the privacy text (issue 17)
        await olga.reply(olga.say("Bendorf"))
        assert "Ankündigung senden" in await olga.reply(olga.say("Handwerk"))
        await olga.reply(olga.say("Ankündigung senden"))
        assert "Aufräumtag" in await olga.reply(olga.say("Menschen einer meiner Veranstaltungen"))
        await olga.reply(olga.say("Aufräumtag"))
        await olga.reply(olga.say("Beide"))
        # To an event's people the button is the event's own "Anmelden": the preview.
        preview = await olga.reply(olga.say(TEXT))
        assert TEXT in preview and "Geht an 20 Personen" in preview and "Senden" in preview

        # Now Synapse's defaults for the bot's account, and the bot restarted with its
        # default pacing (0.2/s, a burst of 10); Olga's preview waits for her.
        await bot.stop()
        server.restore_rate_limits(bot.user_id)
        default = Settings.model_fields["matrix_rate_limit"].default
        bot.settings = bot.settings.model_copy(update={"matrix_rate_limit": default})
        await bot.start(demo=False)
        assert bot.app is not None and isinstance(bot.channel, MatrixChannel)
        with caplog.at_level(logging.WARNING, logger="nio"):
            # Her "Senden" is answered at once, and counts against the same 10.
            running = await olga.reply(olga.say("Senden"))
            assert "0 von 20 gesendet" in running and "Anhalten" in running
            loop = asyncio.get_running_loop()
            started = loop.time()
            dispatcher = bot.app.dispatcher({"matrix": bot.channel})
            assert await dispatcher.run_once() == RECIPIENTS
            assert await dispatcher.run_once() == 0  # nothing left, nothing twice
            took = loop.time() - started

            deadline = loop.time() + 15
            while loop.time() < deadline and not (
                all(_got(p) for p in people) and _said(olga, "Ankündigung gesendet.")
            ):
                await asyncio.sleep(0.1)
            await asyncio.sleep(1)  # room for a second copy to show up, if there were one

        counts = [sum(TEXT in body for _, body in p.notices) for p in people]
        assert counts == [1] * RECIPIENTS, counts
        assert all(room == p.room_id for p in people for room, body in p.notices if TEXT in body)
        said = [body for _, body in olga.notices]
        assert not [body for body in said if "nicht verstanden" in body]
        # On the way, how far it has got (a new tenth, after each group of sends)...
        assert [body for body in said if re.match(r"(1?[1-9]|10) von 20 gesendet", body)], said
        # ...and at the end the summary, once.
        summary = [body for body in said if "Ankündigung gesendet." in body]
        assert len(summary) == 1 and "Gesendet: 20" in summary[0], said[-3:]
        assert "Fehlgeschlagen" not in summary[0]
        # Paced, not stormed: after the answer to "Senden", 20 announcements and the
        # summary, a burst and then one every 5 s (about a minute). Unpaced, half of
        # them would run into 429s, again and again; paced, none should (on a busy
        # machine Synapse's own delays may still cost one or two, waited out).
        assert took > 45, took
        limited = [r.getMessage() for r in caplog.records if "429" in r.getMessage()]
        assert len(limited) <= 2, limited
    finally:
        await asyncio.gather(*(p.stop() for p in everyone))
        await bot.stop()
        server.stop()


def _got(person: Member) -> bool:
    return any(TEXT in body for _, body in person.notices)


def _said(person: Member, text: str) -> bool:
    return any(text in body for _, body in person.notices)
