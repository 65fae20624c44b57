"""Telegram end to end: python-telegram-bot's real HTTP stack against a Bot API server
on 127.0.0.1 that the tests own (tests/e2e/botapi.py). No mocks of PTB."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import subprocess
import sys
import traceback
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from sqlalchemy import select
from telegram.error import NetworkError, TimedOut

from bot.config import SettingsError
from bot.handlers.telegram import TelegramChannel
from bot.handlers.telegram_http import AiohttpRequest
from bot.messages import AccountRef
from bot.services.contracts import EventChange
from bot.storage.models import ChannelAccount, Event, EventFormat, Place
from tests.e2e.botapi import BOT_USERNAME, BotApiServer, Call
from tests.e2e.conftest import (
    TelegramBot,
    buttons,
    exchange,
    last_keyboard,
    telegram_settings,
    texts,
)
from tests.support.clock import NOW
from tests.support.factories import START, add_event

ERIKA = 1001


async def choose_language(
    botapi: BotApiServer,
    user: int,
    welcome: list[Call],
    language: str = "Deutsch (du)",
    first_name: str = "Erika",
) -> list[Call]:
    """Tap the language under the welcome, then "Einverstanden" under the privacy text
    that follows it (issue 17); returns the bot's answer to the yes ("Wo bist du?")."""
    calls = await exchange(
        botapi, lambda: botapi.press(user, last_keyboard(welcome)[language], first_name=first_name)
    )
    assert "Bevor es losgeht" in texts(calls), texts(calls)
    agree = last_keyboard(calls)["Einverstanden"]
    return await exchange(botapi, lambda: botapi.press(user, agree, first_name=first_name))


async def onboard(botapi: BotApiServer, user: int = ERIKA, town: str = "Bendorf") -> dict[str, str]:
    """/start → Deutsch → Einverstanden → town → Handwerk; returns the main menu's buttons."""
    calls = await exchange(botapi, lambda: botapi.send_text(user, "/start"))
    await choose_language(botapi, user, calls)
    calls = await exchange(botapi, lambda: botapi.send_text(user, town))
    calls = await exchange(botapi, lambda: botapi.press(user, last_keyboard(calls)["Handwerk"]))
    return last_keyboard(calls)


async def send_and_keep(
    botapi: BotApiServer, send: Awaitable[dict[str, Any]]
) -> tuple[dict[str, Any], list[Call]]:
    """Like `exchange`, and also the update the user sent (to edit it later)."""
    kept: list[dict[str, Any]] = []

    async def act() -> None:
        kept.append(await send)

    calls = await exchange(botapi, act)
    return kept[0], calls


async def test_onboarding_with_a_shared_location_and_the_command_menu(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    commands = botapi.sent("setMyCommands")
    assert {c.params.get("language_code") for c in commands} >= {"de", "en"}
    german = next(c for c in commands if c.params.get("language_code") == "de")
    assert [c["command"] for c in german.params["commands"]] == [
        "start",
        "menu",
        "hilfe",
        "einstellungen",
    ]

    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "/start"))
    assert "Willkommen bei Werkbank" in texts(calls)
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Deutsch (du)"])
    )
    assert botapi.sent("answerCallbackQuery")
    assert "Bevor es losgeht, kurz zu deinen Daten" in texts(calls)
    assert list(last_keyboard(calls)) == ["Einverstanden", "Nicht einverstanden"]
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Einverstanden"])
    )
    question = next(c for c in calls if "Wo bist du?" in str(c.params.get("text")))
    keyboard = question.params["reply_markup"]["keyboard"]
    assert keyboard[0][0] == {"text": "📍 Standort senden", "request_location": True}
    calls = await exchange(botapi, lambda: botapi.send_location(ERIKA, 50.43, 7.57))
    assert "Danke, ich habe deinen Standort (bei Bendorf)." in texts(calls)
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Handwerk"]))
    assert "Was möchtest du tun?" in texts(calls)
    assert "Offene Werkstätten in der Nähe" in last_keyboard(calls)


async def test_the_location_keyboard_stays_while_asked_and_goes_once_answered(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "/start"))
    await choose_language(botapi, ERIKA, calls)
    calls = await exchange(botapi, lambda: botapi.send_location(ERIKA, 48.86, 2.35))  # Paris
    assert "nicht in Deutschland" in texts(calls)
    assert not any("remove_keyboard" in markup(c) for c in calls)
    assert markup(calls[-1])["keyboard"][0][0]["request_location"] is True  # asked again

    calls = await exchange(botapi, lambda: botapi.send_location(ERIKA, 50.43, 7.57))
    thanks = next(c for c in calls if "Danke, ich habe deinen Standort" in c.params["text"])
    assert markup(thanks) == {"remove_keyboard": True}
    assert "Handwerk" in last_keyboard(calls)  # the next question keeps its buttons

    calls = await exchange(botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Handwerk"]))
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "/einstellungen"))
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Ort ändern"]))
    assert markup(calls[-1])["keyboard"][0][0]["request_location"] is True
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "Bendorf"))
    got_it = next(c for c in calls if "Alles klar: Bendorf" in c.params["text"])
    assert markup(got_it) == {"remove_keyboard": True}


def markup(call: Call) -> dict[str, Any]:
    return dict(call.params.get("reply_markup") or {})


async def test_a_place_comes_with_a_venue_pin(bot: TelegramBot, botapi: BotApiServer) -> None:
    menu = await onboard(botapi)
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, menu["Offene Werkstätten in der Nähe"])
    )
    places = last_keyboard(calls)
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, places["MakerSpace Mayen-Koblenz"]))
    venue = next(c for c in calls if c.method == "sendVenue")
    assert venue.params["title"] == "MakerSpace Mayen-Koblenz"
    assert abs(float(venue.params["latitude"]) - 50.43) < 0.1
    assert "Mo: 12–19 Uhr" in texts(calls)


async def test_paging_edits_the_list_in_place(bot: TelegramBot, botapi: BotApiServer) -> None:
    await onboard(botapi, town="Kempten (Allgäu)")
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "/einstellungen"))
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Umkreis ändern"])
    )
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "400"))
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "/menu"))
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Offene Werkstätten in der Nähe"])
    )
    listing = calls[-1]
    list_id = 777_000
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard([listing])["Mehr"], message_id=list_id)
    )
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageText"]
    assert int(calls[1].params["message_id"]) == list_id
    assert "6. " in calls[1].params["text"]


