"""The lifecycle through the service: every state × every target, stored and logged."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buddybot.domain.lifecycle import State, allowed
from buddybot.services import ideas, people, wijken
from buddybot.services.errors import Refusal
from buddybot.services.refs import ActorRef, Authority, ChatRef
from buddybot.storage.db import Database
from buddybot.storage.models import IdeaEvent

CHAT = ChatRef(-42, "supergroup", "Wijk")
ADMIN = ActorRef(1, "Fatima")


@pytest.mark.parametrize("current", list(State))
@pytest.mark.parametrize("target", list(State))
async def test_every_transition(db: Database, current: State, target: State) -> None:
    policy = people.Policy()
    with db.transaction() as uow:
        wijken.bot_added(uow, policy, CHAT, ADMIN)
        caller = people.identify(uow, policy, CHAT, ADMIN, Authority(telegram_admin=True))
        proposed = ideas.propose(uow, caller, "Moestuin op het plein")
        assert proposed.card is not None
        idea = ideas.find(uow, caller.wijk, 1)  # type: ignore[arg-type]
        idea.status = current.value
    with db.transaction() as uow:
        caller = people.identify(uow, policy, CHAT, ADMIN, Authority(telegram_admin=True))
        idea = ideas.find(uow, caller.wijk, 1)  # type: ignore[arg-type]
        if allowed(current, target):
            change = ideas.set_status(uow, caller, idea, target)
            assert (change.old, change.new, change.card.status) == (current, target, target)
        else:
            with pytest.raises(Refusal) as refusal:
                ideas.set_status(uow, caller, idea, target)
            assert refusal.value.key.startswith("transition_")
    with db.transaction() as uow:
        caller = people.identify(uow, policy, CHAT, ADMIN, Authority(telegram_admin=True))
        idea = ideas.find(uow, caller.wijk, 1)  # type: ignore[arg-type]
        events = list(uow.session.scalars(select(IdeaEvent.kind).order_by(IdeaEvent.id)))
    expected = target if allowed(current, target) else current
    assert idea.status == expected.value
    assert events == (["proposed", "status"] if allowed(current, target) else ["proposed"])


async def test_a_resident_may_only_withdraw_their_own(db: Database) -> None:
    policy = people.Policy()
    anna = ActorRef(2, "Anna")
    bert = ActorRef(3, "Bert")
    with db.transaction() as uow:
        wijken.bot_added(uow, policy, CHAT, ADMIN)
        caller = people.identify(uow, policy, CHAT, anna)
        ideas.propose(uow, caller, "Bankje bij de bushalte")
    with db.transaction() as uow:
        caller = people.identify(uow, policy, CHAT, bert)
        idea = ideas.find(uow, caller.wijk, 1)  # type: ignore[arg-type]
        with pytest.raises(Refusal):
            ideas.set_status(uow, caller, idea, State.WITHDRAWN)
        caller = people.identify(uow, policy, CHAT, anna)
        with pytest.raises(Refusal):
            ideas.set_status(uow, caller, idea, State.SELECTED)
        change = ideas.set_status(uow, caller, idea, State.WITHDRAWN)
        assert change.new is State.WITHDRAWN
