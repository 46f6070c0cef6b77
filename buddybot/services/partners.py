"""The sociale alliantie: partners of a wijk, what they offer, and which ideas they fit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from buddybot.domain import matching, themes
from buddybot.domain.plain_text import plain
from buddybot.services import ideas as ideas_
from buddybot.services.errors import NotAllowed, Refusal
from buddybot.services.people import Caller, ensure_person, member_seen, require_facilitator
from buddybot.services.refs import ActorRef
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Idea, IdeaPartner, Involvement, Partner, Person, Wijk
from buddybot.storage.queries import insert_ignore

NAME_MAX = 100
OFFER_MAX = 500
CONTACT_MAX = 200


@dataclass(frozen=True, slots=True)
class Suggestion:
    partner: Partner
    shared_themes: list[str]
    shared_words: list[str]


@dataclass(frozen=True, slots=True)
class Linked:
    card: ideas_.Card
    partner: Partner
    notify: int | None  # the partner's Telegram user id, when the bot may write to them
    notify_language: str | None


def save(
    uow: UnitOfWork, caller: Caller, name: str, theme_words: str, offer: str, contact: str
) -> tuple[Partner, bool]:
    """Register a partner, or update the one with that name. Returns (partner, created)."""
    wijk = require_facilitator(caller)
    name, offer, contact = plain(name), plain(offer), plain(contact)
    name, offer, contact = " ".join(name.split()), offer.strip(), contact.strip()
    if len(name) < 2 or len(name) > NAME_MAX:
        raise Refusal("partner_name", maximum=NAME_MAX)
    if len(offer) > OFFER_MAX:
        raise Refusal("partner_offer_long", maximum=OFFER_MAX, length=len(offer))
    if len(contact) > CONTACT_MAX:
        raise Refusal("partner_contact_long", maximum=CONTACT_MAX, length=len(contact))
    known, unknown = themes.parse(theme_words) if theme_words.strip() else ([], [])
    if unknown:
        raise Refusal("unknown_theme", words=themes.echo(unknown))
    if not known:
        known = themes.detect(offer)
    partner = uow.session.scalar(
        select(Partner).where(Partner.wijk_id == wijk.id, Partner.name == name)
    )
    created = partner is None
    if partner is None:
        partner = Partner(wijk_id=wijk.id, name=name, created_at=uow.now)
        uow.session.add(partner)
    partner.themes = known
    partner.offer = offer
    partner.contact = contact
    uow.session.flush()
    return partner, created


def _partner(uow: UnitOfWork, wijk: Wijk, partner_id: int) -> Partner:
    partner = uow.session.get(Partner, partner_id)
    if partner is None or partner.wijk_id != wijk.id:
        raise Refusal("stale_button")
    return partner


def by_name(uow: UnitOfWork, wijk: Wijk, name: str) -> Partner:
    wanted = themes.fold(" ".join(plain(name).split()))
    rows = list(uow.session.scalars(select(Partner).where(Partner.wijk_id == wijk.id)))
    exact = [p for p in rows if themes.fold(p.name) == wanted]
    loose = [p for p in rows if wanted and wanted in themes.fold(p.name)]
    found = exact or loose
    if len(found) != 1:
        raise Refusal("unknown_partner", name=name[:50])
    return found[0]


def remove(uow: UnitOfWork, caller: Caller, partner_id: int) -> Partner:
    wijk = require_facilitator(caller)
    partner = _partner(uow, wijk, partner_id)
    uow.session.delete(partner)
    return partner


def alliance(uow: UnitOfWork, caller: Caller) -> list[Partner]:
    if caller.wijk is None:
        raise Refusal("group_only")
    rows = uow.session.scalars(
        select(Partner).where(Partner.wijk_id == caller.wijk.id).order_by(Partner.name)
    )
    return list(rows)


def link_account(uow: UnitOfWork, caller: Caller, name: str, account: ActorRef | None) -> Partner:
    """A facilitator replies ``/partner koppel <name>`` to a message of the partner."""
    wijk = require_facilitator(caller)
    if account is None:
        raise Refusal("partner_reply_needed")
    partner = by_name(uow, wijk, name)
    person = ensure_person(uow, account)
    member_seen(uow, wijk.id, person.id)
    partner.person_id = person.id
    return partner


def accept_invite(uow: UnitOfWork, caller: Caller, partner_id: int) -> Partner:
    """The partner opened the invitation link in private: link their account."""
    if caller.person is None:
        raise Refusal("who_are_you")
    partner = uow.session.get(Partner, partner_id)
    if partner is None:
        raise Refusal("stale_button")
    partner.person_id = caller.person.id
    wijk = uow.session.get(Wijk, partner.wijk_id)
    if wijk is not None:
        member_seen(uow, wijk.id, caller.person.id)
    return partner


def suggestions(uow: UnitOfWork, idea: Idea, limit: int = 3) -> list[Suggestion]:
    """Partners ranked for an idea, with the reasons, leaving out those already linked."""
    rows = list(uow.session.scalars(select(Partner).where(Partner.wijk_id == idea.wijk_id)))
    linked = set(
        uow.session.scalars(select(IdeaPartner.partner_id).where(IdeaPartner.idea_id == idea.id))
    )
    return rank(idea, rows, linked, limit)


def rank(idea: Idea, partners: list[Partner], linked: set[int], limit: int = 3) -> list[Suggestion]:
    """``suggestions`` for partners already loaded (the tick loads a whole batch at once)."""
    candidates = [p for p in partners if p.id not in linked]
    if not candidates:
        return []
    profile = matching.IdeaProfile(idea.title, idea.description, tuple(idea.themes))
    ranked = matching.rank(
        profile,
        [matching.PartnerProfile(p.id, p.name, tuple(p.themes), p.offer) for p in candidates],
        limit=limit,
    )
    by_id = {p.id: p for p in candidates}
    return [
        Suggestion(
            partner=by_id[m.partner_id],
            shared_themes=list(m.shared_themes),
            shared_words=list(m.shared_words),
        )
        for m in ranked
    ]


def may_see_matches(uow: UnitOfWork, caller: Caller, idea: Idea) -> None:
    """Facilitators and the idea's champions see the partner suggestions."""
    if caller.facilitator:
        return
    if caller.person is not None:
        champion = uow.session.scalar(
            select(Involvement.id).where(
                Involvement.idea_id == idea.id,
                Involvement.person_id == caller.person.id,
                Involvement.kind == ideas_.Kind.CHAMPION,
                Involvement.confirmed.is_(True),
            )
        )
        if champion is not None:
            return
    raise NotAllowed("partners_who")


