"""Ideas in the group: propose, list, show, support, join, champion, update, steer."""

from __future__ import annotations

import logging
import re

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from telegram.error import BadRequest, Forbidden, TelegramError

from buddybot.bot import send
from buddybot.bot.live import LiveMessages, View
from buddybot.bot.runtime import Deps
from buddybot.domain import language
from buddybot.domain.lifecycle import State
from buddybot.handlers import callbacks
from buddybot.handlers.callbacks import Button
from buddybot.handlers.common import (
    Callback,
    Turn,
    button,
    button_id,
    command,
    safe_edit,
    standing,
)
from buddybot.handlers.idea_views import (
    card_markup,
    card_text,
    page_markup,
    page_text,
    state_name,
    status_markup,
)
from buddybot.handlers.privacy import remember_named
from buddybot.handlers.replies import After, ask, put_question
from buddybot.i18n import Html, Plural, join_lines, t, tn
from buddybot.services import ideas, partners, prompts, wijken
from buddybot.services.errors import Refusal
from buddybot.services.people import Caller
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Idea, Prompt, Wijk

log = logging.getLogger(__name__)
BEHALF = re.compile(r"^\s*(?:namens|on behalf of)\s+([^:\n]{1,100}):\s*(.*)$", re.I | re.S)
NUMBER = re.compile(r"^#?(\d{1,6})$")


class _Cards:
    """``refresher(turn).request(bot, idea_id)``: keep that idea's card up to date."""

    def __init__(self, live: LiveMessages) -> None:
        self.live = live

    def request(
        self, bot: Bot, idea_id: int, fresh: tuple[ideas.Card, int, str] | None = None
    ) -> None:
        """``fresh``: the card just read in this update's transaction, with the chat it is
        shown in and that chat's language."""
        view = None
        if fresh is not None:
            card, chat_id, lang = fresh
            if card.card_message_id is not None and card.card_chat_id == chat_id:
                view = (
                    chat_id,
                    card.card_message_id,
                    card_text(lang, card),
                    card_markup(lang, card),
                )
        self.live.request(bot, "idea", idea_id, view)


def refresher(turn: Turn) -> _Cards:
    return _Cards(turn.context.live)


async def render_card(deps: Deps, idea_id: int) -> View | None:
    def work(uow: UnitOfWork) -> tuple[ideas.Card | None, Wijk | None]:
        card = ideas.card_by_id(uow, idea_id)
        return card, wijken.by_id(uow, card.wijk_id) if card else None

    card, wijk = await deps.db.run(work)
    if card is None or wijk is None or card.card_message_id is None:
        return None
    chat_id, lang = wijk.tg_chat_id, wijk.language
    if card.card_chat_id is not None and card.card_chat_id != chat_id:
        return None  # the card is in the chat's old id (before a migration); leave it
    return chat_id, card.card_message_id, card_text(lang, card), card_markup(lang, card)


def command_text(turn: Turn) -> str:
    """Everything after the command word, with its line breaks (text or a photo's caption)."""
    msg = turn.update.effective_message
    text = (msg.text or msg.caption or "") if msg else ""
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def number_arg(turn: Turn, example: str) -> int:
    args = turn.context.args or []
    match = NUMBER.match(args[0]) if args else None
    if match is None:
        raise Refusal("need_number", example=example)
    return int(match.group(1))


async def post_card(turn: Turn, card: ideas.Card, lang: str) -> Message | None:
    """Send the card to the chat and remember it as the card to keep up to date."""
    msg = await turn.reply(card_text(lang, card), markup=card_markup(lang, card))
    if msg is not None and turn.in_group:
        idea_id, chat_id, message_id = card.id, msg.chat_id, msg.message_id
        await turn.deps.db.run(lambda uow: ideas.remember_card(uow, idea_id, chat_id, message_id))
    return msg


async def to_group(
    bot: Bot, deps: Deps, chat_id: int, text: str, **kwargs: object
) -> Message | None:
    """A follow-up message after the change is saved: best effort. Failing here must not make
    the person think their press failed (and press again, which would undo it)."""
    try:
        return await send.to_group(bot, deps, chat_id, text, **kwargs)
    except TelegramError as exc:
        log.warning("follow-up message to %s not sent: %s", chat_id, exc)
        return None


# -- proposing ----------------------------------------------------------------------------


