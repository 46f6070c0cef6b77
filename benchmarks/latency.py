"""From a resident's press to the bot's answer, end to end over HTTP with long polling.

    python -m benchmarks.latency [--rate 50] [--seconds 20] [--groups 100]

fakegram runs in this process and plays the residents: each press is stamped by fakegram
when it queues the callback query, the answer when ``answerCallbackQuery`` reaches it. The
bot runs as it does in production, in its own process (``buddybot run``, long polling,
default settings, SQLite), with an idea card in every group; residents press the card's
support button at a steady rate spread over the groups. The reference is a bare PTB
Application (long polling, 64 concurrent updates) that only answers the query, pressed
the same way against the same fakegram in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass

from benchmarks import report
from benchmarks.report import Figure
from buddybot.fakegram import FakegramServer
from buddybot.fakegram.state import FakegramState

TOKEN = "7000000001:latency"
TARGET_MS = 15.0
RESIDENTS_PER_GROUP = 10
World = list[tuple[int, list[int]]]  # per group: (chat id, [admin, residents...])


@dataclass(frozen=True)
class Latencies:
    p50: float
    p90: float
    p99: float
    answered: int
    pressed: int


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Bot:
    """A bot in its own process, pointed at fakegram."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: str | None = None) -> None:
        self.args, self.env, self.cwd = args, env, cwd
        self.proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Bot:
        # Only the settings given here: none of the caller's BUDDYBOT_* (a webhook URL
        # would change the bot), and a working folder without a .env file.
        env = {k: v for k, v in os.environ.items() if not k.startswith("BUDDYBOT_")}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, *self.args, env={**env, **self.env}, cwd=self.cwd,
            stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()


def buddybot_process(server: FakegramServer, db_url: str, folder: str) -> Bot:
    return Bot(
        ["-c", "import sys; from buddybot.cli import main; sys.exit(main(['run']))"],
        {
            "BUDDYBOT_TOKEN": TOKEN,
            "BUDDYBOT_DATABASE_URL": db_url,
            "BUDDYBOT_API_BASE_URL": server.api_base_url,
            "BUDDYBOT_API_FILE_URL": server.file_base_url,
            "BUDDYBOT_LOG_LEVEL": "WARNING",
        },
        cwd=folder,
    )


def bare_process(server: FakegramServer) -> Bot:
    return Bot(["-m", "benchmarks.latency", "--bare-bot", server.api_base_url], {})


async def _bare_bot(api: str) -> None:
    """The reference: long polling, and every callback query answered, nothing else."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes

    async def answer(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()

    app = ApplicationBuilder().token(TOKEN).base_url(api).concurrent_updates(64).build()
    app.add_handler(CallbackQueryHandler(answer))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(timeout=30)
        await app.start()
        await asyncio.Event().wait()


async def _world(server: FakegramServer, groups: int) -> World:
    state = server.state
    world = []
    for g in range(groups):
        admin = state.create_user(f"Beheer {g}", language_code="nl")
        residents = [
            state.create_user(f"Bewoner {g}.{r}", language_code="nl")
            for r in range(RESIDENTS_PER_GROUP)
        ]
        chat = state.create_group(f"Wijk {g}", creator=admin, members=residents)
        state.set_status(chat, state.bot(TOKEN).user_id, "administrator", by=admin)
        world.append((chat, [admin, *residents]))
    return world


def _support_button(state: FakegramState, chat: int) -> tuple[int, str] | None:
    """The newest idea card's support button in the chat: (message id, callback data)."""
    for msg in reversed(state.bot_messages(chat)):
        for row in (msg.reply_markup or {}).get("inline_keyboard", []):
            for b in row:
                if str(b.get("callback_data", "")).split(":")[1:2] == ["sup"]:
                    return msg.message_id, str(b["callback_data"])
    return None


async def _cards(
    server: FakegramServer, world: list[tuple[int, list[int]]]
) -> list[tuple[int, int, str]]:
    """Every group's first resident proposes an idea; the bot answers with its card."""
    state = server.state
    for chat, people in world:
        state.user_message(chat, people[1], "/idee Moestuin op het plein")
    ok = await server.wait_until(
        lambda: all(_support_button(state, chat) is not None for chat, _ in world), 60
    )
    if not ok:
        raise RuntimeError("the bot did not post the idea cards")
    cards = []
    for chat, _ in world:
        found = _support_button(state, chat)
        assert found is not None
        cards.append((chat, *found))
    return cards


