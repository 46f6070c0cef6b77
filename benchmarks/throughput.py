"""Updates per second through the whole bot (handlers, services, database), next to a bare
PTB application that only replies, on the same update mix, in the same run.

    python -m benchmarks.throughput [--wijken 500] [--updates 4000] [--db sqlite|postgresql]

The Bot API is answered in-process (no network): this measures the bot itself. The mix, over
500 wijken: support presses 25%, RSVPs 15%, votes 15%, idea proposals 10%, /ideeen 15%,
/hulp and /wie 10%, private /start and /taal 10%.

Three runs, each also given to the bare application:

* *saturated*: every update queued at once; the most the bot handles per second;
* *paced*: updates arrive at a steady rate (400/s on SQLite, 200/s on PostgreSQL), as a
  busy city would send them; the time from arrival to handled is what a resident waits;
* *half of saturated*: paced at half the saturated rate, the latency residents see when
  the bot is busy but keeps up.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from telegram import Update
from telegram.ext import Application

from benchmarks import databases
from benchmarks.bare import BareBot
from benchmarks.local_api import LocalBotApi
from benchmarks.mix import JSON, TOKEN, Targets, World
from benchmarks.report import Figure, table
from buddybot import app as bot_app
from buddybot.bot.runtime import Deps
from buddybot.clock import SystemClock
from buddybot.settings import Settings
from buddybot.storage.db import Database
from buddybot.storage.models import Idea, Meeting, Membership, Person, Poll, Wijk

# Per database: (saturated updates/s, the rate offered in the paced run), the targets both
# must meet; at the paced rate the arrival-to-handled p99 must stay under P99_TARGET_MS.
TARGETS = {"sqlite": (800.0, 400.0), "postgresql": (400.0, 200.0)}
P99_TARGET_MS = 25.0
PACED_SECONDS = 5
BotApp = Application[Any, Any, Any, Any, Any, Any]


async def _put_all(app: BotApp, objs: list[Update], arrived: dict[int, float]) -> None:
    for u in objs:
        arrived[u.update_id] = time.perf_counter()
        await app.update_queue.put(u)


async def _put_paced(
    app: BotApp, objs: list[Update], arrived: dict[int, float], rate: float
) -> None:
    """Updates arrive at ``rate`` per second, on schedule (a late loop catches up)."""
    start = time.perf_counter()
    for i, u in enumerate(objs):
        due = start + i / rate
        now = time.perf_counter()
        if due > now:
            await asyncio.sleep(due - now)
        arrived[u.update_id] = time.perf_counter()
        await app.update_queue.put(u)


class Timing:
    """When each update arrived and was done (wrapped around the processor)."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.done: dict[int, float] = {}

    def latencies(self, ids: list[int]) -> list[float]:
        return [(self.done[i] - self.arrived[i]) * 1000 for i in ids]


def _timed(app: BotApp, timing: Timing) -> None:
    proc = app.update_processor
    original = proc.do_process_update

    async def timed(update: object, coroutine: Awaitable[Any]) -> None:
        uid = update.update_id if isinstance(update, Update) else None
        try:
            await original(update, coroutine)
        finally:
            if uid is not None:
                timing.done[uid] = time.perf_counter()

    proc.do_process_update = timed  # type: ignore[method-assign]


async def _drive(
    app: BotApp,
    raw: list[JSON],
    done: Callable[[], int],
    wait: Callable[[int], Awaitable[None]],
    timing: Timing,
    rate: float | None = None,
) -> float:
    """Feed updates through the app's queue; returns seconds until all are handled."""
    objs = [Update.de_json(u, app.bot) for u in raw]
    target = done() + len(objs)
    start = time.perf_counter()
    if rate is None:
        await _put_all(app, objs, timing.arrived)
    else:
        await _put_paced(app, objs, timing.arrived, rate)
    await wait(target)
    return time.perf_counter() - start


class Run:
    def __init__(
        self, updates: int, seconds: float, timing: Timing, ids: list[int], cpu: float = 0.0
    ) -> None:
        self.rate = updates / seconds
        self.cpu_ms = cpu / updates * 1000  # this process's CPU per update: robust to noise
        lat = sorted(timing.latencies(ids))
        self.p50 = statistics.median(lat)
        self.p99 = lat[int(len(lat) * 0.99) - 1]


async def run_bare(
    phases: list[tuple[list[JSON], float | None]], bare: BareBot | None = None
) -> list[Run]:
    """The same updates, at the same rates, through a PTB application that only replies."""
    bare = bare or BareBot()
    app = bare.app
    timing = Timing()
    _timed(app, timing)
    runs = []
    async with app:
        await app.start()
        for updates, rate in phases:
            cpu = time.process_time()
            seconds = await _drive(app, updates, lambda: bare.handled, bare.wait, timing, rate)
            cpu = time.process_time() - cpu
            ids = [u["update_id"] for u in updates]
            runs.append(Run(len(updates), seconds, timing, ids, cpu))
        await app.stop()
    return runs


