"""Updates per second through the whole bot (handlers, services, database), next to a bare
PTB application that only replies, on the same update mix, in the same run.

    python -m benchmarks.throughput [--groups 200] [--updates 3000] [--db sqlite|postgresql]

The Bot API is answered in-process (no network): this measures the bot itself. The mix:
support-button presses 30%, idea proposals 10%, /hulp 15%, /wie 15%, /ideeen 10%,
/taal (private) 10%, /start (private) 10%.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from benchmarks.local_api import BOT, LocalBotApi
from buddybot import app as bot_app
from buddybot.bot.runtime import Deps
from buddybot.clock import SystemClock
from buddybot.fakegram import shapes
from buddybot.settings import Settings
from buddybot.storage.db import Database, make_engine
from buddybot.storage.migrate import upgrade
from buddybot.storage.models import Idea, Wijk
from handlers import register

TOKEN = "7000000001:bench"
JSON = dict[str, Any]
WORDS = [
    "moestuin", "speeltuin", "bankje", "bloembak", "buurtfeest", "fietsenrek", "boekenkast",
    "zebrapad", "kerstmarkt", "jeu de boules", "repair cafe", "geveltuin", "hondenveld",
    "picknicktafel", "muurschildering", "waterpunt", "zonnepanelen", "buurtbus",
]  # fmt: skip


class World:
    """Groups with residents; builds the updates residents send."""

    def __init__(self, groups: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.now = int(time.time())
        self.ids = itertools.count(1)
        self.msg_ids = itertools.count(1)
        self.people: dict[int, list[JSON]] = {}
        self.admins: dict[int, list[int]] = {}
        uid = itertools.count(100_000)
        for g in range(groups):
            chat_id = -1_000_000_000_000 - g
            self.people[chat_id] = [
                shapes.user(next(uid), f"Bewoner{g}_{i}", language_code="nl") for i in range(8)
            ]
            self.admins[chat_id] = [self.people[chat_id][0]["id"]]

    def _chat(self, chat_id: int) -> JSON:
        return shapes.chat(chat_id, "supergroup", title=f"Wijk {chat_id}")

    def joins(self) -> list[JSON]:
        out = []
        for chat_id, people in self.people.items():
            cmu = shapes.chat_member_updated(
                self._chat(chat_id), people[0], self.now,
                shapes.chat_member(BOT, "left"), shapes.chat_member(BOT, "administrator"),
            )  # fmt: skip
            out.append(shapes.update(next(self.ids), "my_chat_member", cmu))
        return out

    def command(self, chat_id: int, person: JSON, text: str, private: bool = False) -> JSON:
        chat = (
            shapes.chat(person["id"], "private", first_name=person["first_name"])
            if private
            else self._chat(chat_id)
        )
        word = text.split()[0]
        msg = shapes.message(
            next(self.msg_ids), self.now, chat, from_user=person, text=text,
            entities=[{"type": "bot_command", "offset": 0, "length": len(word)}],
        )  # fmt: skip
        return shapes.update(next(self.ids), "message", msg)

    def press(self, chat_id: int, person: JSON, data: str) -> JSON:
        msg = shapes.message(next(self.msg_ids), self.now, self._chat(chat_id), from_user=BOT,
                             text="💡 card")  # fmt: skip
        query = shapes.callback_query(
            str(next(self.ids)), person, f"ci{chat_id}", msg=msg, data=data
        )
        return shapes.update(next(self.ids), "callback_query", query)

    def proposal(self, chat_id: int, person: JSON) -> JSON:
        title = " ".join(self.rng.sample(WORDS, 3)) + f" {self.rng.randrange(10**6)}"
        return self.command(chat_id, person, f"/idee {title}")

    def seed_ideas(self, per_group: int) -> list[JSON]:
        return [
            self.proposal(chat_id, self.rng.choice(people))
            for chat_id, people in self.people.items()
            for _ in range(per_group)
        ]

    def mix(self, count: int, ideas: dict[int, list[int]]) -> list[JSON]:
        out = []
        chats = list(self.people)
        for _ in range(count):
            chat_id = self.rng.choice(chats)
            person = self.rng.choice(self.people[chat_id])
            roll = self.rng.random()
            if roll < 0.30 and ideas.get(chat_id):
                out.append(self.press(chat_id, person, f"1:sup:{self.rng.choice(ideas[chat_id])}"))
            elif roll < 0.40:
                out.append(self.proposal(chat_id, person))
            elif roll < 0.55:
                out.append(self.command(chat_id, person, "/hulp"))
            elif roll < 0.70:
                out.append(self.command(chat_id, person, "/wie"))
            elif roll < 0.80:
                out.append(self.command(chat_id, person, "/ideeen"))
            elif roll < 0.90:
                lang = self.rng.choice(["nl", "en"])
                out.append(self.command(chat_id, person, f"/taal {lang}", private=True))
            else:
                out.append(self.command(chat_id, person, "/start", private=True))
        return out


async def _drive(
    app: Application[Any, Any, Any, Any, Any, Any],
    raw: list[JSON],
    done: Callable[[], int],
    wait: Callable[[int], Awaitable[None]],
) -> float:
    """Feed updates through the app's queue as fast as it takes them; returns seconds."""
    objs = [Update.de_json(u, app.bot) for u in raw]
    start = time.perf_counter()
    target = done() + len(objs)
    for u in objs:
        await app.update_queue.put(u)
    await wait(target)
    return time.perf_counter() - start


