"""Votes: over ideas or a free question, anonymous or open, closed by the bot at a deadline.

Telegram's own poll timer is far too short, so the deadline is a due item. Votes are kept
from Telegram's updates as they come (``poll_answer`` for open votes, ``poll`` counts for
anonymous ones), so a restart in the middle loses nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select

from buddybot.domain import lifecycle
from buddybot.domain.lifecycle import State
from buddybot.domain.plain_text import plain
from buddybot.scheduling import due
from buddybot.services import ideas as ideas_
from buddybot.services.errors import Refusal
from buddybot.services.meetings import read_when
from buddybot.services.people import Caller, ensure_person, member_seen, require_facilitator
from buddybot.services.refs import ActorRef
from buddybot.storage.db import UnitOfWork
from buddybot.storage.models import Idea, Membership, Person, Poll, PollVote, Wijk
from buddybot.storage.queries import lock_wijk, upsert

# Telegram's limits for polls (Bot API sendPoll).
MAX_OPTIONS = 12
OPTION_MAX = 100
QUESTION_MAX = 300
DEFAULT_DAYS = 7
CLOSE = "poll.close"
UNTIL = re.compile(r"\s+(?:tot|until|till)\s+(.+)$", re.I)
FLAGS = {"open": "open", "meerdere": "multiple", "meer": "multiple", "multiple": "multiple"}


@dataclass(frozen=True, slots=True)
class Option:
    text: str
    idea_id: int | None


@dataclass(frozen=True, slots=True)
class Draft:
    """What the bot will ask, before it is sent."""

    id: int
    number: int
    question: str
    options: list[Option]
    anonymous: bool
    multiple: bool
    deadline: datetime
    zone: str
    needs_confirmation: bool  # proposed by the bot (top ideas): the facilitator confirms


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    question: str
    deadline: datetime
    zone: str


@dataclass(frozen=True, slots=True)
class Ranked:
    text: str
    count: int
    share: float  # of all votes cast, 0..1
    winner: bool


@dataclass(frozen=True, slots=True)
class Result:
    poll_id: int
    number: int
    question: str
    tg_chat_id: int
    message_id: int | None
    language: str
    ranking: list[Ranked]
    voters: int
    members: int
    tie: bool
    selected: list[ideas_.Card]  # ideas that won and moved to "selected"
    recruit: list[ideas_.Card]  # winners without a champion: the recruitment call
    # An anonymous vote whose final count from Telegram (stopPoll) differs from the totals
    # the bot had kept: the result follows Telegram, and says so.
    recounted: bool = False


@dataclass(frozen=True, slots=True)
class Closing:
    """A vote about to close: the Telegram poll to stop first, for its final count."""

    poll_id: int
    tg_chat_id: int
    message_id: int | None


@dataclass(frozen=True, slots=True)
class Tally:
    """Telegram's final count of a poll: voters per option, and people who voted."""

    counts: list[int]
    voters: int


def _parse_flags(words: list[str]) -> tuple[set[str], list[str]]:
    flags: set[str] = set()
    while words and words[0].lower() in FLAGS:
        flags.add(FLAGS[words.pop(0).lower()])
    return flags, words


