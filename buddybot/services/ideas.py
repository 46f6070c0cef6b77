"""Ideas and the people behind them: supporters, helpers, wijkkampioenen.

Every action on an idea is an IdeaEvent; ``record`` also moves ``last_activity_at`` so the
quiet-idea rule is one indexed query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, select, update

from buddybot.domain import language, lifecycle, similar, themes
from buddybot.domain.lifecycle import State
from buddybot.domain.plain_text import plain
from buddybot.domain.roles import STEERING
from buddybot.domain.wijk_settings import WijkSettings
from buddybot.i18n import Plural
from buddybot.services.errors import NotAllowed, Refusal
from buddybot.services.people import Caller, display_name, person_to_change
from buddybot.services.refs import Recipient
from buddybot.storage import queries
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import (
    Idea,
    IdeaEvent,
    IdeaPartner,
    Involvement,
    Membership,
    Partner,
    Person,
    Wijk,
)

TITLE_MIN, TITLE_MAX = 3, 100
DESCRIPTION_MAX = 1000
UPDATE_MAX = 500
PAGE_SIZE = 8
OPEN_STATES = [s.value for s in lifecycle.OPEN]


class Kind(StrEnum):
    SUPPORTER = "supporter"
    HELPER = "helper"
    CHAMPION = "champion"


@dataclass(frozen=True, slots=True)
class People:
    """Who is behind an idea in one role: names of those who show them, and the count."""

    names: list[str]
    count: int


@dataclass(frozen=True, slots=True)
class Card:
    id: int
    wijk_id: int
    number: int
    title: str
    description: str
    status: State
    themes: list[str]
    hidden: bool
    author: str  # "" when unknown (erased, or the author keeps their name private)
    supporters: People
    helpers: People
    champions: People
    pending_champions: int
    latest_update: str | None
    card_chat_id: int | None
    card_message_id: int | None
    partners: list[str] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.status in lifecycle.OPEN


@dataclass(frozen=True, slots=True)
class Similar:
    id: int
    number: int
    title: str


@dataclass(frozen=True, slots=True)
class Proposed:
    card: Card | None  # None: not created yet, because it looks like an existing idea
    similar: list[Similar] = field(default_factory=list)
    title: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class Toggled:
    card: Card
    on: bool
    recruit: bool = False  # the idea just reached the threshold without a champion


@dataclass(frozen=True, slots=True)
class Helper:
    name: str
    username: str | None


@dataclass(frozen=True, slots=True)
class Kit:
    """What a new wijkkampioen gets in private: the idea and who to call on."""

    card: Card
    wijk_title: str
    helpers: list[Helper]
    same_interest: list[Helper] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Championed:
    card: Card
    confirmed: bool
    tg_user_id: int
    private_ok: bool
    kit: Kit | None
    name: str


@dataclass(frozen=True, slots=True)
class StatusChange:
    card: Card
    old: State
    new: State


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    number: int
    title: str
    status: State
    supporters: int
    helpers: int
    champions: int


@dataclass(frozen=True, slots=True)
class Page:
    lines: list[Line]
    page: int
    pages: int
    total: int


# -- reading ------------------------------------------------------------------------------


def _settings(wijk: Wijk) -> WijkSettings:
    return WijkSettings.load(wijk.settings)


def require_wijk(caller: Caller) -> Wijk:
    if caller.wijk is None:
        raise Refusal("group_only")
    return caller.wijk


def _require_person(caller: Caller) -> Person:
    if caller.person is None:
        raise Refusal("who_are_you")
    return caller.person


def caller_name(caller: Caller) -> str:
    return display_name(caller.person)


def check_can_propose(caller: Caller, on_behalf_of: str | None) -> None:
    """The checks of ``propose`` that need no text (before the bot asks for it)."""
    require_wijk(caller)
    _require_person(caller)
    if on_behalf_of is not None and not caller.facilitator:
        raise NotAllowed()


_STEERS = select(Membership.id).where(
    Membership.wijk_id == bindparam("wijk"),
    Membership.person_id == bindparam("person"),
    Membership.left.is_(False),
    Membership.role.in_(STEERING),
)


def is_own(uow: UnitOfWork, idea: Idea, person: Person | None) -> bool:
    """The person has an author's powers over the idea: they are its author, or they typed
    it in for someone offline (``entered_by_id``) and are still a facilitator or buddy of
    its wijk (an appointed role; a demoted or removed one keeps nothing of it)."""
    if person is None:
        return False
    if person.id == idea.author_id:
        return True
    if person.id != idea.entered_by_id:
        return False
    found = uow.session.scalar(_STEERS, {"wijk": idea.wijk_id, "person": person.id})
    return found is not None


def require_steer(uow: UnitOfWork, caller: Caller, idea: Idea) -> None:
    """Facilitators steer every idea; an author may only withdraw their own."""
    if not caller.facilitator and not is_own(uow, idea, caller.person):
        raise NotAllowed()


def person_language(uow: UnitOfWork, tg_user_id: int, default: str) -> str:
    person = queries.person_by_tg(uow.session, tg_user_id)
    if person is None:
        return default
    return language.for_person(person.language, person.tg_language_code, None, default)


def private_closed(uow: UnitOfWork, tg_user_id: int) -> None:
    """Telegram refused a private message: the person has to open the chat first."""
    person = queries.person_by_tg(uow.session, tg_user_id)
    if person is not None:
        person.private_ok = False


# Statements that run on nearly every press or command are built once, with bind
# parameters: on SQLite, building a statement cost about as much as running it.
_BY_NUMBER = select(Idea).where(Idea.wijk_id == bindparam("wijk"), Idea.number == bindparam("n"))
_WITH_AUTHOR = (
    select(Idea, Person)
    .outerjoin(Person, Person.id == Idea.author_id)
    .where(Idea.id == bindparam("idea"))
)
_INVOLVED = (
    select(Involvement, Person)
    .join(Person, Person.id == Involvement.person_id)
    .where(Involvement.idea_id == bindparam("idea"))
    .order_by(Involvement.created_at, Involvement.id)
)
_PARTNER_NAMES = (
    select(Partner.name)
    .join(IdeaPartner, IdeaPartner.partner_id == Partner.id)
    .where(IdeaPartner.idea_id == bindparam("idea"))
    .order_by(IdeaPartner.at, IdeaPartner.id)
)
_LATEST_NEWS = (
    select(IdeaEvent.detail)
    .where(IdeaEvent.idea_id == bindparam("idea"), IdeaEvent.kind == "update")
    .order_by(IdeaEvent.at.desc(), IdeaEvent.id.desc())
    .limit(1)
)


def find(uow: UnitOfWork, wijk: Wijk, number: int, *, hidden_ok: bool = False) -> Idea:
    idea = uow.session.scalar(_BY_NUMBER, {"wijk": wijk.id, "n": number})
    if idea is None or (idea.hidden and not hidden_ok):
        raise Refusal("unknown_idea", number=number)
    return idea


def _with_author(uow: UnitOfWork, idea_id: int) -> Idea | None:
    """The idea, and its author along with it: the card shown next names them."""
    row = uow.session.execute(_WITH_AUTHOR, {"idea": idea_id}).first()
    return None if row is None else row.Idea


def by_id(uow: UnitOfWork, caller: Caller, idea_id: int) -> Idea:
    """The idea behind a button: only in the wijk of the chat the button was pressed in."""
    wijk = require_wijk(caller)
    idea = _with_author(uow, idea_id)
    if idea is None or idea.wijk_id != wijk.id:
        raise Refusal("stale_button")
    if idea.hidden:
        raise Refusal("unknown_idea", number=idea.number)
    return idea


def _name(person: Person | None) -> str:
    if person is None or not person.show_name:
        return ""
    return display_name(person)


def _author(uow: UnitOfWork, idea: Idea) -> str:
    if idea.on_behalf_of:
        return idea.on_behalf_of
    if idea.author_id is None:
        return ""
    return _name(uow.session.get(Person, idea.author_id))


def card(uow: UnitOfWork, idea: Idea, *, new: bool = False) -> Card:
    """The idea as its card shows it. ``new``: just proposed in this transaction, so there is
    nobody involved, no news and no partner yet."""
    names: dict[str, list[str]] = {k.value: [] for k in Kind}
    counts = {k.value: 0 for k in Kind}
    pending = 0
    partner_names: list[str] = []
    news: dict[str, Any] | None = None
    if not new:
        involved = uow.session.execute(_INVOLVED, {"idea": idea.id})
        for row in involved:
            involvement = row.Involvement
            if involvement.kind == Kind.CHAMPION and not involvement.confirmed:
                pending += 1
                continue
            counts[involvement.kind] += 1
            if name := _name(row.Person):
                names[involvement.kind].append(name)
        partner_names = list(uow.session.scalars(_PARTNER_NAMES, {"idea": idea.id}))
        news = uow.session.scalar(_LATEST_NEWS, {"idea": idea.id})
    return Card(
        id=idea.id,
        wijk_id=idea.wijk_id,
        number=idea.number,
        title=idea.title,
        description=idea.description,
        status=State(idea.status),
        themes=list(idea.themes),
        hidden=idea.hidden,
        author=_author(uow, idea),
        supporters=People(names=names[Kind.SUPPORTER], count=counts[Kind.SUPPORTER]),
        helpers=People(names=names[Kind.HELPER], count=counts[Kind.HELPER]),
        champions=People(names=names[Kind.CHAMPION], count=counts[Kind.CHAMPION]),
        pending_champions=pending,
        latest_update=str(news["text"]) if news else None,
        card_chat_id=idea.card_chat_id,
        card_message_id=idea.card_message_id,
        partners=partner_names,
    )


def show(uow: UnitOfWork, caller: Caller, number: int) -> Card:
    return card(uow, find(uow, require_wijk(caller), number))


def card_by_id(uow: UnitOfWork, idea_id: int) -> Card | None:
    idea = _with_author(uow, idea_id)
    return None if idea is None else card(uow, idea)


# The wijk's ideas the list shows: open, not hidden (the wijk's id as parameter "wijk").
_OPEN = (Idea.wijk_id == bindparam("wijk"), Idea.hidden.is_(False), Idea.status.in_(OPEN_STATES))
_OPEN_COUNT = select(func.count()).where(*_OPEN)


def open_page(uow: UnitOfWork, caller: Caller, page: int) -> Page:
    """Open ideas, newest activity first, one page of them."""
    wijk = require_wijk(caller)
    page = max(page, 1)
    lines, total = _open_lines(uow, wijk, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    if not lines:  # past the last page, or nothing open: count, then the last page
        total = uow.session.scalar(_OPEN_COUNT, {"wijk": wijk.id}) or 0
        if total:
            page = -(-total // PAGE_SIZE)
            lines, total = _open_lines(uow, wijk, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return Page(lines=lines, page=min(page, pages), pages=pages, total=total)


def open_lines(uow: UnitOfWork, wijk: Wijk, *, offset: int = 0, limit: int) -> list[Line]:
    """Open ideas with their counts, newest activity first."""
    return _open_lines(uow, wijk, offset, limit)[0]


def _involved(kind: Kind, *also: ColumnElement[bool]) -> Any:
    return func.count(Involvement.id).filter(Involvement.kind == kind, *also).label(kind)


# The page first, then the counts of just those ideas: counting every involvement of the
# wijk would grow with its past. The window counts all open ideas, not only the page's (it
# is counted before the LIMIT).
_PAGE = (
    select(
        Idea.id,
        Idea.number,
        Idea.title,
        Idea.status,
        Idea.last_activity_at,
        func.count().over().label("total"),
    )
    .where(*_OPEN)
    .order_by(Idea.last_activity_at.desc(), Idea.number.desc())
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
    .subquery()
)
_PAGE_LINES = (
    select(
        _PAGE,
        _involved(Kind.SUPPORTER),
        _involved(Kind.HELPER),
        _involved(Kind.CHAMPION, Involvement.confirmed.is_(True)),
    )
    .select_from(_PAGE.outerjoin(Involvement, Involvement.idea_id == _PAGE.c.id))
    .group_by(*_PAGE.c)
    .order_by(_PAGE.c.last_activity_at.desc(), _PAGE.c.number.desc())
)


def _open_lines(uow: UnitOfWork, wijk: Wijk, offset: int, limit: int) -> tuple[list[Line], int]:
    """The lines and how many ideas are open in all (0 when there are no lines)."""
    rows = uow.session.execute(
        _PAGE_LINES, {"wijk": wijk.id, "offset": offset, "limit": limit}
    ).all()
    lines = [
        Line(
            id=row.id,
            number=row.number,
            title=row.title,
            status=State(row.status),
            supporters=row.supporter,
            helpers=row.helper,
            champions=row.champion,
        )
        for row in rows
    ]
    return lines, rows[0].total if rows else 0


# -- proposing ----------------------------------------------------------------------------


def split_text(text: str) -> tuple[str, str]:
    """First line is the title, the lines after it the description."""
    first, _, rest = text.strip().partition("\n")
    return " ".join(first.split()), rest.strip()


def _validate(title: str, description: str) -> None:
    if len(title) < TITLE_MIN:
        raise Refusal("title_short", minimum=TITLE_MIN)
    if len(title) > TITLE_MAX:
        raise Refusal("title_long", maximum=TITLE_MAX, length=len(title))
    if len(description) > DESCRIPTION_MAX:
        raise Refusal("description_long", maximum=DESCRIPTION_MAX, length=len(description))


def record(
    uow: UnitOfWork,
    idea: Idea,
    actor: Person | None,
    kind: str,
    *,
    in_wijk: Wijk | None = None,
    **detail: object,
) -> None:
    """Log the action and mark the idea active: activity starts the quiet-idea ladder again,
    and closed ideas are never nudged. ``in_wijk``: the idea's wijk, when the caller has it."""
    uow.session.add(
        IdeaEvent(
            idea_id=idea.id,
            actor_id=actor.id if actor else None,
            kind=kind,
            detail=detail,
            at=uow.now,
        )
    )
    idea.last_activity_at = uow.now
    idea.nudge_level = 0
    open_ = State(idea.status) in lifecycle.OPEN
    idea.nudge_due_at = _first_nudge(uow, idea.wijk_id, in_wijk) if open_ else None


