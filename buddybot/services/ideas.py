"""Ideas and the people behind them: supporters, helpers, wijkkampioenen.

Every action on an idea is an IdeaEvent; ``record`` also moves ``last_activity_at`` so the
quiet-idea rule is one indexed query.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    String,
    bindparam,
    case,
    cast,
    delete,
    false,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import Executable

from buddybot.domain import language, lifecycle, similar, themes
from buddybot.domain.lifecycle import State
from buddybot.domain.wijk_settings import WijkSettings
from buddybot.services.errors import NotAllowed, Refusal
from buddybot.services.people import (
    AnyPerson,
    AnyWijk,
    Caller,
    PersonView,
    WijkView,
    display_name,
    name_of,
    person_to_change,
)
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import (
    Idea,
    IdeaEvent,
    IdeaPartner,
    Involvement,
    Partner,
    Person,
    Wijk,
)

TITLE_MIN, TITLE_MAX = 3, 100
DESCRIPTION_MAX = 1000
UPDATE_MAX = 500
PAGE_SIZE = 8


class Kind(StrEnum):
    SUPPORTER = "supporter"
    HELPER = "helper"
    CHAMPION = "champion"


@dataclass(slots=True)
class IdeaView:
    """An idea as read for one press, with Core, not loaded as an ORM object: a support
    press only reads the idea, and the ORM load cost a quarter of it (issue 10). Its
    activity columns are updated in place when ``record`` touches the idea."""

    id: int
    wijk_id: int
    number: int
    title: str
    description: str
    author_id: int | None
    on_behalf_of: str | None
    themes: list[str]
    status: str
    hidden: bool
    last_activity_at: datetime
    nudge_level: int
    nudge_due_at: datetime | None
    card_chat_id: int | None
    card_message_id: int | None
    author: str | None  # the author's name as the card shows it; None when not read


AnyIdea = Idea | IdeaView


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


def _settings(wijk: AnyWijk) -> WijkSettings:
    return WijkSettings.load(wijk.settings)


def require_wijk(caller: Caller) -> WijkView:
    if caller.wijk is None:
        raise Refusal("group_only")
    return caller.wijk


def _require_person(caller: Caller) -> PersonView:
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


def require_steer(caller: Caller, idea: Idea) -> None:
    """Facilitators steer every idea; an author may only withdraw their own."""
    own = caller.person is not None and caller.person.id in (idea.author_id, idea.entered_by_id)
    if not caller.facilitator and not own:
        raise NotAllowed()


def person_language(uow: UnitOfWork, tg_user_id: int, default: str) -> str:
    person = uow.session.scalar(select(Person).where(Person.tg_user_id == tg_user_id))
    if person is None:
        return default
    return language.for_person(person.language, person.tg_language_code, None, default)


def private_closed(uow: UnitOfWork, tg_user_id: int) -> None:
    """Telegram refused a private message: the person has to open the chat first."""
    person = uow.session.scalar(select(Person).where(Person.tg_user_id == tg_user_id))
    if person is not None:
        person.private_ok = False


def find(uow: UnitOfWork, wijk: AnyWijk, number: int, *, hidden_ok: bool = False) -> Idea:
    idea = uow.session.scalar(
        select(Idea).where(Idea.wijk_id == wijk.id, Idea.number == number)
    )
    if idea is None or (idea.hidden and not hidden_ok):
        raise Refusal("unknown_idea", number=number)
    return idea


def by_id(uow: UnitOfWork, caller: Caller, idea_id: int) -> Idea:
    """The idea behind a button: only in the wijk of the chat the button was pressed in."""
    wijk = require_wijk(caller)
    # The author comes along: the card shown after a press names them (no second query).
    row = (uow.session.execute(_IDEA_WITH_AUTHOR, {"idea": idea_id})).one_or_none()
    idea = row[0] if row is not None else None
    if idea is None or idea.wijk_id != wijk.id:
        raise Refusal("stale_button")
    if idea.hidden:
        raise Refusal("unknown_idea", number=idea.number)
    return idea


def view_by_id(uow: UnitOfWork, caller: Caller, idea_id: int) -> IdeaView:
    """``by_id`` for a service that only reads the idea (a press): no ORM object."""
    wijk = require_wijk(caller)
    row = (uow.session.execute(_IDEA_VIEW, {"idea": idea_id})).one_or_none()
    if row is None or row[1] != wijk.id:
        raise Refusal("stale_button")
    found, show_name, erased, first, last, username = row[len(_VIEW_COLUMNS) :]
    author = None
    if found is not None:
        author = name_of(erased, first, last, username) if show_name else ""
    idea = IdeaView(**dict(zip(_VIEW_NAMES, row, strict=False)), author=author)
    if idea.hidden:
        raise Refusal("unknown_idea", number=idea.number)
    return idea


# The statements a press runs, built once: building one costs more than SQLite takes to
# run it (measured in issue 10).
# Who is involved, the linked partners, the author and the latest news, in one statement:
# each card shown after a press was five round trips on PostgreSQL, now one. Rows are
# (part, kind, confirmed, show_name, erased, first, last, username); a partner's name is
# in ``first``, and so is the news (its event's detail as JSON text); ``author`` is None
# when the caller knows the author already.
_PEOPLE, _PARTNER, _AUTHOR_ROW, _NEWS = 0, 1, 2, 3
_SHOWN_AS = (Person.show_name, Person.erased, Person.first_name, Person.last_name, Person.username)
_CARD_LATEST = (
    select(IdeaEvent.detail)
    .where(IdeaEvent.idea_id == bindparam("idea"), IdeaEvent.kind == "update")
    .order_by(IdeaEvent.at.desc(), IdeaEvent.id.desc())
    .limit(1)
)
_CARD_ROWS: Executable = union_all(
    select(
        literal(_PEOPLE).label("part"),
        Involvement.kind,
        Involvement.confirmed,
        *_SHOWN_AS,
        Involvement.created_at.label("at"),
        Involvement.id.label("seq"),
    )
    .join(Person, Person.id == Involvement.person_id)
    .where(Involvement.idea_id == bindparam("idea")),
    select(
        literal(_PARTNER),
        literal(""),
        true(),
        true(),
        false(),
        Partner.name,
        null(),
        null(),
        IdeaPartner.at,
        IdeaPartner.id,
    )
    .join(IdeaPartner, IdeaPartner.partner_id == Partner.id)
    .where(IdeaPartner.idea_id == bindparam("idea")),
    select(
        literal(_AUTHOR_ROW),
        literal(""),
        true(),
        *_SHOWN_AS,
        null(),
        Person.id,
    ).where(Person.id == bindparam("author")),
    select(
        literal(_NEWS),
        literal(""),
        true(),
        true(),
        false(),
        cast(_CARD_LATEST.scalar_subquery(), String),
        null(),
        null(),
        null(),
        null(),
    ),
).order_by("part", "at", "seq")
_IDEA_WITH_AUTHOR = (
    select(Idea, Person)
    .outerjoin(Person, Person.id == Idea.author_id)
    .where(Idea.id == bindparam("idea"))
)
_VIEW_COLUMNS = (
    Idea.id, Idea.wijk_id, Idea.number, Idea.title, Idea.description, Idea.author_id,
    Idea.on_behalf_of, Idea.themes, Idea.status, Idea.hidden, Idea.last_activity_at,
    Idea.nudge_level, Idea.nudge_due_at, Idea.card_chat_id, Idea.card_message_id,
)  # fmt: skip
_VIEW_NAMES = tuple(c.key for c in _VIEW_COLUMNS)
_IDEA_VIEW = (
    select(*_VIEW_COLUMNS, Person.id.label("author_found"), *_SHOWN_AS)
    .outerjoin(Person, Person.id == Idea.author_id)
    .where(Idea.id == bindparam("idea"))
)


_INVOLVEMENT = select(Involvement).where(
    Involvement.idea_id == bindparam("idea"),
    Involvement.person_id == bindparam("person"),
    Involvement.kind == bindparam("kind"),
)


def _name(person: AnyPerson | None) -> str:
    if person is None or not person.show_name:
        return ""
    return display_name(person)


def card(uow: UnitOfWork, idea: AnyIdea, *, new: bool = False) -> Card:
    """The idea as its card shows it. ``new``: just proposed in this transaction, so there is
    nobody involved, no news and no partner yet (the card needs no query, or one for the
    author when ``idea`` does not carry their name)."""
    if idea.on_behalf_of:
        author: str | None = idea.on_behalf_of
    elif idea.author_id is None:
        author = ""
    elif isinstance(idea, IdeaView) and idea.author is not None:
        author = idea.author
    elif (loaded := uow.loaded(Person, idea.author_id)) is not None:
        author = _name(loaded)
    else:
        author = None  # read with the rest
    rows: Sequence[Any] = []
    if not new or author is None:
        ask = {"idea": -1 if new else idea.id, "author": idea.author_id if author is None else -1}
        rows = (uow.session.execute(_CARD_ROWS, ask)).all()
    groups: dict[str, list[str]] = {k.value: [] for k in Kind}
    counts = {k.value: 0 for k in Kind}
    pending = 0
    partner_names: list[str] = []
    news = None
    for part, kind, confirmed, show_name, erased, first, last, username, _, _ in rows:
        if part == _NEWS:
            news = json.loads(first) if first is not None else None
            continue
        if part == _PARTNER:
            partner_names.append(first)
            continue
        name = name_of(erased, first, last, username) if show_name else ""
        if part == _AUTHOR_ROW:
            author = name
            continue
        if kind == Kind.CHAMPION and not confirmed:
            pending += 1
            continue
        counts[kind] += 1
        if name:
            groups[kind].append(name)
    return Card(
        id=idea.id,
        wijk_id=idea.wijk_id,
        number=idea.number,
        title=idea.title,
        description=idea.description,
        status=State(idea.status),
        themes=list(idea.themes),
        hidden=idea.hidden,
        author=author or "",
        supporters=People(groups[Kind.SUPPORTER], counts[Kind.SUPPORTER]),
        helpers=People(groups[Kind.HELPER], counts[Kind.HELPER]),
        champions=People(groups[Kind.CHAMPION], counts[Kind.CHAMPION]),
        pending_champions=pending,
        latest_update=str(news["text"]) if news else None,
        card_chat_id=idea.card_chat_id,
        card_message_id=idea.card_message_id,
        partners=partner_names,
    )


def show(uow: UnitOfWork, caller: Caller, number: int) -> Card:
    return card(uow, find(uow, require_wijk(caller), number))


def card_by_id(uow: UnitOfWork, idea_id: int) -> Card | None:
    # The author comes along, as after a press (the card names them).
    row = (uow.session.execute(_IDEA_WITH_AUTHOR, {"idea": idea_id})).one_or_none()
    return None if row is None else card(uow, row[0])


def open_page(uow: UnitOfWork, caller: Caller, page: int) -> Page:
    """Open ideas, newest activity first, one page of them."""
    wijk = require_wijk(caller)
    page = max(page, 1)
    lines, total = _open_lines(uow, wijk, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    if not lines:  # past the last page, or nothing open: count, then the last page
        total = int((uow.session.execute(_OPEN_COUNT, {"wijk": wijk.id})).scalar() or 0)
        if total:
            page = -(-total // PAGE_SIZE)
            lines, total = _open_lines(uow, wijk, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return Page(lines, min(page, pages), pages, total)


# The listing's statements, built once. The open states are written into the SQL: a list of
# values would be a parameter expanded per execution, which the prepared path can't keep.
_OPEN_STATUS = Idea.status.in_([literal_column(f"'{s.value}'") for s in lifecycle.OPEN])
_OPEN = (Idea.wijk_id == bindparam("wijk"), Idea.hidden.is_(False), _OPEN_STATUS)
_OPEN_COUNT = select(func.count()).select_from(Idea).where(*_OPEN)
_PAGE = (
    select(
        Idea.id,
        Idea.number,
        Idea.title,
        Idea.status,
        Idea.last_activity_at,
        # All open ideas, not only this page's (a window is counted before the LIMIT):
        # the listing needs no count of its own.
        func.count().over().label("total"),
    )
    .where(*_OPEN)
    .order_by(Idea.last_activity_at.desc(), Idea.number.desc())
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
    .subquery()
)
# The page first, then the counts of just those ideas: counting every involvement of the
# wijk would grow with its past.
_OPEN_PAGE = (
    select(
        _PAGE.c.id,
        _PAGE.c.number,
        _PAGE.c.title,
        _PAGE.c.status,
        _PAGE.c.total,
        func.count(Involvement.id).filter(Involvement.kind == Kind.SUPPORTER),
        func.count(Involvement.id).filter(Involvement.kind == Kind.HELPER),
        func.count(Involvement.id).filter(
            Involvement.kind == Kind.CHAMPION, Involvement.confirmed.is_(True)
        ),
    )
    .select_from(_PAGE.outerjoin(Involvement, Involvement.idea_id == _PAGE.c.id))
    .group_by(*_PAGE.c)
    .order_by(_PAGE.c.last_activity_at.desc(), _PAGE.c.number.desc())
)


def open_lines(uow: UnitOfWork, wijk: AnyWijk, *, offset: int = 0, limit: int) -> list[Line]:
    """Open ideas with their counts, newest activity first."""
    return (_open_lines(uow, wijk, offset, limit))[0]


def _open_lines(
    uow: UnitOfWork, wijk: AnyWijk, offset: int, limit: int
) -> tuple[list[Line], int]:
    """The lines and how many ideas are open in all (0 when there are no lines)."""
    params = {"wijk": wijk.id, "offset": offset, "limit": limit}
    rows = (uow.session.execute(_OPEN_PAGE, params)).all()
    lines = [Line(i, n, title, State(status), s, h, c) for i, n, title, status, _, s, h, c in rows]
    return lines, int(rows[0][4]) if rows else 0


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


_RECORD = insert(IdeaEvent)
_TOUCH = (
    update(Idea)
    .where(Idea.id == bindparam("idea"))
    .values(last_activity_at=bindparam("at"), nudge_level=0, nudge_due_at=bindparam("due"))
)
# PostgreSQL (data-modifying WITH): the idea's activity, and the event only if the idea is
# there, in that wijk. Closed ideas are never nudged.
_TOUCHED = (
    _TOUCH.where(Idea.wijk_id == bindparam("wijk"))
    .values(
        nudge_due_at=case(
            (_OPEN_STATUS, bindparam("due", type_=Idea.nudge_due_at.type)), else_=null()
        )
    )
    .returning(Idea.id)
    .cte("touched")
)
_LOG_AND_TOUCH = (
    insert(IdeaEvent)
    .from_select(
        ["idea_id", "actor_id", "kind", "detail", "at"],
        select(
            _TOUCHED.c.id,
            bindparam("actor", type_=IdeaEvent.actor_id.type),
            bindparam("kind", type_=IdeaEvent.kind.type),
            bindparam("detail", type_=IdeaEvent.detail.type),
            bindparam("at", type_=IdeaEvent.at.type),
        ),
    )
    .returning(IdeaEvent.id)
)


def record(
    uow: UnitOfWork,
    idea: AnyIdea,
    actor: AnyPerson | None,
    kind: str,
    *,
    in_wijk: AnyWijk | None = None,
    **detail: object,
) -> None:
    """Log the action and mark the idea active. Core statements built once, and the loaded
    idea updated as if read back: an ORM flush for these two rows cost more than the rest of
    a support press (issue 10). ``in_wijk``: the idea's wijk, when the caller has it."""
    _record(uow, idea, actor, kind, detail, in_wijk)


