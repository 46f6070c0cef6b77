"""A reply goes out exactly as PTB's ``Message.reply_text`` would send it, in every kind of
chat, although ``send.reply`` skips reading back the message Telegram returns."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import CopyTextButton, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message

from buddybot import app as bot_app
from buddybot.bot import send
from buddybot.bot.keyboard import Keyboard
from buddybot.bot.runtime import Deps
from buddybot.clock import SystemClock
from buddybot.fakegram import shapes
from buddybot.settings import Settings
from buddybot.storage.db import Database
from tests.support.bot_api import RecordingBotApi


def _incoming(kind: str) -> dict[str, Any]:
    resident = shapes.user(5, "Anna")
    if kind == "private":
        return shapes.message(10, 1_700_000_000, shapes.chat(5, "private"), from_user=resident)
    chat = shapes.chat(-100123, "supergroup", title="Wijk")
    if kind == "topic":
        chat["is_forum"] = True
    extra = {"message_thread_id": 77, "is_topic_message": True} if kind == "topic" else {}
    return shapes.message(10, 1_700_000_000, chat, from_user=resident, text="/hulp", **extra)


MARKUPS = [
    None,
    InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="1:x")]]),
    ForceReply(selective=True),
]
# send.markup_json writes common keyboards itself and hands every other one to PTB.
KEYBOARDS = [
    InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("👍 Steun <3>", callback_data="1:sup:7"),
                InlineKeyboardButton("Kaart", url="https://example.org/?a=1&b=2"),
            ],
            [InlineKeyboardButton("Meer", callback_data="")],
        ]
    ),
    InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Ja", callback_data="1:x")],
            [InlineKeyboardButton("Kopieer", copy_text=CopyTextButton("abc"))],
        ]
    ),
    InlineKeyboardMarkup(
        [[InlineKeyboardButton("Ja", callback_data="1:x", api_kwargs={"style": "danger"})]]
    ),
    InlineKeyboardMarkup(
        [[InlineKeyboardButton("Ja", callback_data="1:x")]], api_kwargs={"extra": True}
    ),
    InlineKeyboardMarkup([]),
    InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="1:x")], []]),
]


@pytest.mark.parametrize(
    "markup",
    KEYBOARDS,
    ids=["common", "rare_field", "button_extra", "markup_extra", "empty", "empty_row"],
)
async def test_a_keyboard_is_sent_as_ptb_writes_it(markup: InlineKeyboardMarkup) -> None:
    assert send.markup_json(markup) == markup.to_dict()


# The cards' keyboards are plain data (buddybot.bot.keyboard), written without PTB.
CARD_KEYBOARDS = [
    Keyboard.of([[("👍 Steun (3)", "1:sup:7"), ("🙋 Meedoen", "1:join:7")], [("<&>", "1:x")]]),
    Keyboard.of([[("Ja", "1:x")]]),
    Keyboard.of([]),
]


@pytest.mark.parametrize("keyboard", CARD_KEYBOARDS, ids=["card", "one", "empty"])
async def test_a_card_keyboard_is_sent_as_ptb_writes_its_buttons(keyboard: Keyboard) -> None:
    assert send.markup_json(keyboard) == keyboard.markup().to_dict()
    request = RecordingBotApi()
    settings = Settings(_env_file=None, token="1:abc", database_url="sqlite+aiosqlite://")
    db = Database.for_settings(settings, SystemClock())
    app = bot_app.build_application(Deps.build(settings, db, SystemClock()), request=request)
    async with app:
        incoming = Message.de_json(_incoming("group"), app.bot)
        assert incoming is not None
        await incoming.reply_text("Kaart", reply_markup=keyboard.markup())
        await send.reply(app.bot, incoming, "Kaart", keyboard)
        await app.bot.edit_message_text("Kaart", -100123, 5, reply_markup=keyboard.markup())
        await send.edit_text(app.bot, -100123, 5, "Kaart", keyboard)
    await db.dispose()
    (_, ptb_reply), (_, our_reply), (_, ptb_edit), (_, our_edit) = request.sent
    assert our_reply == ptb_reply
    assert our_edit == ptb_edit


@pytest.mark.parametrize("kind", ["group", "private", "topic"])
@pytest.mark.parametrize("markup", MARKUPS, ids=["plain", "keyboard", "force_reply"])
async def test_a_reply_is_sent_as_reply_text_sends_it(
    kind: str, markup: InlineKeyboardMarkup | ForceReply | None
) -> None:
    request = RecordingBotApi()
    settings = Settings(_env_file=None, token="1:abc", database_url="sqlite+aiosqlite://")
    db = Database.for_settings(settings, SystemClock())
    app = bot_app.build_application(Deps.build(settings, db, SystemClock()), request=request)
    async with app:
        incoming = Message.de_json(_incoming(kind), app.bot)
        assert incoming is not None
        await incoming.reply_text("<b>Hoi</b> & welkom", reply_markup=markup)
        sent = await send.reply(app.bot, incoming, "<b>Hoi</b> & welkom", markup)
    await db.dispose()
    (ptb_call, ptb_params), (our_call, our_params) = request.sent
    assert our_call == ptb_call == "sendMessage"
    assert our_params == ptb_params
    assert sent.chat_id == incoming.chat_id and sent.message_id > 0
    if kind == "topic":
        assert our_params["message_thread_id"] == 77
    if kind != "private":
        assert our_params["reply_parameters"] == {
            "message_id": 10,
            "allow_sending_without_reply": True,
            "quote_parse_mode": "HTML",
        }
