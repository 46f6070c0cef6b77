"""Group 0's handlers sit behind one lookup (handlers/routing.py); every update must still
reach the handler the plain walk through the group would pick."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from benchmarks.local_api import BOT, LocalBotApi
from benchmarks.mix import Targets, World
from buddybot import app as bot_app
from buddybot.bot.runtime import Deps
from buddybot.clock import SystemClock
from buddybot.fakegram import shapes
from buddybot.settings import Settings
from buddybot.storage.db import Database
from handlers import register
from handlers.routing import Handler, Routed

JSON = dict[str, Any]


def _updates() -> list[JSON]:
    world = World(3)
    targets = Targets()
    for chat_id in world.people:
        targets.ideas[chat_id] = [1, 2]
        targets.meetings[chat_id] = 3
        targets.polls[chat_id] = "p"
    out = world.mix(300, targets)
    chat_id, people = next(iter(world.people.items()))
    anna = people[1]
    for text in [
        "/Hulp", "/hulp@buddy_bench_bot", "/hulp@other_bot", "/HULP@Buddy_Bench_Bot extra",
        "/nietbestaand", "/idee", "/ideeën", "/ideeen 2", "/start", "/toon 3", "/",
    ]:  # fmt: skip
        out.append(world.command(chat_id, anna, text))
        out.append(world.command(chat_id, anna, text, private=True))
    group = shapes.chat(chat_id, "supergroup", title="Wijk")
    out.append(
        shapes.update(9001, "message", shapes.message(1, 1, group, from_user=anna, text="hoi"))
    )
    card = shapes.message(2, 1, group, from_user=BOT, text="/hulp staat op de kaart",
                          entities=[{"type": "bot_command", "offset": 0, "length": 5}])  # fmt: skip
    for data in [
        "1:sup:1", "1:sup", "1:supx:1", "1:sup\n", "1:pg:2", "1:pg1", "1:rsvp:3:y",
        "2:sup:1", "1:", "x", "", None, "1:taal:en", "1:show:1",
    ]:  # fmt: skip
        query = shapes.callback_query("q", anna, "ci", msg=card, data=data)
        out.append(shapes.update(9002, "callback_query", query))
    command = [{"type": "bot_command", "offset": 0, "length": 5}]
    edited = shapes.message(3, 1, group, from_user=anna, text="/hulp", entities=command)
    out.append(shapes.update(9003, "edited_message", edited))
    return out


def _first(handlers: list[Handler] | tuple[Handler, ...], update: object) -> Handler | None:
    for handler in handlers:
        check = handler.check_update(update)
        if check is not None and check is not False:
            return handler
    return None


@pytest.fixture
async def app() -> Any:
    settings = Settings(
        _env_file=None, token="7000000001:bench", database_url="sqlite+aiosqlite://"
    )
    db = Database.for_settings(settings, SystemClock())
    built = bot_app.build_application(
        Deps.build(settings, db, SystemClock()), register, request=LocalBotApi()
    )
    async with built:
        yield built
    await db.dispose()


async def test_every_update_reaches_the_handler_the_plain_walk_picks(app: Any) -> None:
    (routed,) = app.handlers[0]
    assert isinstance(routed, Routed)
    assert len(routed.handlers) > 50  # the whole group sits behind it
    picked: set[Handler] = set()
    for raw in _updates():
        update = Update.de_json(raw, app.bot)
        expected = _first(routed.handlers, update)
        found = routed.check_update(update)
        assert (found[0] if found else None) is expected, raw
        if expected is not None:
            picked.add(expected)
    assert len(picked) >= 12  # commands, buttons, votes and plain messages were all tried
