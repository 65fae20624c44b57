"""Settings from `WERKBANK_*` environment variables and an optional `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as PydanticSettingsError

from bot.codes import EventFormat
from bot.i18n import SUPPORTED_LOCALES


def default_database_url() -> str:
    """A SQLite file in the user's data directory, so `werkbank chat` needs no setup."""
    return f"sqlite+aiosqlite:///{default_data_dir() / 'werkbank.db'}"


def default_data_dir() -> Path:
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "werkbank"


class StartError(Exception):
    """Werkbank cannot start (a setting, a channel's server); the message is one line
    for the operator, with no secret in it."""


class SettingsError(StartError):
    """A setting has a value Werkbank cannot use; the message is one line for the user."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="WERKBANK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(default_factory=default_database_url)
    timezone: str = "Europe/Berlin"
    default_locale: str = "de"
    default_radius_km: int = 25
    # Topics: organisers hear of one when this many of its people (the author included)
    # live within this many kilometres of one of them.
    topic_demand_people: int = 3
    topic_demand_km: int = 30
    # Hours a workshop made of a topic keeps seats for its invited group.
    topic_hold_hours: int = 48
    # Check-ins after a workshop: the local hour they come, and after how many weeks
    # the "tried anything since?" one comes, per format as JSON
    # (WERKBANK_CHECKIN_WEEKS='{"open_workshop": 2}'; formats not named: 4).
    checkin_hour: int = Field(default=10, ge=8, le=20)
    checkin_weeks: dict[str, int] = Field(default_factory=dict)
    # Announcements: region news (near one's places, or the whole region) an organiser
    # may send per 7 days, and how far the region reaches around their places.
    announcements_per_week: int = Field(default=2, ge=0)
    # Privacy: the operator's privacy notice, linked from the text members agree to.
    privacy_url: str | None = None
    # A member who deletes everything hands their coming events to the operator
    # ("operator") or cancels them with the usual notice ("cancelled").
    erased_events: Literal["operator", "cancelled"] = "operator"
    # Members silent this long are told once, and deleted `retention_grace_days` later
    # unless they write; free-text answers are blanked after `answers_months`.
    retention_months: int = Field(default=24, ge=1)
    retention_grace_days: int = Field(default=30, ge=1)
    answers_months: int = Field(default=12, ge=1)
    news_region_km: int = Field(default=50, gt=0, le=500)

    # Telegram (issue "Telegram"): polling by default, a webhook when a URL is set.
    telegram_token: SecretStr | None = None
    telegram_api_url: str | None = None  # a self-hosted Bot API server, e.g. http://127.0.0.1:8081
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443
    telegram_webhook_secret: SecretStr | None = None
    # Messages per second over all chats: below the ~30 Telegram allows, so the flood
    # control never has to step in; 0 switches throttling off.
    telegram_rate_limit: float = 25
    # Seconds one getUpdates long poll may wait; a shutdown waits for the running one.
    telegram_poll_timeout: int = 5
    # Updates handled at once (different chats only; one chat's updates stay in order).
    telegram_concurrency: int = 8

    # Matrix (issue "Matrix"): a bot account on any homeserver.
    matrix_homeserver: str | None = None
    matrix_user: str | None = None  # @werkbank:example.org
    matrix_password: SecretStr | None = None
    matrix_access_token: SecretStr | None = None
    matrix_store: str = Field(default_factory=lambda: str(default_data_dir() / "matrix"))
    # Whose devices get the keys of encrypted messages: "all" devices of the people in
    # the room, so they can read at once (see README, Trust). The only value: nio has no
    # verification flow, so a "verified" mode could never send an encrypted message.
    matrix_trust: Literal["all"] = "all"
    # Messages per second the bot sends unasked (reminders, announcements). Synapse's
    # default allows an account about 0.2/s with a burst of 10; its 429s are waited out
    # either way. 0: no pacing of our own (after an admin lifted the limit, see README).
    matrix_rate_limit: float = Field(default=0.2, ge=0)

    # Seconds between two looks for due notices (reminders, a seat come free, changes).
    notice_interval: float = Field(default=10, gt=0, le=3600)
    # Seconds a worker keeps notices it claimed: a worker that died mid-send hands them
    # over after this (what it had sent but not yet marked is sent once more).
    claim_lease_seconds: int = Field(default=300, ge=5)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        # Normalise the sync URLs people copy from elsewhere to their asyncio drivers.
        if value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        elif value.startswith(("postgresql://", "postgres://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_locale")
    @classmethod
    def _shipped_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("default_radius_km", "topic_demand_km")
    @classmethod
    def _sane_radius(cls, value: int) -> int:
        if not 1 <= value <= 500:
            raise ValueError("must be between 1 and 500")
        return value

    @field_validator("topic_demand_people")
    @classmethod
    def _sane_group(cls, value: int) -> int:
        if not 2 <= value <= 50:
            raise ValueError("must be between 2 and 50")
        return value

    @field_validator("checkin_weeks")
    @classmethod
    def _weeks_per_format(cls, value: dict[str, int]) -> dict[str, int]:
        formats = {f.value for f in EventFormat}
        for name, weeks in value.items():
            if name not in formats:
                raise ValueError(f"unknown format {name!r}; formats: {', '.join(sorted(formats))}")
            if not 1 <= weeks <= 12:
                raise ValueError(f"{name}: between 1 and 12 weeks")
        return value

    @field_validator("matrix_trust", mode="before")
    @classmethod
    def _only_all(cls, value: object) -> object:
        # Refused loudly rather than ignored: whoever set "verified" asked for less
        # key sharing than the bot can offer.
        if value != "all":
            raise ValueError(
                f"{value!r} is not supported; the bot cannot verify devices, so the only "
                "value is 'all' (see README, Trust)"
            )
        return value

    @field_validator("telegram_api_url", "telegram_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        # Without a secret anyone who finds the URL could post fake updates.
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            raise ValueError(
                "WERKBANK_TELEGRAM_WEBHOOK_SECRET must be set when a webhook URL is configured"
            )
        return self

    @property
    def channels(self) -> tuple[str, ...]:
        """The messenger channels this configuration can start."""
        configured = []
        if self.telegram_token:
            configured.append("telegram")
        if self.matrix_homeserver and self.matrix_user:
            configured.append("matrix")
        return tuple(configured)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings() -> Settings:
    """Read the settings, turning pydantic's report into one readable line."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:  # a rule across several settings names them itself
            raise SettingsError(message) from None
        name = "WERKBANK_" + str(first["loc"][0]).upper()
        raise SettingsError(f"{name}: {message}") from None
    except PydanticSettingsError as exc:  # a value that is not even JSON where JSON belongs
        field = str(exc).split('"')[1] if str(exc).count('"') >= 2 else ""
        name = f"WERKBANK_{field.upper()}" if field else "a setting"
        raise SettingsError(
            f"{name}: not readable (JSON expected, e.g. '{{\"transfer\": 4}}')"
        ) from None
