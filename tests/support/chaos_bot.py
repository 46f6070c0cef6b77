"""The bot as a separate process for the restart chaos test.

``python -m tests.support.chaos_bot --db URL --api API_BASE --files FILE_BASE --clock PATH``

Builds the real Application (as :class:`buddybot.stage.Stage` does), long-polls fakegram
and runs ``run_tick`` every ~50 ms in its own loop. Time comes from :class:`FileClock`:
the test moves it by rewriting the clock file (temp file + ``os.replace``). Prints
``ready`` on stdout once polling has started. Meant to be killed with SIGKILL.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from buddybot import app as bot_app
from buddybot.bot.runtime import Deps
from buddybot.settings import Settings
from buddybot.stage import TOKEN
from buddybot.storage.db import Database

CLAIM_LEASE = timedelta(minutes=1)  # fake time; the test moves the clock well past it


class FileClock:
    """``now()`` is the ISO timestamp in a file the test rewrites atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        when = datetime.fromisoformat(self.path.read_text().strip())
        if when.tzinfo is None:
            raise ValueError("the clock file needs an aware timestamp")
        return when.astimezone(UTC)


def write_clock(path: Path, when: datetime) -> None:
    """Set the time of every bot process that reads ``path`` (atomic for readers)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(when.astimezone(UTC).isoformat())
    os.replace(tmp, path)


def settings_for(db_url: str, api: str, files: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        token=TOKEN,
        database_url=db_url,
        api_base_url=api,
        api_file_url=files,
        tick_seconds=timedelta(days=365),  # ticked by our own loop below
        claim_lease=CLAIM_LEASE,
        poll_timeout=timedelta(seconds=1),
        messages_per_second=10_000,
        group_messages_per_minute=100_000,
        person_group_messages_per_minute=100_000,  # pacing is off here: so are shares
        send_retries=2,
        concurrent_updates=16,
        migrate_on_start=False,
    )


async def run(args: argparse.Namespace) -> None:

    clock = FileClock(Path(args.clock))
    settings = settings_for(args.db, args.api, args.files)
    db = Database(settings.database_url, clock)
    deps = Deps.build(settings, db, clock)
    app = bot_app.build_application(deps)
    await bot_app.start(app, polling=True)
    print("ready", flush=True)
    log = logging.getLogger("chaos_bot")
    while True:
        try:
            await bot_app.run_tick(app.bot, deps)
        except Exception:
            log.exception("tick failed")
        await asyncio.sleep(args.tick_interval)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.chaos_bot")
    parser.add_argument("--db", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--files", required=True)
    parser.add_argument("--clock", required=True)
    parser.add_argument("--tick-interval", type=float, default=0.05)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"
    )
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