def record_by_id(
    uow: UnitOfWork,
    idea_id: int,
    actor: Person | None,
    kind: str,
    *,
    in_wijk: Wijk | None = None,
    **detail: object,
) -> None:
    """``record`` for an idea known by its id (a vote for it). ``in_wijk``: the wijk the
    idea should be in; nothing is recorded when it is not (or the idea is gone)."""
    idea = uow.session.get(Idea, idea_id)
    if idea is None or (in_wijk is not None and idea.wijk_id != in_wijk.id):
        return
    record(uow, idea, actor, kind, in_wijk=in_wijk, **detail)


def _first_nudge(uow: UnitOfWork, wijk_id: int, wijk: Wijk | None = None) -> datetime:
    """When an open idea of that wijk, active now, is first nudged."""
    if wijk is None or wijk.id != wijk_id:
        wijk = uow.session.get(Wijk, wijk_id)
    settings = _settings(wijk) if wijk is not None else WijkSettings()
    return uow.now + timedelta(seconds=settings.nudge_after)


_RECENT_BY = select(func.count()).where(
    Idea.wijk_id == bindparam("wijk"),
    func.coalesce(Idea.entered_by_id, Idea.author_id) == bindparam("person"),
    Idea.created_at > bindparam("since"),
)
_CANDIDATES = select(Idea.id, Idea.number, Idea.title).where(*_OPEN)
_LAST_NUMBER = select(func.max(Idea.number)).where(Idea.wijk_id == bindparam("wijk"))


