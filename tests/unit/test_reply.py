"""What a reply sends: HTML, quoting the message outside private chats (and still sent if
that message is gone), in the message's forum topic, with the keyboard as given."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import ForceReply, InlineKeyboardMarkup, Update

from benchmarks.local_api import LocalBotApi
from buddybot import app as bot_app
from buddybot.bot.runtime import Deps
from buddybot.clock import SystemClock
from buddybot.fakegram import shapes
from buddybot.handlers import callbacks
from buddybot.handlers.common import Turn, actor_ref, chat_ref, safe_edit
from buddybot.settings import Settings
from buddybot.storage.db import Database


class Recording(LocalBotApi):
    """The benchmarks' in-process Bot API, keeping what was asked."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def _answer(self, name: str, params: dict[str, Any]) -> Any:
        if name != "getMe":
            self.sent.append((name, {k: _decoded(v) for k, v in params.items()}))
        return super()._answer(name, params)


def _decoded(value: Any) -> Any:
    """Nested objects travel as JSON text; compare them as objects."""
    if isinstance(value, str) and value.startswith("{"):
        return json.loads(value)
    return value


def _incoming(kind: str) -> dict[str, Any]:
    resident = shapes.user(5, "Anna")
    if kind == "private":
        msg = shapes.message(10, 1_700_000_000, shapes.chat(5, "private"), from_user=resident)
    else:
        chat = shapes.chat(-100123, "supergroup", title="Wijk")
        if kind == "topic":
            chat["is_forum"] = True
        extra = {"message_thread_id": 77, "is_topic_message": True} if kind == "topic" else {}
        msg = shapes.message(10, 1_700_000_000, chat, from_user=resident, text="/hulp", **extra)
    return {"update_id": 1, "message": msg}


MARKUPS = [
    None,
    InlineKeyboardMarkup([[callbacks.button("👍 Steun (3)", "sup", 7)]]),
    ForceReply(selective=True),
]


@pytest.mark.parametrize("kind", ["group", "private", "topic"])
@pytest.mark.parametrize("markup", MARKUPS, ids=["plain", "keyboard", "force_reply"])
async def test_a_reply_quotes_outside_private_chats_in_the_same_topic(
    kind: str, markup: InlineKeyboardMarkup | ForceReply | None
) -> None:
    request = Recording()
    settings = Settings(_env_file=None, token="1:abc", database_url="sqlite://")
    db = Database.for_settings(settings, SystemClock())
    deps = Deps.build(settings, db, SystemClock())
    app = bot_app.build_application(deps, request=request)
    async with app:
        update = Update.de_json(_incoming(kind), app.bot)
        context = SimpleNamespace(bot=app.bot)
        chat, actor = chat_ref(update.effective_chat), actor_ref(update.effective_user)
        turn = Turn(update, context, deps, chat, actor, "nl")  # type: ignore[arg-type]
        sent = await turn.reply("<b>Hoi</b> & welkom", markup=markup)
    await db.dispose()
    ((call, params),) = request.sent
    assert call == "sendMessage"
    assert params["chat_id"] == update.effective_chat.id
    assert params["text"] == "<b>Hoi</b> & welkom"
    assert params["parse_mode"] == "HTML"
    assert params.get("reply_markup") == (markup.to_dict() if markup else None)
    assert params.get("message_thread_id") == (77 if kind == "topic" else None)
    if kind == "private":
        assert "reply_parameters" not in params
    else:
        assert params["reply_parameters"]["message_id"] == 10
        assert params["reply_parameters"]["allow_sending_without_reply"] is True
    assert sent is not None
    assert sent.chat_id == update.effective_chat.id and sent.message_id > 0


class NotModified(LocalBotApi):
    """Answers every edit as Telegram answers a second press of the same button."""

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        if "editMessage" not in url:
            return await super().do_request(url, method, *args, **kwargs)
        error = {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: message is not modified: specified new message "
            "content and reply markup are exactly the same as a current content and reply "
            "markup of the message",
        }
        return 400, json.dumps(error).encode()


@pytest.mark.parametrize("text", [None, "Klaar"])
async def test_a_double_press_is_not_an_error(text: str | None) -> None:
    settings = Settings(_env_file=None, token="1:abc", database_url="sqlite://")
    db = Database.for_settings(settings, SystemClock())
    app = bot_app.build_application(Deps.build(settings, db, SystemClock()), request=NotModified())
    async with app:
        update = Update.de_json(_incoming("group"), app.bot)
        query = SimpleNamespace(message=update.effective_message)
        markup = InlineKeyboardMarkup([[callbacks.button("Ja", "x")]])
        await safe_edit(query, text=text, markup=markup)  # type: ignore[arg-type]
    await db.dispose()