def matches_for(
    uow: UnitOfWork, caller: Caller, idea_id: int
) -> tuple[ideas_.Card, list[Suggestion]]:
    idea = ideas_.by_id(uow, caller, idea_id)
    may_see_matches(uow, caller, idea)
    return ideas_.card(uow, idea), suggestions(uow, idea)


def link(uow: UnitOfWork, caller: Caller, idea: Idea, partner: Partner) -> Linked:
    """Link an idea to a partner: an event, a line on the card, a word to the partner."""
    may_see_matches(uow, caller, idea)
    if partner.wijk_id != idea.wijk_id:
        raise Refusal("stale_button")
    linked = insert_ignore(
        uow.session,
        IdeaPartner,
        {
            "idea_id": idea.id,
            "partner_id": partner.id,
            "linked_by": caller.person.id if caller.person else None,
            "at": uow.now,
        },
        ["idea_id", "partner_id"],
    )
    if not linked:
        raise Refusal("already_linked", number=idea.number, name=partner.name)
    ideas_.record(uow, idea, caller.person, "partner", partner=partner.id)
    account = uow.session.get(Person, partner.person_id) if partner.person_id else None
    notify = account.tg_user_id if account is not None and account.private_ok else None
    return Linked(
        card=ideas_.card(uow, idea),
        partner=partner,
        notify=notify,
        notify_language=account.language if account else None,
    )


def link_command(uow: UnitOfWork, caller: Caller, number: int, name: str) -> Linked:
    wijk = require_facilitator(caller) if not caller.wijk else caller.wijk
    idea = ideas_.find(uow, wijk, number)
    return link(uow, caller, idea, by_name(uow, wijk, name))


def link_button(uow: UnitOfWork, caller: Caller, idea_id: int, partner_id: int) -> Linked:
    idea = ideas_.by_id(uow, caller, idea_id)
    wijk = caller.wijk
    assert wijk is not None
    return link(uow, caller, idea, _partner(uow, wijk, partner_id))
