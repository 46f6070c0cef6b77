"""Nudges for quiet ideas (on the tick), their buttons, and /instellingen."""

from __future__ import annotations

import logging
import re

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from buddybot.app import BotApp
from buddybot.bot import send
from buddybot.bot.lanes import Lanes
from buddybot.bot.runtime import Deps
from buddybot.domain import language
from buddybot.domain.nudges import Step
from buddybot.i18n import Html, join_lines, t
from buddybot.services import configuration, ideas, nudges
from buddybot.services.errors import Refusal
from buddybot.services.wijken import chat_of
from handlers import callbacks
from handlers.common import Turn, button, command, live, safe_edit
from handlers.idea_views import state_name
from handlers.meetings import FORM as MEETING_FORM

log = logging.getLogger(__name__)


def _line(lang: str, item: nudges.Item) -> Html:
    return t(
        lang,
        f"nudge.step.{item.step.value}",
        number=item.number,
        title=item.title,
        partner=item.partner or "",
    )


def _step_button(lang: str, item: nudges.Item) -> InlineKeyboardButton | None:
    if item.step is Step.CHAMPION:
        label, data = (
            t(lang, "nudge.button.champion", number=item.number),
            callbacks.pack("champ", item.idea_id),
        )
    elif item.step is Step.HELPERS:
        label, data = (
            t(lang, "nudge.button.join", number=item.number),
            callbacks.pack("join", item.idea_id),
        )
    elif item.step is Step.PARTNER and item.partner_id is not None:
        label = t(lang, "nudge.button.partner", number=item.number, name=(item.partner or "")[:24])
        data = callbacks.pack("plk", item.idea_id, item.partner_id)
    elif item.step is Step.MEETING:
        label, data = (
            t(lang, "nudge.button.meeting", number=item.number),
            callbacks.pack("mtg", item.idea_id),
        )
    else:
        return None
    return InlineKeyboardButton(label, callback_data=data)


async def run_nudges(bot: Bot, deps: Deps) -> int:
    """The tick's nudge work, batch after batch until nothing is due (catch-up)."""
    total = 0
    while True:
        claimed = await _nudge_batch(bot, deps)
        total += claimed
        if claimed < deps.settings.tick_batch:
            return total


async def _nudge_batch(bot: Bot, deps: Deps) -> int:
    """Claim due ideas, decide per wijk, send (wijken at the same time), record."""
    async with deps.db.unit_of_work() as uow:
        claimed = await nudges.claim(
            uow, limit=deps.settings.tick_batch, lease=deps.settings.claim_lease
        )
        # Only the last rung needs the group's admins; asking Telegram for every wijk
        # would spend the flood budget on calls that change nothing.
        chats = {
            w: await chat_of(uow, w) for w in {c.wijk_id for c in claimed if c.for_facilitators}
        }
    if not claimed:
        return 0
    admins = {}
    for found in chats.values():
        if found is not None:
            admins[found[0]] = list((await deps.admins.admins(bot, found[0])).keys())
    async with deps.db.unit_of_work() as uow:
        work = await nudges.prepare(uow, claimed, admins)
    lanes = Lanes(deps.settings.tick_concurrency)
    for w in work:
        await lanes.submit(w.wijk_id, _send_wijk(bot, deps, w))
    await lanes.wait()
    if lanes.error is not None:
        raise lanes.error
    return len(claimed)


async def _send_wijk(bot: Bot, deps: Deps, w: nudges.WijkNudges) -> None:
    done: list[nudges.Item] = []
    held_until = w.held_until
    held = {i.idea_id for i in (*w.group, *w.private)}  # what this claim still holds
    lease = deps.settings.claim_lease

    async def still_held(items: list[nudges.Item]) -> list[nudges.Item]:
        # Just before sending: a claim that ran out (this replica stalled) belongs to
        # whoever took it since, and an idea someone acted on needs no nudge. The whole
        # claim is renewed each time, so all its ideas keep sharing one ``held_until``.
        nonlocal held_until, held
        if not items:
            return []
        async with deps.db.unit_of_work() as uow:
            held, held_until = await nudges.hold(uow, sorted(held), held_until, lease)
        return [i for i in items if i.idea_id in held]

    try:
        group = await still_held(w.group)
        if group:
            lines = [t(w.language, "nudge.group_head")]
            lines += [_line(w.language, i) for i in group]
            buttons = [b for i in group if (b := _step_button(w.language, i)) is not None]
            markup = InlineKeyboardMarkup([[b] for b in buttons]) if buttons else None
            sent = await send.to_group(
                bot, deps, w.tg_chat_id, join_lines(lines), reply_markup=markup
            )
            if sent is not None:
                await _record(deps, group, w.wijk_id)
                done += group
        for item in w.private:
            if await still_held([item]):
                await _private(bot, deps, w.language, item)
                await _record(deps, [item], w.wijk_id)
                done.append(item)
    except TelegramError as exc:
        log.warning("nudges for wijk %s not sent: %s", w.wijk_id, exc)
        sent_ids = {i.idea_id for i in done}
        async with deps.db.unit_of_work() as uow:
            retry_at = uow.now + deps.settings.retry_base
            pending = sorted(held - sent_ids)
            await nudges.release(uow, pending, retry_at, held_until)


