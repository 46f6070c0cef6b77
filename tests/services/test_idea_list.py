"""The list of open ideas: pages, also a page asked for after the list got shorter."""

from __future__ import annotations

from buddybot.domain.lifecycle import State
from buddybot.services import ideas, people, wijken
from buddybot.services.refs import ActorRef, Authority, ChatRef
from buddybot.storage.db import Database

CHAT = ChatRef(-42, "supergroup", "Wijk")
ADMIN = ActorRef(1, "Fatima")
SUBJECTS = [
    "Moestuin", "Speeltuin", "Bankjes", "Bloembakken", "Buurtfeest", "Zwerfafval",
    "Fietsenrek", "Boekenkast", "Jeu de boules", "Kerstmarkt",
]  # fmt: skip


def _page(db: Database, number: int) -> ideas.Page:
    with db.transaction() as uow:
        caller = people.identify(uow, people.Policy(), CHAT, ADMIN)
        return ideas.open_page(uow, caller, number)


async def test_a_page_past_the_end_shows_the_last_one(db: Database) -> None:
    policy = people.Policy()
    with db.transaction() as uow:
        wijken.bot_added(uow, policy, CHAT, ADMIN)
    assert _page(db, 2).total == 0  # nothing yet: an empty first page
    empty = _page(db, 2)
    assert (empty.page, empty.pages, empty.lines) == (1, 1, [])
    with db.transaction() as uow:
        caller = people.identify(uow, policy, CHAT, ADMIN, Authority(telegram_admin=True))
        for subject in SUBJECTS:
            ideas.propose(uow, caller, subject, on_behalf_of="Buur", force=True)
    first, second = _page(db, 1), _page(db, 2)
    assert (first.page, first.pages, first.total, len(first.lines)) == (1, 2, 10, 8)
    assert (second.page, len(second.lines)) == (2, 2)
    assert _page(db, 9).page == 2
    with db.transaction() as uow:  # two ideas done: the list fits on one page
        caller = people.identify(uow, policy, CHAT, ADMIN, Authority(telegram_admin=True))
        for number in (1, 2):
            idea = ideas.find(uow, caller.wijk, number)  # type: ignore[arg-type]
            ideas.set_status(uow, caller, idea, State.WITHDRAWN)
    stale = _page(db, 2)
    assert (stale.page, stale.pages, stale.total, len(stale.lines)) == (1, 1, 8, 8)