def draft(uow: UnitOfWork, caller: Caller, text: str, *, question: str) -> Draft:
    """Read ``/stemming`` arguments: ``[open] [meerdere] 3 5 8 [tot <when>]``, or
    ``[open] <question> | <option> | … [tot <when>]``, or nothing but flags and a deadline
    (then the bot proposes the open ideas with the most support). ``question`` is the
    translated question for votes over ideas."""
    wijk = require_facilitator(caller)
    flags, words = _parse_flags(plain(text).split())
    rest = " ".join(words)
    until = UNTIL.search(rest) or (
        re.match(r"^(?:tot|until|till)\s+(.+)$", rest, re.I) if rest else None
    )
    if until:
        rest = rest[: until.start()].strip()
        deadline = read_when(uow, wijk, until.group(1))
    else:
        deadline = uow.now + timedelta(days=DEFAULT_DAYS)
    if deadline <= uow.now:
        raise Refusal("when_past", text="", example="")
    proposed = False
    if "|" in rest:
        parts = [p.strip() for p in rest.split("|")]
        question, texts = parts[0], [p for p in parts[1:] if p]
        if not question:
            raise Refusal("poll_question_missing")
        if len(question) > QUESTION_MAX:
            raise Refusal("poll_question_long", maximum=QUESTION_MAX, length=len(question))
        options = [Option(text=t, idea_id=None) for t in texts]
    elif rest:
        numbers = []
        for word in rest.replace(",", " ").split():
            raw = word.lstrip("#")
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 6):
                raise Refusal("poll_usage")
            numbers.append(int(raw))
        options = [_idea_option(uow, wijk, n) for n in dict.fromkeys(numbers)]
    else:
        options = _top_ideas(uow, wijk)
        proposed = True
    if len(options) < 2:
        raise Refusal("poll_too_few")
    if len(options) > MAX_OPTIONS:
        raise Refusal("poll_too_many", maximum=MAX_OPTIONS)
    for option in options:
        if len(option.text) > OPTION_MAX:
            raise Refusal("poll_option_long", maximum=OPTION_MAX, text=option.text[:40])
    if len({o.text.casefold() for o in options}) < len(options):
        raise Refusal("poll_duplicate_options")
    lock_wijk(uow.session, wijk.id)
    number = 1 + int(
        uow.session.scalar(select(func.max(Poll.number)).where(Poll.wijk_id == wijk.id)) or 0
    )
    poll = Poll(
        wijk_id=wijk.id,
        number=number,
        question=question,
        options=[{"text": o.text, "idea_id": o.idea_id} for o in options],
        counts=[0] * len(options),
        voters=0,
        anonymous="open" not in flags,
        multiple="multiple" in flags,
        deadline=deadline,
        status="draft",
        created_by=caller.person.id if caller.person else None,
        created_at=uow.now,
    )
    uow.session.add(poll)
    uow.session.flush()
    return _as_draft(poll, wijk, proposed)


def _as_draft(poll: Poll, wijk: Wijk, proposed: bool) -> Draft:
    return Draft(
        id=poll.id,
        number=poll.number,
        question=poll.question,
        options=[Option(text=o["text"], idea_id=o.get("idea_id")) for o in poll.options],
        anonymous=poll.anonymous,
        multiple=poll.multiple,
        deadline=poll.deadline,
        zone=wijk.timezone,
        needs_confirmation=proposed,
    )


def _idea_option(uow: UnitOfWork, wijk: Wijk, number: int) -> Option:
    idea = ideas_.find(uow, wijk, number)
    if lifecycle.State(idea.status) not in lifecycle.OPEN:
        raise Refusal("idea_closed", number=number)
    return Option(text=f"#{idea.number} {idea.title}"[:OPTION_MAX], idea_id=idea.id)


def _top_ideas(uow: UnitOfWork, wijk: Wijk) -> list[Option]:
    lines = ideas_.open_lines(uow, wijk, limit=500)
    ranked = sorted(lines, key=lambda line: (-line.supporters, line.number))[:MAX_OPTIONS]
    return [
        Option(text=f"#{line.number} {line.title}"[:OPTION_MAX], idea_id=line.id) for line in ranked
    ]


def draft_of(uow: UnitOfWork, caller: Caller, poll_id: int) -> Poll:
    wijk = require_facilitator(caller)
    poll = uow.session.get(Poll, poll_id)
    if poll is None or poll.wijk_id != wijk.id:
        raise Refusal("stale_button")
    if poll.status != "draft":
        raise Refusal("poll_not_draft")
    return poll


def to_send(uow: UnitOfWork, poll_id: int) -> Draft:
    poll = uow.session.get(Poll, poll_id)
    assert poll is not None
    wijk = uow.session.get(Wijk, poll.wijk_id)
    assert wijk is not None
    return _as_draft(poll, wijk, False)


def discard(uow: UnitOfWork, caller: Caller, poll_id: int) -> None:
    uow.session.delete(draft_of(uow, caller, poll_id))


def sent(uow: UnitOfWork, poll_id: int, tg_poll_id: str, tg_chat_id: int, message_id: int) -> None:
    """Telegram accepted the poll: it is open, and its deadline is planned."""
    poll = uow.session.get(Poll, poll_id)
    assert poll is not None
    poll.tg_poll_id = tg_poll_id
    poll.tg_chat_id = tg_chat_id
    poll.message_id = message_id
    poll.status = "open"
    due.plan(
        uow,
        kind=CLOSE,
        key=f"poll:{poll.id}:close",
        due_at=poll.deadline,
        wijk_id=poll.wijk_id,
        payload={"poll": poll.id},
    )


