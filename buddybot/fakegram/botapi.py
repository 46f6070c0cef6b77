"""The Bot API methods, implemented on :class:`FakegramState` (no HTTP, no waiting).

``BotApi.call`` runs one method for one bot and returns the ``result`` or raises
:class:`ApiError` with Telegram's status code and description. Long polling,
webhooks, slow answers and timeouts live in the server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from buddybot.fakegram import shapes
from buddybot.fakegram.htmltext import HtmlError, parse_html, utf16_len
from buddybot.fakegram.shapes import JSON
from buddybot.fakegram.state import (
    ApiError,
    BotRecord,
    ChatRecord,
    FakegramState,
    MessageRecord,
    PollRecord,
    StoredFile,
)

__all__ = ["MESSAGE_METHODS", "BotApi", "Params", "Upload"]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64

# calls that count against the flood limits
MESSAGE_METHODS = frozenset(
    {
        "sendmessage",
        "sendpoll",
        "senddocument",
        "sendphoto",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
    }
)


@dataclass
class Upload:
    """A file that arrived in a multipart body."""

    filename: str | None
    content_type: str | None
    data: bytes


def bad_request(text: str, parameters: JSON | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {text}", parameters)


class Params:
    """Typed access to Bot API parameters, whether they came form-encoded (all strings,
    nested objects as JSON strings), as JSON, or multipart (with :class:`Upload` values)."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = dict(raw)

    def __contains__(self, name: str) -> bool:
        return name in self.raw and self.raw[name] is not None

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, Upload):
            raise bad_request(f"parameter {name} must be a string")
        return value if isinstance(value, str) else json.dumps(value)

    def req_str(self, name: str) -> str:
        value = self.get_str(name)
        if value is None:
            raise bad_request(f"{name} is empty" if name != "text" else "message text is empty")
        return value

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value))
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def req_int(self, name: str, missing: str | None = None) -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request(missing or f"{name} is empty")
        return value

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1", "yes")

    def get_json(self, name: str) -> Any:
        value = self.raw.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def upload(self, name: str) -> Upload | str | None:
        value = self.raw.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self.raw.get(value[len("attach://") :])
        if value is None or isinstance(value, Upload):
            return value
        return str(value)

    def loggable(self) -> JSON:
        """The parameters for the call record: nested JSON decoded, uploads summarised."""
        out: JSON = {}
        for key, value in self.raw.items():
            if isinstance(value, Upload):
                out[key] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "size": len(value.data),
                }
            elif isinstance(value, str) and value[:1] in ("{", "["):
                try:
                    out[key] = json.loads(value)
                except json.JSONDecodeError:
                    out[key] = value
            else:
                out[key] = value
        return out


def _kind_name(chat: ChatRecord) -> str:
    return "supergroup chat" if chat.type == "supergroup" else "group chat"


