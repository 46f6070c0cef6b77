"""Nudges for quiet ideas, on the due-work tick.

``Idea.nudge_due_at`` (indexed) says when an idea's next rung is due; ``ideas.record``
resets it on any activity. The tick claims due ideas with one conditional UPDATE (``FOR
UPDATE SKIP LOCKED`` on PostgreSQL), so two replicas never nudge the same idea twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update

from buddybot.domain import lifecycle
from buddybot.domain.nudges import LAST_RUNG, Step, next_allowed, step_for
from buddybot.domain.roles import STEERING
from buddybot.domain.wijk_settings import WijkSettings
from buddybot.services import ideas as ideas_
from buddybot.services import partners as partners_
from buddybot.services.errors import NotAllowed, Refusal
from buddybot.services.meetings import Status as MeetingStatus
from buddybot.services.refs import Recipient
from buddybot.storage import queries
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import (
    Idea,
    IdeaEvent,
    IdeaPartner,
    Involvement,
    Meeting,
    Membership,
    Nudge,
    Partner,
    Person,
    Wijk,
)


@dataclass(frozen=True, slots=True)
class Item:
    idea_id: int
    number: int
    title: str
    level: int  # the rung to send now (1, 2 or 3)
    step: Step
    partner: str | None
    partner_id: int | None
    recipients: list[Recipient] = field(default_factory=list)
    # For the champion (rung 2): neighbours of similar ideas who may be contacted.
    neighbours: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WijkNudges:
    wijk_id: int
    tg_chat_id: int
    language: str
    group: list[Item]  # rung 1: one combined message in the group
    private: list[Item]  # rungs 2 and 3: private messages
    held_until: datetime  # the claim on these ideas (see ``hold``)


@dataclass(frozen=True, slots=True)
class Claimed:
    idea_id: int
    wijk_id: int
    level: int  # the rung due now (1, 2 or 3)
    held_until: datetime  # the claim: the idea's due time was set to this

    @property
    def for_facilitators(self) -> bool:
        """The last rung goes to the facilitators: the group's admins must be known."""
        return self.level >= LAST_RUNG


def claim(uow: UnitOfWork, *, limit: int, lease: timedelta) -> list[Claimed]:
    """Ideas whose next rung is due; held for ``lease`` by moving their due time to its end
    (a replica that dies holding them lets them come due again)."""
    due = (
        select(Idea.id)
        .join(Wijk, Wijk.id == Idea.wijk_id)
        .where(
            Idea.nudge_due_at <= uow.now,
            Idea.hidden.is_(False),
            Idea.status.in_([s.value for s in lifecycle.OPEN]),
            Wijk.active.is_(True),
        )
        .order_by(Idea.nudge_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Idea)
    )
    until = uow.now + lease
    result = uow.session.execute(
        update(Idea)
        .where(Idea.id.in_(due.scalar_subquery()))
        .values(nudge_due_at=until)
        .returning(Idea.id, Idea.wijk_id, Idea.nudge_level)
        .execution_options(synchronize_session=False)
    )
    return [
        Claimed(idea_id=row.id, wijk_id=row.wijk_id, level=row.nudge_level + 1, held_until=until)
        for row in result
    ]


def hold(
    uow: UnitOfWork, idea_ids: list[int], held_until: datetime, lease: timedelta
) -> tuple[set[int], datetime]:
    """Renew the claim on these ideas just before their nudges go out. Returns the ideas
    still held, and until when. An idea is no longer held when its due time moved: the
    claim ran out and another tick took it (a replica stalled past the lease), or someone
    acted on the idea since, which makes the nudge needless."""
    until = uow.now + lease
    if not idea_ids:
        return set(), until
    result = uow.session.execute(
        update(Idea)
        .where(
            Idea.id.in_(idea_ids),
            Idea.nudge_due_at == held_until,
            # Hidden or closed since the claim: no nudge either.
            Idea.hidden.is_(False),
            Idea.status.in_([s.value for s in lifecycle.OPEN]),
        )
        .values(nudge_due_at=until)
        .returning(Idea.id)
        .execution_options(synchronize_session=False)
    )
    return {int(i) for i in result.scalars()}, until