def open_polls(uow: UnitOfWork, caller: Caller) -> list[Line]:
    if caller.wijk is None:
        raise Refusal("group_only")
    rows = uow.session.scalars(
        select(Poll)
        .where(Poll.wijk_id == caller.wijk.id, Poll.status == "open")
        .order_by(Poll.deadline)
    )
    return [
        Line(number=p.number, question=p.question, deadline=p.deadline, zone=caller.wijk.timezone)
        for p in rows
    ]


def _activity(
    uow: UnitOfWork,
    poll_id: int,
    options: list[dict[str, Any]],
    option_ids: list[int],
    actor: Person | None,
    wijk: Wijk | None = None,
) -> None:
    """A vote counts as activity on the ideas voted for."""
    for i in option_ids:
        if 0 <= i < len(options):
            idea_id = options[i].get("idea_id")
            if idea_id:
                ideas_.record_by_id(uow, int(idea_id), actor, "vote", in_wijk=wijk, poll=poll_id)


# Every vote runs these: built once (see services/ideas.py on building statements).
_BY_TG_POLL = select(Poll).where(Poll.tg_poll_id == bindparam("poll"))
_WITHDRAW = delete(PollVote).where(
    PollVote.poll_id == bindparam("poll"), PollVote.person_id == bindparam("person")
)


def answer(uow: UnitOfWork, tg_poll_id: str, voter: ActorRef, option_ids: list[int]) -> bool:
    """An open vote (or its withdrawal, with no options). False: not one of ours."""
    poll = uow.session.scalars(_BY_TG_POLL, {"poll": tg_poll_id}).one_or_none()
    if poll is None or poll.status != "open":
        return False
    wijk = uow.session.get(Wijk, poll.wijk_id)
    assert wijk is not None
    person = ensure_person(uow, voter)
    member_seen(uow, wijk.id, person.id, None)
    valid = [i for i in option_ids if 0 <= i < len(poll.options)]
    if not valid:
        uow.session.execute(_WITHDRAW, {"poll": poll.id, "person": person.id})
    else:
        upsert(
            uow.session,
            PollVote,
            {"poll_id": poll.id, "person_id": person.id, "option_ids": valid, "at": uow.now},
            keys=["poll_id", "person_id"],
            columns=["option_ids", "at"],
        )
    _activity(uow, poll.id, poll.options, valid, person, wijk)
    return True


def counts(uow: UnitOfWork, tg_poll_id: str, option_counts: list[int], voters: int) -> bool:
    """Telegram's running totals (the only source for anonymous votes)."""
    poll = uow.session.scalars(_BY_TG_POLL, {"poll": tg_poll_id}).one_or_none()
    if poll is None or poll.status != "open" or len(option_counts) != len(poll.options):
        return False
    grew = [
        i for i, (new, old) in enumerate(zip(option_counts, poll.counts, strict=True)) if new > old
    ]
    poll.counts = list(option_counts)
    poll.voters = voters
    if poll.anonymous:
        _activity(uow, poll.id, poll.options, grew, None)
    return True


def find_open(uow: UnitOfWork, caller: Caller, number: int) -> Poll:
    wijk = require_facilitator(caller)
    poll = uow.session.scalar(select(Poll).where(Poll.wijk_id == wijk.id, Poll.number == number))
    if poll is None or poll.status == "draft":
        raise Refusal("unknown_poll", number=number)
    if poll.status != "open":
        raise Refusal("poll_closed", number=number)
    return poll


def due_poll(uow: UnitOfWork, payload: dict[str, object]) -> Poll | None:
    poll = uow.session.get(Poll, int(str(payload.get("poll", 0))))
    if poll is None or poll.status != "open":
        return None
    return poll


def closing(uow: UnitOfWork, poll: Poll) -> Closing:
    wijk = uow.session.get(Wijk, poll.wijk_id)
    assert wijk is not None
    return Closing(poll_id=poll.id, tg_chat_id=wijk.tg_chat_id, message_id=poll.message_id)


