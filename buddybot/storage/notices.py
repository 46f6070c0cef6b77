"""Notices between replicas that share one PostgreSQL database (NOTIFY and LISTEN).

On SQLite the bot is one process, so there is nobody to tell: ``shared`` is False and
sending does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow
from sqlalchemy import text

from buddybot.storage.db import Database, UnitOfWork

log = logging.getLogger(__name__)

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


class Subscription:
    """A connection that listens on one channel; ``lost`` is set when it breaks."""

    def __init__(
        self, conn: psycopg.AsyncConnection[TupleRow], on_notice: Callable[[str], None]
    ) -> None:
        self._conn = conn
        self._on_notice = on_notice
        self._hearing: asyncio.Task[None] | None = None
        self.lost = asyncio.Event()

    @classmethod
    async def open(
        cls, conninfo: str, channel: str, on_notice: Callable[[str], None]
    ) -> Subscription:
        """Connect, listen on ``channel`` and hand every notice to ``on_notice``."""
        conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        try:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        except BaseException:
            await conn.close()  # not left open on every retry
            raise
        subscription = cls(conn, on_notice)
        subscription._hear()
        return subscription

    @property
    def server_pid(self) -> int:
        """The server process behind this channel (as ``pg_stat_activity`` shows it)."""
        return self._conn.info.backend_pid

    def _hear(self) -> None:
        self._hearing = asyncio.get_running_loop().create_task(self._notices())

    async def _notices(self) -> None:
        """Hand each notice on as it arrives, until the connection breaks."""
        try:
            async for notice in self._conn.notifies():
                self._on_notice(notice.payload)
        except Exception as exc:  # psycopg's errors, OSError
            if not self._conn.closed:
                log.warning("the notice channel broke (%r)", exc)
            self.lost.set()

    async def _stop_hearing(self) -> None:
        """Stop waiting for notices, so the connection can run a statement. Notices that
        arrive meanwhile wait in the connection and are handed on once hearing again."""
        if self._hearing is not None:
            self._hearing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._hearing
            self._hearing = None

    async def answers(self, within: float) -> bool:
        """Whether the server still answers on this connection within ``within`` seconds.
        A connection whose other end vanished without closing it (a server that lost power,
        a dropped network path) never reports that it broke; this finds out. One that does
        not answer is dropped, and ``lost`` is set."""
        if self.lost.is_set():
            return False
        await self._stop_hearing()
        probe = asyncio.get_running_loop().create_task(self._conn.execute("SELECT 1"))
        try:
            done, _ = await asyncio.wait({probe}, timeout=within)
        finally:
            if not probe.done():
                # Cancelling a running statement would make psycopg ask the silent server
                # to cancel it first; shutting the socket down ends the wait at once.
                self._shut_down()
                with contextlib.suppress(Exception):
                    await probe
                await self._conn.close()
                self.lost.set()
        error = probe.exception() if done else TimeoutError(f"no answer within {within}s")
        if error is None:
            self._hear()
            return True
        log.warning("the notice channel does not answer (%r); dropping it", error)
        await self._conn.close()
        self.lost.set()
        return False

    def _shut_down(self) -> None:
        with (
            contextlib.suppress(OSError),
            socket.socket(fileno=os.dup(self._conn.fileno())) as sock,
        ):
            sock.shutdown(socket.SHUT_RDWR)

    async def close(self) -> None:
        await self._stop_hearing()
        await self._conn.close()
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

        def notify(uow: UnitOfWork) -> None:
            uow.session.execute(_NOTIFY, {"channel": channel, "payload": payload})

        await self._db.run(notify)

    async def listen(self, channel: str, on_notice: Callable[[str], None]) -> Subscription:
        """A connection of its own (a pooled one would be handed to others), to the same
        server and database as the engine's."""
        url = self._db.engine.url.set(drivername="postgresql")
        return await Subscription.open(
            url.render_as_string(hide_password=False), channel, on_notice
        )
