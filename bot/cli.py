"""The `werkbank` command: the composition root for every way Werkbank runs."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import os
import sys
from collections.abc import Coroutine, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.app import Werkbank
    from bot.config import Settings

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="werkbank", description="Werkbank: open workshops and events near you, in a chat."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="chat with the bot in this terminal")
    chat.add_argument("--as", dest="user", default=None, help="local user name (default: you)")
    chat.add_argument(
        "--no-demo", action="store_true", help="do not offer demo data for an empty database"
    )

    sub.add_parser("run", help="start every configured channel (Telegram, Matrix)")

    demo = sub.add_parser("demo-data", help="load the demo places and events")
    demo.set_defaults(replace=False)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply all database migrations")

    admin = sub.add_parser("admin", help="roles, announcement caps")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    accounts = "telegram:<id>, matrix:@user:server or console:<name>"
    for verb in ("grant", "revoke"):
        p = admin_sub.add_parser(verb, help=f"{verb} a role")
        p.add_argument("role", choices=["organiser", "admin"])
        p.add_argument("account", help=accounts)
    caps = admin_sub.add_parser(
        "caps", help="lift or restore an organiser's caps on region announcements"
    )
    caps.add_argument("action", choices=["lift", "restore"])
    caps.add_argument("account", help=accounts)

    announcements = sub.add_parser(
        "announcements", help="recent announcements with their status, for the operator"
    )
    announcements.add_argument("--limit", type=int, default=20, help="how many (default 20)")

    imports = sub.add_parser("import", help="import events from a file")
    imports_sub = imports.add_subparsers(dest="import_command", required=True)
    ics = imports_sub.add_parser("ics", help="events from an iCalendar (.ics) file")
    ics.add_argument("file", help="the .ics file")
    ics.add_argument("--place", help="where they take place: a place id or its exact name")
    ics.add_argument("--organiser", help="who organises them: telegram:<id>, matrix:… or console:…")

    report = sub.add_parser("report", help="reports for operators and funders")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    impact = report_sub.add_parser(
        "impact", help="what came of the workshops, from the check-ins, over all events"
    )
    impact.add_argument("--since", help="only events from this day on (2026-01-31 or 31.1.2026)")
    impact.add_argument(
        "--place", default="", help="only events at places whose name or town contains this"
    )
    impact.add_argument("--out", help="also save the figures as FILE.csv or the chart as FILE.png")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The `werkbank` command; `argv` None is this process's own command line."""
    # A start makes some 150 000 objects that live as long as the process (modules,
    # settings, models, statements). The cyclic collector would walk them again and
    # again while they are made (0.08 s of a start) and once more at exit: it waits
    # until they are all there, and they are then frozen out of its sight (`_started`).
    gc.disable()
    try:
        return _main(argv)
    finally:
        gc.enable()
        if argv is not None:
            # Called from Python code that goes on running (tests): what it holds
            # becomes collectable again once it lets go of it.
            gc.unfreeze()


