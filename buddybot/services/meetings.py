"""Meetings: announce (draft, then confirm), RSVP, move, cancel, remind, follow up.

Reminders and the follow-up are due items keyed by meeting and sequence, so a moved
meeting's old reminders are cancelled and never sent at the old time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import bindparam, func, select

from buddybot.domain import when as when_
from buddybot.domain.ics import MeetingEvent
from buddybot.domain.plain_text import plain
from buddybot.domain.wijk_settings import WijkSettings
from buddybot.scheduling import due
from buddybot.services.errors import Refusal
from buddybot.services.people import Caller, display_name, require_facilitator
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Meeting, Person, Rsvp, Wijk
from buddybot.storage.queries import upsert

TITLE_MIN, TITLE_MAX = 3, 100
PLACE_MAX = 100
DETAILS_MAX = 1000
REMINDER = "meeting.reminder"
FOLLOWUP = "meeting.followup"


class Status(StrEnum):
    DRAFT = "draft"
    PLANNED = "planned"
    MOVED = "moved"
    CANCELLED = "cancelled"
    HELD = "held"


class Answer(StrEnum):
    YES = "yes"
    MAYBE = "maybe"
    NO = "no"


@dataclass(frozen=True, slots=True)
class Card:
    id: int
    wijk_id: int
    number: int
    title: str
    place: str
    details: str
    starts_at: datetime
    zone: str
    status: Status
    sequence: int
    organiser: str
    yes: int
    maybe: int
    no: int
    reason: str | None
    card_chat_id: int | None
    card_message_id: int | None


@dataclass(frozen=True, slots=True)
class Recipient:
    tg_user_id: int
    private_ok: bool
    language: str | None
    tg_language_code: str | None


@dataclass(frozen=True, slots=True)
class Change:
    card: Card
    old_start: datetime
    notify: list[Recipient]


@dataclass(frozen=True, slots=True)
class Reminder:
    card: Card
    tg_chat_id: int
    language: str
    offset: int  # seconds before the start
    going: list[Recipient]


@dataclass(frozen=True, slots=True)
class FollowUp:
    card: Card
    tg_chat_id: int
    language: str


def _settings(wijk: Wijk) -> WijkSettings:
    return WijkSettings.load(wijk.settings)


def read_when(uow: UnitOfWork, wijk: Wijk, text: str) -> datetime:
    """The moment a facilitator means, or a refusal that says what was wrong. A moment more
    than the wijk's ``max_ahead`` ahead is refused (saying how far ahead is allowed)."""
    horizon = timedelta(seconds=_settings(wijk).max_ahead)
    try:
        return when_.parse_when(
            text, now=uow.now, zone=wijk.timezone, lang=wijk.language, horizon=horizon
        )
    except when_.WhenError as exc:
        raise Refusal(
            f"when_{exc.kind}",
            text=text[:60],
            example=when_.format_example(wijk.language),
            within=when_.span(horizon),
        ) from None


def _fields(title: str, place: str, details: str) -> tuple[str, str, str]:
    title, place, details = plain(title), plain(place), plain(details)
    title, place, details = " ".join(title.split()), " ".join(place.split()), details.strip()
    if len(title) < TITLE_MIN:
        raise Refusal("meeting_title_short", minimum=TITLE_MIN)
    if len(title) > TITLE_MAX:
        raise Refusal("meeting_title_long", maximum=TITLE_MAX, length=len(title))
    if not place:
        raise Refusal("meeting_place_missing")
    if len(place) > PLACE_MAX:
        raise Refusal("meeting_place_long", maximum=PLACE_MAX, length=len(place))
    if len(details) > DETAILS_MAX:
        raise Refusal("description_long", maximum=DETAILS_MAX, length=len(details))
    return title, place, details


# An RSVP press runs these: built once (see services/ideas.py on building statements).
_RSVP_COUNTS = (
    select(Rsvp.answer, func.count().label("n"))
    .where(Rsvp.meeting_id == bindparam("meeting"))
    .group_by(Rsvp.answer)
)
_WITH_ORGANISER = (
    select(Meeting, Person)
    .outerjoin(Person, Person.id == Meeting.organiser_id)
    .where(Meeting.id == bindparam("meeting"))
)


