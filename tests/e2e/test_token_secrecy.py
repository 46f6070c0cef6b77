"""The bot token never reaches a log line or a database row, whatever Telegram or the network
answers: the bot runs at DEBUG through Telegram errors that echo the token and a proxy that
redirects (in a loop, with the URL in its answer), and every captured line and every stored
value is searched for it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select
from telegram.error import NetworkError

from buddybot.bot.http import AiohttpRequest
from buddybot.clock import FakeClock
from buddybot.fakegram import FakegramClient, FakegramServer
from buddybot.redact import MASK
from buddybot.storage.models import DueItem
from tests.support.harness import BOT_USERNAME, Harness, World, local_settings
from tests.support.harness import TOKEN as FAKEGRAM_TOKEN
from tests.support.process import run_until_it_stops

# Shaped like a real token: upper and lower case (PTB lowercases parts of error texts).
TOKEN = "7000000002:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET_PART = TOKEN.split(":", 1)[1]


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every logger at DEBUG, to pytest's capture and to stderr, as ``BUDDYBOT_LOG_LEVEL=DEBUG``
    configures a running bot (the libraries' own levels included)."""
    caplog.set_level(logging.DEBUG)
    quiet = ("httpx", "apscheduler", "aiohttp", "telegram", "asyncio")
    levels = {name: logging.getLogger(name).level for name in quiet}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.DEBUG)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(stderr)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(stderr)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _stored_text(bot: Harness) -> str:
    """Every value of every row of every table, as text."""
    values: list[str] = []
    with bot.db.transaction() as uow:
        tables = MetaData()
        tables.reflect(uow.session.connection())
        for table in tables.sorted_tables:
            for row in uow.session.execute(select(table)):
                values.extend(str(v) for v in row)
    return "\n".join(values)


@pytest.mark.usefixtures("debug_logs")
async def test_the_token_stays_out_of_logs_and_database(
    database_url: str,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    async with (
        FakegramServer(token=TOKEN, bot_username=BOT_USERNAME) as server,
        FakegramClient(server.url) as tg,
    ):
        errors, stored = await _story(server, tg, database_url, clock)
    out, err = capfd.readouterr()
    logged = "\n".join([caplog.text, out, err])
    # The failures did happen, and were logged and stored, masked.
    assert "error while handling update" in caplog.text
    assert sum(1 for e in errors if e and MASK in e) == 2, errors
    assert MASK in logged
    for secret in (TOKEN, SECRET_PART):
        assert secret.lower() not in logged.lower()
        assert secret.lower() not in stored.lower()


async def _story(
    server: FakegramServer, tg: FakegramClient, database_url: str, clock: FakeClock
) -> tuple[list[str | None], str]:
    """At DEBUG: Telegram errors that echo the URL, a redirecting proxy, failed scheduled
    work. Returns the stored error texts and every stored value."""
    bot = Harness(server, tg, local_settings(server, database_url, token=TOKEN), clock)
    await bot.start()
    try:
        w = await World(bot).build()
        echo = f"Bad Request: no such chat at /bot{TOKEN}/sendMessage"
        # A command whose answer Telegram refuses with a text that names the URL.
        await tg.inject_fault(kind="bad_request", method="sendMessage", description=echo)
        await bot.say(w.group, w.anna, "/wie")
        # A proxy that sends every request back to itself, naming the URL in its answer.
        await tg.inject_fault(kind="redirect", method="sendMessage", count=20)
        await bot.say(w.group, w.anna, "/wie")
        await tg.clear_faults()
        # Scheduled work that fails both ways keeps its error on the row.
        bot.clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
        await bot.say(w.group, w.admin, "/aankondiging vrijdag 19:00 | Koffie")
        await bot.say(w.group, w.admin, "/aankondiging zaterdag 19:00 | Thee")
        bot.clock.set(datetime(2026, 12, 5, 18, 0, tzinfo=UTC))
        await tg.inject_fault(kind="bad_request", method="sendMessage", description=echo)
        await tg.inject_fault(kind="redirect", method="sendMessage", count=20)
        await bot.tick()
        with bot.db.transaction() as uow:
            errors = list(uow.session.scalars(select(DueItem.last_error)))
        stored = _stored_text(bot)
    finally:
        await bot.close()
    return errors, stored


async def test_a_redirect_is_answered_as_an_error_not_followed(
    server: FakegramServer, tg: FakegramClient
) -> None:
    """The token must not travel to the address a redirect names."""
    await tg.inject_fault(kind="redirect", method="getMe", count=20)
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match=r"Found \(302\)"):
            await request.post(f"{server.api_base_url}{FAKEGRAM_TOKEN}/getMe")
    finally:
        await request.shutdown()
    assert len(await tg.calls("getMe")) == 1


async def test_a_bot_that_stops_on_a_network_error_prints_no_token(tmp_path: Path) -> None:
    """``buddybot run`` at DEBUG, as a process: Telegram's address redirects, so the bot cannot
    start; what the process prints (its own log and its last error) holds no token."""
    code, printed = await run_until_it_stops(tmp_path, TOKEN, BUDDYBOT_LOG_LEVEL="DEBUG")
    assert code == 1, printed
    assert "buddybot stopped on an error" in printed
    assert f"/bot7000000002:{MASK}/getMe" in printed
    assert SECRET_PART.lower() not in printed.lower()