def _seed_residents(db: Database, world: World) -> None:
    """Every resident already known in their wijk: the steady state of a city that uses the
    bot (first contact, which creates the person, is the rare case)."""
    now = datetime.now(UTC)
    with db.transaction() as uow:
        s = uow.session
        known = set(s.scalars(select(Person.tg_user_id)).all())
        people = {p["id"]: p for residents in world.people.values() for p in residents}
        s.execute(
            insert(Person),
            [
                {
                    "tg_user_id": p["id"], "first_name": p["first_name"], "last_name": None,
                    "username": None, "tg_language_code": "nl", "private_ok": False,
                    "erased": False, "created_at": now, "updated_at": now,
                }
                for p in people.values()
                if p["id"] not in known
            ],
        )  # fmt: skip
        person_ids = dict(s.execute(select(Person.tg_user_id, Person.id)).all())
        wijk_ids = dict(s.execute(select(Wijk.tg_chat_id, Wijk.id)).all())
        members = set(s.execute(select(Membership.wijk_id, Membership.person_id)).all())
        s.execute(
            insert(Membership),
            [
                {
                    "wijk_id": wijk_ids[chat_id], "person_id": person_ids[p["id"]],
                    "role": "resident", "left": False, "first_seen_at": now,
                    "last_seen_at": now,
                }
                for chat_id, residents in world.people.items()
                for p in residents
                if (wijk_ids[chat_id], person_ids[p["id"]]) not in members
            ],
        )  # fmt: skip


def _seed_targets(db: Database, world: World) -> Targets:
    """One planned meeting with an announcement card and one open vote over two of its
    ideas in every wijk, written directly (the features' own tests cover making them)."""
    targets = Targets()
    now = datetime.now(UTC)
    with db.transaction() as uow:
        s = uow.session
        rows = s.execute(
            select(Wijk.id, Wijk.tg_chat_id, Idea.id).join(Idea, Idea.wijk_id == Wijk.id)
        )
        wijk_of: dict[int, int] = {}
        for wijk_id, chat_id, idea_id in rows:
            targets.ideas.setdefault(chat_id, []).append(idea_id)
            wijk_of[chat_id] = wijk_id
        if not wijk_of:
            raise RuntimeError("the bot recorded none of the proposed ideas (see errors above)")
        msg = itertools.count(10_000_000)
        s.execute(
            insert(Meeting),
            [
                {
                    "wijk_id": wijk_id, "number": 1, "title": "Buurtavond", "place": "Buurthuis",
                    "details": "", "starts_at": now + timedelta(days=30), "status": "planned",
                    "sequence": 0, "created_at": now, "updated_at": now,
                    "card_chat_id": chat_id, "card_message_id": next(msg),
                }
                for chat_id, wijk_id in wijk_of.items()
            ],
        )  # fmt: skip
        s.execute(
            insert(Poll),
            [
                {
                    "wijk_id": wijk_id, "number": 1, "tg_poll_id": f"bench{chat_id}",
                    "tg_chat_id": chat_id, "message_id": next(msg), "question": "Wat eerst?",
                    "options": [
                        {"text": "A", "idea_id": targets.ideas[chat_id][0]},
                        {"text": "B", "idea_id": targets.ideas[chat_id][1]},
                    ],
                    "counts": [0, 0], "voters": 0, "anonymous": False, "multiple": False,
                    "deadline": now + timedelta(days=7), "status": "open", "created_at": now,
                }
                for chat_id, wijk_id in wijk_of.items()
            ],
        )  # fmt: skip
        meeting_of = dict(s.execute(select(Meeting.wijk_id, Meeting.id)).all())
        for chat_id, wijk_id in wijk_of.items():
            targets.meetings[chat_id] = meeting_of[wijk_id]
            targets.polls[chat_id] = f"bench{chat_id}"
    return targets


