"""The `werkbank` command: the composition root for every way Werkbank runs."""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import getpass
import logging
import os
import re
import stat
import sys
from collections.abc import Coroutine, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.app import Werkbank
    from bot.config import Settings
    from bot.services.privacy import RetentionRun

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

    admin = sub.add_parser("admin", help="roles, announcement caps, members' data")
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
    export = admin_sub.add_parser(
        "export", help="everything stored about a member, as JSON (a request by mail)"
    )
    export.add_argument("account", help=accounts)
    export.add_argument("--out", help="write it to FILE (only you can read it), not to stdout")
    erase = admin_sub.add_parser(
        "delete", help="delete a member and everything about them, as 'Alles löschen' does"
    )
    erase.add_argument("account", help=accounts)
    erase.add_argument("--yes", action="store_true", help="do not ask first")
    trail = admin_sub.add_parser(
        "audit", help="the audit trail: consents, exports, deletions, roles, event changes"
    )
    trail.add_argument("--since", help="only entries from this day on, UTC (2026-01-31)")
    admin_sub.add_parser(
        "retention", help="warn long-silent members, delete those warned, blank old answers"
    )

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
        # Retention (warn long-silent members, delete those warned, blank old free
        # text): once now, then daily, beside the notices; it logs a failure and goes on.
        retention = asyncio.create_task(_retention_daily(app))
        print(
            f"werkbank: running ({', '.join(app.settings.channels)}); stop with Ctrl+C", flush=True
        )
        try:
            await stop.wait()
        finally:
            # A run cut short rolls back what it had not finished; the next start redoes it.
            retention.cancel()
            await asyncio.gather(retention, return_exceptions=True)
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

    privacy = {
        "export": _admin_export,
        "delete": _admin_delete,
        "audit": _admin_audit,
        "retention": _admin_retention,
    }.get(args.admin_command)
    if privacy is not None:
        return await privacy(app, args)
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


# -- privacy: the operator's side of "Meine Daten", "Alles löschen" and retention ----------


