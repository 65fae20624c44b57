"""A Bot API server on 127.0.0.1 for tests: python-telegram-bot talks real HTTP to it.

Tests inject updates (text, commands, button presses, locations, voice notes),
read what the bot sent, and inject errors (429 with retry_after, 403 blocked,
400). Methods it does not implement answer 404 and are recorded, so a test can
assert that none was called.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 4242
# The methods that send a message, which Telegram's flood control counts.
MESSAGES = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendVenue"})
BOT_USERNAME = "werkbank_test_bot"


# Telegram's limits, in UTF-16 code units as Telegram counts them (an emoji is two).
MAX_TEXT = 4096
MAX_CAPTION = 1024


class Refused(Exception):
    """A request Telegram answers with 400 Bad Request; the message is its description."""


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def too_long(text: str, limit: int, what: str) -> None:
    """Refuse a text over Telegram's limit, as Telegram does."""
    if utf16_units(text) > limit:
        raise Refused(f"Bad Request: {what}")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)  # when the bot made the call


@dataclass
class BotApiServer:
    token: str = "4242:TEST-token-never-logged"
    calls: list[Call] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    webhook_url: str | None = None
    # Telegram's flood control: at most this many messages in any one second over all
    # chats; more get 429 with retry_after, as Telegram does. None: no limit.
    messages_per_second: float | None = None
    refused: list[Call] = field(default_factory=list)  # the messages refused with 429

    def __post_init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._new_update = asyncio.Condition()
        self._new_call = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._sent_at: collections.deque[float] = collections.deque()

    # -- lifecycle ---------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what tests do -------------------------------------------------------
    def fail_next(self, method: str, status: int, description: str, **parameters: Any) -> None:
        """The next call of `method` fails like Telegram would (e.g. 429 with retry_after)."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self.errors.setdefault(method, []).append((status, body))

    def user(self, user_id: int, language: str = "de", first_name: str = "Erika") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language}

    def chat(self, chat_id: int, kind: str = "private") -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": kind}
        if kind != "private":
            chat["title"] = "Werkstatt-Gruppe"
        return chat

    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        update.setdefault("update_id", next(self._update_ids))
        async with self._new_update:
            self.updates.append(update)
            self._new_update.notify_all()
        return update

    def _message(
        self,
        user_id: int,
        chat_id: int | None,
        chat_type: str,
        first_name: str = "Erika",
        **content: Any,
    ) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id if chat_id is not None else user_id, chat_type),
            "from": self.user(user_id, first_name=first_name),
            **content,
        }

    async def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Erika",
    ) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        message = self._message(user_id, chat_id, chat_type, first_name, **content)
        return await self.push({"message": message})

    async def send_location(
        self, user_id: int, lat: float, lon: float, live_period: int | None = None
    ) -> dict[str, Any]:
        """A shared location; with `live_period` a live one, whose moves come as edits."""
        location: dict[str, Any] = {"latitude": lat, "longitude": lon}
        if live_period is not None:
            location["live_period"] = live_period
        return await self.push(
            {"message": self._message(user_id, None, "private", location=location)}
        )

    async def edit(self, user_id: int, message_id: int, **content: Any) -> dict[str, Any]:
        """The user edits a message they sent, or their live location moves on."""
        message = self._message(user_id, None, "private", **content)
        message.update(message_id=message_id, edit_date=int(time.time()))
        return await self.push({"edited_message": message})

    async def send_voice(self, user_id: int) -> dict[str, Any]:
        voice = {"file_id": "voice1", "file_unique_id": "v1", "duration": 3}
        return await self.push({"message": self._message(user_id, None, "private", voice=voice)})

    async def bot_status(self, user_id: int, status: str) -> dict[str, Any]:
        """The user blocks the bot in their private chat ("kicked") or restarts it ("member")."""
        bot = {"id": BOT_ID, "is_bot": True, "first_name": "Werkbank", "username": BOT_USERNAME}

        def member(state: str) -> dict[str, Any]:
            # A "kicked" member carries until_date; 0 means for ever.
            return {
                "user": bot,
                "status": state,
                **({"until_date": 0} if state == "kicked" else {}),
            }

        change = {
            "chat": self.chat(user_id),
            "from": self.user(user_id),
            "date": int(time.time()),
            "old_chat_member": member("member" if status == "kicked" else "kicked"),
            "new_chat_member": member(status),
        }
        return await self.push({"my_chat_member": change})

    async def press(
        self, user_id: int, data: str, message_id: int | None = None, first_name: str = "Erika"
    ) -> dict[str, Any]:
        message = self._message(user_id, None, "private", text="…")
        if message_id is not None:
            message["message_id"] = message_id
        message["from"] = {"id": BOT_ID, "is_bot": True, "first_name": "Werkbank"}
        query = {
            "id": str(next(self._update_ids) + 10_000),
            "from": self.user(user_id, first_name=first_name),
            "chat_instance": str(user_id),
            "message": message,
            "data": data,
        }
        return await self.push({"callback_query": query})

    def sent(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if (method is None or c.method == method)
            and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
        ]

    async def wait_for(
        self, method: str, count: int = 1, chat_id: int | None = None, timeout: float = 10
    ) -> list[Call]:
        """Wait until the bot has called `method` at least `count` times (for `chat_id`)."""
        async with self._new_call:
            await asyncio.wait_for(
                self._new_call.wait_for(lambda: len(self.sent(method, chat_id)) >= count), timeout
            )
        return self.sent(method, chat_id)

    def _flooded(self) -> bool:
        """One more message now would exceed `messages_per_second` over the last second."""
        if self.messages_per_second is None:
            return False
        now = time.monotonic()
        while self._sent_at and self._sent_at[0] <= now - 1:
            self._sent_at.popleft()
        if len(self._sent_at) >= self.messages_per_second:
            return True
        self._sent_at.append(now)
        return False

    # -- the HTTP side -------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = {"filename": value.filename, "data": value.file.read()}
                continue
            try:
                params[key] = json.loads(value) if value[:1] in "[{" else value
            except (TypeError, ValueError):
                params[key] = value
        params.update(request.query)
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params = await self._params(request)
        answer = getattr(self, f"_api_{method}", None)
        if answer is None:
            self.unknown.append(method)
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        if method in MESSAGES and self._flooded():
            self.refused.append(Call(method, params))
            body = {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
            return web.json_response(body, status=429)
        if method != "getUpdates":
            async with self._new_call:
                self.calls.append(Call(method, params))
                self._new_call.notify_all()
        if self.errors.get(method):
            status, body = self.errors[method].pop(0)
            return web.json_response(body, status=status)

        try:
            result = await answer(params)
        except Refused as refused:
            body = {"ok": False, "error_code": 400, "description": str(refused)}
            return web.json_response(body, status=400)
        return web.json_response({"ok": True, "result": result})

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Werkbank",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and timeout:
            async with self._new_update:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._new_update.wait_for(lambda: bool(self.updates)), timeout
                    )
        return list(self.updates[: int(params.get("limit") or 100)])

    async def _sent_message(self, params: dict[str, Any], **content: Any) -> Any:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(int(params["chat_id"])),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Werkbank"},
            **content,
        }

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        too_long(params.get("text", ""), MAX_TEXT, "message is too long")
        return await self._sent_message(params, text=params.get("text", ""))

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        too_long(params.get("text", ""), MAX_TEXT, "message is too long")
        message = await self._sent_message(params, text=params.get("text", ""))
        message["message_id"] = int(params["message_id"])
        return message

    async def _api_sendVenue(self, params: dict[str, Any]) -> Any:
        venue = {
            "location": {
                "latitude": float(params["latitude"]),
                "longitude": float(params["longitude"]),
            },
            "title": params.get("title", ""),
            "address": params.get("address", ""),
        }
        return await self._sent_message(params, venue=venue)

    async def _api_sendDocument(self, params: dict[str, Any]) -> Any:
        document = {"file_id": "doc1", "file_unique_id": "d1", "file_name": "file"}
        return await self._sent_message(params, document=document)

    async def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        too_long(params.get("caption", ""), MAX_CAPTION, "message caption is too long")
        # Telegram answers with the sizes it made of the picture; one is enough here.
        photo = [{"file_id": "photo1", "file_unique_id": "p1", "width": 800, "height": 600}]
        return await self._sent_message(params, photo=photo, caption=params.get("caption", ""))

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = None
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = params.get("url")
        return True

    async def _api_deleteMessage(self, params: dict[str, Any]) -> Any:
        return True