def _day_start(now: datetime, zone: str) -> datetime:
    return now.astimezone(ZoneInfo(zone)).replace(hour=0, minute=0, second=0, microsecond=0)


def _sent_today(uow: UnitOfWork, wijken: list[Wijk]) -> dict[int, int]:
    """Group nudge messages sent today (in each wijk's own zone), per wijk."""
    if not wijken:
        return {}
    starts = {w.id: _day_start(uow.now, w.timezone) for w in wijken}
    rows = uow.session.execute(
        select(Nudge.wijk_id, Nudge.sent_at)
        .where(
            Nudge.wijk_id.in_(starts),
            Nudge.level == 1,
            Nudge.sent_at >= min(starts.values()),
        )
        .distinct()
    )
    sent: dict[int, int] = defaultdict(int)
    for row in rows:
        if row.sent_at >= starts[row.wijk_id]:
            sent[row.wijk_id] += 1  # one combined group message has one sent_at
    return sent


def _meeting_planned(uow: UnitOfWork, wijk_ids: list[int]) -> set[int]:
    """The wijken among ``wijk_ids`` with a meeting coming up."""
    if not wijk_ids:
        return set()
    found = uow.session.scalars(
        select(Meeting.wijk_id)
        .where(
            Meeting.wijk_id.in_(wijk_ids),
            Meeting.status.in_([MeetingStatus.PLANNED, MeetingStatus.MOVED]),
            Meeting.starts_at > uow.now,
        )
        .distinct()
    )
    return set(found)


def _counts(uow: UnitOfWork, idea_ids: list[int]) -> dict[tuple[int, str], int]:
    """(idea id, kind) → how many, as the idea card counts them (confirmed champions)."""
    if not idea_ids:
        return {}
    rows = uow.session.execute(
        select(Involvement.idea_id, Involvement.kind, func.count().label("n"))
        .where(
            Involvement.idea_id.in_(idea_ids),
            or_(Involvement.kind != ideas_.Kind.CHAMPION, Involvement.confirmed.is_(True)),
        )
        .group_by(Involvement.idea_id, Involvement.kind)
    )
    return {(row.idea_id, row.kind): row.n for row in rows}


def _partners(
    uow: UnitOfWork, wijk_ids: list[int], idea_ids: list[int]
) -> tuple[dict[int, list[Partner]], dict[int, set[int]]]:
    """The partners of these wijken, and the partners each idea is linked to already."""
    partners: dict[int, list[Partner]] = defaultdict(list)
    linked: dict[int, set[int]] = defaultdict(set)
    if not wijk_ids:
        return partners, linked
    for p in uow.session.scalars(
        select(Partner).where(Partner.wijk_id.in_(wijk_ids)).order_by(Partner.id)
    ):
        partners[p.wijk_id].append(p)
    if partners and idea_ids:
        for row in uow.session.execute(
            select(IdeaPartner.idea_id, IdeaPartner.partner_id).where(
                IdeaPartner.idea_id.in_(idea_ids)
            )
        ):
            linked[row.idea_id].add(row.partner_id)
    return partners, linked


def _people(uow: UnitOfWork, ids: list[int]) -> list[Recipient]:
    if not ids:
        return []
    rows = uow.session.scalars(
        select(Person).where(
            Person.id.in_(ids),
            Person.private_ok.is_(True),
            Person.no_nudges.is_(False),
            Person.erased.is_(False),
        )
    )
    return [
        Recipient(tg_user_id=p.tg_user_id, language=p.language, tg_language_code=p.tg_language_code)
        for p in rows
    ]


def _champions_or_author(uow: UnitOfWork, idea: Idea) -> list[Recipient]:
    champions = list(
        uow.session.scalars(
            select(Involvement.person_id).where(
                Involvement.idea_id == idea.id,
                Involvement.kind == ideas_.Kind.CHAMPION,
                Involvement.confirmed.is_(True),
            )
        )
    )
    ids = champions or ([idea.author_id] if idea.author_id else [])
    return _people(uow, ids)


