"""The due-work tick on a big database: 100,000 ideas in 1,000 wijken.

    python -m benchmarks.tick [--db sqlite|postgresql] [--ideas 100000] [--wijken 1000]

Prints the time of a whole tick (due items, nudges, pruning) when nothing is due and when
1,000 ideas are due for a nudge, next to a tick on an empty database measured in the same
run, and the query plans of the two claim queries. The Bot API is answered in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.local_api import LocalBotApi
from buddybot import app as bot_app
from buddybot.bot.runtime import Deps
from buddybot.bot.tick import run_tick
from buddybot.clock import FakeClock
from buddybot.settings import Settings
from buddybot.storage.db import Database, make_engine
from buddybot.storage.migrate import upgrade
from buddybot.storage.models import Idea, Wijk
from handlers import register

TOKEN = "7000000001:bench"
NOW = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # a Wednesday, outside quiet hours


async def _fresh(url: str) -> None:
    if url.startswith("postgresql"):
        admin = make_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()


async def _seed(engine: AsyncEngine, wijken: int, ideas: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(Wijk),
            [
                {
                    "tg_chat_id": -1_000_000_000_000 - w,
                    "title": f"Wijk {w}",
                    "language": "nl",
                    "timezone": "Europe/Amsterdam",
                    "settings": {"digest": False},
                    "active": True,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for w in range(wijken)
            ],
        )
    per = ideas // wijken if wijken else 0
    batch: list[dict[str, Any]] = []
    for w in range(wijken):
        for n in range(per):
            quiet_for = timedelta(days=1 + (n % 5))  # recent activity: nothing due yet
            batch.append(
                {
                    "wijk_id": w + 1,
                    "number": n + 1,
                    "title": f"Idee {n} van wijk {w}",
                    "description": "",
                    "themes": [],
                    "status": "proposed",
                    "hidden": False,
                    "created_at": NOW - quiet_for,
                    "last_activity_at": NOW - quiet_for,
                    "nudge_level": 0,
                    "nudge_due_at": NOW - quiet_for + timedelta(days=7),
                }
            )
            if len(batch) >= 5000:
                async with engine.begin() as conn:
                    await conn.execute(insert(Idea), batch)
                batch = []
    if batch:
        async with engine.begin() as conn:
            await conn.execute(insert(Idea), batch)


async def _make_due(engine: AsyncEngine, count: int, wijken: int) -> None:
    """``count`` ideas spread over the wijken become due for their first nudge."""
    per = max(1, count // wijken)
    async with engine.begin() as conn:
        await conn.execute(
            update(Idea).where(Idea.number <= per).values(nudge_due_at=NOW - timedelta(minutes=1))
        )


async def _plans(engine: AsyncEngine) -> list[str]:
    lines: list[str] = []
    pg = engine.dialect.name == "postgresql"
    nudge_sql = (
        "SELECT idea.id FROM idea JOIN wijk ON wijk.id = idea.wijk_id "
        "WHERE idea.nudge_due_at <= :now AND idea.hidden = false "
        "AND idea.status IN ('proposed','selected','in_progress') AND wijk.active = true "
        "ORDER BY idea.nudge_due_at LIMIT 200"
    )
    due_sql = (
        "SELECT id FROM due_item WHERE (status = 'pending' AND due_at <= :now) "
        "OR (status = 'claimed' AND lease_until < :now) ORDER BY due_at LIMIT 200"
    )
    prefix = "EXPLAIN " if pg else "EXPLAIN QUERY PLAN "
    now = NOW if pg else NOW.replace(tzinfo=None)
    async with engine.connect() as conn:
        for name, sql in (("nudge claim", nudge_sql), ("due-item claim", due_sql)):
            rows = (await conn.execute(text(prefix + sql), {"now": now})).all()
            lines.append(f"{name}:")
            lines += ["    " + " ".join(str(c) for c in row) for row in rows]
    return lines


async def _ticks(url: str, rounds: int) -> list[float]:
    clock = FakeClock(NOW)
    settings = Settings(
        _env_file=None, token=TOKEN, database_url=url,
        messages_per_second=1e9, group_messages_per_minute=1e9,
    )  # fmt: skip
    db = Database(url, clock)
    api = LocalBotApi()
    app = bot_app.build_application(Deps.build(settings, db, clock), register, request=api)
    await app.initialize()
    deps: Deps = app.bot_data["deps"]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await run_tick(app.bot, deps)
        times.append((time.perf_counter() - start) * 1000)
    await app.shutdown()
    await db.dispose()
    return times


async def main_async(args: argparse.Namespace) -> None:
    if args.db == "sqlite":
        folder = Path(tempfile.mkdtemp())
        url = f"sqlite+aiosqlite:///{folder / 'tick.db'}"
        empty_url = f"sqlite+aiosqlite:///{folder / 'empty.db'}"
    else:
        base = os.environ.get("BUDDYBOT_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1")
        url, empty_url = f"{base}/bench_tick", f"{base}/bench_tick_empty"
    await _fresh(empty_url)
    await _fresh(url)
    engine = make_engine(url)
    started = time.perf_counter()
    await _seed(engine, args.wijken, args.ideas)
    seeded = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
    reference = await _ticks(empty_url, 5)
    idle = await _ticks(url, 5)
    plans = await _plans(engine)
    await _make_due(engine, 1000, args.wijken)
    busy = await _ticks(url, 1)
    after = await _ticks(url, 3)
    await engine.dispose()
    print(f"database: {args.db}; {args.ideas} ideas in {args.wijken} wijken")
    print(f"(seeded in {seeded:.1f} s)")
    print(f"{'tick on an empty database (reference)':<44}{statistics.median(reference):>9.1f} ms")
    print(f"{'tick, nothing due':<44}{statistics.median(idle):>9.1f} ms")
    ratio = statistics.median(idle) / statistics.median(reference)
    print(f"{'ratio nothing due / empty':<44}{ratio:>9.2f}")
    print(f"{'tick, 1000 ideas due (nudged)':<44}{busy[0]:>9.1f} ms")
    print(f"{'tick after that, nothing due':<44}{statistics.median(after):>9.1f} ms")
    print("query plans:")
    for line in plans:
        print("  " + line)


def main() -> None:
    p = argparse.ArgumentParser(description="the due-work tick on a big database")
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--ideas", type=int, default=100_000)
    p.add_argument("--wijken", type=int, default=1000)
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