async def _record(deps: Deps, items: list[nudges.Item], wijk_id: int) -> None:
    """Right after each message, not once for the wijk: a bot stopped between its sends
    would otherwise send them all again after the restart (seen in the restart chaos
    test); now at most the one message it was sending."""
    async with deps.db.unit_of_work() as uow:
        await nudges.sent(uow, items, wijk_id)


async def _private(bot: Bot, deps: Deps, wijk_lang: str, item: nudges.Item) -> None:
    for person in item.recipients:
        lang = language.for_person(
            person.language, person.tg_language_code, wijk_lang, deps.policy.default_language
        )
        key = "nudge.private_champion" if item.level == 2 else "nudge.private_facilitator"
        lines = [t(lang, key, number=item.number, title=item.title), _line(lang, item)]
        if item.neighbours:
            lines.append(t(lang, "nudge.neighbours", names=", ".join(item.neighbours)))
        text = join_lines(lines)
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t(lang, "nudge.button.park"),
                        callback_data=callbacks.pack("park", item.idea_id),
                    )
                ],
                [
                    InlineKeyboardButton(
                        t(lang, "nudge.button.stop"), callback_data=callbacks.pack("nonudge")
                    )
                ],
            ]
        )
        try:
            await bot.send_message(person.tg_user_id, text, reply_markup=markup)
        except Forbidden:
            continue


@button
async def park_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None and turn.actor is not None
    (raw,) = callbacks.unpack(query.data, "park", 1)
    if not callbacks.is_id(raw):
        raise Refusal("stale_button")
    async with turn.deps.db.unit_of_work() as uow:
        chat_id = await nudges.wijk_chat_of_idea(uow, int(raw))
    if chat_id is None:
        raise Refusal("stale_button")
    admin = await turn.deps.admins.is_admin(turn.context.bot, chat_id, turn.actor.tg_user_id)
    async with turn.uow() as uow:
        await turn.identify(uow)
        change = await nudges.park_from_nudge(uow, turn.actor.tg_user_id, int(raw), admin)
        target = await chat_of(uow, change.card.wijk_id)
    await safe_edit(query, markup=None)
    live(turn.context).request(turn.context.bot, "idea", change.card.id)
    if target is not None:
        group_id, group_lang, _ = target
        await send.to_group(
            turn.context.bot,
            turn.deps,
            group_id,
            t(
                group_lang,
                "status.changed",
                number=change.card.number,
                title=change.card.title,
                state=state_name(group_lang, change.new),
            ),
        )
    return turn.t("nudge.parked", number=change.card.number)


@button
async def stop_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None and turn.actor is not None
    callbacks.unpack(query.data, "nonudge", 0)
    async with turn.uow() as uow:
        await turn.identify(uow)
        await nudges.opt_out(uow, turn.actor.tg_user_id)
    await safe_edit(query, markup=None)
    return turn.t("nudge.stopped")


@button
async def meeting_button(turn: Turn) -> str | None:
    """ "Plan een overleg": facilitators start the meeting dialogue; others ask for one."""
    query = turn.update.callback_query
    assert query is not None
    (raw,) = callbacks.unpack(query.data, "mtg", 1)
    if not callbacks.is_id(raw):
        raise Refusal("stale_button")
    async with turn.uow(need_admin=True) as uow:
        caller = await turn.identify(uow)
        idea = await ideas.by_id(uow, caller, int(raw))
        if not caller.facilitator:
            await ideas.record(uow, idea, caller.person, "meeting_request")
    if not caller.facilitator:
        return turn.t("nudge.meeting_asked")
    await MEETING_FORM.start(turn, caller)
    return None


# -- /instellingen ------------------------------------------------------------------------

SETTING = re.compile(r"^\s*(\w+)\s*(.*)$")


@command
async def settings_command(turn: Turn) -> None:
    args = " ".join(turn.context.args or [])
    async with turn.uow(need_admin=True) as uow:
        caller = await turn.identify(uow)
        if args.strip():
            match = SETTING.match(args)
            key, value = (match.group(1), match.group(2)) if match else (args.strip(), "")
            current = await configuration.change(uow, caller, key, value)
        else:
            current = configuration.show(caller)
    lines = [turn.t("settings.title")]
    lines.append(
        turn.t("settings.nudges", state=turn.t("settings.on" if current.nudges else "settings.off"))
    )
    lines.append(turn.t("settings.after", days=round(current.nudge_after / 86400, 1)))
    lines.append(turn.t("settings.quiet", start=current.quiet_start, end=current.quiet_end))
    lines.append(turn.t("settings.cap", cap=current.nudge_cap))
    day_names = [str(turn.t(f"day.{d}")) for d in current.nudge_days]
    lines.append(turn.t("settings.days", days=", ".join(day_names)))
    lines.append(turn.t("settings.help"))
    await turn.reply(join_lines(lines))


def register(app: BotApp) -> None:
    deps: Deps = app.bot_data["deps"]
    deps.tick_hooks.append(run_nudges)
    app.add_handler(
        CommandHandler(
            ["instellingen", "settings"], settings_command, filters=filters.UpdateType.MESSAGE
        )
    )
    for kind, handler in [("park", park_button), ("nonudge", stop_button), ("mtg", meeting_button)]:
        app.add_handler(CallbackQueryHandler(handler, pattern=callbacks.pattern(kind)))