def _record(
    uow: UnitOfWork,
    idea: AnyIdea,
    actor: AnyPerson | None,
    kind: str,
    detail: dict[str, object],
    in_wijk: AnyWijk | None = None,
) -> None:
    actor_id = actor.id if actor else None
    touched = _touched(uow, idea.wijk_id, idea.status, in_wijk)
    if not any(getattr(idea, k) != v for k, v in touched.items()):
        _log(uow, idea.id, actor_id, kind, detail)
        return
    due = touched["nudge_due_at"]
    if uow.dialect == "postgresql":
        if not _log_and_touch(uow, idea.id, idea.wijk_id, actor_id, kind, detail, due):
            _log(uow, idea.id, actor_id, kind, detail)  # (gone: refused as on SQLite)
    else:
        _log(uow, idea.id, actor_id, kind, detail)
        uow.session.execute(_TOUCH, {"idea": idea.id, "at": uow.now, "due": due})
    for k, v in touched.items():
        if isinstance(idea, IdeaView):
            setattr(idea, k, v)
        else:
            set_committed_value(idea, k, v)


_IDEA_STATE = select(Idea.wijk_id, Idea.status).where(Idea.id == bindparam("idea"))
_WIJK_SETTINGS = select(Wijk.settings).where(Wijk.id == bindparam("wijk"))


