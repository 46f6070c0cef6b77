"""The due-work tick on a big database: 100,000 ideas, 10,000 meetings and 1,000 open votes
in 1,000 wijken.

    python -m benchmarks.tick [--db sqlite|postgresql] [--quick] [--plans]

The database holds what a city's year leaves behind: per wijk 10 residents, 100 ideas (each
with a supporter, the next nudge days away), 10 meetings (5 held, their reminders done; 5
coming, with RSVPs and their two reminders and follow-up planned as due items), an open
vote with its closing planned, two alliance partners, the weekly digest, and a week of
handled update ids. The whole tick
(pruning, due items, the nudge hook) is timed with the Bot API answered in-process.

Figures: the tick when nothing is due, next to the same tick on an empty database; and the
tick with 10, 100 and 1,000 due items (half nudges, half meeting reminders, in different
wijken), next to the same due items on a database that holds nothing else, with the cost
per item. Cost that follows the due items and not the database size shows in both ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text, update

from benchmarks import databases, report
from benchmarks.local_api import LocalBotApi
from benchmarks.report import Figure
from buddybot import app as bot_app
from buddybot.bot.runtime import Deps
from buddybot.clock import FakeClock
from buddybot.services import meetings, polls
from buddybot.services.announcements import DIGEST
from buddybot.settings import Settings
from buddybot.storage.db import Database, make_engine
from buddybot.storage.models import (
    DueItem,
    Idea,
    Involvement,
    Meeting,
    Membership,
    Partner,
    Person,
    Poll,
    ProcessedUpdate,
    Rsvp,
    Wijk,
)

TOKEN = "7000000001:bench"
NOW = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # a Wednesday, outside quiet hours
IDLE_TARGET_MS = 20.0
REMIND = 2 * 3600  # the reminder made due: the closer of the two default ones
BATCH = 5000


@dataclass(frozen=True)
class Size:
    wijken: int
    ideas: int  # per wijk
    held: int  # meetings in the past, per wijk
    coming: int  # meetings to come, per wijk
    votes: bool  # an open vote per wijk
    people: int = 10  # residents per wijk
    rsvps: int = 5  # per meeting

    def describe(self) -> str:
        return (
            f"{self.wijken * self.ideas:,} ideas, "
            f"{self.wijken * (self.held + self.coming):,} meetings, "
            f"{self.wijken if self.votes else 0:,} open votes in {self.wijken:,} wijken"
        )


FULL = Size(wijken=1000, ideas=100, held=5, coming=5, votes=True)
QUICK = Size(wijken=250, ideas=40, held=2, coming=2, votes=True)


def _only_due_work(size: Size) -> Size:
    """The reference database: the same wijken and due work, nothing else."""
    return Size(wijken=size.wijken, ideas=1, held=0, coming=2, votes=False)


def _insert(engine: Engine, model: Any, rows: Iterator[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            with engine.begin() as conn:
                conn.execute(insert(model), batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            conn.execute(insert(model), batch)


def _idea_id(size: Size, w: int, number: int) -> int:
    return w * size.ideas + number


def _meeting_id(size: Size, w: int, number: int) -> int:
    return w * (size.held + size.coming) + number


def _seed(engine: Engine, size: Size) -> None:
    """Core inserts, with ids known up front so the rounds below can pick rows."""
    old = NOW - timedelta(days=200)
    per = size.people
    _insert(engine, Wijk, ({
        "id": w + 1, "tg_chat_id": -1_000_000_000_000 - w, "title": f"Wijk {w}",
        "language": "nl", "timezone": "Europe/Amsterdam", "settings": {}, "active": True,
        "created_at": old, "updated_at": old,
    } for w in range(size.wijken)))  # fmt: skip
    _insert(engine, Person, ({
        "id": w * per + p + 1, "tg_user_id": 100_000 + w * per + p, "first_name": f"Bewoner {p}",
        "private_ok": False, "created_at": old, "updated_at": old,
    } for w in range(size.wijken) for p in range(per)))  # fmt: skip
    _insert(engine, Membership, ({
        "wijk_id": w + 1, "person_id": w * per + p + 1, "role": "resident", "left": False,
        "first_seen_at": old, "last_seen_at": old,
    } for w in range(size.wijken) for p in range(per)))  # fmt: skip
    _insert(engine, Partner, ({
        "wijk_id": w + 1, "name": name, "themes": themes, "offer": offer, "contact": "-",
        "created_at": old,
    } for w in range(size.wijken) for name, themes, offer in (
        ("Tuincentrum", ["groen"], "planten en advies voor moestuinen"),
        ("Bibliotheek", ["cultuur"], "ruimte voor een taalcafé en leesclub"),
    )))  # fmt: skip

    def ideas() -> Iterator[dict[str, Any]]:
        for w in range(size.wijken):
            for n in range(1, size.ideas + 1):
                quiet = timedelta(days=1 + n % 5)  # recent activity: no nudge due yet
                yield {
                    "id": _idea_id(size, w, n), "wijk_id": w + 1, "number": n,
                    "title": f"Moestuin {n} van wijk {w}", "description": "",
                    "themes": ["groen"] if n % 2 else ["cultuur"], "author_id": w * per + 1,
                    "status": "proposed", "hidden": False, "created_at": NOW - quiet,
                    "last_activity_at": NOW - quiet, "nudge_level": 0,
                    "nudge_due_at": NOW - quiet + timedelta(days=7),
                }  # fmt: skip

    _insert(engine, Idea, ideas())
    _insert(engine, Involvement, ({
        "idea_id": _idea_id(size, w, n), "person_id": w * per + 1 + n % per,
        "kind": "supporter", "confirmed": True, "created_at": NOW - timedelta(days=2),
    } for w in range(size.wijken) for n in range(1, size.ideas + 1)))  # fmt: skip

    def meeting_rows() -> Iterator[tuple[int, int, datetime, bool]]:
        for w in range(size.wijken):
            for n in range(1, size.held + size.coming + 1):
                held = n <= size.held
                starts = NOW + timedelta(days=(n - size.held) * 7 - (14 if held else 4), hours=8)
                yield w, n, starts, held

    _insert(engine, Meeting, ({
        "id": _meeting_id(size, w, n), "wijk_id": w + 1, "number": n, "title": "Buurtavond",
        "place": "Buurthuis", "details": "", "starts_at": starts,
        "status": "held" if held else meetings.Status.PLANNED.value, "sequence": 0,
        "created_at": starts - timedelta(days=20), "updated_at": starts - timedelta(days=20),
    } for w, n, starts, held in meeting_rows()))  # fmt: skip
    _insert(engine, Rsvp, ({
        "meeting_id": _meeting_id(size, w, n), "person_id": w * per + 1 + r,
        "answer": "yes" if r % 3 else "maybe", "at": starts - timedelta(days=10),
    } for w, n, starts, _ in meeting_rows() for r in range(size.rsvps)))  # fmt: skip

    def due_rows() -> Iterator[dict[str, Any]]:
        for w, n, starts, held in meeting_rows():
            mid = _meeting_id(size, w, n)
            plans = [
                (f"remind:{o}", meetings.REMINDER, starts - timedelta(seconds=o), {"offset": o})
                for o in (24 * 3600, REMIND)
            ]
            plans.append(("followup", meetings.FOLLOWUP, starts + timedelta(hours=3), {}))
            for suffix, kind, at, extra in plans:
                yield {
                    "kind": kind, "key": f"meeting:{mid}:0:{suffix}", "wijk_id": w + 1,
                    "payload": {"meeting": mid, "sequence": 0, **extra}, "due_at": at,
                    "status": "done" if held else "pending", "attempts": 1 if held else 0,
                    "done_at": at if held else None,
                }  # fmt: skip
        for w in range(size.wijken):
            sunday = NOW + timedelta(days=4, hours=5)
            yield {
                "kind": DIGEST, "key": f"digest:{w + 1}:{sunday.date()}", "wijk_id": w + 1,
                "payload": {"wijk": w + 1}, "due_at": sunday, "status": "pending",
                "attempts": 0, "done_at": None,
            }  # fmt: skip
            if size.votes:
                yield {
                    "kind": polls.CLOSE, "key": f"poll:{w + 1}:close", "wijk_id": w + 1,
                    "payload": {"poll": w + 1}, "due_at": NOW + timedelta(days=3),
                    "status": "pending", "attempts": 0, "done_at": None,
                }  # fmt: skip

    _insert(engine, DueItem, due_rows())
    # A week of handled update ids (the tick prunes older ones): 50 per wijk a day.
    handled = size.wijken * 50 * 7
    _insert(engine, ProcessedUpdate, ({
        "update_id": u + 1, "handled_at": NOW - timedelta(days=7) * (u / handled) ,
    } for u in range(handled)))  # fmt: skip
    if size.votes:
        _insert(engine, Poll, ({
            "id": w + 1, "wijk_id": w + 1, "number": 1, "tg_poll_id": f"poll-{w}",
            "tg_chat_id": -1_000_000_000_000 - w, "message_id": 10, "question": "Welk idee?",
            "options": [{"text": f"#{n}", "idea_id": _idea_id(size, w, n)} for n in (1, 2)],
            "counts": [3, 2], "voters": 5, "anonymous": True, "multiple": False,
            "deadline": NOW + timedelta(days=3), "status": "open",
            "created_at": NOW - timedelta(days=1),
        } for w in range(size.wijken)))  # fmt: skip
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("wijk", "person", "idea", "meeting", "poll"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT coalesce(max(id), 1) FROM {table}))")
                )  # fmt: skip
        conn.execute(text("ANALYZE"))


class Slots:
    """Hands out ideas and coming meetings to make due, each wijk's at most once a round
    and never more nudges for a wijk than its daily cap allows."""

    def __init__(self, size: Size) -> None:
        self.size = size
        self.nudged = 0
        self.reminded = 0

    def nudges(self, count: int) -> list[int]:
        found = []
        for _ in range(count):
            w, n = self.nudged % self.size.wijken, 1 + self.nudged // self.size.wijken
            found.append(_idea_id(self.size, w, n))
            self.nudged += 1
        return found

    def reminders(self, count: int) -> list[tuple[int, int]]:
        """(wijk index, meeting id), starting half-way so they are not the nudged wijken."""
        found = []
        for _ in range(count):
            s = self.reminded + self.size.wijken // 2
            w, n = s % self.size.wijken, self.size.held + 1 + s // self.size.wijken
            found.append((w, _meeting_id(self.size, w, n)))
            self.reminded += 1
        return found


def _make_due(engine: Engine, slots: Slots, count: int) -> None:
    """``count`` due items: half ideas due for their first nudge, half meetings starting in
    90 minutes whose 2-hour reminder is due (the day-before one went out yesterday)."""
    ideas = slots.nudges(count // 2)
    coming = slots.reminders(count - count // 2)
    ids = [m for _, m in coming]
    starts = NOW + timedelta(minutes=90)
    with engine.begin() as conn:
        conn.execute(
            update(Idea).where(Idea.id.in_(ideas)).values(nudge_due_at=NOW - timedelta(minutes=1))
        )
        conn.execute(update(Meeting).where(Meeting.id.in_(ids)).values(starts_at=starts))
        conn.execute(
            update(DueItem)
            .where(DueItem.key.in_([f"meeting:{m}:0:remind:{REMIND}" for m in ids]))
            .values(due_at=starts - timedelta(seconds=REMIND))
        )
        conn.execute(
            update(DueItem)
            .where(DueItem.key.in_([f"meeting:{m}:0:remind:{24 * 3600}" for m in ids]))
            .values(status="done", due_at=starts - timedelta(days=1), done_at=NOW)
        )
        conn.execute(
            update(DueItem)
            .where(DueItem.key.in_([f"meeting:{m}:0:followup" for m in ids]))
            .values(due_at=starts + timedelta(hours=3))
        )


class Bench:
    """The real Application on one database, ticked by hand, the Bot API in-process."""

    def __init__(self, url: str) -> None:
        self.clock = FakeClock(NOW)
        settings = Settings(
            _env_file=None, token=TOKEN, database_url=url,
            messages_per_second=1e9, group_messages_per_minute=1e9,
        )  # fmt: skip
        self.db = Database(url, self.clock)
        self.api = LocalBotApi()
        self.app = bot_app.build_application(
            Deps.build(settings, self.db, self.clock), request=self.api
        )

    async def __aenter__(self) -> Bench:
        await self.app.initialize()
        await self.app.bot_data.deps.admins.start()  # as bot_app.start does
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.bot_data.deps.admins.stop()
        await self.app.shutdown()
        await self.db.dispose()

    async def tick(self) -> tuple[float, int]:
        """(milliseconds, items claimed) of one whole tick."""
        start = time.perf_counter()
        claimed = await bot_app.run_tick(self.app.bot, self.app.bot_data.deps)
        return (time.perf_counter() - start) * 1000, claimed


@dataclass
class Run:
    """One database: the idle tick, and per round size the median tick and items sent."""

    idle: float = 0.0
    rounds: dict[int, float] = field(default_factory=dict)
    sent: dict[int, int] = field(default_factory=dict)
    seeded: float = 0.0


ROUNDS = {10: 5, 100: 3, 1000: 1}  # due items per round: repetitions (each new items)
QUICK_ROUNDS = {10: 3, 100: 2}


class Subject:
    """A database under test (None: left empty) with the bot on it."""

    def __init__(self, url: str, size: Size | None) -> None:
        self.url, self.size = url, size
        self.engine = make_engine(url)
        self.slots = Slots(size) if size else None
        self.bench = Bench(url)
        self.run = Run()
        self.times: dict[int, list[float]] = {}

    async def __aenter__(self) -> Subject:
        databases.fresh(self.url)
        if self.size is not None:
            started = time.perf_counter()
            _seed(self.engine, self.size)
            self.run.seeded = time.perf_counter() - started
        await self.bench.__aenter__()
        await self.bench.tick()  # warm: statement caches, the first connection
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bench.__aexit__()
        self.engine.dispose()
        databases.drop(self.url)

    async def due_round(self, count: int) -> None:
        assert self.slots is not None
        _make_due(self.engine, self.slots, count)
        before = self.bench.api.calls.get("sendMessage", 0)
        ms, claimed = await self.bench.tick()
        if claimed != count:
            raise RuntimeError(f"made {count} due, the tick claimed {claimed}")
        self.times.setdefault(count, []).append(ms)
        self.run.sent[count] = self.run.sent.get(count, 0) + (
            self.bench.api.calls.get("sendMessage", 0) - before
        )


async def measure(db: str, quick: bool) -> tuple[Size, Run, Run, float]:
    """The three databases side by side; their ticks alternate, so a busy machine weighs
    on each the same."""
    size = QUICK if quick else FULL
    rounds = QUICK_ROUNDS if quick else ROUNDS
    async with (
        Subject(databases.url_for(db, "bench_tick_empty"), None) as empty,
        Subject(databases.url_for(db, "bench_tick"), size) as big,
        Subject(databases.url_for(db, "bench_tick_small"), _only_due_work(size)) as small,
    ):
        idle: dict[Subject, list[float]] = {empty: [], big: [], small: []}
        for _ in range(15):
            for subject, found in idle.items():
                found.append((await subject.bench.tick())[0])
        for subject, found in idle.items():
            subject.run.idle = statistics.median(found)
        for subject in (big, small):  # first delivery: catalogs, date formats, stems
            await subject.due_round(10)
            subject.times.clear()
            subject.run.sent.clear()
        for count, reps in rounds.items():
            for _ in range(reps):
                await big.due_round(count)
                await small.due_round(count)
        for subject in (big, small):
            subject.run.rounds = {c: statistics.median(t) for c, t in subject.times.items()}
        return size, big.run, small.run, empty.run.idle


def to_figures(db: str, size: Size, big: Run, small: Run, empty: float) -> list[Figure]:
    name = f"tick [{db}]"
    rows = [
        Figure(
            f"{name}: nothing due, {size.describe()}", big.idle, "ms", empty, "ms empty db",
            f"< {IDLE_TARGET_MS:.0f} ms", big.idle < IDLE_TARGET_MS,
        ),
    ]  # fmt: skip
    for count in big.rounds:
        per_big = (big.rounds[count] - big.idle) / count
        per_small = (small.rounds[count] - small.idle) / count
        rows.append(Figure(
            f"{name}: {count} due (½ nudges, ½ reminders)", big.rounds[count], "ms",
            small.rounds[count], "ms only due work",
        ))  # fmt: skip
        rows.append(Figure(
            f"{name}: {count} due, per item", per_big, "ms", per_small, "ms only due work",
        ))  # fmt: skip
    return rows


async def figures(quick: bool = False) -> list[Figure]:
    rows: list[Figure] = []
    dbs = ["sqlite"]
    why = databases.pg_unreachable()
    if why is None:
        dbs.append("postgresql")
    for db in dbs:
        rows += to_figures(db, *await measure(db, quick))
    if why is not None:
        rows.append(Figure(f"tick [postgresql]: not measured, {why}", 0, ""))
    return rows


def _plans(db: str) -> list[str]:
    """The query plans of the two claims, on the big database."""
    url = databases.url_for(db, "bench_tick_plans")
    databases.fresh(url)
    engine = make_engine(url)
    _seed(engine, QUICK)
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
    with engine.connect() as conn:
        for name, sql in (("nudge claim", nudge_sql), ("due-item claim", due_sql)):
            rows = conn.execute(text(prefix + sql), {"now": now}).all()
            lines.append(f"{name}:")
            lines += ["    " + " ".join(str(c) for c in row) for row in rows]
    engine.dispose()
    databases.drop(url)
    return lines


async def main_async(args: argparse.Namespace) -> None:
    if args.db == "postgresql" and (why := databases.pg_unreachable()):
        raise SystemExit(why)
    size, big, small, empty = await measure(args.db, args.quick)
    print(f"database: {args.db}; {size.describe()} (seeded in {big.seeded:.1f} s)")
    print(f"messages sent per round: {big.sent}")
    print(report.table(to_figures(args.db, size, big, small, empty)))
    if args.plans:
        print("query plans:")
        for line in _plans(args.db):
            print("  " + line)


def main() -> None:
    p = argparse.ArgumentParser(description="the due-work tick on a big database")
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--quick", action="store_true", help="a smaller database, fewer rounds")
    p.add_argument("--plans", action="store_true", help="also print the claims' query plans")
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