async def _present(
    turn: Turn, caller: Caller, result: ideas.Proposed, on_behalf_of: str | None
) -> None:
    """After a proposal: the new card, or the question whether it is one we already have."""
    if result.card is not None:
        await post_card(turn, result.card, turn.lang)
        return
    first = result.similar[0]
    lines = [turn.t("similar.intro")]
    lines += [turn.t("similar.line", number=s.number, title=s.title) for s in result.similar]
    lines.append(turn.t("similar.question"))
    markup = InlineKeyboardMarkup(
        [
            [
                callbacks.button(
                    turn.t("similar.support", number=first.number), Button.SUPPORT_SIMILAR, first.id
                ),
                callbacks.button(turn.t("similar.new"), Button.PROPOSE_ANYWAY),
            ]
        ]
    )
    msg = await turn.reply(join_lines(lines), markup=markup)
    if msg is not None:
        text = f"{result.title}\n{result.description}".strip()
        await ask(turn, caller, msg.message_id, "similar", text=text, on_behalf_of=on_behalf_of)


@command
async def idea(turn: Turn) -> None:
    text = command_text(turn)
    on_behalf_of = None
    match = BEHALF.match(text)
    if match:
        on_behalf_of, text = match.group(1).strip(), match.group(2)

    def work(uow: UnitOfWork, caller: Caller) -> tuple[Caller, ideas.Proposed | None]:
        if not text.strip():
            ideas.check_can_propose(caller, on_behalf_of)
            return caller, None
        return caller, ideas.propose(uow, caller, text, on_behalf_of=on_behalf_of)

    caller, result = await turn.run(work, need_admin=on_behalf_of is not None)
    if result is not None:
        await _present(turn, caller, result, on_behalf_of)
        return
    # No text: ask for it; the person's reply to this question is the idea.
    placeholder = str(turn.t("idea.placeholder"))
    msg = await put_question(turn, turn.t("idea.ask"), placeholder=placeholder)
    if msg is not None:
        await ask(turn, caller, msg.message_id, "idea", on_behalf_of=on_behalf_of)


def idea_reply(
    turn: Turn, uow: UnitOfWork, caller: Caller, prompt: Prompt, text: str
) -> After | None:
    """The answer to "what is your idea?"."""
    behalf = prompt.payload.get("on_behalf_of")
    on_behalf = str(behalf) if behalf else None
    result = ideas.propose(uow, caller, text, on_behalf_of=on_behalf)

    async def after() -> None:
        await _present(turn, caller, result, on_behalf)

    return after


# -- reading ------------------------------------------------------------------------------


