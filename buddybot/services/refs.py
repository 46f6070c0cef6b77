"""What services need to know about the chat and the person behind an update.

Built by the handlers from Telegram objects, so services never see ``telegram`` types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ChatKind = Literal["private", "group", "supergroup", "channel"]


@dataclass(frozen=True, slots=True)
class ActorRef:
    tg_user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True, slots=True)
class ChatRef:
    tg_chat_id: int
    kind: ChatKind
    title: str | None = None

    @property
    def is_group(self) -> bool:
        return self.kind in ("group", "supergroup")


@dataclass(frozen=True, slots=True)
class Authority:
    """What the handler learned from Telegram about the actor's rights in this chat."""

    telegram_admin: bool = False
    anonymous_admin: bool = False


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone the bot writes to privately, in their language."""

    tg_user_id: int
    language: str | None
    tg_language_code: str | None
