"""The bot joins and leaves groups, groups migrate, people come and go, roles are handed out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from telegram import ChatMember, ChatMemberUpdated, Update

from buddybot.bot.context import BotContext
from buddybot.domain.roles import Role
from buddybot.handlers.common import Turn, actor_ref, chat_ref, command
from buddybot.handlers.privacy import remember_named
from buddybot.i18n import join_lines, t
from buddybot.services import people, wijken
from buddybot.storage.db import UnitOfWork

log = logging.getLogger(__name__)
T = TypeVar("T")

PRESENT = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER}


def _present(member: ChatMember) -> bool:
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return member.status in PRESENT


def _change(cmu: ChatMemberUpdated) -> tuple[bool, bool]:
    return _present(cmu.old_chat_member), _present(cmu.new_chat_member)


async def _record(turn: Turn, work: Callable[[UnitOfWork], T]) -> T:
    """The update's unit of work for a change of membership: it records the update but
    identifies no caller (whoever changed the membership did not speak in the group)."""
    return await turn.deps.db.run(work, update_id=turn.update.update_id)


@command
async def bot_membership(turn: Turn) -> None:
    cmu = turn.update.my_chat_member
    assert cmu is not None
    chat = chat_ref(cmu.chat)
    if chat is None or not chat.is_group:
        return  # private chats: blocking and unblocking are seen when sending
    was, now = _change(cmu)
    if was == now:
        # Promoted or demoted: whether the admin list can be trusted changes (bot.admins).
        statuses = (cmu.old_chat_member.status, cmu.new_chat_member.status)
        if ChatMember.ADMINISTRATOR in statuses:
            await turn.deps.admins.changed(chat.tg_chat_id)
        return
    if now:
        policy, by = turn.deps.policy, actor_ref(cmu.from_user)
        joined = await _record(turn, lambda uow: wijken.bot_added(uow, policy, chat, by))
        lang = joined.language
        if joined.rejoined:
            lines = [t(lang, "greet.back", title=joined.title)]
        else:
            lines = [
                t(lang, "greet.hello", title=joined.title),
                t(lang, "greet.what"),
                t(lang, "greet.start"),
            ]
        if cmu.new_chat_member.status != ChatMember.ADMINISTRATOR:
            lines.append(t(lang, "greet.admin"))
        text = join_lines(lines)
        await turn.context.bot.send_message(chat.tg_chat_id, text)
    else:
        tg_chat_id = chat.tg_chat_id
        await _record(turn, lambda uow: wijken.bot_removed(uow, tg_chat_id))
        await turn.deps.admins.changed(chat.tg_chat_id)


@command
async def member_change(turn: Turn) -> None:
    cmu = turn.update.chat_member
    assert cmu is not None
    admin_states = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
    if cmu.old_chat_member.status in admin_states or cmu.new_chat_member.status in admin_states:
        await turn.deps.admins.changed(cmu.chat.id)  # ask Telegram again, on every replica
    was, now = _change(cmu)
    chat = chat_ref(cmu.chat)
    actor = actor_ref(cmu.new_chat_member.user)
    if chat is None or actor is None or was == now:
        return
    policy = turn.deps.policy
    if now:
        await _record(turn, lambda uow: people.member_joined(uow, policy, chat, actor))
    else:
        await _gone(turn, chat.tg_chat_id, actor.tg_user_id)


@command
async def member_gone(turn: Turn) -> None:
    """The "left the group" service message. A bot that is no admin gets no ``chat_member``
    updates, but it does see this message (in groups that show it)."""
    msg = turn.update.effective_message
    user = msg.left_chat_member if msg else None
    if msg is None or user is None or user.is_bot or not turn.in_group:
        return
    await _gone(turn, msg.chat.id, user.id)


async def _gone(turn: Turn, tg_chat_id: int, tg_user_id: int) -> None:
    """Someone left or was removed: their roles end (people.end_membership), and the cards
    that named them as champion are brought up to date."""
    changed = await _record(turn, lambda uow: people.end_membership(uow, tg_chat_id, tg_user_id))
    for idea_id in changed:
        turn.context.live.request(turn.context.bot, "idea", idea_id)


@command
async def seen(turn: Turn) -> None:
    """Any message in a wijk's group: the bot now knows this person lives there (unless
    they asked to be forgotten: talking in the group is no reason to store them again)."""
    await turn.run(lambda uow, caller: None, remember=False)


async def migrated(update: Update, context: BotContext) -> None:
    msg = update.effective_message
    if msg is None:
        return
    if msg.migrate_to_chat_id:
        old, new = msg.chat.id, msg.migrate_to_chat_id
    elif msg.migrate_from_chat_id:
        old, new = msg.migrate_from_chat_id, msg.chat.id
    else:
        return
    deps = context.deps
    wijk_id = await deps.db.run(lambda uow: wijken.migrated(uow, old, new))
    await deps.admins.changed(old, new)
    if wijk_id is not None:
        context.application.migrate_chat_data(old_chat_id=old, new_chat_id=new)
        log.info("wijk %s moved from chat %s to %s", wijk_id, old, new)


async def _appoint(turn: Turn, role: Role) -> None:
    msg = turn.update.effective_message
    user = msg.reply_to_message.from_user if msg and msg.reply_to_message else None
    target, is_bot = actor_ref(user), bool(user and user.is_bot)
    done = await turn.run(
        lambda uow, caller: people.appoint(uow, caller, target, role, is_bot=is_bot),
        need_admin=True,
    )
    key = f"role.{role.value}.granted" if done.granted else f"role.{role.value}.revoked"
    msg = await turn.reply(turn.t(key, name=done.name))
    if target is not None:
        await remember_named(turn.deps, target.tg_user_id, msg, f"role_{role.value}")


@command
async def appoint_facilitator(turn: Turn) -> None:
    await _appoint(turn, Role.FACILITATOR)


@command
async def appoint_buddy(turn: Turn) -> None:
    await _appoint(turn, Role.BUDDY)