def facilitators(uow: UnitOfWork, wijk: Wijk, telegram_admins: list[int]) -> list[Recipient]:
    """The wijk's facilitators who may get a private nudge (appointed ones and admins)."""
    appointed = list(
        uow.session.scalars(
            select(Membership.person_id).where(
                Membership.wijk_id == wijk.id,
                Membership.role.in_(STEERING),
                Membership.left.is_(False),
            )
        )
    )
    admins = list(
        uow.session.scalars(select(Person.id).where(Person.tg_user_id.in_(telegram_admins)))
    )
    return _people(uow, sorted(set(appointed) | set(admins)))


def prepare(
    uow: UnitOfWork, claimed: list[Claimed], admins: dict[int, list[int]]
) -> list[WijkNudges]:
    """Decide per wijk what goes out now: one combined group message for rung 1 (within
    the daily cap), private messages for rungs 2 and 3. Ideas that must wait (quiet hours,
    a day switched off, the cap) get a new due time; nudges switched off: left alone.
    ``admins`` maps a wijk's chat id to its Telegram admins (asked of Telegram before, for
    the wijken with a rung-3 nudge). What every idea needs is loaded for the whole batch
    at once: a few queries per batch, not per idea."""
    if not claimed:
        return []
    order = list(dict.fromkeys(c.wijk_id for c in claimed))
    wijken = {w.id: w for w in uow.session.scalars(select(Wijk).where(Wijk.id.in_(order)))}
    by_wijk: dict[int, list[Idea]] = defaultdict(list)
    for idea in uow.session.scalars(select(Idea).where(Idea.id.in_([c.idea_id for c in claimed]))):
        by_wijk[idea.wijk_id].append(idea)
    now_open: list[tuple[Wijk, WijkSettings, list[Idea]]] = []
    for wijk_id in order:
        wijk, rows = wijken[wijk_id], by_wijk[wijk_id]
        settings = WijkSettings.load(wijk.settings)
        if not settings.nudges or not settings.nudge_days:
            for idea in rows:
                idea.nudge_due_at = None
            continue
        allowed = next_allowed(
            uow.now,
            wijk.timezone,
            start=settings.quiet_start,
            end=settings.quiet_end,
            days=settings.nudge_days,
        )
        if allowed > uow.now:
            for idea in rows:
                idea.nudge_due_at = allowed
            continue
        now_open.append((wijk, settings, rows))
    open_wijken = [w.id for w, _, _ in now_open]
    idea_ids = [i.id for _, _, rows in now_open for i in rows]
    planned = _meeting_planned(uow, open_wijken)
    sent_today = _sent_today(uow, [w for w, _, _ in now_open])
    counts = _counts(uow, idea_ids)
    partners, linked = _partners(uow, open_wijken, idea_ids)
    out: list[WijkNudges] = []
    for wijk, settings, rows in now_open:
        cap_left = settings.nudge_cap - sent_today.get(wijk.id, 0)
        group: list[Item] = []
        private: list[Item] = []
        steering: list[Recipient] | None = None  # the facilitators, asked once per wijk
        for idea in sorted(rows, key=lambda i: i.number):
            level = idea.nudge_level + 1
            found = partners_.rank(idea, partners[wijk.id], linked[idea.id], limit=1)
            best = found[0] if found else None
            step = step_for(
                champions=counts.get((idea.id, ideas_.Kind.CHAMPION), 0),
                helpers=counts.get((idea.id, ideas_.Kind.HELPER), 0),
                partner=best.partner.name if best else None,
                status=lifecycle.State(idea.status),
                meeting_planned=wijk.id in planned,
            )
            item = Item(
                idea_id=idea.id,
                number=idea.number,
                title=idea.title,
                level=level,
                step=step,
                partner=best.partner.name if best else None,
                partner_id=best.partner.id if best else None,
            )
            if level == 1:
                if cap_left <= 0:
                    tomorrow = (uow.now + timedelta(days=1)).astimezone(ZoneInfo(wijk.timezone))
                    start = tomorrow.replace(hour=0, minute=0, second=0, microsecond=0)
                    idea.nudge_due_at = next_allowed(
                        start.astimezone(ZoneInfo("UTC")),
                        wijk.timezone,
                        start=settings.quiet_start,
                        end=settings.quiet_end,
                        days=settings.nudge_days,
                    )
                    continue
                group.append(item)
            elif level == 2:
                who = _champions_or_author(uow, idea)
                near = [
                    f"{h.name} (@{h.username})" if h.username else h.name
                    for h in ideas_.same_interest(uow, idea)
                ]
                private.append(replace(item, recipients=who, neighbours=near))
            else:
                if steering is None:
                    steering = facilitators(uow, wijk, admins.get(wijk.tg_chat_id, []))
                private.append(replace(item, recipients=steering))
        out.append(
            WijkNudges(
                wijk_id=wijk.id,
                tg_chat_id=wijk.tg_chat_id,
                language=wijk.language,
                group=group,
                private=private,
                held_until=claimed[0].held_until,  # one claim: the same for the whole batch
            )
        )
    return out