async def test_deep_links_open_a_place_and_an_event(bot: TelegramBot, botapi: BotApiServer) -> None:
    assert bot.app is not None
    async with bot.app.db.sessions() as session:
        place_id = (
            await session.execute(select(Place.id).where(Place.name == "POTSDAM LAB"))
        ).scalar_one()
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, f"/start pl_{place_id}"))
    await choose_language(botapi, ERIKA, calls)  # the link waits through the privacy text
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "Potsdam"))
    assert "POTSDAM LAB" in texts(calls) and any(c.method == "sendVenue" for c in calls)
    event_hit = await bot.app.services.events.upcoming_nearby(
        bot.app.services.gazetteer.lookup("Potsdam").matches[0].point, 400, NOW, None
    )
    event = event_hit[0][0]
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, f"/start ev_{event.id}"))
    assert event.title in texts(calls)


async def test_stale_and_forged_buttons_are_answered_and_get_the_menu(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    await onboard(botapi)
    answered = len(botapi.sent("answerCallbackQuery"))
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, "pl:999999"))
    assert len(botapi.sent("answerCallbackQuery")) == answered + 1
    assert "nicht mehr aktuell" in texts(calls)
    assert "Offene Werkstätten in der Nähe" in last_keyboard(calls)
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, "\x00" * 64))
    assert "nicht mehr aktuell" in texts(calls)


async def test_a_button_press_too_old_to_answer_is_still_handled(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    menu = await onboard(botapi)
    botapi.fail_next(
        "answerCallbackQuery",
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, menu["Einstellungen"]))
    assert "Deine Einstellungen" in texts(calls)
    assert "etwas schiefgegangen" not in texts(calls)


async def test_a_voice_note_gets_a_friendly_text(bot: TelegramBot, botapi: BotApiServer) -> None:
    await onboard(botapi)
    calls = await exchange(botapi, lambda: botapi.send_voice(ERIKA))
    assert "nur Text und Knöpfe" in texts(calls)


async def test_an_edited_message_and_a_moving_live_location_get_no_answer(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    start, calls = await send_and_keep(botapi, botapi.send_text(ERIKA, "/start"))
    await choose_language(botapi, ERIKA, calls)
    live, calls = await send_and_keep(
        botapi, botapi.send_location(ERIKA, 50.43, 7.57, live_period=900)
    )
    assert "Danke, ich habe deinen Standort" in texts(calls)
    interests = last_keyboard(calls)

    async def edit_then_go_on() -> None:
        await botapi.edit(ERIKA, start["message"]["message_id"], text="/einstellungen")
        moved = {"latitude": 50.44, "longitude": 7.58, "live_period": 900}
        await botapi.edit(ERIKA, live["message"]["message_id"], location=moved)
        await botapi.press(ERIKA, interests["Handwerk"])

    # One chat's updates are handled in order: the edits come before the press.
    calls = await exchange(botapi, edit_then_go_on)
    assert [c.method for c in calls] == ["answerCallbackQuery", "sendMessage", "sendMessage"]
    assert "Was möchtest du tun?" in texts(calls)


async def test_the_bot_is_quiet_in_a_group_unless_addressed(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    group = -5005
    await botapi.send_text(ERIKA, "Hallo zusammen", chat_id=group, chat_type="group")
    await botapi.send_text(ERIKA, "/start", chat_id=group, chat_type="group")
    await asyncio.sleep(0.5)
    assert botapi.sent("sendMessage", chat_id=group) == []
    calls = await exchange(
        botapi,
        lambda: botapi.send_text(ERIKA, f"/start@{BOT_USERNAME}", chat_id=group, chat_type="group"),
    )
    assert f"https://t.me/{BOT_USERNAME}?start=" in texts(calls)


async def test_a_429_is_waited_out_and_the_message_still_arrives(
    tmp_path: Path, botapi: BotApiServer
) -> None:
    bot = TelegramBot(telegram_settings(tmp_path, botapi, telegram_rate_limit=30), [NOW])
    await bot.start(demo=False)
    try:
        botapi.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        await botapi.send_text(ERIKA, "/start")
        sent = await botapi.wait_for("sendMessage", count=2, chat_id=ERIKA)
        assert "Willkommen bei Werkbank" in sent[-1].params["text"]
    finally:
        await bot.stop()


async def test_a_user_who_blocked_the_bot_is_marked_and_unmarked_when_writing_again(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    await onboard(botapi)
    assert bot.app is not None
    botapi.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await exchange(botapi, lambda: botapi.send_text(ERIKA, "/menu"))
    assert await bot.app.conversations.is_blocked("telegram", str(ERIKA))
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "/menu"))
    assert "Was möchtest du tun?" in texts(calls)
    assert not await bot.app.conversations.is_blocked("telegram", str(ERIKA))


async def test_blocking_and_restarting_the_bot_marks_and_unmarks_the_member_at_once(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    await onboard(botapi)
    sent = len(botapi.calls)
    await botapi.bot_status(ERIKA, "kicked")
    await until_blocked_is(bot, True)
    await botapi.bot_status(ERIKA, "member")
    await until_blocked_is(bot, False)
    assert len(botapi.calls) == sent  # neither change is answered


async def until_blocked_is(bot: TelegramBot, expected: bool, timeout: float = 10) -> None:
    """Wait for Erika's blocked flag: there is no answer in the chat to wait for."""
    assert bot.app is not None
    deadline = asyncio.get_running_loop().time() + timeout
    while await bot.app.conversations.is_blocked("telegram", str(ERIKA)) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"blocked did not become {expected}"
        await asyncio.sleep(0.02)


async def test_a_duplicated_update_has_no_double_effect(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    menu = await onboard(botapi)
    update = await botapi.press(ERIKA, menu["Einstellungen"])
    calls = await exchange(botapi, lambda: botapi.push(dict(update)))  # delivered once more
    assert [c.method for c in calls].count("answerCallbackQuery") == 2
    assert texts(calls).count("Deine Einstellungen") == 1


async def test_a_restart_in_the_middle_of_a_dialog_continues(
    tmp_path: Path, botapi: BotApiServer
) -> None:
    first = TelegramBot(telegram_settings(tmp_path, botapi), [NOW])
    await first.start()
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "/start"))
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Deutsch (du)"])
    )
    agree = last_keyboard(calls)["Einverstanden"]
    await first.stop()
    second = TelegramBot(telegram_settings(tmp_path, botapi), [NOW])
    await second.start(demo=False)
    try:
        # The privacy text's button, sent before the restart, is answered after it.
        calls = await exchange(botapi, lambda: botapi.press(ERIKA, agree))
        assert "Wo bist du?" in texts(calls)
        calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "Bendorf"))
        assert "Was interessiert dich" in texts(calls)
    finally:
        await second.stop()


