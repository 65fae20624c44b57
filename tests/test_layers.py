"""The layer rules of DESIGN.md, checked on the source."""

from __future__ import annotations

import ast
import enum
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
CHANNEL_AND_DB_LIBRARIES = {"telegram", "nio", "sqlalchemy", "apscheduler", "aiosqlite", "asyncpg"}
# Dialogs see the world through these modules only.
DIALOG_MAY_IMPORT = {
    "bot.dialogs",
    "bot.messages",
    "bot.i18n",
    "bot.hours",
    "bot.geo",
    "bot.understanding",
    "bot.when",
    "bot.services.contracts",
    "bot.codes",
    # Words, figures and charts of "Wirkung": pure, shared with `werkbank report`.
    "bot.impact_report",
    "bot.charts",
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules_in(package: str) -> list[Path]:
    return sorted((BOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules_in("dialogs"), ids=lambda p: p.name)
def test_dialogs_import_no_channel_or_database_library(path: Path) -> None:
    for name in imported_modules(path):
        assert name.split(".")[0] not in CHANNEL_AND_DB_LIBRARIES, f"{path.name} imports {name}"
        if name.startswith("bot"):
            assert any(name == ok or name.startswith(ok + ".") for ok in DIALOG_MAY_IMPORT), (
                f"{path.name} imports {name}; dialogs may use {sorted(DIALOG_MAY_IMPORT)}"
            )


@pytest.mark.parametrize("path", modules_in("storage"), ids=lambda p: p.name)
def test_storage_imports_nothing_above_it(path: Path) -> None:
    for name in imported_modules(path):
        assert not name.startswith(("bot.services", "bot.dialogs", "bot.handlers", "bot.app")), (
            f"{path.name} imports {name}"
        )


def test_codes_import_nothing_from_bot() -> None:
    """bot.codes is the lowest layer: every other one may use it, so it uses none."""
    path = BOT / "codes.py"
    for name in imported_modules(path):
        assert name.split(".")[0] != "bot", f"codes.py imports {name}"
    relative = [
        node
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert not relative, "codes.py imports from its own package"


def test_the_rule_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from telegram import Update\nimport sqlalchemy.orm\n")
    assert {"telegram", "sqlalchemy.orm"} <= imported_modules(bad)


DIALOGS = BOT / "dialogs"


def test_every_dialog_has_a_state_enum_and_a_screen_for_each_state() -> None:
    from bot.dialogs.base import Input, Screen, UnknownState
    from bot.dialogs.registry import FLOWS

    for name, dialog in FLOWS.items():
        assert dialog.name == name
        assert issubclass(dialog.states, enum.StrEnum), f"{name} has no state enum"
        assert set(dialog.screens) == {str(s) for s in dialog.states}, name
        for state, screen in dialog.screens.items():
            assert isinstance(screen, Screen), f"{name}.{state}"
            # What a state takes is read off its screen, never listed beside it.
            assert dialog.accepts(state) in Input
        with pytest.raises(UnknownState):
            dialog.screen("no_such_state")


def test_a_dialog_missing_a_screen_fails_when_it_is_built() -> None:
    from bot.dialogs.base import Dialog, Screen, UnknownState

    class Half(enum.StrEnum):
        ONE = "one"
        TWO = "two"

    class HalfDone(Dialog):
        name = "half"
        states = Half

        def table(self) -> dict[enum.StrEnum, Screen]:
            async def render(ctx: object) -> tuple[()]:
                return ()

            return {Half.ONE: Screen(render)}

    with pytest.raises(UnknownState, match="two"):
        HalfDone()


@pytest.mark.parametrize("path", sorted(DIALOGS.glob("*.py")), ids=lambda p: p.name)
def test_no_dialog_cuts_payloads_apart(path: Path) -> None:
    # Payloads are built and parsed by the typed actions of bot/dialogs/actions.py, which
    # split a payload at its colon; nothing slices one by hand.
    source = path.read_text(encoding="utf-8")
    for pattern in ("payload[", ".removeprefix(", 'startswith("', ".payload.split"):
        assert pattern not in source, f"{path.name} uses {pattern!r}"