def card(uow: UnitOfWork, meeting: Meeting, wijk: Wijk | None = None) -> Card:
    """``wijk``: the meeting's wijk, when the caller has it (one query less)."""
    rows = uow.session.execute(_RSVP_COUNTS, {"meeting": meeting.id})
    counts = {row.answer: row.n for row in rows}
    if wijk is None or wijk.id != meeting.wijk_id:
        wijk = uow.session.get(Wijk, meeting.wijk_id)
    assert wijk is not None
    zone = wijk.timezone
    organiser = ""
    if meeting.organiser_id:  # (loaded along with the meeting where it is shown)
        organiser = display_name(uow.session.get(Person, meeting.organiser_id))
    return Card(
        id=meeting.id,
        wijk_id=meeting.wijk_id,
        number=meeting.number,
        title=meeting.title,
        place=meeting.place,
        details=meeting.details,
        starts_at=meeting.starts_at,
        zone=zone,
        status=Status(meeting.status),
        sequence=meeting.sequence,
        organiser=organiser,
        yes=int(counts.get(Answer.YES, 0)),
        maybe=int(counts.get(Answer.MAYBE, 0)),
        no=int(counts.get(Answer.NO, 0)),
        reason=meeting.reason,
        card_chat_id=meeting.card_chat_id,
        card_message_id=meeting.card_message_id,
    )


def card_by_id(uow: UnitOfWork, meeting_id: int) -> Card | None:
    meeting = uow.session.get(Meeting, meeting_id)
    return None if meeting is None else card(uow, meeting)