async def test_webhook_mode_accepts_only_the_right_secret(
    tmp_path: Path, botapi: BotApiServer
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    settings = telegram_settings(
        tmp_path,
        botapi,
        telegram_webhook_url=url,
        telegram_webhook_port=port,
        telegram_webhook_secret="s3cret-Werkbank",
    )
    bot = TelegramBot(settings, [NOW])
    await bot.start(demo=False)
    try:
        assert botapi.webhook_url == url
        update = {
            "update_id": 99,
            "message": botapi._message(ERIKA, None, "private", text="/start"),
        }
        async with httpx.AsyncClient() as client:
            refused = await client.post(url, json=update)
            assert refused.status_code == 403
            await asyncio.sleep(0.3)
            assert botapi.sent("sendMessage") == []
            ok = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Werkbank"}
            )
            assert ok.status_code == 200
        sent = await botapi.wait_for("sendMessage", chat_id=ERIKA)
        assert "Willkommen bei Werkbank" in sent[0].params["text"]
    finally:
        await bot.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_env(tmp_path: Path, botapi: BotApiServer, token: str, log_level: str) -> dict[str, str]:
    """The environment of `werkbank run` against the test's Bot API server."""
    return {
        **os.environ,
        "HOME": str(tmp_path),
        "WERKBANK_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "WERKBANK_TELEGRAM_TOKEN": token,
        "WERKBANK_TELEGRAM_API_URL": botapi.url,
        "WERKBANK_LOG_LEVEL": log_level,
        "WERKBANK_TELEGRAM_POLL_TIMEOUT": "1",
        "WERKBANK_NOTICE_INTERVAL": "0.5",
    }


async def test_werkbank_run_starts_telegram_and_stops_on_sigterm(
    tmp_path: Path, botapi: BotApiServer
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=_run_env(tmp_path, botapi, botapi.token, "INFO"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The test's Bot API server runs in this event loop: wait without blocking it.
        sent = await asyncio.wait_for(_answer_when_up(botapi), 30)
        assert "Willkommen bei Werkbank" in sent
        # A notice that falls due while it runs goes out through its Telegram channel.
        await _cancel_an_event_erika_signed_up_for(tmp_path / "run.db")
        told = await botapi.wait_for("sendMessage", count=2, chat_id=ERIKA, timeout=20)
        assert "Abgesagt: „Holz trifft Laser“ findet nicht statt." in told[-1].params["text"]
        process.send_signal(signal.SIGTERM)
        started = asyncio.get_running_loop().time()
        while process.poll() is None and asyncio.get_running_loop().time() - started < 10:
            await asyncio.sleep(0.05)
        assert process.poll() == 0, process.stderr.read() if process.stderr else ""
        logs = process.stderr.read() if process.stderr else ""
        assert botapi.token not in logs and botapi.token.split(":")[1] not in logs
    finally:
        if process.poll() is None:
            process.kill()


async def test_werkbank_run_with_a_rejected_token_says_so_in_one_line_without_the_token(
    tmp_path: Path, botapi: BotApiServer
) -> None:
    wrong = "4242:WRONG-token-must-stay-secret"  # the server answers 401 Unauthorized to it
    # Files, not pipes: debug logs would fill a pipe nobody reads while the bot runs.
    with open(tmp_path / "out", "w+") as stdout, open(tmp_path / "err", "w+") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=_run_env(tmp_path, botapi, wrong, "DEBUG"),  # the chattiest logs must not leak it
            stdout=stdout,
            stderr=stderr,
        )
        try:
            # The test's Bot API server runs in this event loop: wait without blocking it.
            started = asyncio.get_running_loop().time()
            while process.poll() is None and asyncio.get_running_loop().time() - started < 30:
                await asyncio.sleep(0.05)
        finally:
            if process.poll() is None:
                process.kill()
    out, err = (tmp_path / "out").read_text(), (tmp_path / "err").read_text()
    assert process.returncode == 2, err
    for secret in (wrong, wrong.split(":")[1]):
        assert secret not in out and secret not in err
    assert "Traceback" not in err
    said = [line for line in err.splitlines() if line.startswith("werkbank:")]
    assert len(said) == 1  # beside the debug logs, which the default log level leaves out
    assert said[0].startswith("werkbank: WERKBANK_TELEGRAM_TOKEN: Telegram rejected the token")


async def test_a_token_the_server_does_not_know_stops_the_start_without_quoting_it(
    tmp_path: Path, botapi: BotApiServer
) -> None:
    botapi.fail_next("getMe", 404, "Not Found")  # how Telegram answers a malformed token
    bot = TelegramBot(telegram_settings(tmp_path, botapi), [NOW])
    try:
        with pytest.raises(SettingsError) as raised:
            await bot.start(demo=False)
    finally:
        await bot.stop()
    assert "WERKBANK_TELEGRAM_TOKEN" in str(raised.value)
    assert botapi.token.split(":")[1] not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


async def _cancel_an_event_erika_signed_up_for(database: Path) -> None:
    """What an organiser's cancel leaves behind: a notice due now, written by another
    process into the database `werkbank run` uses."""
    from datetime import UTC, datetime, timedelta

    from bot.storage.engine import create_engine, session_factory
    from bot.storage.models import Event, Notice, NoticeKind

    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with session_factory(engine)() as session, session.begin():
            account = await session.scalar(
                select(ChannelAccount).where(ChannelAccount.external_id == str(ERIKA))
            )
            assert account is not None
            start = datetime.now(UTC) + timedelta(days=2)
            event = Event(
                uid="cancelled@test",
                title="Holz trifft Laser",
                format=EventFormat.TRANSFER,
                start_at=start,
                end_at=start + timedelta(hours=3),
            )
            session.add(event)
            await session.flush()
            session.add(
                Notice(
                    member_id=account.member_id,
                    kind=NoticeKind.EVENT_CANCELLED,
                    event_id=event.id,
                    params={"reason": ""},
                    due_at=datetime.now(UTC),
                )
            )
    finally:
        await engine.dispose()


async def _answer_when_up(botapi: BotApiServer) -> str:
    while not botapi.sent("setMyCommands"):
        await asyncio.sleep(0.05)
    await botapi.send_text(ERIKA, "/start")
    sent = await botapi.wait_for("sendMessage", chat_id=ERIKA, timeout=20)
    return str(sent[0].params["text"])


async def test_the_same_database_account_is_used_for_the_same_telegram_user(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    await onboard(botapi)
    await exchange(botapi, lambda: botapi.send_text(ERIKA, "/menu"))
    assert bot.app is not None
    async with bot.app.db.sessions() as session:
        accounts = (await session.execute(select(ChannelAccount.external_id))).scalars().all()
    assert accounts == [str(ERIKA)]


async def test_a_failing_send_is_logged_without_the_token_and_the_user_gets_an_apology(
    bot: TelegramBot, botapi: BotApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    await onboard(botapi)
    botapi.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    with caplog.at_level(logging.DEBUG):
        calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "/menu"))
    assert "etwas schiefgegangen" in texts(calls)
    assert "Offene Werkstätten in der Nähe" in last_keyboard(calls)
    failure = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failure and "update" in failure[0].getMessage()
    assert botapi.token.split(":")[1] not in caplog.text


async def test_sign_up_sends_the_calendar_file_and_the_reminder_arrives_through_telegram(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    from datetime import timedelta

    assert bot.app is not None and isinstance(bot.channel, TelegramChannel)
    await onboard(botapi)
    event_id = await add_event(bot.app, fmt=EventFormat.NETWORKING, organiser="Olga")
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, f"/start ev_{event_id}"))
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Anmelden"]))
    assert "Du bist angemeldet" in texts(calls)
    document = next(c for c in calls if c.method == "sendDocument")
    assert document.params["document"]["filename"].endswith(".ics")
    assert b"BEGIN:VEVENT" in document.params["document"]["data"]

    # The organiser moves it by half an hour: the notice names both times and brings
    # the calendar file again, same UID, next SEQUENCE (the calendar moves the entry).
    async with bot.app.db.sessions() as session:
        olga = await session.scalar(select(Event.organiser_id).where(Event.id == event_id))
    assert olga is not None
    later = EventChange(start_at=START + timedelta(minutes=30))
    await bot.app.services.organiser.change(olga, event_id, later, bot.clock[0])
    before = len(botapi.calls)
    assert await bot.app.dispatcher({"telegram": bot.channel}).run_once() == 1
    told = botapi.calls[before:]
    assert "Neue Zeit: Do., 26. Nov., 17:30–20:30 Uhr (vorher 17–20 Uhr)" in texts(told)
    [update] = [c for c in told if c.method == "sendDocument"]
    [vevent] = Calendar.from_ical(update.params["document"]["data"]).walk("VEVENT")
    assert (str(vevent["UID"]), vevent.decoded("SEQUENCE")) == ("Holz trifft Laser@test", 1)

    # The day before, the scheduler's dispatch goes through the same channel.
    bot.clock[0] = START - timedelta(hours=23)
    before = len(botapi.calls)
    sent = await bot.app.dispatcher({"telegram": bot.channel}).run_once()
    assert sent == 1
    reminder = [c for c in botapi.calls[before:] if c.method == "sendMessage"]
    assert {int(c.params["chat_id"]) for c in reminder} == {ERIKA}
    # One message: the reminder on top of her registration, so cancelling is one tap away.
    [message] = reminder
    assert message.params["text"].startswith("Erinnerung: Morgen ist")
    assert "Abmelden" in buttons(message)
    assert await bot.app.dispatcher({"telegram": bot.channel}).run_once() == 0  # never twice