def record_by_id(
    uow: UnitOfWork,
    idea_id: int,
    actor: AnyPerson | None,
    kind: str,
    *,
    in_wijk: AnyWijk | None = None,
    **detail: object,
) -> None:
    """``record`` for an idea that may not be loaded (a vote for it): no ORM object needed.
    ``in_wijk``: the wijk the idea should be in (the event is recorded only if it is)."""
    loaded = uow.loaded(Idea, idea_id)
    if loaded is not None:
        if in_wijk is None or loaded.wijk_id == in_wijk.id:
            _record(uow, loaded, actor, kind, detail, in_wijk)
        return
    actor_id = actor.id if actor else None
    if uow.dialect == "postgresql" and in_wijk is not None:
        # The idea's state is not read first: the statement nudges it only if it is open.
        due = _due(uow, in_wijk.id, in_wijk)
        if _log_and_touch(uow, idea_id, in_wijk.id, actor_id, kind, detail, due):
            return
    row = (uow.session.execute(_IDEA_STATE, {"idea": idea_id})).one_or_none()
    if row is None or (in_wijk is not None and row[0] != in_wijk.id):
        return
    touched = _touched(uow, row[0], row[1], in_wijk)
    _log(uow, idea_id, actor_id, kind, detail)
    uow.session.execute(_TOUCH, {"idea": idea_id, "at": uow.now, "due": touched["nudge_due_at"]})


