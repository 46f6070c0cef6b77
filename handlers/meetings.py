"""Meetings: announce with a check step, RSVP, calendar file, move, cancel, remind, follow up."""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardMarkup,
    InputFile,
    Message,
)
from telegram.error import BadRequest, Forbidden, TelegramError

from buddybot.bot import send
from buddybot.bot.live import View
from buddybot.bot.runtime import Deps
from buddybot.domain import ics, language
from buddybot.domain.plain_text import plain
from buddybot.handlers import callbacks
from buddybot.handlers.callbacks import Button
from buddybot.handlers.common import Turn, button, button_id, command, safe_edit
from buddybot.handlers.privacy import remember_named
from buddybot.handlers.replies import After, Form, ask
from buddybot.i18n import Html, Plural, join_lines, t, when
from buddybot.scheduling.due import Status as DueStatus
from buddybot.services import meetings
from buddybot.services.errors import Refusal
from buddybot.services.meetings import Answer
from buddybot.services.people import Caller, require_facilitator
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import DueItem

log = logging.getLogger(__name__)
ANSWERS = {"y": Answer.YES, "m": Answer.MAYBE, "n": Answer.NO}


# -- views --------------------------------------------------------------------------------


def moment(lang: str, card: meetings.Card) -> str:
    return when(lang, card.starts_at, card.zone, year=True)


def card_text(lang: str, card: meetings.Card) -> Html:
    lines = []
    if card.status is meetings.Status.CANCELLED:
        lines.append(t(lang, "meeting.cancelled_head"))
    elif card.status is meetings.Status.MOVED:
        lines.append(t(lang, "meeting.moved_head"))
    lines += [
        t(lang, "meeting.title", number=card.number, title=card.title),
        t(lang, "meeting.when", when=moment(lang, card)),
        t(lang, "meeting.where", place=card.place),
    ]
    if card.details:
        lines.append(t(lang, "meeting.details", text=card.details))
    if card.organiser:
        lines.append(t(lang, "meeting.organiser", name=card.organiser))
    if card.reason:
        lines.append(t(lang, "meeting.reason", text=card.reason))
    if card.status is not meetings.Status.CANCELLED:
        lines.append(answer_counts(lang, card))
    return join_lines(lines)


def answer_counts(lang: str, card: meetings.Card) -> Html:
    """"✅ 1 komt · 🤔 0 misschien · ❌ 2 kunnen niet", each count in its own plural form."""
    return t(
        lang,
        "meeting.counts",
        yes=Plural("meeting.count_yes", card.yes),
        maybe=Plural("meeting.count_maybe", card.maybe),
        no=Plural("meeting.count_no", card.no),
    )


def card_markup(lang: str, card: meetings.Card) -> InlineKeyboardMarkup:
    rows = []
    if card.status in (meetings.Status.PLANNED, meetings.Status.MOVED):
        rows.append(
            [
                callbacks.button(
                    t(lang, "button.rsvp_yes", count=card.yes), Button.RSVP, card.id, "y"
                ),
                callbacks.button(
                    t(lang, "button.rsvp_maybe", count=card.maybe), Button.RSVP, card.id, "m"
                ),
                callbacks.button(
                    t(lang, "button.rsvp_no", count=card.no), Button.RSVP, card.id, "n"
                ),
            ]
        )
    rows.append([callbacks.button(t(lang, "button.calendar"), Button.CALENDAR_FILE, card.id)])
    return InlineKeyboardMarkup(rows)


def plain_text(lang: str, card: meetings.Card) -> str:
    """The announcement for the wijkkrant, a Facebook page or a newsletter: no markup."""
    lines = [
        str(t(lang, "channels.title", title=card.title)),
        str(t(lang, "channels.when", when=moment(lang, card))),
        str(t(lang, "channels.where", place=card.place)),
    ]
    if card.details:
        lines.append(card.details)
    lines.append(str(t(lang, "channels.footer")))
    return "\n".join(lines)


async def render(deps: Deps, meeting_id: int) -> View | None:
    def work(uow: UnitOfWork) -> tuple[meetings.Card | None, tuple[int, str] | None]:
        card = meetings.card_by_id(uow, meeting_id)
        return card, meetings_wijk(uow, card)

    card, wijk = await deps.db.run(work)
    if card is None or wijk is None or card.card_message_id is None:
        return None
    chat_id, lang = wijk
    if card.card_chat_id is not None and card.card_chat_id != chat_id:
        return None
    return chat_id, card.card_message_id, card_text(lang, card), card_markup(lang, card)


def meetings_wijk(uow: UnitOfWork, card: meetings.Card | None) -> tuple[int, str] | None:
    from buddybot.services import wijken

    if card is None:
        return None
    wijk = wijken.by_id(uow, card.wijk_id)
    return (wijk.tg_chat_id, wijk.language) if wijk else None


