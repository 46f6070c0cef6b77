"""The channel replicas hear each other on (PostgreSQL LISTEN) notices when it goes dead,
also when the other end vanished without closing the connection."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import text
from sqlalchemy.engine import make_url

from buddybot.clock import FakeClock
from buddybot.storage.db import Database
from buddybot.storage.notices import Notices


class Relay:
    """A TCP relay to the database server that can go silent: it keeps the connections
    open but passes nothing on, as a vanished server or network path does."""

    def __init__(self, host: str, port: int) -> None:
        self._target = host, port
        self.silent = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    if not self.silent:
                        dst.write(data)
                        await dst.drain()
            dst.close()

        for task in (
            asyncio.create_task(pipe(reader, up_writer)),
            asyncio.create_task(pipe(up_reader, writer)),
        ):
            self._tasks.add(task)

    async def close(self) -> None:
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def test_a_channel_whose_server_goes_silent_is_dropped(pg: str, clock: FakeClock) -> None:
    url = make_url(pg)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    port = await relay.start()
    db = Database(url.set(host="127.0.0.1", port=port).render_as_string(False), clock)
    heard: list[str] = []
    subscription = await Notices(db).listen("buddybot_test", heard.append)
    try:
        assert await subscription.answers(5)
        assert not subscription.lost.is_set()
        relay.silent = True  # no close, no reset: the connection just stops answering
        async with asyncio.timeout(5):  # (a check that waits forever fails here)
            assert not await subscription.answers(0.1)
        assert subscription.lost.is_set()
    finally:
        await subscription.close()
        await relay.close()
        await db.dispose()


async def test_a_channel_the_server_ends_is_lost(pg: str, clock: FakeClock) -> None:
    db = Database(pg, clock)
    subscription = await Notices(db).listen("buddybot_test", lambda _: None)
    try:
        with db.transaction() as uow:
            uow.session.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": subscription.server_pid}
            )
        async with asyncio.timeout(5):
            await subscription.lost.wait()
        assert not await subscription.answers(5)
    finally:
        await subscription.close()
        await db.dispose()


async def test_a_notice_reaches_every_listener_also_after_a_check(
    pg: str, clock: FakeClock
) -> None:
    db = Database(pg, clock)
    notices = Notices(db)
    heard: asyncio.Queue[str] = asyncio.Queue()
    subscription = await notices.listen("buddybot_test", heard.put_nowait)
    try:
        await notices.send("buddybot_test", "one")
        async with asyncio.timeout(5):
            assert await heard.get() == "one"
        assert await subscription.answers(5)
        await notices.send("buddybot_test", "two")
        async with asyncio.timeout(5):
            assert await heard.get() == "two"
        assert not subscription.lost.is_set()
    finally:
        await subscription.close()
        await db.dispose()