def _log(
    uow: UnitOfWork, idea_id: int, actor_id: int | None, kind: str, detail: dict[str, object]
) -> None:
    values = {"idea_id": idea_id, "actor_id": actor_id, "kind": kind, "detail": detail}
    uow.session.execute(_RECORD, {**values, "at": uow.now})


def _log_and_touch(
    uow: UnitOfWork,
    idea_id: int,
    wijk_id: int,
    actor_id: int | None,
    kind: str,
    detail: dict[str, object],
    due: object,
) -> bool:
    """PostgreSQL: the event and the idea's activity in one statement (one round trip
    instead of two, issue 10). False when the idea is not in that wijk (nothing done)."""
    params = {"idea": idea_id, "wijk": wijk_id, "actor": actor_id, "kind": kind}
    done = uow.session.execute(_LOG_AND_TOUCH, {**params, "detail": detail, "at": uow.now, "due": due})
    return done.one_or_none() is not None


def _touched(
    uow: UnitOfWork, wijk_id: int, status: str, wijk: AnyWijk | None = None
) -> dict[str, object]:
    """What the idea's activity columns become."""
    # Activity resets the quiet-idea ladder; closed ideas are never nudged.
    due = _due(uow, wijk_id, wijk) if State(status) in lifecycle.OPEN else None
    return {"last_activity_at": uow.now, "nudge_level": 0, "nudge_due_at": due}