def close(uow: UnitOfWork, poll_id: int, final: Tally | None) -> Result | None:
    """Close the vote and let the winners go on; None when it closed already (the deadline
    and ``/sluitstemming`` at once: the row lock lets one of them close it).

    ``final`` is Telegram's count from stopping the poll. An anonymous vote is known only by
    Telegram's running totals, and one of those updates may have been lost (the database
    away); the final count is the truth then. Open votes count the bot's own records of who
    chose what (a withdrawn vote is gone)."""
    poll = uow.session.scalars(
        select(Poll).where(Poll.id == poll_id).with_for_update()
    ).one_or_none()
    if poll is None or poll.status != "open":
        return None
    poll.status = "closed"
    poll.closed_at = uow.now
    due.cancel_prefix(uow, f"poll:{poll.id}:")
    recounted = False
    if not poll.anonymous:
        tallies = [0] * len(poll.options)
        rows = uow.session.scalars(select(PollVote).where(PollVote.poll_id == poll.id))
        voters = 0
        for vote in rows:
            voters += 1
            for i in vote.option_ids:
                tallies[i] += 1
        poll.voters = voters
        poll.counts = tallies
    elif final is not None and len(final.counts) == len(poll.options):
        recounted = list(final.counts) != list(poll.counts) or final.voters != poll.voters
        poll.counts = list(final.counts)
        poll.voters = final.voters
    for i in _winners(list(poll.counts)):
        idea_id = poll.options[i].get("idea_id")
        idea = uow.session.get(Idea, idea_id) if idea_id else None
        if idea is not None and not idea.hidden and State(idea.status) is State.PROPOSED:
            ideas_.move(uow, idea, None, State.SELECTED)
    return result_of(uow, poll, recounted=recounted)


def _winners(tallies: list[int]) -> set[int]:
    best = max(tallies) if tallies else 0
    return {i for i, c in enumerate(tallies) if c == best and best > 0}


def result_of(uow: UnitOfWork, poll: Poll, *, recounted: bool = False) -> Result:
    """The result of a closed vote, from what is stored (also to post it again later)."""
    wijk = uow.session.get(Wijk, poll.wijk_id)
    assert wijk is not None
    tallies = list(poll.counts)
    cast = sum(tallies)
    winners = _winners(tallies)
    ranking = sorted(
        (
            Ranked(
                text=o["text"],
                count=tallies[i],
                share=tallies[i] / cast if cast else 0.0,
                winner=i in winners,
            )
            for i, o in enumerate(poll.options)
        ),
        key=lambda r: -r.count,
    )
    members = int(
        uow.session.scalar(
            select(func.count()).where(Membership.wijk_id == wijk.id, Membership.left.is_(False))
        )
        or 0
    )
    selected: list[ideas_.Card] = []
    recruit: list[ideas_.Card] = []
    for i in sorted(winners):
        idea_id = poll.options[i].get("idea_id")
        idea = uow.session.get(Idea, idea_id) if idea_id else None
        if idea is None or idea.hidden or State(idea.status) is not State.SELECTED:
            continue
        card = ideas_.card(uow, idea)
        selected.append(card)
        if card.champions.count == 0:
            recruit.append(card)
    return Result(
        poll_id=poll.id,
        number=poll.number,
        question=poll.question,
        tg_chat_id=wijk.tg_chat_id,
        message_id=poll.message_id,
        language=wijk.language,
        ranking=ranking,
        voters=poll.voters,
        members=members,
        tie=len(winners) > 1,
        selected=selected,
        recruit=recruit,
        recounted=recounted,
    )


RESULT = "poll.result"


def post_result_later(
    uow: UnitOfWork, poll_id: int, after: timedelta, *, recounted: bool = False
) -> None:
    """Posting the result failed (Telegram): try again from the tick."""
    poll = uow.session.get(Poll, poll_id)
    if poll is not None:
        due.plan(
            uow,
            kind=RESULT,
            key=f"poll:{poll_id}:result",
            due_at=uow.now + after,
            wijk_id=poll.wijk_id,
            payload={"poll": poll_id, "recounted": recounted},
        )


def result_due(uow: UnitOfWork, payload: dict[str, object]) -> Result | None:
    poll = uow.session.get(Poll, int(str(payload.get("poll", 0))))
    if poll is None or poll.status != "closed":
        return None
    return result_of(uow, poll, recounted=payload.get("recounted") is True)
