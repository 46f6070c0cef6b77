"""SQLite: units of work that queue up for the write lock share one COMMIT. Each still
stands or falls alone, and none reports done before its work is committed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from buddybot.storage.db import Database, TransactionLost, UnitOfWork
from tests.storage.test_sqlite_wal import _database

Work = Callable[[UnitOfWork], Awaitable[None]]
ADD_PERSON = text(
    "INSERT INTO person (tg_user_id, first_name, private_ok, erased, created_at, updated_at)"
    " VALUES (:u, 'X', 0, 0, '2026-01-01', '2026-01-01')"
)


def _committed(path: Path) -> tuple[list[int], list[int]]:
    """What another process sees: the updates handled and the people stored."""
    with sqlite3.connect(path) as conn:
        handled = [r[0] for r in conn.execute("SELECT update_id FROM processed_update")]
        people = [r[0] for r in conn.execute("SELECT tg_user_id FROM person")]
    return sorted(handled), sorted(people)


async def _until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until ``condition`` holds (a few turns of the loop)."""
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the tasks never got there")


async def _person(uow: UnitOfWork, user: int) -> None:
    await uow.core(ADD_PERSON, {"u": user})


async def _queue_behind(db: Database, path: Path, works: list[Work]) -> list[object]:
    """Update 1 holds the write lock until updates 2, 3, … wait for it; then all go on.
    Each one's outcome; on leaving its unit of work, its own work must be committed."""
    gate = asyncio.Event()

    async def run(update_id: int, work: Work) -> object:
        try:
            async with db.unit_of_work(update_id) as uow:
                if update_id == 1:
                    await gate.wait()
                await work(uow)
        except Exception as exc:
            return exc
        handled, _ = await asyncio.to_thread(_committed, path)
        assert update_id in handled  # reported done: committed, and visible to others
        return "ok"

    tasks = [asyncio.create_task(run(i, w)) for i, w in enumerate(works, start=1)]
    await _until(lambda: db._queued == len(works) - 1)  # (the others wait for the lock)
    gate.set()
    async with asyncio.timeout(10):
        return await asyncio.gather(*tasks)


async def test_a_failing_unit_of_work_takes_only_its_own_work_back(tmp_path: Path) -> None:
    db, path = await _database(tmp_path)

    async def refused(uow: UnitOfWork) -> None:
        await _person(uow, 20)
        raise ValueError("refused")

    async def duplicate(uow: UnitOfWork) -> None:  # an ORM flush that fails
        await uow.session.execute(ADD_PERSON, {"u": 10})
        await uow.flush()

    outcomes = await _queue_behind(
        db,
        path,
        [
            lambda uow: _person(uow, 10),
            refused,
            lambda uow: _person(uow, 30),
            duplicate,
            lambda uow: _person(uow, 50),
        ],
    )
    await db.dispose()
    assert outcomes[0] == "ok" and outcomes[2] == "ok" and outcomes[4] == "ok"
    assert isinstance(outcomes[1], ValueError)
    assert "UNIQUE" in str(outcomes[3])
    assert _committed(path) == ([1, 3, 5], [10, 30, 50])


async def test_a_refused_commit_fails_every_unit_of_work_in_it(tmp_path: Path) -> None:
    db, path = await _database(tmp_path)

    async def dangling(uow: UnitOfWork) -> None:  # refused only at COMMIT
        await uow.core(text("PRAGMA defer_foreign_keys=ON"))
        await uow.core(
            text(
                'INSERT INTO membership (wijk_id, person_id, role, "left", first_seen_at,'
                " last_seen_at) VALUES (999, 999, 'resident', 0, '2026-01-01', '2026-01-01')"
            )
        )

    outcomes = await _queue_behind(db, path, [lambda uow: _person(uow, 10), dangling])
    assert all(isinstance(o, TransactionLost) for o in outcomes), outcomes
    async with db.unit_of_work(3) as uow:  # the next one starts afresh
        await _person(uow, 30)
    await db.dispose()
    assert _committed(path) == ([3], [30])


async def test_a_transaction_left_to_a_task_that_gives_up_is_still_committed(
    tmp_path: Path,
) -> None:
    db, path = await _database(tmp_path)
    gate = asyncio.Event()

    async def first() -> None:
        async with db.unit_of_work(1) as uow:
            await gate.wait()
            await _person(uow, 10)

    async def second() -> None:
        async with db.unit_of_work(2) as uow:
            await _person(uow, 20)

    one = asyncio.create_task(first())
    await asyncio.sleep(0)
    two = asyncio.create_task(second())
    await _until(lambda: db._queued == 1)
    gate.set()
    await asyncio.sleep(0)  # the first ends, and leaves the transaction open for the second
    assert db._group is not None and not one.done()
    two.cancel()  # … which gives up before its turn
    async with asyncio.timeout(10):
        await one
    with pytest.raises(asyncio.CancelledError):
        await two
    await db.dispose()
    assert _committed(path) == ([1], [10])


async def test_closing_waits_for_the_unit_of_work_that_runs(tmp_path: Path) -> None:
    """Closed while one unit of work runs and another waits for the COMMIT it shares:
    both are committed first (at shutdown, nothing done may be lost)."""
    db, path = await _database(tmp_path)
    gates = {1: asyncio.Event(), 2: asyncio.Event()}

    async def work(update_id: int) -> None:
        async with db.unit_of_work(update_id) as uow:
            await gates[update_id].wait()
            await _person(uow, update_id * 10)

    one = asyncio.create_task(work(1))
    await _until(lambda: db._write_lock_locked())
    two = asyncio.create_task(work(2))
    await _until(lambda: db._queued == 1)
    gates[1].set()  # the first ends and waits for the COMMIT; the second runs on
    await _until(lambda: db._group is not None and db._queued == 0 and db._write_lock_locked())
    closing = asyncio.create_task(db.dispose())
    await asyncio.sleep(0)
    gates[2].set()
    async with asyncio.timeout(10):
        await asyncio.gather(one, two, closing)
    assert _committed(path) == ([1, 2], [10, 20])
    with pytest.raises(RuntimeError, match="closed"):
        async with db.unit_of_work(3):
            pass