def _due(uow: UnitOfWork, wijk_id: int, wijk: AnyWijk | None = None) -> datetime:
    """When an open idea of that wijk, active now, is first nudged."""
    if wijk is None or wijk.id != wijk_id:
        wijk = uow.loaded(Wijk, wijk_id)
    if wijk is not None:
        after = _settings(wijk).nudge_after
    else:
        stored = (uow.session.execute(_WIJK_SETTINGS, {"wijk": wijk_id})).scalar()
        after = WijkSettings.load(stored or {}).nudge_after
    return uow.now + timedelta(seconds=after)


# A proposal's statements, built once.
_RECENT = select(func.count()).where(
    Idea.wijk_id == bindparam("wijk"),
    func.coalesce(Idea.entered_by_id, Idea.author_id) == bindparam("person"),
    Idea.created_at > bindparam("since"),
)
_CANDIDATES = select(Idea.id, Idea.number, Idea.title).where(*_OPEN)
_LAST_NUMBER = select(func.max(Idea.number)).where(Idea.wijk_id == bindparam("wijk"))
# Both in one round trip (the number is read even when a look-alike stops the proposal).
_RECENT_AND_LAST = select(_RECENT.scalar_subquery(), _LAST_NUMBER.scalar_subquery())
# An ORM add and flush cost a third of a proposal (issue 10).
_NEW_IDEA = (
    insert(Idea)
    .values({k: bindparam(k) for k in (*_VIEW_NAMES[1:], "entered_by_id", "created_at")})
    .returning(Idea.id)
)


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
        on_behalf_of = " ".join(on_behalf_of.split())[:100]
        if not on_behalf_of:
            raise Refusal("behalf_name")
    title, description = split_text(text)
    _validate(title, description)
    settings = _settings(wijk)
    params = {"wijk": wijk.id, "person": person.id, "since": uow.now - timedelta(hours=1)}
    recent, last = (uow.session.execute(_RECENT_AND_LAST, params)).one()
    if on_behalf_of is None and (recent or 0) >= settings.ideas_per_hour:
        raise Refusal("too_many_ideas", limit=settings.ideas_per_hour)
    if not force:
        candidates = (uow.session.execute(_CANDIDATES, {"wijk": wijk.id})).all()
        numbers = {i: (n, t) for i, n, t in candidates}
        close = similar.closest(title, [(i, t) for i, _, t in candidates])
        if close:
            found = [Similar(i, numbers[i][0], numbers[i][1]) for i, _ in close]
            return Proposed(None, found, title, description)
    number = 1 + int(last or 0)
    values: dict[str, Any] = {
        "wijk_id": wijk.id,
        "number": number,
        "title": title,
        "description": description,
        "author_id": None if on_behalf_of else person.id,
        "on_behalf_of": on_behalf_of,
        "entered_by_id": person.id,
        "themes": themes.detect(f"{title}\n{description}"),
        "status": State.PROPOSED.value,
        "hidden": False,
        "created_at": uow.now,
        "last_activity_at": uow.now,
        "nudge_level": 0,
        # What record() below sets anyway; set before the insert, it needs no UPDATE after.
        "nudge_due_at": uow.now + timedelta(seconds=settings.nudge_after),
        "card_chat_id": None,
        "card_message_id": None,
    }
    idea_id = (uow.session.execute(_NEW_IDEA, values)).scalar_one()
    shown = {k: v for k, v in values.items() if k in _VIEW_NAMES}
    author = None if on_behalf_of else person
    idea = IdeaView(id=idea_id, **shown, author=_name(author))
    record(uow, idea, person, "proposed", in_wijk=wijk, on_behalf_of=on_behalf_of)
    return Proposed(card(uow, idea, new=True))


