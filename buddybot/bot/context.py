"""The context every handler and job receives: PTB's CallbackContext with typed shared state.

``buddybot.app`` registers it (``ContextTypes(context=BotContext, bot_data=BotData)``) and
fills ``BotData`` once when it builds the Application.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from buddybot.bot.live import LiveMessages
from buddybot.bot.runtime import Deps

if TYPE_CHECKING:
    from buddybot.bot.webhook import WebhookServer

# The bot as built: an ExtBot with PTB's AIORateLimiter (whose per-call argument is an int).
BotType = ExtBot[int]


class BotData:
    """Shared by every handler and job of one Application; set when it is built."""

    deps: Deps
    live: LiveMessages
    webhook: WebhookServer | None = None  # our own server, in webhook mode


class BotContext(CallbackContext[BotType, dict[Any, Any], dict[Any, Any], BotData]):
    @property
    def deps(self) -> Deps:
        return self.bot_data.deps

    @property
    def live(self) -> LiveMessages:
        """The keeper of live messages (idea cards, meeting announcements)."""
        return self.bot_data.live


BotApp = Application[
    BotType, BotContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[BotContext]
]
