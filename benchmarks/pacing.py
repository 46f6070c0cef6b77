"""Outbound pacing against Telegram's real limits: due nudges and meeting reminders, one per
wijk, delivered by the real bot over HTTP to fakegram enforcing 30 messages/s overall and
20/min per group.

    python -m benchmarks.pacing [--messages 1000] [--db sqlite|postgresql]

fakegram runs as its own process (as Telegram would: the bot's event loop does not stamp
the server's clock). The bot is the real Application with PTB's AIORateLimiter configured
from the default settings (30/s, 20/min per group), and the real due-work tick (due items
and the nudge hook). The tick's clock is fixed (a FakeClock on a Wednesday 11:00, outside
quiet hours); the rate limiter and fakegram run in real time. The reference is the
theoretical minimum: messages / 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select

from benchmarks import databases, report
from benchmarks.report import Figure
from buddybot import app as bot_app
from buddybot.bot.runtime import Deps
from buddybot.clock import FakeClock
from buddybot.fakegram import FakegramClient
from buddybot.services import meetings
from buddybot.settings import Settings
from buddybot.storage.db import Database, make_engine
from buddybot.storage.models import DueItem, Idea, Meeting, Nudge, Wijk

TOKEN = "7000000001:pacing"
NOW = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # a Wednesday, outside quiet hours
TELEGRAM_PER_SECOND = 30  # what fakegram enforces, and Telegram publishes
TARGET_RATIO = 1.15
REMINDER_OFFSET = 2 * 3600  # the closest default reminder: no closer one to skip it for


class Fakegram:
    """``python -m buddybot.fakegram --enforce-flood-limits`` in its own process."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""

    async def __aenter__(self) -> Fakegram:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "buddybot.fakegram", "--port", str(port),
            "--token", TOKEN, "--enforce-flood-limits",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = (await asyncio.wait_for(self.proc.stdout.readline(), 30)).decode()
        if "listening on" not in line:
            raise RuntimeError(f"fakegram did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[1].strip()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()


async def _groups(tg: FakegramClient, count: int) -> list[int]:
    admin = await tg.create_user("Fatima", username="fatima")
    chats: list[int] = []
    for start in range(0, count, 50):
        batch = range(start, min(count, start + 50))
        made = await asyncio.gather(*(tg.create_group(f"Wijk {i}", creator=admin) for i in batch))
        await asyncio.gather(*(tg.add_bot(c, by=admin, admin=True) for c in made))
        chats += made
    return chats


def _seed(engine: Engine, chats: list[int], nudged: int) -> None:
    """One wijk per chat; the first ``nudged`` wijken have one idea due for its first nudge,
    the others a meeting whose 2-hour reminder is due."""
    with engine.begin() as conn:
        conn.execute(
            insert(Wijk),
            [
                {
                    "id": w + 1,
                    "tg_chat_id": chat,
                    "title": f"Wijk {w}",
                    "language": "nl",
                    "timezone": "Europe/Amsterdam",
                    "settings": {"digest": False},
                    "active": True,
                    "created_at": NOW - timedelta(days=60),
                    "updated_at": NOW - timedelta(days=60),
                }
                for w, chat in enumerate(chats)
            ],
        )
        quiet = NOW - timedelta(days=8)
        conn.execute(
            insert(Idea),
            [
                {
                    "wijk_id": w + 1,
                    "number": 1,
                    "title": f"Moestuin in wijk {w}",
                    "description": "",
                    "themes": ["groen"],
                    "status": "proposed",
                    "hidden": False,
                    "created_at": quiet,
                    "last_activity_at": quiet,
                    "nudge_level": 0,
                    "nudge_due_at": quiet + timedelta(days=7),
                }
                for w in range(nudged)
            ],
        )
        met = range(nudged, len(chats))
        starts = NOW + timedelta(minutes=90)
        conn.execute(
            insert(Meeting),
            [
                {
                    "id": w + 1,
                    "wijk_id": w + 1,
                    "number": 1,
                    "title": "Buurtavond",
                    "place": "Buurthuis",
                    "details": "",
                    "starts_at": starts,
                    "status": meetings.Status.PLANNED.value,
                    "sequence": 0,
                    "created_at": NOW - timedelta(days=10),
                    "updated_at": NOW - timedelta(days=10),
                }
                for w in met
            ],
        )
        conn.execute(
            insert(DueItem),
            [
                {
                    "kind": meetings.REMINDER,
                    "key": f"meeting:{w + 1}:0:remind:{REMINDER_OFFSET}",
                    "wijk_id": w + 1,
                    "payload": {"meeting": w + 1, "sequence": 0, "offset": REMINDER_OFFSET},
                    "due_at": starts - timedelta(seconds=REMINDER_OFFSET),
                    "status": "pending",
                    "attempts": 0,
                }
                for w in met
            ],
        )


def _busiest_second(stamps: list[float]) -> int:
    """The most messages fakegram accepted in any one-second window."""
    stamps = sorted(stamps)
    most, lo = 0, 0
    for hi, at in enumerate(stamps):
        while stamps[lo] <= at - 1.0:
            lo += 1
        most = max(most, hi - lo + 1)
    return most


async def measure(messages: int, db: str) -> dict[str, Any]:
    url = databases.url_for(db, "bench_pacing")
    databases.fresh(url)
    async with Fakegram() as fg, FakegramClient(fg.url) as tg:
        chats = await _groups(tg, messages)
        engine = make_engine(url)
        _seed(engine, chats, messages // 2)
        engine.dispose()
        settings = Settings(
            _env_file=None, token=TOKEN, database_url=url,
            api_base_url=f"{fg.url}/bot", api_file_url=f"{fg.url}/file/bot",
            tick_seconds=timedelta(days=365), migrate_on_start=False,
        )  # fmt: skip  # Telegram's limits and the tick settings are the defaults
        clock = FakeClock(NOW)
        database = Database(url, clock)
        app = bot_app.build_application(Deps.build(settings, database, clock))
        await bot_app.start(app, polling=False)  # the joins queued by fakegram stay unread
        deps: Deps = app.bot_data.deps
        started = time.perf_counter()
        claimed = await bot_app.run_tick(app.bot, deps)
        elapsed = time.perf_counter() - started
        await bot_app.stop(app)
        calls = await tg.calls()
        with database.transaction() as uow:
            nudges = int(uow.session.scalar(select(func.count()).select_from(Nudge)) or 0)
            by_status = select(DueItem.status, func.count()).group_by(DueItem.status)
            states = dict(uow.session.execute(by_status).all())
        await database.dispose()
    databases.drop(url)
    sent = [c for c in calls if c["method"].lower() == "sendmessage" and c["ok"]]
    per_chat = Counter(int(c["params"]["chat_id"]) for c in sent)
    return {
        "messages": messages,
        "claimed": claimed,
        "delivered": len(sent),
        "each_once": set(per_chat) == set(chats) and set(per_chat.values()) == {1},
        "too_many": sum(1 for c in calls if c["error_code"] == 429),
        "elapsed": elapsed,
        "busiest": _busiest_second([float(c["at"]) for c in sent]),
        "nudges": nudges,
        "reminders_done": int(states.get("done", 0)),
    }


def to_figures(m: dict[str, Any]) -> list[Figure]:
    n = m["messages"]
    minimum = n / TELEGRAM_PER_SECOND
    complete = (
        m["delivered"] == n
        and m["each_once"]
        and m["nudges"] == n // 2
        and m["reminders_done"] == n - n // 2
    )
    return [
        Figure(
            f"pacing: messages delivered ({n // 2} nudges, {n - n // 2} reminders)",
            m["delivered"], "", n, "due", f"all, once each (= {n})", complete,
        ),
        Figure("pacing: 429 answers from fakegram", m["too_many"], "", target="0",
               passed=m["too_many"] == 0),
        Figure(
            f"pacing: time to deliver {n}", m["elapsed"], "s", minimum, f"s minimum ({n}/30)",
            f"≤ {TARGET_RATIO}× minimum", m["elapsed"] <= TARGET_RATIO * minimum,
        ),
        Figure("pacing: most messages in any 1 s", m["busiest"], "", TELEGRAM_PER_SECOND,
               "Telegram's cap"),
    ]  # fmt: skip


async def figures(quick: bool = False) -> list[Figure]:
    return to_figures(await measure(300 if quick else 1000, "sqlite"))


def main() -> None:
    p = argparse.ArgumentParser(description="outbound pacing against Telegram's flood limits")
    p.add_argument("--messages", type=int, default=1000, help="due items, half nudges")
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = p.parse_args()
    print(report.table(to_figures(asyncio.run(measure(args.messages, args.db)))))


if __name__ == "__main__":
    main()