_REMEMBER_CARD = (
    update(Idea)
    .where(Idea.id == bindparam("idea"))
    .values(card_chat_id=bindparam("chat"), card_message_id=bindparam("message"))
)


def remember_card(uow: UnitOfWork, idea_id: int, tg_chat_id: int, message_id: int) -> None:
    uow.session.execute(_REMEMBER_CARD, {"idea": idea_id, "chat": tg_chat_id, "message": message_id})


# -- taking part --------------------------------------------------------------------------


def _require_open(idea: AnyIdea) -> None:
    if State(idea.status) not in lifecycle.OPEN:
        raise Refusal("idea_closed", number=idea.number)


def _involvement(
    uow: UnitOfWork, idea: Idea, person: AnyPerson, kind: Kind
) -> Involvement | None:
    params = {"idea": idea.id, "person": person.id, "kind": kind.value}
    return uow.session.scalar(_INVOLVEMENT, params)


_UNINVOLVE = delete(Involvement).where(
    Involvement.idea_id == bindparam("idea"),
    Involvement.person_id == bindparam("person"),
    Involvement.kind == bindparam("kind"),
)


@functools.cache
def _involving(dialect: str) -> Executable:
    """Involve someone unless they are already: the new row's id, or no row. One statement
    where a read and an insert were (a press on PostgreSQL is a round trip less)."""
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    keys = ["idea_id", "person_id", "kind"]
    return (
        insert_(Involvement).on_conflict_do_nothing(index_elements=keys).returning(Involvement.id)
    )


