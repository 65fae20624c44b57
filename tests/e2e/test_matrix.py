"""Matrix end to end: the bot (matrix-nio) against a real Synapse on 127.0.0.1, with a
nio client playing the member, in plain and in encrypted direct chats."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    MatrixRoom,
    MemoryDownloadResponse,
    RoomEncryptedFile,
    RoomEncryptedImage,
    RoomMessageFile,
    RoomMessageImage,
    RoomMessageNotice,
    RoomMessageText,
)
from nio.crypto.attachments import decrypt_attachment

from bot.config import Settings
from bot.handlers.matrix import MatrixChannel
from bot.messages import AccountRef, Delivered, OutMessage
from tests.e2e.conftest import RunningBot
from tests.e2e.synapse import Synapse
from tests.support.clock import NOW

QUIET = 0.6  # seconds without a new notice after which a reply counts as complete


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = Synapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class MatrixBot(RunningBot):
    channel_type = MatrixChannel

    def __init__(self, synapse: Synapse, directory: Path) -> None:
        self.user_id, password = synapse.register("werkbank")
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{directory / 'matrix.db'}",
            matrix_homeserver=synapse.url,
            matrix_user=self.user_id,
            matrix_password=password,
            matrix_store=str(directory / "store"),
            # The tests' Synapse lets every account send 1 000 messages a second: the bot's
            # own pacing is off, as after an admin lifted the limit (README, Matrix).
            # tests/e2e/test_matrix_announcements.py runs with Synapse's default instead.
            matrix_rate_limit=0,
        )
        super().__init__(settings, [NOW])


class Member:
    """A person in Element, played by a nio client."""

    def __init__(self, synapse: Synapse, directory: Path) -> None:
        self.synapse = synapse
        self.user_id, self.password = synapse.register("anna")
        directory.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            synapse.url,
            self.user_id,
            store_path=str(directory),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False),
        )
        self.notices: list[tuple[str, str]] = []  # (room id, body)
        self.files: list[tuple[str, bytes]] = []  # (file name, content as downloaded)
        # Pictures (m.image): file name, content, and the info clients lay them out by.
        self.images: list[tuple[str, bytes, dict[str, Any]]] = []
        self._task: asyncio.Task[None] | None = None
        self.room_id = ""

    async def start(self) -> None:
        await self.client.login(self.password, device_name="Element")
        self.client.add_event_callback(self._on_notice, RoomMessageNotice)  # type: ignore[arg-type]
        self.client.add_event_callback(self._on_file, (RoomMessageFile, RoomEncryptedFile))  # type: ignore[arg-type]
        self.client.add_event_callback(self._on_file, (RoomMessageImage, RoomEncryptedImage))  # type: ignore[arg-type]
        await self.client.sync(timeout=0, full_state=True)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=500))

    async def _on_notice(self, room: MatrixRoom, event: RoomMessageNotice) -> None:
        if event.sender != self.user_id:
            self.notices.append((room.room_id, event.body))

    async def _on_file(
        self,
        room: MatrixRoom,
        event: RoomMessageFile | RoomEncryptedFile | RoomMessageImage | RoomEncryptedImage,
    ) -> None:
        """Download (and decrypt) a file or picture the bot sent, as Element does."""
        downloaded = await self.client.download(event.url)
        assert isinstance(downloaded, MemoryDownloadResponse), downloaded
        data = downloaded.body
        if isinstance(event, RoomEncryptedFile | RoomEncryptedImage):
            data = decrypt_attachment(data, event.key["k"], event.hashes["sha256"], event.iv)
        if isinstance(event, RoomMessageImage | RoomEncryptedImage):
            self.images.append((event.body, data, event.source["content"].get("info", {})))
        else:
            self.files.append((event.body, data))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def open_direct_chat(self, bot_id: str, encrypted: bool) -> str:
        """Invite the bot the way Element does: a direct chat, encrypted by default."""
        state = (
            [
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ]
            if encrypted
            else []
        )
        response = await self.client.room_create(
            is_direct=True, invite=[bot_id], initial_state=state
        )
        self.room_id = response.room_id  # type: ignore[union-attr]
        return self.room_id

    async def say(self, text: str, room_id: str | None = None) -> str:
        return await self._send({"msgtype": "m.text", "body": text}, room_id)

    async def send(self, content: dict[str, Any], event_type: str = "m.room.message") -> str:
        """Any event, as other clients (and bots) send them; its event id."""
        await self.client.sync(timeout=0)
        response = await self.client.room_send(
            self.room_id, event_type, content, ignore_unverified_devices=True
        )
        assert hasattr(response, "event_id"), response
        return str(response.event_id)

    async def silence(self, action: object, seconds: float = 1.5) -> None:
        """The bot says nothing in answer to the action."""
        before = len(self.notices)
        await action  # type: ignore[misc]
        await asyncio.sleep(seconds)
        assert self.notices[before:] == []

    async def share_location(self, lat: float, lon: float) -> None:
        await self._send(
            {"msgtype": "m.location", "body": "Standort", "geo_uri": f"geo:{lat},{lon}"}, None
        )

    async def _send(self, content: dict[str, Any], room_id: str | None) -> str:
        room = room_id or self.room_id
        await self.client.sync(timeout=0)  # keys of a freshly joined bot device
        response = await self.client.room_send(
            room, "m.room.message", content, ignore_unverified_devices=True
        )
        assert hasattr(response, "event_id"), response
        return str(response.event_id)

    async def reply(
        self,
        action: object = None,
        room_id: str | None = None,
        timeout: float = 20,
        quiet: float = QUIET,
    ) -> str:
        """Everything the bot says next in the room (until it is quiet), as one text."""
        start = len(self.notices)
        if action is not None:
            await action  # type: ignore[misc]
        room = room_id or self.room_id

        def said() -> list[str]:
            return [body for r, body in self.notices[start:] if r == room]

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not said():
            if loop.time() > deadline:
                raise AssertionError("the bot did not answer")
            await asyncio.sleep(0.05)
        seen = -1
        while seen != len(self.notices):
            seen = len(self.notices)
            await asyncio.sleep(quiet)
        return "\n".join(said())


@pytest.fixture
async def bot(synapse: Synapse, tmp_path: Path) -> AsyncIterator[MatrixBot]:
    running = MatrixBot(synapse, tmp_path)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def member(synapse: Synapse, tmp_path: Path) -> AsyncIterator[Member]:
    person = Member(synapse, tmp_path / "anna")
    await person.start()
    try:
        yield person
    finally:
        await person.stop()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_invite_join_and_onboarding_in_a_direct_chat(
    bot: MatrixBot, member: Member, encrypted: bool
) -> None:
    greeting = await member.reply(member.open_direct_chat(bot.user_id, encrypted))
    assert "Willkommen bei Werkbank" in greeting
    assert "1) Deutsch (du)" in greeting and "2) Deutsch (Sie)" in greeting
    assert "3) English" in greeting
    text = await member.reply(member.say("1"))
    assert "Bevor es losgeht, kurz zu deinen Daten" in text
    assert "1) Einverstanden" in text and "2) Nicht einverstanden" in text
    text = await member.reply(member.say("1"))
    assert "Wo bist du?" in text
    text = await member.reply(member.say("Bendorf"))
    assert "Was interessiert dich" in text
    text = await member.reply(member.say("handwerk"))  # the word instead of the number
    assert "Was möchtest du tun?" in text
    assert "1) Offene Werkstätten in der Nähe" in text


async def test_a_shared_location_and_places_with_links(bot: MatrixBot, member: Member) -> None:
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=False))
    await member.reply(member.say("Deutsch"))
    await member.reply(member.say("Einverstanden"))  # the privacy text (issue 17)
    text = await member.reply(member.share_location(50.43, 7.57))
    assert "Danke, ich habe deinen Standort (bei Bendorf)." in text
    await member.reply(member.say("1"))
    text = await member.reply(member.say("1"))
    assert "MakerSpace Mayen-Koblenz" in text
    text = await member.reply(member.say("MakerSpace Mayen-Koblenz"))
    assert "geo:50." in text and "openstreetmap.org" in text


async def test_numbered_options_take_bare_numbers_and_abbrechen_leaves_a_question(
    bot: MatrixBot, member: Member
) -> None:
    """Matrix shows numbered options: a bare number is that option; kilometres of one's
    own come with "km". "abbrechen" at a question leaves it and is not its answer."""
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=False))
    await member.reply(member.say("Deutsch"))
    await member.reply(member.say("Einverstanden"))  # the privacy text (issue 17)
    await member.reply(member.say("Bendorf"))
    await member.reply(member.say("Handwerk"))
    await member.reply(member.say("Einstellungen"))
    text = await member.reply(member.say("Umkreis ändern"))
    assert "4) 100 km" in text
    assert "Umkreis: 100 km" in await member.reply(member.say("4"))
    await member.reply(member.say("Umkreis ändern"))
    text = await member.reply(member.say("30"))
    assert "Die Nummer 30 gibt es hier nicht" in text and "„30 km“" in text
    assert "Umkreis: 30 km" in await member.reply(member.say("30 km"))
    text = await member.reply(member.say("Ort ändern"))
    assert "Wo bist du?" in text
    text = await member.reply(member.say("abbrechen"))
    assert "Gut, abgebrochen." in text and "Was möchtest du tun?" in text
    text = await member.reply(member.say("Einstellungen"))
    assert "Dein Ort: Bendorf" in text
    # Typed as people talk: an unclear word asks with numbered choices, a greeting
    # mid-question asks again, thanks end at the menu.
    text = await member.reply(member.say("ändern"))
    assert "Meinst du eins davon?" in text and "1) Meinen Ort ändern" in text
    assert "Wo bist du?" in await member.reply(member.say("1"))
    text = await member.reply(member.say("Moin!"))
    assert "Hallo!" in text and "Wo bist du?" in text
    text = await member.reply(member.say("danke"))
    assert "Gern geschehen!" in text and "Was möchtest du tun?" in text


async def test_sie_typed_at_the_start_and_an_empty_list_looks_further_on_matrix(
    bot: MatrixBot, member: Member
) -> None:
    """ "Sie" typed at the language question; far from every place, the empty list names
    the nearest one, and a numbered "Weiter suchen" looks further for once."""
    du = re.compile(r"\b(du|dich|dir|dein\w*)\b", re.IGNORECASE)
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=False))
    text = await member.reply(member.say("Sie"))
    assert "Bevor es losgeht, kurz zu Ihren Daten" in text and not du.search(text), text
    text = await member.reply(member.say("Einverstanden"))
    assert "Wo sind Sie?" in text and not du.search(text), text
    # A town with its usual addition, as people write it.
    text = await member.reply(member.say("Garmisch-Partenkirchen (Obb.)"))
    assert "Garmisch-Partenkirchen" in text and not du.search(text), text
    await member.reply(member.say("Handwerk"))
    text = await member.reply(member.say("1"))
    assert "Der nächste Ort: " in text and not du.search(text), text
    wider = re.search(r"(\d+)\) Weiter suchen: (\d+ km)", text)
    assert wider, text
    text = await member.reply(member.say(wider[1]))
    assert f"Orte im Umkreis von {wider[2]}" in text


async def test_in_a_room_with_several_people_the_bot_answers_only_when_addressed(
    synapse: Synapse, bot: MatrixBot, member: Member, tmp_path: Path
) -> None:
    other = Member(synapse, tmp_path / "bernd")
    await other.start()
    try:
        response = await member.client.room_create(invite=[bot.user_id, other.user_id])
        room_id = response.room_id  # type: ignore[union-attr]
        await other.client.join(room_id)
        await asyncio.sleep(1.5)  # the bot joins through its invite
        before = len(member.notices)
        await member.say("Hallo Bernd, kommst du morgen?", room_id)
        await asyncio.sleep(1.5)
        assert len(member.notices) == before
        text = await member.reply(member.say("!werkbank Hilfe", room_id), room_id=room_id)
        assert "Schreibe mir bitte allein" in text
    finally:
        await other.stop()


async def test_after_a_restart_old_messages_are_not_answered_again_and_the_dialog_continues(
    bot: MatrixBot, member: Member
) -> None:
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=True))
    await member.reply(member.say("1"))
    await member.reply(member.say("1"))  # "Einverstanden" under the privacy text
    await bot.stop()
    await bot.start(demo=False)
    before = len(member.notices)
    await asyncio.sleep(2)
    assert len(member.notices) == before  # nothing old was answered again
    text = await member.reply(member.say("Bendorf"))
    assert "Was interessiert dich" in text


async def test_a_message_written_while_the_bot_was_down_is_answered_after_the_restart(
    bot: MatrixBot, member: Member
) -> None:
    """The sync token is saved after a sync's events are answered: what came while the
    bot was down (a crash, a restart) comes again and is answered once."""
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=True))
    await member.reply(member.say("1"))
    await member.reply(member.say("Einverstanden"))
    await bot.stop()
    await member.say("Bendorf")
    text = await member.reply(bot.start(demo=False))
    assert "Was interessiert dich" in text
    before = len(member.notices)
    await asyncio.sleep(2)
    assert len(member.notices) == before  # and only once


async def test_a_notice_sent_again_with_its_key_arrives_once(
    bot: MatrixBot, member: Member
) -> None:
    """A notice sent, then sent again because the bot died before marking it sent: the
    same transaction ids make the homeserver keep the first copy only."""
    assert isinstance(bot.channel, MatrixChannel)
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=False))
    account = AccountRef("matrix", member.user_id, chat_id=member.room_id)
    reminder = [OutMessage("Erinnerung: morgen 17 Uhr, Holz trifft Laser.")]
    assert await bot.channel.deliver(account, reminder, key="notice-41") == Delivered.SENT
    assert await bot.channel.deliver(account, reminder, key="notice-41") == Delivered.SENT
    assert await bot.channel.deliver(account, reminder, key="notice-42") == Delivered.SENT
    await asyncio.sleep(QUIET * 2)
    copies = [body for _, body in member.notices if body.startswith("Erinnerung:")]
    assert len(copies) == 2  # notice 41 once, notice 42 once


async def test_garbage_gets_a_kind_answer(bot: MatrixBot, member: Member) -> None:
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=False))
    await member.reply(member.say("1"))
    await member.reply(member.say("1"))  # "Einverstanden"
    await member.reply(member.say("Bendorf"))
    await member.reply(member.say("1"))
    text = await member.reply(member.say("🙂" * 50))
    assert "nicht verstanden" in text and "1) Offene Werkstätten in der Nähe" in text
    text = await member.reply(member.say("17"))
    assert "Die Nummer 17 gibt es hier nicht" in text


async def test_the_homeservers_rate_limit_is_waited_out_and_nothing_is_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tight = Synapse(tmp_path / "tight", message_rate={"per_second": 1, "burst_count": 2})
    tight.start()
    bot = MatrixBot(tight, tmp_path / "bot")
    person = Member(tight, tmp_path / "person")
    try:
        await bot.start()
        await person.start()
        with caplog.at_level(logging.WARNING, logger="nio"):
            await person.reply(person.open_direct_chat(bot.user_id, encrypted=False))
            await person.reply(person.say("1"))
            await person.reply(person.say("Einverstanden"), timeout=30, quiet=3)
            # A throttled bot sends its two messages seconds apart: wait longer for quiet.
            text = await person.reply(person.say("Bendorf"), timeout=30, quiet=3)
            assert "Alles klar: Bendorf" in text and "Was interessiert dich" in text
            text = await person.reply(person.say("1"), timeout=30, quiet=3)
            assert "Was möchtest du tun?" in text
        assert any("429" in r.getMessage() for r in caplog.records), (
            "the test did not hit the limit"
        )
    finally:
        await person.stop()
        await bot.stop()
        tight.stop()


async def test_werkbank_run_serves_matrix_and_telegram_side_by_side(
    synapse: Synapse, member: Member, tmp_path: Path
) -> None:
    from tests.e2e.botapi import BotApiServer

    telegram = BotApiServer()
    await telegram.start()
    bot_id, password = synapse.register("werkbank")
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "WERKBANK_DATABASE_URL": f"sqlite:///{tmp_path / 'both.db'}",
        "WERKBANK_TELEGRAM_TOKEN": telegram.token,
        "WERKBANK_TELEGRAM_API_URL": telegram.url,
        "WERKBANK_TELEGRAM_POLL_TIMEOUT": "1",
        "WERKBANK_MATRIX_HOMESERVER": synapse.url,
        "WERKBANK_MATRIX_USER": bot_id,
        "WERKBANK_MATRIX_PASSWORD": password,
        "WERKBANK_MATRIX_STORE": str(tmp_path / "store"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not telegram.sent("setMyCommands") and loop.time() < deadline:
            await asyncio.sleep(0.05)
        greeting = await member.reply(member.open_direct_chat(bot_id, encrypted=True), timeout=30)
        assert "Willkommen bei Werkbank" in greeting
        await telegram.send_text(1001, "/start")
        sent = await telegram.wait_for("sendMessage", chat_id=1001, timeout=20)
        assert "Willkommen bei Werkbank" in sent[0].params["text"]
        process.send_signal(signal.SIGTERM)
        started = loop.time()
        while process.poll() is None and loop.time() - started < 10:
            await asyncio.sleep(0.05)
        assert process.poll() == 0
    finally:
        if process.poll() is None:
            process.kill()
        await telegram.stop()


def _session(directory: Path) -> dict[str, str]:
    session: dict[str, str] = json.loads((directory / "store" / "session.json").read_text())
    return session


def _login(synapse: Synapse, user_id: str, password: str) -> dict[str, str]:
    """A session made the way an operator would, outside the bot."""
    response = httpx.post(
        f"{synapse.url}/_matrix/client/v3/login",
        json={
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": password,
        },
    )
    response.raise_for_status()
    body = response.json()
    return {k: body[k] for k in ("user_id", "device_id", "access_token")}


def _revoke(synapse: Synapse, token: str) -> None:
    """Log the session out on the homeserver (Synapse deletes its device and keys too)."""
    response = httpx.post(
        f"{synapse.url}/_matrix/client/v3/logout",
        headers={"Authorization": f"Bearer {token}"},
        json={},
    )
    response.raise_for_status()


async def test_a_failing_handler_is_logged_and_apologised_for_and_syncing_goes_on(
    bot: MatrixBot,
    member: Member,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=False))
    assert bot.app is not None
    runner = bot.app.runner
    handle = runner.handle
    failures = [RuntimeError("the database went away")]

    async def fail_once(incoming: Any) -> Any:
        if failures:
            raise failures.pop()
        return await handle(incoming)

    monkeypatch.setattr(runner, "handle", fail_once)
    with caplog.at_level(logging.ERROR, logger="bot.handlers.matrix"):
        text = await member.reply(member.say("1"))
    assert "Entschuldige! Bei mir ist etwas schiefgegangen" in text
    text = await member.reply(member.say("Hilfe"))  # still syncing, still answering
    assert "Entschuldige" not in text
    failed = [r for r in caplog.records if "failed" in r.getMessage()]
    assert failed and member.user_id in failed[0].getMessage()
    assert member.room_id in failed[0].getMessage()
    assert bot.settings.matrix_password is not None
    token = _session(tmp_path)["access_token"]
    password = bot.settings.matrix_password.get_secret_value()
    assert token not in caplog.text and password not in caplog.text


async def test_a_sync_loop_that_dies_is_logged(
    bot: MatrixBot, member: Member, caplog: pytest.LogCaptureFixture
) -> None:
    assert isinstance(bot.channel, MatrixChannel)

    async def foreign(room: MatrixRoom, event: RoomMessageText) -> None:
        raise RuntimeError("a callback the adapter does not guard")

    bot.channel.client.add_event_callback(foreign, RoomMessageText)  # type: ignore[arg-type]
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=False))
    with caplog.at_level(logging.CRITICAL, logger="bot.handlers.matrix"):
        await member.say("1")
        task = bot.channel._task
        assert task is not None
        with contextlib.suppress(RuntimeError):
            await asyncio.wait_for(task, 20)
        await asyncio.sleep(0)  # the task's done-callbacks
    assert any("sync loop ended with an error" in r.getMessage() for r in caplog.records)


async def test_notices_and_edits_are_not_answered_and_a_reply_loses_its_quote(
    bot: MatrixBot, member: Member
) -> None:
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=True))
    said: list[str] = []

    async def choose_german() -> None:
        said.append(await member.say("1"))

    text = await member.reply(choose_german())
    assert "Bevor es losgeht" in text
    assert "Wo bist du?" in await member.reply(member.say("Einverstanden"))
    # Another bot's notice: answering it would start two bots talking forever.
    await member.silence(member.send({"msgtype": "m.notice", "body": "Bendorf"}))
    edit = {
        "msgtype": "m.text",
        "body": "* Bendorf",
        "m.new_content": {"msgtype": "m.text", "body": "Bendorf"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": said[0]},
    }
    await member.silence(member.send(edit))
    reply = {
        "msgtype": "m.text",
        "body": f"> <{bot.user_id}> Wo bist du?\n> Schreib deinen Ort\n\nBendorf",
        "format": "org.matrix.custom.html",
        "formatted_body": "<mx-reply><blockquote>Wo bist du?</blockquote></mx-reply>Bendorf",
        "m.relates_to": {"m.in_reply_to": {"event_id": "$question"}},
    }
    text = await member.reply(member.send(reply))
    assert "Alles klar: Bendorf" in text and "Was interessiert dich" in text


async def test_an_undecryptable_message_gets_a_hint_and_a_key_request(
    bot: MatrixBot, member: Member
) -> None:
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=False))
    assert member.client.olm is not None
    garbled = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "ciphertext": "AwgAEnB0aGlzIGlzIG5vdCBhIG1lZ29sbSBtZXNzYWdl",
        "sender_key": member.client.olm.account.identity_keys["curve25519"],
        "session_id": "a-session-the-bot-never-got",
        "device_id": member.client.device_id,
    }
    text = await member.reply(member.send(garbled, event_type="m.room.encrypted"))
    assert "Ich konnte deine Nachricht nicht lesen" in text
    assert isinstance(bot.channel, MatrixChannel)
    assert "a-session-the-bot-never-got" in bot.channel.client.outgoing_key_requests


async def test_stopping_lets_a_reply_under_way_finish(
    bot: MatrixBot, member: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=False))
    assert bot.app is not None
    runner = bot.app.runner
    handle = runner.handle
    started = asyncio.Event()

    async def slow(incoming: Any) -> Any:
        started.set()
        await asyncio.sleep(1)
        return await handle(incoming)

    monkeypatch.setattr(runner, "handle", slow)

    async def say_then_stop() -> None:
        await member.say("1")
        await asyncio.wait_for(started.wait(), 10)
        await bot.stop()

    text = await member.reply(say_then_stop())
    assert "Bevor es losgeht" in text  # the privacy text that follows the language


async def test_a_revoked_session_logs_in_again_as_the_same_device(
    bot: MatrixBot, member: Member, tmp_path: Path, synapse: Synapse
) -> None:
    before = _session(tmp_path)
    await bot.stop()
    _revoke(synapse, before["access_token"])
    await bot.start(demo=False)
    after = _session(tmp_path)
    assert after["device_id"] == before["device_id"]
    assert after["access_token"] != before["access_token"]
    # The device's keys are back on the server: an encrypted chat works both ways.
    greeting = await member.reply(member.open_direct_chat(bot.user_id, encrypted=True))
    assert "Willkommen bei Werkbank" in greeting
    text = await member.reply(member.say("1"))
    assert "Bevor es losgeht" in text
    assert "Wo bist du?" in await member.reply(member.say("1"))
    store = tmp_path / "store"
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert stat.S_IMODE((store / "session.json").stat().st_mode) == 0o600
    assert [p.name for p in store.iterdir() if p.name.endswith(".tmp")] == []


async def test_a_stored_session_of_another_account_is_not_used(
    synapse: Synapse, tmp_path: Path
) -> None:
    other_id, other_password = synapse.register("other")
    store = tmp_path / "store"
    store.mkdir(mode=0o755)
    (store / "session.json").write_text(json.dumps(_login(synapse, other_id, other_password)))
    running = MatrixBot(synapse, tmp_path)
    await running.start(demo=False)
    try:
        assert isinstance(running.channel, MatrixChannel)
        assert running.channel.client.user_id == running.user_id
        assert _session(tmp_path)["user_id"] == running.user_id
        assert stat.S_IMODE(store.stat().st_mode) == 0o700
    finally:
        await running.stop()


def _werkbank_run(tmp_path: Path, **settings: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WERKBANK_")}
    env.update(
        HOME=str(tmp_path),
        WERKBANK_DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}",
        WERKBANK_MATRIX_STORE=str(tmp_path / "store"),
        **settings,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "stderr.log").open("w"),
        text=True,
    )


async def _exit_code(process: subprocess.Popen[str], seconds: float) -> int | None:
    """Poll without blocking the event loop; None if it is still running."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while process.poll() is None and loop.time() < deadline:
        await asyncio.sleep(0.05)
    return process.poll()


