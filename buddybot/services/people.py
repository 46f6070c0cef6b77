"""Who is talking: people, their memberships of wijken, their language and roles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, literal_column, select, update

from buddybot.domain import language
from buddybot.domain.roles import Role, is_facilitator, may_appoint
from buddybot.i18n import supported
from buddybot.services.errors import NotAllowed, Refusal
from buddybot.services.refs import ActorRef, Authority, ChatRef
from buddybot.settings import LANGUAGES
from buddybot.storage import queries
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Membership, Person, Wijk

# "Last seen" is for figures like "active in 30 days"; writing it on every message would
# turn every read-only command into a write.
SEEN_GRANULARITY = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Policy:
    """Deployment-wide facts the services need (from settings)."""

    superadmins: frozenset[int] = frozenset()
    default_language: str = "nl"
    timezone: str = "Europe/Amsterdam"


@dataclass(frozen=True, slots=True)
class WijkView:
    """A wijk as read for one update. Read with Core, not loaded as an ORM object: ``identify``
    runs for every update, and the ORM's execution path cost more than everything else it
    does (issue 10). A service that changes the wijk loads it (``wijk_to_change``)."""

    id: int
    tg_chat_id: int
    title: str
    language: str
    timezone: str
    settings: dict[str, Any]
    profile: dict[str, Any]
    active: bool


@dataclass(frozen=True, slots=True)
class PersonView:
    """A person as read for one update (see ``WijkView``; ``person_to_change``)."""

    id: int
    tg_user_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language: str | None
    tg_language_code: str | None
    private_ok: bool
    show_name: bool
    contact_ok: bool
    no_nudges: bool
    erased: bool


@dataclass(frozen=True, slots=True)
class MemberView:
    id: int
    role: str
    left: bool
    last_seen_at: datetime


AnyWijk = Wijk | WijkView
AnyPerson = Person | PersonView


@dataclass(slots=True)
class Caller:
    """The person behind an update, in the wijk of the chat (if it is a group)."""

    person: PersonView | None  # None for an anonymous admin: identity unknown
    wijk: WijkView | None
    membership: MemberView | None
    facilitator: bool
    superadmin: bool
    language: str  # the language to answer in, in this chat
    authority: Authority

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None


def display_name(person: AnyPerson | None) -> str:
    if person is None:
        return ""
    return name_of(person.erased, person.first_name, person.last_name, person.username)


def name_of(erased: bool | None, first: str | None, last: str | None, username: str | None) -> str:
    """``display_name`` from a person's columns (a row read with Core; all None when an
    outer join found nobody)."""
    return "" if erased else full_name(first, last, username)


def full_name(first: str | None, last: str | None, username: str | None) -> str:
    return " ".join(p for p in (first, last) if p) or (username or "")


# Built once: they run for nearly every update, and building a statement costs more than
# SQLite takes to run it (measured in issue 10: 230 µs of 400).
WIJK_COLUMNS = (
    Wijk.id,
    Wijk.tg_chat_id,
    Wijk.title,
    Wijk.language,
    Wijk.timezone,
    Wijk.settings,
    Wijk.profile,
    Wijk.active,
)
PERSON_COLUMNS = (
    Person.id,
    Person.tg_user_id,
    Person.first_name,
    Person.last_name,
    Person.username,
    Person.language,
    Person.tg_language_code,
    Person.private_ok,
    Person.show_name,
    Person.contact_ok,
    Person.no_nudges,
    Person.erased,
)
MEMBER_COLUMNS = (Membership.id, Membership.role, Membership.left, Membership.last_seen_at)
_IN_GROUP = (
    select(*WIJK_COLUMNS, *PERSON_COLUMNS, *MEMBER_COLUMNS)
    .select_from(Wijk)
    .outerjoin(Person, Person.tg_user_id == bindparam("user"))
    .outerjoin(Membership, and_(Membership.wijk_id == Wijk.id, Membership.person_id == Person.id))
    .where(Wijk.tg_chat_id == bindparam("chat"))
)
_PERSON_BY_TG = select(*PERSON_COLUMNS).where(Person.tg_user_id == bindparam("user"))
_MEMBER_OF = select(*MEMBER_COLUMNS).where(
    Membership.wijk_id == bindparam("wijk"), Membership.person_id == bindparam("person")
)
_SEEN = (
    update(Membership)
    .where(Membership.id == bindparam("member"))
    .values(last_seen_at=bindparam("at"), left=False)
)
_RENAMED = (
    update(Person)
    .where(Person.id == bindparam("person"))
    .values(
        first_name=bindparam("first"),
        last_name=bindparam("last"),
        username=bindparam("username"),
        tg_language_code=bindparam("code"),
        updated_at=bindparam("at"),
    )
)
_PRIVATE_OK = update(Person).where(Person.id == bindparam("person")).values(private_ok=True)
_W, _P = len(WIJK_COLUMNS), len(WIJK_COLUMNS) + len(PERSON_COLUMNS)


def _in_group(
    uow: UnitOfWork, tg_chat_id: int, actor: ActorRef | None
) -> tuple[WijkView | None, PersonView | None, MemberView | None]:
    params = {"chat": tg_chat_id, "user": actor.tg_user_id if actor else None}
    row = (uow.session.execute(_IN_GROUP, params)).one_or_none()
    if row is None:
        return None, None, None
    wijk, person, member = views(row)
    return wijk, person, member


def views(
    row: Sequence[Any],
) -> tuple[WijkView, PersonView | None, MemberView | None]:
    """A row of WIJK_COLUMNS, PERSON_COLUMNS and MEMBER_COLUMNS (person and membership
    outer-joined) as views."""
    person = PersonView(*row[_W:_P]) if row[_W] is not None else None
    member = MemberView(*row[_P:]) if row[_P] is not None else None
    return WijkView(*row[:_W]), person, member


def ensure_person(
    uow: UnitOfWork, actor: ActorRef, known: PersonView | None = None
) -> PersonView:
    """The person behind ``actor``: created on first contact, their name kept up to date
    (Core statements; ``known``: already read, e.g. by ``identify``)."""
    params = {"user": actor.tg_user_id}
    if known is None:
        row = (uow.session.execute(_PERSON_BY_TG, params)).one_or_none()
        if row is None:
            _insert_person(uow, actor)
            row = (uow.session.execute(_PERSON_BY_TG, params)).one()
        known = PersonView(*row)
    names = (actor.first_name, actor.last_name, actor.username, actor.language_code)
    if not known.erased and names != (
        known.first_name,
        known.last_name,
        known.username,
        known.tg_language_code,
    ):
        first, last, username, code = names
        values = {"first": first, "last": last, "username": username, "code": code}
        uow.session.execute(_RENAMED, {"person": known.id, "at": uow.now, **values})
        known = replace(
            known, first_name=first, last_name=last, username=username, tg_language_code=code
        )
    return known


def member_seen(
    uow: UnitOfWork, wijk_id: int, person_id: int, known: MemberView | None
) -> MemberView:
    """``ensure_membership`` for ``identify`` and votes, on Core statements (a view, not
    the ORM object a change of role needs)."""
    if known is None:
        params = {"wijk": wijk_id, "person": person_id}
        row = (uow.session.execute(_MEMBER_OF, params)).one_or_none()
        if row is None:
            _insert_member(uow, wijk_id, person_id)
            row = (uow.session.execute(_MEMBER_OF, params)).one()
        known = MemberView(*row)
    if known.left or uow.now - known.last_seen_at >= SEEN_GRANULARITY:
        uow.session.execute(_SEEN, {"member": known.id, "at": uow.now})
        known = replace(known, left=False, last_seen_at=uow.now)
    return known


def _insert_person(uow: UnitOfWork, actor: ActorRef) -> None:
    queries.insert_ignore(
        uow.session,
        Person,
        {
            "tg_user_id": actor.tg_user_id,
            "first_name": actor.first_name,
            "last_name": actor.last_name,
            "username": actor.username,
            "tg_language_code": actor.language_code,
            "private_ok": False,
            "erased": False,
            "created_at": uow.now,
            "updated_at": uow.now,
        },
        ["tg_user_id"],
    )


def _insert_member(uow: UnitOfWork, wijk_id: int, person_id: int) -> None:
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


def person_to_change(uow: UnitOfWork, person: PersonView) -> Person:
    """The ORM object behind a view, for a service that changes the person."""
    found = uow.session.get(Person, person.id)
    assert found is not None
    return found


def wijk_to_change(uow: UnitOfWork, wijk: WijkView) -> Wijk:
    """The ORM object behind a view, for a service that changes the wijk."""
    found = uow.session.get(Wijk, wijk.id)
    assert found is not None
    return found


def ensure_membership(
    uow: UnitOfWork, wijk: AnyWijk, person: AnyPerson, known: Membership | None = None
) -> Membership:
    session = uow.session
    member = known or queries.membership(session, wijk.id, person.id)
    if member is None:
        _insert_member(uow, wijk.id, person.id)
        member = queries.membership(session, wijk.id, person.id)
        assert member is not None
    else:
        if member.left or uow.now - member.last_seen_at >= SEEN_GRANULARITY:
            member.last_seen_at = uow.now
        if member.left:  # setting it unchanged would still make the ORM flush
            member.left = False
    return member


def identify(
    uow: UnitOfWork,
    policy: Policy,
    chat: ChatRef | None,
    actor: ActorRef | None,
    authority: Authority | None = None,
) -> Caller:
    """Record that ``actor`` spoke in ``chat`` and work out their rights and language."""
    authority = authority or Authority()
    speaker = actor if actor is not None and not authority.anonymous_admin else None
    wijk, known_person, known_member = None, None, None
    if chat is not None and chat.is_group:
        # The wijk, the person and their membership in one query: the common case.
        wijk, known_person, known_member = _in_group(uow, chat.tg_chat_id, speaker)
    person = None
    member = None
    if speaker is not None:
        person = ensure_person(uow, speaker, known_person)
        if chat is not None and chat.kind == "private" and not person.private_ok:
            uow.session.execute(_PRIVATE_OK, {"person": person.id})
            person = replace(person, private_ok=True)
        if wijk is not None:
            member = member_seen(uow, wijk.id, person.id, known_member)
    superadmin = actor is not None and actor.tg_user_id in policy.superadmins
    facilitator = wijk is not None and is_facilitator(
        role=member.role if member else None,
        telegram_admin=authority.telegram_admin,
        anonymous_admin=authority.anonymous_admin,
        superadmin=superadmin,
    )
    if wijk is not None:
        lang = wijk.language
    else:
        chosen = person.language if person else None
        telegram_code = actor.language_code if actor else None
        home = None
        if person is not None and not chosen and not supported(telegram_code):
            home = _home_language(uow, person)
        lang = language.for_person(chosen, telegram_code, home, policy.default_language)
    return Caller(person, wijk, member, facilitator, superadmin, lang, authority)


def _home_language(uow: UnitOfWork, person: AnyPerson) -> str | None:
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


def require_facilitator(caller: Caller) -> WijkView:
    if caller.wijk is None:
        raise Refusal("group_only")
    if not caller.facilitator:
        raise NotAllowed()
    return caller.wijk


def set_person_language(uow: UnitOfWork, caller: Caller, code: str) -> str:
    lang = _language(code)
    if caller.person is None:
        raise Refusal("private_only")
    params = {"person": caller.person.id, "lang": lang, "at": uow.now}
    uow.session.execute(_SET_LANGUAGE, params)
    return lang


# Built once, run past the ORM: loading the person and flushing the change cost more than
# half of a /taal (issue 10).
_SET_LANGUAGE = (
    update(Person)
    .where(Person.id == bindparam("person"))
    .values(language=bindparam("lang"), updated_at=bindparam("at"))
)


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
    member = ensure_membership(uow, wijk, person)
    if role is Role.BUDDY and member.role != Role.BUDDY:
        # One buddy per wijk: the previous one becomes a facilitator.
        rows = uow.session.execute(
            select(Membership).where(Membership.wijk_id == wijk.id, Membership.role == Role.BUDDY)
        )
        for old in rows.scalars():
            old.role = Role.FACILITATOR.value
    granted = member.role != role
    member.role = role.value if granted else Role.RESIDENT.value
    return Appointment(display_name(person), role.value, granted)


@dataclass(frozen=True, slots=True)
class Team:
    buddy: list[str]
    facilitators: list[str]


# Built once, run past the ORM (/wie; building it and loading people cost half of one).
_TEAM = (
    select(Membership.role, Person.erased, Person.first_name, Person.last_name, Person.username)
    .join(Person, Person.id == Membership.person_id)
    .where(
        Membership.wijk_id == bindparam("wijk"),
        Membership.role.in_(
            [literal_column(f"'{r.value}'") for r in (Role.FACILITATOR, Role.BUDDY)]
        ),
        Membership.left.is_(False),
    )
    .order_by(Person.first_name)
)


def team(uow: UnitOfWork, wijk: AnyWijk) -> Team:
    buddy: list[str] = []
    facilitators: list[str] = []
    for role, erased, first, last, username in uow.session.execute(_TEAM, {"wijk": wijk.id}):
        name = name_of(erased, first, last, username)
        (buddy if role == Role.BUDDY else facilitators).append(name)
    return Team(buddy, facilitators)


def member_joined(uow: UnitOfWork, chat: ChatRef, actor: ActorRef) -> None:
    wijk = queries.wijk_by_chat(uow.session, chat.tg_chat_id)
    if wijk is not None:
        ensure_membership(uow, wijk, ensure_person(uow, actor))


def member_left(uow: UnitOfWork, chat: ChatRef, actor: ActorRef) -> None:
    wijk = queries.wijk_by_chat(uow.session, chat.tg_chat_id)
    person = queries.person_by_tg(uow.session, actor.tg_user_id)
    if wijk is None or person is None:
        return
    member = queries.membership(uow.session, wijk.id, person.id)
    if member is not None:
        member.left = True


# Built once, run past the ORM (a private /start reads it).
_MY_WIJKEN = (
    select(*WIJK_COLUMNS, Membership.role)
    .join(Membership, Membership.wijk_id == Wijk.id)
    .where(Membership.person_id == bindparam("person"), Membership.left.is_(False), Wijk.active)
    .order_by(Wijk.title)
)


def my_wijken(uow: UnitOfWork, person: AnyPerson) -> list[tuple[WijkView, str]]:
    rows = uow.session.execute(_MY_WIJKEN, {"person": person.id})
    return [(WijkView(*row[:_W]), row[_W]) for row in rows]


def wijk_chats_of(uow: UnitOfWork, tg_user_id: int) -> list[int]:
    """The group chat ids of the wijken a Telegram user takes part in."""
    person = queries.person_by_tg(uow.session, tg_user_id)
    if person is None:
        return []
    return [w.tg_chat_id for w, _ in my_wijken(uow, person)]
