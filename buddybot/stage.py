"""The whole bot on one machine: fakegram, the real Application over HTTP, a movable clock.

Used by the demo and by the end-to-end tests. Residents act through the fakegram client;
``say``/``press`` wait until the bot has handled that very update, never a fixed time.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from buddybot import app as bot_app
from buddybot.bot.context import BotApp
from buddybot.bot.runtime import Deps
from buddybot.clock import FakeClock
from buddybot.fakegram import FakegramClient, FakegramServer
from buddybot.settings import Settings
from buddybot.storage.db import Database

TOKEN = "7000000001:buddybot-local"
BOT_USERNAME = "buddy_test_bot"
JSON = dict[str, Any]


def local_settings(server: FakegramServer, database_url: str, **overrides: Any) -> Settings:
    """Settings for a bot that talks to fakegram and is ticked by hand."""
    values: dict[str, Any] = {
        "token": TOKEN,
        "database_url": database_url,
        "api_base_url": server.api_base_url,
        "api_file_url": server.file_base_url,
        "tick_seconds": timedelta(days=365),  # ticked by hand
        "poll_timeout": timedelta(seconds=5),
        "messages_per_second": 10_000,
        "group_messages_per_minute": 100_000,
        "person_group_messages_per_minute": 100_000,
        "send_retries": 2,
        "concurrent_updates": 16,
        "migrate_on_start": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


class Stage:
    def __init__(
        self,
        server: FakegramServer,
        tg: FakegramClient,
        settings: Settings,
        clock: FakeClock,
    ) -> None:
        self.server = server
        self.tg = tg
        self.settings = settings
        self.clock = clock
        self.db = Database.for_settings(settings, clock)
        self.deps: Deps | None = None
        self.app: BotApp | None = None
        self._settled = 0
        self._handled_earlier: set[int] = set()  # by an Application that was stopped

    async def start(self, *, polling: bool = True) -> None:
        self.deps = Deps.build(self.settings, self.db, self.clock)
        self.app = bot_app.build_application(self.deps)
        await bot_app.start(self.app, polling=polling)

    async def stop(self) -> None:
        if self.app is not None:
            self._handled_earlier |= bot_app.processor(self.app).handled_ids()
            await bot_app.stop(self.app)
            self.app = None

    async def restart(self, *, polling: bool = True) -> None:
        await self.stop()
        await self.start(polling=polling)

    async def close(self) -> None:
        await self.stop()
        await self.db.dispose()

    # -- acting as residents -------------------------------------------------------
    def is_handled(self, update: JSON) -> bool:
        assert self.app is not None
        return bot_app.processor(self.app).is_handled(int(update["update_id"]))

    async def handled(self, update: JSON, times: int = 1, limit: float = 15.0) -> JSON:
        """Wait until the bot has handled ``update`` (``times`` times, for redelivery)."""
        assert self.app is not None
        async with asyncio.timeout(limit):
            await bot_app.processor(self.app).wait_handled(int(update["update_id"]), times)
        return update

    async def settle(self, limit: float = 15.0) -> None:
        """Wait until the bot has handled every update queued so far (joins, leaves, ...)."""
        assert self.app is not None
        proc = bot_app.processor(self.app)
        async with asyncio.timeout(limit):
            for update_id in await self.tg.queued_updates(since=self._settled):
                if update_id not in self._handled_earlier:
                    await proc.wait_handled(update_id)
                self._settled = max(self._settled, update_id)
            assert self.deps is not None
            await self.deps.wait_background()

    async def redeliver(self, update: JSON) -> JSON:
        """Telegram sends ``update`` again (as after a crash); wait until it is handled."""
        assert self.app is not None
        update_id = int(update["update_id"])
        before = bot_app.processor(self.app).times_handled(update_id)
        await self.tg.redeliver(update_id)
        return await self.handled(update, times=before + 1)

    async def say(self, chat_id: int, user_id: int, text: str, **kwargs: Any) -> JSON:
        """Post a message as a person and wait until the bot has handled it (and the card
        edits it started are done)."""
        update = await self.handled(await self.tg.send_message(chat_id, user_id, text, **kwargs))
        assert self.deps is not None
        await self.deps.wait_background()
        return update

    async def press(
        self, chat_id: int, message_id: int, user_id: int, **kwargs: Any
    ) -> JSON | None:
        """Press a button, wait until handled; returns how the bot answered the query."""
        update = await self.handled(
            await self.tg.press_button(chat_id, message_id, user_id, **kwargs)
        )
        assert self.deps is not None
        await self.deps.wait_background()
        answer: JSON | None = await self.tg.callback_answer(str(update["callback_query"]["id"]))
        return answer

    async def tick(self) -> int:
        """Run the due-work tick now, as the scheduler would."""
        assert self.app is not None and self.deps is not None
        return await bot_app.run_tick(self.app.bot, self.deps)

    # -- reading ---------------------------------------------------------------------
    async def texts(self, chat_id: int) -> list[str]:
        return [
            str(m.get("text") or m.get("caption") or "") for m in await self.tg.messages(chat_id)
        ]

    async def last_text(self, chat_id: int) -> str:
        texts = await self.texts(chat_id)
        assert texts, f"the bot sent nothing to {chat_id}"
        return texts[-1]