def propose(
    uow: UnitOfWork,
    caller: Caller,
    text: str,
    *,
    on_behalf_of: str | None = None,
    force: bool = False,
) -> Proposed:
    """A new idea from ``text`` (title line + description). Looks like an open idea of the
    wijk? Then nothing is created (unless ``force``) and the look-alikes are returned."""
    wijk = require_wijk(caller)
    person = _require_person(caller)
    check_can_propose(caller, on_behalf_of)
    if on_behalf_of is not None:
        on_behalf_of = " ".join(plain(on_behalf_of).split())[:100]
        if not on_behalf_of:
            raise Refusal("behalf_name")
    title, description = split_text(plain(text))
    _validate(title, description)
    settings = _settings(wijk)
    if on_behalf_of is None:
        recent = uow.session.scalar(
            _RECENT_BY,
            {"wijk": wijk.id, "person": person.id, "since": uow.now - timedelta(hours=1)},
        )
        if (recent or 0) >= settings.ideas_per_hour:
            raise Refusal("too_many_ideas", limit=Plural("count.ideas", settings.ideas_per_hour))
    if not force:
        candidates = uow.session.execute(_CANDIDATES, {"wijk": wijk.id}).all()
        close = similar.closest(title, [(c.id, c.title) for c in candidates])
        if close:
            by_id = {c.id: c for c in candidates}
            found = [Similar(id=i, number=by_id[i].number, title=by_id[i].title) for i, _ in close]
            return Proposed(card=None, similar=found, title=title, description=description)
    last = uow.session.scalar(_LAST_NUMBER, {"wijk": wijk.id})
    idea = Idea(
        wijk_id=wijk.id,
        number=(last or 0) + 1,
        title=title,
        description=description,
        author_id=None if on_behalf_of else person.id,
        on_behalf_of=on_behalf_of,
        entered_by_id=person.id,
        themes=themes.detect(f"{title}\n{description}"),
        status=State.PROPOSED.value,
        hidden=False,
        created_at=uow.now,
        last_activity_at=uow.now,
        nudge_level=0,
        nudge_due_at=_first_nudge(uow, wijk.id, wijk),
    )
    uow.session.add(idea)
    uow.session.flush()
    record(uow, idea, person, "proposed", in_wijk=wijk, on_behalf_of=on_behalf_of)
    return Proposed(card=card(uow, idea, new=True))