async def _send_page(turn: Turn, page_number: int, edit: Message | None = None) -> None:
    page = await turn.run(
        lambda uow, caller: ideas.open_page(uow, caller, page_number), remember=False
    )
    text, markup = page_text(turn.lang, page), page_markup(turn.lang, page)
    if edit is not None:
        try:
            await edit.edit_text(text, reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in exc.message:
                raise
        return
    await turn.reply(text, markup=markup)


@command
async def list_ideas(turn: Turn) -> None:
    await _send_page(turn, 1)


@button
async def page_button(turn: Turn) -> str | None:
    page = button_id(turn, Button.IDEAS_PAGE)
    query = turn.update.callback_query
    msg = query.message if query is not None and isinstance(query.message, Message) else None
    await _send_page(turn, page, edit=msg)
    return None


@command
async def show(turn: Turn) -> None:
    if not turn.context.args:
        await _send_page(turn, 1)
        return
    number = number_arg(turn, "/toon 3")
    card = await turn.run(lambda uow, caller: ideas.show(uow, caller, number), remember=False)
    await post_card(turn, card, turn.lang)


@button
async def show_button(turn: Turn) -> str | None:
    idea_id = button_id(turn, Button.SHOW_IDEA)
    card = await turn.run(
        lambda uow, caller: ideas.card(uow, ideas.by_id(uow, caller, idea_id)), remember=False
    )
    await post_card(turn, card, turn.lang)
    return None


# -- taking part --------------------------------------------------------------------------


async def _after_toggle(turn: Turn, result: ideas.Toggled) -> None:
    fresh = (result.card, turn.chat.tg_chat_id, turn.lang) if turn.chat and turn.in_group else None
    refresher(turn).request(turn.context.bot, result.card.id, fresh)
    if result.recruit and turn.chat is not None:
        # In the background: the group's flood budget may make the call wait for seconds,
        # and the press is answered (and the chat's next update handled) without waiting.
        turn.deps.spawn(_recruit_call(turn, turn.chat.tg_chat_id, result), part_of_update=False)


async def _recruit_call(turn: Turn, chat_id: int, result: ideas.Toggled) -> None:
    card = result.card
    text = turn.t(
        "recruit.call",
        number=card.number,
        title=card.title,
        count=Plural("count.supporters", card.supporters.count),
    )
    button = callbacks.button(turn.t("button.champion"), Button.CHAMPION, card.id)
    try:
        await to_group(
            turn.context.bot,
            turn.deps,
            chat_id,
            text,
            reply_markup=InlineKeyboardMarkup([[button]]),
        )
    except TelegramError as exc:  # the card still shows the count; nothing to undo
        log.warning("recruitment call for idea %s not sent: %s", card.id, exc)


def _toggle_text(turn: Turn, kind: ideas.Kind, result: ideas.Toggled) -> Html:
    state = "on" if result.on else "off"
    return turn.t(
        f"toggle.{kind.value}.{state}",
        number=result.card.number,
        # only the supporter texts say a count; the helper texts name none
        count=Plural("count.supporters", result.card.supporters.count),
    )


def _toggle_command(kind: ideas.Kind, example: str) -> Callback:
    @command
    async def run(turn: Turn) -> None:
        if not turn.context.args:
            await _send_page(turn, 1)
            return
        number = number_arg(turn, example)
        result = await turn.run(lambda uow, caller: ideas.toggle_number(uow, caller, number, kind))
        # The card edit is asked for before the reply goes out: a view handed over later
        # could be older than an edit another press made meanwhile.
        await _after_toggle(turn, result)
        await turn.reply(_toggle_text(turn, kind, result))

    return run


def _toggle_button(kind: ideas.Kind, data_kind: Button) -> Callback:
    @button
    async def run(turn: Turn) -> str | None:
        idea_id = button_id(turn, data_kind)
        result = await turn.run(lambda uow, caller: ideas.toggle_by_id(uow, caller, idea_id, kind))
        await _after_toggle(turn, result)
        return _toggle_text(turn, kind, result)

    return run


support = _toggle_command(ideas.Kind.SUPPORTER, "/steun 3")
join = _toggle_command(ideas.Kind.HELPER, "/meedoen 3")
support_button = _toggle_button(ideas.Kind.SUPPORTER, Button.SUPPORT)
join_button = _toggle_button(ideas.Kind.HELPER, Button.JOIN)


async def _champion_news(turn: Turn, result: ideas.Championed) -> None:
    """Tell the group, and give the new wijkkampioen their kit in private."""
    bot = turn.context.bot
    refresher(turn).request(bot, result.card.id)
    assert turn.chat is not None
    card = result.card
    if not result.confirmed:
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        turn.t("button.confirm_champion"),
                        callback_data=callbacks.pack(
                            Button.CONFIRM_CHAMPION, card.id, result.tg_user_id
                        ),
                    )
                ]
            ]
        )
        msg = await turn.reply(
            turn.t("champion.pending", name=result.name, number=card.number, title=card.title),
            markup=markup,
        )
        await remember_named(turn.deps, result.tg_user_id, msg, "champion_pending")
        return
    msg = await to_group(
        bot,
        turn.deps,
        turn.chat.tg_chat_id,
        turn.t("champion.new", name=result.name, number=card.number, title=card.title),
    )
    await remember_named(turn.deps, result.tg_user_id, msg, "champion")
    sent = False
    if result.private_ok and result.kit is not None:
        sent = await send_kit(turn, result.tg_user_id, result.kit)
    if not sent:
        link = f"https://t.me/{turn.deps.bot_username}?start=kit_{card.id}"
        msg = await to_group(
            bot,
            turn.deps,
            turn.chat.tg_chat_id,
            turn.t("champion.private_first", name=result.name),
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton(turn.t("button.continue_private"), url=link)]]
            ),
        )
        await remember_named(turn.deps, result.tg_user_id, msg, "champion_kit")


async def send_kit(turn: Turn, tg_user_id: int, kit: ideas.Kit) -> bool:
    """The champion kit in private; False when Telegram does not let the bot write there."""
    default = turn.deps.policy.default_language

    def read(uow: UnitOfWork) -> tuple[str, list[str]]:
        return ideas.person_language(uow, tg_user_id, default), kit_partners(uow, kit)

    lang, partner_names = await turn.deps.db.run(read)
    try:
        await turn.context.bot.send_message(tg_user_id, kit_text(lang, kit, partner_names))
    except (Forbidden, BadRequest):
        await turn.deps.db.run(lambda uow: ideas.private_closed(uow, tg_user_id))
        return False
    return True