async def test_a_reminder_to_a_deleted_telegram_account_frees_the_seat(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    from datetime import timedelta

    assert bot.app is not None and isinstance(bot.channel, TelegramChannel)
    await onboard(botapi)
    event_id = await add_event(bot.app, fmt=EventFormat.NETWORKING)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, f"/start ev_{event_id}"))
    await exchange(botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Anmelden"]))

    bot.clock[0] = START - timedelta(hours=23)
    botapi.fail_next("sendMessage", 403, "Forbidden: user is deactivated")
    assert await bot.app.dispatcher({"telegram": bot.channel}).run_once() == 0
    account = await bot.app.conversations.open(AccountRef("telegram", str(ERIKA)))
    assert await bot.app.services.registrations.for_event(account.member.id, event_id) is None


async def test_an_organiser_publishes_an_event_and_gets_the_attendee_list_as_a_file(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    from bot.storage.models import Event, Role

    assert bot.app is not None
    await onboard(botapi)
    await bot.app.members.set_role(f"telegram:{ERIKA}", Role.ORGANISER)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "Menü"))

    async def tap(label: str) -> list[Call]:
        keyboard = last_keyboard(calls)
        assert label in keyboard, (label, keyboard)
        return await exchange(botapi, lambda: botapi.press(ERIKA, keyboard[label]))

    async def say(text: str) -> list[Call]:
        return await exchange(botapi, lambda: botapi.send_text(ERIKA, text))

    calls = await tap("Veranstaltung anlegen")
    calls = await tap("Kleine Runde (Transfer-Workshop)")
    calls = await say("Drechsler-Stammtisch für Tüftler")
    calls = await tap("Überspringen")
    calls = await tap("MakerSpace Mayen-Koblenz, Bendorf")
    calls = await say("morgen 18 Uhr")
    calls = await tap("Ja")
    calls = await tap("5 Plätze (Vorschlag)")
    calls = await tap("Keine Mindestzahl")
    calls = await tap("Bis zum Beginn")
    calls = await tap("Veröffentlichen")
    assert "Veröffentlicht!" in texts(calls)
    async with bot.app.db.sessions() as session:
        event_id = await session.scalar(select(Event.id).where(Event.title.like("Drechsler%")))

    anna = 1002
    await onboard(botapi, anna)
    joined = await exchange(botapi, lambda: botapi.send_text(anna, f"/start ev_{event_id}"))
    joined = await exchange(botapi, lambda: botapi.press(anna, last_keyboard(joined)["Anmelden"]))
    assert "Was erwartest du" in texts(joined)
    joined = await exchange(botapi, lambda: botapi.send_text(anna, "Drechseln für Anfänger"))
    assert "Du bist angemeldet" in texts(joined)

    calls = await say("Menü")
    calls = await tap("Meine Veranstaltungen")
    calls = await tap("Drechsler-Stammtisch für Tüftler")
    assert "Erika (angemeldet)" in texts(calls) and "Drechseln für Anfänger" in texts(calls)
    calls = await tap("Liste als Tabelle")
    [document] = [c for c in calls if c.method == "sendDocument"]
    sent = document.params["document"]
    assert sent["filename"].endswith(".csv")
    data: bytes = sent["data"]
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    assert "Erika;angemeldet;;Drechseln für Anfänger;" in data.decode("utf-8")