async def test_werkbank_run_stops_on_sigterm_while_the_homeserver_is_unreachable(
    tmp_path: Path,
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free, and nothing listens once the socket is closed
    process = _werkbank_run(
        tmp_path,
        WERKBANK_MATRIX_HOMESERVER=f"http://127.0.0.1:{port}",
        WERKBANK_MATRIX_USER="@werkbank:localhost",
        WERKBANK_MATRIX_PASSWORD="not-used",
    )
    try:
        # Signal once nio is retrying the login (it says so), not during Python's start-up.
        log = tmp_path / "stderr.log"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while "Timed out" not in log.read_text() and loop.time() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)
        assert process.poll() is None, log.read_text()
        process.send_signal(signal.SIGTERM)
        assert await _exit_code(process, 10) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_werkbank_run_says_in_one_line_that_a_revoked_session_needs_the_password(
    synapse: Synapse, tmp_path: Path
) -> None:
    user_id, password = synapse.register("werkbank")
    session = _login(synapse, user_id, password)
    store = tmp_path / "store"
    store.mkdir()
    (store / "session.json").write_text(json.dumps(session))
    _revoke(synapse, session["access_token"])
    process = _werkbank_run(
        tmp_path, WERKBANK_MATRIX_HOMESERVER=synapse.url, WERKBANK_MATRIX_USER=user_id
    )
    try:
        assert await _exit_code(process, 30) == 2
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = (tmp_path / "stderr.log").read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("werkbank: WERKBANK_MATRIX_PASSWORD"), lines
    assert session["access_token"] not in lines[0]


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_sign_up_brings_the_calendar_file_and_the_reminder_arrives_in_the_chat(
    bot: MatrixBot, member: Member, encrypted: bool
) -> None:
    from datetime import timedelta

    from icalendar import Calendar
    from sqlalchemy import select

    from bot.services.contracts import EventChange
    from bot.storage.models import Event, EventFormat
    from tests.support.factories import START, add_event

    assert bot.app is not None and bot.channel is not None
    await member.reply(member.open_direct_chat(bot.user_id, encrypted))
    await member.reply(member.say("1"))
    await member.reply(member.say("Einverstanden"))  # the privacy text (issue 17)
    await member.reply(member.say("Bendorf"))
    await member.reply(member.say("Handwerk"))
    event_id = await add_event(bot.app, fmt=EventFormat.NETWORKING, organiser="Olga")
    text = await member.reply(member.say(f"/start ev_{event_id}"))
    assert "Plätze: 5 von 5 frei" in text
    text = await member.reply(member.say("Anmelden"))
    assert "Du bist angemeldet für „Holz trifft Laser“." in text
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not member.files and loop.time() < deadline:
        await asyncio.sleep(0.05)
    [(name, data)] = member.files  # readable in the member's client, also when encrypted
    assert name.endswith(".ics") and b"BEGIN:VEVENT" in data and b"Holz trifft Laser" in data

    # Moved by half an hour: the notice names both times and brings the file again.
    async with bot.app.db.sessions() as session:
        olga = await session.scalar(select(Event.organiser_id).where(Event.id == event_id))
    assert olga is not None
    later = EventChange(start_at=START + timedelta(minutes=30))
    await bot.app.services.organiser.change(olga, event_id, later, bot.clock[0])
    dispatcher = bot.app.dispatcher({"matrix": bot.channel})
    sent = await member.reply(dispatcher.run_once())
    assert "Neue Zeit: Do., 26. Nov., 17:30–20:30 Uhr (vorher 17–20 Uhr)" in sent
    deadline = loop.time() + 10
    while len(member.files) < 2 and loop.time() < deadline:
        await asyncio.sleep(0.05)
    [vevent] = Calendar.from_ical(member.files[1][1]).walk("VEVENT")
    assert (str(vevent["UID"]), vevent.decoded("SEQUENCE")) == ("Holz trifft Laser@test", 1)

    # The day before, the scheduler's dispatch goes through the Matrix channel.
    bot.clock[0] = START - timedelta(hours=23)
    sent = await member.reply(dispatcher.run_once())
    assert "Erinnerung: Morgen ist „Holz trifft Laser“." in sent
    assert "Abmelden" in sent  # it opens her registration: cancelling is one answer away
    assert await dispatcher.run_once() == 0  # never twice


