"""Extract every user-facing string and merge it into the catalogues under locales/.

Run after changing strings: `python scripts/update_catalogues.py`. English is the
source language, so en.po gets each msgid as its own translation; German
translations are written by hand in locales/de/LC_MESSAGES/messages.po (the
script lists the ones still missing, and tests/test_i18n.py fails on them).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bot.i18n import FORMAL_CONTEXT, FORMAL_LOCALES

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
TEMPLATE = LOCALES / "messages.pot"
EXTRACT = [
    sys.executable,
    "-m",
    "babel.messages.frontend",
    "extract",
    "--keywords=N_",
    "--keywords=ngettext:1,2",
    "--no-location",
    "--sort-output",
    "--project=werkbank",
    "--omit-header",
    f"--output-file={TEMPLATE}",
    "bot",
]


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(
            handle, catalog, no_location=True, sort_output=True, ignore_obsolete=True, width=100
        )


def with_formal_twins(template: Catalog) -> Catalog:
    """The template plus each message again under the "Sie" context."""
    twins = Catalog(project="werkbank")
    for message in template:
        if message.id:
            twins.add(message.id, flags=message.flags)
            twins.add(message.id, flags=message.flags, context=FORMAL_CONTEXT)
    return twins


def main() -> int:
    subprocess.run(EXTRACT, cwd=ROOT, check=True, capture_output=True)
    with TEMPLATE.open("rb") as handle:
        template = read_po(handle)
    missing = 0
    for locale in ("de", "en"):
        path = LOCALES / locale / "LC_MESSAGES" / "messages.po"
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="werkbank")
        wanted = with_formal_twins(template) if locale in FORMAL_LOCALES else template
        catalog.update(wanted, no_fuzzy_matching=True)
        for message in catalog:
            if not message.id:
                continue
            if locale == "en" and not any(
                message.string if isinstance(message.string, tuple) else [message.string]
            ):
                message.string = message.id
            if not (all(message.string) if isinstance(message.string, tuple) else message.string):
                missing += 1
                where = f" [{message.context}]" if message.context else ""
                print(f"{locale}{where}: untranslated: {message.id!r}")
        _write(path, catalog)
    print(f"{len(template)} messages (German twice: du and Sie); {missing} untranslated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