async def _press(
    server: FakegramServer,
    world: World,
    cards: list[tuple[int, int, str]],
    rate: float,
    seconds: float,
    seed: int,
) -> Latencies:
    """Press support buttons at ``rate`` per second, round the groups; latencies in ms."""
    state = server.state
    rng = random.Random(seed)
    bot = state.bot(TOKEN)
    start_calls = len(state.calls)
    loop = asyncio.get_running_loop()
    queries: list[str] = []
    count = int(rate * seconds)
    begin = loop.time()
    for i in range(count):
        await asyncio.sleep(max(0.0, begin + i / rate - loop.time()))
        g = i % len(cards)
        chat, message_id, data = cards[g]
        update = state.press_button(chat, message_id, rng.choice(world[g][1][1:]), data=data)
        queries.append(str(update["callback_query"]["id"]))
    await server.wait_until(lambda: all(state.callbacks[q].answered for q in queries), 30)
    answered_at = {
        str(c.params.get("callback_query_id")): c.at
        for c in state.calls[start_calls:]
        if c.method == "answerCallbackQuery" and c.token == bot.token and c.ok
    }
    ms = [
        (answered_at[q] - state.callbacks[q].created_at) * 1000 for q in queries if q in answered_at
    ]
    return Latencies(
        statistics.median(ms) if ms else float("inf"),
        _percentile(ms, 0.90) if ms else float("inf"),
        _percentile(ms, 0.99) if ms else float("inf"),
        len(ms),
        count,
    )


async def _ready(server: FakegramServer, since: int) -> None:
    """Wait until a bot started after call ``since`` long-polls with nothing queued."""
    state = server.state
    bot = state.bot(TOKEN)

    def polling() -> bool:
        calls = state.calls[since:]
        return not bot.pending and any(c.method == "getUpdates" for c in calls)

    if not await server.wait_until(polling, 60):
        raise RuntimeError("the bot did not start polling")


async def measure(rate: float, seconds: float, groups: int) -> tuple[Latencies, Latencies]:
    folder = tempfile.mkdtemp(prefix="buddybot-latency-")
    db_url = f"sqlite:///{folder}/latency.db"
    async with FakegramServer(token=TOKEN) as server:
        world = await _world(server, groups)
        async with buddybot_process(server, db_url, folder):
            await _ready(server, 0)
            cards = await _cards(server, world)
            await _press(server, world, cards, rate, 2, seed=1)  # warm up
            ours = await _press(server, world, cards, rate, seconds, seed=2)
        since = len(server.state.calls)
        async with bare_process(server):
            await _ready(server, since)
            await _press(server, world, cards, rate, 2, seed=1)
            bare = await _press(server, world, cards, rate, seconds, seed=2)
    shutil.rmtree(folder, ignore_errors=True)
    return ours, bare


def to_figures(rate: float, ours: Latencies, bare: Latencies) -> list[Figure]:
    name = f"press → answer over HTTP at {rate:.0f}/s"
    return [
        Figure(f"{name}: p50", ours.p50, "ms", bare.p50, "ms bare PTB", f"< {TARGET_MS:.0f} ms",
               ours.p50 < TARGET_MS),
        Figure(f"{name}: p90", ours.p90, "ms", bare.p90, "ms bare PTB"),
        Figure(f"{name}: p99", ours.p99, "ms", bare.p99, "ms bare PTB"),
        Figure(f"{name}: answered", ours.answered, "", ours.pressed, "pressed",
               f"all {ours.pressed}", ours.answered == ours.pressed),
    ]  # fmt: skip


async def figures(quick: bool = False) -> list[Figure]:
    rate = 50.0
    ours, bare = await measure(rate, 5 if quick else 20, 100)
    return to_figures(rate, ours, bare)


def main() -> None:
    p = argparse.ArgumentParser(description="press → answer latency through fakegram over HTTP")
    p.add_argument("--rate", type=float, default=50.0, help="presses per second")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--groups", type=int, default=100)
    p.add_argument("--bare-bot", metavar="API", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.bare_bot:
        asyncio.run(_bare_bot(args.bare_bot))
        return
    ours, bare = asyncio.run(measure(args.rate, args.seconds, args.groups))
    print(report.table(to_figures(args.rate, ours, bare)))


if __name__ == "__main__":
    main()