def kit_partners(uow: UnitOfWork, kit: ideas.Kit) -> list[str]:
    """Names of alliance partners that fit the idea (for the champion kit)."""
    idea = uow.session.get(Idea, kit.card.id)
    if idea is None:
        return []
    return [s.partner.name for s in partners.suggestions(uow, idea)]


def kit_text(lang: str, kit: ideas.Kit, partner_names: list[str] | None = None) -> Html:
    card = kit.card
    lines = [
        t(lang, "kit.title", number=card.number, title=card.title, wijk=kit.wijk_title),
        t(lang, "kit.what"),
    ]
    if kit.helpers:
        lines.append(t(lang, "kit.helpers"))
        for helper in kit.helpers:
            handle = f" (@{helper.username})" if helper.username else ""
            lines.append(t(lang, "kit.helper", name=helper.name, handle=handle))
    else:
        lines.append(t(lang, "kit.no_helpers"))
    lines.append(tn(lang, "kit.supporters", card.supporters.count))
    if kit.same_interest:
        lines.append(t(lang, "kit.same_interest"))
        for person in kit.same_interest:
            handle = f" (@{person.username})" if person.username else ""
            lines.append(t(lang, "kit.helper", name=person.name, handle=handle))
    if partner_names:
        lines.append(t(lang, "kit.partners", names=", ".join(partner_names)))
    lines.append(t(lang, "kit.next", number=card.number))
    return join_lines(lines)


@command
async def champion(turn: Turn) -> None:
    if not turn.context.args:
        await _send_page(turn, 1)
        return
    number = number_arg(turn, "/kampioen 3")

    def work(uow: UnitOfWork, caller: Caller) -> ideas.Championed:
        idea = ideas.find(uow, ideas.require_wijk(caller), number)
        return ideas.volunteer(uow, caller, idea)

    result = await turn.run(work)
    await _champion_news(turn, result)


@button
async def champion_button(turn: Turn) -> str | None:
    idea_id = button_id(turn, Button.CHAMPION)
    result = await turn.run(
        lambda uow, caller: ideas.volunteer(uow, caller, ideas.by_id(uow, caller, idea_id))
    )
    await _champion_news(turn, result)
    return None


@button
async def confirm_champion_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    raw_idea, raw_user = callbacks.unpack(query.data, Button.CONFIRM_CHAMPION, 2)
    if not callbacks.is_id(raw_idea) or not callbacks.is_tg_id(raw_user):
        raise Refusal("stale_button")
    idea_id, tg_user_id = int(raw_idea), int(raw_user)

    def work(uow: UnitOfWork, caller: Caller) -> ideas.Championed:
        idea = ideas.by_id(uow, caller, idea_id)
        return ideas.confirm_champion(uow, caller, idea, tg_user_id)

    result = await turn.run(work, need_admin=True)
    await safe_edit(query, markup=None)
    await _champion_news(turn, result)
    return None


@command
async def progress(turn: Turn) -> None:
    number = number_arg(turn, "/bijwerken 3 De eerste plantjes staan erin")
    args = turn.context.args or []
    text = command_text(turn).split(maxsplit=1)
    body = text[1] if len(text) > 1 else ""
    if len(args) < 2 or not body.strip():
        raise Refusal("update_empty", number=number)

    def work(uow: UnitOfWork, caller: Caller) -> tuple[ideas.News, str]:
        return ideas.progress(uow, caller, number, body), ideas.caller_name(caller)

    news, name = await turn.run(work, need_admin=True)
    card = news.card
    if news.held:
        await _ask_approval(turn, news, name)
        return
    msg = await turn.reply(
        turn.t("update.posted", number=card.number, title=card.title, name=name, text=news.text)
    )
    if turn.actor is not None:  # their name and their words: gone when they are forgotten
        await remember_named(turn.deps, turn.actor.tg_user_id, msg, "news")
    refresher(turn).request(turn.context.bot, card.id)


