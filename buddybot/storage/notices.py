"""Notices between replicas that share one PostgreSQL database (NOTIFY and LISTEN).

On SQLite the bot is one process, so there is nobody to tell: ``shared`` is False and
sending does nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from buddybot.storage.db import Database

log = logging.getLogger(__name__)

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


class Subscription:
    """A connection that listens on one channel; ``lost`` is set when it breaks."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: self.lost.set())

    async def answers(self, within: float) -> bool:
        """Whether the server still answers on this connection within ``within`` seconds.
        A connection whose other end vanished without closing it (a server that lost power,
        a dropped network path) never reports that it broke; this finds out. One that does
        not answer is dropped, and ``lost`` is set."""
        try:
            await self._conn.fetchval("SELECT 1", timeout=within)
            return True
        except Exception as exc:  # asyncpg's errors, OSError, TimeoutError
            log.warning("the notice channel does not answer (%r); dropping it", exc)
            self._conn.terminate()
            self.lost.set()
            return False

    async def close(self) -> None:
        if not self._conn.is_closed():
            await self._conn.close(timeout=5)
        self.lost.set()


class Notices:
    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def shared(self) -> bool:
        return self._db.dialect == "postgresql"

    async def send(self, channel: str, payload: str) -> None:
        """Tell every replica listening on ``channel`` (delivered when this commits)."""
        if not self.shared:
            return
        async with self._db.engine.begin() as conn:
            await conn.execute(_NOTIFY, {"channel": channel, "payload": payload})

    async def listen(self, channel: str, on_notice: Callable[[str], None]) -> Subscription:
        """A connection of its own (a pooled one would be handed to others), made from the
        same URL and driver settings as the engine's."""
        import asyncpg  # PostgreSQL only

        engine = self._db.engine
        _, params = engine.dialect.create_connect_args(engine.url)
        params.pop("prepared_statement_cache_size", None)
        conn = await asyncpg.connect(**params)

        def heard(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            on_notice(payload)

        try:
            subscription = Subscription(conn)
            await conn.add_listener(channel, heard)
        except BaseException:
            conn.terminate()  # not left open on every retry
            raise
        return subscription
