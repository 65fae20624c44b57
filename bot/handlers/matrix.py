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
import html
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomMessage,
    RoomMessageMedia,
    RoomMessageText,
    RoomMessageUnknown,
    SyncResponse,
)

from bot.i18n import translator
from bot.messages import AccountRef, Incoming, Kind, OutMessage

if TYPE_CHECKING:
    from bot.app import Werkbank

log = logging.getLogger(__name__)

CHANNEL = "matrix"
PREFIX = "!werkbank"
SESSION_FILE = "session.json"
_GEO_URI = re.compile(r"^geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")


def parse_geo_uri(uri: str) -> tuple[float, float] | None:
    """'geo:51.37,7.70;u=35' -> (51.37, 7.70)."""
    match = _GEO_URI.match(uri.strip())
    return (float(match[1]), float(match[2])) if match else None


def render(messages: Sequence[OutMessage], first_number: int = 1) -> list[dict[str, Any]]:
    """m.notice contents: text, then the buttons numbered across the whole reply."""
    contents = []
    number = first_number
    for message in messages:
        plain = [message.text]
        rich = [html.escape(message.text).replace("\n", "<br>")]
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


class MatrixChannel:
    """The Matrix side of Werkbank: log in, sync, answer."""

    def __init__(self, werkbank: Werkbank) -> None:
        settings = werkbank.settings
        if not settings.matrix_homeserver or not settings.matrix_user:
            raise ValueError("WERKBANK_MATRIX_HOMESERVER and WERKBANK_MATRIX_USER must be set")
        self.werkbank = werkbank
        self.settings = settings
        self.store = Path(settings.matrix_store).expanduser()
        self.store.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(
            store_sync_tokens=True,  # a restart continues after the last answered event
            encryption_enabled=True,
            max_limit_exceeded=None,  # a 429 is waited out as often as it comes
        )
        self.client = AsyncClient(
            settings.matrix_homeserver,
            settings.matrix_user,
            store_path=str(self.store),
            config=config,
        )
        self._task: asyncio.Task[None] | None = None
        self._greet: set[str] = set()
        self._ready = asyncio.Event()

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        await self._login()
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)  # type: ignore[arg-type]
        self.client.add_event_callback(self._on_message, (RoomMessage, MegolmEvent))  # type: ignore[arg-type]
        self.client.add_response_callback(self._on_sync, SyncResponse)  # type: ignore[arg-type]
        # One full sync first, without answering: what happened while we were away is old.
        await self.client.sync(timeout=0, full_state=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self._ready.set()
        self._task = asyncio.create_task(self.client.sync_forever(timeout=3000))
        log.info("matrix: started as %s (device %s)", self.client.user_id, self.client.device_id)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def _login(self) -> None:
        session_path = self.store / SESSION_FILE
        if session_path.exists():
            session = json.loads(session_path.read_text())
            self.client.restore_login(
                session["user_id"], session["device_id"], session["access_token"]
            )
        else:
            token = self.settings.matrix_access_token
            password = self.settings.matrix_password
            if password is None and token is None:
                raise ValueError("set WERKBANK_MATRIX_PASSWORD or WERKBANK_MATRIX_ACCESS_TOKEN")
            if password is not None:
                response = await self.client.login(
                    password.get_secret_value(), device_name="Werkbank"
                )
                if not isinstance(response, LoginResponse):
                    raise RuntimeError(f"matrix login failed: {response}")
            else:
                assert token is not None
                self.client.access_token = token.get_secret_value()
                whoami = await self.client.whoami()
                self.client.restore_login(
                    whoami.user_id, whoami.device_id, token.get_secret_value()
                )  # type: ignore[union-attr]
            session_path.write_text(
                json.dumps(
                    {
                        "user_id": self.client.user_id,
                        "device_id": self.client.device_id,
                        "access_token": self.client.access_token,
                    }
                )
            )
            session_path.chmod(0o600)
        if self.client.store is None:
            self.client.load_store()

    # -- events in -----------------------------------------------------------
    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self.client.user_id or event.membership != "invite":
            return
        await self.client.join(room.room_id)
        # The room is usable after the next sync shows it; greet then.
        self._greet.add(room.room_id)

    async def _on_sync(self, response: SyncResponse) -> None:
        for room_id in list(self._greet):
            room = self.client.rooms.get(room_id)
            if room is None:
                continue
            self._greet.discard(room_id)
            others = [u for u in room.users if u != self.client.user_id]
            if len(others) == 1 and self._ready.is_set():
                account = AccountRef(CHANNEL, others[0], chat_id=room_id)
                await self._answer(room, Incoming(account, Kind.COMMAND, text="/start"))

    async def _on_message(self, room: MatrixRoom, event: Any) -> None:
        if not self._ready.is_set() or event.sender == self.client.user_id:
            return
        account = AccountRef(CHANNEL, event.sender, chat_id=room.room_id)
        incoming = self._to_incoming(account, event)
        if room.member_count > 2:
            await self._in_group(room, incoming)
            return
        await self._answer(room, incoming)

    def _to_incoming(self, account: AccountRef, event: Any) -> Incoming:
        update_id = event.event_id
        if isinstance(event, RoomMessageText):
            text = event.body
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
    async def _send(self, room_id: str, messages: Sequence[OutMessage]) -> None:
        trust_all = self.settings.matrix_trust == "all"
        for content in render(messages):
            response = await self.client.room_send(
                room_id, "m.room.message", content, ignore_unverified_devices=trust_all
            )
            if not hasattr(response, "event_id"):
                log.error("matrix: could not send to %s: %s", room_id, response)
