"""Telegram-facing adapters. ``register`` wires them all into an Application."""

from __future__ import annotations

from buddybot.app import BotApp, on_start
from buddybot.bot.runtime import Deps
from handlers.live import LiveMessages


def register(app: BotApp) -> None:
    from handlers import (
        announcements,
        basics,
        commands,
        errors,
        flood,
        ideas,
        meetings,
        membership,
        notices,
        nudges,
        partners,
        polls,
        privacy,
        replies,
        wijkfoto,
    )

    deps: Deps = app.bot_data["deps"]
    app.bot_data["live"] = LiveMessages(deps)
    flood.register(app)
    membership.register(app)
    basics.register(app)
    ideas.register(app)
    meetings.register(app)
    announcements.register(app)
    polls.register(app)
    partners.register(app)
    nudges.register(app)
    wijkfoto.register(app)
    privacy.register(app)
    replies.register(app)
    notices.register(app)
    errors.register(app)
    membership.register_last(app)
    basics.register_last(app)

    async def publish_commands(app: BotApp) -> None:
        await commands.publish(app, deps.policy.default_language)

    on_start(app, publish_commands)
