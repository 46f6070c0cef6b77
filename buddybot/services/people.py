"""Who is talking: people, their memberships of wijken, their language and roles.

Services work with the ORM objects themselves (``Wijk``, ``Person``, ``Membership``), loaded
through the unit of work's session. A ``Caller`` holds the ones of the update's speaker; a
service that changes one of them goes through ``wijk_to_change`` / ``person_to_change``, so
the change lands in the session of the unit of work it runs in."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, bindparam, delete, select

from buddybot.domain import language
from buddybot.domain.plain_text import plain, plain_or_none
from buddybot.domain.roles import STEERING, Role, is_facilitator, may_appoint
from buddybot.i18n import supported
from buddybot.services.errors import NotAllowed, Refusal
from buddybot.services.refs import ActorRef, Authority, ChatRef
from buddybot.settings import LANGUAGES
from buddybot.storage import queries
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import (
    ErasedPerson,
    Idea,
    Involvement,
    Membership,
    Partner,
    PartnerInvite,
    Person,
    Wijk,
)

# "Last seen" is for figures like "active in 30 days"; writing it on every message would
# turn every read-only command into a write.
SEEN_GRANULARITY = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Policy:
    """Deployment-wide facts the services need (from settings)."""

    superadmins: frozenset[int] = frozenset()
    default_language: str = "nl"
    timezone: str = "Europe/Amsterdam"
    erasure_key: bytes = b""  # keys the hash of forgotten Telegram ids (see ``erased_hash``)


@dataclass(slots=True)
class Caller:
    """The person behind an update, in the wijk of the chat (if it is a group)."""

    person: Person | None  # None for an anonymous admin: identity unknown
    wijk: Wijk | None
    membership: Membership | None
    facilitator: bool
    superadmin: bool
    language: str  # the language to answer in, in this chat
    authority: Authority

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None


def display_name(person: Person | None) -> str:
    if person is None:
        return ""
    return "" if person.erased else full_name(person.first_name, person.last_name, person.username)


def full_name(first: str | None, last: str | None, username: str | None) -> str:
    return " ".join(p for p in (first, last) if p) or (username or "")


# Runs for every update from a group: built once (see ideas.py on building statements).
_IN_GROUP = (
    select(Wijk, Person, Membership)
    .select_from(Wijk)
    .outerjoin(Person, Person.tg_user_id == bindparam("user"))
    .outerjoin(Membership, and_(Membership.wijk_id == Wijk.id, Membership.person_id == Person.id))
    .where(Wijk.tg_chat_id == bindparam("chat"))
)


def _in_group(
    uow: UnitOfWork, tg_chat_id: int, actor: ActorRef | None
) -> tuple[Wijk | None, Person | None, Membership | None]:
    """The wijk of a group chat, with the speaker and their membership when known."""
    if actor is None:
        return queries.wijk_by_chat(uow.session, tg_chat_id), None, None
    row = uow.session.execute(
        _IN_GROUP, {"chat": tg_chat_id, "user": actor.tg_user_id}
    ).one_or_none()
    if row is None:
        return None, None, None
    return row.Wijk, row.Person, row.Membership


def erased_hash(policy: Policy, tg_user_id: int) -> str:
    """The keyed hash (HMAC-SHA256) kept of a forgotten Telegram id: it recognises the id
    again, but cannot be turned back into it without the key."""
    return hmac.new(policy.erasure_key, str(tg_user_id).encode(), hashlib.sha256).hexdigest()


def was_erased(uow: UnitOfWork, policy: Policy, tg_user_id: int) -> bool:
    return uow.session.get(ErasedPerson, erased_hash(policy, tg_user_id)) is not None


def ensure_person(uow: UnitOfWork, actor: ActorRef, known: Person | None = None) -> Person:
    """The person behind ``actor``: created on first contact, their name kept up to date
    (``known``: already loaded, e.g. by ``identify``)."""
    person = known or queries.person_by_tg(uow.session, actor.tg_user_id)
    if person is None:
        queries.insert_ignore(
            uow.session,
            Person,
            {
                "tg_user_id": actor.tg_user_id,
                "first_name": plain(actor.first_name),
                "last_name": plain_or_none(actor.last_name),
                "username": actor.username,
                "tg_language_code": actor.language_code,
                "private_ok": False,
                "erased": False,
                "created_at": uow.now,
                "updated_at": uow.now,
            },
            ["tg_user_id"],
        )
        person = queries.person_by_tg(uow.session, actor.tg_user_id)
        assert person is not None
    names = (
        plain(actor.first_name),
        plain_or_none(actor.last_name),
        actor.username,
        actor.language_code,
    )
    if not person.erased and names != (
        person.first_name,
        person.last_name,
        person.username,
        person.tg_language_code,
    ):
        person.first_name, person.last_name, person.username, person.tg_language_code = names
        person.updated_at = uow.now
    return person


def member_seen(
    uow: UnitOfWork, wijk_id: int, person_id: int, known: Membership | None = None
) -> Membership:
    """The person's membership of the wijk: created on first contact, back from "left", and
    "last seen" kept to within ``SEEN_GRANULARITY``."""
    member = known or queries.membership(uow.session, wijk_id, person_id)
    if member is None:
        queries.insert_ignore(
            uow.session,
            Membership,
            {
                "wijk_id": wijk_id,
                "person_id": person_id,
                "role": Role.RESIDENT.value,
                "left": False,
                "first_seen_at": uow.now,
                "last_seen_at": uow.now,
            },
            ["wijk_id", "person_id"],
        )
        member = queries.membership(uow.session, wijk_id, person_id)
        assert member is not None
    elif member.left or uow.now - member.last_seen_at >= SEEN_GRANULARITY:
        member.last_seen_at = uow.now
        member.left = False
    return member


def person_to_change(uow: UnitOfWork, person: Person) -> Person:
    """The person as an object of this unit of work's session (the same object when it was
    loaded here), for a service that changes it."""
    found = uow.session.get(Person, person.id)
    assert found is not None
    return found


def wijk_to_change(uow: UnitOfWork, wijk: Wijk) -> Wijk:
    """The wijk as an object of this unit of work's session, for a service that changes it."""
    found = uow.session.get(Wijk, wijk.id)
    assert found is not None
    return found


