"""How ideas look in a chat: the idea card, the list, and their buttons."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from buddybot.domain import lifecycle
from buddybot.domain.lifecycle import State
from buddybot.handlers import callbacks
from buddybot.handlers.callbacks import Button
from buddybot.i18n import Html, join_lines, t, tn
from buddybot.services import ideas

NAMES_SHOWN = 5


def state_name(lang: str, state: State) -> str:
    return str(t(lang, f"state.{state.value}"))


def people(lang: str, group: ideas.People) -> str:
    """ "Anna, Bert +3": names of those who show them, the rest as a number."""
    names = group.names[:NAMES_SHOWN]
    rest = group.count - len(names)
    text = ", ".join(names)
    if rest > 0:
        text = f"{text} +{rest}" if text else str(tn(lang, "card.people_count", rest))
    return text


def card_text(lang: str, card: ideas.Card) -> Html:
    lines = [t(lang, "card.title", number=card.number, title=card.title)]
    if card.description:
        lines.append(t(lang, "card.description", text=card.description))
    status = state_name(lang, card.status)
    author = card.author or t(lang, "card.a_neighbour")
    lines.append(t(lang, "card.by", author=author, status=status))
    if card.themes:
        names = ", ".join(str(t(lang, f"theme.{k}")) for k in card.themes)
        lines.append(t(lang, "card.themes", themes=names))
    if card.supporters.count:
        lines.append(
            tn(
                lang,
                "card.supporters",
                card.supporters.count,
                who=people(lang, card.supporters),
            )
        )
    if card.helpers.count:
        lines.append(tn(lang, "card.helpers", card.helpers.count, who=people(lang, card.helpers)))
    if card.champions.count:
        lines.append(t(lang, "card.champions", who=people(lang, card.champions)))
    elif card.open:
        lines.append(t(lang, "card.no_champion"))
    if card.partners:
        lines.append(t(lang, "card.partners", names=", ".join(card.partners)))
    if card.pending_champions:
        lines.append(tn(lang, "card.pending_champions", card.pending_champions))
    if card.latest_update:
        lines.append(t(lang, "card.update", text=card.latest_update))
    return join_lines(lines)


def card_markup(lang: str, card: ideas.Card) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if card.open:
        rows.append(
            [
                callbacks.button(
                    t(lang, "button.support", count=card.supporters.count), Button.SUPPORT, card.id
                ),
                callbacks.button(
                    t(lang, "button.join", count=card.helpers.count), Button.JOIN, card.id
                ),
            ]
        )
        rows.append(
            [
                callbacks.button(t(lang, "button.champion"), Button.CHAMPION, card.id),
                callbacks.button(t(lang, "button.partners"), Button.PARTNER_MATCHES, card.id),
                callbacks.button(t(lang, "button.status"), Button.STATUS_MENU, card.id),
            ]
        )
    elif card.status is State.PARKED:
        rows.append([callbacks.button(t(lang, "button.status"), Button.STATUS_MENU, card.id)])
    return InlineKeyboardMarkup(rows)


def status_markup(lang: str, card: ideas.Card) -> InlineKeyboardMarkup:
    targets = lifecycle.targets(card.status)
    buttons = [
        callbacks.button(state_name(lang, s), Button.SET_STATUS, card.id, s.value) for s in targets
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([callbacks.button(t(lang, "button.back"), Button.STATUS_BACK, card.id)])
    return InlineKeyboardMarkup(rows)


def page_text(lang: str, page: ideas.Page) -> Html:
    if not page.total:
        return t(lang, "list.empty")
    lines = [t(lang, "list.title", page=page.page, pages=page.pages, total=page.total)]
    for line in page.lines:
        lines.append(
            t(
                lang,
                "list.line",
                number=line.number,
                title=line.title,
                supporters=line.supporters,
                helpers=line.helpers,
                champion="🏆" if line.champions else "",
            )
        )
    lines.append(t(lang, "list.hint"))
    return join_lines(lines)


def page_markup(lang: str, page: ideas.Page) -> InlineKeyboardMarkup:
    numbers = [
        callbacks.button(f"#{line.number}", Button.SHOW_IDEA, line.id) for line in page.lines
    ]
    rows = [numbers[i : i + 4] for i in range(0, len(numbers), 4)]
    nav = []
    if page.page > 1:
        nav.append(callbacks.button(t(lang, "button.previous"), Button.IDEAS_PAGE, page.page - 1))
    if page.page < page.pages:
        nav.append(callbacks.button(t(lang, "button.next"), Button.IDEAS_PAGE, page.page + 1))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)