_REMEMBER_CARD = (
    update(Idea)
    .where(Idea.id == bindparam("idea"))
    .values(card_chat_id=bindparam("chat"), card_message_id=bindparam("message"))
)


def remember_card(uow: UnitOfWork, idea_id: int, tg_chat_id: int, message_id: int) -> None:
    uow.session.execute(
        _REMEMBER_CARD, {"idea": idea_id, "chat": tg_chat_id, "message": message_id}
    )


# -- taking part --------------------------------------------------------------------------


def _require_open(idea: Idea) -> None:
    if State(idea.status) not in lifecycle.OPEN:
        raise Refusal("idea_closed", number=idea.number)


def _involvement(uow: UnitOfWork, idea: Idea, person: Person, kind: Kind) -> Involvement | None:
    return uow.session.scalar(
        select(Involvement).where(
            Involvement.idea_id == idea.id,
            Involvement.person_id == person.id,
            Involvement.kind == kind,
        )
    )


_CONFIRMED_CHAMPION = select(Involvement.id).where(
    Involvement.idea_id == bindparam("idea"),
    Involvement.person_id == bindparam("person"),
    Involvement.kind == Kind.CHAMPION.value,
    Involvement.confirmed.is_(True),
)


def is_champion(uow: UnitOfWork, idea: Idea, person: Person | None) -> bool:
    """A *confirmed* wijkkampioen of the idea: the one test behind every champion power.
    A volunteer still waiting for a facilitator's confirmation has none of them."""
    if person is None:
        return False
    found = uow.session.scalar(_CONFIRMED_CHAMPION, {"idea": idea.id, "person": person.id})
    return found is not None


