"""Pure in-memory state of the fake Telegram: bots, users, chats, messages, polls,
callback queries, the update queue of every bot, recorded calls, faults and flood
counters. No HTTP and no asyncio here; observers registered with
:meth:`FakegramState.subscribe` are told (synchronously) when something changed.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from buddybot.fakegram import shapes
from buddybot.fakegram.htmltext import utf16_len
from buddybot.fakegram.shapes import JSON

__all__ = [
    "DEFAULT_ALLOWED_UPDATES_EXCLUDED",
    "ApiError",
    "BotRecord",
    "CallbackRecord",
    "ChatRecord",
    "ControlError",
    "FakegramState",
    "Fault",
    "FaultKind",
    "MemberRecord",
    "MessageRecord",
    "PollRecord",
    "RecordedCall",
    "StoredFile",
    "UserRecord",
]

FaultKind = Literal[
    "retry_after", "forbidden", "bad_request", "server_error", "timeout", "slow", "redirect"
]
ACTIVE_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
DEFAULT_ALLOWED_UPDATES_EXCLUDED = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
FLOOD_PER_SECOND = 30
# What Telegram marks as a command: ASCII letters, digits and _ only, then maybe @bot.
COMMAND_WORD = re.compile(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", re.ASCII)
FLOOD_PER_GROUP_MINUTE = 20


class ApiError(Exception):
    """A Bot API error: becomes ``{"ok": false, "error_code": code, ...}`` with that status."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        return shapes.error(self.code, self.description, self.parameters)


class ControlError(Exception):
    """A test/control-side mistake (unknown user, no such button, ...)."""

    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


@dataclass
class PendingUpdate:
    update: JSON
    redelivered: bool = False
    handed_out: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next(k for k in self.update if k != "update_id")

    @property
    def queue(self) -> Hashable:
        """Which webhook queue the update is in: one per chat (else per poll or per user),
        as in Telegram's Bot API server, which pushes a queue's updates one at a time."""
        payload = self.update.get(self.kind)
        if not isinstance(payload, dict):
            return ("update", self.update_id)
        message = payload.get("message") if self.kind == "callback_query" else payload
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and "id" in chat:
            return ("chat", chat["id"])
        poll_id = payload.get("poll_id") if self.kind == "poll_answer" else None
        if self.kind == "poll":
            poll_id = payload.get("id")
        if poll_id is not None:
            return ("poll", poll_id)
        sender = payload.get("from") or payload.get("user")
        if isinstance(sender, dict) and "id" in sender:
            return ("user", sender["id"])
        return ("update", self.update_id)


@dataclass
class BotRecord:
    token: str
    user_id: int
    username: str
    first_name: str
    privacy_mode: bool = False
    next_update_id: int = 1
    pending: list[PendingUpdate] = field(default_factory=list)
    history: dict[int, JSON] = field(default_factory=dict)
    allowed_updates: list[str] | None = None
    webhook_url: str = ""
    webhook_secret: str | None = None
    webhook_max_connections: int = 40
    webhook_last_error: tuple[int, str] | None = None
    commands: dict[tuple[str, str], list[JSON]] = field(default_factory=dict)
    menu_buttons: dict[int | None, JSON] = field(default_factory=dict)
    started: set[int] = field(default_factory=set)
    blocked: set[int] = field(default_factory=set)
    flood_all: deque[float] = field(default_factory=deque)
    flood_chat: dict[int, deque[float]] = field(default_factory=dict)

    def wants(self, kind: str) -> bool:
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in DEFAULT_ALLOWED_UPDATES_EXCLUDED


@dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False


@dataclass
class MemberRecord:
    user_id: int
    status: str
    rights: dict[str, bool] | None = None
    until_date: int | None = None


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: Literal["document", "photo"]
    file_name: str | None
    mime_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class MessageRecord:
    message_id: int
    chat_id: int
    date: int
    from_id: int | None
    bot_token: str | None = None  # set when a bot sent it
    sender_chat_id: int | None = None
    text: str | None = None
    html: str | None = None  # the text as sent (before entity parsing), if parse_mode=HTML
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    reply_to: int | None = None
    file: StoredFile | None = None
    poll_id: str | None = None
    extra: JSON = field(default_factory=dict)
    service: bool = False
    pinned: bool = False
    edit_count: int = 0
    edit_date: int | None = None
    deleted: bool = False
    params: JSON = field(default_factory=dict)  # options such as disable_notification


