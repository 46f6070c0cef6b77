"""The last line: log every unexpected error with its update, and apologise in the chat."""

from __future__ import annotations

import json
import logging

from telegram import Update
from telegram.error import TelegramError

from buddybot.bot.context import BotContext
from buddybot.i18n import supported, t

log = logging.getLogger("buddybot.errors")


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    summary = update.to_dict() if isinstance(update, Update) else repr(update)
    log.error(
        "error while handling update: %s",
        json.dumps(summary, default=str, ensure_ascii=False)[:2000],
        exc_info=error,
    )
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(error, TelegramError) and "blocked" in error.message:
        return
    user = update.effective_user
    lang = supported(user.language_code if user else None) or context.deps.policy.default_language
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(str(t(lang, "error.sorry_short")), show_alert=True)
        else:
            await context.bot.send_message(update.effective_chat.id, t(lang, "error.sorry"))
    except TelegramError as exc:
        log.warning("could not send the apology: %s", exc)