def sent(uow: UnitOfWork, items: list[Item], wijk_id: int) -> None:
    """Record the rungs that went out (Nudge rows and IdeaEvents) and plan the next one;
    after the last rung the idea is left alone until something happens."""
    wijk = uow.session.get(Wijk, wijk_id)
    settings = WijkSettings.load(wijk.settings if wijk else None)
    for item in items:
        idea = uow.session.get(Idea, item.idea_id)
        if idea is None:
            continue
        uow.session.add(
            Nudge(
                idea_id=idea.id, wijk_id=wijk_id, level=item.level, step=item.step, sent_at=uow.now
            )
        )
        # A nudge is logged, but it is not activity: it must not reset the ladder.
        uow.session.add(
            IdeaEvent(
                idea_id=idea.id,
                actor_id=None,
                kind="nudge",
                detail={"level": item.level, "step": item.step.value},
                at=uow.now,
            )
        )
        idea.nudge_level = item.level
        idea.nudge_due_at = (
            uow.now + timedelta(seconds=settings.nudge_after) if item.level < LAST_RUNG else None
        )


def release(uow: UnitOfWork, idea_ids: list[int], at: datetime, held_until: datetime) -> None:
    """Delivery failed: try these again at ``at`` (those still held by this claim)."""
    uow.session.execute(
        update(Idea)
        .where(Idea.id.in_(idea_ids), Idea.nudge_due_at == held_until)
        .values(nudge_due_at=at)
        .execution_options(synchronize_session=False)
    )


def opt_out(uow: UnitOfWork, tg_user_id: int) -> None:
    person = queries.person_by_tg(uow.session, tg_user_id)
    if person is None:
        raise Refusal("who_are_you")
    person.no_nudges = True


def park_from_nudge(
    uow: UnitOfWork, tg_user_id: int, idea_id: int, telegram_admin: bool, *, roles_hold: bool = True
) -> ideas_.StatusChange:
    """ "Parkeer het idee" under a private nudge: for its confirmed champions, its author
    and the wijk's facilitators, while they are in the idea's wijk and the idea is visible
    and open (``move`` refuses what the lifecycle does not allow). ``telegram_admin``: an
    admin of the idea's group, asked of Telegram by the caller. ``roles_hold``: False when
    the person's place in the group could not be checked, so an appointed role counts for
    nothing."""
    person = queries.person_by_tg(uow.session, tg_user_id)
    idea = uow.session.get(Idea, idea_id)
    if person is None or idea is None or idea.hidden:
        raise Refusal("stale_button")
    wijk = uow.session.get(Wijk, idea.wijk_id)
    if wijk is None or not wijk.active:
        raise Refusal("stale_button")
    member = queries.membership(uow.session, idea.wijk_id, person.id)
    # Someone who left the group no longer steers it, even with an old role.
    present = member is not None and not member.left
    own = ideas_.is_own(uow, idea, person) or ideas_.is_champion(uow, idea, person)
    steer = telegram_admin or (
        roles_hold and present and member is not None and member.role in STEERING
    )
    if not ((own and present) or steer):
        raise NotAllowed()
    return ideas_.move(uow, idea, person, lifecycle.State.PARKED)


def wijk_chat_of_idea(uow: UnitOfWork, idea_id: int) -> int | None:
    idea = uow.session.get(Idea, idea_id)
    wijk = uow.session.get(Wijk, idea.wijk_id) if idea else None
    return wijk.tg_chat_id if wijk else None
