"""Webhook mode: Telegram's POST is answered after its update is handled, not on arrival.

Telegram pushes a chat's updates one at a time: the next one only after the bot answered the
last. PTB's own webhook server answers as soon as the update is queued, so with several
replicas behind one address a chat's next update could be handled by another replica before
the first was done: a command before the "bot added" that registers the wijk, a reply before
the question it answers, a card edit racing the next one. Answering after handling (and after
the card edits it started) keeps every chat in order across replicas; an update Telegram sends
again after a timeout is recognised by its id (processed_update).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from buddybot.bot.redelivery import failures_here
from buddybot.bot.runtime import spawned_here
from buddybot.storage.db import committed_marks

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    """Listens on ``listen:port`` at ``/path`` and hands each update to the Application's
    update processor (its concurrency limit and per-chat order), answering when done."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        *,
        listen: str,
        port: int,
        path: str,
        secret: str | None,
    ) -> None:
        self.app = app
        self.listen = listen
        self.port = port
        self.path = "/" + path.lstrip("/")
        self.secret = secret
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        web_app = web.Application()
        web_app.router.add_post(self.path, self._handle)
        # On stop, the updates in hand are finished before the server closes (within the
        # 30 s compose.yaml gives a stopping replica).
        runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=20)
        await runner.setup()
        await web.TCPSite(runner, self.listen, self.port).start()
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        if self.secret is not None and not _same_secret(
            request.headers.get(SECRET_HEADER, ""), self.secret
        ):
            return web.Response(status=403, text="wrong secret token")
        try:
            data = await request.json()
            update = Update.de_json(data, self.app.bot) if isinstance(data, dict) else None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            update = None
        if update is None:
            return web.Response(status=400, text="not an update")
        # Handler errors go to the error handlers inside process_update. The answer is 200
        # for them, as long polling moves on too (a failing update is not pushed forever),
        # except when the database was unavailable (bot.redelivery): nothing of the update
        # was stored, so 503 has Telegram send it again.
        started: set[asyncio.Task[None]] = set()
        failures: list[BaseException] = []
        token = spawned_here.set(started)
        failed = failures_here.set(failures)
        marked = committed_marks.set(set())
        try:
            await self.app.update_processor.process_update(update, self.app.process_update(update))
        finally:
            committed_marks.reset(marked)
            failures_here.reset(failed)
            spawned_here.reset(token)
        # The card edits this update started land before the chat's next update can reach
        # another replica, whose edit would otherwise race this one (a stale count).
        # asyncio.wait, not gather: a handler cancelled at shutdown must not cancel the
        # edits themselves.
        while not all(task.done() for task in started):
            await asyncio.wait(set(started))
        if failures:
            return web.Response(status=503, text="database unavailable, send it again")
        return web.Response(status=200)


def _same_secret(given: str, secret: str) -> bool:
    """Compared as bytes in constant time: ``compare_digest`` refuses a non-ASCII str (a
    forged header would become a 500), and ``surrogatepass`` encodes any header text,
    also bytes that were not UTF-8, without two texts becoming the same bytes."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), secret.encode())
