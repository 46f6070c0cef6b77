"""fakegram's HTTP layer: the Bot API side (``/bot<token>/<method>``), file downloads
(``/file/bot<token>/<path>``) and the control side for tests (``POST /control/<action>``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from datetime import timedelta
from types import TracebackType
from typing import Any, Self, cast

from aiohttp import ClientSession, ClientTimeout, web

from buddybot.fakegram import shapes
from buddybot.fakegram.botapi import MESSAGE_METHODS, BotApi, Params, Upload
from buddybot.fakegram.shapes import JSON
from buddybot.fakegram.state import (
    ApiError,
    BotRecord,
    ControlError,
    FakegramState,
    Fault,
    FaultKind,
    PendingUpdate,
)

__all__ = ["CONTROL_ACTIONS", "FakegramServer"]

log = logging.getLogger(__name__)

RETRY_PAUSE = 0.2  # seconds before a queue whose push failed is tried again


def _push_order(pending: PendingUpdate) -> tuple[bool, int]:
    return (not pending.redelivered, pending.update_id)


CONTROL_ACTIONS = (
    "queued_updates",
    "create_bot",
    "create_user",
    "start_private",
    "block_bot",
    "create_group",
    "add_member",
    "remove_member",
    "promote",
    "demote",
    "add_bot",
    "remove_bot",
    "promote_bot",
    "send_message",
    "send_edited",
    "send_raw_update",
    "redeliver",
    "press_button",
    "callback_answer",
    "vote",
    "poll_state",
    "migrate_group",
    "inject_fault",
    "clear_faults",
    "messages",
    "history",
    "wait_for_message",
    "buttons",
    "calls",
    "pending_updates",
    "wait_quiet",
    "document",
    "chat_member",
    "reset",
)

ControlHandler = Callable[[dict[str, Any]], Awaitable[Any]]


class _Redirected(Exception):
    """The ``redirect`` fault: answer 302 to ``location``."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def _json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )


class FakegramServer:
    """A local Telegram Bot API server for tests and the demo.

    ``async with FakegramServer(token="123:ABC") as server:`` then point PTB at
    ``server.api_base_url`` / ``server.file_base_url`` and drive residents with
    :class:`buddybot.fakegram.client.FakegramClient` (``server.url``) or directly via
    ``server.state``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        enforce_flood_limits: bool = False,
        callback_query_max_age: timedelta | float = 300.0,
        clock: Callable[[], float] = time.time,
        token: str | None = None,
        bot_username: str = "buddy_test_bot",
        bot_first_name: str = "Buddy",
        webhook_timeout: float = 10.0,
    ) -> None:
        self.host = host
        # How long a webhook push waits for the bot's answer before it counts as failed
        # (and is pushed again later).
        self.webhook_timeout = webhook_timeout
        self.port = port
        self.enforce_flood_limits = enforce_flood_limits
        max_age = (
            callback_query_max_age.total_seconds()
            if isinstance(callback_query_max_age, timedelta)
            else float(callback_query_max_age)
        )
        self.state = FakegramState(clock=clock)
        self.api = BotApi(self.state, callback_query_max_age=max_age)
        if token is not None:
            self.state.create_bot(token, bot_username, bot_first_name)
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
        self._wake: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._poll_generation: dict[str, int] = {}
        self._webhook_task: asyncio.Task[None] | None = None
        # per bot token: queue -> the update being pushed; and when a failed queue may retry
        self._pushing: dict[str, dict[Hashable, PendingUpdate]] = {}
        self._retry_at: dict[tuple[str, Hashable], float] = {}
        self._push_tasks: set[asyncio.Task[None]] = set()
        self._http: ClientSession | None = None
        self._control: dict[str, ControlHandler] = {
            name: getattr(self, f"_c_{name}") for name in CONTROL_ACTIONS
        }
        self.state.subscribe(self._on_change)

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        if self._bound_port is None:
            raise RuntimeError("FakegramServer is not started")
        return f"http://{self.host}:{self._bound_port}"

    @property
    def api_base_url(self) -> str:
        """What ``ApplicationBuilder().base_url(...)`` takes (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def file_base_url(self) -> str:
        """What ``ApplicationBuilder().base_file_url(...)`` takes."""
        return f"{self.url}/file/bot"

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_bot)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_post("/control/{action}", self._handle_control)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        server = cast(Any, site._server)  # aiohttp exposes no public accessor
        self._bound_port = int(server.sockets[0].getsockname()[1])
        self._http = ClientSession(timeout=ClientTimeout(total=self.webhook_timeout))
        self._webhook_task = asyncio.create_task(self._webhook_loop())

    async def stop(self) -> None:
        if self._runner is None:
            return
        assert self._stopping is not None
        self._stopping.set()
        self._on_change()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        for task in list(self._push_tasks):
            task.cancel()
        await asyncio.gather(*self._push_tasks, return_exceptions=True)
        self._pushing.clear()
        self._retry_at.clear()
        if self._http is not None:
            await self._http.close()
            self._http = None
        await self._runner.cleanup()
        self._runner = None
        self._bound_port = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ waiting
    def _on_change(self) -> None:
        if self._wake is not None:
            self._wake.set()
            self._wake = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Wait (on state changes, no polling) until ``predicate()``, at most ``seconds``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            if predicate():
                return True
            if self._stopping is not None and self._stopping.is_set():
                return False
            remaining = deadline - loop.time()
            if remaining <= 0 or self._wake is None:
                return False
            event = self._wake
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _pause(self, seconds: float) -> None:
        """Simulated server latency; ends early when the server stops."""
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # ------------------------------------------------------------------ bot side
    async def _read_params(self, request: web.Request) -> Params:
        raw: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    raw.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        raw[key] = Upload(value.filename, value.content_type, value.file.read())
                    else:
                        raw[key] = value
        return Params(raw)

    async def _handle_bot(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        bot = self.state.bots.get(token)
        if bot is None:
            return _json_response(shapes.error(401, "Unauthorized"), 401)
        try:
            params = await self._read_params(request)
        except (ValueError, json.JSONDecodeError):
            err = shapes.error(400, "Bad Request: can't parse request body")
            return _json_response(err, 400)
        call = self.state.record_call(token, method, params.loggable())
        try:
            result = await self._dispatch(bot, method, params)
        except ApiError as exc:
            call.ok, call.error_code, call.description = False, exc.code, exc.description
            self.state.changed()
            return _json_response(exc.body(), exc.code)
        except _Redirected as exc:
            text = f"Moved to {exc.location}"
            call.ok, call.error_code, call.description = False, 302, text
            self.state.changed()
            return web.Response(status=302, headers={"Location": exc.location}, text=text)
        return _json_response(shapes.ok(result))

    async def _dispatch(self, bot: BotRecord, method: str, params: Params) -> Any:
        if not self.api.has_method(method):
            raise ApiError(404, "Not Found: method not found")
        try:
            chat_id = params.get_int("chat_id")
        except ApiError:
            chat_id = None
        fault = self.state.take_fault(method, chat_id)
        if fault is not None:
            if fault.kind == "redirect":
                # As a misconfigured proxy would: back to the same URL, so a client that
                # follows redirects loops, and the body names the URL, token and all.
                raise _Redirected(f"/bot{bot.token}/{method}")
            await self._apply_fault(fault)
        if self.enforce_flood_limits and method.lower() in MESSAGE_METHODS and chat_id is not None:
            retry_after = self.state.check_flood(bot, chat_id)
            if retry_after is not None:
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
        if method.lower() == "getupdates":
            return await self._get_updates(bot, params)
        return self.api.call(bot, method, params)

    async def _apply_fault(self, fault: Fault) -> None:
        kind = fault.kind
        if kind == "slow":
            await self._pause(fault.delay)
            return
        if kind == "timeout":
            await self._pause(fault.delay or 60.0)
            raise ApiError(504, fault.description or "Gateway Timeout")
        if kind == "retry_after":
            raise ApiError(
                429,
                fault.description or f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
            )
        if kind == "forbidden":
            raise ApiError(403, fault.description or "Forbidden: bot was blocked by the user")
        if kind == "bad_request":
            raise ApiError(400, fault.description or "Bad Request: injected fault")
        raise ApiError(502, fault.description or "Bad Gateway")

    async def _get_updates(self, bot: BotRecord, params: Params) -> list[JSON]:
        if bot.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        generation = self._poll_generation.get(bot.token, 0) + 1
        self._poll_generation[bot.token] = generation
        self._on_change()  # an older long poll of this bot ends with 409 Conflict
        allowed = params.get_json("allowed_updates")
        if isinstance(allowed, list):
            bot.allowed_updates = [str(a) for a in allowed] or None
        offset = params.get_int("offset")
        if offset:
            self.state.confirm(bot, offset)
        limit = params.get_int("limit", 100) or 100
        timeout = float(params.get_int("timeout", 0) or 0)

        def ready() -> bool:
            return bool(bot.pending) or self._poll_generation.get(bot.token) != generation

        if timeout > 0:
            await self.wait_until(ready, timeout)
        if self._poll_generation.get(bot.token) != generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        if bot.webhook_url:
            return []
        return self.state.take_updates(bot, limit)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] not in self.state.bots:
            return _json_response(shapes.error(401, "Unauthorized"), 401)
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        stored = self.state.files.get(file_id)
        if stored is None:
            return _json_response(shapes.error(404, "Not Found"), 404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # ------------------------------------------------------------------ webhooks
    # As Telegram does: up to the bot's ``max_connections`` pushes at once, but one at a time
    # per queue (chat), so each chat's updates arrive in order. An update leaves the queue
    # only after a 2xx answer; a queue whose push failed is tried again after a pause.
    async def _webhook_loop(self) -> None:
        assert self._stopping is not None
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            event = self._wake
            if event is None:
                return
            # Synchronous: no change can slip in between this pass and the wait below.
            next_retry = self._start_pushes(loop.time())
            timeout = 3600.0 if next_retry is None else max(next_retry - loop.time(), 0.001)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)

    def _start_pushes(self, now: float) -> float | None:
        """Start a push for the first update of every free queue, up to max_connections;
        returns when the earliest paused queue may be tried again (None: none paused)."""
        next_retry: float | None = None
        for bot in self.state.bots.values():
            if not bot.webhook_url or not bot.pending:
                continue
            busy = self._pushing.setdefault(bot.token, {})
            if len(busy) >= bot.webhook_max_connections:
                continue
            seen: set[Hashable] = set()
            for pending in sorted(bot.pending, key=_push_order):
                queue = pending.queue
                if queue in seen or queue in busy:
                    continue
                seen.add(queue)  # only a queue's first update may go
                retry_at = self._retry_at.get((bot.token, queue))
                if retry_at is not None:
                    if retry_at > now:
                        next_retry = retry_at if next_retry is None else min(next_retry, retry_at)
                        continue
                    del self._retry_at[(bot.token, queue)]
                busy[queue] = pending
                task = asyncio.create_task(self._push_webhook(bot, pending, queue))
                self._push_tasks.add(task)
                task.add_done_callback(self._push_tasks.discard)
                if len(busy) >= bot.webhook_max_connections:
                    break
        return next_retry

    async def _push_webhook(self, bot: BotRecord, pending: PendingUpdate, queue: Hashable) -> None:
        assert self._http is not None
        headers = {"Content-Type": "application/json"}
        if bot.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = bot.webhook_secret
        delivered = False
        try:
            async with self._http.post(
                bot.webhook_url, data=json.dumps(pending.update), headers=headers
            ) as resp:
                status = resp.status
            if 200 <= status < 300:
                delivered = True
            else:
                bot.webhook_last_error = (
                    self.state.now(),
                    f"Wrong response from the webhook: {status}",
                )
        except Exception as exc:  # the bot's webhook is down: retry later
            bot.webhook_last_error = (self.state.now(), f"Connection failed: {exc!r}")
        finally:
            self._pushing.get(bot.token, {}).pop(queue, None)
        if delivered:
            # By identity: a redelivered copy of the same update is a different entry.
            for i, entry in enumerate(bot.pending):
                if entry is pending:
                    del bot.pending[i]
                    break
            self.state.changed()
        else:
            self._retry_at[(bot.token, queue)] = asyncio.get_running_loop().time() + RETRY_PAUSE
            self._on_change()

    # ------------------------------------------------------------------ control side
    async def _handle_control(self, request: web.Request) -> web.StreamResponse:
        action = request.match_info["action"]
        handler = self._control.get(action)
        if handler is None:
            return _json_response(
                {"ok": False, "description": f"unknown control action {action!r}"}, 404
            )
        try:
            body = await request.json() if request.can_read_body else {}
        except json.JSONDecodeError:
            return _json_response({"ok": False, "description": "body must be JSON"}, 400)
        try:
            result = await handler(body or {})
        except ControlError as exc:
            return _json_response({"ok": False, "description": exc.description}, exc.status)
        except (KeyError, TypeError, ValueError) as exc:
            return _json_response(
                {"ok": False, "description": f"bad control request {action}: {exc!r}"}, 400
            )
        if isinstance(result, bytes):
            return web.Response(body=result, content_type="application/octet-stream")
        return _json_response({"ok": True, "result": result})

    async def _c_create_bot(self, b: dict[str, Any]) -> JSON:
        return self.state.create_bot(
            b["token"],
            b.get("username", "buddy_test_bot"),
            b.get("first_name", "Buddy"),
            privacy_mode=bool(b.get("privacy_mode", False)),
        )

    async def _c_create_user(self, b: dict[str, Any]) -> int:
        return self.state.create_user(
            b["first_name"],
            last_name=b.get("last_name"),
            username=b.get("username"),
            language_code=b.get("language_code", "nl"),
        )

    async def _c_start_private(self, b: dict[str, Any]) -> JSON:
        return self.state.start_private(
            int(b["user_id"]), payload=b.get("payload"), token=b.get("token")
        )

    async def _c_block_bot(self, b: dict[str, Any]) -> None:
        self.state.block_bot(int(b["user_id"]), token=b.get("token"))

    async def _c_create_group(self, b: dict[str, Any]) -> int:
        return self.state.create_group(
            b["title"],
            supergroup=bool(b.get("supergroup", False)),
            creator=int(b["creator"]),
            members=[int(m) for m in b.get("members", ())],
            admins=[int(m) for m in b.get("admins", ())],
        )

    async def _c_add_member(self, b: dict[str, Any]) -> None:
        self.state.set_status(int(b["chat_id"]), int(b["user_id"]), "member", by=b.get("by"))

    async def _c_remove_member(self, b: dict[str, Any]) -> None:
        chat = self.state.chat(int(b["chat_id"]))
        kicked = bool(b.get("kicked", False))
        by = b.get("by")
        if by is None and kicked:
            by = next((m.user_id for m in chat.members.values() if m.status == "creator"), None)
        self.state.set_status(chat.id, int(b["user_id"]), "kicked" if kicked else "left", by=by)

    def _creator(self, chat_id: int) -> int | None:
        chat = self.state.chat(chat_id)
        return next((m.user_id for m in chat.members.values() if m.status == "creator"), None)

    async def _c_promote(self, b: dict[str, Any]) -> None:
        chat_id = int(b["chat_id"])
        by = b.get("by") or self._creator(chat_id)
        self.state.set_status(
            chat_id, int(b["user_id"]), "administrator", by=by, rights=b.get("rights")
        )

    async def _c_demote(self, b: dict[str, Any]) -> None:
        chat_id = int(b["chat_id"])
        by = b.get("by") or self._creator(chat_id)
        self.state.set_status(chat_id, int(b["user_id"]), "member", by=by)

    async def _c_add_bot(self, b: dict[str, Any]) -> None:
        bot = self.state.bot(b.get("token"))
        status = "administrator" if b.get("admin") else "member"
        self.state.set_status(
            int(b["chat_id"]), bot.user_id, status, by=int(b["by"]), rights=b.get("rights")
        )

    async def _c_remove_bot(self, b: dict[str, Any]) -> None:
        bot = self.state.bot(b.get("token"))
        status = "kicked" if b.get("kicked", True) else "left"
        self.state.set_status(int(b["chat_id"]), bot.user_id, status, by=int(b["by"]))

    async def _c_promote_bot(self, b: dict[str, Any]) -> None:
        bot = self.state.bot(b.get("token"))
        self.state.set_status(
            int(b["chat_id"]), bot.user_id, "administrator", by=int(b["by"]), rights=b.get("rights")
        )

    async def _c_send_message(self, b: dict[str, Any]) -> JSON:
        return self.state.user_message(
            int(b["chat_id"]),
            int(b["user_id"]),
            b["text"],
            reply_to=b.get("reply_to"),
            anonymous_admin=bool(b.get("anonymous_admin", False)),
            entities=b.get("entities"),
            photo=bool(b.get("photo", False)),
        )

    async def _c_send_edited(self, b: dict[str, Any]) -> JSON:
        return self.state.user_edit(
            int(b["chat_id"]), int(b["message_id"]), int(b["user_id"]), b["text"]
        )

    async def _c_send_raw_update(self, b: dict[str, Any]) -> JSON:
        return self.state.enqueue_raw(self.state.bot(b.get("token")), b["update"])

    async def _c_redeliver(self, b: dict[str, Any]) -> JSON:
        return self.state.redeliver(self.state.bot(b.get("token")), int(b["update_id"]))

    async def _c_press_button(self, b: dict[str, Any]) -> JSON:
        return self.state.press_button(
            int(b["chat_id"]),
            int(b["message_id"]),
            int(b["user_id"]),
            data=b.get("data"),
            text=b.get("text"),
        )

    async def _c_callback_answer(self, b: dict[str, Any]) -> JSON | None:
        record = self.state.callbacks.get(str(b["query_id"]))
        if record is None:
            raise ControlError(f"unknown callback query {b['query_id']}", 404)
        return record.answer

    async def _c_vote(self, b: dict[str, Any]) -> None:
        self.state.vote(str(b["poll_id"]), int(b["user_id"]), [int(i) for i in b["option_ids"]])

    async def _c_poll_state(self, b: dict[str, Any]) -> JSON:
        poll = self.state.poll(str(b["poll_id"]))
        data = self.state.poll_json(poll)
        data["fakegram"] = {
            "chat_id": poll.chat_id,
            "message_id": poll.message_id,
            "votes": {str(uid): opts for uid, opts in poll.votes.items()},
        }
        return data

    async def _c_migrate_group(self, b: dict[str, Any]) -> int:
        return self.state.migrate_group(int(b["chat_id"]))

    async def _c_inject_fault(self, b: dict[str, Any]) -> None:
        kind = cast(FaultKind, b["kind"])
        if kind not in (
            "retry_after",
            "forbidden",
            "bad_request",
            "server_error",
            "timeout",
            "slow",
            "redirect",
        ):
            raise ControlError(f"unknown fault kind {kind!r}")
        self.state.add_fault(
            Fault(
                kind,
                method=b.get("method"),
                chat_id=b.get("chat_id"),
                count=int(b.get("count", 1)),
                retry_after=int(b.get("retry_after", 1)),
                delay=float(b.get("delay", 0.0)),
                description=b.get("description"),
            )
        )

    async def _c_clear_faults(self, b: dict[str, Any]) -> None:
        self.state.faults.clear()

    async def _c_messages(self, b: dict[str, Any]) -> list[JSON]:
        msgs = self.state.bot_messages(
            int(b["chat_id"]),
            include_deleted=bool(b.get("include_deleted", False)),
            include_service=bool(b.get("include_service", False)),
        )
        return [self.state.sent_message_json(m) for m in msgs]

    async def _c_history(self, b: dict[str, Any]) -> list[JSON]:
        chat = self.state.chat(int(b["chat_id"]))
        return [self.state.sent_message_json(m) for m in chat.messages.values()]

    async def _c_wait_for_message(self, b: dict[str, Any]) -> list[JSON]:
        chat_id = int(b["chat_id"])
        chat = self.state.chat(chat_id)
        timeout = float(b.get("timeout", 5.0))
        count = int(b.get("count", 1))
        explicit = b.get("after_message_id")
        if explicit is not None:
            threshold = int(explicit)
        else:
            threshold = max(int(b.get("cursor") or 0), chat.last_user_message_id)

        def fresh() -> list[JSON]:
            return [
                self.state.sent_message_json(m)
                for m in self.state.bot_messages(chat_id, include_deleted=True)
                if m.message_id > threshold
            ]

        if await self.wait_until(lambda: len(fresh()) >= count, timeout):
            return fresh()[:count]
        got = [
            {"message_id": m.message_id, "text": m.text or m.caption, "deleted": m.deleted}
            for m in self.state.bot_messages(chat_id, include_deleted=True)
        ]
        failed = [
            {"method": c.method, "description": c.description}
            for c in self.state.calls
            if not c.ok and str(c.params.get("chat_id")) == str(chat_id)
        ]
        raise ControlError(
            f"timed out after {timeout}s waiting for {count} new bot message(s) in chat "
            f"{chat_id} after message {threshold}; new: {len(fresh())}; "
            f"all bot messages in this chat: {got}; failed calls for this chat: {failed}",
            408,
        )

    async def _c_buttons(self, b: dict[str, Any]) -> list[list[JSON]]:
        chat = self.state.chat(int(b["chat_id"]))
        msg = chat.messages.get(int(b["message_id"]))
        if msg is None:
            raise ControlError(f"no message {b['message_id']} in chat {chat.id}", 404)
        rows: list[list[JSON]] = (msg.reply_markup or {}).get("inline_keyboard", [])
        return rows

    async def _c_calls(self, b: dict[str, Any]) -> list[JSON]:
        method = b.get("method")
        token = b.get("token")
        return [
            c.as_json()
            for c in self.state.calls
            if (method is None or c.method.lower() == str(method).lower())
            and (token is None or c.token == token)
        ]

    async def _c_queued_updates(self, b: dict[str, Any]) -> list[int]:
        since = int(b.get("since") or 0)
        return sorted(i for i in self.state.bot(b.get("token")).history if i > since)

    async def _c_pending_updates(self, b: dict[str, Any]) -> int:
        return len(self.state.bot(b.get("token")).pending)

    async def _c_wait_quiet(self, b: dict[str, Any]) -> bool:
        """Until no Bot API call (long polling aside) came for ``still`` seconds and no update
        waits; at most ``timeout``. For a bot in another process, whose "done" nobody can ask.
        Waits on state changes, not by polling."""
        still, timeout = float(b.get("still", 1.0)), float(b.get("timeout", 30.0))
        bot = self.state.bot(b.get("token"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout

        def made() -> int:
            return sum(c.method != "getUpdates" for c in self.state.calls)

        while loop.time() < deadline:
            seen = made()
            window = min(still, deadline - loop.time())
            moved = await self.wait_until(
                lambda seen=seen: made() != seen or bool(bot.pending),  # type: ignore[misc]
                window,
            )
            if not moved and window >= still:
                return True
            if bot.pending:  # an update waits: wait for the bot to fetch it
                await self.wait_until(lambda: not bot.pending, deadline - loop.time())
        return False

    async def _c_document(self, b: dict[str, Any]) -> bytes:
        chat = self.state.chat(int(b["chat_id"]))
        msg = chat.messages.get(int(b["message_id"]))
        if msg is None or msg.file is None:
            raise ControlError(f"message {b['message_id']} in chat {chat.id} has no file", 404)
        return msg.file.data

    async def _c_chat_member(self, b: dict[str, Any]) -> JSON:
        chat = self.state.chat(int(b["chat_id"]))
        return self.state.member_json(chat, int(b["user_id"]))

    async def _c_reset(self, b: dict[str, Any]) -> None:
        self.state.reset()