def draft(
    uow: UnitOfWork, caller: Caller, when_text: str, place: str, title: str, details: str = ""
) -> Card:
    """A meeting waiting for the facilitator's "Klopt": nothing is posted yet."""
    wijk = require_facilitator(caller)
    starts = read_when(uow, wijk, when_text)
    title, place, details = _fields(title, place, details)
    number = 1 + int(
        uow.session.scalar(select(func.max(Meeting.number)).where(Meeting.wijk_id == wijk.id)) or 0
    )
    meeting = Meeting(
        wijk_id=wijk.id,
        number=number,
        title=title,
        place=place,
        details=details,
        starts_at=starts,
        status=Status.DRAFT.value,
        sequence=0,
        organiser_id=caller.person.id if caller.person else None,
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(meeting)
    uow.session.flush()
    return card(uow, meeting)


def _own_meeting(uow: UnitOfWork, caller: Caller, meeting_id: int) -> Meeting:
    wijk = require_facilitator(caller)
    meeting = uow.session.get(Meeting, meeting_id)
    if meeting is None or meeting.wijk_id != wijk.id:
        raise Refusal("stale_button")
    return meeting


def _plan(uow: UnitOfWork, meeting: Meeting, wijk: Wijk) -> None:
    settings = _settings(wijk)
    prefix = f"meeting:{meeting.id}:{meeting.sequence}"
    for offset in settings.reminder_offsets:
        at = meeting.starts_at - timedelta(seconds=offset)
        if at > uow.now:
            due.plan(
                uow,
                kind=REMINDER,
                key=f"{prefix}:remind:{offset}",
                due_at=at,
                wijk_id=wijk.id,
                payload={"meeting": meeting.id, "sequence": meeting.sequence, "offset": offset},
            )
    due.plan(
        uow,
        kind=FOLLOWUP,
        key=f"{prefix}:followup",
        due_at=meeting.starts_at + timedelta(seconds=settings.followup_after),
        wijk_id=wijk.id,
        payload={"meeting": meeting.id, "sequence": meeting.sequence},
    )


def confirm(uow: UnitOfWork, caller: Caller, meeting_id: int) -> Card:
    meeting = _own_meeting(uow, caller, meeting_id)
    if meeting.status != Status.DRAFT:
        raise Refusal("meeting_not_draft")
    if meeting.starts_at <= uow.now:
        raise Refusal("when_past", text="", example="")
    wijk = caller.wijk
    assert wijk is not None
    meeting.status = Status.PLANNED.value
    meeting.updated_at = uow.now
    _plan(uow, meeting, wijk)
    return card(uow, meeting)


def discard(uow: UnitOfWork, caller: Caller, meeting_id: int) -> None:
    meeting = _own_meeting(uow, caller, meeting_id)
    if meeting.status != Status.DRAFT:
        raise Refusal("meeting_not_draft")
    uow.session.delete(meeting)


def remember_card(uow: UnitOfWork, meeting_id: int, tg_chat_id: int, message_id: int) -> None:
    meeting = uow.session.get(Meeting, meeting_id)
    if meeting is not None:
        meeting.card_chat_id = tg_chat_id
        meeting.card_message_id = message_id


def _visible(uow: UnitOfWork, caller: Caller, meeting_id: int) -> Meeting:
    """A meeting behind a button, only from its own wijk's chat (with its organiser)."""
    if caller.wijk is None:
        raise Refusal("stale_button")
    row = uow.session.execute(_WITH_ORGANISER, {"meeting": meeting_id}).one_or_none()
    if row is None:
        raise Refusal("stale_button")
    meeting: Meeting = row.Meeting
    if meeting.wijk_id != caller.wijk.id or meeting.status == Status.DRAFT:
        raise Refusal("stale_button")
    return meeting


def rsvp(uow: UnitOfWork, caller: Caller, meeting_id: int, answer: Answer) -> Card:
    """Answer (or change the answer to) a meeting invitation."""
    if caller.person is None:
        raise Refusal("who_are_you")
    meeting = _visible(uow, caller, meeting_id)
    if meeting.status in (Status.CANCELLED, Status.HELD) or meeting.starts_at <= uow.now:
        raise Refusal("meeting_over", number=meeting.number)
    values = {
        "meeting_id": meeting.id,
        "person_id": caller.person.id,
        "answer": answer.value,
        "at": uow.now,
    }
    upsert(uow.session, Rsvp, values, ["meeting_id", "person_id"], ["answer", "at"])
    return card(uow, meeting, caller.wijk)


def upcoming(uow: UnitOfWork, caller: Caller, limit: int = 10) -> list[Card]:
    if caller.wijk is None:
        raise Refusal("group_only")
    rows = uow.session.scalars(
        select(Meeting)
        .where(
            Meeting.wijk_id == caller.wijk.id,
            Meeting.status.in_([Status.PLANNED, Status.MOVED]),
            Meeting.starts_at > uow.now,
        )
        .order_by(Meeting.starts_at)
        .limit(limit)
    )
    return [card(uow, m) for m in rows]


def _by_number(uow: UnitOfWork, caller: Caller, number: int) -> Meeting:
    wijk = require_facilitator(caller)
    meeting = uow.session.scalar(
        select(Meeting).where(Meeting.wijk_id == wijk.id, Meeting.number == number)
    )
    if meeting is None or meeting.status == Status.DRAFT:
        raise Refusal("unknown_meeting", number=number)
    if meeting.status in (Status.CANCELLED, Status.HELD) or meeting.starts_at <= uow.now:
        raise Refusal("meeting_over", number=number)
    return meeting


def _answered(uow: UnitOfWork, meeting: Meeting) -> list[Recipient]:
    """Everyone who said "Ik kom" or "Misschien"."""
    rows = uow.session.scalars(
        select(Person)
        .join(Rsvp, Rsvp.person_id == Person.id)
        .where(Rsvp.meeting_id == meeting.id, Rsvp.answer.in_([Answer.YES, Answer.MAYBE]))
    )
    return [
        Recipient(
            tg_user_id=p.tg_user_id,
            private_ok=p.private_ok,
            language=p.language,
            tg_language_code=p.tg_language_code,
        )
        for p in rows
        if not p.erased
    ]


def reschedule(uow: UnitOfWork, caller: Caller, number: int, when_text: str) -> Change:
    meeting = _by_number(uow, caller, number)
    wijk = caller.wijk
    assert wijk is not None
    starts = read_when(uow, wijk, when_text)
    if starts == meeting.starts_at:
        raise Refusal("meeting_same_time", number=number)
    old = meeting.starts_at
    due.cancel_prefix(uow, f"meeting:{meeting.id}:")
    meeting.starts_at = starts
    meeting.status = Status.MOVED.value
    meeting.sequence += 1
    meeting.updated_at = uow.now
    _plan(uow, meeting, wijk)
    return Change(card=card(uow, meeting), old_start=old, notify=_answered(uow, meeting))


def cancel(uow: UnitOfWork, caller: Caller, number: int, reason: str) -> Change:
    meeting = _by_number(uow, caller, number)
    reason = plain(reason).strip()
    if len(reason) > 300:
        raise Refusal("reason_long", maximum=300, length=len(reason))
    due.cancel_prefix(uow, f"meeting:{meeting.id}:")
    meeting.status = Status.CANCELLED.value
    meeting.sequence += 1
    meeting.reason = reason or None
    meeting.updated_at = uow.now
    return Change(
        card=card(uow, meeting), old_start=meeting.starts_at, notify=_answered(uow, meeting)
    )


def calendar_event(uow: UnitOfWork, caller: Caller, meeting_id: int) -> MeetingEvent:
    meeting = _visible(uow, caller, meeting_id)
    c = card(uow, meeting)
    assert caller.wijk is not None
    return event_of(c, _settings(caller.wijk))


def event_of(c: Card, settings: WijkSettings) -> MeetingEvent:
    return MeetingEvent(
        uid=f"meeting-{c.id}@buddybot",
        sequence=c.sequence,
        title=c.title,
        start=c.starts_at,
        duration=timedelta(seconds=settings.meeting_duration),
        zone=c.zone,
        place=c.place,
        details=c.details,
        organiser=c.organiser,
        cancelled=c.status is Status.CANCELLED,
    )


def _due_meeting(uow: UnitOfWork, payload: dict[str, object]) -> tuple[Meeting, Wijk] | None:
    meeting = uow.session.get(Meeting, int(str(payload.get("meeting", 0))))
    if meeting is None or meeting.sequence != int(str(payload.get("sequence", -1))):
        return None
    if meeting.status not in (Status.PLANNED, Status.MOVED):
        return None
    wijk = uow.session.get(Wijk, meeting.wijk_id)
    if wijk is None or not wijk.active:
        return None
    return meeting, wijk


def reminder_due(uow: UnitOfWork, payload: dict[str, object]) -> Reminder | None:
    """What a due reminder says; None when it no longer makes sense (moved, cancelled, or
    the meeting has already started: a late reminder is skipped, not sent late)."""
    found = _due_meeting(uow, payload)
    if found is None or found[0].starts_at <= uow.now:
        return None
    meeting, wijk = found
    offset = int(str(payload.get("offset", 0)))
    closer = [o for o in _settings(wijk).reminder_offsets if o < offset]
    if any(uow.now >= meeting.starts_at - timedelta(seconds=o) for o in closer):
        return None  # a closer reminder is due already: one reminder, not two at once
    going = uow.session.scalars(
        select(Person)
        .join(Rsvp, Rsvp.person_id == Person.id)
        .where(Rsvp.meeting_id == meeting.id, Rsvp.answer == Answer.YES)
    )
    recipients = [
        Recipient(
            tg_user_id=p.tg_user_id,
            private_ok=p.private_ok,
            language=p.language,
            tg_language_code=p.tg_language_code,
        )
        for p in going
        if not p.erased
    ]
    return Reminder(
        card=card(uow, meeting),
        tg_chat_id=wijk.tg_chat_id,
        language=wijk.language,
        offset=offset,
        going=recipients,
    )


def followup_due(uow: UnitOfWork, payload: dict[str, object]) -> FollowUp | None:
    found = _due_meeting(uow, payload)
    if found is None:
        return None
    meeting, wijk = found
    return FollowUp(card=card(uow, meeting), tg_chat_id=wijk.tg_chat_id, language=wijk.language)


def held(uow: UnitOfWork, payload: dict[str, object]) -> None:
    """The follow-up went out: the meeting counts as held."""
    found = _due_meeting(uow, payload)
    if found is not None:
        found[0].status = Status.HELD.value
        found[0].updated_at = uow.now


def pin_warning_needed(uow: UnitOfWork, wijk_id: int) -> bool:
    """True the first time pinning failed in this wijk (the facilitators are told once)."""
    wijk = uow.session.get(Wijk, wijk_id)
    if wijk is None:
        return False
    settings = _settings(wijk)
    if settings.pin_warned:
        return False
    wijk.settings = settings.with_(pin_warned=True).dump()
    return True


def pin_wanted(wijk: Wijk | None) -> bool:
    return wijk is not None and _settings(wijk).pin_meetings
