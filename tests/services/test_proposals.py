"""Proposing: numbers follow each other, and a resident's ideas per hour are limited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from buddybot.clock import FakeClock
from buddybot.i18n import Plural
from buddybot.services import ideas, people, wijken
from buddybot.services.errors import Refusal
from buddybot.services.refs import ActorRef, ChatRef
from buddybot.storage.db import Database

CHAT = ChatRef(-42, "supergroup", "Wijk")
ADMIN = ActorRef(1, "Fatima")
ANNA = ActorRef(2, "Anna")
SUBJECTS = ["Moestuin", "Speeltuin", "Bankjes", "Bloembakken", "Buurtfeest", "Zwerfafval"]


def _propose(db: Database, subject: str) -> int:
    with db.transaction() as uow:
        caller = people.identify(uow, people.Policy(), CHAT, ANNA)
        proposed = ideas.propose(uow, caller, subject, force=True)
        assert proposed.card is not None
        return proposed.card.number


async def test_five_ideas_an_hour_then_a_refusal(db: Database, clock: FakeClock) -> None:
    with db.transaction() as uow:
        wijken.bot_added(uow, people.Policy(), CHAT, ADMIN)
    assert [_propose(db, s) for s in SUBJECTS[:5]] == [1, 2, 3, 4, 5]
    with pytest.raises(Refusal) as refusal:
        _propose(db, SUBJECTS[5])
    assert (refusal.value.key, refusal.value.params) == (
        "too_many_ideas",
        {"limit": Plural("count.ideas", 5)},
    )
    clock.advance(timedelta(minutes=61))
    assert _propose(db, SUBJECTS[5]) == 6  # (the refused one took no number)
