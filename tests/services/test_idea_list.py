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


async def _page(db: Database, number: int) -> ideas.Page:
    async with db.unit_of_work() as uow:
        caller = await people.identify(uow, people.Policy(), CHAT, ADMIN)
        return await ideas.open_page(uow, caller, number)


async def test_a_page_past_the_end_shows_the_last_one(db: Database) -> None:
    policy = people.Policy()
    async with db.unit_of_work() as uow:
        await wijken.bot_added(uow, policy, CHAT, ADMIN)
    assert (await _page(db, 2)).total == 0  # nothing yet: an empty first page
    empty = await _page(db, 2)
    assert (empty.page, empty.pages, empty.lines) == (1, 1, [])
    async with db.unit_of_work() as uow:
        caller = await people.identify(uow, policy, CHAT, ADMIN, Authority(telegram_admin=True))
        for subject in SUBJECTS:
            await ideas.propose(uow, caller, subject, on_behalf_of="Buur", force=True)
    first, second = await _page(db, 1), await _page(db, 2)
    assert (first.page, first.pages, first.total, len(first.lines)) == (1, 2, 10, 8)
    assert (second.page, len(second.lines)) == (2, 2)
    assert (await _page(db, 9)).page == 2
    async with db.unit_of_work() as uow:  # two ideas done: the list fits on one page
        caller = await people.identify(uow, policy, CHAT, ADMIN, Authority(telegram_admin=True))
        for number in (1, 2):
            idea = await ideas.find(uow, caller.wijk, number)  # type: ignore[arg-type]
            await ideas.set_status(uow, caller, idea, State.WITHDRAWN)
    stale = await _page(db, 2)
    assert (stale.page, stale.pages, stale.total, len(stale.lines)) == (1, 1, 8, 8)
