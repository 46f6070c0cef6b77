"""/stemming: let the neighbourhood choose, inside the chat."""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardMarkup, InputPollOption, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError

from buddybot.bot import send
from buddybot.bot.context import BotContext
from buddybot.bot.runtime import Deps
from buddybot.handlers import callbacks
from buddybot.handlers.callbacks import Button
from buddybot.handlers.common import (
    Turn,
    actor_ref,
    button,
    button_id,
    command,
    draw,
    safe_edit,
)
from buddybot.i18n import Html, Plural, join_lines, t, tn, when
from buddybot.scheduling.due import Status as DueStatus
from buddybot.services import polls
from buddybot.services.errors import Refusal
from buddybot.services.people import Caller
from buddybot.storage.db import AlreadyHandled, UnitOfWork
from buddybot.storage.models import DueItem

log = logging.getLogger(__name__)


def _draft_text(turn: Turn, draft: polls.Draft) -> Html:
    lines = [turn.t("poll.proposal", question=draft.question)]
    lines += [turn.t("poll.option", text=o.text) for o in draft.options]
    lines.append(turn.t("poll.until", when=when(turn.lang, draft.deadline, draft.zone)))
    return join_lines(lines)


async def _send_poll(turn: Turn, poll_id: int) -> None:
    """Send the Telegram poll for a draft and open it."""
    assert turn.chat is not None
    spec = await turn.deps.db.run(lambda uow: polls.to_send(uow, poll_id))
    msg = await turn.context.bot.send_poll(
        turn.chat.tg_chat_id,
        spec.question,
        [InputPollOption(o.text, text_parse_mode=None) for o in spec.options],
        is_anonymous=spec.anonymous,
        allows_multiple_answers=spec.multiple,
        question_parse_mode=None,
    )
    assert msg.poll is not None
    tg_poll_id, tg_chat_id, message_id = msg.poll.id, msg.chat.id, msg.message_id
    await turn.deps.db.run(lambda uow: polls.sent(uow, poll_id, tg_poll_id, tg_chat_id, message_id))
    key = "poll.started_anonymous" if spec.anonymous else "poll.started_open"
    await turn.reply(turn.t(key, when=when(turn.lang, spec.deadline, spec.zone)))


@command
async def start_poll(turn: Turn) -> None:
    msg = turn.update.effective_message
    parts = ((msg.text or "") if msg else "").split(maxsplit=1)
    text = parts[1] if len(parts) > 1 else ""

    def work(uow: UnitOfWork, caller: Caller) -> tuple[list[polls.Line], polls.Draft | None]:
        if not text.strip():
            return polls.open_polls(uow, caller), None
        return [], polls.draft(uow, caller, text, question=str(t(caller.language, "poll.question")))

    listing, draft = await turn.run(work, need_admin=bool(text.strip()))
    if draft is None:
        if not listing:
            await turn.reply(turn.t("poll.none"))
            return
        lines = [turn.t("poll.open_title")]
        lines += [
            turn.t(
                "poll.open_line",
                number=p.number,
                question=p.question,
                when=when(turn.lang, p.deadline, p.zone),
            )
            for p in listing
        ]
        await turn.reply(join_lines(lines))
        return
    if draft.needs_confirmation:
        markup = InlineKeyboardMarkup(
            [
                [
                    callbacks.button(turn.t("button.poll_start"), Button.POLL_CONFIRM, draft.id),
                    callbacks.button(turn.t("button.draft_change"), Button.POLL_DISCARD, draft.id),
                ]
            ]
        )
        await turn.reply(_draft_text(turn, draft), markup=markup)
        return
    await _send_poll(turn, draft.id)


@button
async def confirm_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    poll_id = button_id(turn, Button.POLL_CONFIRM)
    await turn.run(lambda uow, caller: polls.draft_of(uow, caller, poll_id), need_admin=True)
    await safe_edit(query, markup=None)
    await _send_poll(turn, poll_id)
    return None


@button
async def discard_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    poll_id = button_id(turn, Button.POLL_DISCARD)
    await turn.run(lambda uow, caller: polls.discard(uow, caller, poll_id), need_admin=True)
    await safe_edit(query, text=turn.t("poll.discarded"))
    return None


async def poll_answer(update: Update, context: BotContext) -> None:
    """An open vote; these updates carry no chat, the poll is found by its id."""
    answer = update.poll_answer
    voter = actor_ref(answer.user) if answer is not None else None
    if answer is None or voter is None:
        return  # a vote "as a channel" (voter_chat) is not a resident's vote
    deps = context.deps
    tg_poll_id, option_ids = answer.poll_id, list(answer.option_ids)
    try:
        await deps.db.run(
            lambda uow: polls.answer(uow, tg_poll_id, voter, option_ids),
            update_id=update.update_id,
        )
    except AlreadyHandled:
        return


async def poll_update(update: Update, context: BotContext) -> None:
    """New totals of a poll (the only news of anonymous votes)."""
    poll = update.poll
    if poll is None:
        return
    deps = context.deps
    tg_poll_id, option_counts = poll.id, [o.voter_count for o in poll.options]
    voters = poll.total_voter_count
    try:
        await deps.db.run(
            lambda uow: polls.counts(uow, tg_poll_id, option_counts, voters),
            update_id=update.update_id,
        )
    except AlreadyHandled:
        return


