"""The operator's side of privacy on both databases: `werkbank admin export`, `delete`,
`audit` and `retention`, called in-process (as `werkbank` would be, without a process
start per command), and retention running by itself in `werkbank run`."""

from __future__ import annotations

import asyncio
import io
import json
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.app import Werkbank
from bot.cli import _retention_daily, main
from bot.codes import RETENTION_WARNED, NoticeKind, RegistrationStatus, WorkStatus
from bot.config import Settings
from bot.services.privacy import RetentionRun
from bot.storage.models import (
    AuditLog,
    ChannelAccount,
    DialogState,
    Followup,
    Member,
    Notice,
    Registration,
)
from tests.support.chat import ChatUser
from tests.support.factories import add_event, seat_with_someone_waiting

WISH = "Lasern lernen"
LINE = "\x1b]0;pwned\x07Ahornsirup\u202e"  # what a member wrote may hold escapes


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no .env from the repository
    monkeypatch.setenv("WERKBANK_DATABASE_URL", database_url)
    return database_url


async def _with_app(database_url: str, work: Any) -> Any:
    app = await Werkbank.open(Settings(database_url=database_url, default_locale="de"))
    try:
        return await work(app)
    finally:
        await app.close()


def run(database_url: str, work: Any) -> Any:
    return asyncio.run(_with_app(database_url, work))


async def member_of(app: Werkbank, name: str) -> int | None:
    async with app.db.sessions() as session:
        found = await session.scalar(
            select(ChannelAccount.member_id).where(ChannelAccount.external_id == name)
        )
    return None if found is None else int(found)


async def erika_with_a_seat(app: Werkbank) -> None:
    """Erika, onboarded, with a seat at a coming event someone waits for."""
    erika = ChatUser(app.runner, "erika", display_name="Erika")
    await erika.onboard()
    me = await member_of(app, "erika")
    assert me is not None
    soon = datetime.now(UTC) + timedelta(days=5)
    event = await add_event(app, "Bald", capacity=1, start=soon, place=None)
    await seat_with_someone_waiting(app, me, event, LINE)