def refresh(turn: Turn, meeting_id: int, fresh: meetings.Card | None = None) -> None:
    """``fresh``: the card just read in this update's transaction in the group it is shown
    in; it spares the first edit a database round."""
    view = None
    chat = turn.chat
    if (
        fresh is not None
        and chat is not None
        and turn.in_group
        and fresh.card_message_id is not None
        and fresh.card_chat_id == chat.tg_chat_id
    ):
        view = (
            chat.tg_chat_id,
            fresh.card_message_id,
            card_text(turn.lang, fresh),
            card_markup(turn.lang, fresh),
        )
    turn.context.live.request(turn.context.bot, "meeting", meeting_id, view)


# -- announcing ---------------------------------------------------------------------------


def _command_text(turn: Turn) -> str:
    msg = turn.update.effective_message
    parts = ((msg.text or "") if msg else "").split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


async def _show_draft(turn: Turn, card: meetings.Card) -> None:
    lines = [
        turn.t("draft.check"),
        turn.t("meeting.title", number=card.number, title=card.title),
        turn.t("meeting.when", when=moment(turn.lang, card)),
        turn.t("meeting.where", place=card.place),
    ]
    if card.details:
        lines.append(turn.t("meeting.details", text=card.details))
    markup = InlineKeyboardMarkup(
        [
            [
                callbacks.button(turn.t("button.draft_ok"), Button.MEETING_DRAFT_OK, card.id),
                callbacks.button(
                    turn.t("button.draft_change"), Button.MEETING_DRAFT_CHANGE, card.id
                ),
            ]
        ]
    )
    await turn.reply(join_lines(lines), markup=markup)


@command
async def announce_meeting(turn: Turn) -> None:
    text = _command_text(turn)

    def work(uow: UnitOfWork, caller: Caller) -> tuple[meetings.Card | None, Caller]:
        if not text.strip():
            require_facilitator(caller)
            return None, caller
        parts = [p.strip() for p in text.split("|")]
        if len(parts) < 3:
            raise Refusal("meeting_usage")
        details = " | ".join(parts[3:])
        return meetings.draft(uow, caller, parts[0], parts[1], parts[2], details), caller

    card, caller = await turn.run(work, need_admin=True)
    if card is not None:
        await _show_draft(turn, card)
        return
    # Guided: ask when, then where, then the title, then details.
    await FORM.start(turn, caller)


def _check_answer(uow: UnitOfWork, caller: Caller, field: str, value: str) -> None:
    wijk = require_facilitator(caller)
    if field == "when":
        meetings.read_when(uow, wijk, value)  # a bad date is refused now, not at the end


def _finish(turn: Turn, uow: UnitOfWork, caller: Caller, answers: dict[str, str]) -> After:
    card = meetings.draft(
        uow, caller, answers["when"], answers["place"], answers["title"], answers["details"]
    )

    async def show() -> None:
        await _show_draft(turn, card)

    return show


FORM = Form(
    "meeting",
    {"when": "ask.when", "place": "ask.place", "title": "ask.title", "details": "ask.details"},
    _check_answer,
    _finish,
)


