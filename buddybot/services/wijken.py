"""A wijk's life as a group chat: the bot is added, removed, re-added; the group migrates."""

from __future__ import annotations

from dataclasses import dataclass

from buddybot.domain.plain_text import plain
from buddybot.i18n import supported
from buddybot.scheduling import due
from buddybot.services import announcements
from buddybot.services.people import Policy, ensure_person, member_seen
from buddybot.services.refs import ActorRef, ChatRef
from buddybot.storage import queries
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Wijk


@dataclass(frozen=True, slots=True)
class Joined:
    wijk_id: int
    language: str
    rejoined: bool
    title: str


def bot_added(uow: UnitOfWork, policy: Policy, chat: ChatRef, by: ActorRef | None) -> Joined:
    """Register the group as a wijk, or wake up the wijk it already was."""
    session = uow.session
    wijk = queries.wijk_by_chat(session, chat.tg_chat_id)
    rejoined = wijk is not None
    if wijk is None:
        lang = supported(by.language_code if by else None) or policy.default_language
        queries.insert_ignore(
            session,
            Wijk,
            {
                "tg_chat_id": chat.tg_chat_id,
                "title": plain(chat.title or "")[:255],
                "language": lang,
                "timezone": policy.timezone,
                "settings": {},
                "active": True,
                "created_at": uow.now,
                "updated_at": uow.now,
            },
            ["tg_chat_id"],
        )
        wijk = queries.wijk_by_chat(session, chat.tg_chat_id)
        assert wijk is not None
    else:
        wijk.active = True
        wijk.title = plain(chat.title or wijk.title)[:255]
        wijk.updated_at = uow.now
        due.resume_wijk(uow, wijk.id)
    if by is not None:
        member_seen(uow, wijk.id, ensure_person(uow, by).id)
    announcements.plan_digest(uow, wijk.id)
    return Joined(wijk_id=wijk.id, language=wijk.language, rejoined=rejoined, title=wijk.title)


def bot_removed(uow: UnitOfWork, tg_chat_id: int) -> bool:
    """Keep everything, but stop talking to and scheduling for this wijk."""
    wijk = queries.wijk_by_chat(uow.session, tg_chat_id)
    if wijk is None or not wijk.active:
        return False
    wijk.active = False
    wijk.updated_at = uow.now
    due.pause_wijk(uow, wijk.id)
    return True


def migrated(uow: UnitOfWork, old_chat_id: int, new_chat_id: int) -> int | None:
    """The group became a supergroup: same wijk, new chat id, every row kept.

    Telegram may announce the bot in the new supergroup (my_chat_member) before the
    migration message arrives; the empty wijk that created is dropped, so the real one
    with all its ideas and people moves to the new id."""
    session = uow.session
    old = queries.wijk_by_chat(session, old_chat_id)
    if old is None:
        return None  # already done (both service messages arrive), or never known
    new = queries.wijk_by_chat(session, new_chat_id)
    if new is not None and new.id != old.id:
        session.delete(new)
        session.flush()
    old.tg_chat_id = new_chat_id
    old.active = True
    old.updated_at = uow.now
    session.flush()
    return old.id


def by_id(uow: UnitOfWork, wijk_id: int) -> Wijk | None:
    """The wijk, with its current chat id (it changes when the group migrates)."""
    return uow.session.get(Wijk, wijk_id)
