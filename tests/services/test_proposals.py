"""Proposing: numbers follow each other, and a resident's ideas per hour are limited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from buddybot.clock import FakeClock
from buddybot.services import ideas, people, wijken
from buddybot.services.errors import Refusal
from buddybot.services.refs import ActorRef, ChatRef
from buddybot.storage.db import Database

CHAT = ChatRef(-42, "supergroup", "Wijk")
ADMIN = ActorRef(1, "Fatima")
ANNA = ActorRef(2, "Anna")
SUBJECTS = ["Moestuin", "Speeltuin", "Bankjes", "Bloembakken", "Buurtfeest", "Zwerfafval"]


async def _propose(db: Database, subject: str) -> int:
    async with db.unit_of_work() as uow:
        caller = await people.identify(uow, people.Policy(), CHAT, ANNA)
        proposed = await ideas.propose(uow, caller, subject, force=True)
        assert proposed.card is not None
        return proposed.card.number


async def test_five_ideas_an_hour_then_a_refusal(db: Database, clock: FakeClock) -> None:
    async with db.unit_of_work() as uow:
        await wijken.bot_added(uow, people.Policy(), CHAT, ADMIN)
    assert [await _propose(db, s) for s in SUBJECTS[:5]] == [1, 2, 3, 4, 5]
    with pytest.raises(Refusal) as refusal:
        await _propose(db, SUBJECTS[5])
    assert (refusal.value.key, refusal.value.params) == ("too_many_ideas", {"limit": 5})
    clock.advance(timedelta(minutes=61))
    assert await _propose(db, SUBJECTS[5]) == 6  # (the refused one took no number)
