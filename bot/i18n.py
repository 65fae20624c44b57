"""Translations and locale-aware formatting (Babel).

Message ids in the code are English; `locales/<lang>/LC_MESSAGES/messages.po`
holds the translations. German is the default language. The .po files are
compiled in memory at first use, so there is no build step and no stale .mo.

German speaks to a member as "du" or, if they chose so, as "Sie". The "Sie" form
of every German text is the same message id under the gettext context "Sie"
(`msgctxt "Sie"`); a member's locale says which with a modifier, as POSIX locales
do: "de" is "du", "de@sie" is "Sie". English has one form.
"""

from __future__ import annotations

import gettext
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_interval, format_skeleton
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberPattern, parse_pattern

SUPPORTED_LOCALES: tuple[str, ...] = ("de", "en")
DEFAULT_LOCALE = "de"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
# The locale modifier and the gettext context of the formal address ("Sie").
FORMAL_MODIFIER = "@sie"
FORMAL_CONTEXT = "Sie"
# Which locales have a formal form of their own.
FORMAL_LOCALES: tuple[str, ...] = ("de",)
# A zero that pads an hour ("08 Uhr", "20–02 Uhr"), not one in the minutes ("10:05").
_PADDED_HOUR = re.compile(r"(?<![:\d])0(\d)")


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (translated later)."""
    return message


def _compiled(catalog: Catalog) -> gettext.GNUTranslations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@cache
def _po(locale: str) -> Catalog | None:
    po_path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return None
    with po_path.open("rb") as po_file:
        return read_po(po_file, locale=locale)


@cache
def _catalogue(locale: str, formal: bool = False) -> gettext.NullTranslations:
    """The compiled catalogue; the formal one holds the "Sie" texts as plain messages
    and falls back to the "du" one for any it lacks."""
    catalog = _po(locale)
    if catalog is None:
        return gettext.NullTranslations()
    if not formal:
        return _compiled(catalog)
    sie = Catalog(locale=locale)
    for message in catalog:
        if message.id and message.context == FORMAL_CONTEXT:
            sie.add(message.id, message.string, flags=message.flags)
    translations = _compiled(sie)
    translations.add_fallback(_catalogue(locale))
    return translations


@cache
def _babel_locale(locale: str) -> Locale:
    # Babel parses a locale given by name on every call: a screen formats dozens of values.
    return Locale.parse(locale)


@cache
def _number_pattern(digits: int) -> NumberPattern:
    return parse_pattern("#,##0" + ("." + "0" * digits if digits else ""))


def normalise_locale(value: str | None) -> str:
    """Map any language tag ("de-DE", "EN", "de@sie") to a shipped locale, German if unknown."""
    if not value:
        return DEFAULT_LOCALE
    short = value.split("@")[0].replace("_", "-").split("-")[0].lower()
    return short if short in SUPPORTED_LOCALES else DEFAULT_LOCALE


def is_formal(value: str | None) -> bool:
    """Does this member's locale ask for "Sie"? ("de@sie"; English has no such form.)"""
    if not value or not value.lower().endswith(FORMAL_MODIFIER):
        return False
    return normalise_locale(value) in FORMAL_LOCALES


@dataclass(frozen=True)
class Translator:
    """Everything a dialog needs to speak one member's language."""

    locale: str
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Berlin"))
    formal: bool = False  # "Sie" rather than "du" (German)

    @property
    def babel_locale(self) -> Locale:
        return _babel_locale(self.locale)

    def _(self, message: str) -> str:
        return _catalogue(self.locale, self.formal).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _catalogue(self.locale, self.formal).ngettext(singular, plural, n)

    # -- numbers -----------------------------------------------------------
    def number(self, value: float, digits: int = 0) -> str:
        return _number_pattern(digits).apply(value, self.babel_locale)

    def distance(self, km: float) -> str:
        """'3,2 km' (one decimal under 10 km, '5 km' when whole), '27 km'; '350 m' below 1 km."""
        if km < 1:
            return f"{self.number(max(50, round(km * 1000, -1)))} m"
        whole = abs(km - round(km)) < 0.05
        return f"{self.number(km, 1 if km < 10 and not whole else 0)} km"

    # -- dates and times (input: aware datetimes, shown in self.tz) ---------
    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def _hour_skeleton(self, moment: datetime) -> str:
        base = "H" if self.locale == "de" else "h"
        return base + ("m" if moment.minute else "")

    def unpad_hours(self, text: str) -> str:
        """'08 Uhr' -> '8 Uhr': German writes hours without a leading zero."""
        return _PADDED_HOUR.sub(r"\1", text) if self.locale == "de" else text

    def time(self, moment: datetime) -> str:
        """'17 Uhr', '8:30' / '5 PM', '5:30 PM'."""
        local = self.local(moment)
        return self.unpad_hours(
            format_skeleton(self._hour_skeleton(local), local, locale=self.babel_locale)
        )

    def time_range(self, start: datetime, end: datetime) -> str:
        """'17–20 Uhr' / '5 – 8 PM'."""
        a, b = self.local(start), self.local(end)
        skeleton = self._hour_skeleton(a if a.minute else b)
        return self.unpad_hours(
            format_interval(a.time(), b.time(), skeleton, locale=self.babel_locale)
        )

    def day(self, value: date | datetime) -> str:
        """'Mi., 25. Nov.' / 'Wed, Nov 25'."""
        if isinstance(value, datetime):
            value = self.local(value)
        return format_skeleton("MMMEd", value, locale=self.babel_locale)

    def weekday(self, value: date | datetime) -> str:
        """Short weekday name: 'Mo' / 'Mon'."""
        if isinstance(value, datetime):
            value = self.local(value)
        return format_skeleton("E", value, locale=self.babel_locale).rstrip(".")

    def when(self, start: datetime, end: datetime | None) -> str:
        """'Mi., 25. Nov., 17–20 Uhr' — the way an event's time is shown."""
        if end is None:
            return f"{self.day(start)}, {self.time(start)}"
        if self.local(start).date() != self.local(end).date():
            return f"{self.day(start)}, {self.time(start)} – {self.day(end)}, {self.time(end)}"
        return f"{self.day(start)}, {self.time_range(start, end)}"


@cache
def translator(locale: str, tz_name: str = "Europe/Berlin") -> Translator:
    """A member's translator from their stored locale ("de", "de@sie", "en")."""
    return Translator(normalise_locale(locale), ZoneInfo(tz_name), is_formal(locale))