@command
async def close_poll(turn: Turn) -> None:
    args = turn.context.args or []
    raw = args[0].lstrip("#") if args else ""
    if not callbacks.is_id(raw):
        raise Refusal("need_poll_number")
    number = int(raw)
    closing = await turn.run(
        lambda uow, caller: polls.closing(uow, polls.find_open(uow, caller, number)),
        need_admin=True,
    )
    result = await _stop_and_close(turn.context.bot, turn.deps, closing)
    if result is not None:
        await _publish_or_later(turn.context.bot, turn.deps, result)


async def deliver_close(bot: Bot, deps: Deps, item: DueItem) -> DueStatus:
    payload = item.payload

    def work(uow: UnitOfWork) -> polls.Closing | None:
        poll = polls.due_poll(uow, payload)
        return None if poll is None else polls.closing(uow, poll)

    closing = await deps.db.run(work)
    result = None if closing is None else await _stop_and_close(bot, deps, closing)
    if result is None:
        return DueStatus.SKIPPED
    await _publish_or_later(bot, deps, result)
    return DueStatus.DONE


async def _stop_and_close(bot: Bot, deps: Deps, closing: polls.Closing) -> polls.Result | None:
    """Stop the Telegram poll first: its answer holds the final count, which an anonymous
    vote's result uses. Then close the vote (None: it closed meanwhile). A network failure
    here leaves the vote open: ``/sluitstemming`` can be sent again, the deadline is retried."""
    final = None
    if closing.message_id is not None:
        try:
            stopped = await bot.stop_poll(closing.tg_chat_id, closing.message_id)
            final = polls.Tally(
                counts=[o.voter_count for o in stopped.options], voters=stopped.total_voter_count
            )
        except (BadRequest, Forbidden, ChatMigrated) as exc:
            # Stopped before a failed close (the count was kept), deleted by an admin, or
            # the group moved: otherwise the stored counts are the result.
            final = deps.stopped_polls.get(closing.poll_id)
            log.info("poll %s not stopped: %s", closing.poll_id, exc.message)
    poll_id = closing.poll_id
    try:
        result = await deps.db.run(lambda uow: polls.close(uow, poll_id, final))
    except Exception:
        if final is not None:
            deps.stopped_polls[poll_id] = final  # for the retry, in this process
        raise
    deps.stopped_polls.pop(poll_id, None)
    return result


async def _publish_or_later(bot: Bot, deps: Deps, result: polls.Result) -> None:
    """The vote is closed (saved); if Telegram fails now, the result is posted later."""
    try:
        await publish(bot, deps, result)
    except TelegramError as exc:
        log.warning("result of poll %s not posted yet: %s", result.poll_id, exc)
        poll_id, after, recounted = result.poll_id, deps.settings.retry_base, result.recounted
        await deps.db.run(
            lambda uow: polls.post_result_later(uow, poll_id, after, recounted=recounted)
        )


async def deliver_result(bot: Bot, deps: Deps, item: DueItem) -> DueStatus:
    payload = item.payload
    result = await deps.db.run(lambda uow: polls.result_due(uow, payload))
    if result is None:
        return DueStatus.SKIPPED
    await publish(bot, deps, result)
    return DueStatus.DONE


def result_text(lang: str, result: polls.Result) -> Html:
    lines = [t(lang, "result.title", number=result.number, question=result.question)]
    for i, r in enumerate(result.ranking, 1):
        lines.append(
            t(
                lang,
                "result.line",
                place=i,
                text=r.text,
                count=r.count,
                percent=round(r.share * 100),
                crown=" 🏆" if r.winner else "",
            )
        )
    if result.tie:
        tied = ", ".join(r.text for r in result.ranking if r.winner)
        lines.append(t(lang, "result.tie", names=tied))
    if result.members:
        turnout = round(100 * min(result.voters, result.members) / result.members)
        lines.append(
            tn(
                lang,
                "result.turnout",
                result.voters,
                members=Plural("count.neighbours", result.members),
                percent=turnout,
            )
        )
    else:
        lines.append(tn(lang, "result.voters", result.voters))
    for card in result.selected:
        lines.append(t(lang, "result.selected", number=card.number, title=card.title))
    if result.recounted:
        lines.append(t(lang, "result.recounted"))
    return join_lines(lines)


def _chart(lang: str, result: polls.Result) -> bytes:
    # matplotlib is loaded on the first chart, not at start: it is half the bot's memory.
    from buddybot.charts.results import Bar, result_chart

    return result_chart(
        result.question,
        [Bar(r.text, r.count, r.winner) for r in result.ranking],
        subtitle=str(tn(lang, "chart.subtitle", result.voters)),
        votes_word=str(t(lang, "chart.votes")),
    )


async def publish(bot: Bot, deps: Deps, result: polls.Result) -> None:
    """Post the result and its chart, and ask who pulls the winning ideas that have no
    champion yet. The chart is a picture of the text: when it cannot be drawn or sent, the
    result and the call for champions still go out."""
    lang = result.language
    sent = await send.to_group(bot, deps, result.tg_chat_id, result_text(lang, result))
    if sent is None:
        return
    chart = await draw(lambda: _chart(lang, result), f"poll {result.poll_id}")
    if chart is not None:
        try:
            await bot.send_photo(
                sent.chat.id, chart, caption=t(lang, "chart.caption", number=result.number)
            )
        except TelegramError as exc:
            log.warning("chart of poll %s not sent: %s", result.poll_id, exc)
    for card in result.recruit:
        await send.to_group(
            bot,
            deps,
            sent.chat.id,
            t(lang, "recruit.won", number=card.number, title=card.title),
            reply_markup=InlineKeyboardMarkup(
                [[callbacks.button(t(lang, "button.champion"), Button.CHAMPION, card.id)]]
            ),
        )
