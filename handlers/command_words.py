"""Commands that PTB's CommandHandler does not see as people typed them.

Telegram ends a ``bot_command`` entity at the first character outside ``[A-Za-z0-9_]``:
``/ideeën`` arrives as the command ``/idee`` with "ën" glued to it, which CommandHandler
would run as ``/idee``. And CommandHandler reads only ``message.text``, never a photo's
caption. This handler reads the whole first word of the text or caption, folds its accents
(``ideeën`` -> ``ideeen``) and runs the command of that name with the words after it as
``context.args``. Ordinary text commands are left to CommandHandler.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from telegram import Message, MessageEntity, Update
from telegram.ext import BaseHandler, filters

from buddybot.bot.context import BotContext
from buddybot.handlers.common import Callback


def fold(word: str) -> str:
    """Lower case without accents: "Ideeën" -> "ideeen" (also when typed as e + ¨)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def command_body(message: Message) -> tuple[str, list[MessageEntity]] | None:
    """The text or the caption that starts with a command, with its entities."""
    if message.text is not None:
        return message.text, list(message.entities)
    if message.caption is not None:
        return message.caption, list(message.caption_entities)
    return None


def typed_command(message: Message, bot_username: str) -> tuple[str, list[str]] | None:
    """(folded command word, args) when CommandHandler would get this message wrong: a
    command word that goes on past Telegram's entity, or a command in a caption."""
    body = command_body(message)
    if body is None:
        return None
    text, entities = body
    if not entities or entities[0].type != MessageEntity.BOT_COMMAND or entities[0].offset != 0:
        return None
    word, *args = text.split()
    glued = len(word) > entities[0].length  # the entity is ASCII: UTF-16 length == len
    if message.text is not None and not glued:
        return None  # an ordinary command: CommandHandler's
    name, _, at = word[1:].partition("@")
    if at and at.casefold() != bot_username.casefold():
        return None  # meant for another bot
    return fold(name), args


class TypedCommandHandler(BaseHandler[Update, BotContext, None]):
    """Runs ``callback`` for one command (any of ``names``) as people type it: with accents,
    or in a caption. ``context.args`` are the words after the command word."""

    def __init__(self, names: list[str], callback: Callback, message_filter: Any) -> None:
        super().__init__(callback)
        self.names = frozenset(fold(n) for n in names)
        self.filters: filters.BaseFilter = message_filter

    def check_update(self, update: object) -> list[str] | None:
        if not isinstance(update, Update) or update.effective_message is None:
            return None
        message = update.effective_message
        if not self.filters.check_update(update):
            return None
        found = typed_command(message, message.get_bot().username)
        if found is None or found[0] not in self.names:
            return None
        return found[1]

    def collect_additional_context(
        self,
        context: BotContext,
        update: Update,
        application: Any,
        check_result: list[str],
    ) -> None:
        context.args = check_result
