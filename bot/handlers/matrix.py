"""Matrix through matrix-nio: room events in, the runner's messages out as m.notice.

No dialog logic lives here. Buttons become numbered options in one message (HTML
with a plain-text body); members answer with the number or the word, which the
runner maps back to the button. Encrypted direct chats work through nio's e2e
store, kept in WERKBANK_MATRIX_STORE together with the device and the sync token,
so a restart reuses the same device and never answers old messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import html
import io
import itertools
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    JoinError,
    KeysUploadError,
    LocalProtocolError,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomMessage,
    RoomMessageMedia,
    RoomMessageNotice,
    RoomMessageText,
    RoomMessageUnknown,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)

from bot.codes import Channel
from bot.config import SettingsError
from bot.handlers.text_parts import split_text
from bot.i18n import translator
from bot.messages import (
    AccountRef,
    Attachment,
    Delivered,
    Incoming,
    Kind,
    OutMessage,
    cleaned,
)

if TYPE_CHECKING:
    from bot.app import Werkbank

log = logging.getLogger(__name__)

CHANNEL = Channel.MATRIX
PREFIX = "!werkbank"
SESSION_FILE = "session.json"
# How long stop() lets a reply that is being worked on finish before it cancels it.
STOP_GRACE_SECONDS = 5.0
# Messages that came while the bot was down are answered after a restart if they are
# at most this old: a crash and a restart; not a day's downtime (answers out of the blue).
ANSWER_AFTER_RESTART_S = 600
# Messages the bot may send at once before `matrix_rate_limit` paces what it sends
# unasked: Synapse's default rc_message (0.2/s, a burst of 10) as a bucket of our own.
PACE_BURST = 10
# A paced message waits until the bucket has this much more room than one message,
# so it reaches the homeserver after its token there, also when the bucket's earlier
# messages took a little longer on their way (a tenth of a message: 0.5 s at 0.2/s).
PACE_HEADROOM = 0.1
# Matrix refuses an event over 65 536 bytes, counted whole: around the content come ids,
# hashes and signatures, and encrypted, the content grows by a third (base64). So the
# content of one message stays within this many bytes of JSON; a longer text is split.
MAX_CONTENT = 40_000
PART_SLACK = 64  # the separators between a part's text and its options
_GEO_URI = re.compile(r"^geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")

EventCallback = Callable[[MatrixRoom, Any], Awaitable[None]]


def parse_geo_uri(uri: str) -> tuple[float, float] | None:
    """'geo:51.37,7.70;u=35' -> (51.37, 7.70)."""
    match = _GEO_URI.match(uri.strip())
    return (float(match[1]), float(match[2])) if match else None


def strip_reply_fallback(body: str) -> str:
    """The text of a reply without the quote clients put above it ("> <@a:b> earlier …")."""
    lines = body.split("\n")
    quoted = 0
    while quoted < len(lines) and (lines[quoted].startswith("> ") or lines[quoted] == ">"):
        quoted += 1
    if quoted == 0:
        return body
    return "\n".join(lines[quoted:]).lstrip("\n")


def render(messages: Sequence[OutMessage], first_number: int = 1) -> list[dict[str, Any]]:
    """m.notice contents: text, then the buttons numbered across the whole reply."""
    contents = []
    number = first_number
    for message in messages:
        plain = [message.text]
        rich = [_rich(message.text)]
        options = []
        for row in message.buttons:
            for button in row:
                options.append((number, button.label))
                number += 1
        if options:
            plain.append("\n".join(f"{n}) {label}" for n, label in options))
            rich.append("<br>".join(f"<b>{n}</b> {html.escape(label)}" for n, label in options))
        if message.venue is not None:
            v = message.venue
            geo = f"geo:{v.lat:.5f},{v.lon:.5f}"
            osm = f"https://www.openstreetmap.org/?mlat={v.lat:.5f}&mlon={v.lon:.5f}#map=15/{v.lat:.5f}/{v.lon:.5f}"
            plain.append(f"📍 {v.name}, {v.address}\n{geo}\n{osm}")
            rich.append(
                f'📍 {html.escape(v.name)}, {html.escape(v.address)}<br><a href="{geo}">{geo}</a>'
                f'<br><a href="{html.escape(osm)}">OpenStreetMap</a>'
            )
        if message.location_button:
            plain.append(message.location_button)
            rich.append(html.escape(message.location_button))
        contents.append(
            {
                "msgtype": "m.notice",
                "body": "\n\n".join(plain),
                "format": "org.matrix.custom.html",
                "formatted_body": "<br><br>".join(rich),
            }
        )
    return contents


def _rich(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def _content_size(content: dict[str, Any]) -> int:
    # \u-escaped, the largest form JSON takes: nio encrypts what json.dumps gives this way.
    return len(json.dumps(content))


def _text_size(text: str) -> int:
    """What a text adds to a message's content: its body and its formatted body."""
    return len(json.dumps(text)) + len(json.dumps(_rich(text)))


