"""/profiel, /wijkfoto and /export: the picture of the wijk for the people who steer."""

from __future__ import annotations

import logging
from datetime import date

from babel.dates import format_date
from telegram import InlineKeyboardMarkup, InputFile
from telegram.error import Forbidden, TelegramError

from buddybot.domain import lifecycle
from buddybot.domain.lifecycle import State
from buddybot.handlers import callbacks
from buddybot.handlers.callbacks import Button
from buddybot.handlers.common import Turn, button, button_id, command, draw, standing
from buddybot.handlers.idea_views import state_name
from buddybot.i18n import Html, Plural, join_lines, t, tn
from buddybot.services import export, people, wijkfoto
from buddybot.services.errors import Refusal
from buddybot.storage.db import UnitOfWork

log = logging.getLogger(__name__)

FUNNEL = [State.PROPOSED, State.SELECTED, State.IN_PROGRESS, State.REALISED]


@command
async def profile(turn: Turn) -> None:
    args = turn.context.args or []
    msg = turn.update.effective_message
    parts = ((msg.text or "") if msg else "").split(maxsplit=2)
    field = args[0] if args else None
    value = parts[2] if len(parts) > 2 else ""

    def work(uow: UnitOfWork, caller: people.Caller) -> wijkfoto.Profile:
        if field is None:
            return wijkfoto.profile_of(caller)
        return wijkfoto.set_profile(uow, caller, field, value)

    result = await turn.run(work, need_admin=field is not None)
    lines = [turn.t("profile.title", title=result.title)]
    for key in wijkfoto.ORDER:
        text = result.fields.get(key)
        lines.append(turn.t(f"profile.{key}", text=text or turn.t("profile.empty")))
    lines.append(turn.t("profile.help"))
    await turn.reply(join_lines(lines))


def figures_text(lang: str, f: wijkfoto.Figures) -> Html:
    lines = [
        t(lang, "report.title", title=f.title),
        tn(lang, "report.people", f.active_30d, members=Plural("count.neighbours", f.members)),
        tn(lang, "report.new_ideas", f.new_ideas_30d),
        t(
            lang,
            "report.funnel",
            funnel=" → ".join(f"{state_name(lang, s)} {f.funnel[s]}" for s in FUNNEL),
            parked=f.funnel[State.PARKED],
        ),
        t(lang, "report.champions", with_=f.with_champion, without=f.without_champion),
        t(lang, "report.quiet", count=f.quiet),
        t(lang, "report.meetings", held=f.meetings_held, yes=Plural("count.times", f.rsvps_yes)),
    ]
    if f.turnout is not None:
        lines.append(tn(lang, "report.votes", f.votes_closed, percent=round(f.turnout * 100)))
    else:
        lines.append(t(lang, "report.no_votes"))
    lines.append(tn(lang, "report.partners", f.partners, links=Plural("count.links", f.links)))
    return join_lines(lines)


def charts(lang: str, f: wijkfoto.Figures) -> list[tuple[str, bytes]]:
    """The three charts as (file name, PNG)."""
    # matplotlib is loaded on the first chart, not at start: it is half the bot's memory.
    from buddybot.charts.wijkfoto import activity_chart, funnel_chart, heatmap_chart

    def week(d: date) -> str:
        return str(format_date(d, "d MMM", locale=lang))

    days = [str(t(lang, f"day.{d}")) for d in range(7)]
    return [
        (
            "trechter.png",
            funnel_chart(
                str(t(lang, "chart.funnel", title=f.title)),
                [(state_name(lang, s), f.funnel[s]) for s in FUNNEL],
                parked=(state_name(lang, State.PARKED), f.funnel[State.PARKED]),
            ),
        ),
        (
            "activiteit.png",
            activity_chart(
                str(t(lang, "chart.activity", title=f.title)),
                f.weeks,
                ylabel=str(t(lang, "chart.actions")),
                week_label=week,
            ),
        ),
        (
            "wanneer.png",
            heatmap_chart(
                str(t(lang, "chart.when", title=f.title)),
                f.heatmap,
                day_names=days,
                hour_label=str(t(lang, "chart.hour")),
            ),
        ),
    ]


