"""On PostgreSQL at most DATABASE_CONCURRENCY transactions run at once; the others wait for
a turn. A unit of work opened inside another, or by a task started inside one, never waits
for a turn its own caller holds."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from buddybot.clock import FakeClock
from buddybot.settings import Settings
from buddybot.storage.db import Database

ONE = select(func.count()).select_from(select(1).subquery())


async def _yield_to_others() -> None:
    for _ in range(100):
        await asyncio.sleep(0)  # (no time passes: every other ready task gets to run)


async def test_no_more_transactions_at_once_than_allowed(pg: str, clock: FakeClock) -> None:
    db = Database(pg, clock, concurrency=2)
    try:
        # Three pooled connections ready: without turns, a third unit of work would start
        # at once, without waiting for the network.
        conns = [await db.engine.connect() for _ in range(3)]
        for conn in conns:
            await conn.close()
        inside: list[str] = []
        done = {name: asyncio.Event() for name in "abc"}
        entered = {name: asyncio.Event() for name in "abc"}

        async def work(name: str) -> None:
            async with db.unit_of_work() as uow:
                await uow.core(ONE)
                inside.append(name)
                entered[name].set()
                await done[name].wait()
            inside.remove(name)

        tasks = [asyncio.create_task(work("a")), asyncio.create_task(work("b"))]
        async with asyncio.timeout(5):
            await entered["a"].wait()
            await entered["b"].wait()
        tasks.append(asyncio.create_task(work("c")))
        await _yield_to_others()
        assert sorted(inside) == ["a", "b"]  # c waits for a turn
        done["a"].set()
        async with asyncio.timeout(5):
            await entered["c"].wait()
        assert sorted(inside) == ["b", "c"]
        done["b"].set()
        done["c"].set()
        await asyncio.gather(*tasks)
    finally:
        await db.dispose()


async def test_work_inside_a_unit_of_work_needs_no_turn_of_its_own(
    pg: str, clock: FakeClock
) -> None:
    db = Database(pg, clock, concurrency=1)
    try:
        async with asyncio.timeout(5):
            async with db.unit_of_work() as outer:
                await outer.core(ONE)
                async with db.unit_of_work() as inner:  # nested: no deadlock
                    assert (await inner.core(ONE)).scalar() == 1

                async def spawned() -> int:
                    async with db.unit_of_work() as uow:
                        return int((await uow.core(ONE)).scalar())

                assert await asyncio.create_task(spawned()) == 1  # awaited while holding
            async with db.unit_of_work() as after:  # the turn was given back
                assert (await after.core(ONE)).scalar() == 1
    finally:
        await db.dispose()


async def test_the_setting_reaches_the_database(pg: str, clock: FakeClock) -> None:
    settings = Settings(_env_file=None, database_url=pg, database_concurrency=3)
    db = Database.for_settings(settings, clock)
    assert db.concurrency == 3
    await db.dispose()


async def test_a_unit_of_work_left_from_another_task_gives_its_turn_back(
    pg: str, clock: FakeClock
) -> None:
    db = Database(pg, clock, concurrency=1)
    try:
        work = db.unit_of_work()
        await asyncio.create_task(work.__aenter__())  # entered in one task ...
        await asyncio.create_task(work.__aexit__(None, None, None))  # ... left in another
        async with asyncio.timeout(5), db.unit_of_work() as uow:
            assert (await uow.core(ONE)).scalar() == 1
    finally:
        await db.dispose()