def in_parts(message: OutMessage, first_number: int = 1) -> list[OutMessage]:
    """`message` as the homeserver takes it: a text too large for one event in several
    messages, the options, venue and file with the last one (where the member answers)."""
    [whole] = render([message], first_number)
    if _content_size(whole) <= MAX_CONTENT:
        return [message]
    [rest] = render([dataclasses.replace(message, text="")], first_number)
    room = max(MAX_CONTENT - _content_size(rest) - PART_SLACK, MAX_CONTENT // 4)
    *first, last = split_text(message.text, room, _text_size)
    return [OutMessage(part) for part in first] + [dataclasses.replace(message, text=last)]


def _relation(event: Any) -> dict[str, Any]:
    relates = event.source.get("content", {}).get("m.relates_to")
    return relates if isinstance(relates, dict) else {}


class Pace:
    """The homeserver's limit for the bot's messages (Synapse's rc_message), mirrored:
    a bucket of `burst` messages that empties at `rate` a second.

    Every message the bot sends fills it. Unasked ones (`take`) wait for room, one
    after the other; answers (`charge`) never wait, but count all the same (also into
    debt, as the homeserver will count them once it lets them through), so the next
    unasked message waits for them instead of running into a 429."""

    def __init__(self, rate: float, burst: int = PACE_BURST) -> None:
        self.rate = rate
        self.burst = burst
        self._level = 0.0
        self._at = 0.0
        self._turn = asyncio.Lock()  # first come, first sent

    def _leak(self) -> None:
        now = asyncio.get_running_loop().time()
        self._level = max(0.0, self._level - (now - self._at) * self.rate)
        self._at = now

    def charge(self) -> None:
        self._leak()
        self._level += 1

    async def take(self, first: bool = False) -> None:
        """Wait for room, after the unasked messages already waiting (`first`: before
        them, for an organiser's progress report that would otherwise come late)."""
        if first:
            await self._room()
            return
        async with self._turn:
            await self._room()

    async def _room(self) -> None:
        self._leak()
        while (excess := self._level + 1 + PACE_HEADROOM - self.burst) > 0:
            await asyncio.sleep(excess / self.rate)
            self._leak()
        self._level += 1


class MatrixChannel:
    """The Matrix side of Werkbank: log in, sync, answer."""

    def __init__(self, werkbank: Werkbank) -> None:
        settings = werkbank.settings
        if not settings.matrix_homeserver or not settings.matrix_user:
            raise ValueError("WERKBANK_MATRIX_HOMESERVER and WERKBANK_MATRIX_USER must be set")
        self.werkbank = werkbank
        self.settings = settings
        # nio warns "Error validating response" for every error answer (it checks it
        # against the success schema first); this adapter reports the errors it gets.
        logging.getLogger("nio.responses").setLevel(logging.ERROR)
        self.store = Path(settings.matrix_store).expanduser()
        # The store holds the access token and the device's private keys: owner only,
        # also for a directory an older version created with the default umask.
        self.store.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.store.chmod(0o700)
        config = AsyncClientConfig(
            # The sync token is saved by `_on_sync`, after the sync's events are answered
            # (nio would save it before): a crash in between makes them come again, and
            # their event ids (processed_update) keep an answered one from a second effect.
            store_sync_tokens=False,
            encryption_enabled=True,
            max_limit_exceeded=None,  # a 429 is waited out as often as it comes
            # No limit on retries: a timeout escaping sync_forever would end the sync loop
            # and leave the bot deaf after a homeserver restart. A stop signal cancels the
            # waiting instead (`werkbank run` waits on it beside every channel's start).
            max_timeouts=None,
            # One request never hangs longer than this (a dead connection, a stuck proxy);
            # the long poll has its own limit in nio. Retries back off to at most
            # 30 s, so the bot is back within half a minute of the homeserver.
            request_timeout=30,
            max_timeout_retry_wait_time=30,
        )
        self.client = AsyncClient(
            settings.matrix_homeserver,
            settings.matrix_user,
            store_path=str(self.store),
            config=config,
        )
        # Unasked sends (reminders, announcements) wait in this bucket, so a 20-person
        # announcement does not run into the homeserver's limit: a burst of PACE_BURST,
        # then `matrix_rate_limit` a second. Answers are not held back; 0: no pacing.
        rate = settings.matrix_rate_limit
        self._pace = Pace(rate) if rate > 0 else None
        self._task: asyncio.Task[None] | None = None
        self._greet: set[str] = set()
        self._ready = asyncio.Event()
        # Event handling under way, so stop() can let a reply finish instead of cutting it.
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        await self._login()
        if self.client.store is None:
            self.client.load_store()
        if self.client.store is not None:
            self.client.loaded_sync_token = self.client.store.load_sync_token()
        self.client.add_event_callback(self._guarded(self._on_invite), InviteMemberEvent)  # type: ignore[arg-type]
        self.client.add_event_callback(
            self._guarded(self._on_message),  # type: ignore[arg-type]
            (RoomMessage, MegolmEvent),
        )
        self.client.add_response_callback(self._on_sync, SyncResponse)  # type: ignore[arg-type]
        # One full sync first. Of what came while we were away only the last minutes are
        # answered (a restart after a crash); older messages are old news (`_on_message`).
        first = await self.client.sync(timeout=0, full_state=True)
        if not isinstance(first, SyncResponse):
            raise RuntimeError(f"matrix: the first sync failed: {first}")
        self._ready.set()
        if self.client.should_upload_keys:
            uploaded = await self.client.keys_upload()
            if isinstance(uploaded, KeysUploadError):
                # Not fatal: sync_forever uploads again while keys are missing.
                log.warning("matrix: uploading the device keys failed: %s", uploaded)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=3000))
        self._task.add_done_callback(self._sync_ended)
        log.info("matrix: started as %s (device %s)", self.client.user_id, self.client.device_id)

    async def stop(self) -> None:
        """Let a reply under way finish (bounded), stop syncing, and always close the client.

        Never raises: `werkbank run` stops every channel, and one failing must not keep
        the others (or this client's connections) open."""
        self._stopping = True
        task = self._task
        try:
            if task is not None and not task.done():
                # Ends the loop after the current round; cancelling the long poll then loses
                # nothing, cancelling a callback would cut a reply in half.
                self.client.stop_sync_forever()
                try:
                    async with asyncio.timeout(STOP_GRACE_SECONDS):
                        while self._busy:
                            await self._idle.wait()
                except TimeoutError:
                    log.warning(
                        "matrix: a reply was still being handled after %s s; cancelling it",
                        STOP_GRACE_SECONDS,
                    )
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task  # an error of its own was logged by _sync_ended
        except Exception:
            log.exception("matrix: stopping the sync loop failed")
        finally:
            try:
                await self.client.close()
            except Exception:
                log.exception("matrix: closing the client failed")

    def _sync_ended(self, task: asyncio.Task[None]) -> None:
        # Without this, a sync loop that died would leave the bot deaf without a word.
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.critical(
                "matrix: the sync loop ended with an error; no messages are received any more",
                exc_info=error,
            )
        elif not self._stopping:
            log.error("matrix: the sync loop ended; no messages are received any more")

    # -- login -----------------------------------------------------------------
    async def _login(self) -> None:
        session = self._read_session()
        device_id: str | None = None
        if session is not None:
            if session["user_id"] != self.settings.matrix_user:
                # A store from another account (the setting changed): its device is not ours.
                log.warning(
                    "matrix: the stored session is for %s, not %s; logging in afresh",
                    session["user_id"],
                    self.settings.matrix_user,
                )
                session = None
            elif await self._restore(session):
                return
            else:
                # Revoked (logged out elsewhere, expired): log in again as the same device,
                # so the keys in the store stay the ones the members' clients know.
                device_id = session["device_id"]
        await self._fresh_login(device_id, revoked=session is not None)
        self._write_session()

    async def _restore(self, session: dict[str, str]) -> bool:
        """Use the stored session if the homeserver still accepts its token."""
        # Only the token first: restore_login opens the device's key store, which must not
        # happen for a device we might not keep.
        self.client.access_token = session["access_token"]
        whoami = await self.client.whoami()
        self.client.access_token = ""
        if not isinstance(whoami, WhoamiResponse):
            if whoami.status_code == "M_UNKNOWN_TOKEN":
                return False
            raise RuntimeError(f"matrix: checking the stored session failed: {whoami}")
        if whoami.user_id != session["user_id"] or (
            whoami.device_id and whoami.device_id != session["device_id"]
        ):
            log.warning("matrix: the stored token belongs to another device; logging in afresh")
            return False
        self.client.restore_login(session["user_id"], session["device_id"], session["access_token"])
        return True

    async def _fresh_login(self, device_id: str | None, revoked: bool) -> None:
        password = self.settings.matrix_password
        token = self.settings.matrix_access_token
        if password is not None:
            if device_id is not None:
                log.warning("matrix: the stored session is no longer valid; logging in again")
                self.client.device_id = device_id
            response = await self.client.login(password.get_secret_value(), device_name="Werkbank")
            if not isinstance(response, LoginResponse):
                if response.status_code in ("M_FORBIDDEN", "M_USER_DEACTIVATED"):
                    raise SettingsError(
                        f"WERKBANK_MATRIX_PASSWORD: the homeserver refused the login "
                        f"({response.status_code})"
                    )
                raise RuntimeError(f"matrix: login failed: {response}")
            if device_id is not None and self.client.olm is not None:
                # Revoking a token can delete the device and its keys on the server; the
                # device's own keys are uploaded again (the same keys: the server keeps
                # them if it still has them), or nobody could encrypt for the bot.
                self.client.olm.account.shared = False
            return
        if token is None:
            if revoked:
                raise SettingsError(
                    "WERKBANK_MATRIX_PASSWORD: the stored Matrix session is no longer valid "
                    "and no password is set to log in again (or set a new "
                    "WERKBANK_MATRIX_ACCESS_TOKEN)"
                )
            raise SettingsError("set WERKBANK_MATRIX_PASSWORD or WERKBANK_MATRIX_ACCESS_TOKEN")
        self.client.access_token = token.get_secret_value()
        whoami = await self.client.whoami()
        if not isinstance(whoami, WhoamiResponse):
            if whoami.status_code in ("M_UNKNOWN_TOKEN", "M_FORBIDDEN"):
                raise SettingsError(
                    f"WERKBANK_MATRIX_ACCESS_TOKEN: the homeserver rejected the token "
                    f"({whoami.status_code})"
                )
            raise RuntimeError(f"matrix: checking the access token failed: {whoami}")
        if whoami.user_id != self.settings.matrix_user or not whoami.device_id:
            raise SettingsError(
                "WERKBANK_MATRIX_ACCESS_TOKEN: the token belongs to "
                f"{whoami.user_id}, not to a device of {self.settings.matrix_user}"
            )
        self.client.restore_login(whoami.user_id, whoami.device_id, token.get_secret_value())

    def _read_session(self) -> dict[str, str] | None:
        path = self.store / SESSION_FILE
        if not path.exists():
            return None
        keys = ("user_id", "device_id", "access_token")
        try:
            session = json.loads(path.read_text())
            if isinstance(session, dict) and all(isinstance(session.get(k), str) for k in keys):
                return {k: session[k] for k in keys}
        except (OSError, ValueError):
            pass
        log.warning("matrix: %s is unreadable; logging in afresh", path)
        return None

    def _write_session(self) -> None:
        """Written whole or not at all (a crash mid-write must not lose the device),
        and readable by the owner only: it holds the access token."""
        session = {
            "user_id": self.client.user_id,
            "device_id": self.client.device_id,
            "access_token": self.client.access_token,
        }
        fd, temp = tempfile.mkstemp(dir=self.store, prefix=".session-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as handle:  # mkstemp creates it with mode 0600
                json.dump(session, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.store / SESSION_FILE)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    # -- events in -----------------------------------------------------------
    @contextlib.contextmanager
    def _handling(self) -> Iterator[None]:
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    def _guarded(self, callback: EventCallback) -> EventCallback:
        """nio lets an exception from a callback end sync_forever, and the bot would stop
        hearing anything: log it, apologise to the person, keep syncing."""

        async def guarded(room: MatrixRoom, event: Any) -> None:
            with self._handling():
                try:
                    await callback(room, event)
                except Exception:
                    log.exception(
                        "matrix: handling %s %s from %s in %s failed",
                        type(event).__name__,
                        getattr(event, "event_id", "?"),
                        getattr(event, "sender", "?"),
                        room.room_id,
                    )
                    sender = getattr(event, "sender", None)
                    if (
                        isinstance(event, (RoomMessage, MegolmEvent))
                        and sender
                        and sender != self.client.user_id
                        and room.member_count <= 2
                    ):
                        await self._sorry(room.room_id, AccountRef(CHANNEL, sender, room.room_id))

        return guarded

    async def _sorry(self, room_id: str, account: AccountRef) -> None:
        try:
            await self._send(room_id, await self.werkbank.runner.sorry(account))
        except Exception:
            log.exception("matrix: could not apologise in %s either", room_id)

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self.client.user_id or event.membership != "invite":
            return
        joined = await self.client.join(room.room_id)
        if isinstance(joined, JoinError):
            log.warning("matrix: could not join %s: %s", room.room_id, joined)
            return
        # The room is usable after the next sync shows it; greet then.
        self._greet.add(room.room_id)

    async def _on_sync(self, response: SyncResponse) -> None:
        """After a sync's events are answered: greet new rooms, then save the token."""
        await self._greet_new_rooms()
        if self.client.store is not None:
            self.client.store.save_sync_token(response.next_batch)

    async def _greet_new_rooms(self) -> None:
        for room_id in list(self._greet):
            room = self.client.rooms.get(room_id)
            if room is None:
                continue
            self._greet.discard(room_id)
            others = [u for u in room.users if u != self.client.user_id]
            if len(others) == 1 and self._ready.is_set():
                account = AccountRef(CHANNEL, others[0], chat_id=room_id)
                with self._handling():
                    try:
                        await self._answer(room, Incoming(account, Kind.COMMAND, text="/start"))
                    except Exception:  # a response callback's error would end sync_forever too
                        log.exception("matrix: greeting %s in %s failed", others[0], room_id)
                        await self._sorry(room_id, account)

    async def _on_message(self, room: MatrixRoom, event: Any) -> None:
        if event.sender == self.client.user_id:
            return
        if not self._ready.is_set():
            # The first sync after a start: what came while the bot was away. Only the
            # last minutes are answered; an answer to older news would only confuse.
            # (Live messages are never judged by their timestamp: a homeserver's clock
            # may be off.)
            age_s = time.time() - getattr(event, "server_timestamp", 0) / 1000
            if age_s > ANSWER_AFTER_RESTART_S:
                return
        if isinstance(event, RoomMessageNotice):
            return  # notices are what bots send: answering them lets two bots talk forever
        relation = _relation(event)
        if relation.get("rel_type") == "m.replace":
            return  # an edit of a message that was answered already
        account = AccountRef(CHANNEL, event.sender, chat_id=room.room_id)
        if isinstance(event, MegolmEvent):
            await self._undecryptable(room, event, account)
            return
        incoming = self._to_incoming(account, event, is_reply="m.in_reply_to" in relation)
        if room.member_count > 2:
            await self._in_group(room, incoming)
            return
        await self._answer(room, incoming)

    async def _undecryptable(
        self, room: MatrixRoom, event: MegolmEvent, account: AccountRef
    ) -> None:
        log.warning(
            "matrix: cannot decrypt %s from %s in %s (session %s)",
            event.event_id,
            event.sender,
            room.room_id,
            event.session_id,
        )
        if event.session_id not in self.client.outgoing_key_requests:
            with contextlib.suppress(LocalProtocolError):  # asked already for this session
                await self.client.request_room_key(event)
        if room.member_count > 2:
            return  # in a group nobody can tell whether the message was meant for the bot
        t = translator(self.settings.default_locale)
        hint = t._("I could not decrypt your message. Please send it again.")
        await self._send(room.room_id, [OutMessage(hint)])

    def _to_incoming(self, account: AccountRef, event: Any, is_reply: bool = False) -> Incoming:
        """One room event as the runner sees it, cleaned of control characters."""
        return cleaned(self._read(account, event, is_reply))

    def _read(self, account: AccountRef, event: Any, is_reply: bool) -> Incoming:
        update_id = event.event_id
        if isinstance(event, RoomMessageText):
            # A reply's body starts with a quote of the message replied to; the runner
            # must see only what the person wrote.
            text = strip_reply_fallback(event.body) if is_reply else event.body
            kind = Kind.COMMAND if text.startswith("/") else Kind.TEXT
            return Incoming(account, kind, text=text, update_id=update_id)
        if isinstance(event, RoomMessageUnknown) and event.msgtype == "m.location":
            point = parse_geo_uri(str(event.source.get("content", {}).get("geo_uri", "")))
            if point is not None:
                return Incoming(
                    account, Kind.LOCATION, lat=point[0], lon=point[1], update_id=update_id
                )
        if isinstance(event, RoomMessageMedia):
            audio = event.source.get("content", {}).get("msgtype") == "m.audio"
            return Incoming(account, Kind.VOICE if audio else Kind.FILE, update_id=update_id)
        return Incoming(account, Kind.OTHER, update_id=update_id)

    async def _in_group(self, room: MatrixRoom, incoming: Incoming) -> None:
        """With several people, answer only when addressed, and invite to a direct chat."""
        text = incoming.text.strip()
        me = self.client.user_id
        name = room.user_name(me) or ""
        addressed = text.lower().startswith(PREFIX) or me in text or (name and name in text)
        if not addressed:
            return
        t = translator(self.settings.default_locale)
        hint = t._("Please write to me in a direct chat: invite {bot} to a new chat.").format(
            bot=me
        )
        await self._send(room.room_id, [OutMessage(hint)])

    async def _answer(self, room: MatrixRoom, incoming: Incoming) -> None:
        replies = await self.werkbank.runner.handle(incoming)
        await self._send(room.room_id, replies)

    # -- messages out ----------------------------------------------------------
    async def deliver(
        self, account: AccountRef, messages: Sequence[OutMessage], key: str | None = None
    ) -> Delivered:
        """Send a notice unasked (a reminder, a seat come free, an announcement): the
        scheduler's Deliverer.

        It goes to the direct chat the member last wrote from. A member who has left that
        chat is skipped until they write again (like a Telegram block: the seat stays).
        Each message waits for its turn in the pacing bucket; a 429 the homeserver still
        answers is waited out by nio (`retry_after_ms`) and is no failure."""
        room = self.client.rooms.get(account.chat_id or "")
        if room is None or account.external_id not in room.users:
            log.info("matrix: %s is no longer in %s", account.external_id, account.chat_id)
            await self.werkbank.conversations.mark_blocked(CHANNEL, account.external_id)
            return Delivered.BLOCKED
        sent = await self._send(room.room_id, messages, paced=True, key=key)
        return Delivered.SENT if sent else Delivered.FAILED

    async def tell(self, account: AccountRef, messages: Sequence[OutMessage]) -> Delivered:
        """An organiser's progress report: paced, but ahead of the queue of unasked
        messages it reports on (behind them it would come minutes late)."""
        room = self.client.rooms.get(account.chat_id or "")
        if room is None or account.external_id not in room.users:
            return Delivered.BLOCKED
        sent = await self._send(room.room_id, messages, paced=True, first=True)
        return Delivered.SENT if sent else Delivered.FAILED

    @property
    def batch_size(self) -> int | None:
        """Notices the dispatcher claims at once for Matrix: about a minute of sending at
        the pace, so a batch is done well within the claim's lease and "Anhalten" stops
        an announcement within a minute."""
        if self._pace is None:
            return None
        return max(PACE_BURST, int(self._pace.rate * 60))

    async def _send(
        self,
        room_id: str,
        messages: Sequence[OutMessage],
        paced: bool = False,
        first: bool = False,
        key: str | None = None,
    ) -> bool:
        """Send the messages in order, each file after its text; False if one failed.

        With a `key`, each event's transaction id is derived from it: the homeserver
        answers a second send with the same id (the same notice after a crash) with the
        first event instead of a copy."""
        number = 1
        sends = itertools.count()

        def tx_id() -> str | None:
            return f"werkbank-{key}.{next(sends)}" if key else None

        for part in (part for message in messages for part in in_parts(message)):
            [content] = render([part], number)
            number += sum(len(row) for row in part.buttons)
            if not await self._room_send(room_id, content, paced, first, tx_id()):
                return False
            if part.attachment is not None:
                file_content = await self._upload(room_id, part.attachment)
                if file_content is None or not await self._room_send(
                    room_id, file_content, paced, first, tx_id()
                ):
                    return False
        return True

    async def _room_send(
        self,
        room_id: str,
        content: dict[str, Any],
        paced: bool = False,
        first: bool = False,
        tx_id: str | None = None,
    ) -> bool:
        if self._pace is not None and paced:
            await self._pace.take(first)
            if self._stopping:
                # Waited past stop(): the client is closing. Not sent; tried again later.
                log.info("matrix: stopping; a notice to %s waits for the next start", room_id)
                return False
        elif self._pace is not None:
            self._pace.charge()
        # Keys go to every device of the people in the room, verified or not: nio has
        # no verification flow, so "verified only" could never send (see README, Trust).
        response = await self.client.room_send(
            room_id, "m.room.message", content, tx_id=tx_id, ignore_unverified_devices=True
        )
        if not hasattr(response, "event_id"):
            log.error("matrix: could not send to %s: %s", room_id, response)
            return False
        return True

    async def _upload(self, room_id: str, attachment: Attachment) -> dict[str, Any] | None:
        """An m.file message for `attachment` (a calendar file, the attendee list), or
        m.image for a picture (a chart), uploaded encrypted when the room is encrypted."""
        room = self.client.rooms.get(room_id)
        encrypt = bool(room and room.encrypted)
        uploaded, keys = await self.client.upload(
            io.BytesIO(attachment.data),
            content_type=attachment.mime_type,
            filename=attachment.filename,
            encrypt=encrypt,
            filesize=len(attachment.data),
        )
        if not isinstance(uploaded, UploadResponse):
            log.error("matrix: could not upload %s: %s", attachment.filename, uploaded)
            return None
        info: dict[str, Any] = {"mimetype": attachment.mime_type, "size": len(attachment.data)}
        if size := png_size(attachment.data):
            info["w"], info["h"] = size  # clients keep the room for it while it loads
        content: dict[str, Any] = {
            "msgtype": "m.image" if attachment.is_image else "m.file",
            "body": attachment.filename,
            "filename": attachment.filename,
            "info": info,
        }
        if keys is not None:
            content["file"] = {**keys, "url": uploaded.content_uri}
        else:
            content["url"] = uploaded.content_uri
        return content


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG image (from its header chunk); None for anything else."""
    if len(data) < 24 or not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