async def _ask_approval(turn: Turn, news: ideas.News, name: str) -> None:
    """A helper's news goes privately to the champions (or the author) first."""
    assert news.held_id is not None
    card, held_id = news.card, news.held_id
    asked = 0
    for approver in news.ask:
        lang = language.for_person(
            approver.language, approver.tg_language_code, turn.lang, turn.lang
        )
        markup = InlineKeyboardMarkup(
            [
                [
                    callbacks.button(t(lang, "button.news_yes"), Button.NEWS_APPROVE, held_id),
                    callbacks.button(t(lang, "button.news_no"), Button.NEWS_REJECT, held_id),
                ]
            ]
        )
        text = t(
            lang,
            "update.approve_ask",
            number=card.number,
            title=card.title,
            name=name,
            text=news.text,
        )
        try:
            await turn.context.bot.send_message(approver.tg_user_id, text, reply_markup=markup)
            asked += 1
        except (Forbidden, BadRequest) as exc:
            log.info("approval of news %s not asked: %s", held_id, exc)
    if not asked:
        await turn.deps.db.run(lambda uow: ideas.drop_held(uow, held_id))
        raise Refusal("update_no_approver", number=card.number)
    msg = await turn.reply(turn.t("update.held", number=card.number, name=name))
    if turn.actor is not None:  # the thanks names them: gone when they are forgotten
        await remember_named(turn.deps, turn.actor.tg_user_id, msg, "news_held")


async def still_there(turn: Turn, tg_chat_id: int | None) -> None:
    """Before a power used in private (a champion's kit, an answer to a helper's news):
    where the bot hears of no leaves, Telegram is asked whether the person is still in
    the group; one who is not loses their roles there now, and the unit of work after
    this refuses them (``ideas.still_in_wijk``)."""
    if tg_chat_id is not None and turn.actor is not None:
        await standing(
            turn.deps, turn.context.bot, tg_chat_id, turn.actor.tg_user_id, turn.context.live
        )


def _news_button(approve: bool) -> Callback:
    kind = Button.NEWS_APPROVE if approve else Button.NEWS_REJECT

    @button
    async def run(turn: Turn) -> str | None:
        query = turn.update.callback_query
        assert query is not None
        event_id = button_id(turn, kind)
        if turn.chat is None or turn.chat.kind != "private":
            raise Refusal("stale_button")  # only ever sent in private
        chat_id = await turn.deps.db.run(lambda uow: ideas.wijk_chat(uow, held_id=event_id))
        await still_there(turn, chat_id)
        done = await turn.run(lambda uow, caller: ideas.decide_news(uow, caller, event_id, approve))
        card = done.card
        await safe_edit(
            query,
            text=turn.t(
                "update.approved" if approve else "update.rejected",
                number=card.number,
                name=done.helper,
            ),
        )
        bot = turn.context.bot
        if approve:
            lang = done.group_language
            msg = await to_group(
                bot,
                turn.deps,
                done.tg_chat_id,
                t(
                    lang,
                    "update.posted",
                    number=card.number,
                    title=card.title,
                    name=done.helper,
                    text=done.text,
                ),
            )
            if done.helper_tg_user_id is not None:  # their name and words, gone on forgetting
                await remember_named(turn.deps, done.helper_tg_user_id, msg, "news")
            refresher(turn).request(bot, card.id)
        elif done.helper_tg_user_id is not None and done.helper_private:
            lang = done.helper_language or turn.lang
            try:
                await bot.send_message(
                    done.helper_tg_user_id,
                    t(lang, "update.rejected_told", number=card.number, title=card.title),
                )
            except TelegramError as exc:
                log.info("helper not told of refused news: %s", exc)
        return None

    return run


news_approve_button = _news_button(True)
news_reject_button = _news_button(False)


# -- steering -----------------------------------------------------------------------------


async def _announce_status(turn: Turn, change: ideas.StatusChange) -> None:
    card = change.card
    refresher(turn).request(turn.context.bot, card.id)
    if turn.chat is None:
        return
    if change.new is State.REALISED:
        text = turn.t("status.realised", number=card.number, title=card.title)
    else:
        text = turn.t(
            "status.changed",
            number=card.number,
            title=card.title,
            state=state_name(turn.lang, change.new),
        )
    await to_group(turn.context.bot, turn.deps, turn.chat.tg_chat_id, text)


@command
async def set_status(turn: Turn) -> None:
    args = turn.context.args or []
    number = number_arg(turn, "/status 3 gekozen")
    if len(args) < 2:
        raise Refusal("need_state", number=number)
    word = " ".join(args[1:])
    change = await turn.run(
        lambda uow, caller: ideas.set_status_number(uow, caller, number, word), need_admin=True
    )
    await _announce_status(turn, change)