async def _send_report(turn: Turn, chat_id: int, f: wijkfoto.Figures, lang: str) -> None:
    """The figures, then the charts: pictures of the same figures, so when they cannot be
    drawn the figures stand alone."""
    await turn.context.bot.send_message(chat_id, figures_text(lang, f))
    rendered = await draw(lambda: charts(lang, f), f"wijkfoto of wijk {f.wijk_id}")
    for name, png in rendered or []:
        # One chart Telegram refuses takes nothing else with it: the next ones still go.
        try:
            await turn.context.bot.send_photo(chat_id, InputFile(png, filename=name))
        except TelegramError as exc:
            log.warning("chart %s of wijk %s not sent: %s", name, f.wijk_id, exc)


async def _admin_of(turn: Turn) -> tuple[set[int], set[int]]:
    """Among the person's wijken: the groups (chat ids) where Telegram says they are an
    admin, and those where their place could not be checked (no power rests on those)."""
    if turn.actor is None:
        return set(), set()
    tg_user_id = turn.actor.tg_user_id
    chats = await turn.deps.db.run(lambda uow: people.wijk_chats_of(uow, tg_user_id))
    admin, unknown = set(), set()
    for chat_id in chats:
        found = await standing(turn.deps, turn.context.bot, chat_id, tg_user_id, turn.context.live)
        if found is None:
            unknown.add(chat_id)
        elif found.admin:
            admin.add(chat_id)
    return admin, unknown


@command
async def report(turn: Turn) -> None:
    if turn.in_group:
        figures = await turn.run(wijkfoto.figures_for, need_admin=True)
        assert turn.chat is not None
        await _send_report(turn, turn.chat.tg_chat_id, figures, turn.lang)
        return
    admin_of, unknown = await _admin_of(turn)
    several = await turn.run(
        lambda uow, caller: [
            wijkfoto.figures(uow, w) for w in wijkfoto.steered(uow, caller, admin_of, unknown)
        ]
    )
    if not several:
        raise Refusal("report_none")
    if len(several) == 1:
        assert turn.chat is not None
        await _send_report(turn, turn.chat.tg_chat_id, several[0], turn.lang)
        return
    # Several wijken: an overview that compares them, and a picker for the full picture.
    lines = [turn.t("overview.title")]
    for f in several:
        lines.append(
            turn.t(
                "overview.line",
                title=f.title,
                members=f.members,
                active=f.active_30d,
                ideas=sum(f.funnel[s] for s in lifecycle.OPEN),
                realised=f.funnel[State.REALISED],
                quiet=f.quiet,
            )
        )
    rows = [[callbacks.button(f.title[:40], Button.WIJKFOTO_OF, f.wijk_id)] for f in several]
    await turn.reply(join_lines(lines), markup=InlineKeyboardMarkup(rows))


@button
async def pick(turn: Turn) -> str | None:
    assert turn.chat is not None
    wijk_id = button_id(turn, Button.WIJKFOTO_OF)
    if turn.in_group:  # the picker is only offered in private: never post figures elsewhere
        raise Refusal("stale_button")
    admin_of, unknown = await _admin_of(turn)
    figures = await turn.run(
        lambda uow, caller: wijkfoto.figures_of(
            uow, wijk_id, wijkfoto.steered(uow, caller, admin_of, unknown)
        )
    )
    await _send_report(turn, turn.chat.tg_chat_id, figures, turn.lang)
    return None


@command
async def export_zip(turn: Turn) -> None:
    """The wijk's CSV files, always in private."""
    title, data = await turn.run(export.for_caller, need_admin=True)
    assert turn.actor is not None
    name = f"{''.join(c if c.isalnum() else '-' for c in title.lower())[:40]}-export.zip"
    try:
        await turn.context.bot.send_document(
            turn.actor.tg_user_id,
            InputFile(data, filename=name),
            caption=turn.t("export.caption", title=title),
        )
    except Forbidden:
        raise Refusal("open_private_first") from None
    if turn.in_group:
        await turn.reply(turn.t("export.sent"))
