"""Every user-facing string is extracted, and translated in every shipped locale."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, SUPPORTED_LOCALES, translator

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "--keywords=N_",
            "--keywords=ngettext:1,2",
            f"--output-file={pot}",
            "bot",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_message_is_translated(extracted: set[str], locale: str) -> None:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=locale)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string) and not m.fuzzy
    }
    missing = sorted(extracted - translated)
    assert not missing, f"untranslated in {locale}: {missing} (run scripts/update_catalogues.py)"
    assert len(extracted) > 100


def test_extraction_finds_dialog_strings(extracted: set[str]) -> None:
    assert "Open workshops nearby" in extracted
    assert "Opens {weekday} at {time}" in extracted
    assert ("{n} seat free") in extracted


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_placeholders_survive_translation(locale: str) -> None:
    """A translation that drops or renames "{radius}" would crash .format() at run time."""
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=locale)
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"\{\w+\}", ids[-1]))
        for string in filter(None, strings):  # a missing one is the test above's business
            assert set(re.findall(r"\{\w+\}", string)) == wanted, (message.id, string)


def test_numbers_dates_and_distances_follow_the_locale() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start, end = (
        datetime(2026, 11, 24, 17, tzinfo=berlin),
        datetime(2026, 11, 24, 20, tzinfo=berlin),
    )
    de, en = translator("de"), translator("en")
    assert de.distance(3.24) == "3,2 km"
    assert en.distance(3.24) == "3.2 km"
    assert de.distance(0.34) == "340 m"
    assert de.when(start, end) == "Di., 24. Nov., 17–20 Uhr"
    assert de.time(datetime(2026, 11, 24, 8, 30, tzinfo=berlin)) == "8:30"
    assert (
        en.when(start, end).replace("\u2009", " ").replace("\u202f", " ") == "Tue, Nov 24, 5 – 8 PM"
    )
    assert translator("fr").locale == "de"  # unknown languages fall back to German


def test_a_formal_member_gets_the_sie_texts_and_english_stays_one_form() -> None:
    with (LOCALES_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale="de")
    formal = {
        m.id: m.string
        for m in catalogue
        if m.context == "Sie" and isinstance(m.id, str) and m.string and "{" not in m.id
    }
    assert formal, "no 'Sie' form in the German catalogue"
    sie, du, english = translator("de@sie"), translator("de"), translator("en@sie")
    assert sie.locale == "de" and sie.formal and not du.formal and not english.formal
    for msgid, text in formal.items():
        assert sie._(msgid) == text
        assert du._(msgid) == catalogue.get(msgid).string
        assert english._(msgid) == msgid


# -- compiled catalogues kept between starts -------------------------------------------

PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Hello"
msgstr "{hello}"

msgctxt "Sie"
msgid "Hello"
msgstr "Guten Tag"
"""


@pytest.fixture
def own_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A German .po file of one message, and an empty cache directory; the shipped
    catalogues again afterwards."""
    from bot import i18n

    folder = tmp_path / "locales" / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(PO.format(hello="Hallo"), encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path / "locales")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    i18n._catalogue.cache_clear()
    i18n._po.cache_clear()
    yield folder / "messages.po"
    i18n._catalogue.cache_clear()
    i18n._po.cache_clear()


def test_a_compiled_catalogue_is_kept_and_read_without_the_po_file_parser(
    own_catalogue: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import i18n

    assert i18n._catalogue("de").gettext("Hello") == "Hallo"
    assert i18n._catalogue("de", formal=True).gettext("Hello") == "Guten Tag"
    kept = sorted(p.name.rsplit("-", 1)[0] for p in i18n.cache_dir().glob("*.mo"))
    assert kept == ["de", "de-sie"]

    # The next start: the same .po file, so the compiled catalogues are read as they are.
    i18n._catalogue.cache_clear()
    i18n._po.cache_clear()
    monkeypatch.setattr(
        "babel.messages.pofile.read_po", lambda *a, **k: pytest.fail("the .po file was parsed")
    )
    assert i18n._catalogue("de").gettext("Hello") == "Hallo"
    assert i18n._catalogue("de", formal=True).gettext("Hello") == "Guten Tag"


def test_a_changed_po_file_is_compiled_again_and_a_damaged_cache_file_too(
    own_catalogue: Path,
) -> None:
    from bot import i18n

    assert i18n._catalogue("de").gettext("Hello") == "Hallo"
    own_catalogue.write_text(PO.format(hello="Moin"), encoding="utf-8")
    i18n._catalogue.cache_clear()
    i18n._po.cache_clear()
    assert i18n._catalogue("de").gettext("Hello") == "Moin"
    (kept,) = i18n.cache_dir().glob("de-[!s]*.mo")  # the older one is gone

    kept.write_bytes(b"not a catalogue")
    i18n._catalogue.cache_clear()
    i18n._po.cache_clear()
    assert i18n._catalogue("de").gettext("Hello") == "Moin"
    assert kept.read_bytes() != b"not a catalogue"


def test_distances_from_members_homes_are_rounded() -> None:
    t = translator("de")
    assert [t.rough_distance(km) for km in (0.3, 4.9, 7.4, 12.6, 31)] == [
        "unter 5 km",
        "unter 5 km",
        "ca. 5 km",
        "ca. 15 km",
        "ca. 30 km",
    ]
    assert translator("en").rough_distance(12.6) == "about 15 km"
