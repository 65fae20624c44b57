"""Settings from `WERKBANK_*` environment variables and an optional `.env` file."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.i18n import SUPPORTED_LOCALES


def default_database_url() -> str:
    """A SQLite file in the user's data directory, so `werkbank chat` needs no setup."""
    return f"sqlite+aiosqlite:///{default_data_dir() / 'werkbank.db'}"


def default_data_dir() -> Path:
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "werkbank"


class SettingsError(Exception):
    """A setting has a value Werkbank cannot use; the message is one line for the user."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="WERKBANK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(default_factory=default_database_url)
    timezone: str = "Europe/Berlin"
    default_locale: str = "de"
    default_radius_km: int = 25

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

    @field_validator("default_radius_km")
    @classmethod
    def _sane_radius(cls, value: int) -> int:
        if not 1 <= value <= 500:
            raise ValueError("must be between 1 and 500")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings() -> Settings:
    """Read the settings, turning pydantic's report into one readable line."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "WERKBANK_" + str(first["loc"][0]).upper() if first["loc"] else "WERKBANK_*"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
