"""Telegram through python-telegram-bot: updates in, the runner's messages out.

No dialog logic lives here. Every update becomes one `Incoming` for the runner;
the replies are rendered with what Telegram offers: inline keyboards, a reply
keyboard with a "send my location" button (taken away once the question is
answered), venue pins, documents, and paging that edits the message in place.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import warnings
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.codes import Channel
from bot.config import SettingsError, StartError
from bot.handlers.telegram_http import over_aiohttp
from bot.handlers.text_parts import split_text, utf16_length
from bot.i18n import N_, SUPPORTED_LOCALES, translator
from bot.messages import (
    AccountRef,
    Delivered,
    Incoming,
    Kind,
    OutMessage,
    clean_text,
    cleaned,
)

if TYPE_CHECKING:
    from bot.app import Werkbank

log = logging.getLogger(__name__)
# `_post_unread` asks for these through PTB's public do_api_request, which warns that
# Bot.send_message exists: we know, and want the raw reply.
_UNREAD_WARNING = r"Please use 'Bot\.(sendMessage|editMessageText)'"

CHANNEL = Channel.TELEGRAM
WEBHOOK_PATH = "telegram"
# Telegram's limits in UTF-16 code units, as Telegram counts (an emoji is two): a text
# longer than one message goes in several, a caption too long goes as a text of its own.
MAX_TEXT = 4096
PHOTO_CAPTION = 1024

# The command menu, per language: (command, description). German is the default menu.
COMMANDS: dict[str, tuple[tuple[str, str], ...]] = {
    "de": (
        ("start", N_("Start again")),
        ("menu", N_("Menu")),
        ("hilfe", N_("Help")),
        ("einstellungen", N_("Settings")),
    ),
    "en": (
        ("start", N_("Start again")),
        ("menu", N_("Menu")),
        ("help", N_("Help")),
        ("settings", N_("Settings")),
    ),
}

TelegramApp = Application  # type: ignore[type-arg]


def account_of(update: Update) -> AccountRef:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    return AccountRef(
        channel=CHANNEL,
        external_id=str(user.id),
        chat_id=str(chat.id),
        display_name=clean_text(user.full_name),
        language=user.language_code,
    )


def to_incoming(update: Update) -> Incoming:
    """One update as the runner sees it (update_id makes a redelivery harmless), cleaned
    of control characters."""
    return cleaned(_read(update))


def _read(update: Update) -> Incoming:
    account = account_of(update)
    update_id = str(update.update_id)
    query = update.callback_query
    if query is not None:
        return Incoming(account, Kind.BUTTON, payload=query.data or "", update_id=update_id)
    message = update.effective_message
    assert message is not None
    if message.location is not None:
        return Incoming(
            account,
            Kind.LOCATION,
            lat=message.location.latitude,
            lon=message.location.longitude,
            update_id=update_id,
        )
    if message.text is not None:
        kind = Kind.COMMAND if message.text.startswith("/") else Kind.TEXT
        # Telegram shows buttons to tap, without numbers: a typed bare number is a value.
        return Incoming(
            account, kind, text=message.text, update_id=update_id, options_numbered=False
        )
    if message.voice or message.audio or message.video_note:
        return Incoming(account, Kind.VOICE, update_id=update_id)
    if message.document or message.photo or message.video:
        return Incoming(account, Kind.FILE, update_id=update_id)
    return Incoming(account, Kind.OTHER, update_id=update_id)


def inline_keyboard(message: OutMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.payload) for b in row]
            for row in message.buttons
        ]
    )


def inline_keyboard_json(message: OutMessage) -> dict[str, Any] | None:
    """`inline_keyboard` as the Bot API's JSON, built directly: PTB's objects and their
    to_dict took 0.1 ms for a list's five buttons, about 3 % of a whole reply."""
    if not message.buttons:
        return None
    rows = [[{"text": b.label, "callback_data": b.payload} for b in row] for row in message.buttons]
    return {"inline_keyboard": rows}