def identify(
    uow: UnitOfWork,
    policy: Policy,
    chat: ChatRef | None,
    actor: ActorRef | None,
    authority: Authority | None = None,
    *,
    remember: bool = True,
) -> Caller:
    """Record that ``actor`` spoke in ``chat`` and work out their rights and language.

    ``remember=False``: the update needs no record of the person (a plain message, a
    question like /hulp). Someone who asked to be forgotten is then not stored again: the
    caller has no person (as for an anonymous admin)."""
    authority = authority or Authority()
    speaker = actor if actor is not None and not authority.anonymous_admin else None
    wijk, known_person, known_member = None, None, None
    if chat is not None and chat.is_group:
        wijk, known_person, known_member = _in_group(uow, chat.tg_chat_id, speaker)
    person = None
    member = None
    if speaker is not None and not remember and known_person is None:
        known_person = queries.person_by_tg(uow.session, speaker.tg_user_id)
        if known_person is None and was_erased(uow, policy, speaker.tg_user_id):
            speaker = None
    if speaker is not None:
        person = ensure_person(uow, speaker, known_person)
        if chat is not None and chat.kind == "private" and not person.private_ok:
            person.private_ok = True
        if wijk is not None:
            member = member_seen(uow, wijk.id, person.id, known_member)
    superadmin = actor is not None and actor.tg_user_id in policy.superadmins
    facilitator = wijk is not None and is_facilitator(
        role=member.role if member else None,
        telegram_admin=authority.telegram_admin,
        anonymous_admin=authority.anonymous_admin,
        superadmin=superadmin,
    )
    return Caller(
        person=person,
        wijk=wijk,
        membership=member,
        facilitator=facilitator,
        superadmin=superadmin,
        language=wijk.language if wijk else _private_language(uow, policy, person, actor),
        authority=authority,
    )