_UNINVOLVE = delete(Involvement).where(
    Involvement.idea_id == bindparam("idea"),
    Involvement.person_id == bindparam("person"),
    Involvement.kind == bindparam("kind"),
)
_RECRUITED = select(func.count()).where(
    IdeaEvent.idea_id == bindparam("idea"), IdeaEvent.kind == "recruit"
)


def toggle(
    uow: UnitOfWork, caller: Caller, idea: Idea, kind: Kind, *, only_on: bool = False
) -> Toggled:
    """Support (or help with) an idea; a second time takes it back (unless ``only_on``)."""
    person = _require_person(caller)
    _require_open(idea)
    # Inserted unless there already: of two presses at once, one adds and one takes back.
    added = queries.insert_ignore(
        uow.session,
        Involvement,
        {
            "idea_id": idea.id,
            "person_id": person.id,
            "kind": kind.value,
            "confirmed": True,
            "created_at": uow.now,
        },
        ["idea_id", "person_id", "kind"],
    )
    if not added and only_on:
        return Toggled(card=card(uow, idea), on=True)
    if not added:  # involved already: a second press takes it back
        uow.session.execute(_UNINVOLVE, {"idea": idea.id, "person": person.id, "kind": kind.value})
        record(uow, idea, person, f"un{kind.value}", in_wijk=caller.wijk)
        return Toggled(card=card(uow, idea), on=False)
    record(uow, idea, person, kind.value, in_wijk=caller.wijk)
    result = card(uow, idea)
    recruit = False
    if kind is Kind.SUPPORTER and caller.wijk is not None:
        threshold = _settings(caller.wijk).recruit_threshold
        if result.supporters.count >= threshold and result.champions.count == 0:
            asked = uow.session.scalar(_RECRUITED, {"idea": idea.id})
            if not asked:
                record(
                    uow,
                    idea,
                    None,
                    "recruit",
                    in_wijk=caller.wijk,
                    supporters=result.supporters.count,
                )
                recruit = True
    return Toggled(card=result, on=True, recruit=recruit)


def toggle_by_id(
    uow: UnitOfWork, caller: Caller, idea_id: int, kind: Kind, *, only_on: bool = False
) -> Toggled:
    """``toggle`` behind a button."""
    return toggle(uow, caller, by_id(uow, caller, idea_id), kind, only_on=only_on)


def toggle_number(uow: UnitOfWork, caller: Caller, number: int, kind: Kind) -> Toggled:
    return toggle(uow, caller, find(uow, require_wijk(caller), number), kind)


def kit(uow: UnitOfWork, idea: Idea, champion: Person | None = None) -> Kit:
    wijk = uow.session.get(Wijk, idea.wijk_id)
    assert wijk is not None
    rows = uow.session.scalars(
        select(Person)
        .join(Involvement, Involvement.person_id == Person.id)
        .where(Involvement.idea_id == idea.id, Involvement.kind == Kind.HELPER)
        .order_by(Involvement.created_at)
    )
    # Helpers chose to help, so the champion may contact them.
    helpers = [
        Helper(name=display_name(p), username=p.username)
        for p in rows
        if not p.erased and (champion is None or p.id != champion.id)
    ]
    return Kit(
        card=card(uow, idea),
        wijk_title=wijk.title,
        helpers=helpers,
        same_interest=same_interest(uow, idea),
    )