async def run_buddybot(
    world: World, saturated_count: int, url: str, paced_rate: float
) -> tuple[list[Run], list[tuple[list[JSON], float | None]], dict[str, int]]:
    """Three phases: saturated; paced at ``paced_rate``; paced at half the saturated rate."""
    databases.fresh(url)
    clock = SystemClock()
    settings = Settings(
        _env_file=None, token=TOKEN, database_url=url,
        messages_per_second=1e9, group_messages_per_minute=1e9, concurrent_updates=64,
        person_group_messages_per_minute=1_000_000_000,  # pacing is off here: so are shares
    )  # fmt: skip
    db = Database.for_settings(settings, clock)
    api = LocalBotApi(world.admins)
    app = bot_app.build_application(Deps.build(settings, db, clock), request=api)
    proc = bot_app.processor(app)
    timing = Timing()
    _timed(app, timing)
    await app.initialize()
    await app.start()
    deps: Deps = app.bot_data.deps
    await deps.admins.start()  # as bot_app.start does
    bot_app.tune_gc()  # as `buddybot run` does
    await _drive(app, world.joins(), lambda: proc.handled_count, proc.wait_count, timing)
    _seed_residents(db, world)
    await _drive(app, world.seed_ideas(3), lambda: proc.handled_count, proc.wait_count, timing)
    targets = _seed_targets(db, world)
    before = dict(api.calls)
    phases: list[tuple[list[JSON], float | None]] = [(world.mix(saturated_count, targets), None)]
    runs: list[Run] = []
    calls: dict[str, int] = {}
    for i in range(3):
        if i == 1:
            phases.append((world.mix(int(paced_rate * PACED_SECONDS), targets), paced_rate))
        elif i == 2:
            half = runs[0].rate / 2
            phases.append((world.mix(int(half * PACED_SECONDS), targets), half))
        updates, rate = phases[i]
        cpu = time.process_time()
        seconds = await _drive(
            app, updates, lambda: proc.handled_count, proc.wait_count, timing, rate
        )
        await deps.wait_background()
        cpu = time.process_time() - cpu
        ids = [u["update_id"] for u in updates]
        runs.append(Run(len(updates), seconds, timing, ids, cpu))
        if i == 0:
            calls = {k: v - before.get(k, 0) for k, v in api.calls.items()}
    await app.stop()
    await deps.admins.stop()
    await app.shutdown()
    await db.dispose()
    return runs, phases, {k: v for k, v in calls.items() if v}


async def measure(db: str, wijken: int, updates: int) -> tuple[list[Figure], dict[str, int]]:
    saturated_target, paced = TARGETS[db]
    url = databases.url_for(db, "bench_throughput")
    world = World(wijken)
    try:
        ours, phases, calls = await run_buddybot(world, updates, url, paced)
    finally:
        databases.drop(url)
    bare = await run_bare(phases)
    half = phases[2][1] or 0.0
    name = f"[{db}]"
    figures = [
        Figure(
            f"{name} buddybot mix over {wijken} wijken, saturated", ours[0].rate, "upd/s",
            reference=bare[0].rate, reference_name="bare", target=f"≥ {saturated_target:.0f}/s",
            passed=ours[0].rate >= saturated_target,
        ),
        Figure(
            f"{name} CPU time per update, saturated", ours[0].cpu_ms, "ms",
            reference=bare[0].cpu_ms, reference_name="bare",
        ),
        Figure(
            f"{name} at {paced:.0f}/s offered: handled", ours[1].rate, "upd/s",
            reference=bare[1].rate, reference_name="bare", target="≥ 0.98× offered",
            passed=ours[1].rate >= 0.98 * paced,
        ),
        Figure(
            f"{name} at {paced:.0f}/s: arrival→handled p50", ours[1].p50, "ms",
            reference=bare[1].p50, reference_name="bare",
        ),
        Figure(
            f"{name} at {paced:.0f}/s: arrival→handled p99", ours[1].p99, "ms",
            reference=bare[1].p99, reference_name="bare", target=f"< {P99_TARGET_MS:.0f} ms",
            passed=ours[1].p99 < P99_TARGET_MS,
        ),
        Figure(
            f"{name} at {half:.0f}/s (half of saturated): p50", ours[2].p50, "ms",
            reference=bare[2].p50, reference_name="bare",
        ),
        Figure(
            f"{name} at {half:.0f}/s (half of saturated): p99", ours[2].p99, "ms",
            reference=bare[2].p99, reference_name="bare",
        ),
    ]  # fmt: skip
    return figures, calls


async def figures(quick: bool = False) -> list[Figure]:
    updates = 2000 if quick else 4000
    out, _ = await measure("sqlite", 500, updates)
    why = databases.pg_unreachable()
    if why is None:
        out += (await measure("postgresql", 500, updates))[0]
    else:
        print(f"throughput on PostgreSQL skipped: {why}")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description="buddybot updates/s next to bare PTB")
    p.add_argument("--wijken", type=int, default=500)
    p.add_argument("--updates", type=int, default=4000)
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = p.parse_args()
    rows, calls = asyncio.run(measure(args.db, args.wijken, args.updates))
    print(table(rows))
    print(f"Bot API calls by buddybot during the saturated run: {dict(sorted(calls.items()))}")


if __name__ == "__main__":
    main()
