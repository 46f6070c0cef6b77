"""Nudges for quiet ideas (on the tick), their buttons, and /instellingen."""

from __future__ import annotations

import re

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, TelegramError

from buddybot.bot import send
from buddybot.bot.runtime import Deps
from buddybot.domain import language
from buddybot.domain.nudges import LAST_RUNG, Step
from buddybot.handlers import callbacks
from buddybot.handlers.callbacks import Button
from buddybot.handlers.common import Turn, button, button_id, command, safe_edit, standing
from buddybot.handlers.idea_views import state_name
from buddybot.handlers.meetings import FORM as MEETING_FORM
from buddybot.i18n import Html, Plural, join_lines, t
from buddybot.scheduling import nudges as nudging
from buddybot.services import configuration, ideas, nudges, wijken
from buddybot.services.errors import Refusal
from buddybot.services.people import Caller
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Wijk


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
            callbacks.pack(Button.CHAMPION, item.idea_id),
        )
    elif item.step is Step.HELPERS:
        label, data = (
            t(lang, "nudge.button.join", number=item.number),
            callbacks.pack(Button.JOIN, item.idea_id),
        )
    elif item.step is Step.PARTNER and item.partner_id is not None:
        label = t(lang, "nudge.button.partner", number=item.number, name=(item.partner or "")[:24])
        data = callbacks.pack(Button.LINK_PARTNER, item.idea_id, item.partner_id)
    elif item.step is Step.MEETING:
        label, data = (
            t(lang, "nudge.button.meeting", number=item.number),
            callbacks.pack(Button.PLAN_MEETING, item.idea_id),
        )
    else:
        return None
    return InlineKeyboardButton(label, callback_data=data)


class TelegramNudges:
    """The nudge job's way to Telegram (``scheduling.nudges.Sender``)."""

    def __init__(self, bot: Bot, deps: Deps) -> None:
        self._bot = bot
        self._deps = deps

    async def admins(self, tg_chat_id: int) -> list[int]:
        return list((await self._deps.admins.admins(self._bot, tg_chat_id)).keys())

    async def group(self, wijk: nudges.WijkNudges, items: list[nudges.Item]) -> bool:
        lang = wijk.language
        lines = [t(lang, "nudge.group_head"), *(_line(lang, i) for i in items)]
        buttons = [b for i in items if (b := _step_button(lang, i)) is not None]
        markup = InlineKeyboardMarkup([[b] for b in buttons]) if buttons else None
        try:
            sent = await send.to_group(
                self._bot, self._deps, wijk.tg_chat_id, join_lines(lines), reply_markup=markup
            )
        except TelegramError as exc:
            raise nudging.SendFailed(str(exc)) from exc
        return sent is not None

    async def private(self, wijk: nudges.WijkNudges, item: nudges.Item) -> None:
        steering = item.level >= LAST_RUNG  # the facilitators' rung
        for person in item.recipients:
            if steering and not await self._still_steers(wijk, person.tg_user_id):
                continue
            lang = language.for_person(
                person.language,
                person.tg_language_code,
                wijk.language,
                self._deps.policy.default_language,
            )
            try:
                await self._bot.send_message(
                    person.tg_user_id,
                    _private_text(lang, item),
                    reply_markup=_private_keys(lang, item),
                )
            except Forbidden:
                continue
            except TelegramError as exc:
                raise nudging.SendFailed(str(exc)) from exc

    async def _still_steers(self, wijk: nudges.WijkNudges, tg_user_id: int) -> bool:
        """The facilitators' rung goes to nobody who has left the group (checked with
        Telegram where the bot would not hear of it)."""
        found = await standing(self._deps, self._bot, wijk.tg_chat_id, tg_user_id)
        return found is not None and found.present


def _private_text(lang: str, item: nudges.Item) -> Html:
    key = "nudge.private_champion" if item.level == 2 else "nudge.private_facilitator"
    lines = [t(lang, key, number=item.number, title=item.title), _line(lang, item)]
    if item.neighbours:
        lines.append(t(lang, "nudge.neighbours", names=", ".join(item.neighbours)))
    return join_lines(lines)


