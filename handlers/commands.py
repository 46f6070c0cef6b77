"""The command list: Dutch name, English alias, who may use it. Used for the handlers,
for /hulp and for the menus Telegram shows (per language and per scope)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
)
from telegram.error import TelegramError

from buddybot.i18n import t
from buddybot.settings import LANGUAGES

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Command:
    nl: str
    en: str
    facilitator: bool = False
    private: bool = True
    group: bool = True

    @property
    def names(self) -> list[str]:
        return [self.nl] if self.nl == self.en else [self.nl, self.en]

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl

    def describe(self, lang: str) -> str:
        return str(t(lang, f"cmd.{self.nl}"))


COMMANDS: list[Command] = [
    Command("start", "start", group=False),
    Command("hulp", "help"),
    Command("wie", "who"),
    Command("taal", "language"),
    Command("idee", "idea", private=False),
    Command("ideeen", "ideas", private=False),
    Command("toon", "show", private=False),
    Command("steun", "support", private=False),
    Command("meedoen", "join", private=False),
    Command("kampioen", "champion", private=False),
    Command("bijwerken", "update", private=False),
    Command("thema", "themes", private=False),
    Command("bijeenkomsten", "meetings", private=False),
    Command("bijeenkomst", "meeting", facilitator=True, private=False),
    Command("verzetten", "reschedule", facilitator=True, private=False),
    Command("aankondiging", "announce", facilitator=True, private=False),
    Command("stemming", "poll", private=False),
    Command("alliantie", "partners", private=False),
    Command("partner", "addpartner", facilitator=True, private=False),
    Command("koppel", "link", facilitator=True, private=False),
    Command("instellingen", "settings", facilitator=True, private=False),
    Command("profiel", "profile", private=False),
    Command("wijkfoto", "report", facilitator=True),
    Command("export", "export", facilitator=True, private=False),
    Command("wijkwissen", "purge", facilitator=True, private=False),
    Command("sluitstemming", "closepoll", facilitator=True, private=False),
    Command("afzeggen", "cancelmeeting", facilitator=True, private=False),
    Command("status", "setstatus", facilitator=True, private=False),
    Command("verberg", "hide", facilitator=True, private=False),
    Command("herstel", "restore", facilitator=True, private=False),
    Command("mijngegevens", "mydata", group=False),
    Command("vergeetmij", "forgetme", group=False),
    Command("privacy", "privacy"),
    Command("facilitator", "appoint", facilitator=True, private=False),
    Command("buddy", "buddy", facilitator=True, private=False),
]


def visible(*, lang: str, group: bool, facilitator: bool) -> list[tuple[str, str]]:
    """(name, description) of the commands this person may use here."""
    return [
        (c.name(lang), c.describe(lang))
        for c in COMMANDS
        if (c.group if group else c.private) and (facilitator or not c.facilitator)
    ]


def _menu(lang: str, *, group: bool, facilitator: bool) -> list[BotCommand]:
    return [BotCommand(n, d) for n, d in visible(lang=lang, group=group, facilitator=facilitator)]


async def publish(bot: Bot, default_language: str) -> None:
    """setMyCommands per language and scope; facilitators see their extra commands as admins."""
    scopes: list[tuple[BotCommandScope, bool, bool]] = [
        (BotCommandScopeAllPrivateChats(), False, False),
        (BotCommandScopeAllGroupChats(), True, False),
        (BotCommandScopeAllChatAdministrators(), True, True),
    ]
    try:
        for scope, group, facilitator in scopes:
            for lang in LANGUAGES:
                await bot.set_my_commands(
                    _menu(lang, group=group, facilitator=facilitator),
                    scope=scope,
                    language_code=lang,
                )
            await bot.set_my_commands(
                _menu(default_language, group=group, facilitator=facilitator), scope=scope
            )
    except TelegramError as exc:  # menus are a convenience; the bot works without them
        log.warning("could not set the command menus: %s", exc)
