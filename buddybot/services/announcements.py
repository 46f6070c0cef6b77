"""Scheduled announcements (once or weekly) and the weekly digest of a wijk."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from buddybot.domain import lifecycle
from buddybot.domain.plain_text import plain
from buddybot.domain.wijk_settings import WijkSettings
from buddybot.scheduling import due
from buddybot.services.errors import Refusal
from buddybot.services.meetings import Status as MeetingStatus
from buddybot.services.meetings import read_when
from buddybot.services.people import Caller, require_facilitator
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Announcement, Idea, IdeaEvent, Meeting, Poll, Wijk

TEXT_MAX = 2000
ANNOUNCEMENT = "announcement"
DIGEST = "digest"
WEEKLY = re.compile(r"^\s*(elke|iedere|every|weekly)\s+", re.I)


@dataclass(frozen=True, slots=True)
class Planned:
    id: int
    text: str
    next_at: datetime
    weekly: bool
    zone: str


@dataclass(frozen=True, slots=True)
class Due:
    text: str
    tg_chat_id: int
    language: str


@dataclass(frozen=True, slots=True)
class DigestIdea:
    number: int
    title: str
    status: lifecycle.State


@dataclass(frozen=True, slots=True)
class DigestMeeting:
    number: int
    title: str
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class DigestVote:
    number: int
    question: str
    deadline: datetime


@dataclass(frozen=True, slots=True)
class Digest:
    tg_chat_id: int
    language: str
    zone: str
    new_ideas: list[DigestIdea]
    moved_ideas: list[DigestIdea]
    meetings: list[DigestMeeting]
    votes: list[DigestVote]


def _planned(a: Announcement, zone: str) -> Planned:
    return Planned(id=a.id, text=a.text, next_at=a.next_at, weekly=a.weekly, zone=zone)


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def next_weekly(after: datetime, weekday: int, at: str, zone: str) -> datetime:
    """The first ``weekday`` at local time ``at`` strictly after ``after`` (UTC), computed
    in the wijk's zone so that a daylight-saving change keeps the local time."""
    tz = ZoneInfo(zone)
    local_after = after.astimezone(tz)
    hour, minute = (int(p) for p in at.split(":"))
    day: date = local_after.date()
    for _ in range(8):
        if day.weekday() == weekday:
            candidate = datetime.combine(day, time(hour, minute), tzinfo=tz)
            if candidate > local_after:
                return candidate.astimezone(ZoneInfo("UTC"))
        day += timedelta(days=1)
    raise AssertionError("a week always has the weekday")


def _plan_occurrence(uow: UnitOfWork, a: Announcement) -> None:
    due.plan(
        uow,
        kind=ANNOUNCEMENT,
        key=f"announcement:{a.id}:{a.sent_count}",
        due_at=a.next_at,
        wijk_id=a.wijk_id,
        payload={"announcement": a.id, "occurrence": a.sent_count},
    )


def schedule(uow: UnitOfWork, caller: Caller, text: str) -> Planned:
    """``<when> | <text>``; a when that starts with "elke"/"every" repeats weekly."""
    wijk = require_facilitator(caller)
    if "|" not in text:
        raise Refusal("announce_usage")
    when_text, _, body = text.partition("|")
    body = plain(body).strip()
    if not body:
        raise Refusal("announce_usage")
    if len(body) > TEXT_MAX:
        raise Refusal("announce_long", maximum=TEXT_MAX, length=len(body))
    weekly = bool(WEEKLY.match(when_text))
    moment = read_when(uow, wijk, WEEKLY.sub("", when_text))
    local = _local(moment, wijk.timezone)
    announcement = Announcement(
        wijk_id=wijk.id,
        text=body,
        next_at=moment,
        weekly=weekly,
        local_time=local.strftime("%H:%M"),
        weekday=local.weekday(),
        status="pending",
        sent_count=0,
        created_by=caller.person.id if caller.person else None,
        created_at=uow.now,
    )
    uow.session.add(announcement)
    uow.session.flush()
    _plan_occurrence(uow, announcement)
    return _planned(announcement, wijk.timezone)


def pending(uow: UnitOfWork, caller: Caller) -> list[Planned]:
    wijk = require_facilitator(caller)
    rows = uow.session.scalars(
        select(Announcement)
        .where(Announcement.wijk_id == wijk.id, Announcement.status == "pending")
        .order_by(Announcement.next_at)
        .limit(20)
    )
    return [_planned(a, wijk.timezone) for a in rows]


def cancel(uow: UnitOfWork, caller: Caller, announcement_id: int) -> Planned:
    wijk = require_facilitator(caller)
    a = uow.session.get(Announcement, announcement_id)
    if a is None or a.wijk_id != wijk.id:
        raise Refusal("stale_button")
    if a.status != "pending":
        raise Refusal("announcement_gone")
    a.status = "cancelled"
    due.cancel_prefix(uow, f"announcement:{a.id}:")
    return _planned(a, wijk.timezone)