def location_keyboard(message: OutMessage) -> ReplyKeyboardMarkup:
    """The location button, with the message's buttons as typed replies below it.

    A Telegram message has one keyboard: this one replaces the inline buttons.
    Their labels come back as text, which the runner maps to the same payloads.
    """
    rows = [[KeyboardButton(message.location_button or "📍", request_location=True)]]
    rows += [[KeyboardButton(b.label) for b in row] for row in message.buttons]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


class OneAtATimePerChat(BaseUpdateProcessor):
    """Updates of different chats run concurrently (one's database wait overlaps another's
    HTTP call); the updates of one chat run strictly in order, as a conversation needs."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked() and not lock._waiters:  # type: ignore[attr-defined]
                self._locks.pop(chat.id, None)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


class RedactToken(logging.Filter):
    """Blanks bot tokens out of log messages: PTB logs its Bot API URL, token included,
    at DEBUG when a bot is built, and a debug log should be safe to paste into an issue."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def redact(self, text: str) -> str:
        for token in self.tokens:
            text = text.replace(token, "<token>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(token in message for token in self.tokens):
            record.msg, record.args = self.redact(message), None
        return True


_REDACT = RedactToken()
# The loggers of PTB's Bot and ExtBot, which are the ones that log the URL.
_BOT_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot")


def _clip(text: str) -> str:
    """One message's worth of `text`, for the one message that is edited in place."""
    if utf16_length(text) <= MAX_TEXT:
        return text
    return split_text(text, MAX_TEXT - 1, utf16_length)[0] + "…"


def in_parts(message: OutMessage) -> list[OutMessage]:
    """`message` as Telegram takes it: a text over MAX_TEXT in several messages, the
    buttons, venue and file with the last one (where the member answers)."""
    if utf16_length(message.text) <= MAX_TEXT:
        return [message]
    *first, last = split_text(message.text, MAX_TEXT, utf16_length)
    return [OutMessage(part) for part in first] + [dataclasses.replace(message, text=last)]


class TelegramChannel:
    """The Telegram side of Werkbank: build, start and stop the PTB Application."""

    def __init__(self, werkbank: Werkbank) -> None:
        settings = werkbank.settings
        if settings.telegram_token is None:
            raise ValueError("WERKBANK_TELEGRAM_TOKEN is not set")
        self.werkbank = werkbank
        self.settings = settings
        token = settings.telegram_token.get_secret_value()
        _REDACT.tokens.add(token)
        for name in _BOT_LOGGERS:
            logging.getLogger(name).addFilter(_REDACT)  # adding it twice keeps one
        # Here rather than at import: a test's warnings context would drop it (and adding
        # it twice keeps one, too).
        warnings.filterwarnings("ignore", message=_UNREAD_WARNING)
        builder = Application.builder().token(token)
        if settings.telegram_api_url:
            builder = builder.base_url(f"{settings.telegram_api_url}/bot").base_file_url(
                f"{settings.telegram_api_url}/file/bot"
            )
        builder = over_aiohttp(builder)  # why not PTB's httpx: bot/handlers/telegram_http.py
        rate = settings.telegram_rate_limit
        # One message every 1/rate seconds, not `rate` at once and then `rate` a second: a
        # bucket of `rate` let nearly twice as many through in the first second, and
        # Telegram (like the tests' Bot API server) answers that with 429. A 429 is still
        # waited out and the request retried, so the message arrives.
        limiter = AIORateLimiter(
            overall_max_rate=1 if rate else 0,
            overall_time_period=1 / rate if rate else 1,
            group_max_rate=20 if rate else 0,
            max_retries=3,
        )
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
        if settings.telegram_concurrency > 1:
            builder = builder.concurrent_updates(OneAtATimePerChat(settings.telegram_concurrency))
        self.application: TelegramApp = builder.build()
        self.application.add_handler(CallbackQueryHandler(self._on_button))
        # New messages only: an edit (or a live location moving, which Telegram sends as an
        # edit) is no new answer, and answering it would repeat or skip dialog steps.
        self.application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self._on_message))
        self.application.add_handler(
            ChatMemberHandler(self._on_membership, ChatMemberHandler.MY_CHAT_MEMBER)
        )
        self.application.add_error_handler(self._on_error)

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        app = self.application
        try:
            await app.initialize()
        except InvalidToken:
            # PTB's message quotes the token, and `werkbank run` prints what it is told:
            # say what is wrong without it (`from None`: no traceback shows PTB's message).
            await app.bot.shutdown()  # the HTTP clients initialize() had opened
            raise SettingsError(
                "WERKBANK_TELEGRAM_TOKEN: Telegram rejected the token; check it with @BotFather"
            ) from None
        except NetworkError as exc:  # TimedOut too: down, or a wrong WERKBANK_TELEGRAM_API_URL
            await app.bot.shutdown()
            where = self.settings.telegram_api_url or "https://api.telegram.org"
            reason = _REDACT.redact(exc.message)  # an error quoting the URL quotes the token
            raise StartError(f"cannot reach the Telegram Bot API at {where}: {reason}") from None
        await self._set_commands()
        assert app.updater is not None
        if self.settings.telegram_webhook_url:
            secret = self.settings.telegram_webhook_secret
            assert secret is not None  # Settings insists on one
            await app.updater.start_webhook(
                listen=self.settings.telegram_webhook_listen,
                port=self.settings.telegram_webhook_port,
                url_path=urlsplit(self.settings.telegram_webhook_url).path.strip("/")
                or WEBHOOK_PATH,
                webhook_url=self.settings.telegram_webhook_url,
                secret_token=secret.get_secret_value(),
            )
        else:
            await app.updater.start_polling(
                poll_interval=0, timeout=self.settings.telegram_poll_timeout
            )
        await app.start()
        log.info(
            "telegram: started (%s)", "webhook" if self.settings.telegram_webhook_url else "polling"
        )

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def _set_commands(self) -> None:
        bot = self.application.bot
        for locale in SUPPORTED_LOCALES:
            t = translator(locale)
            commands = [BotCommand(name, t._(text)) for name, text in COMMANDS[locale]]
            await bot.set_my_commands(commands, language_code=locale)
        default = translator(self.settings.default_locale)
        commands = [BotCommand(n, default._(d)) for n, d in COMMANDS[default.locale]]
        await bot.set_my_commands(commands)

    # -- updates in ----------------------------------------------------------
    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None or update.effective_user is None or update.effective_message is None:
            return
        if chat.type != ChatType.PRIVATE:
            await self._in_group(update)
            return
        replies = await self.werkbank.runner.handle(to_incoming(update))
        await self.send(chat.id, replies, screen=True)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        # Stop the spinner first, whatever the payload: the runner judges it afterwards.
        try:
            await query.answer()
        except TelegramError as exc:
            # E.g. "query is too old" after a restart or a slow moment: only the spinner is
            # lost, and the press itself still deserves its answer.
            log.info("telegram: could not answer button press %s: %s", query.id, exc)
        message = query.message
        if not isinstance(message, Message) or message.chat.type != ChatType.PRIVATE:
            return
        replies = await self.werkbank.runner.handle(to_incoming(update))
        await self.send(message.chat.id, replies, edit=message.message_id, screen=True)

    async def _on_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Telegram tells us when a member blocks the bot, or unblocks it with "Restart":
        remember it at once, as a 403 would, instead of learning it from the next send."""
        change = update.my_chat_member
        if change is None or change.chat.type != ChatType.PRIVATE:
            return  # being added to or removed from a group changes no member
        # In a private chat the chat id is the member's user id, as in `send`.
        external_id = str(change.chat.id)
        status = change.new_chat_member.status
        if status == ChatMemberStatus.BANNED:
            await self.werkbank.conversations.mark_blocked(CHANNEL, external_id)
            log.info("telegram: chat %s blocked the bot", change.chat.id)
        elif status == ChatMemberStatus.MEMBER:
            await self.werkbank.conversations.mark_unblocked(CHANNEL, external_id)
            log.info("telegram: chat %s unblocked the bot", change.chat.id)

    async def _in_group(self, update: Update) -> None:
        """In a group only a command addressed to us is answered: with a link to a private chat."""
        message = update.effective_message
        assert message is not None
        username = self.application.bot.username
        command = (message.text or "").split()[0] if message.text else ""
        if not command.startswith("/") or not command.lower().endswith(f"@{username}".lower()):
            return
        t = translator(account_of(update).language or self.settings.default_locale)
        text = t._("Let's talk in a private chat, so the group is not flooded: {link}").format(
            link=f"https://t.me/{username}?start=hallo"
        )
        await self.application.bot.send_message(message.chat_id, text)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        chat_id = (
            update.effective_chat.id
            if isinstance(update, Update) and update.effective_chat
            else None
        )
        # Context, never the token: PTB's errors and our transport's carry no URL.
        log.error(
            "telegram: update %s in chat %s failed: %s: %s",
            update_id,
            chat_id,
            type(error).__name__,
            error,
            exc_info=error,
        )
        if not isinstance(update, Update) or update.effective_user is None or chat_id is None:
            return
        if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
            return
        try:
            sorry = await self.werkbank.runner.sorry(account_of(update))
            await self.send(chat_id, sorry, screen=True)
        except Exception:
            log.exception("telegram: could not apologise in chat %s", chat_id)

    # -- messages out ----------------------------------------------------------
    async def send(
        self,
        chat_id: int,
        messages: Sequence[OutMessage],
        edit: int | None = None,
        screen: bool = False,
    ) -> None:
        """Send a reply; a button press answered by one plain screen edits that message.

        `screen`: the messages end with the member's current screen (an answer to them),
        so they also tell whether a location question is still open.
        """
        messages = [part for message in messages for part in in_parts(message)]
        try:
            editable = edit is not None and len(messages) == 1 and self._editable(messages[0])
            if editable and await self._edit(chat_id, edit, messages[0]):  # type: ignore[arg-type]
                return
            remover = self._keyboard_remover(messages) if screen else None
            for index, message in enumerate(messages):
                await self._send_one(chat_id, message, remove_keyboard=index == remover)
        except Forbidden:
            # They blocked the bot: remember it and skip them until they write again.
            await self.werkbank.conversations.mark_blocked(CHANNEL, str(chat_id))
            log.info("telegram: chat %s blocked the bot", chat_id)

    async def deliver(
        self, account: AccountRef, messages: Sequence[OutMessage], key: str | None = None
    ) -> Delivered:
        """Send a notice unasked (a reminder, a seat come free): the scheduler's Deliverer.

        429s are waited out by the rate limiter; what fails otherwise is tried again later."""
        chat_id = int(account.chat_id or account.external_id)
        try:
            for message in messages:
                for part in in_parts(message):
                    await self._send_one(chat_id, part)
        except Forbidden as exc:
            if "deactivated" in str(exc).lower():
                # The Telegram account was deleted: its seats go to the waitlist.
                log.info("telegram: chat %s was deleted", chat_id)
                await self.werkbank.account_deleted(account)
            else:
                log.info("telegram: chat %s blocked the bot", chat_id)
                await self.werkbank.conversations.mark_blocked(CHANNEL, account.external_id)
            return Delivered.BLOCKED
        except TelegramError as exc:
            log.warning("telegram: notice to chat %s failed: %s", chat_id, exc)
            return Delivered.FAILED
        return Delivered.SENT

    async def progress(
        self, account: AccountRef, messages: Sequence[OutMessage], message_id: str | None
    ) -> str | None:
        """An announcement's progress for its organiser: one message, edited as it goes
        ("312 von 1 000 gesendet"); returns its id (a new one when it could not be
        edited), or None when nothing got through (the report is due again)."""
        chat_id = int(account.chat_id or account.external_id)
        message = messages[0] if messages else OutMessage("")
        try:
            editable = message_id is not None and message_id.isdigit()
            if editable and await self._edit(chat_id, int(str(message_id)), message):
                return message_id
            sent = await self.application.bot.send_message(
                chat_id, _clip(message.text), reply_markup=inline_keyboard(message)
            )
        except TelegramError as exc:
            log.info("telegram: progress to chat %s failed: %s", chat_id, exc)
            return None  # due again with the next round
        return str(sent.message_id)

    @staticmethod
    def _keyboard_remover(messages: Sequence[OutMessage]) -> int | None:
        """The message that takes the location keyboard away, if the screen asks no more.

        one_time_keyboard only folds it away: it would stay behind its button for ever.
        A message has one keyboard, so the first plain text takes it, e.g. "Got it: Bendorf";
        a reply without one (the menu, typed from that keyboard) leaves it to a later reply.
        """
        if any(message.location_button for message in messages):
            return None
        plain = (i for i, m in enumerate(messages) if m.text and not m.buttons)
        return next(plain, None)

    @staticmethod
    def _editable(message: OutMessage) -> bool:
        return message.venue is None and message.attachment is None and not message.location_button

    async def _post_unread(self, method: str, **params: Any) -> None:
        """Call a Bot API method without reading its answer into PTB objects.

        Telegram answers sendMessage with the whole message, keyboard included; PTB's
        send_message parses it into a Message (0.3 ms for a list with five buttons, a tenth
        of a dialog step), and nothing here uses it. The rate limiter and PTB's error
        mapping still apply: do_api_request goes the same way as send_message."""
        kwargs = {key: value for key, value in params.items() if value is not None}
        await self.application.bot.do_api_request(method, api_kwargs=kwargs)

    async def _edit(self, chat_id: int, message_id: int, message: OutMessage) -> bool:
        try:
            await self._post_unread(
                "editMessageText",
                text=_clip(message.text),
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=inline_keyboard_json(message),
            )
        except BadRequest as exc:
            # "message is not modified", or too old to edit: send it anew instead.
            log.debug("telegram: edit failed in chat %s: %s", chat_id, exc)
            return "not modified" in str(exc).lower()
        return True

    async def _send_one(
        self, chat_id: int, message: OutMessage, remove_keyboard: bool = False
    ) -> None:
        bot = self.application.bot
        markup: ReplyKeyboardMarkup | ReplyKeyboardRemove | InlineKeyboardMarkup | None
        if message.location_button:
            markup = location_keyboard(message)
        elif remove_keyboard:
            markup = ReplyKeyboardRemove()
        elif message.attachment is not None:
            markup = inline_keyboard(message)  # PTB's send_photo takes its objects
        else:
            markup = None  # a text's buttons go as JSON (`inline_keyboard_json`)
        a = message.attachment
        if a is not None and a.is_image and utf16_length(message.text) <= PHOTO_CAPTION:
            # A picture with its caption and buttons, as one message.
            photo = InputFile(a.data, filename=a.filename)
            await bot.send_photo(chat_id, photo, caption=message.text or None, reply_markup=markup)
            return
        if message.text:
            await self._post_unread(
                "sendMessage",
                chat_id=chat_id,
                text=_clip(message.text),
                reply_markup=markup if markup is not None else inline_keyboard_json(message),
            )
        if message.venue is not None:
            v = message.venue
            await bot.send_venue(
                chat_id, v.lat, v.lon, v.name[:256], v.address[:256] or v.name[:256]
            )
        if message.attachment is not None:
            a = message.attachment
            if a.is_image:
                await bot.send_photo(chat_id, InputFile(a.data, filename=a.filename))
            else:
                await bot.send_document(chat_id, InputFile(a.data, filename=a.filename))