class BotApi:
    """All supported methods; ``call`` dispatches by (case-insensitive) method name."""

    def __init__(self, state: FakegramState, *, callback_query_max_age: float = 300.0) -> None:
        self.state = state
        self.callback_query_max_age = callback_query_max_age
        self._methods: dict[str, Callable[[BotRecord, Params], Any]] = {
            name[len("m_") :].lower(): getattr(self, name)
            for name in dir(self)
            if name.startswith("m_")
        }

    def has_method(self, method: str) -> bool:
        return method.lower() in self._methods or method.lower() == "getupdates"

    def call(self, bot: BotRecord, method: str, params: Params) -> Any:
        handler = self._methods.get(method.lower())
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        return handler(bot, params)

    # ------------------------------------------------------------------ helpers
    def chat_for_bot(self, bot: BotRecord, params: Params, *, write: bool = True) -> ChatRecord:
        """Resolve ``chat_id`` the way Telegram does, with its errors."""
        raw = params.raw.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            raise bad_request("chat not found")
        chat_id = params.req_int("chat_id")
        chat = self.state.chats.get(chat_id)
        known_person = chat_id in self.state.users and not self.state.users[chat_id].is_bot
        if chat is None and known_person:
            chat = self.state.private_chat(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.type == "private":
            if chat.id in bot.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if chat.id not in bot.started and write:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            return chat
        status = chat.status_of(bot.user_id)
        if status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {_kind_name(chat)}")
        if status not in ("creator", "administrator", "member", "restricted"):
            raise ApiError(403, f"Forbidden: bot is not a member of the {_kind_name(chat)}")
        return chat

    def _text_and_entities(
        self, params: Params, text: str, field: str = "entities"
    ) -> tuple[str, list[JSON], str | None]:
        parse_mode = (params.get_str("parse_mode") or "").lower()
        entities = params.get_json(field)
        if parse_mode == "html":
            try:
                plain, parsed = parse_html(text)
            except HtmlError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
            return plain, parsed, text
        if parse_mode in ("markdown", "markdownv2"):
            # Not modelled: kept verbatim.
            return text, [], None
        return text, list(entities or []), None

    def _check_markup(self, markup: Any) -> JSON | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and (
                    not data or len(str(data).encode("utf-8")) > MAX_CALLBACK_DATA
                ):
                    raise bad_request("BUTTON_DATA_INVALID")
        return markup if "inline_keyboard" in markup else None

    def _reply_to(self, chat: ChatRecord, params: Params) -> int | None:
        target: int | None = None
        allow_without = params.get_bool("allow_sending_without_reply")
        reply_parameters = params.get_json("reply_parameters")
        if isinstance(reply_parameters, dict):
            target = int(reply_parameters["message_id"])
            allow_without = bool(reply_parameters.get("allow_sending_without_reply", allow_without))
        else:
            target = params.get_int("reply_to_message_id")
        if target is None:
            return None
        msg = chat.messages.get(target)
        if msg is None or msg.deleted:
            if allow_without:
                return None
            raise bad_request("message to be replied not found")
        return target

    def _new_bot_message(self, bot: BotRecord, chat: ChatRecord, params: Params) -> MessageRecord:
        reply_to = self._reply_to(chat, params)
        markup = self._check_markup(params.get_json("reply_markup"))
        kept = {
            k: params.raw[k]
            for k in ("disable_notification", "protect_content", "message_thread_id", "parse_mode")
            if k in params
        }
        return MessageRecord(
            self.state.next_message_id(chat),
            chat.id,
            self.state.now(),
            bot.user_id,
            bot_token=bot.token,
            reply_markup=markup,
            reply_to=reply_to,
            params=kept,
        )

    def _own_message(
        self, bot: BotRecord, chat: ChatRecord, params: Params, missing: str
    ) -> MessageRecord:
        message_id = params.req_int("message_id", "message identifier is not specified")
        msg = chat.messages.get(message_id)
        if msg is None or msg.deleted:
            raise bad_request(missing)
        return msg

    def _store_upload(self, bot: BotRecord, params: Params, field: str) -> StoredFile:
        value = params.upload(field)
        if value is None:
            raise bad_request(f"there is no {field} in the request")
        if isinstance(value, Upload):
            kind: Literal["document", "photo"] = "photo" if field == "photo" else "document"
            return self.state.store_file(kind, value.filename, value.content_type, value.data)
        existing = self.state.files.get(value)
        if existing is not None:
            return existing
        if value.startswith(("http://", "https://")):
            name = value.rsplit("/", 1)[-1] or None
            return self.state.store_file(
                "photo" if field == "photo" else "document", name, None, b""
            )
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _finish_send(self, chat: ChatRecord, msg: MessageRecord) -> JSON:
        self.state.add_message(chat, msg)
        self.state.changed()
        return self.state.message_json(msg)

    # ------------------------------------------------------------------ identity
    def m_getMe(self, bot: BotRecord, params: Params) -> JSON:
        return self.state.get_me(bot)

    def m_logOut(self, bot: BotRecord, params: Params) -> bool:
        return True

    def m_close(self, bot: BotRecord, params: Params) -> bool:
        return True

    # ------------------------------------------------------------------ webhook
    def m_setWebhook(self, bot: BotRecord, params: Params) -> bool:
        url = params.get_str("url") or ""
        if url and not url.startswith(("http://", "https://")):
            raise bad_request("invalid webhook URL specified")
        bot.webhook_url = url
        bot.webhook_secret = params.get_str("secret_token")
        # Telegram's range is 1-100; like its server, clamp instead of refusing.
        wanted = params.get_int("max_connections", 40) or 40
        bot.webhook_max_connections = min(max(wanted, 1), 100)
        allowed = params.get_json("allowed_updates")
        if isinstance(allowed, list):
            bot.allowed_updates = [str(a) for a in allowed]
        if params.get_bool("drop_pending_updates"):
            bot.pending.clear()
        self.state.changed()
        return True

    def m_deleteWebhook(self, bot: BotRecord, params: Params) -> bool:
        bot.webhook_url = ""
        bot.webhook_secret = None
        bot.webhook_max_connections = 40
        if params.get_bool("drop_pending_updates"):
            bot.pending.clear()
        self.state.changed()
        return True

    def m_getWebhookInfo(self, bot: BotRecord, params: Params) -> JSON:
        err = bot.webhook_last_error
        return shapes.webhook_info(
            bot.webhook_url,
            len(bot.pending),
            max_connections=bot.webhook_max_connections,
            allowed_updates=bot.allowed_updates,
            last_error_date=err[0] if err else None,
            last_error_message=err[1] if err else None,
        )

    # ------------------------------------------------------------------ sending
    def m_sendMessage(self, bot: BotRecord, params: Params) -> JSON:
        chat = self.chat_for_bot(bot, params)
        raw_text = params.get_str("text") or ""
        text, entities, html = self._text_and_entities(params, raw_text)
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        msg = self._new_bot_message(bot, chat, params)
        msg.text, msg.entities, msg.html = text, entities, html
        return self._finish_send(chat, msg)

    def _send_file(self, bot: BotRecord, params: Params, field: str) -> JSON:
        chat = self.chat_for_bot(bot, params)
        caption_raw = params.get_str("caption")
        caption: str | None = None
        caption_entities: list[JSON] = []
        html: str | None = None
        if caption_raw:
            caption, caption_entities, html = self._text_and_entities(
                params, caption_raw, "caption_entities"
            )
            if utf16_len(caption) > MAX_CAPTION:
                raise bad_request("message caption is too long")
        stored = self._store_upload(bot, params, field)
        msg = self._new_bot_message(bot, chat, params)
        msg.caption, msg.caption_entities, msg.html, msg.file = (
            caption,
            caption_entities,
            html,
            stored,
        )
        return self._finish_send(chat, msg)

    def m_sendDocument(self, bot: BotRecord, params: Params) -> JSON:
        return self._send_file(bot, params, "document")

    def m_sendPhoto(self, bot: BotRecord, params: Params) -> JSON:
        return self._send_file(bot, params, "photo")

    def m_sendPoll(self, bot: BotRecord, params: Params) -> JSON:
        chat = self.chat_for_bot(bot, params)
        question = params.get_str("question") or ""
        if not question.strip():
            raise bad_request("poll question must be non-empty")
        if len(question) > 300:
            raise bad_request("poll question length must not exceed 300")
        raw_options = params.get_json("options")
        if not isinstance(raw_options, list):
            raise bad_request("options must be an array")
        options = [str(o["text"]) if isinstance(o, dict) else str(o) for o in raw_options]
        if not 2 <= len(options) <= 12:
            raise bad_request(
                "poll must have at least 2 option"
                if len(options) < 2
                else "poll can't have more than 12 options"
            )
        if any(not o.strip() or len(o) > 100 for o in options):
            raise bad_request("poll options length must not exceed 100")
        poll_type = params.get_str("type") or "regular"
        is_anonymous = params.get_bool("is_anonymous", True)
        if chat.type == "private" and not is_anonymous:
            raise bad_request("non-anonymous polls can't be sent to channel or private chats")
        correct = params.get_int("correct_option_id")
        msg = self._new_bot_message(bot, chat, params)
        poll_id = self.state.new_poll_id()
        self.state.polls[poll_id] = PollRecord(
            id=poll_id,
            chat_id=chat.id,
            message_id=msg.message_id,
            bot_token=bot.token,
            question=question,
            options=options,
            persistent_ids=[f"{poll_id}-{i}" for i in range(len(options))],
            is_anonymous=is_anonymous,
            poll_type=poll_type,
            allows_multiple_answers=params.get_bool("allows_multiple_answers"),
            correct_option_ids=[correct] if correct is not None else None,
            explanation=params.get_str("explanation"),
            open_period=params.get_int("open_period"),
            close_date=params.get_int("close_date"),
        )
        msg.poll_id = poll_id
        return self._finish_send(chat, msg)

    def m_stopPoll(self, bot: BotRecord, params: Params) -> JSON:
        chat = self.chat_for_bot(bot, params)
        msg = self._own_message(bot, chat, params, "message with poll to stop not found")
        if msg.poll_id is None:
            raise bad_request("message with poll to stop not found")
        if msg.bot_token != bot.token:
            raise bad_request("poll can't be stopped")
        poll = self.state.polls[msg.poll_id]
        if poll.closed:
            raise bad_request("poll has already been closed")
        poll.closed = True
        markup = self._check_markup(params.get_json("reply_markup"))
        if "reply_markup" in params:
            msg.reply_markup = markup
        self.state.enqueue(bot, "poll", self.state.poll_json(poll))
        self.state.changed()
        return self.state.poll_json(poll)

    # ------------------------------------------------------------------ editing
    def m_editMessageText(self, bot: BotRecord, params: Params) -> JSON:
        if "inline_message_id" in params:
            raise bad_request("inline messages are not supported by fakegram")
        chat = self.chat_for_bot(bot, params)
        msg = self._own_message(bot, chat, params, "message to edit not found")
        if msg.bot_token != bot.token:
            raise bad_request("message can't be edited")
        if msg.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities, html = self._text_and_entities(params, params.get_str("text") or "")
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        markup = self._check_markup(params.get_json("reply_markup"))
        if text == msg.text and entities == msg.entities and markup == msg.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        msg.text, msg.entities, msg.html, msg.reply_markup = text, entities, html, markup
        return self._edited(msg)

    def m_editMessageCaption(self, bot: BotRecord, params: Params) -> JSON:
        chat = self.chat_for_bot(bot, params)
        msg = self._own_message(bot, chat, params, "message to edit not found")
        if msg.bot_token != bot.token:
            raise bad_request("message can't be edited")
        if msg.file is None:
            raise bad_request("there is no caption in the message to edit")
        caption, entities, html = self._text_and_entities(
            params, params.get_str("caption") or "", "caption_entities"
        )
        markup = self._check_markup(params.get_json("reply_markup"))
        if (
            (caption or None) == msg.caption
            and entities == msg.caption_entities
            and (markup == msg.reply_markup)
        ):
            raise bad_request(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        msg.caption, msg.caption_entities, msg.html = caption or None, entities, html
        msg.reply_markup = markup
        return self._edited(msg)

    def m_editMessageReplyMarkup(self, bot: BotRecord, params: Params) -> JSON:
        if "inline_message_id" in params:
            raise bad_request("inline messages are not supported by fakegram")
        chat = self.chat_for_bot(bot, params)
        msg = self._own_message(bot, chat, params, "message to edit not found")
        if msg.bot_token != bot.token:
            raise bad_request("message can't be edited")
        markup = self._check_markup(params.get_json("reply_markup"))
        if markup == msg.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        msg.reply_markup = markup
        return self._edited(msg)

    def _edited(self, msg: MessageRecord) -> JSON:
        msg.edit_count += 1
        msg.edit_date = self.state.now()
        self.state.changed()
        return self.state.message_json(msg)

    def m_deleteMessage(self, bot: BotRecord, params: Params) -> bool:
        chat = self.chat_for_bot(bot, params)
        msg = self._own_message(bot, chat, params, "message to delete not found")
        if msg.bot_token != bot.token:
            member = chat.members.get(bot.user_id)
            can_delete = (
                chat.type != "private"
                and member is not None
                and (
                    member.status == "creator"
                    or (
                        member.status == "administrator"
                        and (member.rights or {}).get("can_delete_messages", True)
                    )
                )
            )
            if not can_delete:
                raise bad_request("message can't be deleted")
        msg.deleted = True
        self.state.changed()
        return True

    # ------------------------------------------------------------------ callbacks
    def m_answerCallbackQuery(self, bot: BotRecord, params: Params) -> bool:
        query_id = params.get_str("callback_query_id") or ""
        record = self.state.callbacks.get(query_id)
        too_old = bad_request(
            "query is too old and response timeout expired or query ID is invalid"
        )
        if record is None or record.bot_token != bot.token or record.answered:
            raise too_old
        if self.state.clock() - record.created_at > self.callback_query_max_age:
            raise too_old
        text = params.get_str("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.answer = {
            "text": text,
            "show_alert": params.get_bool("show_alert"),
            "url": params.get_str("url"),
            "cache_time": params.get_int("cache_time", 0),
        }
        self.state.changed()
        return True

    # ------------------------------------------------------------------ pins
    def _can_pin(self, bot: BotRecord, chat: ChatRecord) -> None:
        if chat.type == "private":
            return
        member = chat.members.get(bot.user_id)
        ok = member is not None and (
            member.status == "creator"
            or (
                member.status == "administrator"
                and (member.rights or {}).get("can_pin_messages", True)
            )
        )
        if not ok:
            raise bad_request("not enough rights to manage pinned messages in the chat")

    def m_pinChatMessage(self, bot: BotRecord, params: Params) -> bool:
        chat = self.chat_for_bot(bot, params)
        self._can_pin(bot, chat)
        msg = self._own_message(bot, chat, params, "message to pin not found")
        msg.pinned = True
        service = self.state.post_service(
            chat, bot.user_id, pinned_message=self.state.message_json(msg, nested=True)
        )
        service.bot_token = bot.token
        self.state.deliver_message(chat, service)
        return True

    def m_unpinChatMessage(self, bot: BotRecord, params: Params) -> bool:
        chat = self.chat_for_bot(bot, params)
        self._can_pin(bot, chat)
        if "message_id" in params:
            msg = self._own_message(bot, chat, params, "message to unpin not found")
            msg.pinned = False
        else:
            pinned = [m for m in chat.messages.values() if m.pinned and not m.deleted]
            if pinned:
                pinned[-1].pinned = False
        self.state.changed()
        return True

    def m_unpinAllChatMessages(self, bot: BotRecord, params: Params) -> bool:
        chat = self.chat_for_bot(bot, params)
        self._can_pin(bot, chat)
        for m in chat.messages.values():
            m.pinned = False
        self.state.changed()
        return True

    # ------------------------------------------------------------------ chat info
    def m_getChat(self, bot: BotRecord, params: Params) -> JSON:
        chat = self.chat_for_bot(bot, params, write=False)
        pinned = [m for m in chat.messages.values() if m.pinned and not m.deleted]
        return shapes.chat_full_info(
            self.state.chat_json(chat),
            pinned_message=self.state.message_json(pinned[-1], nested=True) if pinned else None,
            description=chat.description,
        )

    def _user_param(self, params: Params) -> int:
        user_id = params.req_int("user_id", "user not found")
        if user_id not in self.state.users:
            raise bad_request("user not found")
        return user_id

    def m_getChatMember(self, bot: BotRecord, params: Params) -> JSON:
        chat = self.chat_for_bot(bot, params, write=False)
        user_id = self._user_param(params)
        if chat.type == "private" and user_id not in (chat.id, bot.user_id):
            raise bad_request("user not found")
        return self.state.member_json(chat, user_id)

    def m_getChatAdministrators(self, bot: BotRecord, params: Params) -> list[JSON]:
        chat = self.chat_for_bot(bot, params, write=False)
        if chat.type == "private":
            return [self.state.member_json(chat, chat.id)]
        return [self.state.member_json(chat, uid) for uid in chat.members if chat.is_admin(uid)]

    def m_getChatMemberCount(self, bot: BotRecord, params: Params) -> int:
        chat = self.chat_for_bot(bot, params, write=False)
        if chat.type == "private":
            return 2
        return sum(1 for uid in chat.members if chat.is_active_member(uid))

    # ------------------------------------------------------------------ commands & menu
    @staticmethod
    def _commands_key(params: Params) -> tuple[str, str]:
        scope = params.get_json("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get_str("language_code") or ""

    def m_setMyCommands(self, bot: BotRecord, params: Params) -> bool:
        commands = params.get_json("commands")
        if not isinstance(commands, list):
            raise bad_request("commands must be an array")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        cleaned: list[JSON] = []
        for c in commands:
            command = str(c.get("command", "")) if isinstance(c, dict) else ""
            description = str(c.get("description", "")) if isinstance(c, dict) else ""
            valid = 1 <= len(command) <= 32 and all(
                ch.islower() or ch.isdigit() or ch == "_" for ch in command
            )
            if not valid:
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request(
                    "BOT_COMMAND_DESCRIPTION_INVALID"
                    if description
                    else "command description is empty"
                )
            cleaned.append(shapes.bot_command(command, description))
        key = self._commands_key(params)
        if cleaned:
            bot.commands[key] = cleaned
        else:
            bot.commands.pop(key, None)
        return True

    def m_getMyCommands(self, bot: BotRecord, params: Params) -> list[JSON]:
        return list(bot.commands.get(self._commands_key(params), []))

    def m_deleteMyCommands(self, bot: BotRecord, params: Params) -> bool:
        bot.commands.pop(self._commands_key(params), None)
        return True

    def m_setChatMenuButton(self, bot: BotRecord, params: Params) -> bool:
        chat_id = params.get_int("chat_id")
        if chat_id is not None:
            self.chat_for_bot(bot, params, write=False)
        button = params.get_json("menu_button") or {"type": "default"}
        bot.menu_buttons[chat_id] = button
        return True

    def m_getChatMenuButton(self, bot: BotRecord, params: Params) -> JSON:
        chat_id = params.get_int("chat_id")
        button = bot.menu_buttons.get(chat_id) or bot.menu_buttons.get(None)
        return button or {"type": "commands"}

    def m_getFile(self, bot: BotRecord, params: Params) -> JSON:
        file_id = params.get_str("file_id") or ""
        stored = self.state.files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": f"{stored.kind}s/{stored.file_id}",
        }
