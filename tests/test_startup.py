"""Starting Werkbank: a database or channel that cannot be used is one line and exit
code 2, never a traceback; a start loads only what it needs."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage.engine import MIGRATIONS_DIR, create_engine, head_revisions, upgrade

# Root may write any file: without these capabilities it obeys the file's mode, as
# every other user does.
AS_ORDINARY_USER = (
    [
        "setpriv",
        "--inh-caps=-dac_override,-dac_read_search",
        "--bounding-set=-dac_override,-dac_read_search",
    ]
    if os.geteuid() == 0
    else []
)
needs_file_modes = pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None,
    reason="root ignores file modes, and setpriv is not here to drop that right",
)
COMMANDS = {
    "chat": ["chat", "--as", "erika"],
    "run": ["run"],
    "db upgrade": ["db", "upgrade"],
}


def werkbank(
    args: list[str], tmp_path: Path, prefix: list[str] | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "HOME": str(tmp_path),
        # A channel for `werkbank run`; the database fails before it is reached.
        "WERKBANK_TELEGRAM_TOKEN": "123456:not-a-real-token",
        "WERKBANK_TELEGRAM_API_URL": f"http://127.0.0.1:{closed_port()}",
        **env,
    }
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "bot", *args],
        input="",
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no .env from the repository
        env=environment,
        timeout=120,
    )


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def one_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """The single `werkbank: …` line of a refused start, checked."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("werkbank: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def a_database(tmp_path: Path) -> Path:
    """A real, current database file."""
    path = tmp_path / "werkbank.db"
    result = werkbank(["db", "upgrade"], tmp_path, WERKBANK_DATABASE_URL=f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def restore_modes(tmp_path: Path) -> Iterator[None]:
    yield
    for path in tmp_path.rglob("*"):  # let pytest clean up what the test locked away
        path.chmod(0o700)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_damaged_database_file_is_one_line(tmp_path: Path, command: str) -> None:
    path = tmp_path / "werkbank.db"
    path.write_bytes(b"this is no database, " * 300)
    result = werkbank(COMMANDS[command], tmp_path, WERKBANK_DATABASE_URL=f"sqlite:///{path}")
    one_line(result, str(path), "damaged")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_database_path_that_is_a_directory_is_one_line(tmp_path: Path, command: str) -> None:
    path = tmp_path / "werkbank.db"
    path.mkdir()
    result = werkbank(COMMANDS[command], tmp_path, WERKBANK_DATABASE_URL=f"sqlite:///{path}")
    one_line(result, str(path), "directory")


@needs_file_modes
@pytest.mark.usefixtures("restore_modes")
@pytest.mark.parametrize("mode", [0o444, 0o000], ids=["read-only", "unreadable"])
@pytest.mark.parametrize("command", COMMANDS)
def test_a_database_file_without_access_is_one_line(
    tmp_path: Path, command: str, mode: int
) -> None:
    path = a_database(tmp_path)
    path.chmod(mode)
    result = werkbank(
        COMMANDS[command], tmp_path, AS_ORDINARY_USER, WERKBANK_DATABASE_URL=f"sqlite:///{path}"
    )
    one_line(result, str(path), "cannot read and write")


@needs_file_modes
@pytest.mark.usefixtures("restore_modes")
def test_a_database_in_a_directory_without_write_access_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    path = folder / "werkbank.db"
    result = werkbank(
        ["db", "upgrade"], tmp_path, AS_ORDINARY_USER, WERKBANK_DATABASE_URL=f"sqlite:///{path}"
    )
    one_line(result, str(path), "not writable")


@pytest.mark.parametrize("command", COMMANDS)
def test_postgresql_down_is_one_line_without_the_password(tmp_path: Path, command: str) -> None:
    port = closed_port()
    url = f"postgresql://werkbank:sekret-pw@127.0.0.1:{port}/werkbank"
    result = werkbank(COMMANDS[command], tmp_path, WERKBANK_DATABASE_URL=url)
    line = one_line(result, f"127.0.0.1:{port}/werkbank", "cannot connect")
    assert "sekret-pw" not in line + result.stdout


@pytest.mark.postgres
def test_a_postgresql_database_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    if os.environ.get("WERKBANK_TEST_SKIP_PG") == "1":
        pytest.skip("WERKBANK_TEST_SKIP_PG=1")
    server = os.environ.get("WERKBANK_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
    url = f"{server.rstrip('/')}/werkbank_no_such_database"
    result = werkbank(["db", "upgrade"], tmp_path, WERKBANK_DATABASE_URL=url)
    one_line(result, "werkbank_no_such_database", "does not exist")


@pytest.mark.parametrize(
    "args",
    [
        ["demo-data"],
        ["admin", "grant", "organiser", "console:erika"],
        ["announcements"],
    ],
    ids=lambda a: a[0],
)
def test_every_other_command_says_it_in_one_line_too(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "werkbank.db"
    path.write_bytes(b"\x00garbage" * 600)
    result = werkbank(args, tmp_path, WERKBANK_DATABASE_URL=f"sqlite:///{path}")
    one_line(result, "damaged")


def test_a_database_from_a_newer_version_is_one_line(tmp_path: Path) -> None:
    path = a_database(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    result = werkbank(["chat"], tmp_path, WERKBANK_DATABASE_URL=f"sqlite:///{path}")
    one_line(result, "9999", "does not know")


def test_a_database_locked_by_another_writer_is_one_line_for_a_command(tmp_path: Path) -> None:
    path = a_database(tmp_path)
    blocker = sqlite3.connect(path, timeout=0, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        result = werkbank(["demo-data"], tmp_path, WERKBANK_DATABASE_URL=f"sqlite:///{path}")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    one_line(result, "locked by another process", "try again")


def test_telegram_unreachable_at_start_is_one_line_without_the_token(tmp_path: Path) -> None:
    port = closed_port()
    result = werkbank(
        ["run"],
        tmp_path,
        WERKBANK_DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}",
        WERKBANK_TELEGRAM_TOKEN="123456:sekret-token",
        WERKBANK_TELEGRAM_API_URL=f"http://127.0.0.1:{port}",
    )
    line = one_line(result, "cannot reach the Telegram Bot API", f"127.0.0.1:{port}")
    assert "sekret-token" not in line + result.stdout


# -- what a start loads -------------------------------------------------------------


def test_importing_the_app_loads_no_channel_or_file_format_library() -> None:
    heavy = ["telegram", "nio", "aiohttp", "matplotlib", "icalendar", "alembic", "apscheduler"]
    probe = f"import sys, bot.app; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stdout


def test_a_chat_on_sqlite_loads_no_postgresql_dialect_nor_po_file_parser(tmp_path: Path) -> None:
    """The first reply of a start whose catalogues are compiled in the cache."""
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['werkbank', 'chat', '--as', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('bot', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ['sqlalchemy.dialects.postgresql', 'asyncpg', 'babel.messages.pofile']\n"
        "print([m for m in heavy if m in sys.modules], file=sys.stderr)\n"
    )
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "WERKBANK_DATABASE_URL": f"sqlite:///{tmp_path / 'werkbank.db'}",
    }
    for user in ("first", "second"):  # the first start compiles the catalogues
        result = subprocess.run(
            [sys.executable, "-c", probe, user],
            input="",
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=120,
        )
        assert "Werkbank" in result.stdout, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr


def test_a_postgresql_engine_gives_the_indexes_their_postgresql_options() -> None:
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    from bot.storage.models import Notice, Place

    create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")  # connects to nothing yet
    indexes = {i.name: i for i in (*Notice.__table__.indexes, *Place.__table__.indexes)}
    ddl = {
        name: str(CreateIndex(index).compile(dialect=postgresql.dialect()))
        for name, index in indexes.items()
    }
    assert ddl["ix_notice_open_due"].endswith("WHERE status IN ('pending', 'claimed')")
    assert "USING gist" in ddl["ix_place_near"]


def test_a_command_run_in_process_leaves_the_collector_as_it_found_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from bot.cli import main

    monkeypatch.setenv("WERKBANK_DATABASE_URL", f"sqlite:///{tmp_path / 'werkbank.db'}")
    monkeypatch.chdir(tmp_path)
    assert main(["db", "upgrade"]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_the_head_read_from_the_version_files_is_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revisions() == set(ScriptDirectory.from_config(config).get_heads())


def test_a_database_at_head_is_not_handed_to_alembic(tmp_path: Path) -> None:
    path = a_database(tmp_path)
    probe = (
        "import asyncio, sys\n"
        "from bot.storage.engine import create_engine, upgrade\n"
        f"engine = create_engine('sqlite+aiosqlite:///{path}')\n"
        "asyncio.run(upgrade(engine))\n"
        "asyncio.run(engine.dispose())\n"
        "print('alembic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr


async def test_an_empty_database_is_still_migrated(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    with sqlite3.connect(tmp_path / "new.db") as db:
        stored = {row[0] for row in db.execute("SELECT version_num FROM alembic_version")}
    assert stored == head_revisions()
