"""Polls, buttons, faults, flood limits, long polling, redelivery, webhooks and a
running Application — all over real HTTP."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Poll, PollAnswer, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CommandHandler, ContextTypes

from buddybot.fakegram import FakegramClient, FakegramServer
from buddybot.fakegram.htmltext import HtmlError, parse_html

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

AppT = Application  # type: ignore[type-arg]


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def polls_seen(server: FakegramServer) -> int:
    return sum(1 for c in server.state.calls if c.method == "getUpdates")


def seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after  # int or timedelta depending on PTB_TIMEDELTA
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


async def drain(app: AppT, **kwargs: Any) -> tuple[Update, ...]:
    updates = await app.bot.get_updates(timeout=0, **kwargs)
    if updates:
        await app.bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return updates


async def group(tg: FakegramClient, *, supergroup: bool = True) -> tuple[int, int, int]:
    anna = await tg.create_user("Anna")
    bert = await tg.create_user("Bert")
    chat_id = await tg.create_group("Wijk", supergroup=supergroup, creator=anna, members=[bert])
    await tg.add_bot(chat_id, by=anna)
    return chat_id, anna, bert


async def test_polls(app: AppT, tg: FakegramClient) -> None:
    chat_id, anna, bert = await group(tg)
    await drain(app)
    msg = await app.bot.send_poll(
        chat_id, "Welke dag?", ["ma", "di", "wo"], is_anonymous=False, allows_multiple_answers=True
    )
    assert msg.poll is not None and not msg.poll.is_anonymous
    poll_id = msg.poll.id
    await tg.vote(poll_id, anna, [0, 2])
    await tg.vote(poll_id, bert, [2])
    ups = await drain(app)
    answers = [u.poll_answer for u in ups if u.poll_answer]
    assert [(a.user.id, a.option_ids) for a in answers if a.user] == [(anna, (0, 2)), (bert, (2,))]
    assert answers[0].option_persistent_ids is not None
    assert all(u.effective_chat is None for u in ups if u.poll_answer)
    last_poll = [u.poll for u in ups if u.poll][-1]
    assert [o.voter_count for o in last_poll.options] == [1, 0, 2]
    assert last_poll.total_voter_count == 2
    await tg.vote(poll_id, anna, [])  # retract
    retract = [u.poll_answer for u in await drain(app) if u.poll_answer]
    assert isinstance(retract[0], PollAnswer) and retract[0].option_ids == ()
    state = await tg.poll_state(poll_id)
    assert isinstance(Poll.de_json(state, app.bot), Poll)
    assert state["fakegram"]["votes"] == {str(bert): [2]}
    stopped = await app.bot.stop_poll(chat_id, msg.message_id)
    assert stopped.is_closed and [o.voter_count for o in stopped.options] == [0, 0, 1]
    with pytest.raises(BadRequest, match=r"(?i)poll has already been closed"):
        await app.bot.stop_poll(chat_id, msg.message_id)
    with pytest.raises(Exception, match="closed"):
        await tg.vote(poll_id, anna, [1])
    # anonymous polls: only poll count updates
    anon = await app.bot.send_poll(chat_id, "Anoniem?", ["ja", "nee"])
    assert anon.poll is not None
    await drain(app)
    await tg.vote(anon.poll.id, bert, [1])
    ups = await drain(app)
    assert [u.poll is not None for u in ups] == [True] and not any(u.poll_answer for u in ups)
    # stopPoll only on the bot's own polls / poll messages
    text = await app.bot.send_message(chat_id, "geen poll")
    with pytest.raises(BadRequest, match=r"(?i)message with poll to stop not found"):
        await app.bot.stop_poll(chat_id, text.message_id)
    listed = await tg.messages(chat_id)
    assert listed[0]["poll"]["id"] == poll_id


async def test_buttons_and_callback_answers(app_factory: Any, token: str) -> None:
    clock = FakeClock()
    async with (
        FakegramServer(token=token, clock=clock, callback_query_max_age=60) as srv,
        FakegramClient(srv.url) as tg,
    ):
        app = app_factory(srv)
        async with app:
            chat_id, anna, bert = await group(tg)
            await drain(app)
            kb = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton("Ja", callback_data="v1:y:7")],
                    [InlineKeyboardButton("Site", url="https://example.org")],
                ]
            )
            msg = await app.bot.send_message(chat_id, "Doe je mee?", reply_markup=kb)
            pressed = await tg.press_button(chat_id, msg.message_id, bert, text="Ja")
            (upd,) = await drain(app)
            assert upd.update_id == pressed["update_id"]
            cq = upd.callback_query
            assert cq is not None and cq.data == "v1:y:7" and cq.from_user.id == bert
            assert cq.chat_instance and cq.message is not None
            assert cq.message.message_id == msg.message_id
            assert await tg.callback_answer(cq.id) is None
            assert await cq.answer("Gedaan!", show_alert=True)
            assert await tg.callback_answer(cq.id) == {
                "text": "Gedaan!",
                "show_alert": True,
                "url": None,
                "cache_time": 0,
            }
            with pytest.raises(BadRequest, match=r"(?i)query is too old"):
                await cq.answer()
            forged = await tg.press_button(chat_id, msg.message_id, anna, data="v1:admin:1")
            assert forged["callback_query"]["data"] == "v1:admin:1"
            clock.now += 61
            with pytest.raises(BadRequest, match=r"(?i)query is too old and response timeout"):
                await app.bot.answer_callback_query(forged["callback_query"]["id"])
            with pytest.raises(Exception, match="no button with text"):
                await tg.press_button(chat_id, msg.message_id, anna, text="Nee")
            answers = await tg.calls("answerCallbackQuery")
            assert [c["ok"] for c in answers] == [True, False, False]


@pytest.mark.parametrize(
    ("kind", "exc", "text"),
    [
        ("retry_after", RetryAfter, "retry in (7|0:00:07)"),
        ("forbidden", Forbidden, "blocked"),
        ("bad_request", BadRequest, "injected"),
        ("server_error", NetworkError, "bad gateway"),
    ],
)
async def test_faults(
    app: AppT, tg: FakegramClient, kind: str, exc: type[Exception], text: str
) -> None:
    chat_id, _, _ = await group(tg)
    await tg.inject_fault(kind=kind, method="sendMessage", chat_id=chat_id, retry_after=7)  # type: ignore[arg-type]
    await app.bot.get_me()  # other methods unaffected
    with pytest.raises(exc, match=f"(?i){text}") as info:
        await app.bot.send_message(chat_id, "x")
    if isinstance(info.value, RetryAfter):
        assert seconds(info.value) == 7
    await app.bot.send_message(chat_id, "x")  # count=1: the next call works again
    assert len(await tg.messages(chat_id)) == 1


async def test_slow_timeout_and_clear(app: AppT, tg: FakegramClient) -> None:
    chat_id, _, _ = await group(tg)
    await tg.inject_fault(kind="slow", method="sendMessage", delay=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await app.bot.send_message(chat_id, "traag")
    assert loop.time() - started >= 0.2
    await tg.inject_fault(kind="timeout", method="sendMessage", delay=5)
    with pytest.raises(TimedOut):
        await app.bot.send_message(chat_id, "weg", read_timeout=0.3)
    await tg.inject_fault(kind="server_error", count=5)
    await tg.clear_faults()
    await app.bot.send_message(chat_id, "ok")
    assert [m["text"] for m in await tg.messages(chat_id)] == ["traag", "ok"]


async def test_flood_limits(app_factory: Any, token: str) -> None:
    clock = FakeClock()
    async with (
        FakegramServer(token=token, clock=clock, enforce_flood_limits=True) as srv,
        FakegramClient(srv.url) as tg,
    ):
        app = app_factory(srv)
        async with app:
            chat_id, _, _ = await group(tg)
            for i in range(20):
                await app.bot.send_message(chat_id, f"m{i}")
                clock.now += 0.1
            with pytest.raises(RetryAfter) as info:
                await app.bot.send_message(chat_id, "one too many")
            assert 1 <= seconds(info.value) <= 60
            clock.now += 60
            await app.bot.send_message(chat_id, "again fine")
            # 30 per second overall, across private chats
            users = [await tg.create_user(f"U{i}") for i in range(31)]
            for uid in users:
                await tg.start_private(uid)
            clock.now += 5
            for uid in users[:30]:
                await app.bot.send_message(uid, "hoi")
            with pytest.raises(RetryAfter):
                await app.bot.send_message(users[30], "hoi")
            clock.now += 1.01
            await app.bot.send_message(users[30], "hoi")


async def test_long_polling_is_real(app: AppT, tg: FakegramClient, server: FakegramServer) -> None:
    chat_id, _, bert = await group(tg)
    await drain(app)
    loop = asyncio.get_running_loop()
    started = loop.time()
    before = polls_seen(server)
    waiting = asyncio.create_task(app.bot.get_updates(timeout=10))
    assert await server.wait_until(lambda: polls_seen(server) > before, 5)  # it is waiting
    sent = await tg.send_message(chat_id, bert, "hallo")
    updates = await asyncio.wait_for(waiting, 5)
    assert loop.time() - started < 5
    assert [u.update_id for u in updates] == [sent["update_id"]]
    # not confirmed yet: delivered again; confirmed: gone
    again = await app.bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [sent["update_id"]]
    assert await tg.pending_updates() == 1
    assert await app.bot.get_updates(offset=sent["update_id"] + 1, timeout=0) == ()
    assert await tg.pending_updates() == 0
    # many updates, limit, no loss, no duplicates
    ids = [(await tg.send_message(chat_id, bert, f"m{i}"))["update_id"] for i in range(7)]
    seen: list[int] = []
    offset = 0
    while len(seen) < 7:
        batch = await app.bot.get_updates(offset=offset, limit=3, timeout=1)
        seen += [u.update_id for u in batch]
        offset = batch[-1].update_id + 1
    assert seen == ids
    # redelivery keeps the same update_id
    redelivered = await tg.redeliver(ids[2])
    assert redelivered["update_id"] == ids[2]
    (dup,) = await app.bot.get_updates(offset=offset, timeout=0)
    assert dup.update_id == ids[2] and dup.message is not None and dup.message.text == "m2"
    assert await app.bot.get_updates(offset=dup.update_id + 1, timeout=0) == ()
    # raw/hostile updates go through as given
    raw = await tg.send_raw_update(
        {"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}
    )
    (odd,) = await app.bot.get_updates(offset=offset, timeout=0)
    assert odd.update_id == raw["update_id"]


async def test_a_second_poller_conflicts(
    app: AppT, server: FakegramServer, app_factory: Any
) -> None:
    first = asyncio.create_task(app.bot.get_updates(timeout=10))
    assert await server.wait_until(lambda: polls_seen(server) == 1, 5)  # first poll arrived
    async with app_factory(server) as other:  # a second instance with the same token
        second = asyncio.create_task(other.bot.get_updates(timeout=0))
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
            await asyncio.wait_for(first, 5)
        assert await second == ()


async def test_webhook_delivery(app: AppT, tg: FakegramClient) -> None:
    received: asyncio.Queue[tuple[str | None, dict[str, Any]]] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        await received.put(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(text="ok")

    hook_app = web.Application()
    hook_app.router.add_post("/hook", hook)
    runner = web.AppRunner(hook_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        chat_id, _, bert = await group(tg)
        await drain(app)
        assert await app.bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        info = await app.bot.get_webhook_info()
        assert info.url.endswith("/hook")
        with pytest.raises(Conflict):
            await app.bot.get_updates(timeout=0)
        sent = await tg.send_message(chat_id, bert, "via webhook")
        secret, body = await asyncio.wait_for(received.get(), 5)
        assert secret == "s3cret" and body["update_id"] == sent["update_id"]
        assert Update.de_json(body, app.bot).message is not None
        assert await app.bot.delete_webhook(drop_pending_updates=True)
        await tg.send_message(chat_id, bert, "weer polling")
        (upd,) = await app.bot.get_updates(timeout=1)
        assert upd.message is not None and upd.message.text == "weer polling"
    finally:
        await runner.cleanup()


async def test_application_polling_end_to_end(
    server: FakegramServer, tg: FakegramClient, app_factory: Any
) -> None:
    async def ideas(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(f"<b>Ideeën</b> voor {context.args}")

    app = app_factory(server)
    app.add_handler(CommandHandler("ideas", ideas))
    chat_id, _, bert = await group(tg)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            timeout=10, allowed_updates=["message", "callback_query", "chat_member"]
        )
        try:
            await tg.send_message(chat_id, bert, "/ideas@buddy_test_bot park")
            reply = await tg.wait_for_message(chat_id, timeout=5)
            assert isinstance(reply, dict)
            assert reply["text"] == "Ideeën voor ['park']"
            assert reply["reply_to_message"]["text"].startswith("/ideas")
            await tg.send_message(chat_id, bert, "/ideas")
            second = await tg.wait_for_message(chat_id, timeout=5)
            assert isinstance(second, dict) and second["message_id"] > reply["message_id"]
            with pytest.raises(TimeoutError, match="all bot messages in this chat"):
                await tg.wait_for_message(chat_id, timeout=0.2)
        finally:
            await app.updater.stop()
            await app.stop()
    assert await tg.pending_updates() == 0
    calls = await tg.calls("getUpdates")
    assert calls[0]["params"]["allowed_updates"] == ["message", "callback_query", "chat_member"]


async def test_reset_keeps_bots(app: AppT, tg: FakegramClient) -> None:
    chat_id, _, _ = await group(tg)
    await tg.reset()
    with pytest.raises(Exception, match="unknown chat"):
        await tg.messages(chat_id)
    assert (await app.bot.get_me()).username == "buddy_test_bot"


def test_html_parser_unit() -> None:
    text, entities = parse_html("a <b>b <i>c</i></b> 👍<u>d</u>")
    assert text == "a b c 👍d"
    assert entities[0] == {"type": "bold", "offset": 2, "length": 3}
    assert entities[-1] == {"type": "underline", "offset": 8, "length": 1}  # utf-16 offsets
    for bad in ("<b>x</i>", "</b>", "<script>x</script>", "&bogus;", "<a>x</a>", "<span>x</span>"):
        with pytest.raises(HtmlError):
            parse_html(bad)