class Terminal(io.StringIO):
    """Standard input as if typed at a terminal."""

    def isatty(self) -> bool:
        return True


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_export_delete_and_audit(
    cli: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(cli, erika_with_a_seat)
    capsys.readouterr()

    # export: to a file only the operator can read, the same JSON as "Meine Daten"
    out = tmp_path / "erika.json"
    out.write_text("old, readable by all")
    out.chmod(0o644)
    assert main(["admin", "export", "console:erika", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"exported console:erika to {out}\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["format"] == "werkbank-export-1"
    assert data["member"]["display_name"] == "Erika"
    assert data["member"]["home"]["label"].endswith("Iserlohn")
    assert data["accounts"][0]["id"] == "erika"
    assert [r["expectation"] for r in data["registrations"]] == [LINE]
    # to stdout: the same data, with nothing in it a terminal would act on
    assert main(["admin", "export", "console:erika"]) == 0
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "\u202e" not in printed
    assert {**json.loads(printed), "exported_at": ""} == {**data, "exported_at": ""}
    # a link planted where the file is to go is refused, not written through
    target = tmp_path / "elsewhere"
    (tmp_path / "link.json").symlink_to(target)
    assert main(["admin", "export", "console:erika", "--out", str(tmp_path / "link.json")]) == 2
    assert one_line(capsys.readouterr().err).startswith("werkbank: cannot write")
    assert not target.exists()
    for unknown in ("console:nobody", "fax:123"):
        assert main(["admin", "export", unknown, "--out", str(tmp_path / "x.json")]) == 2
        assert unknown in one_line(capsys.readouterr().err)
    assert not (tmp_path / "x.json").exists()

    # delete: asks at a terminal, refuses a script without --yes
    assert main(["admin", "delete", "console:erika"]) == 2  # pytest's stdin is no terminal
    assert "--yes" in one_line(capsys.readouterr().err)
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert main(["admin", "delete", "console:erika"]) == 1
    asked = capsys.readouterr()
    assert asked.err.startswith("delete console:erika (Erika) and everything about them")
    assert "1 coming seat given up, 0 coming events handed to the operator)? [y/N]" in asked.err
    assert asked.out == "nothing deleted\n"
    assert run(cli, lambda app: member_of(app, "erika")) is not None
    monkeypatch.setattr("sys.stdin", Terminal(""))  # a question is never asked with --yes
    assert main(["admin", "delete", "console:erika", "--yes"]) == 0
    assert capsys.readouterr().out == (
        "deleted console:erika: 1 coming seat given up, 0 coming events handed to the operator\n"
    )
    assert run(cli, lambda app: member_of(app, "erika")) is None

    async def wanda_moved_up(app: Werkbank) -> str:
        async with app.db.sessions() as session:
            return str(await session.scalar(select(Registration.status)))

    assert run(cli, wanda_moved_up) == RegistrationStatus.REGISTERED
    for gone in ("console:erika", "console:nobody"):
        assert main(["admin", "delete", gone, "--yes"]) == 2
        assert one_line(capsys.readouterr().err) == f"werkbank: no member has written from {gone}"

    # audit: one line per entry, oldest first; --since filters by day (UTC)
    async def consent_long_ago(app: Werkbank) -> None:
        async with app.db.transaction() as session:
            await session.execute(
                update(AuditLog)
                .where(AuditLog.action == "consent")
                .values(at=datetime.now(UTC) - timedelta(days=10))
            )

    run(cli, consent_long_ago)
    assert main(["admin", "audit"]) == 0
    lines = capsys.readouterr().out.splitlines()
    entry = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (\S+) (\S+) (?:(\S+) )?(\{.*\})$")
    parsed = [entry.match(line) for line in lines]
    assert all(parsed), lines
    actions = [(m[1], m[2], json.loads(m[4])) for m in parsed if m]
    assert actions[0][0] == "consent"  # the oldest first; Erika's id scrubbed by the erasure
    assert actions[0][1] == "-"
    assert actions[1:] == [
        ("export", "operator", {"by": "operator"}),
        ("export", "operator", {"by": "operator"}),
        ("erase", "operator", {"by": "operator", "accounts": 1}),
    ]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert main(["admin", "audit", "--since", yesterday]) == 0
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines()] == [
        "export",
        "export",
        "erase",
    ]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert main(["admin", "audit", "--since", tomorrow]) == 0
    assert capsys.readouterr().out == f"no audit entries since {tomorrow}\n"
    assert main(["admin", "audit", "--since", "2026-13-01"]) == 2
    assert one_line(capsys.readouterr().err) == (
        "werkbank: --since '2026-13-01' is no date (e.g. 2026-01-31)"
    )


def test_retention_warns_then_deletes_and_blanks_old_answers(
    cli: str, capsys: pytest.CaptureFixture[str]
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=800)

    async def seed(app: Werkbank) -> None:
        quiet, busy = ChatUser(app.runner, "quiet"), ChatUser(app.runner, "busy")
        await quiet.onboard()
        await busy.onboard()
        quiet_id, busy_id = await member_of(app, "quiet"), await member_of(app, "busy")
        async with app.db.transaction() as session:
            await session.execute(
                update(Member).where(Member.id == quiet_id).values(created_at=long_ago)
            )
            account = select(ChannelAccount.id).where(ChannelAccount.member_id == quiet_id)
            await session.execute(
                update(DialogState)
                .where(DialogState.account_id.in_(account))
                .values(updated_at=long_ago)
            )
            session.add(
                Followup(
                    member_id=busy_id,
                    kind="next_day",
                    due_at=datetime.now(UTC) - timedelta(days=400),
                    status=WorkStatus.DONE,
                    takeaway="Mein Geheimnis",
                )
            )

    run(cli, seed)
    capsys.readouterr()
    assert main(["admin", "retention"]) == 0
    assert capsys.readouterr().out == (
        "retention: 1 member warned (deleted in 30 days unless they write), "
        "0 members deleted, 1 old answer or wish blanked\n"
        "(the warnings are sent by `werkbank run`)\n"
    )

    async def warned_a_while_ago(app: Werkbank) -> list[str]:
        quiet_id = await member_of(app, "quiet")
        async with app.db.transaction() as session:
            kinds = (
                await session.scalars(select(Notice.kind).where(Notice.member_id == quiet_id))
            ).all()
            member = await session.get(Member, quiet_id)
            assert member is not None
            told = datetime.now(UTC) - timedelta(days=31)
            member.consents = {**member.consents, RETENTION_WARNED: told.isoformat()}
        return [str(kind) for kind in kinds]

    assert NoticeKind.RETENTION_WARNING in run(cli, warned_a_while_ago)
    assert main(["admin", "retention"]) == 0
    assert capsys.readouterr().out == (
        "retention: 0 members warned (deleted in 30 days unless they write), "
        "1 member deleted, 0 old answers or wishes blanked\n"
    )
    assert run(cli, lambda app: member_of(app, "quiet")) is None
    assert run(cli, lambda app: member_of(app, "busy")) is not None
    assert main(["admin", "audit"]) == 0
    done = [line.split()[1:3] for line in capsys.readouterr().out.splitlines()]
    assert done[-2:] == [["retention.warned", "retention"], ["erase", "retention"]]


async def test_werkbank_run_runs_retention_at_start_and_again_after_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`werkbank run`'s daily retention: a failed run is logged and the next one comes."""
    calls: list[timedelta] = []
    three = asyncio.Event()

    async def retention(
        now: datetime, inactive: timedelta, grace: timedelta, answers_kept: timedelta
    ) -> RetentionRun:
        calls.append(inactive)
        if len(calls) == 3:
            three.set()
        if len(calls) == 1:
            raise ConnectionError("database away")
        return RetentionRun((), 0, 0)

    settings = Settings(
        database_url="sqlite:///unused.db", retention_months=6, retention_grace_days=7
    )
    app: Any = SimpleNamespace(
        settings=settings, clock=lambda: datetime.now(UTC), privacy=SimpleNamespace()
    )
    app.privacy.retention = retention
    task = asyncio.create_task(_retention_daily(app, every=0.01))
    await asyncio.wait_for(three.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert calls[0] == timedelta(days=180)  # a month is 30 days
    assert "retention failed" in caplog.text