async def test_a_member_who_left_the_chat_keeps_the_seat_and_gets_no_reminder(
    bot: MatrixBot, member: Member
) -> None:
    from datetime import timedelta

    from bot.messages import AccountRef
    from bot.storage.models import EventFormat
    from tests.support.factories import START, add_event

    assert bot.app is not None and isinstance(bot.channel, MatrixChannel)
    # The welcome first, as the other tests wait for it: arriving late under load, it
    # was taken for the answer to a later message.
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=False))
    room = member.room_id
    await member.reply(member.say("1"), room_id=room)
    await member.reply(member.say("Einverstanden"))  # the privacy text (issue 17)
    await member.reply(member.say("Bendorf"))
    await member.reply(member.say("Handwerk"))
    event_id = await add_event(bot.app, fmt=EventFormat.NETWORKING)
    await member.reply(member.say(f"/start ev_{event_id}"))
    assert "Du bist angemeldet" in await member.reply(member.say("Anmelden"))

    await member.client.room_leave(room)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while member.user_id in bot.channel.client.rooms[room].users and loop.time() < deadline:
        await asyncio.sleep(0.05)
    bot.clock[0] = START - timedelta(hours=23)
    assert await bot.app.dispatcher({"matrix": bot.channel}).run_once() == 0
    anna = await bot.app.conversations.open(AccountRef("matrix", member.user_id))
    mine = await bot.app.services.registrations.for_event(anna.member.id, event_id)
    assert mine is not None and mine.status == "registered"

    # Back in a new direct chat, she is reached there.
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=False))
    bot.clock[0] = START - timedelta(hours=2)
    sent = await member.reply(bot.app.dispatcher({"matrix": bot.channel}).run_once())
    assert "beginnt in zwei Stunden" in sent