def _started() -> None:
    """Start-up is over: what it made is frozen (a few hundred objects of garbage
    among it stay), and the collector runs again for what comes after."""
    gc.freeze()
    gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    # pydantic-settings and its models are imported here, not with this module: the
    # collector is paused for them too.
    from bot.config import SettingsError, StartError, load_settings

    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("WERKBANK_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"werkbank: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(_dispatch(args, settings))
    except StartError as exc:  # one only a channel can judge, e.g. a rejected token
        print(f"werkbank: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # a database that cannot be used is one line, a bug a traceback
        from bot.storage.engine import database_problem

        problem = database_problem(exc, settings.database_url)
        if problem is None:
            raise
        print(f"werkbank: {problem}", file=sys.stderr)
        return EXIT_USAGE


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run" and not settings.channels:
        print(
            "werkbank: no channel is configured. Set WERKBANK_TELEGRAM_TOKEN or "
            "WERKBANK_MATRIX_HOMESERVER and WERKBANK_MATRIX_USER (see README), "
            "or try `werkbank chat`.",
            file=sys.stderr,
        )
        return EXIT_USAGE

    if args.command == "db":
        # Only the engine: the services, dialogs and channels are not needed to migrate.
        from bot.storage.engine import create_engine, upgrade

        engine = create_engine(settings.database_url)
        _started()
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        print("database is up to date")
        return 0

    from bot.app import Werkbank

    app = await Werkbank.open(settings)
    _started()
    try:
        if args.command == "chat":
            return await _chat(app, args)
        if args.command == "run":
            return await _run(app)
        if args.command == "demo-data":
            return await _demo(app)
        if args.command == "admin":
            return await _admin(app, args)
        if args.command == "import":
            return await _import_ics(app, args)
        if args.command == "report":
            return await _report_impact(app, args)
        if args.command == "announcements":
            return await _announcements(app, args)
    finally:
        await app.close()
    return EXIT_USAGE


# A stop signal must end `werkbank run` within this time, whatever a channel is doing;
# channels stop side by side, each within it, so one that hangs cannot hold up the others.
SHUTDOWN_SECONDS = 8


async def _run(app: Werkbank) -> int:
    """Start every configured channel; SIGINT or SIGTERM stops them cleanly (exit code 0),
    also while a channel is still starting (nio waits for a homeserver that is down)."""
    import signal

    from bot.config import StartError
    from bot.geo import default_gazetteer

    # Only the channels configured are imported: matrix-nio alone is ~14 MB resident.
    if TYPE_CHECKING:
        from bot.handlers.matrix import MatrixChannel
        from bot.handlers.telegram import TelegramChannel

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    by_name: dict[str, TelegramChannel | MatrixChannel] = {}
    if "telegram" in app.settings.channels:
        from bot.handlers.telegram import TelegramChannel

        by_name["telegram"] = TelegramChannel(app)
    if "matrix" in app.settings.channels:
        from bot.handlers.matrix import MatrixChannel

        by_name["matrix"] = MatrixChannel(app)
    channels = list(by_name.values())
    # Every channel whose start began, finished or not: a half-done start holds
    # connections too, and stop() must release them.
    begun: list[TelegramChannel | MatrixChannel] = []
    try:
        for channel in channels:
            begun.append(channel)
            if not await _start_unless_stopped(channel.start(), stop):
                return 0
        # What start-up made (modules, settings, the gazetteer) lives as long as the
        # process: out of the collector's sight, a full collection no longer walks it
        # (160 ms each with Werkbank loaded; one would land in a claim or a reply).
        # The gazetteer is read now, not in the first member's answer.
        default_gazetteer()
        gc.collect()
        gc.freeze()
        # Reminders and other notices go out through every channel running here.
        dispatcher = app.dispatcher(by_name)
        dispatcher.start(app.settings.notice_interval)
        print(
            f"werkbank: running ({', '.join(app.settings.channels)}); stop with Ctrl+C", flush=True
        )
        try:
            await stop.wait()
        finally:
            await dispatcher.stop()
    except StartError as exc:  # one only a channel can judge, e.g. a revoked session
        print(f"werkbank: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        await asyncio.gather(*(_stop_channel(channel) for channel in reversed(begun)))
    return 0


async def _start_unless_stopped(start: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Run a channel's start until it is done (True) or a stop signal comes first (False)."""
    starting = asyncio.ensure_future(start)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if starting.done():
        starting.result()  # the start's own error, if it failed
        return True
    starting.cancel()
    # Bounded: a start that ignores cancellation must not hold up the exit.
    await asyncio.wait({starting}, timeout=SHUTDOWN_SECONDS)
    if starting.done() and not starting.cancelled() and starting.exception() is not None:
        logging.getLogger(__name__).warning(
            "werkbank: a channel failed while starting was cancelled: %s", starting.exception()
        )
    return False


class _Stoppable(Protocol):
    async def stop(self) -> None: ...


async def _stop_channel(channel: _Stoppable) -> None:
    name = type(channel).__name__
    try:
        async with asyncio.timeout(SHUTDOWN_SECONDS):
            await channel.stop()
    except TimeoutError:
        logging.getLogger(__name__).warning(
            "werkbank: %s did not stop within %s s", name, SHUTDOWN_SECONDS
        )
    except Exception:
        logging.getLogger(__name__).exception("werkbank: stopping %s failed", name)


async def _demo(app: Werkbank) -> int:
    from bot.geo import default_gazetteer
    from bot.services.demo import load_demo_data

    summary = await load_demo_data(app.db, default_gazetteer(), datetime.now(UTC), app.settings.tz)
    print(f"demo data loaded: {summary.places} places, {summary.events} events")
    return 0


async def _chat(app: Werkbank, args: argparse.Namespace) -> int:
    from bot.handlers.console import ConsoleOutbox, chat
    from bot.messages import AccountRef

    if not await app.places.has_places() and not args.no_demo and _wants_demo():
        await _demo(app)
    user = args.user or getpass.getuser()
    account = AccountRef("console", user, chat_id=user, display_name=user)
    # Notices go to this user only, never to another local user on the same database.
    dispatcher = app.dispatcher({"console": ConsoleOutbox()}, only={"console": [user]})
    if sys.stdin.isatty():
        dispatcher.start(app.settings.notice_interval)
    try:
        return await chat(app.runner, account, deliver_due=dispatcher.run_once)
    finally:
        await dispatcher.stop()


def _wants_demo() -> bool:
    """Ask at a terminal; a script (piped input) gets the demo data without a question."""
    if not sys.stdin.isatty():
        print("(Die Datenbank ist leer: Demo-Daten werden geladen.)", file=sys.stderr)
        return True
    answer = input("Die Datenbank ist leer. Demo-Daten laden? / Load demo data? [J/n] ")
    return answer.strip().lower() in ("", "j", "ja", "y", "yes")


async def _admin(app: Werkbank, args: argparse.Namespace) -> int:
    from bot.codes import Role
    from bot.services import ServiceError

    if args.admin_command == "caps":
        try:
            name = await app.announcements.lift_caps(args.account, args.action == "lift")
        except ServiceError as exc:
            print(f"werkbank: {exc}", file=sys.stderr)
            return EXIT_USAGE
        state = "lifted" if args.action == "lift" else "in force again"
        print(f"{args.account} ({name}): caps on region announcements {state}")
        return 0
    members = app.members
    role = Role(args.role) if args.admin_command == "grant" else Role.MEMBER
    try:
        view = await members.set_role(args.account, role)
    except ServiceError as exc:
        print(f"werkbank: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{args.account} is now {view.role}")
    return 0


async def _announcements(app: Werkbank, args: argparse.Namespace) -> int:
    """One line per announcement: when, who, to whom, how far, and its first words."""
    listed = await app.announcements.recent(max(1, min(args.limit, 500)), app.clock())
    if not listed:
        print("no announcements yet")
        return 0
    print("id  confirmed         status     audience  total  sent  blocked  failed  waiting  text")
    for a in listed:
        p = a.progress
        when = a.confirmed_at.strftime("%Y-%m-%d %H:%M") if a.confirmed_at else "-"
        words = " ".join(a.text.split())[:40]
        print(
            f"{p.id:<3} {when:<17} {p.status:<10} {a.audience:<9} {p.total:>5} {p.sent:>5}"
            f" {p.blocked:>8} {p.failed:>7} {p.waiting:>8}  {a.organiser}: {words}"
        )
    return 0


async def _import_ics(app: Werkbank, args: argparse.Namespace) -> int:
    """`werkbank import ics FILE`: create or update events; one line either way."""

    from bot.control_characters import for_terminal
    from bot.services.calendar import (
        MAX_ICS_BYTES,
        CalendarError,
        import_ics,
        organiser_by_account,
        place_by_id_or_name,
    )

    name = for_terminal(args.file)  # a file name can hold escapes as well as its contents
    try:
        data = _read_small_file(args.file, MAX_ICS_BYTES)
    except OSError as exc:
        print(f"werkbank: cannot read {name}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"werkbank: {name} {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        place_id = await place_by_id_or_name(app.db, args.place) if args.place else None
        organiser_id = (
            await organiser_by_account(app.db, args.organiser) if args.organiser else None
        )
        result = await import_ics(
            app.db, data, place_id, organiser_id, datetime.now(UTC), tz=app.settings.timezone
        )
    except CalendarError as exc:
        # The message may quote the file (a title, a broken line): its bytes are not
        # the terminal's business.
        print(f"werkbank: {name}: {for_terminal(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"events imported: {result.created} new, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.skipped} skipped"
    )
    if result.cut:
        print(f"cut: {for_terminal('; '.join(result.cut))}")
    return 0


def _read_small_file(path: str, limit: int) -> bytes:
    """The contents of a regular file of at most `limit` bytes. ValueError (its message
    one line for the operator) for anything else: a device such as /dev/zero, a pipe, a
    folder, a larger file. Memory stays below `limit`; a pipe without a writer is
    refused at once, not waited for."""
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("is not a regular file (a device, pipe or folder cannot be imported)")
        too_large = ValueError(f"is larger than {limit // (1024 * 1024)} MB")
        if info.st_size > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(1024 * 1024, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while being read
                raise too_large
        return b"".join(chunks)
    finally:
        os.close(fd)


async def _report_impact(app: Werkbank, args: argparse.Namespace) -> int:
    """`werkbank report impact`: the check-ins of all events in words, and as a CSV
    file or chart with --out; in the default language."""
    from zoneinfo import ZoneInfo

    from bot import charts, impact_report
    from bot.control_characters import for_terminal
    from bot.dialogs.impact import impact_text
    from bot.i18n import Translator
    from bot.services.checkins import Checkins

    since = None
    if args.since:
        day = _day(args.since)
        if day is None:
            print(f"werkbank: --since {args.since!r} is no date (e.g. 2026-01-31)", file=sys.stderr)
            return EXIT_USAGE
        tz = ZoneInfo(app.settings.timezone)
        since = datetime.combine(day, datetime.min.time(), tz)
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".png"):
        print("werkbank: --out must name a .csv or a .png file", file=sys.stderr)
        return EXIT_USAGE
    impact = await Checkins(app.db).report(since, args.place)
    t = Translator(app.settings.default_locale, ZoneInfo(app.settings.timezone))
    title = t.ngettext("Impact of {count} event", "Impact of {count} events", impact.events).format(
        count=impact.events
    )
    if since is not None:
        title += " " + t._("from {day} on").format(day=t.day(since))
    if args.place.strip():
        title += " " + t._("at “{place}”").format(place=args.place.strip())
    print(impact_text(t, impact, title))
    if out is None:
        return 0
    if out.suffix.lower() == ".csv":
        data = impact_report.csv_file(impact, t._)
    else:
        chart = impact_report.chart(impact, title, t._)
        if chart is None:
            print("werkbank: no answers yet, so no chart", file=sys.stderr)
            return EXIT_USAGE
        data = await charts.render(chart)
    try:
        _write_private(out, data)
    except OSError as exc:
        print(
            f"werkbank: cannot write {for_terminal(str(out))}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    print(t._("Saved: {file}").format(file=out))
    return 0


def _day(text: str) -> date | None:
    """A day as operators write it: 2026-01-31 or 31.1.2026."""
    text = text.strip()
    for read in (date.fromisoformat, lambda t: datetime.strptime(t, "%d.%m.%Y").date()):
        try:
            return read(text)
        except ValueError:
            continue
    return None


def _write_private(path: Path, data: bytes) -> None:
    """A file only its owner can read: figures about people are nobody else's business."""
    # O_NOFOLLOW: a link planted where the file is to go is refused, not written through.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.fchmod(fd, 0o600)  # also a file that was there before, readable by others
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
