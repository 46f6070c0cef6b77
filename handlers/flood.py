"""Per-person flood limit: one person hammering commands or buttons gets one polite answer,
then is ignored until the minute is over. Other people and chats are not slowed down.

The same guard keeps each person within their share of a group's messages
(``bot.shares``): once a person's actions have made the bot send their share into a group
this minute, their next commands, replies and button presses there are not handled; they
are told once, in private (or in the button's own pop-up), never in the group. The group's
admins and facilitators have no share."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime

from telegram import Chat, Update
from telegram.constants import ChatID
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from buddybot.bot.context import BotContext
from buddybot.bot.shares import ACTING
from buddybot.domain.minute_window import MinuteWindow
from buddybot.i18n import supported, t
from buddybot.services import people


class FloodGuard:
    """At most ``limit`` commands, replies to the bot and presses a minute per person."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._window: MinuteWindow[int] = MinuteWindow()

    @property
    def tracked(self) -> int:
        """People the guard keeps anything about."""
        return self._window.tracked

    def allow(self, user_id: int, now: datetime) -> tuple[bool, bool]:
        """(allowed, warn now)."""
        if self._window.count(user_id, now) < self.limit:
            self._window.add(user_id, now)
            return True, False
        return False, self._window.warn_once(user_id, now)


def _for_the_bot(update: Update, bot_id: int) -> bool:
    """A command, an answer to one of the bot's messages (a card, a question), or a press:
    what makes the bot act. Ordinary talk in the group is not for the bot."""
    if update.callback_query is not None:
        return True
    msg = update.message
    if msg is None:
        return False
    if (msg.text or msg.caption or "").startswith("/"):  # a command, also in a caption
        return True
    replied = msg.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == bot_id


async def guard(flood: FloodGuard, update: object, context: BotContext) -> None:
    """Runs before every other handler (group -1); stops the update when over the limit."""
    if not isinstance(update, Update) or update.effective_user is None:
        ACTING.set(None)
        return
    user = update.effective_user
    # What the bot sends while handling this update counts against this person's share
    # (anonymous admins all share one id: they are admins, not counted).
    ACTING.set(None if user.id == ChatID.ANONYMOUS_ADMIN else user.id)
    if not _for_the_bot(update, context.bot.id):
        return  # member changes, polls, votes and ordinary talk are not flooding
    deps = context.deps
    allowed, warn = flood.allow(user.id, deps.clock.now())
    chat = update.effective_chat
    if (
        chat is not None
        and chat.type in (Chat.GROUP, Chat.SUPERGROUP)
        and user.id != ChatID.ANONYMOUS_ADMIN
        and deps.shares.used_up(user.id, chat.id)
        and not await _steers(context, chat.id, user.id)
    ):
        await over_share(update, context, chat.id)  # in private: never more in the group
        raise ApplicationHandlerStop
    if allowed:
        return
    if warn:
        lang = supported(user.language_code) or deps.policy.default_language
        text = t(lang, "flood.slow_down")
        with suppress(TelegramError):
            if update.callback_query is not None:
                await update.callback_query.answer(str(text), show_alert=True)
            elif update.effective_message is not None:
                await update.effective_message.reply_text(text)
    elif update.callback_query is not None:
        with suppress(TelegramError):
            await update.callback_query.answer()
    raise ApplicationHandlerStop


async def _steers(context: BotContext, chat_id: int, user_id: int) -> bool:
    """The group's admins and facilitators steer it (a vote, offline ideas typed in during a
    meeting): they have no share. Asked only over the share, not on every update."""
    deps = context.deps
    if await deps.admins.is_admin(context.bot, chat_id, user_id):
        return True
    policy = deps.policy
    return await deps.db.run(lambda uow: people.steers(uow, policy, chat_id, user_id))


async def over_share(update: Update, context: BotContext, chat_id: int) -> None:
    """The person has used their share of the group ``chat_id`` this minute: a press is
    answered in its own pop-up; anything else is explained once a minute in private (if
    they ever opened a private chat with the bot), never in the group."""
    user = update.effective_user
    if user is None:
        return
    deps = context.deps
    lang = supported(user.language_code) or deps.policy.default_language
    first = deps.shares.first_refusal(user.id, chat_id)
    with suppress(TelegramError):
        if update.callback_query is not None:
            text = t(lang, "flood.group_share_short")
            await update.callback_query.answer(str(text), show_alert=first)
        elif first:
            chat = update.effective_chat
            title = chat.title if chat is not None and chat.title else ""
            await context.bot.send_message(user.id, t(lang, "flood.group_share", group=title))
