"""A Bot API answered in-process (no network), so a benchmark measures the bot, not HTTP.

It answers the calls buddybot makes with payloads built by fakegram's shape factory.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from telegram.request import BaseRequest, RequestData

from buddybot.fakegram import shapes

BOT_ID = 7000000001
BOT = shapes.user(
    BOT_ID,
    "Buddy",
    is_bot=True,
    username="buddy_bench_bot",
    can_join_groups=True,
    can_read_all_group_messages=False,
    supports_inline_queries=False,
)


class LocalBotApi(BaseRequest):
    def __init__(self, admins: dict[int, list[int]] | None = None) -> None:
        self.calls: dict[str, int] = {}
        self._ids = itertools.count(1)
        self.admins = admins or {}

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        self.calls[name] = self.calls.get(name, 0) + 1
        params = request_data.parameters if request_data else {}
        return 200, json.dumps(shapes.ok(self._answer(name, params))).encode()

    def _answer(self, name: str, params: dict[str, Any]) -> Any:
        now = int(time.time())
        if name == "getMe":
            return BOT
        if name in ("sendMessage", "editMessageText"):
            chat_id = int(params["chat_id"])
            kind = "private" if chat_id > 0 else "supergroup"
            return shapes.message(
                int(params.get("message_id") or next(self._ids)),
                now,
                shapes.chat(chat_id, kind, title=None if chat_id > 0 else "Wijk"),
                from_user=BOT,
                text=str(params.get("text", "")),
            )
        if name == "getChatAdministrators":
            chat_id = int(params["chat_id"])
            return [
                shapes.chat_member(shapes.user(uid, f"Admin {uid}"), "creator")
                for uid in self.admins.get(chat_id, [])
            ]
        return True