async def test_the_bot_api_transport_turns_a_slow_or_dead_server_into_ptb_errors(
    botapi: BotApiServer,
) -> None:
    """Werkbank's aiohttp transport must fail as PTB's own does: the rate limiter,
    the updater's retries and the error handler all rely on TimedOut and NetworkError."""
    request = AiohttpRequest(read_timeout=0.2)
    await request.initialize()
    try:
        # getUpdates with a long-poll timeout answers only after 2 s, too late for 0.2 s.
        with pytest.raises(TimedOut):
            await request.post(f"{botapi.url}/bot{botapi.token}/getUpdates?timeout=2")
        me = await request.post(f"{botapi.url}/bot{botapi.token}/getMe")
        assert isinstance(me, dict) and me["username"] == BOT_USERNAME
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{_free_port()}/bot{botapi.token}/getMe")
        # A URL aiohttp refuses is quoted in its error: the token must not be (it is logged).
        with pytest.raises(NetworkError) as refused:
            await request.post(f"ftp://127.0.0.1/bot{botapi.token}/getMe")
        shown = "".join(traceback.format_exception(refused.value))
        assert "/bot<token>/getMe" in shown
        assert botapi.token not in shown
    finally:
        await request.shutdown()


async def test_typed_numbers_are_values_on_telegram_and_stop_leaves_a_question(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    """Telegram shows buttons without numbers: a typed bare number is a value there, not
    an option. "stop" at a question leaves it and is never stored as the answer."""
    assert bot.app is not None
    menu = await onboard(botapi)
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, menu["Einstellungen"]))
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Umkreis ändern"])
    )
    assert "100 km" in last_keyboard(calls)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "4"))
    assert "Umkreis: 4 km" in texts(calls)  # not the fourth button, 100 km
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Umkreis ändern"])
    )
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "30 km"))
    assert "Umkreis: 30 km" in texts(calls)

    event_id = await add_event(bot.app)  # a transfer workshop: it asks for an expectation
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, f"/start ev_{event_id}"))
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Anmelden"]))
    assert "Was erwartest du" in texts(calls)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "Stop"))
    assert "Gut, abgebrochen." in texts(calls) and "Was möchtest du tun?" in texts(calls)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, f"/start ev_{event_id}"))
    assert "Anmelden" in last_keyboard(calls)  # still not signed up
    assert "Erwartung" not in texts(calls)