def _private_language(
    uow: UnitOfWork, policy: Policy, person: Person | None, actor: ActorRef | None
) -> str:
    """The language to answer in outside a wijk's group: the person's choice, their
    Telegram language, or that of a wijk they take part in."""
    chosen = person.language if person else None
    telegram_code = actor.language_code if actor else None
    home = None
    if person is not None and not chosen and not supported(telegram_code):
        home = _home_language(uow, person)
    return language.for_person(chosen, telegram_code, home, policy.default_language)


def _home_language(uow: UnitOfWork, person: Person) -> str | None:
    """The language of a wijk the person takes part in (for private chats)."""
    return uow.session.scalar(
        select(Wijk.language)
        .join(Membership, Membership.wijk_id == Wijk.id)
        .where(Membership.person_id == person.id, Membership.left.is_(False))
        .order_by(Membership.last_seen_at.desc())
        .limit(1)
    )


def wijk_language(uow: UnitOfWork, tg_chat_id: int) -> str | None:
    wijk = queries.wijk_by_chat(uow.session, tg_chat_id)
    return wijk.language if wijk else None


def require_facilitator(caller: Caller) -> Wijk:
    if caller.wijk is None:
        raise Refusal("group_only")
    if not caller.facilitator:
        raise NotAllowed()
    return caller.wijk


def steers(uow: UnitOfWork, policy: Policy, tg_chat_id: int, tg_user_id: int) -> bool:
    """An appointed facilitator or the buddy of the group's wijk (still in it), or a
    super-admin: someone who steers the group, whatever Telegram says of them."""
    if tg_user_id in policy.superadmins:
        return True
    wijk = queries.wijk_by_chat(uow.session, tg_chat_id)
    person = queries.person_by_tg(uow.session, tg_user_id)
    if wijk is None or person is None:
        return False
    member = queries.membership(uow.session, wijk.id, person.id)
    return member is not None and not member.left and member.role in STEERING


def set_person_language(uow: UnitOfWork, caller: Caller, code: str) -> str:
    lang = _language(code)
    if caller.person is None:
        raise Refusal("private_only")
    person = person_to_change(uow, caller.person)
    person.language = lang
    person.updated_at = uow.now
    return lang


def _language(code: str) -> str:
    lang = supported(code.strip())
    if lang is None or code.strip().lower() not in LANGUAGES:
        raise Refusal("unknown_language", code=code.strip()[:16], choices=", ".join(LANGUAGES))
    return lang


def set_wijk_language(uow: UnitOfWork, caller: Caller, code: str) -> str:
    wijk = wijk_to_change(uow, require_facilitator(caller))
    lang = _language(code)
    wijk.language = lang
    wijk.updated_at = uow.now
    return lang


@dataclass(frozen=True, slots=True)
class Appointment:
    name: str
    role: str
    granted: bool  # False when the role was taken away


def appoint(
    uow: UnitOfWork,
    caller: Caller,
    target: ActorRef | None,
    role: Role,
    *,
    is_bot: bool = False,
) -> Appointment:
    """Give ``target`` (the author of the message the command replied to) a role in the
    caller's wijk, or take it back when they already have it."""
    wijk = caller.wijk
    if wijk is None:
        raise Refusal("group_only")
    if not may_appoint(
        telegram_admin=caller.authority.telegram_admin,
        anonymous_admin=caller.authority.anonymous_admin,
        superadmin=caller.superadmin,
    ):
        raise NotAllowed("admins_only")
    if is_bot:
        raise Refusal("not_a_person")
    if target is None:
        raise Refusal("reply_needed", command=role.value)
    person = ensure_person(uow, target)
    member = member_seen(uow, wijk.id, person.id)
    if role is Role.BUDDY and member.role != Role.BUDDY:
        # One buddy per wijk: the previous one becomes a facilitator.
        for old in uow.session.scalars(
            select(Membership).where(Membership.wijk_id == wijk.id, Membership.role == Role.BUDDY)
        ):
            old.role = Role.FACILITATOR.value
    granted = member.role != role
    member.role = role.value if granted else Role.RESIDENT.value
    return Appointment(name=display_name(person), role=role.value, granted=granted)


