"""``buddybot run | migrate | check | export | purge | forget-again | erasure-key | demo``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from sqlalchemy import text

from buddybot import redact
from buddybot.clock import SystemClock
from buddybot.settings import ERASURE_HEX, Settings, SettingsError, load_settings

EXIT_CRASH = 1
EXIT_SETTINGS = 2
EXIT_DATABASE = 3
EXIT_MIGRATIONS = 4

NO_TOKEN = (
    "No bot token: set BUDDYBOT_TOKEN (create a bot with @BotFather in Telegram to get one). "
    "To try buddybot without a token, run: buddybot demo"
)


ERASURE_KEY_DERIVED = (
    "BUDDYBOT_ERASURE_KEY is not set: forgotten people are recognised with a key derived "
    "from the bot token, and after a new token they would be stored again. Set it now: "
    "`buddybot erasure-key` prints the value that keeps them recognised (see SECURITY.md)."
)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"Wrong setting: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_SETTINGS) from None


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _migrate(settings: Settings) -> None:
    from buddybot.storage.db import make_engine
    from buddybot.storage.migrate import upgrade

    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


async def _run(settings: Settings) -> None:
    from buddybot import app as bot_app
    from buddybot.bot.runtime import Deps
    from buddybot.storage.db import Database

    if settings.migrate_on_start:
        _migrate(settings)
    clock = SystemClock()
    db = Database.for_settings(settings, clock)
    application = bot_app.build_application(Deps.build(settings, db, clock))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await bot_app.start(application)
    bot_app.tune_gc()
    logging.getLogger("buddybot").info("buddybot is running as @%s", application.bot.username)
    try:
        await stop.wait()
    finally:
        await bot_app.stop(application)
        await db.dispose()


def cmd_run(_: argparse.Namespace) -> int:
    settings = _settings()
    if settings.token is None:
        print(NO_TOKEN, file=sys.stderr)
        return EXIT_SETTINGS
    redact.protect(
        settings.token.get_secret_value(),
        settings.webhook_secret.get_secret_value() if settings.webhook_secret else None,
    )
    _logging(settings.log_level)
    if not settings.erasure_key_set:
        logging.getLogger("buddybot").warning(ERASURE_KEY_DERIVED)
    try:
        asyncio.run(_run(settings))
    except Exception:
        # Logged, not left to Python's own traceback print: the log masks the token, and a
        # failed request's error carries its URL.
        logging.getLogger("buddybot").critical("buddybot stopped on an error", exc_info=True)
        return EXIT_CRASH
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    settings = _settings()
    _logging(settings.log_level)
    _migrate(settings)
    print("database is up to date")
    return 0


def _check(settings: Settings) -> int:
    from buddybot.storage.db import make_engine
    from buddybot.storage.migrate import is_current

    engine = make_engine(
        settings.database_url, read_only=True, connect_args=_connect_timeout(settings)
    )
    try:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means: not reachable
            print(f"database: NOT reachable ({type(exc).__name__}: {exc})")
            return EXIT_DATABASE
        print("database: reachable")
        if not is_current(engine):
            print("migrations: NOT current (run: buddybot migrate)")
            return EXIT_MIGRATIONS
        print("migrations: current")
        return 0
    finally:
        engine.dispose()


def _connect_timeout(settings: Settings) -> dict[str, object]:
    return {"connect_timeout": 5} if settings.database_url.startswith("postgresql") else {}


def cmd_check(_: argparse.Namespace) -> int:
    settings = _settings()
    print("settings: ok")
    return _check(settings)


def _export(settings: Settings, wijk_id: int) -> tuple[str, bytes] | None:
    from buddybot.services import export
    from buddybot.storage.db import Database

    db = Database.for_settings(settings, SystemClock(), read_only=True)

    def progress(name: str, done: int, total: int) -> None:
        width = 30
        filled = width if total == 0 else int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        print(f"\r{name:<9} [{bar}] {done}/{total}", end="", file=sys.stderr, flush=True)
        if done >= total:
            print(file=sys.stderr)

    try:
        with db.transaction() as uow:
            return export.by_id(uow, wijk_id, progress)
    except LookupError as exc:
        print(exc, file=sys.stderr)
        return None
    finally:
        asyncio.run(db.dispose())


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    settings = _settings()
    result = _export(settings, args.wijk)
    if result is None:
        return 1
    title, data = result
    Path(args.out).write_bytes(data)
    print(f"wrote {args.out} ({len(data)} bytes) for wijk {args.wijk}: {title}")
    return 0


def _purge(settings: Settings, wijk_id: int) -> str | None:
    from buddybot.services import privacy
    from buddybot.storage.db import Database

    db = Database.for_settings(settings, SystemClock())
    try:
        with db.transaction() as uow:
            return privacy.purge_wijk(uow, wijk_id)
    except LookupError as exc:
        print(exc, file=sys.stderr)
        return None
    finally:
        asyncio.run(db.dispose())


def cmd_purge(args: argparse.Namespace) -> int:
    settings = _settings()
    if not args.yes:
        answer = input(f"Erase wijk {args.wijk} and all its data? Type 'yes': ")
        if answer.strip().lower() != "yes":
            print("nothing erased")
            return 1
    title = _purge(settings, args.wijk)
    if title is None:
        return 1
    print(f"erased wijk {args.wijk}: {title}")
    return 0


def cmd_erasure_key(_: argparse.Namespace) -> int:
    """Print the erasure key in use as a setting line, so that it survives a new token."""
    settings = _settings()
    if settings.erasure_key_set:
        print("BUDDYBOT_ERASURE_KEY is already set: keep it as it is.", file=sys.stderr)
        return 0
    if settings.token is None:
        print(
            "No bot token: no key is derived from it. Set any long random value.", file=sys.stderr
        )
        return EXIT_SETTINGS
    print(f"BUDDYBOT_ERASURE_KEY={ERASURE_HEX}{settings.erasure_secret.hex()}")
    return 0


def cmd_forget_again(args: argparse.Namespace) -> int:
    """After restoring a backup: erase again everyone who was forgotten (PRIVACY.md)."""
    from sqlalchemy import select

    from buddybot.services import privacy
    from buddybot.services.people import Policy
    from buddybot.storage.db import Database
    from buddybot.storage.models import ErasedPerson

    settings = _settings()
    if not settings.erasure_key_set and not (settings.token and settings.token.get_secret_value()):
        # A key derived from no token matches no stored hash: nobody would be erased again.
        print(
            "set BUDDYBOT_ERASURE_KEY (or the bot's token) first: without the key that made"
            " them, the forgotten cannot be recognised",
            file=sys.stderr,
        )
        return EXIT_SETTINGS
    hashes: list[str] = []
    if args.erased_from:
        live = Database(args.erased_from, SystemClock(), read_only=True)
        try:
            with live.transaction() as uow:
                hashes = list(uow.session.scalars(select(ErasedPerson.tg_hash)))
        finally:
            asyncio.run(live.dispose())
    policy = Policy(erasure_key=settings.erasure_secret)
    db = Database.for_settings(settings, SystemClock())
    try:
        with db.transaction() as uow:
            count = privacy.forget_again(uow, policy, hashes)
    finally:
        asyncio.run(db.dispose())
    print(f"erased again: {count} forgotten people")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from buddybot.demo import run_demo

    return asyncio.run(run_demo(keep=args.keep))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="buddybot",
        description="buddybot: the digital buddy in de wijk (a Telegram group bot).",
        epilog=f"Exit codes of check: {EXIT_SETTINGS} settings, {EXIT_DATABASE} database, "
        f"{EXIT_MIGRATIONS} migrations.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "run", help="run the bot (long polling; webhook mode when BUDDYBOT_WEBHOOK_URL is set)"
    ).set_defaults(fn=cmd_run)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        fn=cmd_migrate
    )
    sub.add_parser(
        "check", help="check settings, database and migrations; the exit code says which failed"
    ).set_defaults(fn=cmd_check)
    exp = sub.add_parser("export", help="write a wijk's data as a zip of CSV files")
    exp.add_argument("--wijk", type=int, required=True, help="the wijk's id")
    exp.add_argument("--out", required=True, help="the zip file to write")
    exp.set_defaults(fn=cmd_export)
    purge = sub.add_parser("purge", help="erase a finished wijk and all its data")
    purge.add_argument("--wijk", type=int, required=True, help="the wijk's id")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    purge.set_defaults(fn=cmd_purge)
    again = sub.add_parser(
        "forget-again",
        help="after restoring a backup: erase again everyone who was forgotten (see PRIVACY.md)",
    )
    again.add_argument(
        "--erased-from",
        metavar="DATABASE_URL",
        help="also take the forgotten from this database (a copy of the live one, kept "
        "before the restore)",
    )
    again.set_defaults(fn=cmd_forget_again)
    sub.add_parser(
        "erasure-key",
        help="print the erasure key derived from the token, as a line for .env (keep it "
        "before a new token, so forgotten people stay recognised)",
    ).set_defaults(fn=cmd_erasure_key)
    demo = sub.add_parser(
        "demo", help="play a neighbourhood story against a local fake Telegram (no token needed)"
    )
    demo.add_argument("--keep", metavar="DIR", help="keep the demo database and files in DIR")
    demo.set_defaults(fn=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.fn(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