def _private_keys(lang: str, item: nudges.Item) -> InlineKeyboardMarkup:
    park = t(lang, "nudge.button.park")
    stop = t(lang, "nudge.button.stop")
    return InlineKeyboardMarkup(
        [
            [callbacks.button(park, Button.PARK_IDEA, item.idea_id)],
            [callbacks.button(stop, Button.STOP_NUDGES)],
        ]
    )


@button
async def park_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None and turn.actor is not None
    idea_id, tg_user_id = button_id(turn, Button.PARK_IDEA), turn.actor.tg_user_id
    # The button only ever comes with a private nudge; in a group its global idea id
    # would reach into other wijken.
    if turn.chat is None or turn.chat.kind != "private":
        raise Refusal("stale_button")
    chat_id = await turn.deps.db.run(lambda uow: nudges.wijk_chat_of_idea(uow, idea_id))
    if chat_id is None:
        raise Refusal("stale_button")
    found = await standing(turn.deps, turn.context.bot, chat_id, tg_user_id, turn.context.live)
    admin, roles_hold = (found.admin, True) if found is not None else (False, False)

    def park(uow: UnitOfWork, _caller: Caller) -> tuple[ideas.StatusChange, Wijk | None]:
        change = nudges.park_from_nudge(uow, tg_user_id, idea_id, admin, roles_hold=roles_hold)
        return change, wijken.by_id(uow, change.card.wijk_id)

    change, wijk = await turn.run(park)
    await safe_edit(query, markup=None)
    turn.context.live.request(turn.context.bot, "idea", change.card.id)
    if wijk is not None:
        group_id, group_lang = wijk.tg_chat_id, wijk.language
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
    callbacks.unpack(query.data, Button.STOP_NUDGES, 0)
    tg_user_id = turn.actor.tg_user_id
    await turn.run(lambda uow, _caller: nudges.opt_out(uow, tg_user_id))
    await safe_edit(query, markup=None)
    return turn.t("nudge.stopped")


@button
async def meeting_button(turn: Turn) -> str | None:
    """ "Plan een overleg": facilitators start the meeting dialogue; others ask for one."""
    idea_id = button_id(turn, Button.PLAN_MEETING)

    def ask(uow: UnitOfWork, caller: Caller) -> Caller:
        idea = ideas.by_id(uow, caller, idea_id)
        if not caller.facilitator:
            ideas.record(uow, idea, caller.person, "meeting_request")
        return caller

    caller = await turn.run(ask, need_admin=True)
    if not caller.facilitator:
        return turn.t("nudge.meeting_asked")
    await MEETING_FORM.start(turn, caller)
    return None


# -- /instellingen ------------------------------------------------------------------------

SETTING = re.compile(r"^\s*(\w+)\s*(.*)$")


@command
async def settings_command(turn: Turn) -> None:
    args = " ".join(turn.context.args or [])
    if args.strip():
        match = SETTING.match(args)
        key, value = (match.group(1), match.group(2)) if match else (args.strip(), "")
        current = await turn.run(
            lambda uow, caller: configuration.change(uow, caller, key, value), need_admin=True
        )
    else:
        current = await turn.run(lambda _uow, caller: configuration.show(caller), need_admin=True)
    lines = [turn.t("settings.title")]
    lines.append(
        turn.t("settings.nudges", state=turn.t("settings.on" if current.nudges else "settings.off"))
    )
    lines.append(turn.t("settings.after", span=_span(current.nudge_after)))
    lines.append(turn.t("settings.quiet", start=current.quiet_start, end=current.quiet_end))
    lines.append(turn.t("settings.cap", cap=Plural("count.reminders", current.nudge_cap)))
    day_names = [str(turn.t(f"day.{d}")) for d in current.nudge_days]
    lines.append(turn.t("settings.days", days=", ".join(day_names)))
    lines.append(turn.t("settings.help"))
    await turn.reply(join_lines(lines))


def _span(seconds: int) -> Plural:
    """A duration as people say it: "5 dagen", or "12 uur" when it is not whole days."""
    hours = round(seconds / 3600)
    return Plural("span.days", hours // 24) if hours % 24 == 0 else Plural("span.hours", hours)
