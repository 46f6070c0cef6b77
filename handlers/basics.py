"""/start, /hulp, /wie and /taal: getting to know the buddy."""

from __future__ import annotations

from functools import cache

from telegram import InlineKeyboardMarkup

from buddybot.domain.roles import STEERING
from buddybot.handlers import callbacks, partners
from buddybot.handlers.callbacks import Button
from buddybot.handlers.commands import visible
from buddybot.handlers.common import Turn, button, command, safe_edit
from buddybot.handlers.privacy import remember_named
from buddybot.i18n import Html, join_lines, t
from buddybot.services import ideas, people
from buddybot.services.errors import Refusal
from buddybot.settings import LANGUAGES
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Wijk


def _args(turn: Turn) -> list[str]:
    return list(turn.context.args or [])


def _help_lines(turn: Turn, facilitator: bool) -> list[Html]:
    return list(_help_for(turn.lang, turn.in_group, facilitator))


@cache
def _help_for(lang: str, group: bool, facilitator: bool) -> tuple[Html, ...]:
    """The command lines of /hulp: the catalogs are fixed while the bot runs, so each of
    the few combinations is rendered once."""
    return tuple(
        t(lang, "help.line", command=name, text=text)
        for name, text in visible(lang=lang, group=group, facilitator=facilitator)
    )


@command
async def start(turn: Turn) -> None:
    args = _args(turn)
    if args and args[0].startswith("kit_") and callbacks.is_id(args[0][4:]) and not turn.in_group:
        await _kit(turn, int(args[0][4:]))
        return
    if args and args[0].startswith(partners.INVITE_PREFIX) and await partners.accept_invite(
        turn, args[0]
    ):
        return

    def work(uow: UnitOfWork, caller: people.Caller) -> tuple[people.Caller, list[Wijk]]:
        found = people.my_wijken(uow, caller.person) if caller.person else []
        return caller, [w for w, _ in found]

    caller, wijken = await turn.run(work)
    if turn.in_group:
        await turn.reply(join_lines([turn.t("start.group"), turn.t("help.more")]))
        return
    name = people.display_name(caller.person)
    lines = [turn.t("start.private", name=name)]
    if wijken:
        lines.append(turn.t("start.your_wijken"))
        lines += [turn.t("start.wijk_line", title=w.title) for w in wijken]
    else:
        lines.append(turn.t("start.no_wijk"))
    lines.append(turn.t("help.more"))
    show = caller.person.show_name if caller.person else True
    contact = caller.person.contact_ok if caller.person else False
    await turn.reply(join_lines(lines), markup=_home_markup(turn.lang, show, contact))


def _home_markup(lang: str, show: bool, contact: bool) -> InlineKeyboardMarkup:
    name = t(lang, "start.hide_name" if show else "start.show_name")
    reach = t(lang, "start.contact_off" if contact else "start.contact_on")
    return InlineKeyboardMarkup(
        [
            [callbacks.button(name, Button.SHOW_MY_NAME)],
            [callbacks.button(reach, Button.CONTACT_OK)],
        ]
    )


@button
async def name_button(turn: Turn) -> str | None:
    """Show my name on idea cards, or count me only."""
    query = turn.update.callback_query
    assert query is not None
    callbacks.unpack(query.data, Button.SHOW_MY_NAME, 0)
    if turn.in_group:
        raise Refusal("private_only")

    def work(uow: UnitOfWork, caller: people.Caller) -> tuple[bool, bool]:
        show = ideas.toggle_show_name(uow, caller)
        return show, bool(caller.person and caller.person.contact_ok)

    show, contact = await turn.run(work)
    await safe_edit(query, markup=_home_markup(turn.lang, show, contact))
    return turn.t("start.name_shown" if show else "start.name_hidden")


@button
async def contact_button(turn: Turn) -> str | None:
    """May champions of similar ideas contact me?"""
    query = turn.update.callback_query
    assert query is not None
    callbacks.unpack(query.data, Button.CONTACT_OK, 0)
    if turn.in_group:
        raise Refusal("private_only")

    def work(uow: UnitOfWork, caller: people.Caller) -> tuple[bool, bool]:
        contact = ideas.toggle_contact_ok(uow, caller)
        return contact, bool(caller.person is None or caller.person.show_name)

    contact, show = await turn.run(work)
    await safe_edit(query, markup=_home_markup(turn.lang, show, contact))
    return turn.t("start.contact_yes" if contact else "start.contact_no")