@dataclass
class ChatRecord:
    id: int
    type: Literal["private", "group", "supergroup"]
    title: str | None = None
    members: dict[int, MemberRecord] = field(default_factory=dict)
    messages: dict[int, MessageRecord] = field(default_factory=dict)
    next_message_id: int = 1
    migrated_to: int | None = None
    migrated_from: int | None = None
    last_user_message_id: int = 0
    description: str | None = None

    def status_of(self, user_id: int) -> str:
        member = self.members.get(user_id)
        return member.status if member else "left"

    def is_active_member(self, user_id: int) -> bool:
        return self.status_of(user_id) in ACTIVE_STATUSES

    def is_admin(self, user_id: int) -> bool:
        return self.status_of(user_id) in ("creator", "administrator")


@dataclass
class PollRecord:
    id: str
    chat_id: int
    message_id: int
    bot_token: str | None
    question: str
    options: list[str]
    persistent_ids: list[str]
    is_anonymous: bool = True
    poll_type: str = "regular"
    allows_multiple_answers: bool = False
    correct_option_ids: list[int] | None = None
    explanation: str | None = None
    open_period: int | None = None
    close_date: int | None = None
    votes: dict[int, list[int]] = field(default_factory=dict)
    closed: bool = False


@dataclass
class CallbackRecord:
    id: str
    bot_token: str
    user_id: int
    chat_id: int
    message_id: int
    data: str | None
    created_at: float
    answered: bool = False
    answer: JSON | None = None


@dataclass
class Fault:
    kind: FaultKind
    method: str | None = None
    chat_id: int | None = None
    count: int = 1
    retry_after: int = 1
    delay: float = 0.0
    description: str | None = None

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id


@dataclass
class RecordedCall:
    token: str
    method: str
    params: JSON
    at: float
    ok: bool = True
    error_code: int | None = None
    description: str | None = None

    def as_json(self) -> JSON:
        return {
            "token": self.token,
            "method": self.method,
            "params": self.params,
            "at": self.at,
            "ok": self.ok,
            "error_code": self.error_code,
            "description": self.description,
        }