async def test_a_topic_supported_in_matrix_brings_an_invitation_answered_with_one_word(
    bot: MatrixBot, member: Member
) -> None:
    """The short path: in Element, a member supports a topic by numbers and words, agrees
    to invitations, and when a workshop is made of it, signs up with one answer."""
    from bot.codes import Role
    from tests.support.chat import ChatUser

    assert bot.app is not None and bot.channel is not None
    anna, ben, olga = (ChatUser(bot.app.runner, n) for n in ("anna", "ben", "olga"))
    await olga.onboard("Bendorf")
    await bot.app.members.set_role("console:olga", Role.ORGANISER)
    await anna.onboard("Bendorf")
    await anna.tap("Thema vorschlagen")
    await anna.send("Lasercutter für Holz")
    await anna.send("Intarsien für Möbel")
    await anna.tap("Handwerk")
    await anna.tap("Weiter")
    await anna.send("/einstellungen")
    await anna.tap("Persönliche Einladungen")

    await member.reply(member.open_direct_chat(bot.user_id, encrypted=False))
    await member.reply(member.say("Deutsch"))
    await member.reply(member.say("Einverstanden"))  # the privacy text (issue 17)
    await member.reply(member.say("Koblenz"))
    await member.reply(member.say("Gestaltung"))
    text = await member.reply(member.say("Themen in der Nähe"))
    assert "Lasercutter für Holz" in text and "1 Person in deiner Nähe" in text
    await member.reply(member.say("1"))  # the first topic
    await member.reply(member.say("Ich auch"))
    text = await member.reply(member.say("Feine Muster"))
    assert "Dürfen Veranstalter dich persönlich" in text
    text = await member.reply(member.say("Ja"))
    assert "2 Leute in deiner Nähe" in text

    await ben.onboard("Neuwied")
    await ben.tap("Themen in der Nähe")
    await ben.tap("Lasercutter für Holz")
    await ben.tap("Ich auch")
    await ben.tap("Überspringen")
    await ben.tap("Ja")
    await olga.send("Menü")
    await olga.tap("Themen in der Nähe")
    await olga.tap("Lasercutter für Holz")
    await olga.tap("Workshop daraus machen")
    await olga.tap("MakerSpace Mayen-Koblenz")
    await olga.send("Do 17-20 Uhr")
    await olga.tap("Ja")
    await olga.tap("5 Plätze")
    await olga.tap("Keine Mindestzahl")
    await olga.tap("Bis zum Beginn")
    assert "Veröffentlicht" in await olga.tap("Veröffentlichen")

    dispatcher = bot.app.dispatcher({"matrix": bot.channel})
    text = await member.reply(dispatcher.run_once())
    assert "Du bist persönlich eingeladen" in text and "Anmelden" in text
    text = await member.reply(member.say("Anmelden"))
    assert "Du bist angemeldet" in text  # her wish is her expectation: no second question


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_a_check_in_is_answered_by_words_and_the_organiser_gets_the_chart_as_an_image(
    bot: MatrixBot, member: Member, encrypted: bool
) -> None:
    """The workshop ends and time moves on: the member is asked in her Matrix chat with
    her expectation quoted and answers in words; the organiser, in his own Matrix
    chat, opens "Wirkung" and the chart arrives as an m.image he can open."""
    from sqlalchemy import update

    from bot.codes import Role
    from bot.handlers.matrix import png_size
    from bot.messages import AccountRef
    from bot.storage.models import Event
    from tests.support.attendees import FRIDAY_MORNING
    from tests.support.factories import add_event

    assert bot.app is not None and bot.channel is not None
    await member.reply(member.open_direct_chat(bot.user_id, encrypted))
    await member.reply(member.say("Deutsch"))
    await member.reply(member.say("Einverstanden"))  # the privacy text (issue 17)
    await member.reply(member.say("Bendorf"))
    await member.reply(member.say("Handwerk"))
    event_id = await add_event(bot.app)  # a transfer workshop, Thursday 17–20 Uhr
    await member.reply(member.say(f"/start ev_{event_id}"))
    await member.reply(member.say("Anmelden"))
    text = await member.reply(member.say("Intarsien für Möbel schneiden"))
    assert "Du bist angemeldet" in text
    # She organises it too, in this test: one Matrix account is enough to see both sides.
    await bot.app.members.set_role(f"matrix:{member.user_id}", Role.ORGANISER)
    anna = await bot.app.conversations.open(AccountRef("matrix", member.user_id))
    async with bot.app.db.transaction() as session:
        organised = update(Event).where(Event.id == event_id).values(organiser_id=anna.member.id)
        await session.execute(organised)

    bot.clock[0] = FRIDAY_MORNING
    dispatcher = bot.app.dispatcher({"matrix": bot.channel})
    text = await member.reply(dispatcher.run_once())
    assert "Du wolltest: „Intarsien für Möbel schneiden“ – hat das geklappt?" in text
    assert "Was nimmst du mit?" in await member.reply(member.say("Ja"))
    assert "Vornamen" in await member.reply(member.say("Lasern mit Furnier"))
    assert "in Kontakt bleiben" in await member.reply(member.say("Nein, ohne Namen"))
    assert "Danke!" in await member.reply(member.say("Nein"))

    await member.reply(member.say("Menü"))
    await member.reply(member.say("Meine Veranstaltungen"))
    await member.reply(member.say("Holz trifft Laser"))
    text = await member.reply(member.say("Wirkung"))
    assert "Erwartung erfüllt: ja 1" in text and "„Lasern mit Furnier“" in text
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not member.images and loop.time() < deadline:
        await asyncio.sleep(0.05)
    [(name, data, info)] = member.images  # readable in her client, also when encrypted
    assert name.endswith(".png") and info["mimetype"] == "image/png"
    assert png_size(data) == (info["w"], info["h"])


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_a_huge_description_arrives_whole_in_events_the_homeserver_takes(
    bot: MatrixBot, member: Member, encrypted: bool
) -> None:
    """A 1 MB description was one 2 MB m.notice, which Synapse refused (M_TOO_LARGE):
    the member got nothing. Now it comes in several messages, the options last."""
    from tests.e2e.test_telegram import huge_description, words
    from tests.support.factories import add_event

    assert bot.app is not None
    description = huge_description()
    event_id = await add_event(bot.app, "Hobeln ohne Ende", description=description)
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=encrypted))
    await member.reply(member.say("Deutsch"))
    await member.reply(member.say("Einverstanden"))  # the privacy text (issue 17)
    await member.reply(member.say("Bendorf"))
    await member.reply(member.say("Handwerk"))
    start = len(member.notices)
    text = await member.reply(member.say(f"/start ev_{event_id}"), timeout=60, quiet=2)
    notices = [body for _, body in member.notices[start:]]
    assert len(notices) > 5
    assert words(description) in words(text)
    assert "1) Anmelden" in notices[-1] and not any("1) Anmelden" in n for n in notices[:-1])


