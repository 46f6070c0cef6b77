"""The wijkfoto: the wijk's profile (omgevingsfoto) and figures of who takes part and when.

Activity is derived from what people already did with the bot (idea events, RSVPs, open
votes): counts only, no message content is stored for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from buddybot.domain import lifecycle
from buddybot.domain.lifecycle import State
from buddybot.domain.plain_text import plain
from buddybot.domain.roles import STEERING
from buddybot.domain.wijk_settings import WijkSettings
from buddybot.services.errors import Refusal
from buddybot.services.people import Caller, require_facilitator
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import (
    Idea,
    IdeaEvent,
    IdeaPartner,
    Involvement,
    Meeting,
    Membership,
    Partner,
    Poll,
    PollVote,
    Rsvp,
    Wijk,
)

FIELDS = {
    "identiteit": "identity",
    "identity": "identity",
    "ritme": "rhythm",
    "rhythm": "rhythm",
    "structuur": "social",
    "social": "social",
    "kanalen": "channels",
    "channels": "channels",
    "plekken": "places",
    "places": "places",
}
ORDER = ("identity", "rhythm", "social", "channels", "places")
FIELD_MAX = 1000
WEEKS = 12


@dataclass(frozen=True, slots=True)
class Profile:
    title: str
    fields: dict[str, str]  # key (ORDER) -> text


@dataclass(frozen=True, slots=True)
class Figures:
    wijk_id: int
    title: str
    language: str
    zone: str
    members: int
    active_30d: int
    new_ideas_30d: int
    funnel: dict[State, int]
    with_champion: int
    without_champion: int
    quiet: int
    meetings_held: int
    rsvps_yes: int
    votes_closed: int
    turnout: float | None  # mean share of members who voted in closed votes
    partners: int
    links: int
    weeks: list[tuple[date, int]]
    heatmap: list[list[int]]  # [weekday][hour]


def profile_of(caller: Caller) -> Profile:
    if caller.wijk is None:
        raise Refusal("group_only")
    return _profile(caller.wijk)


def _profile(wijk: Wijk) -> Profile:
    stored = dict(wijk.profile or {})
    return Profile(title=wijk.title, fields={k: str(stored[k]) for k in ORDER if stored.get(k)})


def set_profile(uow: UnitOfWork, caller: Caller, field: str, text: str) -> Profile:
    wijk = require_facilitator(caller)
    key = FIELDS.get(field.lower())
    if key is None:
        raise Refusal("profile_field", field=field[:20])
    text = plain(text).strip()
    if len(text) > FIELD_MAX:
        raise Refusal("profile_long", maximum=FIELD_MAX, length=len(text))
    profile = dict(wijk.profile or {})
    if text:
        profile[key] = text
    else:
        profile.pop(key, None)
    wijk.profile = profile
    wijk.updated_at = uow.now
    return _profile(wijk)


def steered(
    uow: UnitOfWork, caller: Caller, telegram_admin_of: set[int], unknown: set[int] | None = None
) -> list[Wijk]:
    """The wijken this person steers (for the private picker and the overview):
    appointed roles, plus groups where Telegram says they are an admin; never the groups
    (chat ids) in ``unknown``, where their place could not be checked."""
    if caller.person is None:
        return []
    if caller.superadmin:
        return list(uow.session.scalars(select(Wijk).where(Wijk.active).order_by(Wijk.title)))
    rows = uow.session.execute(
        select(Wijk, Membership.role)
        .join(Membership, Membership.wijk_id == Wijk.id)
        .where(Membership.person_id == caller.person.id, Wijk.active, Membership.left.is_(False))
        .order_by(Wijk.title)
    )
    out = []
    for wijk, role in rows:
        if unknown and wijk.tg_chat_id in unknown:
            continue
        if role in STEERING or wijk.tg_chat_id in telegram_admin_of:
            out.append(wijk)
    return out


def figures(uow: UnitOfWork, wijk: Wijk) -> Figures:
    now = uow.now
    month = now - timedelta(days=30)
    s = uow.session
    members = s.scalar(
        select(func.count()).where(Membership.wijk_id == wijk.id, Membership.left.is_(False))
    )
    active = s.scalar(
        select(func.count()).where(Membership.wijk_id == wijk.id, Membership.last_seen_at >= month)
    )
    visible = (Idea.wijk_id == wijk.id, Idea.hidden.is_(False))
    new_ideas = s.scalar(select(func.count()).where(*visible, Idea.created_at >= month))
    funnel = {state: 0 for state in State}
    for row in s.execute(
        select(Idea.status, func.count().label("n")).where(*visible).group_by(Idea.status)
    ):
        funnel[State(row.status)] = row.n
    champions = select(Involvement.idea_id).where(
        Involvement.kind == "champion", Involvement.confirmed.is_(True)
    )
    open_states = [st.value for st in lifecycle.OPEN]
    with_champion = s.scalar(
        select(func.count()).where(*visible, Idea.status.in_(open_states), Idea.id.in_(champions))
    )
    open_total = sum(funnel[st] for st in lifecycle.OPEN)
    settings = WijkSettings.load(wijk.settings)
    quiet = s.scalar(
        select(func.count()).where(
            *visible,
            Idea.status.in_(open_states),
            Idea.last_activity_at <= now - timedelta(seconds=settings.nudge_after),
        )
    )
    held = s.scalar(
        select(func.count()).where(Meeting.wijk_id == wijk.id, Meeting.status == "held")
    )
    yes = s.scalar(
        select(func.count())
        .select_from(Rsvp)
        .join(Meeting, Meeting.id == Rsvp.meeting_id)
        .where(Meeting.wijk_id == wijk.id, Rsvp.answer == "yes")
    )
    closed = list(s.scalars(select(Poll).where(Poll.wijk_id == wijk.id, Poll.status == "closed")))
    turnout = (
        sum(min(p.voters, members or 0) / members for p in closed) / len(closed)
        if closed and members
        else None
    )
    partners = s.scalar(select(func.count()).where(Partner.wijk_id == wijk.id))
    links = s.scalar(
        select(func.count())
        .select_from(IdeaPartner)
        .join(Partner, Partner.id == IdeaPartner.partner_id)
        .where(Partner.wijk_id == wijk.id)
    )
    moments = _moments(uow, wijk, since=now - timedelta(weeks=26))
    return Figures(
        wijk_id=wijk.id,
        title=wijk.title,
        language=wijk.language,
        zone=wijk.timezone,
        members=int(members or 0),
        active_30d=int(active or 0),
        new_ideas_30d=int(new_ideas or 0),
        funnel=funnel,
        with_champion=int(with_champion or 0),
        without_champion=open_total - int(with_champion or 0),
        quiet=int(quiet or 0),
        meetings_held=int(held or 0),
        rsvps_yes=int(yes or 0),
        votes_closed=len(closed),
        turnout=turnout,
        partners=int(partners or 0),
        links=int(links or 0),
        weeks=_weeks(moments, now, wijk.timezone),
        heatmap=_heatmap(moments, wijk.timezone),
    )


def _moments(uow: UnitOfWork, wijk: Wijk, since: datetime) -> list[datetime]:
    """When people acted with the bot in this wijk (timestamps only)."""
    s = uow.session
    events = s.scalars(
        select(IdeaEvent.at)
        .join(Idea, Idea.id == IdeaEvent.idea_id)
        .where(Idea.wijk_id == wijk.id, IdeaEvent.actor_id.is_not(None), IdeaEvent.at >= since)
    )
    rsvps = s.scalars(
        select(Rsvp.at)
        .join(Meeting, Meeting.id == Rsvp.meeting_id)
        .where(Meeting.wijk_id == wijk.id, Rsvp.at >= since)
    )
    votes = s.scalars(
        select(PollVote.at)
        .join(Poll, Poll.id == PollVote.poll_id)
        .where(Poll.wijk_id == wijk.id, PollVote.at >= since)
    )
    return [*events, *rsvps, *votes]


def _weeks(moments: list[datetime], now: datetime, zone: str) -> list[tuple[date, int]]:
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    this_monday = today - timedelta(days=today.weekday())
    starts = [this_monday - timedelta(weeks=i) for i in range(WEEKS - 1, -1, -1)]
    counts = dict.fromkeys(starts, 0)
    for moment in moments:
        day = moment.astimezone(tz).date()
        monday = day - timedelta(days=day.weekday())
        if monday in counts:
            counts[monday] += 1
    return list(counts.items())


def _heatmap(moments: list[datetime], zone: str) -> list[list[int]]:
    tz = ZoneInfo(zone)
    grid = [[0] * 24 for _ in range(7)]
    for moment in moments:
        local = moment.astimezone(tz)
        grid[local.weekday()][local.hour] += 1
    return grid


def figures_for(uow: UnitOfWork, caller: Caller) -> Figures:
    return figures(uow, require_facilitator(caller))


def figures_of(uow: UnitOfWork, wijk_id: int, allowed: list[Wijk]) -> Figures:
    wijk = next((w for w in allowed if w.id == wijk_id), None)
    if wijk is None:
        raise Refusal("stale_button")
    return figures(uow, wijk)
