"""python-telegram-bot's HTTP requests, made with aiohttp instead of httpx.

PTB sends every Bot API call through a `BaseRequest`; its default, `HTTPXRequest`, costs
about three times the CPU of aiohttp per call here, and more with concurrent updates:
httpcore's pool checks every idle connection (through anyio, a syscall each) on every
request. aiohttp is here anyway (matrix-nio uses it) and parses HTTP in C. Everything
above the transport stays PTB's own: Bot, Application, Updater, AIORateLimiter, and
the parsing of Telegram's answers (429 with retry_after, 403, …) in `BaseRequest`.
docs/BENCHMARKS.md ("Telegram throughput") has the figures.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.ext import ApplicationBuilder
from telegram.request import BaseRequest, RequestData

# The token sits in the path of every Bot API URL: /bot<token>/method, /file/bot<token>/….
_TOKEN_IN_PATH = re.compile(r"/bot[^/]+")


class AiohttpRequest(BaseRequest):
    """One aiohttp session with up to `connection_pool_size` connections to the Bot API."""

    def __init__(
        self,
        connection_pool_size: int = 8,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Made here, not in __init__: a session belongs to the running event loop.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        data: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mime_type) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime_type)
            data = form
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        write = (
            (self._media_write_timeout if files else self._write_timeout)
            if isinstance(write_timeout, DefaultValue)
            else write_timeout
        )
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        # aiohttp has no write timeout of its own: a whole request may take the sum of all
        # allowances, so a stalled upload still ends; reading is timed as PTB means it.
        parts = (pool, connect, write, read)
        timeout = aiohttp.ClientTimeout(
            total=None if None in parts else sum(p for p in parts if p is not None),
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            # The class name says what failed when the message is empty. Some aiohttp
            # errors quote the URL, token and all (InvalidURL): it is blanked here, and the
            # original is not chained, or the error handler's traceback would quote it.
            text = _TOKEN_IN_PATH.sub("/bot<token>", str(error))
            raise NetworkError(f"aiohttp.{type(error).__name__}: {text}") from None


Builder = TypeVar("Builder", bound=ApplicationBuilder[Any, Any, Any, Any, Any, Any])


def over_aiohttp(builder: Builder) -> Builder:
    """`builder` with Bot API calls over aiohttp: the bot's own connections, and one for
    getUpdates, which runs one call at a time."""
    return builder.request(AiohttpRequest(connection_pool_size=64)).get_updates_request(
        AiohttpRequest(connection_pool_size=1)
    )