async def test_a_topic_becomes_a_workshop_and_its_group_signs_up_with_one_tap(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    """Two members propose similar topics, the second joins the first, a third supports;
    the organiser hears of the demand, makes the workshop; the group is invited and
    signs up with one tap."""
    from bot.codes import Role

    assert bot.app is not None and isinstance(bot.channel, TelegramChannel)
    erika, jan, mia, olga = ERIKA, 1002, 1003, 1004

    async def tap(user: int, calls: list[Call], label: str) -> list[Call]:
        keyboard = last_keyboard(calls)
        key = next((k for k in keyboard if label in k), None)
        assert key is not None, (label, keyboard, texts(calls))
        return await exchange(botapi, lambda: botapi.press(user, keyboard[key]))

    async def say(user: int, text: str) -> list[Call]:
        return await exchange(botapi, lambda: botapi.send_text(user, text))

    await onboard(botapi, olga, "Bendorf")
    await bot.app.members.set_role(f"telegram:{olga}", Role.ORGANISER)
    menu = await onboard(botapi, erika, "Bendorf")
    calls = await exchange(botapi, lambda: botapi.press(erika, menu["Thema vorschlagen"]))
    await say(erika, "Lasercutter für Holz")
    calls = await say(erika, "Intarsien für Möbel schneiden")
    calls = await tap(erika, calls, "Handwerk")
    calls = await tap(erika, calls, "Weiter")
    assert "Dein Thema ist eingetragen" in texts(calls)
    calls = await say(erika, "/einstellungen")
    calls = await tap(erika, calls, "Persönliche Einladungen")  # she may be invited too

    menu = await onboard(botapi, jan, "Koblenz")
    await exchange(botapi, lambda: botapi.press(jan, menu["Thema vorschlagen"]))
    calls = await say(jan, "Laser-Cutter fuer Hölzer")
    assert "Ist es eines davon?" in texts(calls)
    calls = await tap(jan, calls, "Ich auch: Lasercutter für Holz")
    calls = await tap(jan, calls, "Überspringen")
    calls = await tap(jan, calls, "Ja")

    menu = await onboard(botapi, mia, "Neuwied")
    calls = await exchange(botapi, lambda: botapi.press(mia, menu["Themen in der Nähe"]))
    assert "2 Leute in deiner Nähe" in texts(calls)
    calls = await tap(mia, calls, "Lasercutter für Holz")
    calls = await tap(mia, calls, "Ich auch")
    calls = await say(mia, "Schwalbenschwänze")
    calls = await tap(mia, calls, "Ja")

    before = len(botapi.calls)
    assert await bot.app.dispatcher({"telegram": bot.channel}).run_once() == 1
    [demand] = [c for c in botapi.calls[before:] if c.method == "sendMessage"]
    assert int(demand.params["chat_id"]) == olga
    assert "In deiner Nähe wollen 3 Leute „Lasercutter für Holz“" in str(demand.params["text"])
    calls = await exchange(
        botapi, lambda: botapi.press(olga, buttons(demand)["Workshop daraus machen"])
    )
    assert "Wo findet sie statt?" in texts(calls)  # no place of hers yet: she picks one
    calls = await tap(olga, calls, "MakerSpace Mayen-Koblenz")
    await say(olga, "Do 17-20 Uhr")
    calls = await tap(olga, await say(olga, "ja"), "5 Plätze")
    calls = await tap(olga, calls, "Keine Mindestzahl")
    calls = await tap(olga, calls, "Bis zum Beginn")
    calls = await tap(olga, calls, "Veröffentlichen")
    assert "Veröffentlicht" in texts(calls)

    before = len(botapi.calls)
    assert await bot.app.dispatcher({"telegram": bot.channel}).run_once() == 3
    sent = [c for c in botapi.calls[before:] if c.method == "sendMessage"]
    said: dict[int, str] = {}
    anmelden: dict[int, str] = {}
    for call in sent:
        user = int(call.params["chat_id"])
        said[user] = said.get(user, "") + str(call.params["text"])
        anmelden.update({user: buttons(call)["Anmelden"]} if "Anmelden" in buttons(call) else {})
    assert set(said) == {erika, jan, mia}
    assert all("Du bist persönlich eingeladen" in text for text in said.values()), said
    calls = await exchange(botapi, lambda: botapi.press(mia, anmelden[mia]))
    assert "Du bist angemeldet" in texts(calls)  # one tap: her wish is her expectation


async def test_a_check_in_quotes_the_expectation_and_the_organiser_gets_the_chart_as_a_photo(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    """The workshop ends and time moves on: the attendee is asked with her own
    expectation quoted and answers with buttons; the organiser opens "Wirkung" and
    receives the figures and the chart as a photo."""
    from sqlalchemy import update

    from bot.codes import Role
    from bot.handlers.matrix import png_size
    from bot.storage.models import Event
    from tests.support.attendees import FRIDAY_MORNING

    assert bot.app is not None and isinstance(bot.channel, TelegramChannel)
    olga = 1004

    async def tap(user: int, calls: list[Call], label: str) -> list[Call]:
        keyboard = last_keyboard(calls)
        key = next((k for k in keyboard if label in k), None)
        assert key is not None, (label, keyboard, texts(calls))
        return await exchange(botapi, lambda: botapi.press(user, keyboard[key]))

    async def say(user: int, text: str) -> list[Call]:
        return await exchange(botapi, lambda: botapi.send_text(user, text))

    await onboard(botapi, olga)
    await bot.app.members.set_role(f"telegram:{olga}", Role.ORGANISER)
    event_id = await add_event(bot.app)  # a transfer workshop, Thursday 17–20 Uhr
    async with bot.app.db.transaction() as session:
        olga_id = await session.scalar(
            select(ChannelAccount.member_id).where(ChannelAccount.external_id == str(olga))
        )
        await session.execute(
            update(Event).where(Event.id == event_id).values(organiser_id=olga_id)
        )
    await onboard(botapi, ERIKA)
    calls = await say(ERIKA, f"/start ev_{event_id}")
    calls = await tap(ERIKA, calls, "Anmelden")
    calls = await say(ERIKA, "Intarsien für Möbel schneiden")
    assert "Du bist angemeldet" in texts(calls)

    bot.clock[0] = FRIDAY_MORNING
    before = len(botapi.calls)
    assert await bot.app.dispatcher({"telegram": bot.channel}).run_once() == 1
    [asked] = [c for c in botapi.calls[before:] if c.method == "sendMessage"]
    assert int(asked.params["chat_id"]) == ERIKA
    assert "Du wolltest: „Intarsien für Möbel schneiden“ – hat das geklappt?" in str(
        asked.params["text"]
    )
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, buttons(asked)["Teilweise"]))
    assert "Was nimmst du mit?" in texts(calls)
    calls = await say(ERIKA, "Furnier sauber schneiden")
    calls = await tap(ERIKA, calls, "Nein, ohne Namen")
    calls = await tap(ERIKA, calls, "Nein")  # no contact wanted
    assert "Danke!" in texts(calls)

    calls = await say(olga, "Menü")
    calls = await tap(olga, calls, "Meine Veranstaltungen")
    calls = await tap(olga, calls, "Holz trifft Laser")
    before = len(botapi.calls)
    await tap(olga, calls, "Wirkung")
    # The chart is drawn first (matplotlib's first use): on a busy machine that can
    # outlast `exchange`'s wait for a reply, so wait for the picture itself.
    deadline = asyncio.get_running_loop().time() + 20
    while not any(c.method == "sendPhoto" for c in botapi.calls[before:]):
        assert asyncio.get_running_loop().time() < deadline, "no chart came"
        await asyncio.sleep(0.05)
    calls = botapi.calls[before:]
    assert "Erwartung erfüllt: teilweise 1" in texts(calls)
    assert "„Furnier sauber schneiden“" in texts(calls) and "Erika" not in texts(calls)
    [photo] = [c for c in calls if c.method == "sendPhoto"]
    assert int(photo.params["chat_id"]) == olga
    assert photo.params["caption"] == "Die Zahlen als Bild:"
    assert png_size(photo.params["photo"]["data"]) is not None
    assert "Die Zahlen als Tabelle" in buttons(photo)  # the buttons come with the picture


async def _paced_bot(tmp_path: Path, botapi: BotApiServer) -> TelegramBot:
    """A started bot with the default rate limit, against a server that refuses more
    than 30 messages a second (429), as Telegram's flood control does."""
    from bot.config import Settings

    botapi.messages_per_second = 30
    settings = telegram_settings(tmp_path, botapi)
    default_rate = Settings.model_fields["telegram_rate_limit"].default
    bot = TelegramBot(settings.model_copy(update={"telegram_rate_limit": default_rate}), [NOW])
    await bot.start()
    return bot


async def test_reminders_to_many_go_out_at_the_pace_telegram_allows(
    tmp_path: Path, botapi: BotApiServer
) -> None:
    """Against a Bot API server that refuses more than 30 messages a second (429, as
    Telegram's flood control does), 80 reminders due at once through the default rate
    (25/s) arrive once each, and none is refused on the way."""
    from datetime import timedelta

    bot = await _paced_bot(tmp_path, botapi)
    try:
        assert bot.app is not None and isinstance(bot.channel, TelegramChannel)
        event_id = await add_event(bot.app, fmt=EventFormat.NETWORKING, capacity=None)
        people = [5000 + n for n in range(80)]
        for user in people:
            account = AccountRef("telegram", str(user), chat_id=str(user))
            conv = await bot.app.conversations.open(account)
            await bot.app.services.registrations.sign_up(conv.member.id, event_id, NOW)
        bot.clock[0] = START - timedelta(hours=23)
        before = len(botapi.calls)
        assert await bot.app.dispatcher({"telegram": bot.channel}).run_once() == 80
        reminders = [c for c in botapi.calls[before:] if c.method == "sendMessage"]
        assert sorted(int(c.params["chat_id"]) for c in reminders) == people  # each once
        assert botapi.refused == []  # the bot kept below Telegram's limit by itself
    finally:
        await bot.stop()


