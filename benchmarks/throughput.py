"""Updates per second through the whole bot (handlers, services, database), next to a bare
PTB application that only replies, on the same update mix, in the same run.

    python -m benchmarks.throughput [--groups 200] [--updates 4000] [--db sqlite|postgresql]

The Bot API is answered in-process (no network): this measures the bot itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes

from benchmarks.local_api import BOT, LocalBotApi
from buddybot import app as bot_app
from buddybot.bot.runtime import Deps
from buddybot.clock import SystemClock
from buddybot.fakegram import shapes
from buddybot.settings import Settings
from buddybot.storage.db import Database, make_engine
from buddybot.storage.migrate import upgrade
from handlers import register

TOKEN = "7000000001:bench"
COMMANDS = ["hulp", "wie", "taal", "start"]


@dataclass
class Mix:
    updates: list[dict[str, Any]]
    setup: list[dict[str, Any]]
    admins: dict[int, list[int]]


def make_mix(groups: int, count: int, seed: int = 7) -> Mix:
    """Residents in ``groups`` wijken: group commands (/hulp, /wie) and private ones
    (/start, /taal), in a realistic proportion."""
    rng = random.Random(seed)
    now = int(time.time())
    uid = 100_000
    setup: list[dict[str, Any]] = []
    admins: dict[int, list[int]] = {}
    members: dict[int, list[dict[str, Any]]] = {}
    next_update = 1
    for g in range(groups):
        chat_id = -1_000_000_000_000 - g
        chat = shapes.chat(chat_id, "supergroup", title=f"Wijk {g}")
        people = []
        for _ in range(8):
            uid += 1
            people.append(shapes.user(uid, f"Bewoner{uid}", language_code="nl"))
        members[chat_id] = people
        admins[chat_id] = [people[0]["id"]]
        cmu = shapes.chat_member_updated(
            chat,
            people[0],
            now,
            shapes.chat_member(BOT, "left"),
            shapes.chat_member(BOT, "administrator"),
        )
        setup.append(shapes.update(next_update, "my_chat_member", cmu))
        next_update += 1
    updates = []
    chats = list(members)
    for i in range(count):
        chat_id = rng.choice(chats)
        person = rng.choice(members[chat_id])
        roll = rng.random()
        if roll < 0.35:
            text, chat = "/hulp", shapes.chat(chat_id, "supergroup", title="Wijk")
        elif roll < 0.70:
            text, chat = "/wie", shapes.chat(chat_id, "supergroup", title="Wijk")
        elif roll < 0.85:
            text = "/taal " + rng.choice(["nl", "en"])
            chat = shapes.chat(person["id"], "private", first_name=person["first_name"])
        else:
            text = "/start"
            chat = shapes.chat(person["id"], "private", first_name=person["first_name"])
        command = text.split()[0]
        msg = shapes.message(
            i + 1,
            now,
            chat,
            from_user=person,
            text=text,
            entities=[{"type": "bot_command", "offset": 0, "length": len(command)}],
        )
        updates.append(shapes.update(next_update, "message", msg))
        next_update += 1
    return Mix(updates, setup, admins)


async def _drive(
    app: Application[Any, Any, Any, Any, Any, Any],
    raw: list[dict[str, Any]],
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


async def run_bare(mix: Mix) -> float:
    handled = 0
    changed = asyncio.Condition()

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal handled
        assert update.effective_message is not None
        await update.effective_message.reply_text("ok")
        handled += 1
        async with changed:
            changed.notify_all()

    async def wait(target: int) -> None:
        async with changed:
            await changed.wait_for(lambda: handled >= target)

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(LocalBotApi())
        .updater(None)
        .concurrent_updates(64)
        .build()
    )
    app.add_handler(
        CommandHandler(["hulp", "help", "wie", "who", "taal", "language", "start"], reply)
    )
    async with app:
        await app.start()
        elapsed = await _drive(app, mix.updates, lambda: handled, wait)
        await app.stop()
    return len(mix.updates) / elapsed


async def run_buddybot(mix: Mix, url: str) -> tuple[float, dict[str, int]]:
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    clock = SystemClock()
    settings = Settings(
        _env_file=None,
        token=TOKEN,
        database_url=url,  # type: ignore[call-arg]
        messages_per_second=1e9,
        group_messages_per_minute=1e9,
        concurrent_updates=64,
    )
    db = Database(url, clock)
    deps = Deps.build(settings, db, clock)
    api = LocalBotApi(mix.admins)
    app = bot_app.build_application(deps, register, request=api)
    proc = bot_app.processor(app)
    await app.initialize()
    await app.start()
    await _drive(app, mix.setup, lambda: proc.handled_count, proc.wait_count)
    elapsed = await _drive(app, mix.updates, lambda: proc.handled_count, proc.wait_count)
    await app.stop()
    await app.shutdown()
    await db.dispose()
    return len(mix.updates) / elapsed, api.calls


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--groups", type=int, default=200)
    p.add_argument("--updates", type=int, default=3000)
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = p.parse_args()
    mix = make_mix(args.groups, args.updates)
    if args.db == "sqlite":
        folder = Path(tempfile.mkdtemp())
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    else:
        url = os.environ.get(
            "BUDDYBOT_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1/bench"
        )
    bare = asyncio.run(run_bare(mix))
    ours, calls = asyncio.run(run_buddybot(mix, url))
    print(
        f"update mix: {args.updates} commands over {args.groups} groups "
        f"(/hulp 35%, /wie 35%, /taal 15%, /start 15%), database: {args.db}"
    )
    print(f"{'bare PTB (reply only)':<28}{bare:>10.0f} updates/s")
    print(f"{'buddybot':<28}{ours:>10.0f} updates/s")
    print(f"{'ratio buddybot / bare':<28}{ours / bare:>10.2f}")
    print(f"Bot API calls by buddybot: {dict(sorted(calls.items()))}")


if __name__ == "__main__":
    main()
