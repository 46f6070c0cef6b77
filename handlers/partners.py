"""The sociale alliantie: /partner, /alliantie, /koppel and the Partners button on a card."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from buddybot.handlers import callbacks
from buddybot.handlers.callbacks import Button
from buddybot.handlers.common import Turn, actor_ref, button, button_id, command, safe_edit
from buddybot.handlers.replies import After, Form
from buddybot.i18n import Html, join_lines, t
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


def invite_signature(token: str, partner_id: int) -> str:
    """A deep link only the bot can make: the partner opens it to link their account."""
    digest = hmac.new(token.encode(), f"partner:{partner_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:10]


def invite_link(turn: Turn, partner_id: int) -> str:
    token = turn.deps.settings.token.get_secret_value() if turn.deps.settings.token else ""
    sig = invite_signature(token, partner_id)
    return f"https://t.me/{turn.deps.bot_username}?start=p{partner_id}_{sig}"


async def _saved(turn: Turn, view: Partner, created: bool) -> None:
    remove = callbacks.button(turn.t("button.remove"), Button.REMOVE_PARTNER, view.id)
    invite = InlineKeyboardButton(turn.t("button.invite"), url=invite_link(turn, view.id))
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


INVITE = re.compile(r"^p(\d{1,9})_([0-9a-f]{10})$")


async def accept_invite(turn: Turn, payload: str) -> bool:
    """/start p<id>_<sig> in private: the partner links their own account."""
    match = INVITE.match(payload)
    if match is None or turn.in_group:
        return False
    token = turn.deps.settings.token.get_secret_value() if turn.deps.settings.token else ""
    if not hmac.compare_digest(invite_signature(token, int(match[1])), match[2]):
        raise Refusal("stale_button")
    partner_id = int(match[1])
    view = await turn.run(lambda uow, caller: partners.accept_invite(uow, caller, partner_id))
    await turn.reply(turn.t("partner.invite_accepted", name=view.name))
    return True
