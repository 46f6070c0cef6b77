"""What a reply sends: HTML, quoting the message outside private chats (and still sent if
that message is gone), in the message's forum topic, with the keyboard as given."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from telegram import ForceReply, InlineKeyboardMarkup, Update

from buddybot import app as bot_app
from buddybot.bot.runtime import Deps
from buddybot.clock import SystemClock
from buddybot.fakegram import shapes
from buddybot.handlers import callbacks
from buddybot.handlers.common import Turn, actor_ref, chat_ref, safe_edit
from buddybot.settings import Settings
from buddybot.storage.db import Database
from tests.support.bot_api import RecordingBotApi


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
    request = RecordingBotApi()
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


# Telegram's answer to an edit that changes nothing (a second press of the same button).
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


@pytest.mark.parametrize("text", [None, "Klaar"])
async def test_a_double_press_is_not_an_error(text: str | None) -> None:
    settings = Settings(_env_file=None, token="1:abc", database_url="sqlite://")
    db = Database.for_settings(settings, SystemClock())
    not_modified = RecordingBotApi(
        refusals={"editMessageText": NOT_MODIFIED, "editMessageReplyMarkup": NOT_MODIFIED}
    )
    app = bot_app.build_application(Deps.build(settings, db, SystemClock()), request=not_modified)
    async with app:
        update = Update.de_json(_incoming("group"), app.bot)
        query = SimpleNamespace(message=update.effective_message)
        markup = InlineKeyboardMarkup([[callbacks.button("Ja", "x")]])
        await safe_edit(query, text=text, markup=markup)  # type: ignore[arg-type]
    await db.dispose()
    edit = "editMessageText" if text else "editMessageReplyMarkup"
    assert [method for method, _ in not_modified.sent] == [edit]  # asked, refused, no error
