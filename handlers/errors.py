"""The last line: log every unexpected error with the ids of its update, and apologise in the
chat.

The log carries ids only (update, chat, user) and the kind of update: never names, usernames
or what someone wrote (see PRIVACY.md on logs)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from buddybot.bot.context import BotContext
from buddybot.i18n import supported, t

log = logging.getLogger("buddybot.errors")


def describe(update: object) -> str:
    """``update=<id> kind=<message|callback_query|…> chat=<id> user=<id>``: enough to find
    the update again, nothing a person wrote or is called."""
    if not isinstance(update, Update):
        return f"no update ({type(update).__name__})"
    kind = next(
        (str(kind) for kind in Update.ALL_TYPES if getattr(update, str(kind), None) is not None),
        "unknown",
    )
    chat = update.effective_chat
    user = update.effective_user
    return (
        f"update={update.update_id} kind={kind} "
        f"chat={chat.id if chat else '-'} user={user.id if user else '-'}"
    )


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    log.error("error while handling %s", describe(update), exc_info=error)
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