def same_interest(uow: UnitOfWork, idea: Idea, limit: int = 5) -> list[Helper]:
    """Neighbours behind other open ideas of the wijk with a theme in common, who said a
    champion may contact them (``contact_ok``)."""
    if not idea.themes:
        return []
    others = [
        i
        for i in uow.session.scalars(
            select(Idea).where(
                Idea.wijk_id == idea.wijk_id,
                Idea.id != idea.id,
                Idea.hidden.is_(False),
                Idea.status.in_([s.value for s in lifecycle.OPEN]),
            )
        )
        if set(i.themes) & set(idea.themes)
    ]
    if not others:
        return []
    already = select(Involvement.person_id).where(Involvement.idea_id == idea.id)
    rows = uow.session.scalars(
        select(Person)
        .join(Involvement, Involvement.person_id == Person.id)
        .where(
            Involvement.idea_id.in_([i.id for i in others]),
            Person.contact_ok.is_(True),
            Person.erased.is_(False),
            Person.id.not_in(already),
        )
        .distinct()
        .limit(limit)
    )
    return [Helper(name=display_name(p), username=p.username) for p in rows]


def toggle_contact_ok(uow: UnitOfWork, caller: Caller) -> bool:
    person = person_to_change(uow, _require_person(caller))
    person.contact_ok = not person.contact_ok
    person.updated_at = uow.now
    return person.contact_ok


def volunteer(uow: UnitOfWork, caller: Caller, idea: Idea) -> Championed:
    """Step up as wijkkampioen. Confirmed at once unless the wijk wants a facilitator to
    confirm; at most ``max_champions`` per idea."""
    person = _require_person(caller)
    _require_open(idea)
    wijk = require_wijk(caller)
    settings = _settings(wijk)
    if _involvement(uow, idea, person, Kind.CHAMPION) is not None:
        raise Refusal("already_champion", number=idea.number)
    current = card(uow, idea)
    if current.champions.count + current.pending_champions >= settings.max_champions:
        raise Refusal(
            "champions_full",
            number=idea.number,
            maximum=Plural("count.champions", settings.max_champions),
        )
    confirmed = not settings.champion_confirmation
    uow.session.add(
        Involvement(
            idea_id=idea.id,
            person_id=person.id,
            kind=Kind.CHAMPION.value,
            confirmed=confirmed,
            created_at=uow.now,
        )
    )
    record(uow, idea, person, "champion" if confirmed else "champion_pending")
    return Championed(
        card=card(uow, idea),
        confirmed=confirmed,
        tg_user_id=person.tg_user_id,
        private_ok=person.private_ok,
        kit=kit(uow, idea, person) if confirmed else None,
        name=display_name(person),
    )


def confirm_champion(uow: UnitOfWork, caller: Caller, idea: Idea, tg_user_id: int) -> Championed:
    if not caller.facilitator:
        raise NotAllowed()
    _require_open(idea)
    person = queries.person_by_tg(uow.session, tg_user_id)
    pending = _involvement(uow, idea, person, Kind.CHAMPION) if person else None
    if person is None or pending is None:
        raise Refusal("stale_button")
    if pending.confirmed:
        raise Refusal("already_champion", number=idea.number)
    pending.confirmed = True
    record(uow, idea, caller.person, "champion", person=person.id)
    return Championed(
        card=card(uow, idea),
        confirmed=True,
        tg_user_id=person.tg_user_id,
        private_ok=person.private_ok,
        kit=kit(uow, idea, person),
        name=display_name(person),
    )


def champion_kit(uow: UnitOfWork, caller: Caller, idea_id: int) -> Kit:
    """The kit again, from a deep link in private: only for a confirmed champion of that
    idea who is still in its wijk, while the idea is visible and the wijk active."""
    person = _require_person(caller)
    idea = uow.session.get(Idea, idea_id)
    if idea is None or idea.hidden or not still_in_wijk(uow, idea, person):
        raise Refusal("not_champion")
    if not is_champion(uow, idea, person):
        raise Refusal("not_champion")
    return kit(uow, idea, person)


def still_in_wijk(uow: UnitOfWork, idea: Idea, person: Person) -> bool:
    """For buttons and links used outside the group (a private chat): the idea's wijk is
    active and the person is still a member of it (someone who left steers nothing)."""
    wijk = uow.session.get(Wijk, idea.wijk_id)
    member = queries.membership(uow.session, idea.wijk_id, person.id)
    return wijk is not None and wijk.active and member is not None and not member.left


@dataclass(frozen=True, slots=True)
class News:
    """A progress line: posted (``held`` False), or a helper's line held until a confirmed
    champion or the author approves it (``held_id`` the held event, ``ask`` who to ask)."""

    card: Card
    held: bool = False
    held_id: int | None = None
    ask: list[Recipient] = field(default_factory=list)
    text: str = ""