@button
async def status_menu_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    idea_id = button_id(turn, Button.STATUS_MENU)

    def work(uow: UnitOfWork, caller: Caller) -> ideas.Card:
        idea = ideas.by_id(uow, caller, idea_id)
        ideas.require_steer(uow, caller, idea)
        return ideas.card(uow, idea)

    card = await turn.run(work, need_admin=True)
    await safe_edit(query, markup=status_markup(turn.lang, card))
    return None


@button
async def status_back_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    idea_id = button_id(turn, Button.STATUS_BACK)
    card = await turn.run(
        lambda uow, caller: ideas.card(uow, ideas.by_id(uow, caller, idea_id)), remember=False
    )
    await safe_edit(query, markup=card_markup(turn.lang, card))
    return None


@button
async def status_set_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    raw_id, raw_state = callbacks.unpack(query.data, Button.SET_STATUS, 2)
    if not callbacks.is_id(raw_id) or raw_state not in {s.value for s in State}:
        raise Refusal("stale_button")
    idea_id, target = int(raw_id), State(raw_state)

    def work(uow: UnitOfWork, caller: Caller) -> ideas.StatusChange:
        return ideas.set_status(uow, caller, ideas.by_id(uow, caller, idea_id), target)

    change = await turn.run(work, need_admin=True)
    await _announce_status(turn, change)
    return None


def _hide_command(hidden: bool, example: str) -> Callback:
    @command
    async def run(turn: Turn) -> None:
        number = number_arg(turn, example)
        card = await turn.run(
            lambda uow, caller: ideas.set_hidden(uow, caller, number, hidden), need_admin=True
        )
        await turn.reply(turn.t("hidden.on" if hidden else "hidden.off", number=card.number))
        if not hidden:
            refresher(turn).request(turn.context.bot, card.id)

    return run


hide = _hide_command(True, "/verberg 3")
restore = _hide_command(False, "/herstel 3")


@command
async def set_themes(turn: Turn) -> None:
    number = number_arg(turn, "/thema 3 groen spelen")
    words = " ".join((turn.context.args or [])[1:])
    card = await turn.run(
        lambda uow, caller: ideas.set_themes(uow, caller, number, words), need_admin=True
    )
    names = ", ".join(str(t(turn.lang, f"theme.{k}")) for k in card.themes)
    await turn.reply(turn.t("themes.set", number=card.number, themes=names))
    refresher(turn).request(turn.context.bot, card.id)


# -- near-duplicates ----------------------------------------------------------------------


def _question(turn: Turn) -> tuple[int, int]:
    """The chat and message id of the question under the pressed button."""
    query = turn.update.callback_query
    assert query is not None and isinstance(query.message, Message)
    return query.message.chat.id, query.message.message_id


def _take_similar(uow: UnitOfWork, caller: Caller, question: tuple[int, int]) -> dict[str, object]:
    """The proposal waiting behind this question; only its author may answer it."""
    chat_id, message_id = question
    prompt = prompts.take(
        uow,
        tg_chat_id=chat_id,
        message_id=message_id,
        person_id=caller.person.id if caller.person else None,
        kind="similar",
    )
    if prompt is None:
        raise Refusal("not_your_question")
    return dict(prompt.payload)


async def _close_question(turn: Turn) -> None:
    query = turn.update.callback_query
    if query is not None:
        await safe_edit(query, markup=None)


@button
async def similar_support_button(turn: Turn) -> str | None:
    idea_id = button_id(turn, Button.SUPPORT_SIMILAR)
    question = _question(turn)

    def work(uow: UnitOfWork, caller: Caller) -> ideas.Toggled:
        _take_similar(uow, caller, question)
        kind = ideas.Kind.SUPPORTER
        return ideas.toggle_by_id(uow, caller, idea_id, kind, only_on=True)

    result = await turn.run(work)
    await _close_question(turn)
    await _after_toggle(turn, result)
    return _toggle_text(turn, ideas.Kind.SUPPORTER, result)


@button
async def similar_new_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    callbacks.unpack(query.data, Button.PROPOSE_ANYWAY, 0)
    question = _question(turn)

    def work(uow: UnitOfWork, caller: Caller) -> ideas.Proposed:
        payload = _take_similar(uow, caller, question)
        behalf = payload.get("on_behalf_of")
        return ideas.propose(
            uow,
            caller,
            str(payload.get("text", "")),
            on_behalf_of=str(behalf) if behalf else None,
            force=True,
        )

    result = await turn.run(work, need_admin=True)
    await _close_question(turn)
    if result.card is not None:
        await post_card(turn, result.card, turn.lang)
    return None
