"""`werkbank chat` driven through standard input, as a script would."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def werkbank(
    args: list[str], tmp_path: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "WERKBANK_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "HOME": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no .env from the repository
        env=environment,
        timeout=120,
    )


def test_console_chat_can_be_driven_through_stdin(tmp_path: Path) -> None:
    script = "1\n1\n58636\n1\n1\n"
    result = werkbank(["chat", "--as", "erika"], tmp_path, script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Willkommen bei Werkbank" in out
    assert "Beenden: /beenden oder Strg+D" in out  # how to leave, said first
    assert "[1] Deutsch (du)   [2] Deutsch (Sie)   [3] English" in out
    assert "58636 Iserlohn" in out
    assert "Was möchtest du tun?" in out
    assert "Orte im Umkreis von 25 km um 58636 Iserlohn" in out
    assert "Traceback" not in result.stderr


def test_two_local_users_share_one_database_and_each_continues(tmp_path: Path) -> None:
    werkbank(["chat", "--as", "ali"], tmp_path, "3\n")  # Ali chooses English, then quits
    first = werkbank(["chat", "--as", "berta"], tmp_path, "1\n1\n")
    assert "Wo bist du?" in first.stdout
    again = werkbank(["chat", "--as", "ali"], tmp_path, "")
    assert again.returncode == 0
    assert "I agree" in again.stdout  # Ali continues where he left, in English


def test_a_shared_location_can_be_typed_as_coordinates(tmp_path: Path) -> None:
    result = werkbank(["chat", "--as", "carla"], tmp_path, "1\n1\n51.37, 7.70\n")
    assert "Danke, ich habe deinen Standort (bei Iserlohn)." in result.stdout


def test_a_bad_setting_is_one_clear_line_and_exit_code_2(tmp_path: Path) -> None:
    result = werkbank(["chat"], tmp_path, WERKBANK_TIMEZONE="Mars/Olympus_Mons")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "werkbank: WERKBANK_TIMEZONE: unknown time zone 'Mars/Olympus_Mons'"
    ]


def test_a_bad_database_url_is_refused(tmp_path: Path) -> None:
    result = werkbank(["db", "upgrade"], tmp_path, WERKBANK_DATABASE_URL="mysql://x")
    assert result.returncode == 2
    assert "WERKBANK_DATABASE_URL" in result.stderr


def test_settings_come_from_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("WERKBANK_DEFAULT_LOCALE=fr\n")
    result = werkbank(["db", "upgrade"], tmp_path)
    assert result.returncode == 2
    assert "WERKBANK_DEFAULT_LOCALE" in result.stderr


def test_db_upgrade_and_demo_data_and_roles(tmp_path: Path) -> None:
    assert werkbank(["db", "upgrade"], tmp_path).returncode == 0
    assert "31 places, 48 events" in werkbank(["demo-data"], tmp_path).stdout
    werkbank(["demo-data"], tmp_path)
    with sqlite3.connect(tmp_path / "chat.db") as db:  # loading twice updates, never duplicates
        assert db.execute("select count(*) from place").fetchone() == (31,)
        assert db.execute("select count(*) from event").fetchone() == (48,)
    werkbank(["chat", "--as", "dora"], tmp_path, "1\n")
    granted = werkbank(["admin", "grant", "organiser", "console:dora"], tmp_path)
    assert granted.returncode == 0 and "organiser" in granted.stdout
    revoked = werkbank(["admin", "revoke", "organiser", "console:dora"], tmp_path)
    assert revoked.returncode == 0 and "member" in revoked.stdout
    unknown = werkbank(["admin", "grant", "organiser", "telegram:42"], tmp_path)
    assert unknown.returncode == 2 and "telegram:42" in unknown.stderr
    malformed = werkbank(["admin", "grant", "organiser", "fax:123"], tmp_path)
    assert malformed.returncode == 2


def test_run_without_a_channel_says_what_to_set(tmp_path: Path) -> None:
    result = werkbank(["run"], tmp_path)
    assert result.returncode == 2
    assert "WERKBANK_TELEGRAM_TOKEN" in result.stderr


def test_a_seat_come_free_reaches_the_waiting_user_in_their_chat(tmp_path: Path) -> None:
    werkbank(["demo-data"], tmp_path)
    with sqlite3.connect(tmp_path / "chat.db") as db:
        [(event_id,)] = db.execute(
            "select id from event where format = 'networking' order by start_at limit 1"
        ).fetchall()
        db.execute("update event set capacity = 1 where id = ?", (event_id,))
    onboard = f"1\n1\n58636\n1\n/start ev_{event_id}\n"
    assert (
        "Du bist angemeldet" in werkbank(["chat", "--as", "anna"], tmp_path, onboard + "1\n").stdout
    )
    waiting = werkbank(["chat", "--as", "ben"], tmp_path, onboard + "Auf die Warteliste\n")
    assert "Du bist Nr. 1 auf der Warteliste." in waiting.stdout
    cancelled = werkbank(["chat", "--as", "anna"], tmp_path, "Abmelden\nJa, abmelden\n")
    assert "abgemeldet" in cancelled.stdout
    assert "frei geworden" not in cancelled.stdout  # Ben's notice is not Anna's

    ben = werkbank(["chat", "--as", "ben"], tmp_path, "Platz ablehnen\n").stdout
    assert ben.count("Ein Platz ist frei geworden") == 1
    told, answered = ben.split("> Platz ablehnen")
    assert "[1] Platz ablehnen" in told  # the notice opens the screen to decline …
    assert "abgemeldet" in answered  # … and it works by name
    again = werkbank(["chat", "--as", "ben"], tmp_path, "").stdout
    assert "frei geworden" not in again  # told once
