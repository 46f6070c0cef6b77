"""The sociale alliantie: partners of a wijk, what they offer, and which ideas they fit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from buddybot.domain import language, matching, themes
from buddybot.domain.plain_text import plain
from buddybot.domain.roles import STEERING
from buddybot.services import ideas as ideas_
from buddybot.services.errors import NotAllowed, Refusal
from buddybot.services.people import (
    Caller,
    display_name,
    ensure_person,
    member_seen,
    require_facilitator,
)
from buddybot.services.refs import ActorRef
from buddybot.storage import queries
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import (
    Idea,
    IdeaPartner,
    Partner,
    PartnerInvite,
    Person,
    Wijk,
)
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


# -- invitations ------------------------------------------------------------------------
# A partner links their own Telegram account by opening a link the bot sent privately to a
# facilitator. The link holds a random secret; only its hash is stored. It works once,
# until ``expires_at``, and never makes its opener a member of the wijk.


@dataclass(frozen=True, slots=True)
class Invitation:
    """A fresh invitation (``token`` is only known here and in the link), or the question
    whether to replace the partner's linked account (``token`` None, ``relink_needed``)."""

    partner: Partner
    token: str | None
    expires_at: datetime | None = None
    relink_needed: bool = False


@dataclass(frozen=True, slots=True)
class Accepted:
    partner: Partner
    wijk_title: str
    # The facilitator who asked for the invitation, to tell privately (None: unknown/gone).
    tell: int | None
    tell_language: str | None
    tg_chat_id: int  # the wijk's group
    appointed: bool  # ``tell`` is an appointed facilitator or buddy there (else: ask Telegram)
    name: str  # who linked (for the facilitator's notice)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    uow: UnitOfWork, caller: Caller, partner_id: int, ttl: timedelta, *, relink: bool = False
) -> Invitation:
    """A facilitator asks for a partner's invitation. When the partner has a linked account
    already, nothing is made until the facilitator confirms (``relink``); that invitation
    may then replace this one account, and no other. A new invitation ends older unused
    ones of the partner."""
    wijk = require_facilitator(caller)
    if caller.person is None:  # an anonymous admin: no private chat to send it to
        raise Refusal("who_are_you")
    _partner(uow, wijk, partner_id)
    # Locked: of two facilitators asking at once, one deletes and adds after the other,
    # so at most one unused invitation of the partner remains.
    partner = queries.lock_partner(uow.session, partner_id)
    assert partner is not None
    if partner.person_id is not None and not relink:
        return Invitation(partner=partner, token=None, relink_needed=True)
    uow.session.execute(
        delete(PartnerInvite).where(
            PartnerInvite.partner_id == partner.id, PartnerInvite.used_at.is_(None)
        )
    )
    token = secrets.token_urlsafe(16)  # 22 characters, 128 random bits
    expires = uow.now + ttl
    uow.session.add(
        PartnerInvite(
            partner_id=partner.id,
            token_hash=token_hash(token),
            created_by=caller.person.id if caller.person else None,
            replaces_person_id=partner.person_id,
            created_at=uow.now,
            expires_at=expires,
        )
    )
    return Invitation(partner=partner, token=token, expires_at=expires)


def drop_invite(uow: UnitOfWork, token: str) -> None:
    """The invitation could not be delivered: it must not stay usable."""
    uow.session.execute(delete(PartnerInvite).where(PartnerInvite.token_hash == token_hash(token)))


def accept_invite(uow: UnitOfWork, caller: Caller, token: str) -> Accepted:
    """The partner opened the invitation in private: link their account to the partner.
    Refused when unknown, used, expired, or when the partner was linked to another account
    since the facilitator asked. Creates no membership of the wijk."""
    if caller.person is None:
        raise Refusal("who_are_you")
    by_hash = select(PartnerInvite).where(PartnerInvite.token_hash == token_hash(token))
    found = uow.session.scalar(by_hash)
    # The partner locked, then the invitation read again: one replaced by a new one (or
    # dropped) in the meantime is gone, and of two links of one partner only one links.
    partner = queries.lock_partner(uow.session, found.partner_id) if found else None
    found = uow.session.scalar(by_hash.execution_options(populate_existing=True))
    wijk = uow.session.get(Wijk, partner.wijk_id) if partner else None
    if found is None or partner is None or wijk is None or not wijk.active:
        raise Refusal("invite_unknown")
    if found.used_at is not None:
        raise Refusal("invite_used")
    if found.expires_at <= uow.now:
        raise Refusal("invite_expired")
    if partner.person_id not in (None, found.replaces_person_id, caller.person.id):
        raise Refusal("invite_linked_elsewhere", name=partner.name)
    # Used once: of two openings at the same moment, one sets used_at and the other is refused.
    claimed = uow.session.scalar(
        update(PartnerInvite)
        .where(PartnerInvite.id == found.id, PartnerInvite.used_at.is_(None))
        .values(used_at=uow.now, used_by=caller.person.id)
        .returning(PartnerInvite.id)
        .execution_options(synchronize_session=False)
    )
    if claimed is None:
        raise Refusal("invite_used")
    partner.person_id = caller.person.id
    facilitator = uow.session.get(Person, found.created_by) if found.created_by else None
    member = queries.membership(uow.session, wijk.id, facilitator.id) if facilitator else None
    # Told only while still in the group (a Telegram admin's role is checked by the caller).
    if facilitator is None or facilitator.erased or member is None or member.left:
        facilitator = None
    return Accepted(
        partner=partner,
        wijk_title=wijk.title,
        tg_chat_id=wijk.tg_chat_id,
        appointed=member is not None and member.role in STEERING,
        tell=facilitator.tg_user_id if facilitator else None,
        tell_language=language.for_person(
            facilitator.language, facilitator.tg_language_code, wijk.language, wijk.language
        )
        if facilitator
        else None,
        name=display_name(caller.person),
    )


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
    if ideas_.is_champion(uow, idea, caller.person):
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