async def _admin_export(app: Werkbank, args: argparse.Namespace) -> int:
    """`werkbank admin export ACCOUNT [--out FILE]`: the member's export, the same JSON
    "Meine Daten" sends them; the export is audited (that it happened, not what it held)."""
    from bot.control_characters import for_terminal
    from bot.services import ServiceError
    from bot.services.members import member_by_account
    from bot.services.privacy import export_json

    try:
        async with app.db.sessions() as session:  # an unknown account makes no file
            await member_by_account(session, args.account)
    except ServiceError as exc:  # an unknown account, or no account at all
        print(f"werkbank: {for_terminal(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    fd = None
    if args.out is not None:
        # Opened before the export: one that cannot be written is not read (nor audited).
        try:
            fd = _open_private(Path(args.out))
        except OSError as exc:
            print(
                f"werkbank: cannot write {for_terminal(args.out)}: {exc.strerror or exc}",
                file=sys.stderr,
            )
            return EXIT_USAGE
    try:
        data = await app.privacy.export_account(args.account, app.clock())
    except ServiceError as exc:  # deleted in the meantime
        if fd is not None:
            os.close(fd)
            Path(args.out).unlink(missing_ok=True)
        print(f"werkbank: {for_terminal(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    if fd is None:
        print(_terminal_safe_json(export_json(data).decode("utf-8")))
        return 0
    with os.fdopen(fd, "wb") as handle:
        handle.write(export_json(data) + b"\n")
    print(f"exported {for_terminal(args.account)} to {for_terminal(args.out)}")
    return 0


async def _admin_delete(app: Werkbank, args: argparse.Namespace) -> int:
    """`werkbank admin delete ACCOUNT [--yes]`: what "Alles löschen" does, for a request
    that came by mail; asks first at a terminal, refuses a script without --yes."""
    from bot.control_characters import for_terminal
    from bot.services import ServiceError
    from bot.services.members import member_by_account

    account = for_terminal(args.account)
    if not args.yes and not sys.stdin.isatty():
        print(
            f"werkbank: not deleting {account} without asking (no terminal); add --yes",
            file=sys.stderr,
        )
        return EXIT_USAGE
    now = app.clock()
    try:
        if not args.yes:
            async with app.db.sessions() as session:
                member = await member_by_account(session, args.account)
                member_id, name = member.id, member.display_name
            plan = await app.privacy.plan(member_id, now)
            question = (
                f"delete {account} ({for_terminal(name) or 'no name'}) and everything about them"
                f" ({_count(plan.seats, 'coming seat')} given up,"
                f" {_count(plan.events, 'coming event')} {_events_go(plan.events_go_to)})?"
                " [y/N]"
            )
            if not _confirm(question):
                print("nothing deleted")
                return 1
        done = await app.privacy.erase_account(args.account, now)
    except ServiceError as exc:  # an unknown account, or no account at all
        print(f"werkbank: {for_terminal(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    if not done.found:  # deleted meanwhile (the member, or another operator)
        print(f"werkbank: no member has written from {account}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"deleted {account}: {_count(done.seats, 'coming seat')} given up, "
        f"{_count(done.events, 'coming event')} {_events_go(done.events_go_to)}"
    )
    return 0


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def _events_go(goes_to: str) -> str:
    return "cancelled" if goes_to == "cancelled" else "handed to the operator"


def _confirm(question: str) -> bool:
    """Ask at the terminal; only y or yes (j, ja) deletes. Ctrl+C here is a no at once
    (asyncio's own handler would only cancel once the line is read)."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        print(question, end=" ", file=sys.stderr, flush=True)
        answer = sys.stdin.readline()
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return False
    finally:
        signal.signal(signal.SIGINT, previous)
    return answer.strip().lower() in ("y", "yes", "j", "ja")


async def _admin_audit(app: Werkbank, args: argparse.Namespace) -> int:
    """`werkbank admin audit [--since DAY]`: one line per entry, oldest first: time (UTC),
    action, who (a member's id, "operator", "retention" or "-"), subject, detail (JSON)."""
    import json

    from bot.control_characters import for_terminal

    since = None
    if args.since:
        day = _day(args.since)
        if day is None:
            print(
                f"werkbank: --since {for_terminal(repr(args.since))} is no date (e.g. 2026-01-31)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        since = datetime.combine(day, datetime.min.time(), UTC)
    entries = await app.privacy.audit_trail(since)
    if not entries:
        print("no audit entries" + (f" since {since.date().isoformat()}" if since else ""))
        return 0
    for entry in entries:
        detail = entry.detail or {}
        by = detail.get("by") if isinstance(detail, dict) else None
        if entry.actor_member_id is not None:
            who = f"member:{entry.actor_member_id}"
        elif by in ("operator", "cli"):  # `werkbank admin …` (roles say "cli")
            who = "operator"
        elif by == "retention" or entry.action.startswith("retention"):
            who = "retention"
        else:  # a member who has since deleted everything, or nobody in particular
            who = "-"
        fields = [entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), entry.action, who]
        if entry.subject:
            fields.append(entry.subject)
        line = " ".join(for_terminal(field) for field in fields)
        compact = json.dumps(
            detail, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str
        )
        print(f"{line} {_terminal_safe_json(compact)}")
    return 0


async def _admin_retention(app: Werkbank, args: argparse.Namespace) -> int:
    """`werkbank admin retention`: one run now (`werkbank run` also runs it daily)."""
    done = await _retention(app)
    print(_retention_line(done, app.settings.retention_grace_days))
    if done.warned:
        print("(the warnings are sent by `werkbank run`)")
    return 0


async def _retention(app: Werkbank) -> RetentionRun:
    """Retention with the configured periods (a month is 30 days)."""
    from datetime import timedelta

    settings = app.settings
    return await app.privacy.retention(
        app.clock(),
        inactive=timedelta(days=30 * settings.retention_months),
        grace=timedelta(days=settings.retention_grace_days),
        answers_kept=timedelta(days=30 * settings.answers_months),
    )


def _retention_line(done: RetentionRun, grace_days: int) -> str:
    blanked = done.answers_blanked
    return (
        f"retention: {_count(len(done.warned), 'member')} warned (deleted in {grace_days} "
        f"days unless they write), {_count(done.erased, 'member')} deleted, "
        f"{blanked} old {'answer or wish' if blanked == 1 else 'answers or wishes'} blanked"
    )


# Once a day is enough: the periods are months and days, and a run that finds nothing
# to do costs one query.
RETENTION_SECONDS = 24 * 60 * 60


async def _retention_daily(app: Werkbank, every: float = RETENTION_SECONDS) -> None:
    """Retention in `werkbank run`: at start, then every `every` seconds, until cancelled.
    A failed run is logged and the next one tries again (nothing it does is lost by
    waiting a day). Several workers on one database may each run it: a member is still
    warned once (the notice's dedupe key refuses a second) and deleted once (erasure
    locks the member first), so at worst one worker logs an error."""
    log = logging.getLogger(__name__)
    while True:
        try:
            done = await _retention(app)
            log.info("%s", _retention_line(done, app.settings.retention_grace_days))
        except Exception:
            log.exception("werkbank: retention failed; next try in %s s", every)
        await asyncio.sleep(every)


# What a terminal would act on rather than show (as in bot.control_characters): the C0
# controls but the newline (json.dumps escapes those inside strings, so a raw newline is
# the indentation's), DEL, the C1 controls, bidirectional marks and line separators.
_NOT_FOR_TERMINAL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]"
)


def _terminal_safe_json(text: str) -> str:
    """JSON from `json.dumps(..., ensure_ascii=False)` with each of those characters
    written as its \\u escape: the same value, and nothing a member wrote can move the
    cursor or reorder the operator's screen."""
    return _NOT_FOR_TERMINAL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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
    with os.fdopen(_open_private(path), "wb") as handle:
        handle.write(data)


def _open_private(path: Path) -> int:
    """`path` opened for writing, emptied, and readable by its owner only."""
    # O_NOFOLLOW: a link planted where the file is to go is refused, not written through.
    # O_NONBLOCK: a FIFO with no reader fails at once instead of hanging the command.
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO, a device: not a file to keep
            raise OSError(errno.EINVAL, "not a regular file")
        os.ftruncate(fd, 0)  # emptied only once it is known to be a plain file
        os.fchmod(fd, 0o600)  # also a file that was there before, readable by others
    except OSError:
        os.close(fd)
        raise
    return fd