async def _kit(turn: Turn, idea_id: int) -> None:
    """Deep link from "continue in private": the champion kit of that idea."""
    from buddybot.handlers.ideas import kit_partners, kit_text, still_there

    await still_there(turn, await turn.deps.db.run(lambda uow: ideas.wijk_chat(uow, idea_id)))

    def work(uow: UnitOfWork, caller: people.Caller) -> tuple[ideas.Kit, list[str]]:
        kit = ideas.champion_kit(uow, caller, idea_id)
        return kit, kit_partners(uow, kit)

    kit, names = await turn.run(work)
    await turn.reply(kit_text(turn.lang, kit, names))


@command
async def help_(turn: Turn) -> None:
    in_group = turn.in_group

    def work(uow: UnitOfWork, caller: people.Caller) -> bool:
        """In private, whoever steers some wijk sees the facilitator's commands."""
        if in_group or caller.person is None:
            return caller.facilitator
        return caller.superadmin or any(
            role in STEERING for _, role in people.my_wijken(uow, caller.person)
        )

    facilitator = await turn.run(work, need_admin=True, remember=False)
    lines = [turn.t("help.intro"), turn.t("help.commands")]
    lines += _help_lines(turn, facilitator)
    if facilitator:
        lines.append(turn.t("help.facilitator_note"))
    await turn.reply(join_lines(lines))


@command
async def who(turn: Turn) -> None:
    def work(uow: UnitOfWork, caller: people.Caller) -> list[tuple[Wijk, people.Team]]:
        wijken: list[Wijk] = []
        if caller.wijk is not None:
            wijken = [caller.wijk]
        elif caller.person is not None:
            wijken = [w for w, _ in people.my_wijken(uow, caller.person)]
        return [(w, people.team(uow, w)) for w in wijken]

    teams = await turn.run(work, remember=False)
    if not teams:
        await turn.reply(turn.t("who.none"))
        return
    lines: list[Html] = []
    named: set[int] = set()
    for wijk, team in teams:
        # Telegram admins steer too; their names come from Telegram (cached).
        admins = await turn.deps.admins.admins(turn.context.bot, wijk.tg_chat_id)
        names = sorted(set(team.facilitators) | set(admins.values()))
        named |= set(team.tg_user_ids) | set(admins)
        lines.append(turn.t("who.wijk", title=wijk.title))
        lines.append(turn.t("who.buddy", names=", ".join(team.buddy) or turn.t("who.nobody")))
        lines.append(turn.t("who.facilitators", names=", ".join(names) or turn.t("who.nobody")))
    lines.append(turn.t("who.explain"))
    msg = await turn.reply(join_lines(lines))
    # The answer names each of them: removed when any of them is forgotten.
    await remember_named(turn.deps, sorted(named), msg, "who")


def _language_buttons(scope: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                callbacks.button(t(code, "language.name"), Button.CHOOSE_LANGUAGE, scope, code)
                for code in LANGUAGES
            ]
        ]
    )


@command
async def language(turn: Turn) -> None:
    args = _args(turn)
    in_group = turn.in_group

    def work(uow: UnitOfWork, caller: people.Caller) -> str | None:
        if in_group and not caller.facilitator:
            raise Refusal("language_group")
        if not args:
            return None
        if in_group:
            return people.set_wijk_language(uow, caller, args[0])
        return people.set_person_language(uow, caller, args[0])

    lang = await turn.run(work, need_admin=in_group)
    if lang is None:
        scope = "g" if turn.in_group else "p"
        current = turn.t("language.name")
        await turn.reply(
            turn.t(f"language.ask_{scope}", current=current), markup=_language_buttons(scope)
        )
        return
    turn.lang = lang
    await turn.reply(turn.t("language.set_g" if turn.in_group else "language.set_p"))


@button
async def language_button(turn: Turn) -> str | None:
    query = turn.update.callback_query
    assert query is not None
    scope, code = callbacks.unpack(query.data, Button.CHOOSE_LANGUAGE, 2)
    if (scope == "g") != turn.in_group:
        raise Refusal("stale_button")
    change = people.set_wijk_language if scope == "g" else people.set_person_language
    lang = await turn.run(lambda uow, caller: change(uow, caller, code), need_admin=turn.in_group)
    turn.lang = lang
    text = turn.t("language.set_g" if scope == "g" else "language.set_p")
    await safe_edit(query, text=text)
    return None


@button
async def unknown_button(turn: Turn) -> str | None:
    """Buttons no handler knows (old versions, forged data): answered, nothing done."""
    raise Refusal("stale_button")
