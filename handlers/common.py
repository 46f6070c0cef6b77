"""The shape every handler shares: read the update, open one unit of work, call a service,
answer in the right language. Refusals and redelivered updates are handled here once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Literal, TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    Chat,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ChatID
from telegram.error import BadRequest

from buddybot.bot.admins import Standing
from buddybot.bot.context import BotContext
from buddybot.bot.live import LiveMessages
from buddybot.bot.runtime import Deps
from buddybot.handlers import callbacks
from buddybot.i18n import Html, supported, t
from buddybot.services import people
from buddybot.services.errors import Refusal
from buddybot.services.refs import ActorRef, Authority, ChatRef
from buddybot.storage.db import AlreadyHandled, UnitOfWork

log = logging.getLogger(__name__)
charts_log = logging.getLogger("buddybot.charts")

Callback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
T = TypeVar("T")


def chat_ref(chat: Chat | None) -> ChatRef | None:
    if chat is None:
        return None
    kind = chat.type if chat.type in ("private", "group", "supergroup") else "channel"
    return ChatRef(chat.id, kind, chat.title)  # type: ignore[arg-type]


def actor_ref(user: User | None) -> ActorRef | None:
    if user is None or (user.is_bot and user.id != ChatID.ANONYMOUS_ADMIN):
        return None
    return ActorRef(user.id, user.first_name, user.last_name, user.username, user.language_code)


def is_anonymous_admin(update: Update) -> bool:
    msg = update.effective_message
    user = update.effective_user
    return (
        user is not None
        and user.id == ChatID.ANONYMOUS_ADMIN
        and msg is not None
        and msg.sender_chat is not None
        and msg.sender_chat.id == msg.chat.id
    )


@dataclass
class Turn:
    """One update being handled."""

    update: Update
    context: BotContext
    deps: Deps
    chat: ChatRef | None
    actor: ActorRef | None
    lang: str
    caller: people.Caller | None = field(default=None)
    _authority: Authority | None = field(default=None)

    @property
    def in_group(self) -> bool:
        return self.chat is not None and self.chat.is_group

    async def run(
        self,
        work: Callable[[UnitOfWork, people.Caller], T],
        *,
        need_admin: bool = False,
        remember: bool = True,
    ) -> T:
        """The update's one unit of work (it records the update id, so use it once): finds
        out who is asking, then runs ``work(uow, caller)`` in one piece (``Database.run``)
        and returns what it returns.

        ``need_admin`` asks Telegram who the group's admins are *before* the unit of work
        starts: no network call ever runs while the database is held.

        ``remember=False``: the work needs no record of the person, so someone who asked
        to be forgotten is not stored again (their caller has no person)."""
        self._authority = await self.authority(need_admin)

        def unit(uow: UnitOfWork) -> T:
            return work(uow, self.identify(uow, remember=remember))

        return await self.deps.db.run(unit, update_id=self.update.update_id)

    async def authority(self, need_admin: bool) -> Authority:
        if is_anonymous_admin(self.update):
            return Authority(telegram_admin=True, anonymous_admin=True)
        if not need_admin or not self.in_group or self.actor is None or self.chat is None:
            return Authority()
        admin = await self.deps.admins.is_admin(
            self.context.bot, self.chat.tg_chat_id, self.actor.tg_user_id
        )
        return Authority(telegram_admin=admin)

    def identify(self, uow: UnitOfWork, *, remember: bool = True) -> people.Caller:
        """Who is asking, in this unit of work; also sets the language to answer in."""
        authority = self._authority or Authority(anonymous_admin=is_anonymous_admin(self.update))
        if authority.anonymous_admin:
            authority = Authority(telegram_admin=True, anonymous_admin=True)
        caller = people.identify(
            uow, self.deps.policy, self.chat, self.actor, authority, remember=remember
        )
        self.caller = caller
        self.lang = caller.language
        return caller

    async def settle_language(self) -> None:
        """A refusal before ``identify`` (a bad argument) still answers a group in the
        wijk's language, not in the sender's."""
        if self.caller is None and self.in_group and self.chat is not None:
            tg_chat_id = self.chat.tg_chat_id
            found = await self.deps.db.run(lambda uow: people.wijk_language(uow, tg_chat_id))
            self.lang = found or self.lang

    def t(self, key: str, /, **params: object) -> Html:
        return t(self.lang, key, **params)

    async def reply(
        self, text: str, *, markup: InlineKeyboardMarkup | ForceReply | None = None
    ) -> Message | None:
        """Answer in the update's chat: quoting the message outside private chats (still sent
        if it is gone), in its forum topic; without a message, to the chat."""
        msg = self.update.effective_message
        if msg is None:
            if self.chat is None:
                return None
            return await self.context.bot.send_message(
                self.chat.tg_chat_id, text, reply_markup=markup
            )
        return await msg.reply_text(text, reply_markup=markup)


async def standing(
    deps: Deps, bot: Bot, tg_chat_id: int, tg_user_id: int, live: LiveMessages | None = None
) -> Standing | None:
    """A person's place in a group, for a power used outside it (``AdminCache.standing``:
    Telegram is asked where the bot hears of no leaves). Someone Telegram says is gone
    loses their roles there now (``people.end_membership``), and the cards that named them
    as champion are brought up to date (with ``live``). None: Telegram could not be asked,
    and the caller grants no power that rests on the group."""
    found = await deps.admins.standing(bot, tg_chat_id, tg_user_id)
    if found is not None and not found.present:
        changed = await deps.db.run(lambda uow: people.end_membership(uow, tg_chat_id, tg_user_id))
        if live is not None:
            for idea_id in changed:
                live.request(bot, "idea", idea_id)
    return found


def new_turn(update: Update, context: BotContext) -> Turn:
    deps = context.deps
    chat = chat_ref(update.effective_chat)
    actor = actor_ref(update.effective_user)
    lang = supported(actor.language_code if actor else None) or deps.policy.default_language
    return Turn(update, context, deps, chat, actor, lang)


def command(fn: Callable[[Turn], Awaitable[None]]) -> Callback:
    """Wrap a command or message handler: refusals become a friendly reply."""

    @wraps(fn)
    async def run(update: Update, context: BotContext) -> None:
        turn = new_turn(update, context)
        try:
            await fn(turn)
        except AlreadyHandled:
            log.info("update %s was handled before; ignored", update.update_id)
        except Refusal as refusal:
            await turn.settle_language()
            await turn.reply(turn.t(f"refusal.{refusal.key}", **refusal.params))

    return run


def button(fn: Callable[[Turn], Awaitable[str | None]]) -> Callback:
    """Wrap a button handler. It returns a short toast (or None); the query is always
    answered, also when the press is refused or was handled before."""

    @wraps(fn)
    async def run(update: Update, context: BotContext) -> None:
        query = update.callback_query
        assert query is not None
        turn = new_turn(update, context)
        toast: str | None = None
        alert = False
        try:
            toast = await fn(turn)
        except AlreadyHandled:
            log.info("button update %s was handled before; ignored", update.update_id)
        except Refusal as refusal:
            await turn.settle_language()
            toast, alert = turn.t(f"refusal.{refusal.key}", **refusal.params), True
        try:
            await query.answer(_plain(toast), show_alert=alert)
        except BadRequest as exc:  # too old, or already answered
            log.info("could not answer callback query: %s", exc.message)

    return run


def button_id(turn: Turn, kind: callbacks.Button) -> int:
    """The one id in a pressed button's data (``1:<kind>:<id>``), or a stale-button refusal."""
    query = turn.update.callback_query
    assert query is not None
    (raw,) = callbacks.unpack(query.data, kind, 1)
    if not callbacks.is_id(raw):
        raise Refusal("stale_button")
    return int(raw)


