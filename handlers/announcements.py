"""/aankondiging: texts the bot posts on time (once or weekly), and the weekly digest."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden

from buddybot.bot import send
from buddybot.bot.runtime import Deps
from buddybot.handlers import callbacks
from buddybot.handlers.callbacks import Button
from buddybot.handlers.common import Turn, button, button_id, command, safe_edit
from buddybot.handlers.idea_views import state_name
from buddybot.i18n import Html, join_lines, t, when
from buddybot.scheduling.due import Status as DueStatus
from buddybot.services import announcements
from buddybot.services.errors import Refusal
from buddybot.services.people import Caller
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import DueItem


def _moment(lang: str, planned: announcements.Planned) -> str:
    return when(lang, planned.next_at, planned.zone, year=True)


def _buttons(turn: Turn, planned: announcements.Planned) -> list[InlineKeyboardButton]:
    return [
        callbacks.button(
            turn.t("button.cancel_announcement"), Button.CANCEL_ANNOUNCEMENT, planned.id
        ),
        callbacks.button(turn.t("button.other_channels"), Button.ANNOUNCEMENT_TEXT, planned.id),
    ]


@command
async def announce(turn: Turn) -> None:
    msg = turn.update.effective_message
    parts = ((msg.text or "") if msg else "").split(maxsplit=1)
    text = parts[1] if len(parts) > 1 else ""

    def work(
        uow: UnitOfWork, caller: Caller
    ) -> tuple[announcements.Planned | None, list[announcements.Planned]]:
        if text.strip():
            return announcements.schedule(uow, caller, text), []
        return None, announcements.pending(uow, caller)

    planned, listing = await turn.run(work, need_admin=True)
    if planned is not None:
        key = "announce.weekly" if planned.weekly else "announce.once"
        await turn.reply(
            turn.t(key, when=_moment(turn.lang, planned), text=planned.text),
            markup=InlineKeyboardMarkup([_buttons(turn, planned)]),
        )
        return
    if not listing:
        await turn.reply(turn.t("announce.none"))
        return
    lines: list[Html] = [turn.t("announce.list")]
    rows = []
    for i, p in enumerate(listing, 1):
        repeat = turn.t("announce.every_week") if p.weekly else ""
        lines.append(
            turn.t(
                "announce.line", n=i, when=_moment(turn.lang, p), repeat=repeat, text=p.text[:80]
            )
        )
        rows.append(
            [callbacks.button(turn.t("button.cancel_n", n=i), Button.CANCEL_ANNOUNCEMENT, p.id)]
        )
    await turn.reply(join_lines(lines), markup=InlineKeyboardMarkup(rows))


@button
async def cancel_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    announcement_id = button_id(turn, Button.CANCEL_ANNOUNCEMENT)
    planned = await turn.run(
        lambda uow, caller: announcements.cancel(uow, caller, announcement_id), need_admin=True
    )
    await safe_edit(query, markup=None)
    return turn.t("announce.cancelled", text=planned.text[:60])


@button
async def text_button(turn: Turn) -> str | None:
    """The announcement as plain text in private, for the wijk's other channels."""
    announcement_id = button_id(turn, Button.ANNOUNCEMENT_TEXT)
    text = await turn.run(
        lambda uow, caller: announcements.text_of(uow, caller, announcement_id), need_admin=True
    )
    assert turn.actor is not None
    try:
        await turn.context.bot.send_message(turn.actor.tg_user_id, text, parse_mode=None)
    except Forbidden:
        raise Refusal("open_private_first") from None
    return turn.t("channels.sent")


async def deliver_announcement(bot: Bot, deps: Deps, item: DueItem) -> DueStatus:
    payload = item.payload
    work = await deps.db.run(lambda uow: announcements.announcement_due(uow, payload))
    if work is None:
        return DueStatus.SKIPPED
    sent = await send.to_group(
        bot, deps, work.tg_chat_id, t(work.language, "announce.post", text=work.text)
    )
    if sent is None:
        return DueStatus.SKIPPED
    await deps.db.run(lambda uow: announcements.posted(uow, payload))
    return DueStatus.DONE


async def deliver_digest(bot: Bot, deps: Deps, item: DueItem) -> DueStatus:
    payload = item.payload
    digest = await deps.db.run(lambda uow: announcements.digest_due(uow, payload))
    if digest is None:
        return DueStatus.SKIPPED
    lang = digest.language
    lines: list[Html] = [t(lang, "digest.title")]
    if digest.new_ideas:
        lines.append(t(lang, "digest.new"))
        lines += [t(lang, "digest.idea", number=i.number, title=i.title) for i in digest.new_ideas]
    if digest.moved_ideas:
        lines.append(t(lang, "digest.moved"))
        lines += [
            t(
                lang,
                "digest.moved_idea",
                number=i.number,
                title=i.title,
                state=state_name(lang, i.status),
            )
            for i in digest.moved_ideas
        ]
    if digest.meetings:
        lines.append(t(lang, "digest.meetings"))
        lines += [
            t(
                lang,
                "digest.meeting",
                number=m.number,
                title=m.title,
                when=when(lang, m.starts_at, digest.zone),
            )
            for m in digest.meetings
        ]
    if digest.votes:
        lines.append(t(lang, "digest.votes"))
        lines += [
            t(
                lang,
                "digest.vote",
                number=v.number,
                question=v.question,
                when=when(lang, v.deadline, digest.zone),
            )
            for v in digest.votes
        ]
    lines.append(t(lang, "digest.footer"))
    sent = await send.to_group(bot, deps, digest.tg_chat_id, join_lines(lines))
    return DueStatus.DONE if sent is not None else DueStatus.SKIPPED