_RECRUITED = select(func.count()).where(
    IdeaEvent.idea_id == bindparam("idea"), IdeaEvent.kind == "recruit"
)


def toggle(
    uow: UnitOfWork, caller: Caller, idea: AnyIdea, kind: Kind, *, only_on: bool = False
) -> Toggled:
    """Support (or help with) an idea; a second time takes it back (unless ``only_on``)."""
    person = _require_person(caller)
    _require_open(idea)
    values = {
        "idea_id": idea.id,
        "person_id": person.id,
        "kind": kind.value,
        "confirmed": True,
        "created_at": uow.now,
    }
    added = (uow.session.execute(_involving(uow.dialect), values)).scalar()
    if added is None and only_on:
        return Toggled(card(uow, idea), on=True)
    if added is None:  # involved already: a second press takes it back
        params = {"idea": idea.id, "person": person.id, "kind": kind.value}
        uow.session.execute(_UNINVOLVE, params)
        record(uow, idea, person, f"un{kind.value}", in_wijk=caller.wijk)
        return Toggled(card(uow, idea), on=False)
    record(uow, idea, person, kind.value, in_wijk=caller.wijk)
    result = card(uow, idea)
    recruit = False
    if kind is Kind.SUPPORTER and caller.wijk is not None:
        threshold = _settings(caller.wijk).recruit_threshold
        if result.supporters.count >= threshold and result.champions.count == 0:
            asked = (uow.session.execute(_RECRUITED, {"idea": idea.id})).scalar()
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
    return Toggled(result, on=True, recruit=recruit)


def toggle_by_id(
    uow: UnitOfWork, caller: Caller, idea_id: int, kind: Kind, *, only_on: bool = False
) -> Toggled:
    """``toggle`` behind a button: the idea is read, not loaded."""
    idea = view_by_id(uow, caller, idea_id)
    return toggle(uow, caller, idea, kind, only_on=only_on)


def toggle_number(uow: UnitOfWork, caller: Caller, number: int, kind: Kind) -> Toggled:
    return toggle(uow, caller, find(uow, require_wijk(caller), number), kind)


def kit(uow: UnitOfWork, idea: Idea, champion: AnyPerson | None = None) -> Kit:
    wijk = uow.session.get(Wijk, idea.wijk_id)
    assert wijk is not None
    rows = (
        uow.session.execute(
            select(Person)
            .join(Involvement, Involvement.person_id == Person.id)
            .where(Involvement.idea_id == idea.id, Involvement.kind == Kind.HELPER)
            .order_by(Involvement.created_at)
        )
    ).scalars()
    # Helpers chose to help, so the champion may contact them.
    helpers = [
        Helper(display_name(p), p.username)
        for p in rows
        if not p.erased and (champion is None or p.id != champion.id)
    ]
    return Kit(card(uow, idea), wijk.title, helpers, same_interest(uow, idea))


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
    return [Helper(display_name(p), p.username) for p in rows]


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
        raise Refusal("champions_full", number=idea.number, maximum=settings.max_champions)
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
    uow.session.flush()
    return Championed(
        card=card(uow, idea),
        confirmed=confirmed,
        tg_user_id=person.tg_user_id,
        private_ok=person.private_ok,
        kit=kit(uow, idea, person) if confirmed else None,
        name=display_name(person),
    )