def _digest(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


class FakegramState:
    """Everything the fake Telegram knows. Mutated only from the event loop thread."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._listeners: list[Callable[[], None]] = []
        self.bots: dict[str, BotRecord] = {}
        self._reset_world()

    def _reset_world(self) -> None:
        self.users: dict[int, UserRecord] = {
            b.user_id: UserRecord(b.user_id, b.first_name, username=b.username, is_bot=True)
            for b in self.bots.values()
        }
        self.chats: dict[int, ChatRecord] = {}
        self.polls: dict[str, PollRecord] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.files: dict[str, StoredFile] = {}
        self.faults: list[Fault] = []
        self.calls: list[RecordedCall] = []
        self._user_ids = itertools.count(100_001)
        self._group_ids = itertools.count(1)
        self._supergroup_ids = itertools.count(1)
        self._poll_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        for bot in self.bots.values():
            bot.pending.clear()
            bot.history.clear()
            bot.allowed_updates = None
            bot.webhook_url = ""
            bot.webhook_secret = None
            bot.webhook_max_connections = 40
            bot.commands.clear()
            bot.menu_buttons.clear()
            bot.started.clear()
            bot.blocked.clear()
            bot.flood_all.clear()
            bot.flood_chat.clear()

    def reset(self) -> None:
        """Forget the world (users, chats, messages, queues, faults, calls); keep the bots.
        update_id counters keep counting up, as on Telegram."""
        self._reset_world()
        self.changed()

    # ------------------------------------------------------------------ observers
    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def now(self) -> int:
        return int(self.clock())

    # ------------------------------------------------------------------ bots and users
    def create_bot(
        self,
        token: str,
        username: str = "buddy_test_bot",
        first_name: str = "Buddy",
        *,
        privacy_mode: bool = False,
    ) -> JSON:
        if token in self.bots:
            raise ControlError(f"bot with token {token!r} already exists")
        prefix = token.split(":", 1)[0]
        user_id = int(prefix) if prefix.isdigit() else 7_000_000_000 + len(self.bots) + 1
        bot = BotRecord(token, user_id, username, first_name, privacy_mode=privacy_mode)
        self.bots[token] = bot
        self.users[user_id] = UserRecord(user_id, first_name, username=username, is_bot=True)
        return self.get_me(bot)

    def get_me(self, bot: BotRecord) -> JSON:
        return shapes.user(
            bot.user_id,
            bot.first_name,
            is_bot=True,
            username=bot.username,
            can_join_groups=True,
            can_read_all_group_messages=not bot.privacy_mode,
            supports_inline_queries=False,
            can_connect_to_business=False,
            has_main_web_app=False,
        )

    def bot(self, token: str | None = None) -> BotRecord:
        if token is None:
            if not self.bots:
                raise ControlError("no bot exists yet; create_bot first")
            return next(iter(self.bots.values()))
        try:
            return self.bots[token]
        except KeyError:
            raise ControlError(f"unknown bot token {token!r}", 404) from None

    def bot_by_user_id(self, user_id: int) -> BotRecord | None:
        return next((b for b in self.bots.values() if b.user_id == user_id), None)

    def create_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "nl",
    ) -> int:
        user_id = next(self._user_ids)
        self.users[user_id] = UserRecord(user_id, first_name, last_name, username, language_code)
        return user_id

    def user(self, user_id: int) -> UserRecord:
        try:
            return self.users[user_id]
        except KeyError:
            raise ControlError(f"unknown user {user_id}", 404) from None

    def user_json(self, user_id: int) -> JSON:
        u = self.user(user_id)
        return shapes.user(
            u.id,
            u.first_name,
            is_bot=u.is_bot,
            last_name=u.last_name,
            username=u.username,
            language_code=None if u.is_bot else u.language_code,
        )

    # ------------------------------------------------------------------ chats
    def chat(self, chat_id: int) -> ChatRecord:
        try:
            return self.chats[chat_id]
        except KeyError:
            raise ControlError(f"unknown chat {chat_id}", 404) from None

    def chat_json(self, chat: ChatRecord) -> JSON:
        if chat.type == "private":
            u = self.user(chat.id)
            return shapes.chat(
                chat.id,
                "private",
                first_name=u.first_name,
                last_name=u.last_name,
                username=u.username,
            )
        return shapes.chat(chat.id, chat.type, title=chat.title)

    def private_chat(self, user_id: int) -> ChatRecord:
        self.user(user_id)
        chat = self.chats.get(user_id)
        if chat is None:
            chat = self.chats[user_id] = ChatRecord(user_id, "private")
            chat.members[user_id] = MemberRecord(user_id, "member")
        return chat

    def _new_supergroup_id(self) -> int:
        return -(1_001_000_000_000 + next(self._supergroup_ids))

    def create_group(
        self,
        title: str,
        *,
        supergroup: bool = False,
        creator: int,
        members: Iterable[int] = (),
        admins: Iterable[int] = (),
    ) -> int:
        chat_id = self._new_supergroup_id() if supergroup else -(1000 + next(self._group_ids))
        chat = ChatRecord(chat_id, "supergroup" if supergroup else "group", title=title)
        self.user(creator)
        chat.members[creator] = MemberRecord(creator, "creator")
        for uid in members:
            self.user(uid)
            chat.members.setdefault(uid, MemberRecord(uid, "member"))
        for uid in admins:
            self.user(uid)
            if uid != creator:
                chat.members[uid] = MemberRecord(uid, "administrator")
        self.chats[chat_id] = chat
        self.changed()
        return chat_id

    def member_json(self, chat: ChatRecord, user_id: int) -> JSON:
        member = chat.members.get(user_id) or MemberRecord(user_id, "left")
        is_bot_self = self.bot_by_user_id(user_id) is not None
        return shapes.chat_member(
            self.user_json(user_id),
            member.status,
            until_date=member.until_date,
            rights=member.rights,
            can_be_edited=member.status == "administrator" and not is_bot_self,
        )

    def bots_in_chat(self, chat: ChatRecord) -> list[BotRecord]:
        if chat.type == "private":
            return [
                b for b in self.bots.values() if chat.id in b.started and chat.id not in b.blocked
            ]
        return [b for b in self.bots.values() if chat.is_active_member(b.user_id)]

    # ------------------------------------------------------------------ updates
    def enqueue(self, bot: BotRecord, kind: str, payload: JSON) -> JSON | None:
        """Queue an update for ``bot`` unless its allowed_updates filter it out."""
        if not bot.wants(kind):
            return None
        upd = shapes.update(bot.next_update_id, kind, payload)
        bot.next_update_id += 1
        bot.pending.append(PendingUpdate(upd))
        bot.history[upd["update_id"]] = upd
        return upd

    def enqueue_raw(self, bot: BotRecord, update: JSON) -> JSON:
        upd = dict(update)
        if "update_id" not in upd:
            upd["update_id"] = bot.next_update_id
        bot.next_update_id = max(bot.next_update_id, int(upd["update_id"]) + 1)
        bot.pending.append(PendingUpdate(upd))
        bot.history[int(upd["update_id"])] = upd
        self.changed()
        return upd

    def redeliver(self, bot: BotRecord, update_id: int) -> JSON:
        upd = bot.history.get(update_id)
        if upd is None:
            raise ControlError(f"update {update_id} was never queued for this bot", 404)
        if any(p.update_id == update_id for p in bot.pending):
            raise ControlError(f"update {update_id} is still pending")
        bot.pending.append(PendingUpdate(upd, redelivered=True))
        self.changed()
        return upd

    def confirm(self, bot: BotRecord, offset: int) -> None:
        """Apply a getUpdates ``offset``: drop everything below it (negative = keep last -n)."""
        if offset < 0:
            keep = -offset
            bot.pending = bot.pending[-keep:] if keep else []
            return
        bot.pending = [
            p
            for p in bot.pending
            if not (p.update_id < offset and (not p.redelivered or p.handed_out))
        ]

    def take_updates(self, bot: BotRecord, limit: int = 100) -> list[JSON]:
        ordered = sorted(bot.pending, key=lambda p: (not p.redelivered, p.update_id))
        chosen = ordered[: max(1, min(limit, 100))]
        for p in chosen:
            p.handed_out = True
        return [p.update for p in chosen]

    # ------------------------------------------------------------------ messages
    def add_message(self, chat: ChatRecord, msg: MessageRecord) -> MessageRecord:
        chat.messages[msg.message_id] = msg
        return msg

    def next_message_id(self, chat: ChatRecord) -> int:
        mid = chat.next_message_id
        chat.next_message_id += 1
        return mid

    def message_json(self, msg: MessageRecord, *, nested: bool = False) -> JSON:
        chat = self.chats[msg.chat_id]
        extra: JSON = dict(msg.extra)
        if msg.file is not None:
            f = msg.file
            if f.kind == "document":
                extra["document"] = shapes.document(
                    f.file_id, f.file_unique_id, f.file_name, f.mime_type, f.size
                )
            else:
                extra["photo"] = shapes.photo_sizes(f.file_id, f.file_unique_id, f.size)
        if msg.poll_id is not None:
            extra["poll"] = self.poll_json(self.polls[msg.poll_id])
        reply: JSON | None = None
        if msg.reply_to is not None and not nested:
            target = chat.messages.get(msg.reply_to)
            if target is not None and not target.deleted:
                reply = self.message_json(target, nested=True)
        from_user: JSON | None = None
        if msg.from_id is not None:
            if msg.from_id == shapes.GROUP_ANONYMOUS_BOT_ID:
                from_user = shapes.group_anonymous_bot()
            else:
                from_user = self.user_json(msg.from_id)
        sender_chat = None
        if msg.sender_chat_id is not None and msg.sender_chat_id in self.chats:
            sender_chat = self.chat_json(self.chats[msg.sender_chat_id])
        return shapes.message(
            msg.message_id,
            msg.date,
            self.chat_json(chat),
            from_user=from_user,
            sender_chat=sender_chat,
            text=msg.text,
            entities=msg.entities,
            caption=msg.caption,
            caption_entities=msg.caption_entities,
            reply_markup=msg.reply_markup,
            reply_to_message=reply,
            edit_date=msg.edit_date,
            **extra,
        )

    def sent_message_json(self, msg: MessageRecord) -> JSON:
        """A bot message for tests: the Bot API message plus fakegram bookkeeping."""
        data = self.message_json(msg)
        data["fakegram"] = {
            "html": msg.html,
            "pinned": msg.pinned,
            "edit_count": msg.edit_count,
            "deleted": msg.deleted,
            "service": msg.service,
            "params": msg.params,
            "file": None
            if msg.file is None
            else {
                "kind": msg.file.kind,
                "file_name": msg.file.file_name,
                "mime_type": msg.file.mime_type,
                "size": msg.file.size,
                "file_id": msg.file.file_id,
            },
        }
        return data

    def bot_messages(
        self, chat_id: int, *, include_deleted: bool = False, include_service: bool = False
    ) -> list[MessageRecord]:
        chat = self.chat(chat_id)
        return [
            m
            for m in chat.messages.values()
            if m.bot_token is not None
            and (include_deleted or not m.deleted)
            and (include_service or not m.service)
        ]

    def deliver_message(
        self, chat: ChatRecord, msg: MessageRecord, kind: str = "message"
    ) -> JSON | None:
        """Queue a ``message``-like update for every bot in the chat (except the sender)."""
        first: JSON | None = None
        for bot in self.bots_in_chat(chat):
            if msg.bot_token == bot.token or (msg.from_id == bot.user_id and kind == "message"):
                continue
            if not self._bot_sees(bot, chat, msg):
                continue
            upd = self.enqueue(bot, kind, self.message_json(msg))
            if first is None and upd is not None:
                first = upd
        self.changed()
        return first

    def _bot_sees(self, bot: BotRecord, chat: ChatRecord, msg: MessageRecord) -> bool:
        if not bot.privacy_mode or chat.type == "private" or chat.is_admin(bot.user_id):
            return True
        if msg.service:
            return True
        typed = msg.text or msg.caption
        if typed and typed.startswith("/"):
            first_word = typed.split()[0]
            return "@" not in first_word or first_word.endswith(f"@{bot.username}")
        if msg.reply_to is not None:
            target = chat.messages.get(msg.reply_to)
            return target is not None and target.bot_token == bot.token
        return False

    def post_service(self, chat: ChatRecord, from_id: int, **fields: Any) -> MessageRecord:
        msg = MessageRecord(
            self.next_message_id(chat), chat.id, self.now(), from_id, extra=fields, service=True
        )
        return self.add_message(chat, msg)

    def user_message(
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
        """A person writes ``text``; with ``photo`` it is the caption of a photo they send."""
        chat = self._writable_chat(chat_id)
        self.user(user_id)
        if chat.type == "private":
            if chat_id != user_id:
                raise ControlError("in a private chat only its user can write")
        elif not chat.is_active_member(user_id):
            raise ControlError(f"user {user_id} is not a member of chat {chat_id}")
        if anonymous_admin and not chat.is_admin(user_id):
            raise ControlError(f"user {user_id} is not an administrator of chat {chat_id}")
        if reply_to is not None and reply_to not in chat.messages:
            raise ControlError(f"no message {reply_to} in chat {chat_id}")
        msg = MessageRecord(
            self.next_message_id(chat),
            chat.id,
            self.now(),
            shapes.GROUP_ANONYMOUS_BOT_ID if anonymous_admin else user_id,
            sender_chat_id=chat.id if anonymous_admin else None,
            reply_to=reply_to,
        )
        marked = list(entities) if entities is not None else command_entities(text)
        if photo:
            msg.file = self.store_file("photo", None, "image/jpeg", b"\xff\xd8 a photo")
            msg.caption, msg.caption_entities = text or None, marked
        else:
            msg.text, msg.entities = text, marked
        self.add_message(chat, msg)
        chat.last_user_message_id = msg.message_id
        upd = self.deliver_message(chat, msg)
        return upd if upd is not None else {"message": self.message_json(msg)}

    def user_edit(self, chat_id: int, message_id: int, user_id: int, text: str) -> JSON:
        chat = self._writable_chat(chat_id)
        msg = chat.messages.get(message_id)
        if msg is None or msg.deleted:
            raise ControlError(f"no message {message_id} in chat {chat_id}", 404)
        if msg.from_id != user_id:
            raise ControlError(f"message {message_id} was not written by user {user_id}")
        msg.text = text
        msg.entities = command_entities(text)
        msg.edit_count += 1
        msg.edit_date = self.now()
        upd = self.deliver_message(chat, msg, kind="edited_message")
        return upd if upd is not None else {"edited_message": self.message_json(msg)}

    def _writable_chat(self, chat_id: int) -> ChatRecord:
        chat = self.chat(chat_id)
        if chat.migrated_to is not None:
            raise ControlError(f"chat {chat_id} was migrated to {chat.migrated_to}")
        return chat

    # ------------------------------------------------------------------ private chats
    def start_private(
        self, user_id: int, *, payload: str | None = None, token: str | None = None
    ) -> JSON:
        bot = self.bot(token)
        chat = self.private_chat(user_id)
        if user_id in bot.blocked:
            bot.blocked.discard(user_id)
            self._emit_private_member(bot, user_id, "kicked", "member")
        bot.started.add(user_id)
        text = "/start" if not payload else f"/start {payload}"
        return self.user_message(chat.id, user_id, text)

    def block_bot(self, user_id: int, *, token: str | None = None) -> None:
        bot = self.bot(token)
        self.private_chat(user_id)
        was_started = user_id in bot.started and user_id not in bot.blocked
        bot.blocked.add(user_id)
        if was_started:
            self._emit_private_member(bot, user_id, "member", "kicked")
        self.changed()

    def _emit_private_member(self, bot: BotRecord, user_id: int, old: str, new: str) -> None:
        chat = self.private_chat(user_id)
        bot_user = self.user_json(bot.user_id)
        payload = shapes.chat_member_updated(
            self.chat_json(chat),
            self.user_json(user_id),
            self.now(),
            shapes.chat_member(bot_user, old),
            shapes.chat_member(bot_user, new),
        )
        self.enqueue(bot, "my_chat_member", payload)
        self.changed()

    # ------------------------------------------------------------------ membership
    def set_status(
        self,
        chat_id: int,
        user_id: int,
        status: str,
        *,
        by: int | None = None,
        rights: dict[str, bool] | None = None,
    ) -> None:
        """Change a member's status and emit chat_member / my_chat_member updates and the
        new_chat_members / left_chat_member service messages, as Telegram does."""
        chat = self._writable_chat(chat_id)
        if chat.type == "private":
            raise ControlError("membership changes need a group chat")
        self.user(user_id)
        actor = by if by is not None else user_id
        self.user(actor)
        old_json = self.member_json(chat, user_id)
        was_active = chat.is_active_member(user_id)
        # bots that are in the chat before the change (a removed bot still hears about it)
        listeners_before = self.bots_in_chat(chat)
        chat.members[user_id] = MemberRecord(
            user_id, status, rights=rights, until_date=0 if status == "kicked" else None
        )
        new_json = self.member_json(chat, user_id)
        is_active = chat.is_active_member(user_id)
        service: MessageRecord | None = None
        if is_active and not was_active:
            service = self.post_service(chat, actor, new_chat_members=[self.user_json(user_id)])
        elif was_active and not is_active:
            service = self.post_service(chat, actor, left_chat_member=self.user_json(user_id))
        if service is not None:
            hearing = {b.token: b for b in [*listeners_before, *self.bots_in_chat(chat)]}
            for bot in hearing.values():
                if bot.user_id == actor:
                    continue
                self.enqueue(bot, "message", self.message_json(service))
        payload = shapes.chat_member_updated(
            self.chat_json(chat), self.user_json(actor), self.now(), old_json, new_json
        )
        target_bot = self.bot_by_user_id(user_id)
        if target_bot is not None:
            self.enqueue(target_bot, "my_chat_member", payload)
        for bot in self.bots.values():
            if bot is target_bot or not chat.is_admin(bot.user_id):
                continue
            self.enqueue(bot, "chat_member", payload)
        self.changed()

    # ------------------------------------------------------------------ migration
    def migrate_group(self, chat_id: int) -> int:
        old = self._writable_chat(chat_id)
        if old.type != "group":
            raise ControlError(f"chat {chat_id} is not a basic group")
        creator = next((m.user_id for m in old.members.values() if m.status == "creator"), None)
        actor = creator if creator is not None else next(iter(old.members))
        new_id = self._new_supergroup_id()
        new = ChatRecord(new_id, "supergroup", title=old.title, migrated_from=old.id)
        new.members = {
            k: MemberRecord(v.user_id, v.status, v.rights, v.until_date)
            for k, v in old.members.items()
        }
        new.next_message_id = old.next_message_id
        for mid, m in old.messages.items():
            copy = MessageRecord(**{**m.__dict__, "chat_id": new_id})
            new.messages[mid] = copy
        new.last_user_message_id = old.last_user_message_id
        self.chats[new_id] = new
        for poll in self.polls.values():
            if poll.chat_id == old.id:
                poll.chat_id = new_id
        bots = self.bots_in_chat(old)
        to_msg = self.post_service(old, actor, migrate_to_chat_id=new_id)
        old.migrated_to = new_id
        from_msg = self.post_service(new, actor, migrate_from_chat_id=old.id)
        new.next_message_id = max(new.next_message_id, old.next_message_id)
        for bot in bots:
            self.enqueue(bot, "message", self.message_json(to_msg))
            self.enqueue(bot, "message", self.message_json(from_msg))
        self.changed()
        return new_id

    # ------------------------------------------------------------------ polls
    def poll_json(self, poll: PollRecord) -> JSON:
        counts = [0] * len(poll.options)
        for chosen in poll.votes.values():
            for i in chosen:
                counts[i] += 1
        return shapes.poll(
            poll.id,
            poll.question,
            [
                shapes.poll_option(text, counts[i], poll.persistent_ids[i])
                for i, text in enumerate(poll.options)
            ],
            total_voter_count=sum(1 for v in poll.votes.values() if v),
            is_closed=poll.closed,
            is_anonymous=poll.is_anonymous,
            poll_type=poll.poll_type,
            allows_multiple_answers=poll.allows_multiple_answers,
            correct_option_ids=poll.correct_option_ids,
            explanation=poll.explanation,
            open_period=poll.open_period,
            close_date=poll.close_date,
        )

    def new_poll_id(self) -> str:
        return f"{5_000_000_000_000_000_000 + next(self._poll_ids)}"

    def poll(self, poll_id: str) -> PollRecord:
        try:
            return self.polls[poll_id]
        except KeyError:
            raise ControlError(f"unknown poll {poll_id}", 404) from None

    def vote(self, poll_id: str, user_id: int, option_ids: list[int]) -> None:
        poll = self.poll(poll_id)
        self.user(user_id)
        if poll.closed:
            raise ControlError(f"poll {poll_id} is closed")
        if any(not 0 <= i < len(poll.options) for i in option_ids):
            raise ControlError(f"option ids {option_ids} out of range")
        if len(option_ids) > 1 and not poll.allows_multiple_answers:
            raise ControlError("this poll allows only one answer")
        if len(set(option_ids)) != len(option_ids):
            raise ControlError("duplicate option ids")
        chat = self.chat(poll.chat_id)
        if chat.type != "private" and not chat.is_active_member(user_id):
            raise ControlError(f"user {user_id} is not a member of chat {chat.id}")
        if option_ids:
            poll.votes[user_id] = list(option_ids)
        else:
            poll.votes.pop(user_id, None)
        bot = self.bots.get(poll.bot_token or "")
        if bot is not None:
            if not poll.is_anonymous:
                self.enqueue(
                    bot,
                    "poll_answer",
                    shapes.poll_answer(
                        poll.id,
                        list(option_ids),
                        [poll.persistent_ids[i] for i in option_ids],
                        voter=self.user_json(user_id),
                    ),
                )
            self.enqueue(bot, "poll", self.poll_json(poll))
        self.changed()

    # ------------------------------------------------------------------ callback queries
    def chat_instance(self, chat_id: int, bot: BotRecord) -> str:
        return str(int(_digest("chat_instance", chat_id, bot.user_id)[:15], 16))

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        user_id: int,
        *,
        data: str | None = None,
        text: str | None = None,
    ) -> JSON:
        chat = self._writable_chat(chat_id)
        self.user(user_id)
        msg = chat.messages.get(message_id)
        if msg is None or msg.deleted:
            raise ControlError(f"no message {message_id} in chat {chat_id}", 404)
        if msg.bot_token is None:
            raise ControlError(f"message {message_id} was not sent by a bot")
        if data is None:
            if text is None:
                raise ControlError("press_button needs data= or text=")
            rows = (msg.reply_markup or {}).get("inline_keyboard", [])
            button = next((b for row in rows for b in row if b.get("text") == text), None)
            if button is None:
                labels = [b.get("text") for row in rows for b in row]
                raise ControlError(f"no button with text {text!r}; buttons: {labels}")
            if "callback_data" not in button:
                raise ControlError(f"button {text!r} has no callback_data")
            data = str(button["callback_data"])
        bot = self.bots[msg.bot_token]
        query_id = f"{bot.user_id}{next(self._callback_ids):010d}"
        self.callbacks[query_id] = CallbackRecord(
            query_id, bot.token, user_id, chat.id, message_id, data, self.clock()
        )
        payload = shapes.callback_query(
            query_id,
            self.user_json(user_id),
            self.chat_instance(chat.id, bot),
            msg=self.message_json(msg),
            data=data,
        )
        upd = self.enqueue(bot, "callback_query", payload)
        self.changed()
        return upd if upd is not None else {"callback_query": payload}

    # ------------------------------------------------------------------ files
    def store_file(
        self, kind: Literal["document", "photo"], name: str | None, mime: str | None, data: bytes
    ) -> StoredFile:
        n = next(self._file_ids)
        f = StoredFile(f"FG{kind[:3].upper()}{n:08d}", f"fgu{n:08d}", kind, name, mime, data)
        self.files[f.file_id] = f
        return f

    # ------------------------------------------------------------------ calls, faults, flood
    def record_call(self, token: str, method: str, params: JSON) -> RecordedCall:
        call = RecordedCall(token, method, params, self.clock())
        self.calls.append(call)
        self.changed()
        return call

    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def take_fault(self, method: str, chat_id: int | None) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, chat_id):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def check_flood(self, bot: BotRecord, chat_id: int) -> int | None:
        """Count one message against Telegram's limits; return retry_after if exceeded."""
        now = self.clock()
        overall = bot.flood_all
        while overall and overall[0] <= now - 1.0:
            overall.popleft()
        if len(overall) >= FLOOD_PER_SECOND:
            return max(1, int(overall[0] + 1.0 - now + 0.999))
        if chat_id < 0:
            window = bot.flood_chat.setdefault(chat_id, deque())
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= FLOOD_PER_GROUP_MINUTE:
                return max(1, int(window[0] + 60.0 - now + 0.999))
            window.append(now)
        overall.append(now)
        return None


def command_entities(text: str) -> list[JSON]:
    """The ``bot_command`` entity Telegram adds for a leading ``/cmd`` or ``/cmd@bot``. Like
    Telegram it ends at the first character outside ``[A-Za-z0-9_]``: ``/ideeën`` is the
    command ``/idee`` followed by "ën"."""
    match = COMMAND_WORD.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]