@button
async def draft_ok(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None and turn.chat is not None
    meeting_id = button_id(turn, Button.MEETING_DRAFT_OK)

    def work(uow: UnitOfWork, caller: Caller) -> tuple[meetings.Card, bool]:
        return meetings.confirm(uow, caller, meeting_id), meetings.pin_wanted(caller.wijk)

    card, pin = await turn.run(work, need_admin=True)
    await safe_edit(
        query,
        text=turn.t("draft.posted", number=card.number),
        markup=InlineKeyboardMarkup(
            [[callbacks.button(turn.t("button.other_channels"), Button.MEETING_TEXT, card.id)]]
        ),
    )
    msg = await send.to_group(
        turn.context.bot,
        turn.deps,
        turn.chat.tg_chat_id,
        card_text(turn.lang, card),
        reply_markup=card_markup(turn.lang, card),
    )
    if msg is None:
        return None
    card_id, chat_id, message_id = card.id, msg.chat.id, msg.message_id
    await turn.deps.db.run(lambda uow: meetings.remember_card(uow, card_id, chat_id, message_id))
    if pin:
        await _pin(turn, msg, card.wijk_id)
    return None


async def _pin(turn: Turn, msg: Message, wijk_id: int) -> None:
    try:
        await msg.pin(disable_notification=True)
    except (BadRequest, Forbidden) as exc:
        log.info("could not pin in %s: %s", msg.chat.id, exc.message)
        first_time = await turn.deps.db.run(lambda uow: meetings.pin_warning_needed(uow, wijk_id))
        if first_time:
            await turn.reply(turn.t("meeting.pin_failed"))


@button
async def draft_change(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    meeting_id = button_id(turn, Button.MEETING_DRAFT_CHANGE)
    await turn.run(lambda uow, caller: meetings.discard(uow, caller, meeting_id), need_admin=True)
    await safe_edit(query, text=turn.t("draft.discarded"))
    return None


@button
async def other_channels(turn: Turn) -> str | None:
    """The announcement as plain text, in private, for the wijkkrant or a Facebook page."""
    meeting_id = button_id(turn, Button.MEETING_TEXT)

    def work(uow: UnitOfWork, caller: Caller) -> tuple[meetings.Card, Caller]:
        require_facilitator(caller)
        card = meetings.card_by_id(uow, meeting_id)
        if card is None or caller.wijk is None or card.wijk_id != caller.wijk.id:
            raise Refusal("stale_button")
        return card, caller

    card, caller = await turn.run(work, need_admin=True)
    lang = _person_lang(caller, turn)
    assert turn.actor is not None
    try:
        await turn.context.bot.send_message(
            turn.actor.tg_user_id, plain_text(lang, card), parse_mode=None
        )
    except Forbidden:
        raise Refusal("open_private_first") from None
    return turn.t("channels.sent")


def _person_lang(caller: Caller, turn: Turn) -> str:
    person = caller.person
    return language.for_person(
        person.language if person else None,
        turn.actor.language_code if turn.actor else None,
        None,
        turn.deps.policy.default_language,
    )


# -- taking part --------------------------------------------------------------------------


@button
async def rsvp_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    raw_id, raw_answer = callbacks.unpack(query.data, Button.RSVP, 2)
    if not callbacks.is_id(raw_id) or raw_answer not in ANSWERS:
        raise Refusal("stale_button")
    answer = ANSWERS[raw_answer]
    meeting_id = int(raw_id)
    card = await turn.run(lambda uow, caller: meetings.rsvp(uow, caller, meeting_id, answer))
    refresh(turn, card.id, card)
    return turn.t(f"rsvp.{answer.value}", title=card.title)


@button
async def calendar_button(turn: Turn) -> str | None:
    """The .ics file in private; in the group when the bot cannot write privately."""
    meeting_id = button_id(turn, Button.CALENDAR_FILE)

    def work(
        uow: UnitOfWork, caller: Caller
    ) -> tuple[ics.MeetingEvent, meetings.Card | None, Caller]:
        event = meetings.calendar_event(uow, caller, meeting_id)
        return event, meetings.card_by_id(uow, meeting_id), caller

    event, card, caller = await turn.run(work)
    private_ok = bool(caller.person and caller.person.private_ok)
    lang = _person_lang(caller, turn)
    assert card is not None and turn.actor is not None and turn.chat is not None
    data = ics.meeting_ics(
        event, stamp=turn.deps.clock.now(), organiser_label=str(t(lang, "ics.organiser"))
    )
    document = InputFile(data, filename=ics.filename(card.title, card.number))
    if private_ok:
        try:
            await turn.context.bot.send_document(
                turn.actor.tg_user_id, document, caption=t(lang, "ics.caption", title=card.title)
            )
            return turn.t("ics.sent_private")
        except Forbidden:
            pass
    await turn.context.bot.send_document(
        turn.chat.tg_chat_id,
        InputFile(data, filename=ics.filename(card.title, card.number)),
        caption=turn.t("ics.caption", title=card.title),
    )
    return None


@command
async def list_meetings(turn: Turn) -> None:
    cards = await turn.run(meetings.upcoming, remember=False)
    if not cards:
        await turn.reply(turn.t("meetings.none"))
        return
    lines = [turn.t("meetings.title")]
    for c in cards:
        lines.append(
            turn.t(
                "meetings.line",
                number=c.number,
                title=c.title,
                when=moment(turn.lang, c),
                place=c.place,
                yes=c.yes,
                maybe=c.maybe,
            )
        )
    await turn.reply(join_lines(lines))


# -- moving and cancelling ----------------------------------------------------------------


def _number(turn: Turn, example: str) -> int:
    args = turn.context.args or []
    raw = args[0].lstrip("#") if args else ""
    if not callbacks.is_id(raw):
        raise Refusal("need_meeting_number", example=example)
    return int(raw)


async def _notify(turn: Turn, change: meetings.Change, key: str) -> None:
    """Tell everyone who said "Ik kom" or "Misschien", in private where the bot may."""
    card = change.card
    for person in change.notify:
        if not person.private_ok:
            continue
        lang = language.for_person(
            person.language, person.tg_language_code, turn.lang, turn.deps.policy.default_language
        )
        text = t(
            lang,
            key,
            title=card.title,
            when=moment(lang, card),
            old=when(lang, change.old_start, card.zone, year=True),
            reason=card.reason or "",
        )
        try:
            await turn.context.bot.send_message(person.tg_user_id, text)
        except TelegramError as exc:
            log.info("could not tell %s about meeting %s: %s", person.tg_user_id, card.id, exc)


@command
async def reschedule(turn: Turn) -> None:
    number = _number(turn, "/verzetten 2 vrijdag 19:30")
    args = turn.context.args or []
    if len(args) < 2:
        raise Refusal("need_when", number=number)
    when_text = " ".join(args[1:])
    change = await turn.run(
        lambda uow, caller: meetings.reschedule(uow, caller, number, when_text), need_admin=True
    )
    card = change.card
    refresh(turn, card.id)
    await turn.reply(
        turn.t("meeting.moved", number=card.number, title=card.title, when=moment(turn.lang, card))
    )
    await _notify(turn, change, "notify.moved")


@command
async def cancel(turn: Turn) -> None:
    number = _number(turn, "/afzeggen 2 De zaal is niet vrij")
    args = turn.context.args or []
    reason = " ".join(args[1:])
    change = await turn.run(
        lambda uow, caller: meetings.cancel(uow, caller, number, reason), need_admin=True
    )
    card = change.card
    refresh(turn, card.id)
    key = "meeting.cancelled_reason" if card.reason else "meeting.cancelled"
    await turn.reply(turn.t(key, number=card.number, title=card.title, reason=card.reason or ""))
    await _notify(turn, change, "notify.cancelled")


# -- scheduled work -----------------------------------------------------------------------


def _hours(seconds: int) -> int:
    return max(1, round(seconds / 3600))


async def deliver_reminder(bot: Bot, deps: Deps, item: DueItem) -> DueStatus:
    payload = item.payload
    work = await deps.db.run(lambda uow: meetings.reminder_due(uow, payload))
    if work is None:
        return DueStatus.SKIPPED
    card, lang = work.card, work.language
    text = join_lines(
        [
            t(
                lang,
                "reminder.group",
                hours=Plural("span.hours", _hours(work.offset)),
                title=card.title,
            ),
            t(lang, "meeting.when", when=moment(lang, card)),
            t(lang, "meeting.where", place=card.place),
            answer_counts(lang, card),
        ]
    )
    sent = await send.to_group(bot, deps, work.tg_chat_id, text)
    if sent is None:
        return DueStatus.SKIPPED
    for person in work.going:
        if not person.private_ok:
            continue
        plang = language.for_person(
            person.language, person.tg_language_code, lang, deps.policy.default_language
        )
        try:
            await bot.send_message(
                person.tg_user_id,
                t(
                    plang,
                    "reminder.private",
                    hours=Plural("span.hours", _hours(work.offset)),
                    title=card.title,
                    when=moment(plang, card),
                    place=card.place,
                ),
            )
        except Forbidden:
            continue
    return DueStatus.DONE


async def deliver_followup(bot: Bot, deps: Deps, item: DueItem) -> DueStatus:
    payload = item.payload
    work = await deps.db.run(lambda uow: meetings.followup_due(uow, payload))
    if work is None:
        return DueStatus.SKIPPED
    lang = work.language
    markup = InlineKeyboardMarkup([[callbacks.button(t(lang, "button.add_idea"), Button.ADD_IDEA)]])
    sent = await send.to_group(
        bot,
        deps,
        work.tg_chat_id,
        t(lang, "followup.text", title=work.card.title),
        reply_markup=markup,
    )
    if sent is None:
        return DueStatus.SKIPPED
    await deps.db.run(lambda uow: meetings.held(uow, payload))
    return DueStatus.DONE


@button
async def add_idea_button(turn: Turn) -> str | None:
    """From the follow-up: ask the person who pressed for their idea."""
    query = turn.update.callback_query
    assert query is not None
    callbacks.unpack(query.data, Button.ADD_IDEA, 0)

    def work(uow: UnitOfWork, caller: Caller) -> Caller:
        if caller.wijk is None or caller.person is None:
            raise Refusal("group_only")
        return caller

    caller = await turn.run(work)
    assert turn.chat is not None
    # A mention, so that the selective reply box shows for the one who pressed only.
    user = turn.update.effective_user
    name = Html(user.mention_html(plain(user.first_name))) if user else ""
    msg = await turn.context.bot.send_message(
        turn.chat.tg_chat_id,
        turn.t("idea.ask_named", name=name),
        reply_markup=ForceReply(selective=True),
    )
    await ask(turn, caller, msg.message_id, "idea", on_behalf_of=None)
    if turn.actor is not None:  # it names them, also once answered
        await remember_named(turn.deps, turn.actor.tg_user_id, msg, "question")
    return None
