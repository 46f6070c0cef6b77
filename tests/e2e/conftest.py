from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from buddybot.clock import FakeClock
from buddybot.fakegram import FakegramClient, FakegramServer
from tests.support.harness import BOT_USERNAME, TOKEN, Harness, World, local_settings


@pytest.fixture
async def server() -> AsyncIterator[FakegramServer]:
    async with FakegramServer(token=TOKEN, bot_username=BOT_USERNAME) as srv:
        yield srv


@pytest.fixture
async def tg(server: FakegramServer) -> AsyncIterator[FakegramClient]:
    async with FakegramClient(server.url) as client:
        yield client


@pytest.fixture
async def bot(
    server: FakegramServer, tg: FakegramClient, database_url: str, clock: FakeClock
) -> AsyncIterator[Harness]:
    harness = Harness(server, tg, local_settings(server, database_url), clock)
    await harness.start()
    yield harness
    await harness.close()


@pytest.fixture
async def world(bot: Harness) -> World:
    return await World(bot).build()