async def test_an_announcement_to_300_arrives_once_each_with_progress_and_summary(
    tmp_path: Path, botapi: BotApiServer
) -> None:
    """Issue 14: against a Bot API server that refuses more than 30 messages a second,
    an organiser's announcement to the 300 people of her event, written and sent in the
    chat, arrives once at each; her progress message is edited as it goes and ends as
    the summary; nothing is refused on the way."""
    from sqlalchemy import update

    from bot.codes import Role
    from bot.storage.models import Event

    bot = await _paced_bot(tmp_path, botapi)
    try:
        assert bot.app is not None and isinstance(bot.channel, TelegramChannel)
        olga = 4242

        async def tap(calls: list[Call], label: str) -> list[Call]:
            keyboard = buttons(calls[-1])
            key = next((k for k in keyboard if label in k), None)
            assert key is not None, (label, keyboard, texts(calls))
            return await exchange(botapi, lambda: botapi.press(olga, keyboard[key]))

        await onboard(botapi, olga)
        await bot.app.members.set_role(f"telegram:{olga}", Role.ORGANISER)
        event_id = await add_event(
            bot.app, "Offener Werkstatttag", fmt=EventFormat.NETWORKING, capacity=None
        )
        async with bot.app.db.transaction() as session:
            olga_id = await session.scalar(
                select(ChannelAccount.member_id).where(ChannelAccount.external_id == str(olga))
            )
            await session.execute(
                update(Event).where(Event.id == event_id).values(organiser_id=olga_id)
            )
        people = [7000 + n for n in range(300)]
        for user in people:
            account = AccountRef("telegram", str(user), chat_id=str(user))
            conv = await bot.app.conversations.open(account)
            await bot.app.services.registrations.sign_up(conv.member.id, event_id, NOW)

        calls = await exchange(botapi, lambda: botapi.send_text(olga, "Menü"))
        calls = await tap(calls, "Ankündigung senden")
        calls = await tap(calls, "Menschen einer meiner Veranstaltungen")
        calls = await tap(calls, "Offener Werkstatttag")
        calls = await tap(calls, "Beide")
        text = "Samstag ist die Lasergravur frei: kommt vorbei!"
        calls = await exchange(botapi, lambda: botapi.send_text(olga, text))
        assert "Geht an 300 Personen." in texts(calls) and text in texts(calls)
        calls = await tap(calls, "Senden")
        assert "Ich sende sie jetzt." in texts(calls)

        before = len(botapi.calls)
        assert await bot.app.dispatcher({"telegram": bot.channel}).run_once() == 300
        after = botapi.calls[before:]
        got = [int(c.params["chat_id"]) for c in after if text in str(c.params.get("text"))]
        assert sorted(got) == people  # each once
        keyboard = buttons(next(c for c in after if text in str(c.params.get("text"))))
        assert {"Anmelden", "Keine Ankündigungen mehr"} <= set(keyboard)
        to_olga = [c for c in after if int(c.params.get("chat_id", 0)) == olga]
        [progress] = [c for c in to_olga if c.method == "sendMessage"]  # one message …
        assert "von 300 gesendet" in str(progress.params["text"])
        edits = [c for c in to_olga if c.method == "editMessageText"]  # … edited as it goes
        assert len(edits) >= 2
        assert "Ankündigung gesendet." in str(edits[-1].params["text"])
        assert "Gesendet: 300" in str(edits[-1].params["text"])
        assert botapi.refused == []  # the bot kept below Telegram's limit by itself
    finally:
        await bot.stop()


async def test_typed_requests_greetings_and_thanks_on_telegram(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    """Typed as people talk: a request opens its screen, an unclear word asks with
    buttons, a greeting mid-question greets back and asks again, thanks end at the menu."""
    await onboard(botapi)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "termine morgen"))
    assert "morgen" in texts(calls).lower() and "Veranstaltungen" in texts(calls)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "ändern"))
    assert "Meinst du eins davon?" in texts(calls)
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Umkreis ändern"])
    )
    assert "100 km" in last_keyboard(calls)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "Moin"))
    assert "Hallo!" in texts(calls) and "100 km" in last_keyboard(calls)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "dnake"))
    assert "Gern geschehen!" in texts(calls) and "Was möchtest du tun?" in texts(calls)


async def test_sie_at_the_start_and_an_empty_list_looks_further_on_telegram(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    """One tap at the start says "Sie", and every text after it does. Far from every
    place, the empty list says why, names the nearest place and looks further for once."""
    du = re.compile(r"\b(du|dich|dir|dein\w*)\b", re.IGNORECASE)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "/start"))
    assert "„Sie“" in texts(calls)
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Deutsch (Sie)"])
    )
    assert "Bevor es losgeht, kurz zu Ihren Daten" in texts(calls)
    assert not du.search(texts(calls)), texts(calls)
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Einverstanden"])
    )
    assert "Wo sind Sie?" in texts(calls)
    # An address as people write it: the street is passed over, the town found.
    calls = await exchange(
        botapi, lambda: botapi.send_text(ERIKA, "Bahnhofstr. 1, Garmisch-Partenkirchen")
    )
    assert "Garmisch-Partenkirchen" in texts(calls)
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Handwerk"]))
    menu = last_keyboard(calls)
    places = next(label for label in menu if label.startswith("Offene Werkstätten"))
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, menu[places]))
    text = texts(calls)
    assert "Im Umkreis von 25 km um" in text and "Der nächste Ort: " in text
    assert not du.search(text), text
    keyboard = last_keyboard(calls)
    wider = [label for label in keyboard if label.startswith("Weiter suchen: ")]
    assert wider, keyboard
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, keyboard[wider[0]]))
    radius = wider[0].removeprefix("Weiter suchen: ")
    assert f"Orte im Umkreis von {radius}" in texts(calls)
    assert f"{radius} als meinen Umkreis merken" in last_keyboard(calls)


def huge_description() -> str:
    """About 300 KB of what an import may bring (far over every channel's limit, and small
    enough to keep the suite fast): paragraphs, lines, umlauts, emoji (two UTF-16 units
    each), HTML-like signs, one line without breaks, one word without spaces."""
    paragraph = "\n".join(
        f"Zeile {i}: Späne fliegen 🪵 über die Hobelbank – Öl & <Wachs>." for i in range(40)
    )
    return "\n\n".join(
        [*[paragraph] * 60, "Sägen 🪚 und Schleifen " * 3000, "Ü🪚" * 20000, "Ende."]
    )


def words(text: str) -> str:
    """The text without its white space: what must arrive, however it is split."""
    return re.sub(r"\s", "", text)


