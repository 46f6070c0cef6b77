"""The person's rights (AVG/GDPR): see everything stored about you, and be forgotten."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, select

from buddybot.services import ideas as ideas_
from buddybot.services.errors import NotAllowed, Refusal
from buddybot.services.people import (
    Caller,
    Policy,
    erased_hash,
    person_to_change,
)
from buddybot.storage import queries
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import (
    Announcement,
    ErasedPerson,
    Idea,
    IdeaEvent,
    IdeaPartner,
    Involvement,
    Meeting,
    Membership,
    NamedMessage,
    Partner,
    PartnerInvite,
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
    """Everything stored about this person, across all wijken. Someone who was forgotten
    (and did nothing since) has nothing stored: refused, and nothing is stored by asking."""
    if caller.person is None:
        raise Refusal("nothing_stored")
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
        **_made_by(uow, person, wijk_titles),
    }


def _made_by(uow: UnitOfWork, person: Person, wijk_titles: dict[int, str]) -> dict[str, Any]:
    """What the person made or started: meetings, announcements, votes, partner links and
    invitations, helpers' news they approved, the questions of the bot still open to them
    (with what they typed so far), and the group messages that named them."""
    s = uow.session
    meetings = [
        {
            "wijk": wijk_titles.get(m.wijk_id, ""),
            "number": m.number,
            "title": m.title,
            "place": m.place,
            "details": m.details,
            "starts": _iso(m.starts_at),
            "status": m.status,
            "reason": m.reason,
        }
        for m in s.scalars(select(Meeting).where(Meeting.organiser_id == person.id))
    ]
    announcements = [
        {
            "wijk": wijk_titles.get(a.wijk_id, ""),
            "text": a.text,
            "next": _iso(a.next_at),
            "weekly": a.weekly,
            "status": a.status,
            "created": _iso(a.created_at),
        }
        for a in s.scalars(select(Announcement).where(Announcement.created_by == person.id))
    ]
    polls = [
        {
            "wijk": wijk_titles.get(p.wijk_id, ""),
            "number": p.number,
            "question": p.question,
            "options": [o.get("text") for o in p.options],
            "deadline": _iso(p.deadline),
            "status": p.status,
        }
        for p in s.scalars(select(Poll).where(Poll.created_by == person.id))
    ]
    links = [
        {"idea": row.number, "title": row.title, "partner": row.name, "at": _iso(row.at)}
        for row in s.execute(
            select(Idea.number, Idea.title, Partner.name, IdeaPartner.at)
            .join(Idea, Idea.id == IdeaPartner.idea_id)
            .join(Partner, Partner.id == IdeaPartner.partner_id)
            .where(IdeaPartner.linked_by == person.id)
        )
    ]
    invitations = [
        {
            "partner": row.name,
            "as": (
                "made"
                if row.PartnerInvite.created_by == person.id
                else "used"
                if row.PartnerInvite.used_by == person.id
                else "linked_before"
            ),
            "created": _iso(row.PartnerInvite.created_at),
            "expires": _iso(row.PartnerInvite.expires_at),
            "used": _iso(row.PartnerInvite.used_at),
        }
        for row in s.execute(
            select(PartnerInvite, Partner.name)
            .join(Partner, Partner.id == PartnerInvite.partner_id)
            .where(
                (PartnerInvite.created_by == person.id)
                | (PartnerInvite.used_by == person.id)
                | (PartnerInvite.replaces_person_id == person.id)
            )
            .order_by(PartnerInvite.created_at)
        )
    ]
    approved = [
        {"wijk": wijk_titles.get(row.wijk_id, ""), "idea": row.number, "at": _iso(row.at)}
        for row in s.execute(
            select(Idea.wijk_id, Idea.number, IdeaEvent.at)
            .join(Idea, Idea.id == IdeaEvent.idea_id)
            .where(_approved_by(person.id))
            .order_by(IdeaEvent.at)
        )
    ]
    prompts = [
        {
            "wijk": wijk_titles.get(p.wijk_id, "") if p.wijk_id else None,
            "question": p.kind,
            "typed_so_far": p.payload,
            "asked": _iso(p.created_at),
        }
        for p in s.scalars(select(Prompt).where(Prompt.person_id == person.id))
    ]
    named = [
        {"wijk": wijk_titles.get(n.wijk_id, ""), "message": n.kind, "at": _iso(n.at)}
        for n in s.scalars(select(NamedMessage).where(NamedMessage.person_id == person.id))
    ]
    return {
        "meetings_organised": meetings,
        "announcements_created": announcements,
        "votes_started": polls,
        "partner_links_made": links,
        "partner_invitations": invitations,
        "news_approved": approved,
        "open_questions": prompts,
        "group_messages_naming_me": named,
    }


def _approved_by(person_id: int) -> ColumnElement[bool]:
    """Helpers' news this person approved (``ideas.decide_news``)."""
    approver: ColumnElement[int] = IdeaEvent.detail["approved_by"].as_integer()
    return and_(IdeaEvent.kind == "update", approver == person_id)


def remember_named(
    uow: UnitOfWork, tg_user_ids: Sequence[int], tg_chat_id: int, message_id: int, kind: str
) -> None:
    """A message in a group that names these people: removed when any of them is
    forgotten. People not stored (never seen, or forgotten) are skipped."""
    wijk = queries.wijk_by_chat(uow.session, tg_chat_id)
    if wijk is None:
        return
    for tg_user_id in dict.fromkeys(tg_user_ids):
        person = queries.person_by_tg(uow.session, tg_user_id)
        if person is None:
            continue
        uow.session.add(
            NamedMessage(
                person_id=person.id,
                wijk_id=wijk.id,
                tg_chat_id=tg_chat_id,
                message_id=message_id,
                kind=kind,
                at=uow.now,
            )
        )


