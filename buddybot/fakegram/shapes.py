"""The one factory module for every Bot API payload fakegram produces.

Everything returned to the bot or to tests is built here, in the exact shape of
the Bot API (as parsed by python-telegram-bot 22.8's ``de_json``). Dates are
integer seconds since the epoch. ``None`` values are left out, as Telegram does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

JSON = dict[str, Any]

GROUP_ANONYMOUS_BOT_ID = 1087968824
SERVICE_CHAT_ID = 777000

__all__ = [
    "GROUP_ANONYMOUS_BOT_ID",
    "JSON",
    "SERVICE_CHAT_ID",
    "accepted_gift_types",
    "bot_command",
    "callback_query",
    "chat",
    "chat_full_info",
    "chat_member",
    "chat_member_updated",
    "document",
    "error",
    "group_anonymous_bot",
    "message",
    "ok",
    "photo_sizes",
    "poll",
    "poll_answer",
    "poll_option",
    "update",
    "user",
    "webhook_info",
]


def _compact(data: Mapping[str, Any]) -> JSON:
    return {k: v for k, v in data.items() if v is not None}


def ok(result: Any) -> JSON:
    """A successful Bot API response body."""
    return {"ok": True, "result": result}


def error(code: int, description: str, parameters: Mapping[str, Any] | None = None) -> JSON:
    """A failed Bot API response body (``parameters`` e.g. retry_after, migrate_to_chat_id)."""
    body: JSON = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = dict(parameters)
    return body


def user(
    user_id: int,
    first_name: str,
    *,
    is_bot: bool = False,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = None,
    **extra: Any,
) -> JSON:
    """A ``User``. ``extra`` carries getMe-only fields such as ``can_join_groups``."""
    return _compact(
        {
            "id": user_id,
            "is_bot": is_bot,
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
            **extra,
        }
    )


def group_anonymous_bot() -> JSON:
    """The sender of messages written by anonymous group administrators."""
    return user(GROUP_ANONYMOUS_BOT_ID, "Group", is_bot=True, username="GroupAnonymousBot")


def chat(
    chat_id: int,
    chat_type: str,
    *,
    title: str | None = None,
    username: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> JSON:
    """A ``Chat`` (type: private, group, supergroup or channel)."""
    return _compact(
        {
            "id": chat_id,
            "type": chat_type,
            "title": title,
            "username": username,
            "first_name": first_name,
            "last_name": last_name,
        }
    )


def accepted_gift_types() -> JSON:
    return {
        "unlimited_gifts": False,
        "limited_gifts": False,
        "unique_gifts": False,
        "premium_subscription": False,
        "gifts_from_channels": False,
    }


def chat_full_info(
    base_chat: Mapping[str, Any],
    *,
    pinned_message: JSON | None = None,
    description: str | None = None,
    permissions: JSON | None = None,
) -> JSON:
    """A ``ChatFullInfo`` (what getChat returns in Bot API 7.3+/PTB 21+)."""
    info = dict(base_chat)
    info.update(
        {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": accepted_gift_types(),
        }
    )
    if pinned_message is not None:
        info["pinned_message"] = pinned_message
    if description is not None:
        info["description"] = description
    if base_chat.get("type") in ("group", "supergroup"):
        info["permissions"] = permissions or {
            "can_send_messages": True,
            "can_send_polls": True,
            "can_send_other_messages": True,
            "can_add_web_page_previews": True,
            "can_change_info": False,
            "can_invite_users": True,
            "can_pin_messages": False,
        }
    return info


ADMIN_RIGHTS: tuple[str, ...] = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
)


def chat_member(
    member_user: JSON,
    status: str,
    *,
    until_date: int | None = None,
    is_anonymous: bool = False,
    custom_title: str | None = None,
    rights: Mapping[str, bool] | None = None,
    can_be_edited: bool = False,
) -> JSON:
    """A ``ChatMember*`` variant by status: creator, administrator, member, restricted,
    left or kicked. Administrators get every ``can_*`` flag (default all True except
    can_promote_members and can_manage_topics)."""
    data: JSON = {"status": status, "user": member_user}
    if status == "creator":
        data["is_anonymous"] = is_anonymous
        if custom_title:
            data["custom_title"] = custom_title
    elif status == "administrator":
        off = ("can_promote_members", "can_manage_topics")
        flags = {name: name not in off for name in ADMIN_RIGHTS}
        if rights:
            flags.update(rights)
        data.update({"can_be_edited": can_be_edited, "is_anonymous": is_anonymous, **flags})
        if custom_title:
            data["custom_title"] = custom_title
    elif status == "kicked":
        data["until_date"] = until_date or 0
    elif status == "restricted":
        data.update(
            {
                "is_member": True,
                "can_send_messages": False,
                "can_send_audios": False,
                "can_send_documents": False,
                "can_send_photos": False,
                "can_send_videos": False,
                "can_send_video_notes": False,
                "can_send_voice_notes": False,
                "can_send_polls": False,
                "can_send_other_messages": False,
                "can_add_web_page_previews": False,
                "can_change_info": False,
                "can_invite_users": False,
                "can_pin_messages": False,
                "can_manage_topics": False,
                "until_date": until_date or 0,
            }
        )
    elif status == "member" and until_date:
        data["until_date"] = until_date
    return data


def chat_member_updated(in_chat: JSON, from_user: JSON, date: int, old: JSON, new: JSON) -> JSON:
    """A ``ChatMemberUpdated`` (the payload of chat_member / my_chat_member updates)."""
    return {
        "chat": in_chat,
        "from": from_user,
        "date": date,
        "old_chat_member": old,
        "new_chat_member": new,
    }


def message(
    message_id: int,
    date: int,
    in_chat: JSON,
    *,
    from_user: JSON | None = None,
    sender_chat: JSON | None = None,
    text: str | None = None,
    entities: list[JSON] | None = None,
    caption: str | None = None,
    caption_entities: list[JSON] | None = None,
    reply_markup: JSON | None = None,
    reply_to_message: JSON | None = None,
    edit_date: int | None = None,
    **extra: Any,
) -> JSON:
    """A ``Message``. ``extra`` carries media and service fields (document, photo, poll,
    new_chat_members, left_chat_member, migrate_to_chat_id, pinned_message, ...)."""
    return _compact(
        {
            "message_id": message_id,
            "from": from_user,
            "sender_chat": sender_chat,
            "date": date,
            "chat": in_chat,
            "reply_to_message": reply_to_message,
            "edit_date": edit_date,
            "text": text,
            "entities": entities or None,
            "caption": caption,
            "caption_entities": caption_entities or None,
            "reply_markup": reply_markup,
            **extra,
        }
    )


def callback_query(
    query_id: str,
    from_user: JSON,
    chat_instance: str,
    *,
    msg: JSON | None = None,
    data: str | None = None,
) -> JSON:
    """A ``CallbackQuery`` from an inline button under ``msg``."""
    return _compact(
        {
            "id": query_id,
            "from": from_user,
            "message": msg,
            "chat_instance": chat_instance,
            "data": data,
        }
    )


def poll_option(text: str, voter_count: int, persistent_id: str) -> JSON:
    return {"text": text, "voter_count": voter_count, "persistent_id": persistent_id}


def poll(
    poll_id: str,
    question: str,
    options: list[JSON],
    *,
    total_voter_count: int,
    is_closed: bool,
    is_anonymous: bool,
    poll_type: str = "regular",
    allows_multiple_answers: bool = False,
    allows_revoting: bool = True,
    members_only: bool = False,
    correct_option_ids: list[int] | None = None,
    explanation: str | None = None,
    open_period: int | None = None,
    close_date: int | None = None,
) -> JSON:
    """A ``Poll`` with every field PTB 22.8 requires (allows_revoting, members_only, and
    persistent ids on options)."""
    return _compact(
        {
            "id": poll_id,
            "question": question,
            "options": options,
            "total_voter_count": total_voter_count,
            "is_closed": is_closed,
            "is_anonymous": is_anonymous,
            "type": poll_type,
            "allows_multiple_answers": allows_multiple_answers,
            "allows_revoting": allows_revoting,
            "members_only": members_only,
            "correct_option_ids": correct_option_ids,
            "explanation": explanation,
            "open_period": open_period,
            "close_date": close_date,
        }
    )


def poll_answer(
    poll_id: str,
    option_ids: list[int],
    option_persistent_ids: list[str],
    *,
    voter: JSON | None = None,
    voter_chat: JSON | None = None,
) -> JSON:
    """A ``PollAnswer`` (empty ``option_ids`` = vote retracted)."""
    return _compact(
        {
            "poll_id": poll_id,
            "user": voter,
            "voter_chat": voter_chat,
            "option_ids": option_ids,
            "option_persistent_ids": option_persistent_ids,
        }
    )


def document(
    file_id: str, file_unique_id: str, file_name: str | None, mime_type: str | None, size: int
) -> JSON:
    return _compact(
        {
            "file_id": file_id,
            "file_unique_id": file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": size,
        }
    )


def photo_sizes(file_id: str, file_unique_id: str, size: int) -> list[JSON]:
    """A photo as Telegram returns it: a list of sizes (here a thumbnail and the original)."""
    return [
        {
            "file_id": f"{file_id}-s",
            "file_unique_id": f"{file_unique_id}-s",
            "width": 90,
            "height": 90,
            "file_size": min(size, 1024),
        },
        {
            "file_id": file_id,
            "file_unique_id": file_unique_id,
            "width": 1280,
            "height": 960,
            "file_size": size,
        },
    ]


def bot_command(command: str, description: str) -> JSON:
    return {"command": command, "description": description}


def webhook_info(
    url: str,
    pending_update_count: int,
    *,
    max_connections: int = 40,
    allowed_updates: Iterable[str] | None = None,
    last_error_date: int | None = None,
    last_error_message: str | None = None,
) -> JSON:
    return _compact(
        {
            "url": url,
            "has_custom_certificate": False,
            "pending_update_count": pending_update_count,
            "max_connections": max_connections if url else None,
            "allowed_updates": (
                list(allowed_updates) if allowed_updates is not None and url else None
            ),
            "last_error_date": last_error_date,
            "last_error_message": last_error_message,
        }
    )


def update(update_id: int, kind: str, payload: JSON) -> JSON:
    """An ``Update`` with one payload field, e.g. ``update(7, "message", {...})``."""
    return {"update_id": update_id, kind: payload}
