"""Resident memory of the bot after start-up and after one busy minute on a city-sized
database (100,000 ideas, 10,000 meetings, 1,000 open votes in 1,000 wijken).

    python -m benchmarks.memory [--seconds 60] [--rate 100]

Each measurement runs in a fresh child process, so nothing of the parent (or of the other
benchmarks) is counted. The busy minute: the update mix of ``benchmarks.throughput`` at
``--rate`` updates/s, and the due-work tick every second. The Bot API is answered
in-process. Reference: a bare PTB application that only replies, given the same minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.report import Figure, table

# Nothing heavy at module level: the children import this module, and what it imports
# would count against their memory.

TARGET_MB = 150.0


def rss_mb() -> tuple[float, float]:
    """(resident now, peak resident) of this process, from /proc."""
    fields: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


async def _child(
    kind: str, url: str, seconds: float, rate: float, start: datetime
) -> dict[str, float]:
    # Only what each kind needs is imported: the bare reference must not carry buddybot.
    from telegram import Update

    from benchmarks.mix import TOKEN, Targets, World

    world = World(1000)
    tick: Callable[[], Awaitable[object]] | None = None
    if kind == "bare":
        from benchmarks.bare import BareBot

        bare = BareBot()
        app: Any = bare.app
        await app.initialize()
        await app.start()
        targets = Targets()
    else:
        from benchmarks.local_api import LocalBotApi
        from buddybot import app as bot_app
        from buddybot.bot.runtime import Deps
        from buddybot.settings import Settings
        from buddybot.storage.db import Database

        # The city was seeded around the tick benchmark's fixed moment (``start``); time
        # runs on from there, so the city's votes are not all overdue at once.
        clock = _RunningFrom(start)
        settings = Settings(_env_file=None, token=TOKEN, database_url=url)
        db = Database.for_settings(settings, clock)
        app = bot_app.build_application(
            Deps.build(settings, db, clock), request=LocalBotApi(world.admins)
        )
        await app.initialize()
        await app.start()
        deps: Deps = app.bot_data.deps
        await deps.admins.start()  # as bot_app.start does
        bot_app.tune_gc()  # as `buddybot run` does
        started, _ = rss_mb()
        targets = _targets(db)

        def tick() -> Awaitable[object]:
            return bot_app.run_tick(app.bot, deps)

    if kind == "bare":
        started, _ = rss_mb()
    raw = world.mix(int(seconds * rate), targets)
    begin = time.perf_counter()
    next_tick = begin + 1
    for i, data in enumerate(raw):
        due = begin + i / rate
        now = time.perf_counter()
        if due > now:
            await asyncio.sleep(due - now)
        await app.update_queue.put(Update.de_json(data, app.bot))
        if tick is not None and now >= next_tick:
            next_tick = now + 1
            await tick()
    if kind == "bare":
        await bare.wait(len(raw))
    else:
        await bot_app.processor(app).wait_count(len(raw))
        await deps.wait_background()
    busy, peak = rss_mb()
    await app.stop()
    if kind != "bare":
        await deps.admins.stop()
    await app.shutdown()
    return {"start": started, "busy": busy, "peak": peak}


class _RunningFrom:
    """A clock that starts at ``start`` and runs at real speed."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


def _targets(db: Any) -> Any:
    """Ideas, meetings and votes residents can press on, from the seeded database."""
    from sqlalchemy import select

    from benchmarks.mix import Targets
    from buddybot.storage.models import Idea, Meeting, Poll, Wijk

    targets = Targets()
    with db.transaction() as uow:
        s = uow.session
        rank = (
            select(Wijk.tg_chat_id, Idea.id)
            .join(Idea, Idea.wijk_id == Wijk.id)
            .where(Idea.number <= 5)
        )
        for chat_id, idea_id in s.execute(rank):
            targets.ideas.setdefault(chat_id, []).append(idea_id)
        meetings = select(Wijk.tg_chat_id, Meeting.id).join(Meeting, Meeting.wijk_id == Wijk.id)
        for chat_id, meeting_id in s.execute(meetings.where(Meeting.status == "planned")):
            targets.meetings[chat_id] = meeting_id
        polls = select(Wijk.tg_chat_id, Poll.tg_poll_id).join(Poll, Poll.wijk_id == Wijk.id)
        for chat_id, tg_poll_id in s.execute(polls.where(Poll.status == "open")):
            if tg_poll_id:
                targets.polls[chat_id] = tg_poll_id
    return targets


def _run_child(
    kind: str, url: str, seconds: float, rate: float, start: datetime
) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--child", kind, "--url", url,
         "--seconds", str(seconds), "--rate", str(rate), "--start", start.isoformat()],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


async def measure(seconds: float, rate: float) -> list[Figure]:
    from benchmarks import databases, tick
    from buddybot.storage.db import make_engine

    url = databases.url_for("sqlite", "bench_memory")
    databases.fresh(url)
    engine = make_engine(url)
    tick._seed(engine, tick.FULL)  # the tick benchmark's city
    engine.dispose()
    # Side by side: the bare reference barely uses the CPU, and the minute is paced.
    ours, bare = await asyncio.gather(
        asyncio.to_thread(_run_child, "buddybot", url, seconds, rate, tick.NOW),
        asyncio.to_thread(_run_child, "bare", url, seconds, rate, tick.NOW),
    )
    databases.drop(url)
    minute = f"{seconds:.0f} s at {rate:.0f} upd/s"
    return [
        Figure(
            "RSS after start-up (city database)", ours["start"], "MB",
            reference=bare["start"], reference_name="bare PTB",
            target=f"< {TARGET_MB:.0f} MB", passed=ours["start"] < TARGET_MB,
        ),
        Figure(
            f"RSS after a busy minute ({minute})", ours["busy"], "MB",
            reference=bare["busy"], reference_name="bare PTB",
            target=f"< {TARGET_MB:.0f} MB", passed=ours["busy"] < TARGET_MB,
        ),
        Figure(
            "peak RSS during that minute", ours["peak"], "MB",
            reference=bare["peak"], reference_name="bare PTB",
        ),
    ]  # fmt: skip


async def figures(quick: bool = False) -> list[Figure]:
    return await measure(15 if quick else 60, 100)


def main() -> None:
    p = argparse.ArgumentParser(description="resident memory after start-up and a busy minute")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--rate", type=float, default=100)
    p.add_argument("--child", choices=["buddybot", "bare"])
    p.add_argument("--url")
    p.add_argument("--start", type=datetime.fromisoformat, help="the city's moment (child)")
    args = p.parse_args()
    if args.child:
        child = _child(args.child, args.url, args.seconds, args.rate, args.start)
        print(json.dumps(asyncio.run(child)))
        return
    print(table(asyncio.run(measure(args.seconds, args.rate))))


if __name__ == "__main__":
    main()