def text_of(uow: UnitOfWork, caller: Caller, announcement_id: int) -> str:
    wijk = require_facilitator(caller)
    a = uow.session.get(Announcement, announcement_id)
    if a is None or a.wijk_id != wijk.id:
        raise Refusal("stale_button")
    return a.text


def _due_announcement(
    uow: UnitOfWork, payload: dict[str, object]
) -> tuple[Announcement, Wijk] | None:
    a = uow.session.get(Announcement, int(str(payload.get("announcement", 0))))
    if a is None or a.status != "pending":
        return None
    if a.sent_count != int(str(payload.get("occurrence", -1))):
        return None
    wijk = uow.session.get(Wijk, a.wijk_id)
    if wijk is None or not wijk.active:
        return None
    return a, wijk


def announcement_due(uow: UnitOfWork, payload: dict[str, object]) -> Due | None:
    """The text to post now (nothing changes until it is posted: see ``posted``)."""
    found = _due_announcement(uow, payload)
    if found is None:
        return None
    a, wijk = found
    return Due(text=a.text, tg_chat_id=wijk.tg_chat_id, language=wijk.language)


def posted(uow: UnitOfWork, payload: dict[str, object]) -> None:
    """It went out: a weekly one plans its next week at the same local time."""
    found = _due_announcement(uow, payload)
    if found is None:
        return
    a, wijk = found
    a.sent_count += 1
    if a.weekly:
        a.next_at = next_weekly(a.next_at, a.weekday, a.local_time, wijk.timezone)
        _plan_occurrence(uow, a)
    else:
        a.status = "done"


# -- the weekly digest --------------------------------------------------------------------


def plan_digest(uow: UnitOfWork, wijk_id: int) -> None:
    wijk = uow.session.get(Wijk, wijk_id)
    if wijk is None:
        return
    settings = WijkSettings.load(wijk.settings)
    at = next_weekly(uow.now, settings.digest_weekday, settings.digest_time, wijk.timezone)
    due.plan(
        uow,
        kind=DIGEST,
        key=f"digest:{wijk.id}:{at.date().isoformat()}",
        due_at=at,
        wijk_id=wijk.id,
        payload={"wijk": wijk.id},
    )


def digest_due(uow: UnitOfWork, payload: dict[str, object]) -> Digest | None:
    """What happened this week; None when the wijk turned it off or there is nothing to
    tell. The next digest is planned either way."""
    wijk = uow.session.get(Wijk, int(str(payload.get("wijk", 0))))
    if wijk is None:
        return None
    plan_digest(uow, wijk.id)
    if not wijk.active or not WijkSettings.load(wijk.settings).digest:
        return None
    week_ago = uow.now - timedelta(days=7)
    new = uow.session.scalars(
        select(Idea)
        .where(Idea.wijk_id == wijk.id, Idea.hidden.is_(False), Idea.created_at >= week_ago)
        .order_by(Idea.number)
    )
    new_ideas = [
        DigestIdea(number=i.number, title=i.title, status=lifecycle.State(i.status)) for i in new
    ]
    new_numbers = {i.number for i in new_ideas}
    moved = uow.session.scalars(
        select(Idea)
        .where(
            Idea.wijk_id == wijk.id,
            Idea.hidden.is_(False),
            Idea.id.in_(
                select(IdeaEvent.idea_id).where(
                    IdeaEvent.kind == "status", IdeaEvent.at >= week_ago
                )
            ),
        )
        .order_by(Idea.number)
    )
    moved_ideas = [
        DigestIdea(number=i.number, title=i.title, status=lifecycle.State(i.status))
        for i in moved
        if i.number not in new_numbers
    ]
    upcoming = uow.session.scalars(
        select(Meeting)
        .where(
            Meeting.wijk_id == wijk.id,
            Meeting.status.in_([MeetingStatus.PLANNED, MeetingStatus.MOVED]),
            Meeting.starts_at > uow.now,
            Meeting.starts_at <= uow.now + timedelta(days=14),
        )
        .order_by(Meeting.starts_at)
    )
    meetings = [
        DigestMeeting(number=m.number, title=m.title, starts_at=m.starts_at) for m in upcoming
    ]
    open_votes = uow.session.scalars(
        select(Poll).where(Poll.wijk_id == wijk.id, Poll.status == "open").order_by(Poll.deadline)
    )
    votes = [
        DigestVote(number=p.number, question=p.question, deadline=p.deadline) for p in open_votes
    ]
    if not (new_ideas or moved_ideas or meetings or votes):
        return None
    return Digest(
        tg_chat_id=wijk.tg_chat_id,
        language=wijk.language,
        zone=wijk.timezone,
        new_ideas=new_ideas,
        moved_ideas=moved_ideas,
        meetings=meetings,
        votes=votes,
    )
