"""The sociale alliantie: /partner, /alliantie, /koppel and the Partners button on a card."""

from __future__ import annotations

import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from buddybot.domain import language
from buddybot.domain.plain_text import plain
from buddybot.handlers import callbacks
from buddybot.handlers.callbacks import Button
from buddybot.handlers.common import (
    Turn,
    actor_ref,
    button,
    button_id,
    command,
    safe_edit,
    standing,
)
from buddybot.handlers.privacy import remember_named
from buddybot.handlers.replies import After, Form
from buddybot.i18n import Html, join_lines, t, when
from buddybot.services import partners
from buddybot.services.errors import Refusal
from buddybot.services.people import Caller, require_facilitator
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Partner

log = logging.getLogger(__name__)
LINK_WORDS = ("koppel", "link")


def _themes(lang: str, keys: list[str]) -> str:
    return ", ".join(str(t(lang, f"theme.{k}")) for k in keys) or str(t(lang, "partner.no_themes"))


def describe(lang: str, p: Partner) -> Html:
    lines = [
        t(lang, "partner.name", name=p.name),
        t(lang, "partner.themes", themes=_themes(lang, p.themes)),
    ]
    if p.offer:
        lines.append(t(lang, "partner.offer", offer=p.offer))
    if p.contact:
        lines.append(t(lang, "partner.contact", contact=p.contact))
    return join_lines(lines)


def reasons(lang: str, s: partners.Suggestion) -> Html:
    parts: list[str] = []
    if s.shared_themes:
        parts.append(str(t(lang, "match.themes", themes=_themes(lang, s.shared_themes))))
    if s.shared_words:
        parts.append(str(t(lang, "match.words", words=", ".join(s.shared_words))))
    return t(lang, "match.line", name=s.partner.name, reasons="; ".join(parts))


async def _saved(turn: Turn, view: Partner, created: bool) -> None:
    # The invitation itself never goes into the group: this button sends it privately to
    # the facilitator who presses it.
    remove = callbacks.button(turn.t("button.remove"), Button.REMOVE_PARTNER, view.id)
    invite = callbacks.button(turn.t("button.invite"), Button.PARTNER_INVITE, view.id, 0)
    markup = InlineKeyboardMarkup([[remove], [invite]])
    head = turn.t("partner.added" if created else "partner.updated", name=view.name)
    await turn.reply(join_lines([head, describe(turn.lang, view)]), markup=markup)


@command
async def partner(turn: Turn) -> None:
    msg = turn.update.effective_message
    parts = ((msg.text or "") if msg else "").split(maxsplit=1)
    text = parts[1] if len(parts) > 1 else ""
    words = text.split(maxsplit=1)
    linking = bool(words) and words[0].lower() in LINK_WORDS
    replied = msg.reply_to_message.from_user if msg and msg.reply_to_message else None
    account = actor_ref(replied) if replied and not replied.is_bot else None
    name = words[1] if len(words) > 1 else ""
    fields = [f.strip() for f in text.split("|")] + ["", "", ""]

    def work(
        uow: UnitOfWork, caller: Caller
    ) -> tuple[Caller, Partner | None, tuple[Partner, bool] | None]:
        if linking:
            return caller, partners.link_account(uow, caller, name, account), None
        if text.strip():
            saved = partners.save(uow, caller, fields[0], fields[1], fields[2], fields[3])
            return caller, None, saved
        require_facilitator(caller)
        return caller, None, None

    caller, account_of, saved = await turn.run(work, need_admin=True)
    if account_of is not None:
        await turn.reply(turn.t("partner.account_linked", name=account_of.name))
    elif saved is not None:
        await _saved(turn, *saved)
    else:
        await FORM.start(turn, caller)


def _check_answer(uow: UnitOfWork, caller: Caller, field: str, value: str) -> None:
    require_facilitator(caller)


def _finish(turn: Turn, uow: UnitOfWork, caller: Caller, answers: dict[str, str]) -> After:
    saved = partners.save(
        uow, caller, answers["name"], answers["themes"], answers["offer"], answers["contact"]
    )

    async def show() -> None:
        await _saved(turn, *saved)

    return show


FORM = Form(
    "partner",
    {
        "name": "ask.partner_name",
        "themes": "ask.partner_themes",
        "offer": "ask.partner_offer",
        "contact": "ask.partner_contact",
    },
    _check_answer,
    _finish,
)


@button
async def remove_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    partner_id = button_id(turn, Button.REMOVE_PARTNER)
    view = await turn.run(
        lambda uow, caller: partners.remove(uow, caller, partner_id), need_admin=True
    )
    await safe_edit(query, text=turn.t("partner.removed", name=view.name))
    return None


@command
async def alliance(turn: Turn) -> None:
    found = await turn.run(partners.alliance, remember=False)
    if not found:
        await turn.reply(turn.t("alliance.none"))
        return
    lines = [turn.t("alliance.title")]
    for p in found:
        lines.append(describe(turn.lang, p))
    await turn.reply(Html("\n\n").join(lines))


async def _after_link(turn: Turn, linked: partners.Linked) -> None:
    turn.context.live.request(turn.context.bot, "idea", linked.card.id)
    await turn.reply(
        turn.t(
            "link.done",
            number=linked.card.number,
            title=linked.card.title,
            name=linked.partner.name,
        )
    )
    if linked.notify is not None:
        lang = linked.notify_language or turn.lang
        try:
            await turn.context.bot.send_message(
                linked.notify,
                t(lang, "link.partner_told", number=linked.card.number, title=linked.card.title),
            )
        except TelegramError as exc:
            log.info("partner %s not told: %s", linked.partner.id, exc)