@dataclass(frozen=True, slots=True)
class Team:
    buddy: list[str]
    facilitators: list[str]
    tg_user_ids: list[int]  # everyone listed: a group message naming them goes when forgotten


def team(uow: UnitOfWork, wijk: Wijk) -> Team:
    buddy: list[str] = []
    facilitators: list[str] = []
    tg_user_ids: list[int] = []
    rows = uow.session.execute(
        select(Membership.role, Person)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.wijk_id == wijk.id,
            Membership.role.in_([Role.FACILITATOR.value, Role.BUDDY.value]),
            Membership.left.is_(False),
        )
        .order_by(Person.first_name)
    )
    for row in rows:
        (buddy if row.role == Role.BUDDY else facilitators).append(display_name(row.Person))
        tg_user_ids.append(row.Person.tg_user_id)
    return Team(buddy=buddy, facilitators=facilitators, tg_user_ids=tg_user_ids)


def member_joined(uow: UnitOfWork, policy: Policy, chat: ChatRef, actor: ActorRef) -> None:
    """Someone joined the group: remembered as a member, unless they asked to be forgotten
    (joining is no action that needs them stored)."""
    wijk = queries.wijk_by_chat(uow.session, chat.tg_chat_id)
    if wijk is None:
        return
    person = queries.person_by_tg(uow.session, actor.tg_user_id)
    if person is None and was_erased(uow, policy, actor.tg_user_id):
        return
    member_seen(uow, wijk.id, ensure_person(uow, actor, person).id)


def end_membership(uow: UnitOfWork, tg_chat_id: int, tg_user_id: int) -> list[int]:
    """Marks the membership as left and ends every role given in the wijk: facilitator or
    buddy becomes resident, and they stop being (or waiting to be) the champion of its
    ideas; the unused partner invitations they asked for stop working. Coming back gives
    nothing back. Returns the ideas whose card changed."""
    wijk = queries.wijk_by_chat(uow.session, tg_chat_id)
    person = queries.person_by_tg(uow.session, tg_user_id)
    if wijk is None or person is None:
        return []
    member = queries.membership(uow.session, wijk.id, person.id)
    if member is not None:
        # Seen leaving: the membership is pruned ``left_member_retention`` after this.
        member.left = True
        member.last_seen_at = uow.now
        member.role = Role.RESIDENT.value
    championed = list(
        uow.session.scalars(
            select(Involvement).where(
                Involvement.person_id == person.id,
                Involvement.kind == "champion",
                Involvement.idea_id.in_(select(Idea.id).where(Idea.wijk_id == wijk.id)),
            )
        )
    )
    for involvement in championed:
        uow.session.delete(involvement)
    # Partner invitations they asked for as a facilitator stop working with the role.
    uow.session.execute(
        delete(PartnerInvite)
        .where(
            PartnerInvite.created_by == person.id,
            PartnerInvite.used_at.is_(None),
            PartnerInvite.partner_id.in_(select(Partner.id).where(Partner.wijk_id == wijk.id)),
        )
        .execution_options(synchronize_session=False)
    )
    return sorted({i.idea_id for i in championed})


def my_wijken(uow: UnitOfWork, person: Person) -> list[tuple[Wijk, str]]:
    """The active wijken the person takes part in, with their role in each."""
    rows = uow.session.execute(
        select(Wijk, Membership.role)
        .join(Membership, Membership.wijk_id == Wijk.id)
        .where(Membership.person_id == person.id, Membership.left.is_(False), Wijk.active)
        .order_by(Wijk.title)
    )
    return [(row.Wijk, row.role) for row in rows]


def wijk_chats_of(uow: UnitOfWork, tg_user_id: int) -> list[int]:
    """The group chat ids of the wijken a Telegram user takes part in."""
    person = queries.person_by_tg(uow.session, tg_user_id)
    if person is None:
        return []
    return [w.tg_chat_id for w, _ in my_wijken(uow, person)]
