"""The person's rights (AVG/GDPR): see everything stored about you, and be forgotten."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from buddybot.services import ideas as ideas_
from buddybot.services.errors import NotAllowed, Refusal
from buddybot.services.people import Caller, display_name, person_to_change
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import (
    Idea,
    IdeaEvent,
    Involvement,
    Meeting,
    Membership,
    Partner,
    Person,
    Poll,
    PollVote,
    Prompt,
    Rsvp,
    Wijk,
)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def my_data(uow: UnitOfWork, caller: Caller) -> dict[str, Any]:
    """Everything stored about this person, across all wijken."""
    if caller.person is None:
        raise Refusal("who_are_you")
    person = person_to_change(uow, caller.person)
    s = uow.session
    wijk_titles = {w.id: w.title for w in s.scalars(select(Wijk))}
    memberships = [
        {
            "wijk": wijk_titles.get(m.wijk_id, ""),
            "role": m.role,
            "left_group": m.left,
            "first_seen": _iso(m.first_seen_at),
            "last_seen": _iso(m.last_seen_at),
        }
        for m in s.scalars(select(Membership).where(Membership.person_id == person.id))
    ]
    authored = [
        {
            "wijk": wijk_titles.get(i.wijk_id, ""),
            "number": i.number,
            "title": i.title,
            "description": i.description,
            "status": i.status,
            "created": _iso(i.created_at),
        }
        for i in s.scalars(
            select(Idea).where((Idea.author_id == person.id) | (Idea.entered_by_id == person.id))
        )
    ]
    involvements = [
        {
            "wijk": wijk_titles.get(row.wijk_id, ""),
            "idea": row.number,
            "title": row.title,
            "as": row.kind,
            "since": _iso(row.created_at),
        }
        for row in s.execute(
            select(Idea.wijk_id, Idea.number, Idea.title, Involvement.kind, Involvement.created_at)
            .join(Idea, Idea.id == Involvement.idea_id)
            .where(Involvement.person_id == person.id)
        )
    ]
    updates = [
        {"idea": row.number, "kind": row.kind, "detail": row.detail, "at": _iso(row.at)}
        for row in s.execute(
            select(Idea.number, IdeaEvent.kind, IdeaEvent.detail, IdeaEvent.at)
            .join(Idea, Idea.id == IdeaEvent.idea_id)
            .where(IdeaEvent.actor_id == person.id)
            .order_by(IdeaEvent.at)
        )
    ]
    rsvps = [
        {"meeting": row.title, "starts": _iso(row.starts_at), "answer": row.answer}
        for row in s.execute(
            select(Meeting.title, Meeting.starts_at, Rsvp.answer)
            .join(Meeting, Meeting.id == Rsvp.meeting_id)
            .where(Rsvp.person_id == person.id)
        )
    ]
    votes = [
        {
            "question": row.question,
            "options": [row.options[i]["text"] for i in row.option_ids if i < len(row.options)],
        }
        for row in s.execute(
            select(Poll.question, Poll.options, PollVote.option_ids)
            .join(Poll, Poll.id == PollVote.poll_id)
            .where(PollVote.person_id == person.id)
        )
    ]
    partners = list(s.scalars(select(Partner.name).where(Partner.person_id == person.id)))
    return {
        "person": {
            "telegram_user_id": person.tg_user_id,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "username": person.username,
            "language_chosen": person.language,
            "telegram_language": person.tg_language_code,
            "private_chat_open": person.private_ok,
            "name_on_idea_cards": person.show_name,
            "may_be_contacted_by_champions": person.contact_ok,
            "no_reminders": person.no_nudges,
            "first_seen": _iso(person.created_at),
        },
        "wijken": memberships,
        "ideas_authored": authored,
        "support_help_champion": involvements,
        "actions_on_ideas": updates,
        "meeting_answers": rsvps,
        "open_vote_choices": votes,
        "partner_accounts": partners,
    }


@dataclass(frozen=True, slots=True)
class Forgotten:
    ideas_touched: list[int]  # idea ids whose cards change
    released: list[ideas_.Card]  # ideas that lost their only champion: recruit again
    name: str


def forget(uow: UnitOfWork, caller: Caller) -> Forgotten:
    """Erase the person: name, username and every personal link. Ideas they authored stay
    (shown as by "a neighbour"); their support, help, answers and open votes are removed;
    a champion role is released."""
    if caller.person is None:
        raise Refusal("who_are_you")
    person = person_to_change(uow, caller.person)
    s = uow.session
    name = display_name(person)
    involved = s.execute(
        select(Involvement.idea_id, Involvement.kind).where(Involvement.person_id == person.id)
    ).all()
    touched = sorted({row.idea_id for row in involved})
    championed = sorted({row.idea_id for row in involved if row.kind == ideas_.Kind.CHAMPION})
    # Events keep the fact that something happened, not who did it.
    s.execute(delete(Prompt).where(Prompt.person_id == person.id))
    # Their news still waiting for approval was never shown: it goes with them.
    s.execute(
        delete(IdeaEvent).where(IdeaEvent.actor_id == person.id, IdeaEvent.kind == ideas_.HELD)
    )
    s.delete(person)  # cascades: memberships, involvements, RSVPs, votes; SET NULL links
    s.flush()
    released = []
    for idea_id in championed:
        idea = s.get(Idea, idea_id)
        if idea is None:
            continue
        card = ideas_.card(uow, idea)
        if card.champions.count == 0 and card.open:
            released.append(card)
    return Forgotten(ideas_touched=touched, released=released, name=name)


def purge_wijk(uow: UnitOfWork, wijk_id: int) -> str:
    """Delete a finished wijk and everything of it (ideas, meetings, votes, partners,
    schedule, memberships). People stay only if they take part elsewhere."""
    wijk = uow.session.get(Wijk, wijk_id)
    if wijk is None:
        raise LookupError(f"no wijk with id {wijk_id}")
    title = wijk.title
    members = list(
        uow.session.scalars(select(Membership.person_id).where(Membership.wijk_id == wijk_id))
    )
    uow.session.delete(wijk)
    uow.session.flush()
    for person_id in members:
        elsewhere = uow.session.scalar(
            select(Membership.id).where(Membership.person_id == person_id).limit(1)
        )
        if elsewhere is None:
            person = uow.session.get(Person, person_id)
            if person is not None:
                uow.session.delete(person)
    return title


def purge_own_wijk(uow: UnitOfWork, caller: Caller) -> str:
    if caller.wijk is None:
        raise Refusal("group_only")
    if not caller.authority.telegram_admin and not caller.superadmin:
        raise NotAllowed("admins_only_purge")
    return purge_wijk(uow, caller.wijk.id)
