"""Assembles the running bot: Application, update processing, the tick, start and stop.

The Telegram handlers live in the ``handlers`` package, which depends on ``buddybot`` and
not the other way round; ``register`` is handed in (the CLI finds it through the
``buddybot.handlers`` entry point).
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

from buddybot.bot.http import AiohttpRequest
from buddybot.bot.processor import ChatOrderedProcessor
from buddybot.bot.runtime import Deps
from buddybot.bot.tick import tick_job
from buddybot.settings import Settings

log = logging.getLogger(__name__)

BotApp = Application[Any, Any, Any, Any, Any, Any]
Register = Callable[[BotApp], None]
StartHook = Callable[[BotApp], Awaitable[None]]

# Explicit, because Telegram remembers the last list: chat_member must be asked for.
ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "callback_query",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
]

if TYPE_CHECKING:
    from buddybot.bot.webhook import WebhookServer


def default_register() -> Register:
    (entry,) = entry_points(group="buddybot.handlers", name="default")
    register: Register = entry.load()
    return register


# PTB 22.2+ deprecates int retry_after; opt in to timedelta (checklist §1).
os.environ.setdefault("PTB_TIMEDELTA", "1")


def build_application(
    deps: Deps, register: Register | None = None, *, request: BaseRequest | None = None
) -> BotApp:
    """The bot. ``request`` replaces the HTTP client (benchmarks answer the Bot API locally)."""
    s = deps.settings
    if s.token is None:
        raise ValueError("no bot token")
    builder = ApplicationBuilder()
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(pool_size=2, read_timeout=10)  # PTB adds the poll timeout
        )
    app = (
        builder.token(s.token.get_secret_value())
        .base_url(s.api_base_url)
        .base_file_url(s.api_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=ZoneInfo(s.timezone),
                allow_sending_without_reply=True,
            )
        )
        .rate_limiter(rate_limiter(s))
        .concurrent_updates(ChatOrderedProcessor(s.concurrent_updates))
        .build()
    )
    app.bot_data["deps"] = deps
    app.bot_data["start_hooks"] = []
    (register or default_register())(app)
    assert app.job_queue is not None
    app.job_queue.run_repeating(
        tick_job,
        interval=s.tick_seconds,
        first=s.tick_seconds,  # deterministic in tests; a restart catches up at the first tick
        name="tick",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
    return app


# Room for network jitter and event-loop stalls: the message one over the cap leaves at
# least this long after the window that would count it.
PACING_JITTER = 0.05


def rate_limiter(s: Settings) -> AIORateLimiter:
    """PTB's limiter, set so that no window ever holds more than Telegram's cap.

    Telegram counts messages per sliding window (30 in any second, 20 in any minute per
    group; fakegram enforces exactly that). AIORateLimiter is a leaky bucket: ``C`` at once,
    then one every ``1/r``. PTB's default (a bucket of 30, 30 per second) sends up to 59 in
    the first second and is answered with 429, and after a 429 PTB holds back every request
    of the bot. Here message ``cap + 1`` comes ``(cap + 1 − C) / r`` after the first: the
    window plus ``PACING_JITTER``. Overall the bucket holds two (a late wake-up of the event
    loop does not slow the rate: 27.6 a second for a cap of 30); a group may burst half its
    cap (a conversation), the rest spread over the minute.
    """

    def bucket(cap: float, window: float, burst: float) -> dict[str, float]:
        burst = max(1.0, burst)
        rate = (cap + 1 - burst) / (window + PACING_JITTER)
        return {"max_rate": burst, "time_period": burst / rate}

    overall = bucket(s.messages_per_second, 1, min(2, s.messages_per_second // 2))
    group = bucket(s.group_messages_per_minute, 60, s.group_messages_per_minute // 2)
    return AIORateLimiter(
        overall_max_rate=overall["max_rate"],
        overall_time_period=overall["time_period"],
        group_max_rate=group["max_rate"],
        group_time_period=group["time_period"],
        max_retries=s.send_retries,
    )


def on_start(app: BotApp, hook: StartHook) -> None:
    app.bot_data["start_hooks"].append(hook)


def tune_gc() -> None:
    """For a long-running bot, once it has started: what start-up built (modules,
    catalogs, mappers) is set aside from the cyclic collector, and collections run less
    often, so that no chat waits while a full collection walks objects that live for good.
    Not for tests, which build many bots in one process: frozen objects are never freed."""
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


def processor(app: BotApp) -> ChatOrderedProcessor:
    proc = app.update_processor
    assert isinstance(proc, ChatOrderedProcessor)
    return proc


async def start(app: BotApp, *, polling: bool = True) -> None:
    """Initialize, run the start hooks, start fetching updates (long polling or webhook)."""
    deps: Deps = app.bot_data["deps"]
    s = deps.settings
    await app.initialize()
    deps.bot_username = app.bot.username
    await deps.admins.start()
    for hook in app.bot_data["start_hooks"]:
        await hook(app)
    assert app.updater is not None
    if s.webhook_url:
        await app.start()
        await _start_webhook(app, s.webhook_url, s)
        return
    if polling:
        await app.updater.start_polling(
            timeout=s.poll_timeout,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,  # queued votes and commands must not be lost
        )
    await app.start()


async def _start_webhook(app: BotApp, url: str, s: Settings) -> None:
    # Our own server, not PTB's: it answers Telegram only once the update is handled, which
    # keeps each chat in order when several replicas share the address (see bot.webhook).
    from buddybot.bot.webhook import WebhookServer  # aiohttp: only loaded in webhook mode

    secret = s.webhook_secret.get_secret_value() if s.webhook_secret else None
    server = WebhookServer(
        app, listen=s.listen, port=s.port, path=_webhook_path(url), secret=secret
    )
    await server.start()
    app.bot_data["webhook_server"] = server
    await app.bot.set_webhook(
        url,
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=False,  # queued votes and commands must not be lost
        # A push now holds its connection while the update is handled: allow Telegram's most.
        max_connections=100,
    )


async def stop(app: BotApp) -> None:
    """Stop fetching, finish the updates in hand and the edits they started, then close."""
    server: WebhookServer | None = app.bot_data.pop("webhook_server", None)
    if server is not None:
        await server.stop()
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    deps: Deps = app.bot_data["deps"]
    await deps.wait_background()
    await deps.admins.stop()
    await app.shutdown()


def _webhook_path(url: str) -> str:
    from urllib.parse import urlparse

    return urlparse(url).path.lstrip("/")