@dataclass(frozen=True, slots=True)
class Decided:
    """A champion's or author's answer to a helper's news."""

    card: Card
    approved: bool
    text: str
    helper: str  # the helper's name, for the line in the group
    helper_tg_user_id: int | None  # the group line names them (forgotten with them)
    helper_private: bool  # a "no" can be told privately
    helper_language: str | None
    tg_chat_id: int  # the idea's group
    group_language: str


HELD = "update_held"  # IdeaEvent kind of a helper's news waiting for approval


def _posts_news(uow: UnitOfWork, caller: Caller, idea: Idea, person: Person) -> bool:
    """Who posts news on an idea straight away: facilitators, its author, its confirmed
    champions."""
    return caller.facilitator or is_own(uow, idea, person) or is_champion(uow, idea, person)


def _is_helper(uow: UnitOfWork, idea: Idea, person: Person) -> bool:
    return _involvement(uow, idea, person, Kind.HELPER) is not None


def _approvers(uow: UnitOfWork, idea: Idea, helper: Person) -> list[Recipient]:
    """Who may approve a helper's news, and can be asked privately: the confirmed champions;
    when none of them can be reached privately, the author (or the facilitator who typed
    the idea in, while still one, ``is_own``). Only those still in the wijk."""
    champions = uow.session.scalars(
        select(Person)
        .join(Involvement, Involvement.person_id == Person.id)
        .where(
            Involvement.idea_id == idea.id,
            Involvement.kind == Kind.CHAMPION,
            Involvement.confirmed.is_(True),
        )
        .order_by(Involvement.created_at, Involvement.id)
    )
    found = _reachable(uow, idea, helper, list(champions))
    if found:
        return found
    ids = [i for i in dict.fromkeys((idea.author_id, idea.entered_by_id)) if i is not None]
    owners = [p for i in ids if (p := uow.session.get(Person, i)) and is_own(uow, idea, p)]
    return _reachable(uow, idea, helper, owners)


def _reachable(
    uow: UnitOfWork, idea: Idea, helper: Person, people: list[Person]
) -> list[Recipient]:
    out: list[Recipient] = []
    for person in people:
        if person.id == helper.id or person.erased or not person.private_ok:
            continue
        if still_in_wijk(uow, idea, person):
            out.append(Recipient(person.tg_user_id, person.language, person.tg_language_code))
    return out


def progress(uow: UnitOfWork, caller: Caller, number: int, text: str) -> News:
    """A progress line on the idea. Facilitators, its author and its confirmed champions
    post it at once; a helper's line waits for a champion's or the author's approval."""
    person = _require_person(caller)
    idea = find(uow, require_wijk(caller), number)
    text = plain(text).strip()
    if not text:
        raise Refusal("update_empty", number=number)
    if len(text) > UPDATE_MAX:
        raise Refusal("update_long", maximum=UPDATE_MAX, length=len(text))
    if _posts_news(uow, caller, idea, person):
        record(uow, idea, person, "update", text=text)
        return News(card=card(uow, idea), text=text)
    if not _is_helper(uow, idea, person):
        raise NotAllowed("update_who", number=number)
    ask = _approvers(uow, idea, person)
    if not ask:
        raise Refusal("update_no_approver", number=number)
    # Not activity yet (no ``record``): only approved news counts for the nudge ladder.
    held = IdeaEvent(
        idea_id=idea.id, actor_id=person.id, kind=HELD, detail={"text": text}, at=uow.now
    )
    uow.session.add(held)
    uow.session.flush()
    return News(card=card(uow, idea), held=True, held_id=held.id, ask=ask, text=text)


def drop_held(uow: UnitOfWork, event_id: int) -> None:
    """Nobody could be asked after all: the held news is not kept."""
    uow.session.execute(delete(IdeaEvent).where(IdeaEvent.id == event_id, IdeaEvent.kind == HELD))


def wijk_chat(
    uow: UnitOfWork, idea_id: int | None = None, held_id: int | None = None
) -> int | None:
    """The group chat of an idea's wijk (or of the idea of a helper's held news), for a
    power used in private that is checked with Telegram first; None when gone."""
    if held_id is not None:
        event = uow.session.get(IdeaEvent, held_id)
        idea_id = event.idea_id if event is not None and event.kind == HELD else None
    idea = uow.session.get(Idea, idea_id) if idea_id is not None else None
    wijk = uow.session.get(Wijk, idea.wijk_id) if idea is not None else None
    return wijk.tg_chat_id if wijk is not None else None