@pytest.fixture
async def bot_on_each_database(
    synapse: Synapse, tmp_path: Path, database_url: str
) -> AsyncIterator[MatrixBot]:
    running = MatrixBot(synapse, tmp_path)
    running.settings = running.settings.model_copy(update={"database_url": database_url})
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def test_control_characters_typed_in_matrix_are_cleaned_before_they_are_stored(
    bot_on_each_database: MatrixBot, member: Member
) -> None:
    """A NUL in a title made publishing fail on PostgreSQL, and the draft was lost."""
    from sqlalchemy import select

    from bot.codes import Role
    from bot.storage.models import Event

    bot = bot_on_each_database
    assert bot.app is not None
    await member.reply(member.open_direct_chat(bot.user_id, encrypted=False))
    await member.reply(member.say("Deutsch"))
    await member.reply(member.say("Einverstanden"))  # the privacy text (issue 17)
    await member.reply(member.say("Bendorf"))
    await member.reply(member.say("Handwerk"))
    await bot.app.members.set_role(f"matrix:{member.user_id}", Role.ORGANISER)
    await member.reply(member.say("Menü"))
    await member.reply(member.say("Veranstaltung anlegen"))
    await member.reply(member.say("Kleine Runde (Transfer-Workshop)"))
    await member.reply(member.say("Drechsler\x00-Stamm\x07tisch\x7f für\x85 Tüftler"))
    await member.reply(member.say("Überspringen"))
    await member.reply(member.say("MakerSpace Mayen-Koblenz, Bendorf"))
    await member.reply(member.say("morgen\x00 18 Uhr"))
    await member.reply(member.say("Ja"))
    await member.reply(member.say("5 Plätze (Vorschlag)"))
    await member.reply(member.say("Keine Mindestzahl"))
    await member.reply(member.say("Bis zum Beginn"))
    assert "Veröffentlicht!" in await member.reply(member.say("Veröffentlichen"))
    async with bot.app.db.sessions() as session:
        titles = (await session.scalars(select(Event.title).where(Event.title.like("Dre%")))).all()
    assert titles == ["Drechsler-Stammtisch für Tüftler"]