async def run_bare(updates: list[JSON]) -> float:
    handled = 0
    changed = asyncio.Condition()

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal handled
        if update.callback_query is not None:
            await update.callback_query.answer("ok")
        elif update.effective_message is not None:
            await update.effective_message.reply_text("ok")
        handled += 1
        async with changed:
            changed.notify_all()

    async def wait(target: int) -> None:
        async with changed:
            await changed.wait_for(lambda: handled >= target)

    app = (
        ApplicationBuilder().token(TOKEN).request(LocalBotApi()).updater(None)
        .concurrent_updates(64).build()
    )  # fmt: skip
    names = ["hulp", "help", "wie", "who", "taal", "language", "start", "idee", "ideeen"]
    app.add_handler(CommandHandler(names, reply))
    app.add_handler(CallbackQueryHandler(reply))
    async with app:
        await app.start()
        elapsed = await _drive(app, updates, lambda: handled, wait)
        await app.stop()
    return len(updates) / elapsed


async def _ideas_by_chat(db: Database) -> dict[int, list[int]]:
    async with db.unit_of_work() as uow:
        rows = (
            await uow.session.execute(
                select(Wijk.tg_chat_id, Idea.id).join(Idea, Idea.wijk_id == Wijk.id)
            )
        ).all()
    out: dict[int, list[int]] = {}
    for chat_id, idea_id in rows:
        out.setdefault(chat_id, []).append(idea_id)
    return out


async def run_buddybot(
    world: World, count: int, url: str
) -> tuple[float, list[JSON], dict[str, int]]:
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    clock = SystemClock()
    settings = Settings(
        _env_file=None, token=TOKEN, database_url=url,
        messages_per_second=1e9, group_messages_per_minute=1e9, concurrent_updates=64,
    )  # fmt: skip
    db = Database(url, clock)
    api = LocalBotApi(world.admins)
    app = bot_app.build_application(Deps.build(settings, db, clock), register, request=api)
    proc = bot_app.processor(app)
    await app.initialize()
    await app.start()
    await _drive(app, world.joins(), lambda: proc.handled_count, proc.wait_count)
    await _drive(app, world.seed_ideas(3), lambda: proc.handled_count, proc.wait_count)
    updates = world.mix(count, await _ideas_by_chat(db))
    before = dict(api.calls)
    elapsed = await _drive(app, updates, lambda: proc.handled_count, proc.wait_count)
    deps: Deps = app.bot_data["deps"]
    await deps.wait_background()
    await app.stop()
    await app.shutdown()
    await db.dispose()
    calls = {k: v - before.get(k, 0) for k, v in api.calls.items() if v - before.get(k, 0)}
    return len(updates) / elapsed, updates, calls


def main() -> None:
    p = argparse.ArgumentParser(description="buddybot updates/s next to bare PTB")
    p.add_argument("--groups", type=int, default=200)
    p.add_argument("--updates", type=int, default=3000)
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = p.parse_args()
    if args.db == "sqlite":
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    else:
        url = os.environ.get(
            "BUDDYBOT_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1/bench"
        )
    world = World(args.groups)
    ours, updates, calls = asyncio.run(run_buddybot(world, args.updates, url))
    bare = asyncio.run(run_bare(updates))
    print(
        f"update mix: {len(updates)} updates over {args.groups} groups "
        f"(presses 30%, proposals 10%, /hulp 15%, /wie 15%, /ideeen 10%, private 20%), "
        f"database: {args.db}"
    )
    print(f"{'bare PTB (reply only)':<28}{bare:>10.0f} updates/s")
    print(f"{'buddybot':<28}{ours:>10.0f} updates/s")
    print(f"{'ratio buddybot / bare':<28}{ours / bare:>10.2f}")
    print(f"Bot API calls by buddybot during the mix: {dict(sorted(calls.items()))}")


if __name__ == "__main__":
    main()