@dataclass(frozen=True, slots=True)
class Forgotten:
    ideas_touched: list[int]  # idea ids whose cards change
    meetings_touched: list[int]  # meeting ids whose cards change (organiser, answers)
    released: list[ideas_.Card]  # ideas that lost their only champion: recruit again
    # Group messages (chat id, message id, the wijk's language) that only announced the
    # person, and questions the bot asked them in a group: deleted (or blanked where
    # Telegram refuses).
    messages: list[tuple[int, int, str]]


def forget(uow: UnitOfWork, policy: Policy, caller: Caller) -> Forgotten:
    """Erase the person: name, username, what they typed, and every personal link. Ideas
    they authored stay (shown as by "a neighbour"); their support, help, answers and open
    votes are removed; a champion role is released. A keyed hash of their Telegram id is
    kept, so that a mere message does not store them again."""
    if caller.person is None:
        raise Refusal("who_are_you")
    return erase(uow, policy, person_to_change(uow, caller.person))


def erase(uow: UnitOfWork, policy: Policy, person: Person) -> Forgotten:
    """``forget`` for this person; what changes in the groups is returned, not done."""
    s = uow.session
    involved = s.execute(
        select(Involvement.idea_id, Involvement.kind).where(Involvement.person_id == person.id)
    ).all()
    authored = s.scalars(
        select(Idea.id).where((Idea.author_id == person.id) | (Idea.entered_by_id == person.id))
    ).all()
    touched = sorted({row.idea_id for row in involved} | set(authored))
    championed = sorted({row.idea_id for row in involved if row.kind == ideas_.Kind.CHAMPION})
    meetings = sorted(
        set(s.scalars(select(Meeting.id).where(Meeting.organiser_id == person.id)))
        | set(s.scalars(select(Rsvp.meeting_id).where(Rsvp.person_id == person.id)))
    )
    messages = [
        (row.tg_chat_id, row.message_id, row.language)
        for row in s.execute(
            select(NamedMessage.tg_chat_id, NamedMessage.message_id, Wijk.language)
            .join(Wijk, Wijk.id == NamedMessage.wijk_id)
            .where(NamedMessage.person_id == person.id)
        )
    ]
    messages += [
        (row.tg_chat_id, row.message_id, row.language)
        for row in s.execute(
            select(Prompt.tg_chat_id, Prompt.message_id, Wijk.language)
            .join(Wijk, Wijk.id == Prompt.wijk_id)
            .where(Prompt.person_id == person.id)
        )
    ]
    messages = list(dict.fromkeys(messages))  # a question can be both: remove it once
    _forget_their_words(uow, person, championed)
    s.execute(delete(Prompt).where(Prompt.person_id == person.id))
    # Their news still waiting for approval was never shown: it goes with them.
    s.execute(
        delete(IdeaEvent).where(IdeaEvent.actor_id == person.id, IdeaEvent.kind == ideas_.HELD)
    )
    queries.insert_ignore(
        s,
        ErasedPerson,
        {"tg_hash": erased_hash(policy, person.tg_user_id), "erased_at": uow.now},
        ["tg_hash"],
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
    return Forgotten(
        ideas_touched=touched,
        meetings_touched=meetings,
        released=released,
        messages=messages,
    )


def forget_again(uow: UnitOfWork, policy: Policy, also_erased: Sequence[str] = ()) -> int:
    """After a backup was restored: everyone forgotten since is erased again. Their keyed
    hashes come from ``erased_person`` (and ``also_erased``, kept from the live database
    before the restore; added to it). Group messages are not touched: they were changed
    when the person was first forgotten. Returns how many people were erased."""
    s = uow.session
    for tg_hash in also_erased:
        queries.insert_ignore(
            s, ErasedPerson, {"tg_hash": tg_hash, "erased_at": uow.now}, ["tg_hash"]
        )
    erased = set(s.scalars(select(ErasedPerson.tg_hash)))
    again = [p for p in s.scalars(select(Person)) if erased_hash(policy, p.tg_user_id) in erased]
    for person in again:
        erase(uow, policy, person)
    return len(again)


def _forget_their_words(uow: UnitOfWork, person: Person, championed: list[int]) -> None:
    """Events keep the fact that something happened, not who did it nor what they wrote:
    the text of their news goes, and so does the mention of them in a confirmation or an
    approval of someone else's news."""
    for event in uow.session.scalars(select(IdeaEvent).where(IdeaEvent.actor_id == person.id)):
        if event.detail.get("text") is not None:
            event.detail = {k: v for k, v in event.detail.items() if k != "text"}
    for event in uow.session.scalars(select(IdeaEvent).where(_approved_by(person.id))):
        event.detail = {k: v for k, v in event.detail.items() if k != "approved_by"}
    if championed:
        for event in uow.session.scalars(
            select(IdeaEvent).where(IdeaEvent.idea_id.in_(championed), IdeaEvent.kind == "champion")
        ):
            if event.detail.get("person") == person.id:
                event.detail = {k: v for k, v in event.detail.items() if k != "person"}


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