def _plain(text: str | None) -> str | None:
    """Toasts are plain text: strip the few tags the catalogs use."""
    if text is None:
        return None
    import html
    import re

    return html.unescape(re.sub(r"</?(b|i|u|s|code)>", "", text))[:200]


async def safe_edit(
    query: CallbackQuery,
    *,
    text: str | None = None,
    markup: InlineKeyboardMarkup | Literal["keep"] | None = "keep",
) -> None:
    """Edit the message under a pressed button. A double press ("not modified") or a message
    that is gone is not an error worth an apology."""
    msg = query.message
    if not isinstance(msg, Message):
        return
    try:
        if text is not None:
            await msg.edit_text(text, reply_markup=None if markup == "keep" else markup)
        elif markup != "keep":
            await msg.edit_reply_markup(markup)
    except BadRequest as exc:
        if "not modified" not in exc.message and "not found" not in exc.message:
            raise


async def draw(chart: Callable[[], T], what: str) -> T | None:
    """A chart drawn off the event loop (matplotlib is slow and synchronous). A chart is a
    picture of a text that is sent anyway: when it cannot be drawn this is None, logged on
    ``buddybot.charts``, and what comes next (a champion call) still happens."""
    try:
        return await asyncio.to_thread(chart)
    except Exception as exc:  # any failure of the drawing
        # The error's text may quote the words drawn (a title): only its kind at ERROR,
        # the traceback at DEBUG, which is documented to hold texts.
        charts_log.error("%s: chart not drawn (%s)", what, type(exc).__name__)
        charts_log.debug("%s: chart not drawn", what, exc_info=True)
        return None
