"""Export a wijk as a zip of CSV files (UTF-8, a header row, ISO 8601 dates).

Every file is written by ``domain.csv_files.csv_bytes``: no cell starts a spreadsheet formula.

Neighbourhood-level data only: names appear only where people made them public by acting
(the author of an idea, a wijkkampioen) or for partners. Everyone else is left out.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select

from buddybot.domain.csv_files import csv_bytes
from buddybot.services.errors import NotAllowed, Refusal
from buddybot.services.people import Caller, display_name
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import (
    Idea,
    IdeaEvent,
    IdeaPartner,
    Involvement,
    Meeting,
    Partner,
    Person,
    Poll,
    Rsvp,
    Wijk,
)

Progress = Callable[[str, int, int], None]


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def _public_names(uow: UnitOfWork, wijk: Wijk) -> dict[int, str]:
    """person id -> name, for authors, champions and partner accounts of this wijk."""
    s = uow.session
    ids: set[int] = set()
    ids |= {
        i for i in s.scalars(select(Idea.author_id).where(Idea.wijk_id == wijk.id)) if i is not None
    }
    ids |= set(
        s.scalars(
            select(Involvement.person_id)
            .join(Idea, Idea.id == Involvement.idea_id)
            .where(
                Idea.wijk_id == wijk.id,
                Involvement.kind == "champion",
                Involvement.confirmed.is_(True),
            )
        )
    )
    ids |= {
        i
        for i in s.scalars(select(Partner.person_id).where(Partner.wijk_id == wijk.id))
        if i is not None
    }
    if not ids:
        return {}
    people = s.scalars(select(Person).where(Person.id.in_(ids)))
    return {p.id: display_name(p) for p in people if not p.erased}


def wijk_zip(uow: UnitOfWork, wijk: Wijk, progress: Progress | None = None) -> bytes:
    s = uow.session
    names = _public_names(uow, wijk)
    files: dict[str, bytes] = {}

    def step(name: str, done: int, total: int) -> None:
        if progress is not None:
            progress(name, done, total)

    ideas = list(s.scalars(select(Idea).where(Idea.wijk_id == wijk.id).order_by(Idea.number)))
    counts = {
        (row.idea_id, row.kind): row.n
        for row in s.execute(
            select(Involvement.idea_id, Involvement.kind, func.count().label("n"))
            .join(Idea, Idea.id == Involvement.idea_id)
            .where(Idea.wijk_id == wijk.id, Involvement.confirmed.is_(True))
            .group_by(Involvement.idea_id, Involvement.kind)
        )
    }
    champions: dict[int, list[str]] = {}
    for champion in s.execute(
        select(Involvement.idea_id, Involvement.person_id)
        .join(Idea, Idea.id == Involvement.idea_id)
        .where(
            Idea.wijk_id == wijk.id,
            Involvement.kind == "champion",
            Involvement.confirmed.is_(True),
        )
    ):
        champions.setdefault(champion.idea_id, []).append(names.get(champion.person_id, ""))
    partner_names: dict[int, list[str]] = {}
    for link in s.execute(
        select(IdeaPartner.idea_id, Partner.name)
        .join(Partner, Partner.id == IdeaPartner.partner_id)
        .where(Partner.wijk_id == wijk.id)
    ):
        partner_names.setdefault(link.idea_id, []).append(link.name)
    rows: list[list[object]] = []
    for n, idea in enumerate(ideas, 1):
        rows.append(
            [
                idea.number,
                idea.title,
                idea.status,
                "yes" if idea.hidden else "no",
                " ".join(idea.themes),
                idea.on_behalf_of or names.get(idea.author_id or 0, ""),
                counts.get((idea.id, "supporter"), 0),
                counts.get((idea.id, "helper"), 0),
                "; ".join(champions.get(idea.id, [])),
                "; ".join(partner_names.get(idea.id, [])),
                _iso(idea.created_at),
                _iso(idea.last_activity_at),
            ]
        )
        if n % 500 == 0 or n == len(ideas):
            step("ideas", n, len(ideas))
    files["ideas.csv"] = csv_bytes(
        [
            "number",
            "title",
            "status",
            "hidden",
            "themes",
            "author",
            "supporters",
            "helpers",
            "champions",
            "partners",
            "created_at",
            "last_activity_at",
        ],
        rows,
    )

    meetings = list(
        s.scalars(select(Meeting).where(Meeting.wijk_id == wijk.id).order_by(Meeting.number))
    )
    rsvp = {
        (row.meeting_id, row.answer): row.n
        for row in s.execute(
            select(Rsvp.meeting_id, Rsvp.answer, func.count().label("n"))
            .join(Meeting, Meeting.id == Rsvp.meeting_id)
            .where(Meeting.wijk_id == wijk.id)
            .group_by(Rsvp.meeting_id, Rsvp.answer)
        )
    }
    files["meetings.csv"] = csv_bytes(
        ["number", "title", "starts_at", "place", "status", "yes", "maybe", "no"],
        [
            [
                m.number,
                m.title,
                _iso(m.starts_at),
                m.place,
                m.status,
                rsvp.get((m.id, "yes"), 0),
                rsvp.get((m.id, "maybe"), 0),
                rsvp.get((m.id, "no"), 0),
            ]
            for m in meetings
            if m.status != "draft"
        ],
    )
    step("meetings", len(meetings), len(meetings))

    polls = list(
        s.scalars(
            select(Poll)
            .where(Poll.wijk_id == wijk.id, Poll.status != "draft")
            .order_by(Poll.number)
        )
    )
    vote_rows: list[list[object]] = []
    for p in polls:
        for i, option in enumerate(p.options):
            count = p.counts[i] if i < len(p.counts) else 0
            vote_rows.append(
                [p.number, p.question, p.status, _iso(p.deadline), option["text"], count, p.voters]
            )
    files["votes.csv"] = csv_bytes(
        ["number", "question", "status", "deadline", "option", "votes", "voters"], vote_rows
    )
    step("votes", len(polls), len(polls))

    partners = list(
        s.scalars(select(Partner).where(Partner.wijk_id == wijk.id).order_by(Partner.name))
    )
    files["partners.csv"] = csv_bytes(
        ["name", "themes", "offer", "contact"],
        [[p.name, " ".join(p.themes), p.offer, p.contact] for p in partners],
    )
    step("partners", len(partners), len(partners))

    numbers = {i.id: i.number for i in ideas}
    events = list(
        s.execute(
            select(IdeaEvent.idea_id, IdeaEvent.kind, IdeaEvent.actor_id, IdeaEvent.at)
            .join(Idea, Idea.id == IdeaEvent.idea_id)
            .where(Idea.wijk_id == wijk.id)
            .order_by(IdeaEvent.at, IdeaEvent.id)
        )
    )
    files["events.csv"] = csv_bytes(
        ["idea", "event", "by", "at"],
        [
            [numbers.get(e.idea_id, ""), e.kind, names.get(e.actor_id or 0, ""), _iso(e.at)]
            for e in events
        ],
    )
    step("events", len(events), len(events))

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def for_caller(uow: UnitOfWork, caller: Caller) -> tuple[str, bytes]:
    if caller.wijk is None:
        raise Refusal("group_only")
    if not caller.facilitator:
        raise NotAllowed()
    return caller.wijk.title, wijk_zip(uow, caller.wijk)


def by_id(uow: UnitOfWork, wijk_id: int, progress: Progress | None = None) -> tuple[str, bytes]:
    wijk = uow.session.get(Wijk, wijk_id)
    if wijk is None:
        raise LookupError(f"no wijk with id {wijk_id}")
    return wijk.title, wijk_zip(uow, wijk, progress)