async def test_a_huge_description_arrives_whole_in_messages_telegram_takes(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    from tests.e2e.botapi import MAX_TEXT, utf16_units

    assert bot.app is not None
    description = huge_description()
    event_id = await add_event(bot.app, "Hobeln ohne Ende", description=description)
    await onboard(botapi)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, f"/start ev_{event_id}"))
    sent = [c for c in calls if c.method == "sendMessage"]
    assert all(utf16_units(c.params["text"]) <= MAX_TEXT for c in sent)
    assert len(sent) > 50
    assert words(description) in words("".join(c.params["text"] for c in sent))
    assert not any(buttons(c) for c in sent[:-1]) and "Anmelden" in buttons(sent[-1])
    assert calls[-1].method == "sendVenue"  # the pin after the whole text
    assert "schiefgegangen" not in texts(calls)


async def test_a_text_of_emoji_is_split_by_telegrams_count_not_by_characters(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    """3 000 emoji are 3 000 characters but 6 000 UTF-16 units: two messages."""
    from tests.e2e.botapi import MAX_TEXT, utf16_units

    assert bot.app is not None
    event_id = await add_event(bot.app, "Emoji-Abend", description="🪚" * 3000)
    await onboard(botapi)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, f"/start ev_{event_id}"))
    sent = [c.params["text"] for c in calls if c.method == "sendMessage"]
    assert all(utf16_units(text) <= MAX_TEXT for text in sent)
    assert "".join(sent).count("🪚") == 3000


@pytest.fixture
async def bot_on_each_database(
    tmp_path: Path, botapi: BotApiServer, database_url: str
) -> AsyncIterator[TelegramBot]:
    running = TelegramBot(telegram_settings(tmp_path, botapi, database_url=database_url), [NOW])
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def test_control_characters_typed_on_telegram_are_cleaned_before_they_are_stored(
    bot_on_each_database: TelegramBot, botapi: BotApiServer
) -> None:
    """A NUL in a title made publishing fail on PostgreSQL, and the draft was lost."""
    from bot.storage.models import Member, Role

    bot = bot_on_each_database
    assert bot.app is not None
    name = "Eri\x00ka\x1b[31m"
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "/start", first_name=name))
    # The name is kept from the yes to the privacy text on: it comes with that tap.
    await choose_language(botapi, ERIKA, calls, first_name=name)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "Bendorf"))
    await exchange(botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Handwerk"]))
    await bot.app.members.set_role(f"telegram:{ERIKA}", Role.ORGANISER)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "Menü"))

    async def tap(label: str) -> list[Call]:
        keyboard = last_keyboard(calls)
        assert label in keyboard, (label, keyboard)
        return await exchange(botapi, lambda: botapi.press(ERIKA, keyboard[label]))

    calls = await tap("Veranstaltung anlegen")
    calls = await tap("Kleine Runde (Transfer-Workshop)")
    calls = await exchange(
        botapi, lambda: botapi.send_text(ERIKA, "Drechsler\x00-Stamm\x07tisch\x7f für\x85 Tüftler")
    )
    calls = await tap("Überspringen")
    calls = await tap("MakerSpace Mayen-Koblenz, Bendorf")
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "morgen\x00 18 Uhr"))
    calls = await tap("Ja")
    calls = await tap("5 Plätze (Vorschlag)")
    calls = await tap("Keine Mindestzahl")
    calls = await tap("Bis zum Beginn")
    calls = await tap("Veröffentlichen")
    assert "Veröffentlicht!" in texts(calls)
    async with bot.app.db.sessions() as session:
        titles = (await session.scalars(select(Event.title).where(Event.title.like("Dre%")))).all()
        names = (await session.scalars(select(Member.display_name))).all()
    assert titles == ["Drechsler-Stammtisch für Tüftler"]
    assert "Erika[31m" in names and not any("\x00" in name for name in names)


async def test_consent_export_as_documents_delete_and_greeted_as_new(
    bot: TelegramBot, botapi: BotApiServer
) -> None:
    """Issue 17 on Telegram: the privacy text with "Einverstanden" comes right after the
    language; "Meine Daten" sends everything as two documents (a text and JSON);
    "Alles löschen", asked once more, deletes the member, and the next message is
    greeted as from someone new."""
    assert bot.app is not None
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "/start"))
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Deutsch (du)"])
    )
    assert "Bevor es losgeht, kurz zu deinen Daten" in texts(calls)
    assert "Niemand sieht, wo du wohnst" in texts(calls)
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Einverstanden"])
    )
    assert "Wo bist du?" in texts(calls)
    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "Bendorf"))
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Handwerk"]))
    menu = last_keyboard(calls)
    assert {"Einstellungen", "Meine Daten", "Hilfe"} <= set(menu)

    calls = await exchange(botapi, lambda: botapi.press(ERIKA, menu["Meine Daten"]))
    assert "zwei Dateien" in texts(calls)
    my_data = last_keyboard(calls)
    calls = await exchange(botapi, lambda: botapi.press(ERIKA, my_data["Meine Daten schicken"]))
    documents = [c for c in calls if c.method == "sendDocument"]
    assert len(documents) == 2, [c.method for c in calls]
    assert {int(c.params["chat_id"]) for c in documents} == {ERIKA}
    readable, machine = (c.params["document"] for c in documents)
    assert readable["filename"].endswith(".txt") and machine["filename"].endswith(".json")
    data = json.loads(machine["data"])
    assert data["member"]["home"]["label"] == "Bendorf"
    assert data["member"]["display_name"] == "Erika"
    assert data["accounts"][0]["id"] == str(ERIKA)
    assert data["consents"]["privacy"]["version"] == 1
    text = readable["data"].decode("utf-8")
    assert "Über dich" in text and "Bendorf" in text

    calls = await exchange(botapi, lambda: botapi.press(ERIKA, my_data["Alles löschen"]))
    assert "Wirklich alles löschen?" in texts(calls)
    calls = await exchange(
        botapi, lambda: botapi.press(ERIKA, last_keyboard(calls)["Ja, alles löschen"])
    )
    assert "Ich habe alles über dich gelöscht" in texts(calls)
    async with bot.app.db.sessions() as session:
        left = await session.scalar(
            select(ChannelAccount.id).where(ChannelAccount.external_id == str(ERIKA))
        )
    assert left is None

    calls = await exchange(botapi, lambda: botapi.send_text(ERIKA, "hallo"))
    assert "Willkommen bei Werkbank" in texts(calls)
    assert {"Deutsch (du)", "Deutsch (Sie)", "English"} <= set(last_keyboard(calls))
    assert "Was möchtest du tun?" not in texts(calls)
