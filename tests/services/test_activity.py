"""Activity on an idea (a vote for it, here): the event is logged and the quiet-idea
ladder starts again, for open ideas of the wijk only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from buddybot.clock import FakeClock
from buddybot.domain.wijk_settings import WijkSettings
from buddybot.services import ideas, people, wijken
from buddybot.services.refs import ActorRef, ChatRef
from buddybot.storage.db import Database
from buddybot.storage.models import Idea, IdeaEvent

EAST, WEST = ChatRef(-42, "supergroup", "Oost"), ChatRef(-43, "supergroup", "West")
ADMIN, ANNA = ActorRef(1, "Fatima"), ActorRef(2, "Anna")
NUDGE_AFTER = timedelta(seconds=WijkSettings().nudge_after)


def _ideas(db: Database) -> tuple[int, int, int]:
    """An open and a closed idea in Oost, an open one in West; all quiet for a while."""
    found = []
    for chat, subject in ((EAST, "Moestuin"), (EAST, "Speeltuin"), (WEST, "Bankjes")):
        with db.transaction() as uow:
            wijken.bot_added(uow, people.Policy(), chat, ADMIN)
            caller = people.identify(uow, people.Policy(), chat, ANNA)
            card = ideas.propose(uow, caller, subject).card
            assert card is not None
            found.append(card.id)
    with db.transaction() as uow:
        quiet = {"nudge_level": 2, "nudge_due_at": None}
        uow.session.execute(update(Idea).values(**quiet))
        uow.session.execute(update(Idea).where(Idea.id == found[1]).values(status="realised"))
    return found[0], found[1], found[2]


def _state(db: Database) -> dict[int, tuple[object, ...]]:
    with db.transaction() as uow:
        rows = uow.session.execute(
            select(Idea.id, Idea.last_activity_at, Idea.nudge_level, Idea.nudge_due_at)
        )
        votes = uow.session.scalars(select(IdeaEvent.idea_id).where(IdeaEvent.kind == "vote"))
        counted = list(votes)
        return {i: (at, level, due, counted.count(i)) for i, at, level, due in rows}


async def test_a_vote_wakes_an_open_idea_of_its_wijk_only(db: Database, clock: FakeClock) -> None:
    open_, closed, elsewhere = _ideas(db)
    before = _state(db)
    clock.advance(timedelta(days=3))
    now = clock.now()
    with db.transaction() as uow:
        caller = people.identify(uow, people.Policy(), EAST, ANNA)
        assert caller.wijk is not None and caller.person is not None
        kept = uow.session.get(Idea, elsewhere)  # (loaded or not: the same)
        assert kept is not None
        for idea_id in (open_, closed, elsewhere, 999_999):
            ideas.record_by_id(uow, idea_id, caller.person, "vote", in_wijk=caller.wijk)
    after = _state(db)
    assert after[open_] == (now, 0, now + NUDGE_AFTER, 1)
    assert after[closed] == (now, 0, None, 1)  # logged, but closed ideas are never nudged
    assert after[elsewhere] == before[elsewhere]  # another wijk's idea: nothing