def decide_news(uow: UnitOfWork, caller: Caller, event_id: int, approve: bool) -> Decided:
    """A champion or the author answers a helper's news (a button in their private chat):
    only a confirmed champion or the author, still in the idea's wijk, while the idea is
    visible and the wijk active. Approved: posted as the helper's news. Refused: deleted."""
    person = _require_person(caller)
    event = uow.session.get(IdeaEvent, event_id)
    if event is None or event.kind != HELD:
        raise Refusal("news_gone")
    idea = uow.session.get(Idea, event.idea_id)
    wijk = uow.session.get(Wijk, idea.wijk_id) if idea else None
    if idea is None or wijk is None or idea.hidden or not still_in_wijk(uow, idea, person):
        raise Refusal("stale_button")
    if not (is_own(uow, idea, person) or is_champion(uow, idea, person)):
        raise NotAllowed("news_who")
    # Answered once: of two presses at the same moment, one deletes it, the other is told.
    taken = uow.session.scalar(
        delete(IdeaEvent)
        .where(IdeaEvent.id == event_id, IdeaEvent.kind == HELD)
        .returning(IdeaEvent.id)
        .execution_options(synchronize_session=False)
    )
    if taken is None:
        raise Refusal("news_gone")
    text = str(event.detail.get("text", ""))
    helper = uow.session.get(Person, event.actor_id) if event.actor_id else None
    uow.session.expunge(event)
    if approve:
        record(uow, idea, helper, "update", in_wijk=wijk, text=text, approved_by=person.id)
    return Decided(
        card=card(uow, idea),
        approved=approve,
        text=text,
        helper=display_name(helper),
        helper_tg_user_id=helper.tg_user_id if helper else None,
        helper_private=helper is not None and helper.private_ok,
        helper_language=language.for_person(
            helper.language, helper.tg_language_code, wijk.language, wijk.language
        )
        if helper
        else None,
        tg_chat_id=wijk.tg_chat_id,
        group_language=wijk.language,
    )


def replied_to_card(
    uow: UnitOfWork, caller: Caller, tg_chat_id: int, message_id: int
) -> int | None:
    """A reply to an idea card counts as activity on that idea; returns its number."""
    if caller.wijk is None:
        return None
    idea = uow.session.scalar(
        select(Idea).where(
            Idea.wijk_id == caller.wijk.id,
            Idea.card_chat_id == tg_chat_id,
            Idea.card_message_id == message_id,
        )
    )
    if idea is None:
        return None
    record(uow, idea, caller.person, "reply")
    return idea.number


# -- steering -----------------------------------------------------------------------------


def set_status(uow: UnitOfWork, caller: Caller, idea: Idea, target: State) -> StatusChange:
    """Facilitators move ideas; an author may withdraw their own."""
    own = is_own(uow, idea, caller.person)
    if not caller.facilitator and not (own and target is State.WITHDRAWN):
        raise NotAllowed()
    return move(uow, idea, caller.person, target)


def move(uow: UnitOfWork, idea: Idea, actor: Person | None, target: State) -> StatusChange:
    """Move an idea along its lifecycle (the caller checked who may)."""
    old = State(idea.status)
    why = lifecycle.reason(old, target)
    if why is not None:
        raise Refusal(f"transition_{why}", number=idea.number, old=old.value, new=target.value)
    idea.status = target.value
    record(uow, idea, actor, "status", old=old.value, new=target.value)
    return StatusChange(card=card(uow, idea), old=old, new=target)


def set_status_number(uow: UnitOfWork, caller: Caller, number: int, word: str) -> StatusChange:
    target = lifecycle.parse_state(word)
    if target is None:
        raise Refusal("unknown_state", word=word[:30])
    return set_status(uow, caller, find(uow, require_wijk(caller), number), target)


def set_hidden(uow: UnitOfWork, caller: Caller, number: int, hidden: bool) -> Card:
    wijk = require_wijk(caller)
    if not caller.facilitator:
        raise NotAllowed()
    idea = find(uow, wijk, number, hidden_ok=True)
    if idea.hidden == hidden:
        raise Refusal("already_hidden" if hidden else "not_hidden", number=number)
    idea.hidden = hidden
    record(uow, idea, caller.person, "hidden" if hidden else "restored")
    return card(uow, idea)


def set_themes(uow: UnitOfWork, caller: Caller, number: int, words: str) -> Card:
    person = _require_person(caller)
    idea = find(uow, require_wijk(caller), number)
    if not caller.facilitator and not is_own(uow, idea, person):
        raise NotAllowed("themes_who", number=number)
    known, unknown = themes.parse(words)
    if unknown or not known:
        raise Refusal("unknown_theme", words=themes.echo(unknown) if unknown else words[:50])
    idea.themes = known
    record(uow, idea, person, "themes", themes=known)
    return card(uow, idea)


def toggle_show_name(uow: UnitOfWork, caller: Caller) -> bool:
    person = person_to_change(uow, _require_person(caller))
    person.show_name = not person.show_name
    person.updated_at = uow.now
    return person.show_name
