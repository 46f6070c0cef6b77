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
        """What Telegram would answer, in the shape PTB parses; calls with a plain ``true``
        answer (answerCallbackQuery, pinChatMessage, ...) get that."""
        now = int(time.time())
        if name == "getMe":
            return BOT
        if name in _SENDS:
            chat_id = int(params["chat_id"])
            kind = "private" if chat_id > 0 else "supergroup"
            in_chat = shapes.chat(chat_id, kind, title=None if chat_id > 0 else "Wijk")
            msg_id = int(params.get("message_id") or next(self._ids))
            return shapes.message(
                msg_id, now, in_chat, from_user=BOT, text=params.get("text"),
                caption=params.get("caption"), **self._media(name, params, msg_id),
            )  # fmt: skip
        if name == "stopPoll":
            return self._poll(params, closed=True, poll_id=f"local{params['message_id']}")
        if name == "getChatAdministrators":
            chat_id = int(params["chat_id"])
            return [
                shapes.chat_member(shapes.user(uid, f"Admin {uid}"), "creator")
                for uid in self.admins.get(chat_id, [])
            ]
        return True

    def _media(self, name: str, params: dict[str, Any], msg_id: int) -> dict[str, Any]:
        if name == "sendPoll":
            return {"poll": self._poll(params, closed=False, poll_id=f"local{msg_id}")}
        if name == "sendPhoto":
            return {"photo": shapes.photo_sizes(f"photo{msg_id}", f"p{msg_id}", 1)}
        if name == "sendDocument":
            return {"document": shapes.document(f"doc{msg_id}", f"d{msg_id}", None, None, 1)}
        return {}

    @staticmethod
    def _poll(params: dict[str, Any], *, closed: bool, poll_id: str) -> Any:
        """A poll with no votes; stopPoll does not repeat the question, so it gets a stand-in."""
        raw = params.get("options") or ["?", "?"]
        if isinstance(raw, str):  # nested objects arrive as JSON text
            raw = json.loads(raw)
        texts = [o if isinstance(o, str) else str(o.get("text", "?")) for o in raw]
        options = [shapes.poll_option(t, 0, str(i)) for i, t in enumerate(texts)]
        return shapes.poll(
            poll_id, str(params.get("question", "?")), options, total_voter_count=0,
            is_closed=closed, is_anonymous=bool(params.get("is_anonymous", True)),
        )  # fmt: skip


# The sends whose answer is the message sent (or edited).
_SENDS = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPoll", "sendPhoto",
     "sendDocument"}
)  # fmt: skip
