"""A Bot API answered in the test process, keeping every request as PTB put it on the wire."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx
from telegram.request import HTTPXRequest

from buddybot.fakegram import shapes

BOT = shapes.user(7000000001, "Buddy", is_bot=True, username="buddy_test_bot")


class RecordingBotApi(HTTPXRequest):
    """PTB's own HTTP client, on a transport that answers here: ``getMe`` with the bot, a
    method in ``refusals`` with 400 and that description, any other call with the message it
    sends or edits. ``sent`` keeps every call but ``getMe`` as ``(method, parameters)``, each
    parameter's JSON decoded (nested objects travel as text)."""

    def __init__(self, refusals: Mapping[str, str] | None = None) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.refusals = dict(refusals or {})
        self.message_ids = itertools.count(1)
        super().__init__(httpx_kwargs={"transport": httpx.MockTransport(self.answer)})

    def answer(self, request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1]
        if method == "getMe":
            return httpx.Response(200, json=shapes.ok(BOT))
        params = {k: decoded(v) for k, v in parse_qsl(request.content.decode())}
        self.sent.append((method, params))
        if method in self.refusals:
            return httpx.Response(400, json=shapes.error(400, self.refusals[method]))
        chat_id = int(params["chat_id"])
        in_chat = shapes.chat(chat_id, "private" if chat_id > 0 else "supergroup")
        message_id = int(params.get("message_id") or next(self.message_ids))
        sent = shapes.message(
            message_id, int(time.time()), in_chat, from_user=BOT, text=str(params.get("text"))
        )
        return httpx.Response(200, json=shapes.ok(sent))


def decoded(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value
