"""The bot's newest dialogue question in a chat, as Telegram would show it: its reply box
(the ForceReply sent with it), the message it quotes and the people it mentions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.support.harness import Harness

JSON = dict[str, Any]


@dataclass(frozen=True)
class Question:
    message_id: int
    text: str
    force_reply: JSON  # the reply_markup sent with it
    reply_to: int | None  # the message id it quotes
    mentions: list[int]  # user ids of its text mentions

    def box_for(self, message_id: int | None = None, user_id: int | None = None) -> bool:
        """Telegram shows a selective reply box to the sender of the quoted message and to
        the people mentioned: is this box selective and meant for that message or user?"""
        selective = self.force_reply.get("force_reply") is True
        selective = selective and self.force_reply.get("selective") is True
        quoted = message_id is not None and self.reply_to == message_id
        named = user_id is not None and user_id in self.mentions
        return selective and (quoted or named)


async def last_question(bot: Harness, chat: int) -> Question:
    sent = [
        c["params"]
        for c in await bot.tg.calls("sendMessage")
        if c["ok"] and str(c["params"].get("chat_id")) == str(chat)
    ][-1]
    markup = sent.get("reply_markup")
    markup = json.loads(markup) if isinstance(markup, str) else markup
    assert isinstance(markup, dict) and "force_reply" in markup, "the last message asks nothing"
    msg = (await bot.tg.messages(chat))[-1]
    quoted = msg.get("reply_to_message")
    return Question(
        message_id=int(msg["message_id"]),
        text=str(msg.get("text", "")),
        force_reply=markup,
        reply_to=int(quoted["message_id"]) if quoted else None,
        mentions=[
            int(e["user"]["id"]) for e in msg.get("entities") or [] if e["type"] == "text_mention"
        ],
    )