@command
async def link(turn: Turn) -> None:
    args = turn.context.args or []
    raw = args[0].lstrip("#") if args else ""
    if not callbacks.is_id(raw) or len(args) < 2:
        raise Refusal("link_usage")
    number, name = int(raw), " ".join(args[1:])
    linked = await turn.run(
        lambda uow, caller: partners.link_command(uow, caller, number, name), need_admin=True
    )
    await _after_link(turn, linked)


@button
async def matches_button(turn: Turn) -> str | None:
    idea_id = button_id(turn, Button.PARTNER_MATCHES)
    card, found = await turn.run(
        lambda uow, caller: partners.matches_for(uow, caller, idea_id), need_admin=True
    )
    if not found:
        return turn.t("match.none", number=card.number)
    lines = [turn.t("match.title", number=card.number, title=card.title)]
    lines += [reasons(turn.lang, s) for s in found]
    rows = [
        [
            callbacks.button(
                turn.t("button.link", name=s.partner.name[:30]),
                Button.LINK_PARTNER,
                card.id,
                s.partner.id,
            )
        ]
        for s in found
    ]
    await turn.reply(join_lines(lines), markup=InlineKeyboardMarkup(rows))
    return None


@button
async def link_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    raw_idea, raw_partner = callbacks.unpack(query.data, Button.LINK_PARTNER, 2)
    if not callbacks.is_id(raw_idea) or not callbacks.is_id(raw_partner):
        raise Refusal("stale_button")
    idea_id, partner_id = int(raw_idea), int(raw_partner)
    linked = await turn.run(
        lambda uow, caller: partners.link_button(uow, caller, idea_id, partner_id),
        need_admin=True,
    )
    await safe_edit(query, markup=None)
    await _after_link(turn, linked)
    return None


# ``/start ptn_<secret>``: the secret of ``partners.invite`` (token_urlsafe(16)).
INVITE_PREFIX = "ptn_"
INVITE = re.compile(r"^ptn_([A-Za-z0-9_-]{22})$")


def invite_link(turn: Turn, token: str) -> str:
    return f"https://t.me/{turn.deps.bot_username}?start={INVITE_PREFIX}{token}"


@button
async def invite_button(turn: Turn) -> str | None:
    """A facilitator asks for a partner's invitation: it is sent to them privately. A
    partner with a linked account needs a second press on a confirm button first."""
    query = turn.update.callback_query
    assert query is not None
    raw_id, raw_relink = callbacks.unpack(query.data, Button.PARTNER_INVITE, 2)
    if not callbacks.is_id(raw_id) or raw_relink not in ("0", "1"):
        raise Refusal("stale_button")
    partner_id, relink = int(raw_id), raw_relink == "1"
    ttl = turn.deps.settings.partner_invite_ttl

    def work(uow: UnitOfWork, caller: Caller) -> tuple[partners.Invitation, Caller]:
        made = partners.invite(uow, caller, partner_id, ttl, relink=relink)
        return made, caller

    made, caller = await turn.run(work, need_admin=True)
    if made.relink_needed:
        again = callbacks.button(
            turn.t("button.invite_again"), Button.PARTNER_INVITE, made.partner.id, 1
        )
        await turn.reply(
            turn.t("partner.invite_relink", name=made.partner.name),
            markup=InlineKeyboardMarkup([[again]]),
        )
        return None
    assert made.token is not None and made.expires_at is not None and caller.wijk is not None
    if relink:
        await safe_edit(query, markup=None)
    person = caller.person
    assert person is not None and turn.actor is not None  # partners.invite refuses others
    home = caller.wijk.language
    lang = language.for_person(person.language, person.tg_language_code, home, home)
    text = t(
        lang,
        "partner.invite_private",
        name=made.partner.name,
        wijk=caller.wijk.title,
        until=when(lang, made.expires_at, caller.wijk.timezone),
        link=invite_link(turn, made.token),
    )
    try:
        await turn.context.bot.send_message(turn.actor.tg_user_id, text)
    except (Forbidden, BadRequest) as exc:
        # Not delivered: the invitation must not stay usable, and nothing of it goes into
        # the group: only a plain link to start a private chat.
        log.info("partner invitation not sent privately: %s", exc)
        token = made.token
        await turn.deps.db.run(lambda uow: partners.drop_invite(uow, token))
        start = f"https://t.me/{turn.deps.bot_username}"
        msg = await turn.reply(
            turn.t("partner.invite_private_first", name=plain(turn.actor.first_name)),
            markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton(turn.t("button.continue_private"), url=start)]]
            ),
        )
        await remember_named(turn.deps, turn.actor.tg_user_id, msg, "invite_private_first")
        return None
    return turn.t("partner.invite_sent")


async def accept_invite(turn: Turn, payload: str) -> bool:
    """/start ptn_<secret> in private: the partner links their own account, once."""
    if not payload.startswith(INVITE_PREFIX) or turn.in_group:
        return False
    match = INVITE.match(payload)
    if match is None:
        raise Refusal("invite_unknown")
    token = match[1]
    done = await turn.run(lambda uow, caller: partners.accept_invite(uow, caller, token))
    await turn.reply(turn.t("partner.invite_accepted", name=done.partner.name))
    tell = done.tell
    if tell is not None and not done.appointed:  # a Telegram admin when they asked: still?
        found = await standing(
            turn.deps, turn.context.bot, done.tg_chat_id, tell, turn.context.live
        )
        tell = tell if found is not None and found.admin else None
    if tell is not None:
        lang = done.tell_language or turn.lang
        try:
            await turn.context.bot.send_message(
                tell,
                t(
                    lang,
                    "partner.invite_linked",
                    person=done.name,
                    name=done.partner.name,
                    wijk=done.wijk_title,
                ),
            )
        except TelegramError as exc:
            log.info("facilitator not told of partner %s linking: %s", done.partner.id, exc)
    return True