def confirm_champion(
    uow: UnitOfWork, caller: Caller, idea: Idea, tg_user_id: int
) -> Championed:
    if not caller.facilitator:
        raise NotAllowed()
    _require_open(idea)
    person = uow.session.scalar(select(Person).where(Person.tg_user_id == tg_user_id))
    pending = _involvement(uow, idea, person, Kind.CHAMPION) if person else None
    if person is None or pending is None:
        raise Refusal("stale_button")
    if pending.confirmed:
        raise Refusal("already_champion", number=idea.number)
    pending.confirmed = True
    record(uow, idea, caller.person, "champion", person=person.id)
    uow.session.flush()
    return Championed(
        card=card(uow, idea),
        confirmed=True,
        tg_user_id=person.tg_user_id,
        private_ok=person.private_ok,
        kit=kit(uow, idea, person),
        name=display_name(person),
    )


def champion_kit(uow: UnitOfWork, caller: Caller, idea_id: int) -> Kit:
    """The kit again, from a deep link: only for a champion of that idea."""
    person = _require_person(caller)
    idea = uow.session.get(Idea, idea_id)
    involvement = _involvement(uow, idea, person, Kind.CHAMPION) if idea else None
    if idea is None or involvement is None or not involvement.confirmed:
        raise Refusal("not_champion")
    return kit(uow, idea, person)


def _may_update(uow: UnitOfWork, caller: Caller, idea: Idea, person: AnyPerson) -> bool:
    if caller.facilitator or idea.author_id == person.id or idea.entered_by_id == person.id:
        return True
    involved = uow.session.scalar(
        select(func.count()).where(
            Involvement.idea_id == idea.id,
            Involvement.person_id == person.id,
            Involvement.kind.in_([Kind.HELPER, Kind.CHAMPION]),
            Involvement.confirmed.is_(True),
        )
    )
    return bool(involved)


def progress(uow: UnitOfWork, caller: Caller, number: int, text: str) -> Card:
    """A progress line on the idea by its author, a champion, a helper or a facilitator."""
    person = _require_person(caller)
    idea = find(uow, require_wijk(caller), number)
    text = text.strip()
    if not text:
        raise Refusal("update_empty", number=number)
    if len(text) > UPDATE_MAX:
        raise Refusal("update_long", maximum=UPDATE_MAX, length=len(text))
    if not _may_update(uow, caller, idea, person):
        raise NotAllowed("update_who", number=number)
    record(uow, idea, person, "update", text=text)
    uow.session.flush()
    return card(uow, idea)


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
    own = caller.person is not None and caller.person.id in (idea.author_id, idea.entered_by_id)
    if not caller.facilitator and not (own and target is State.WITHDRAWN):
        raise NotAllowed()
    return move(uow, idea, caller.person, target)


def move(uow: UnitOfWork, idea: Idea, actor: AnyPerson | None, target: State) -> StatusChange:
    """Move an idea along its lifecycle (the caller checked who may)."""
    old = State(idea.status)
    why = lifecycle.reason(old, target)
    if why is not None:
        raise Refusal(f"transition_{why}", number=idea.number, old=old.value, new=target.value)
    idea.status = target.value
    record(uow, idea, actor, "status", old=old.value, new=target.value)
    uow.session.flush()
    return StatusChange(card(uow, idea), old, target)


def set_status_number(
    uow: UnitOfWork, caller: Caller, number: int, word: str
) -> StatusChange:
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
    uow.session.flush()
    return card(uow, idea)


def set_themes(uow: UnitOfWork, caller: Caller, number: int, words: str) -> Card:
    person = _require_person(caller)
    idea = find(uow, require_wijk(caller), number)
    if not caller.facilitator and person.id not in (idea.author_id, idea.entered_by_id):
        raise NotAllowed("themes_who", number=number)
    known, unknown = themes.parse(words)
    if unknown or not known:
        raise Refusal("unknown_theme", words=themes.echo(unknown) if unknown else words[:50])
    idea.themes = known
    record(uow, idea, person, "themes", themes=known)
    uow.session.flush()
    return card(uow, idea)


def toggle_show_name(uow: UnitOfWork, caller: Caller) -> bool:
    person = person_to_change(uow, _require_person(caller))
    person.show_name = not person.show_name
    person.updated_at = uow.now
    return person.show_name
