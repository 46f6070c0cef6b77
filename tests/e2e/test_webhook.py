"""Webhook mode: Telegram (fakegram) pushes updates; requests without the secret are refused."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from buddybot import app as bot_app
from buddybot.clock import FakeClock
from buddybot.fakegram import FakegramClient, FakegramServer
from tests.support.harness import Harness, World, local_settings
from tests.support.outage import close_fails_once, database_away

SECRET = "s3cret-token_1-long-enough-to-guard-it"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def hooked(
    server: FakegramServer, tg: FakegramClient, database_url: str, clock: FakeClock
) -> AsyncIterator[tuple[Harness, str]]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    settings = local_settings(
        server,
        database_url,
        webhook_url=url,
        webhook_secret=SECRET,
        listen="127.0.0.1",
        port=port,
    )
    harness = Harness(server, tg, settings, clock)
    await harness.start()
    yield harness, url
    await harness.close()


async def test_updates_arrive_by_webhook_with_the_secret(
    hooked: tuple[Harness, str],
) -> None:
    bot, url = hooked
    calls = await bot.tg.calls("setWebhook")
    assert calls[-1]["params"]["url"] == url
    assert calls[-1]["params"]["secret_token"] == SECRET
    w = await World(bot).build()
    await bot.say(w.group, w.anna, "/wie")
    assert "Buddy: nog niemand" in await bot.last_text(w.group)


async def test_a_request_without_the_secret_is_refused(hooked: tuple[Harness, str]) -> None:
    bot, url = hooked
    forged = {
        "update_id": 999,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private", "first_name": "Eve"},
            "from": {"id": 5, "is_bot": False, "first_name": "Eve"},
            "text": "/start",
        },
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=forged) as resp:
            assert resp.status == 403
        headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        async with http.post(url, json=forged, headers=headers) as resp:
            assert resp.status == 403
    assert not bot.is_handled(forged)


async def test_a_secret_that_is_not_ascii_is_refused_like_any_wrong_one(
    hooked: tuple[Harness, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A forged header with other characters is a plain 403, not a crash with a traceback."""
    bot, url = hooked
    forged = {"update_id": 998, "message": {"message_id": 1, "date": 0, "chat": {"id": 5}}}
    async with aiohttp.ClientSession() as http:
        for given in (SECRET[:-1] + "é", "ö" * len(SECRET), SECRET + "\u200b"):
            headers = {"X-Telegram-Bot-Api-Secret-Token": given}
            async with http.post(url, json=forged, headers=headers) as resp:
                assert resp.status == 403, given
    assert not bot.is_handled(forged)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_webhook_secret_must_be_long() -> None:
    from buddybot.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="needs at least 32 characters"):
        load_settings(
            _env_file=None, webhook_url="https://bot.example.org/hook", webhook_secret="a" * 31
        )
    ok = load_settings(
        _env_file=None, webhook_url="https://bot.example.org/hook", webhook_secret="a" * 32
    )
    assert ok.webhook_secret is not None


def test_the_webhook_listens_on_this_machine_only_unless_told() -> None:
    from buddybot.settings import load_settings

    assert load_settings(_env_file=None).listen == "127.0.0.1"
    assert load_settings(_env_file=None, listen="0.0.0.0").listen == "0.0.0.0"


def test_webhook_without_secret_is_a_settings_error() -> None:
    from buddybot.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="WEBHOOK_SECRET is required"):
        load_settings(_env_file=None, webhook_url="https://bot.example.org/hook")


async def test_the_webhook_answers_once_the_update_is_handled(
    hooked: tuple[Harness, str],
) -> None:
    """Telegram sends a chat's next update only after this answer: answering on arrival would
    let two replicas handle one chat's updates out of order."""
    bot, url = hooked
    w = await World(bot).build()
    update = {
        "update_id": 10_000,
        "message": {
            "message_id": 500,
            "date": 0,
            "chat": {"id": w.group, "type": "group", "title": "Wijk Oost"},
            "from": {"id": w.anna, "is_bot": False, "first_name": "Anna"},
            "text": "/wie",
            "entities": [{"type": "bot_command", "offset": 0, "length": 4}],
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json=update, headers=headers) as resp,
    ):
        assert resp.status == 200
        assert bot.is_handled(update)


async def test_the_webhook_answers_once_the_card_edits_are_done(
    hooked: tuple[Harness, str],
) -> None:
    """A press edits the idea card in the background; the chat's next update (maybe on another
    replica) must not start before that edit landed, or an older count could win."""
    bot, url = hooked
    w = await World(bot).build()
    await bot.say(w.group, w.anna, "/idee Moestuin achter de school")
    card = (await bot.tg.messages(w.group))[-1]
    data = next(
        b["callback_data"]
        for row in card["reply_markup"]["inline_keyboard"]
        for b in row
        if b["callback_data"].startswith("1:sup:")
    )
    edits_before = len(await bot.tg.calls("editMessageText"))
    message = {k: v for k, v in card.items() if k != "fakegram"}
    update = {
        "update_id": 10_001,
        "callback_query": {
            "id": "4242",
            "from": {"id": w.bert, "is_bot": False, "first_name": "Bert"},
            "chat_instance": "1",
            "data": data,
            "message": message,
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json=update, headers=headers) as resp,
    ):
        assert resp.status == 200
        edits = (await bot.tg.calls("editMessageText"))[edits_before:]
    assert [int(e["params"]["message_id"]) for e in edits] == [card["message_id"]]


async def test_an_update_the_database_could_not_take_is_sent_again(
    hooked: tuple[Harness, str],
) -> None:
    """The database is away: the webhook answers 503, so Telegram sends the update again, and
    once the database is back the resident gets the answer (and no apology before it)."""
    bot, _ = hooked
    w = await World(bot).build()
    with database_away(bot.db):
        await bot.db.dispose()
        update = await bot.tg.send_message(w.group, w.anna, "/wie")
        await bot.handled(update)
        assert bot.app is not None
        info = await bot.app.bot.get_webhook_info()
        assert info.last_error_message == "Wrong response from the webhook: 503"
    await bot.handled(update, times=2)
    await bot.settle()
    texts = await bot.texts(w.group)
    assert "Buddy: nog niemand" in texts[-1]
    assert not any("Sorry" in t for t in texts)


async def test_a_command_that_failed_after_its_first_step_is_answered_not_sent_again(
    hooked: tuple[Harness, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """/sluitstemming records itself and stops the Telegram poll, then the database fails
    as the vote closes. Sent again the command would be ignored as handled, so the webhook
    answers 200 and the facilitator gets the apology; sent once more by hand, it closes."""
    bot, _ = hooked
    w = await World(bot).build()
    await bot.say(w.group, w.admin, "/stemming Wat eten we? | soep | salade")
    close_fails_once(monkeypatch)
    update = await bot.tg.send_message(w.group, w.admin, "/sluitstemming 1")
    await bot.handled(update)
    await bot.settle()
    assert "Sorry" in await bot.last_text(w.group)
    assert not [t for t in await bot.texts(w.group) if t.startswith("🗳 Uitslag")]

    await bot.say(w.group, w.admin, "/sluitstemming 1")
    assert bot.app is not None
    assert bot_app.processor(bot.app).times_handled(update["update_id"]) == 1  # not sent again
    assert [t for t in await bot.texts(w.group) if t.startswith("🗳 Uitslag")]
