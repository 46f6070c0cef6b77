"""The test-side client of fakegram's control endpoints (``POST /control/<action>``)."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any, Literal, Self, cast

from aiohttp import ClientSession, ClientTimeout

from buddybot.fakegram.shapes import JSON

__all__ = ["FakegramClient", "FakegramControlError"]

FaultKind = Literal[
    "retry_after", "forbidden", "bad_request", "server_error", "timeout", "slow", "redirect"
]


class FakegramControlError(RuntimeError):
    """The control request was refused (unknown user, no such button, ...)."""

    def __init__(self, action: str, status: int, description: str) -> None:
        super().__init__(f"{action}: {description}")
        self.action = action
        self.status = status
        self.description = description


class FakegramClient:
    """Plays residents and inspects what the bot did, over HTTP.

    ``async with FakegramClient(server.url) as tg: uid = await tg.create_user("Anna")``
    """

    def __init__(self, url: str, *, session: ClientSession | None = None) -> None:
        self.url = url.rstrip("/")
        self._session = session
        self._own_session = session is None
        # per chat: highest bot message id already returned by wait_for_message
        self._cursor: dict[int, int] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    def _http(self) -> ClientSession:
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=30))
            self._own_session = True
        return self._session

    async def _raw(self, action: str, http_timeout: float | None = None, **body: Any) -> Any:
        payload = {k: v for k, v in body.items() if v is not None}
        timeout = ClientTimeout(total=http_timeout) if http_timeout is not None else None
        async with self._http().post(
            f"{self.url}/control/{action}", json=payload, timeout=timeout
        ) as resp:
            if resp.content_type == "application/octet-stream":
                return await resp.read()
            data = await resp.json()
            if resp.status == 408:
                raise TimeoutError(f"{action}: {data.get('description')}")
            if not data.get("ok"):
                raise FakegramControlError(action, resp.status, str(data.get("description")))
            return data.get("result")

    # ------------------------------------------------------------------ world
    async def create_bot(
        self,
        token: str,
        username: str = "buddy_test_bot",
        first_name: str = "Buddy",
        *,
        privacy_mode: bool = False,
    ) -> JSON:
        """Register a bot token; returns the bot's User (getMe shape)."""
        return cast(
            JSON,
            await self._raw(
                "create_bot",
                token=token,
                username=username,
                first_name=first_name,
                privacy_mode=privacy_mode,
            ),
        )

    async def create_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "nl",
    ) -> int:
        return int(
            await self._raw(
                "create_user",
                first_name=first_name,
                last_name=last_name,
                username=username,
                language_code=language_code,
            )
        )

    async def start_private(
        self, user_id: int, *, payload: str | None = None, token: str | None = None
    ) -> JSON:
        """The user opens the bot and sends ``/start [payload]``; returns the Update."""
        return cast(
            JSON, await self._raw("start_private", user_id=user_id, payload=payload, token=token)
        )

    async def block_bot(self, user_id: int, *, token: str | None = None) -> None:
        await self._raw("block_bot", user_id=user_id, token=token)

    async def create_group(
        self,
        title: str,
        *,
        supergroup: bool = False,
        creator: int,
        members: Iterable[int] = (),
        admins: Iterable[int] = (),
    ) -> int:
        return int(
            await self._raw(
                "create_group",
                title=title,
                supergroup=supergroup,
                creator=creator,
                members=list(members),
                admins=list(admins),
            )
        )

    async def add_member(self, chat_id: int, user_id: int, *, by: int | None = None) -> None:
        await self._raw("add_member", chat_id=chat_id, user_id=user_id, by=by)

    async def remove_member(
        self, chat_id: int, user_id: int, *, kicked: bool = False, by: int | None = None
    ) -> None:
        await self._raw("remove_member", chat_id=chat_id, user_id=user_id, kicked=kicked, by=by)

    async def promote(
        self,
        chat_id: int,
        user_id: int,
        *,
        by: int | None = None,
        rights: dict[str, bool] | None = None,
    ) -> None:
        await self._raw("promote", chat_id=chat_id, user_id=user_id, by=by, rights=rights)

    async def demote(self, chat_id: int, user_id: int, *, by: int | None = None) -> None:
        await self._raw("demote", chat_id=chat_id, user_id=user_id, by=by)

    async def add_bot(
        self,
        chat_id: int,
        *,
        by: int,
        admin: bool = False,
        token: str | None = None,
        rights: dict[str, bool] | None = None,
    ) -> None:
        await self._raw("add_bot", chat_id=chat_id, by=by, admin=admin, token=token, rights=rights)

    async def remove_bot(
        self, chat_id: int, *, by: int, kicked: bool = True, token: str | None = None
    ) -> None:
        await self._raw("remove_bot", chat_id=chat_id, by=by, kicked=kicked, token=token)

    async def promote_bot(
        self,
        chat_id: int,
        by: int,
        *,
        token: str | None = None,
        rights: dict[str, bool] | None = None,
    ) -> None:
        await self._raw("promote_bot", chat_id=chat_id, by=by, token=token, rights=rights)

    async def migrate_group(self, chat_id: int) -> int:
        """Upgrade a basic group to a supergroup; returns the new chat id."""
        return int(await self._raw("migrate_group", chat_id=chat_id))

    # ------------------------------------------------------------------ residents act
    async def send_message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        anonymous_admin: bool = False,
        entities: list[JSON] | None = None,
        photo: bool = False,
    ) -> JSON:
        """Post as a person; returns the Update (``update_id`` + ``message``). With ``photo``
        the text is the caption of a photo."""
        return cast(
            JSON,
            await self._raw(
                "send_message",
                chat_id=chat_id,
                user_id=user_id,
                text=text,
                reply_to=reply_to,
                anonymous_admin=anonymous_admin,
                entities=entities,
                photo=photo,
            ),
        )

    async def send_edited(self, chat_id: int, message_id: int, user_id: int, text: str) -> JSON:
        return cast(
            JSON,
            await self._raw(
                "send_edited", chat_id=chat_id, message_id=message_id, user_id=user_id, text=text
            ),
        )

    async def send_raw_update(self, update: JSON, *, token: str | None = None) -> JSON:
        """Queue any update dict as-is (``update_id`` is assigned when missing)."""
        return cast(JSON, await self._raw("send_raw_update", update=update, token=token))

    async def redeliver(self, update_id: int, *, token: str | None = None) -> JSON:
        """Queue an already delivered update again, with the same update_id."""
        return cast(JSON, await self._raw("redeliver", update_id=update_id, token=token))

    async def press_button(
        self,
        chat_id: int,
        message_id: int,
        user_id: int,
        *,
        data: str | None = None,
        text: str | None = None,
    ) -> JSON:
        """Press an inline button (by callback data or label; arbitrary data allowed)."""
        return cast(
            JSON,
            await self._raw(
                "press_button",
                chat_id=chat_id,
                message_id=message_id,
                user_id=user_id,
                data=data,
                text=text,
            ),
        )

    async def callback_answer(self, query_id: str) -> JSON | None:
        """How the bot answered the callback query (text, show_alert, url, cache_time)."""
        return cast("JSON | None", await self._raw("callback_answer", query_id=query_id))

    async def vote(self, poll_id: str, user_id: int, option_ids: list[int]) -> None:
        await self._raw("vote", poll_id=poll_id, user_id=user_id, option_ids=option_ids)

    async def poll_state(self, poll_id: str) -> JSON:
        """The Poll (Bot API shape) plus ``fakegram: {chat_id, message_id, votes}``."""
        return cast(JSON, await self._raw("poll_state", poll_id=poll_id))

    # ------------------------------------------------------------------ faults
    async def inject_fault(
        self,
        *,
        kind: FaultKind,
        method: str | None = None,
        chat_id: int | None = None,
        count: int = 1,
        retry_after: int = 1,
        delay: float = 0.0,
        description: str | None = None,
    ) -> None:
        await self._raw(
            "inject_fault",
            kind=kind,
            method=method,
            chat_id=chat_id,
            count=count,
            retry_after=retry_after,
            delay=delay,
            description=description,
        )

    async def clear_faults(self) -> None:
        await self._raw("clear_faults")

    # ------------------------------------------------------------------ inspect
    async def messages(
        self, chat_id: int, *, include_deleted: bool = False, include_service: bool = False
    ) -> list[JSON]:
        """What the bot sent to the chat, in order, edits applied. Each is a Message dict
        plus ``fakegram: {html, pinned, edit_count, deleted, service, params, file}``."""
        return cast(
            list[JSON],
            await self._raw(
                "messages",
                chat_id=chat_id,
                include_deleted=include_deleted,
                include_service=include_service,
            ),
        )

    async def history(self, chat_id: int) -> list[JSON]:
        """Every message in the chat (residents', service and bot messages, deleted too)."""
        return cast(list[JSON], await self._raw("history", chat_id=chat_id))

    async def wait_for_message(
        self,
        chat_id: int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a server-side wait, not a client timeout
        after_message_id: int | None = None,
        count: int = 1,
    ) -> JSON | list[JSON]:
        """Wait until the bot sent ``count`` new message(s) to the chat.

        "New" means: after ``after_message_id`` if given, else after both the last
        message a resident posted there and the last message this client already
        returned from ``wait_for_message`` for the chat. Returns one dict when
        ``count == 1``, else a list. Raises TimeoutError listing what the chat got.
        """
        result = cast(
            list[JSON],
            await self._raw(
                "wait_for_message",
                http_timeout=timeout + 10.0,
                chat_id=chat_id,
                timeout=timeout,
                after_message_id=after_message_id,
                cursor=self._cursor.get(chat_id, 0),
                count=count,
            ),
        )
        if result:
            last = max(int(m["message_id"]) for m in result)
            self._cursor[chat_id] = max(self._cursor.get(chat_id, 0), last)
        return result[0] if count == 1 else result

    async def buttons(self, chat_id: int, message_id: int) -> list[list[JSON]]:
        return cast(
            list[list[JSON]], await self._raw("buttons", chat_id=chat_id, message_id=message_id)
        )

    async def calls(self, method: str | None = None, *, token: str | None = None) -> list[JSON]:
        """Recorded bot API calls: ``{method, params, ok, error_code, description, ...}``."""
        return cast(list[JSON], await self._raw("calls", method=method, token=token))

    async def queued_updates(self, *, since: int = 0, token: str | None = None) -> list[int]:
        """Ids of every update ever queued for the bot after ``since`` (to wait for them)."""
        return [int(i) for i in await self._raw("queued_updates", since=since, token=token)]

    async def pending_updates(self, *, token: str | None = None) -> int:
        return int(await self._raw("pending_updates", token=token))

    async def wait_quiet(
        self,
        *,
        still: float = 1.0,
        timeout: float = 30.0,  # noqa: ASYNC109 - a server-side wait, not a client timeout
        token: str | None = None,
    ) -> bool:
        """Wait until the bot made no call (long polling aside) for ``still`` s and no update
        waits for it; False when that did not happen within ``timeout``."""
        return bool(
            await self._raw(
                "wait_quiet", http_timeout=timeout + 10.0, still=still, timeout=timeout, token=token
            )
        )

    async def document(self, chat_id: int, message_id: int) -> bytes:
        """The bytes of a document/photo the bot uploaded."""
        return cast(bytes, await self._raw("document", chat_id=chat_id, message_id=message_id))

    async def chat_member(self, chat_id: int, user_id: int) -> JSON:
        return cast(JSON, await self._raw("chat_member", chat_id=chat_id, user_id=user_id))

    async def reset(self) -> None:
        await self._raw("reset")
        self._cursor.clear()
