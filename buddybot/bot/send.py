"""Sending to a wijk's group, surviving the two ways a group can move away."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Chat, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import ChatMigrated, Forbidden
from telegram.warnings import PTBUserWarning

from buddybot.bot.keyboard import Keyboard
from buddybot.bot.runtime import Deps
from buddybot.services import wijken

log = logging.getLogger(__name__)

# edit_text and reply below ask for editMessageText and sendMessage by name on purpose.
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.(edit_message_text|send_message)'",
    category=PTBUserWarning,
)


@dataclass(frozen=True, slots=True)
class Sent:
    """Where a reply landed: all a handler needs to find it again later."""

    chat_id: int
    message_id: int


async def to_group(bot: Bot, deps: Deps, chat_id: int, text: str, **kwargs: Any) -> Message | None:
    """Send to a group. A migrated group is followed to its new id (and the wijk updated);
    a group that removed the bot deactivates its wijk and the message is dropped (None)."""
    try:
        return await bot.send_message(chat_id, text, **kwargs)
    except ChatMigrated as exc:
        new_id = exc.new_chat_id
        await deps.db.run(lambda uow: wijken.migrated(uow, chat_id, new_id))
        await deps.admins.changed(chat_id, new_id)
        return await bot.send_message(new_id, text, **kwargs)
    except Forbidden as exc:
        log.info("bot can no longer write to %s (%s); wijk deactivated", chat_id, exc.message)
        await deps.db.run(lambda uow: wijken.bot_removed(uow, chat_id))
        return None


# Every field a button may carry besides its text, a link and its callback data.
_RARE_FIELDS = tuple(
    f for f in InlineKeyboardButton.__slots__ if f not in ("text", "url", "callback_data")
)


def markup_json(markup: InlineKeyboardMarkup | ForceReply | Keyboard) -> dict[str, Any]:
    """The keyboard as the Bot API's JSON, as ``markup.to_dict()`` gives it, written without
    PTB's generic ``to_dict`` for the common case; a keyboard with anything else than text,
    links and string callback data goes to PTB."""
    if isinstance(markup, Keyboard):
        return markup.json()
    if not isinstance(markup, InlineKeyboardMarkup) or markup.api_kwargs:
        return markup.to_dict()
    rows = []
    for row in markup.inline_keyboard:
        if not row:
            return markup.to_dict()  # (PTB leaves out what is empty)
        buttons = []
        for b in row:
            if b.api_kwargs or not isinstance(b.callback_data, str | None):
                return markup.to_dict()
            for f in _RARE_FIELDS:
                if getattr(b, f) is not None:
                    return markup.to_dict()
            button: dict[str, Any] = {"text": b.text}
            if b.url is not None:
                button["url"] = b.url
            if b.callback_data is not None:
                button["callback_data"] = b.callback_data
            buttons.append(button)
        rows.append(buttons)
    return {"inline_keyboard": rows} if rows else markup.to_dict()


async def edit_text(
    bot: Bot,
    chat_id: int,
    message_id: int,
    text: str,
    markup: InlineKeyboardMarkup | Keyboard | None,
) -> None:
    """Edit a message's text (and keyboard) without reading back the message Telegram
    returns: nothing uses it. Errors are raised as with ``bot.edit_message_text``."""
    params: dict[str, Any] = {
        "chat_id": chat_id,
        "message_id": message_id,
        "text": text,
        "parse_mode": ParseMode.HTML,
    }
    if markup is not None:
        params["reply_markup"] = markup_json(markup)
    await bot.do_api_request("edit_message_text", api_kwargs=params)


async def reply(
    bot: Bot,
    to: Message,
    text: str,
    markup: InlineKeyboardMarkup | ForceReply | Keyboard | None = None,
) -> Sent:
    """Reply to ``to`` as ``Message.reply_text`` would (HTML; quoting the message outside
    private chats, still sent if it is gone; in its forum topic), without reading back the
    whole message Telegram returns: handlers need only its chat and id."""
    params: dict[str, Any] = {"chat_id": to.chat_id, "text": text, "parse_mode": ParseMode.HTML}
    if to.chat.type != Chat.PRIVATE:
        params["reply_parameters"] = {
            "message_id": to.message_id,
            "allow_sending_without_reply": True,
            "quote_parse_mode": ParseMode.HTML,  # as PTB sends it; no quote is set
        }
    if to.is_topic_message and to.message_thread_id is not None:
        params["message_thread_id"] = to.message_thread_id
    if markup is not None:
        params["reply_markup"] = markup_json(markup)
    result = await bot.do_api_request("send_message", api_kwargs=params)
    return Sent(int(result["chat"]["id"]), int(result["message_id"]))
