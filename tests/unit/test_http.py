"""The bot's aiohttp client under PTB: forms, files, and PTB's errors for slow or absent
servers (against fakegram)."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from buddybot.bot.http import AiohttpRequest
from buddybot.fakegram import FakegramClient, FakegramServer
from buddybot.fakegram.state import Fault

TOKEN = "7000000001:http-test"


async def test_messages_and_files_go_through() -> None:
    async with FakegramServer(token=TOKEN) as server, FakegramClient(server.url) as tg:
        user = await tg.create_user("Anna")
        await tg.start_private(user)
        bot = Bot(TOKEN, base_url=server.api_base_url, request=AiohttpRequest())
        async with bot:
            sent = await bot.send_message(user, "Hallo <b>buurt</b>", parse_mode="HTML")
            doc = await bot.send_document(user, b"a,b\n1,2\n", filename="wijk.csv", caption="é")
        assert sent.text == "Hallo buurt"
        assert doc.document is not None and doc.document.file_name == "wijk.csv"
        assert await tg.document(user, doc.message_id) == b"a,b\n1,2\n"


async def test_a_slow_answer_is_a_timeout() -> None:
    async with FakegramServer(token=TOKEN) as server:
        server.state.add_fault(Fault("slow", method="getMe", delay=2.0))
        bot = Bot(TOKEN, base_url=server.api_base_url, request=AiohttpRequest(read_timeout=0.2))
        with pytest.raises(TimedOut):
            await bot.initialize()
        await bot.shutdown()


async def test_no_server_is_a_network_error() -> None:
    async with FakegramServer(token=TOKEN) as server:
        url = server.api_base_url
    bot = Bot(TOKEN, base_url=url, request=AiohttpRequest())
    with pytest.raises(NetworkError):
        await bot.initialize()
    await bot.shutdown()
