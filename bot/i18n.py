"""Translations and locale-aware formatting (Babel).

Message ids in the code are English; `locales/<lang>/LC_MESSAGES/messages.po`
holds the translations. German is the default language. There is no build step:
a .po file is compiled at its first use and the result kept in the user's cache
directory under the hash of the .po file's bytes, so a later start reads the
compiled catalogue (a few ms instead of parsing the .po file, about 0.05 s each),
and a changed .po file is never answered from a stale .mo.

German speaks to a member as "du" or, if they chose so, as "Sie". The "Sie" form
of every German text is the same message id under the gettext context "Sie"
(`msgctxt "Sie"`); a member's locale says which with a modifier, as POSIX locales
do: "de" is "du", "de@sie" is "Sie". English has one form.
"""

from __future__ import annotations

import contextlib
import gettext
import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_interval, format_skeleton
from babel.numbers import NumberPattern, parse_pattern

if TYPE_CHECKING:
    # Babel's .po reader is only needed when a catalogue is compiled, not at a start
    # that finds it compiled in the cache.
    from babel.messages.catalog import Catalog

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


# Part of every compiled catalogue's cache key: raise it when what is compiled changes.
_MO_FORMAT = b"werkbank-mo-1"


def _compiled(catalog: Catalog) -> bytes:
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


@cache
def _po(locale: str) -> Catalog | None:
    from babel.messages.pofile import read_po

    po_path = _po_path(locale)
    if not po_path.exists():
        return None
    with po_path.open("rb") as po_file:
        return read_po(po_file, locale=locale)


def _po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _mo_bytes(catalog: Catalog, locale: str, formal: bool) -> bytes:
    """The catalogue compiled; the formal one holds only the "Sie" texts, as plain
    messages (the "du" one is its fallback)."""
    if not formal:
        return _compiled(catalog)
    from babel.messages.catalog import Catalog as NewCatalog

    sie = NewCatalog(locale=locale)
    for message in catalog:
        if message.id and message.context == FORMAL_CONTEXT:
            sie.add(message.id, message.string, flags=message.flags)
    return _compiled(sie)


def cache_dir() -> Path:
    """Where compiled catalogues are kept: `$XDG_CACHE_HOME/werkbank`, else ~/.cache."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "werkbank" / "catalogues"


def _cached_mo(locale: str, formal: bool, source: bytes) -> Path:
    digest = hashlib.sha256(_MO_FORMAT + source).hexdigest()[:24]
    return cache_dir() / f"{locale}{'-sie' if formal else ''}-{digest}.mo"


def _store(path: Path, data: bytes) -> None:
    """Write the compiled catalogue for the next start; a cache that cannot be
    written (a read-only home) only costs the next start the compile again."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)  # whole or not at all, also for a start beside
        except OSError:
            os.unlink(temporary)
            raise
        # Catalogues of older .po files of this locale are of no more use.
        stem = path.name.rsplit("-", 1)[0]
        for old in path.parent.glob(f"{stem}-*.mo"):
            if old != path and old.name.rsplit("-", 1)[0] == stem:
                old.unlink(missing_ok=True)


@cache
def _catalogue(locale: str, formal: bool = False) -> gettext.NullTranslations:
    """The compiled catalogue, from the cache when the .po file is the one it was
    compiled from; the formal one falls back to the "du" one for any it lacks."""
    try:
        source = _po_path(locale).read_bytes()
    except FileNotFoundError:
        return gettext.NullTranslations()
    cached = _cached_mo(locale, formal, source)
    translations: gettext.GNUTranslations | None = None
    with contextlib.suppress(OSError):
        data = cached.read_bytes()
        try:
            translations = gettext.GNUTranslations(io.BytesIO(data))
        except Exception:  # a damaged cache file: compiled again below
            translations = None
    if translations is None:
        catalog = _po(locale)
        if catalog is None:
            return gettext.NullTranslations()
        data = _mo_bytes(catalog, locale, formal)
        translations = gettext.GNUTranslations(io.BytesIO(data))
        _store(cached, data)
    if formal:
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

    def rough_distance(self, km: float) -> str:
        """'ca. 10 km', 'unter 5 km': a distance that comes from where members live,
        rounded to 5 km, so that nobody can work out another member's place from it."""
        if km < 5:
            return self._("under {distance}").format(distance=f"{self.number(5)} km")
        return self._("about {distance}").format(distance=f"{self.number(round(km / 5) * 5)} km")

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
