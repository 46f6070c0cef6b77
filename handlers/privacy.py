"""/mijngegevens, /vergeetmij and /privacy: the person's own data, in a private chat."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from telegram import Bot, InlineKeyboardMarkup, InputFile, Message
from telegram.error import TelegramError

from buddybot.bot import send
from buddybot.bot.runtime import Deps
from buddybot.handlers import callbacks
from buddybot.handlers.callbacks import Button
from buddybot.handlers.common import Turn, button, command, safe_edit
from buddybot.i18n import join_lines, t
from buddybot.services import privacy, wijken
from buddybot.services.errors import Refusal
from buddybot.services.people import Caller
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Wijk

log = logging.getLogger(__name__)


def _private_only(turn: Turn) -> None:
    if turn.in_group:
        raise Refusal("private_only")


@command
async def my_data(turn: Turn) -> None:
    _private_only(turn)
    data = await turn.run(privacy.my_data, remember=False)
    summary = join_lines(
        [
            turn.t("mydata.title"),
            turn.t("mydata.wijken", count=len(data["wijken"])),
            turn.t("mydata.ideas", count=len(data["ideas_authored"])),
            turn.t("mydata.involved", count=len(data["support_help_champion"])),
            turn.t("mydata.answers", count=len(data["meeting_answers"])),
            turn.t("mydata.votes", count=len(data["open_vote_choices"])),
            turn.t(
                "mydata.made",
                count=sum(
                    len(data[key])
                    for key in (
                        "meetings_organised",
                        "announcements_created",
                        "votes_started",
                        "partner_links_made",
                    )
                ),
            ),
            turn.t("mydata.questions", count=len(data["open_questions"])),
            turn.t("mydata.file"),
        ]
    )
    await turn.reply(summary)
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
    assert turn.chat is not None
    await turn.context.bot.send_document(
        turn.chat.tg_chat_id, InputFile(body, filename="mijn-gegevens.json")
    )


@command
async def forget_me(turn: Turn) -> None:
    _private_only(turn)

    def stored(uow: UnitOfWork, caller: Caller) -> None:
        if caller.person is None:  # forgotten already (or never seen): nothing to confirm
            raise Refusal("nothing_stored")

    await turn.run(stored, remember=False)
    markup = InlineKeyboardMarkup(
        [
            [
                callbacks.button(turn.t("button.forget_yes"), Button.FORGET_ME_YES),
                callbacks.button(turn.t("button.forget_no"), Button.FORGET_ME_NO),
            ]
        ]
    )
    await turn.reply(turn.t("forget.ask"), markup=markup)


@button
async def forget_yes(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    callbacks.unpack(query.data, Button.FORGET_ME_YES, 0)
    _private_only(turn)

    policy = turn.deps.policy

    def work(uow: UnitOfWork, caller: Caller) -> tuple[privacy.Forgotten, dict[int, Wijk | None]]:
        done = privacy.forget(uow, policy, caller)
        return done, {c.id: wijken.by_id(uow, c.wijk_id) for c in done.released}

    done, groups = await turn.run(work, remember=False)
    await safe_edit(query, text=turn.t("forget.done"))
    # Every group message that named them: live cards shown again without them, messages
    # that only announced them removed.
    for idea_id in done.ideas_touched:
        turn.context.live.request(turn.context.bot, "idea", idea_id)
    for meeting_id in done.meetings_touched:
        turn.context.live.request(turn.context.bot, "meeting", meeting_id)
    for chat_id, message_id, lang in done.messages:
        await _remove(turn.context.bot, chat_id, message_id, lang)
    for card in done.released:
        wijk = groups.get(card.id)
        if wijk is None or not wijk.active:
            continue
        chat_id, lang = wijk.tg_chat_id, wijk.language
        await send.to_group(
            turn.context.bot,
            turn.deps,
            chat_id,
            t(lang, "recruit.released", number=card.number, title=card.title),
            reply_markup=InlineKeyboardMarkup(
                [[callbacks.button(t(lang, "button.champion"), Button.CHAMPION, card.id)]]
            ),
        )
    return None


async def _remove(bot: Bot, chat_id: int, message_id: int, lang: str) -> None:
    """Delete a group message of the bot; where Telegram refuses (older than 48 hours and
    the bot is no admin), replace its text, which a bot may always do with its own."""
    try:
        await bot.delete_message(chat_id, message_id)
        return
    except TelegramError as exc:
        log.info("message %s in %s not deleted: %s", message_id, chat_id, exc)
    try:
        await bot.edit_message_text(t(lang, "forget.removed"), chat_id, message_id)
    except TelegramError as exc:
        log.warning("message %s in %s not blanked: %s", message_id, chat_id, exc)


async def remember_named(
    deps: Deps, tg_user_ids: int | Sequence[int], msg: Message | None, kind: str
) -> None:
    """Remember a group message that names these people (see ``forget_yes``)."""
    if msg is None or msg.chat.type == "private":
        return
    ids = [tg_user_ids] if isinstance(tg_user_ids, int) else list(tg_user_ids)
    if not ids:
        return
    chat_id, message_id = msg.chat_id, msg.message_id
    await deps.db.run(lambda uow: privacy.remember_named(uow, ids, chat_id, message_id, kind))


@button
async def forget_no(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    callbacks.unpack(query.data, Button.FORGET_ME_NO, 0)
    await safe_edit(query, text=turn.t("forget.kept"))
    return None


@command
async def privacy_info(turn: Turn) -> None:
    await turn.run(lambda uow, caller: None, remember=False)
    await turn.reply(turn.t("privacy.text"))


def _require_purger(caller: Caller) -> None:
    if not caller.authority.telegram_admin and not caller.superadmin:
        raise Refusal("admins_only_purge")


@command
async def purge(turn: Turn) -> None:
    """Erase a finished wijk: only a group admin, with two confirmations."""

    def work(uow: UnitOfWork, caller: Caller) -> None:
        if caller.wijk is None:
            raise Refusal("group_only")
        _require_purger(caller)

    await turn.run(work, need_admin=True)
    markup = InlineKeyboardMarkup([[callbacks.button(turn.t("button.purge_1"), Button.PURGE_ASK)]])
    await turn.reply(turn.t("purge.ask_1"), markup=markup)


@button
async def purge_first(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    callbacks.unpack(query.data, Button.PURGE_ASK, 0)
    await turn.run(lambda uow, caller: _require_purger(caller), need_admin=True)
    markup = InlineKeyboardMarkup(
        [[callbacks.button(turn.t("button.purge_2"), Button.PURGE_CONFIRM)]]
    )
    await safe_edit(query, text=turn.t("purge.ask_2"), markup=markup)
    return None


@button
async def purge_second(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    callbacks.unpack(query.data, Button.PURGE_CONFIRM, 0)
    await turn.run(privacy.purge_own_wijk, need_admin=True)
    await safe_edit(query, text=turn.t("purge.done"))
    return None
