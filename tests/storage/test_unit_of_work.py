"""The one storage contract: a unit of work commits whole or not at all, records its update
as handled in the same transaction (a redelivered update changes nothing), and runs on a
way on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from buddybot.clock import FakeClock
from buddybot.storage.db import AlreadyHandled, Database, UnitOfWork, make_engine, unavailable
from buddybot.storage.models import ProcessedUpdate, Wijk
from tests.support import dbs
from tests.support.outage import cut_at_commit, drop_connections

HANDLED = select(ProcessedUpdate.update_id).order_by(ProcessedUpdate.update_id)


def _wijk(uow: UnitOfWork, chat_id: int) -> int:
    wijk = Wijk(
        tg_chat_id=chat_id,
        title="Bloemenbuurt",
        language="nl",
        timezone="Europe/Amsterdam",
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(wijk)
    uow.session.flush()
    return wijk.id


def _count_wijken(uow: UnitOfWork) -> int:
    return uow.session.scalar(select(func.count()).select_from(Wijk)) or 0


async def test_a_redelivered_update_changes_nothing(db: Database) -> None:
    await db.run(lambda uow: _wijk(uow, -1), update_id=5)
    with pytest.raises(AlreadyHandled):
        await db.run(lambda uow: _wijk(uow, -2), update_id=5)
    assert await db.run(_count_wijken) == 1
    with db.transaction() as uow:
        assert list(uow.session.scalars(HANDLED)) == [5]


async def test_a_failed_unit_of_work_keeps_nothing_and_its_update_can_come_again(
    db: Database,
) -> None:
    def fails(uow: UnitOfWork) -> None:
        _wijk(uow, -1)
        raise RuntimeError("Telegram said no")

    with pytest.raises(RuntimeError):
        await db.run(fails, update_id=7)
    assert await db.run(_count_wijken) == 0
    await db.run(lambda uow: _wijk(uow, -1), update_id=7)  # redelivered: now it is handled
    assert await db.run(_count_wijken) == 1


async def test_units_of_work_at_once_all_commit(db: Database) -> None:
    await asyncio.gather(
        *(db.run(lambda uow, i=i: _wijk(uow, -i), update_id=i) for i in range(1, 41))
    )
    assert await db.run(_count_wijken) == 40


async def test_the_event_loop_runs_while_a_unit_of_work_waits(db: Database) -> None:
    """On PostgreSQL a unit of work that waits for the server (here for a lock another
    connection holds) lets the others go on."""
    if dbs.BACKEND != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's units of work run one at a time")
    lock = text("SELECT pg_advisory_xact_lock(4242)")
    with db.engine.connect() as holder:
        holder.execute(lock)
        waiting = asyncio.create_task(db.run(lambda uow: uow.session.execute(lock) and None))
        async with asyncio.timeout(10):
            assert await db.run(_count_wijken) == 0
        assert not waiting.done()
        holder.rollback()  # lets go of the lock
    async with asyncio.timeout(10):
        await waiting


async def test_a_read_only_tool_does_not_hold_up_the_bot(tmp_path: Path, clock: FakeClock) -> None:
    if dbs.BACKEND != "sqlite":
        pytest.skip("SQLite only: a reader in another process")
    url = dbs.copy_sqlite(dbs.make_sqlite_template(tmp_path), tmp_path)
    db = Database(url, clock)
    reader = make_engine(url, read_only=True)
    try:
        with reader.connect() as conn:
            conn.execute(text("SELECT count(*) FROM processed_update"))
            # The reader's transaction is still open; the bot writes without waiting.
            await asyncio.wait_for(db.run(lambda uow: None, update_id=1), 5)
    finally:
        reader.dispose()
        await db.dispose()


async def test_a_refused_commit_leaves_the_next_unit_of_work_whole(
    tmp_path: Path, clock: FakeClock
) -> None:
    """SQLite can refuse a COMMIT (here: a deferred foreign key). The next update must not
    find its connection still inside that transaction."""
    if dbs.BACKEND != "sqlite":
        pytest.skip("SQLite only: PRAGMA defer_foreign_keys")
    url = dbs.copy_sqlite(dbs.make_sqlite_template(tmp_path), tmp_path)
    db = Database(url, clock)

    def orphan(uow: UnitOfWork) -> None:
        uow.session.execute(text("PRAGMA defer_foreign_keys=ON"))
        uow.session.execute(
            text(
                'INSERT INTO membership (wijk_id, person_id, role, "left", first_seen_at,'
                " last_seen_at) VALUES (999, 999, 'resident', 0, '2026-01-01', '2026-01-01')"
            )
        )

    try:
        with pytest.raises(Exception, match="FOREIGN KEY"):
            await db.run(orphan, update_id=1)
        await db.run(lambda uow: None, update_id=2)
        handled = await db.run(lambda uow: list(uow.session.scalars(HANDLED)))
    finally:
        await db.dispose()
    assert handled == [2]


async def test_a_unit_of_work_whose_connection_dropped_runs_again_on_a_new_one(
    db: Database,
) -> None:
    await db.run(_count_wijken)  # the pool holds a connection now
    drop_connections(db)
    assert await db.run(lambda uow: _wijk(uow, -1)) > 0
    drop_connections(db)
    await db.run(lambda uow: _wijk(uow, -2), update_id=3)
    assert await db.run(_count_wijken) == 2
    with db.transaction() as uow:
        assert list(uow.session.scalars(HANDLED)) == [3]


async def test_a_connection_lost_in_the_commit_runs_again_only_for_an_update(
    db: Database,
) -> None:
    """Whether a commit that lost its connection went through is unknown; an update's mark
    tells on the second try, other work has no mark, so it is not run twice."""
    await db.run(_count_wijken)
    cut_at_commit(db)
    await db.run(lambda uow: _wijk(uow, -1), update_id=4)
    assert await db.run(_count_wijken) == 1
    cut_at_commit(db)
    with pytest.raises(DBAPIError):
        await db.run(lambda uow: _wijk(uow, -2))
    assert await db.run(_count_wijken) == 1


async def test_a_database_error_shows_no_values_of_the_statement(db: Database) -> None:
    """A database error's text is logged and stored (``due_item.last_error``): it names no
    one, whatever the statement was given."""
    await db.run(lambda uow: _wijk(uow, -1))

    def same_chat(uow: UnitOfWork) -> None:
        uow.session.add(
            Wijk(
                tg_chat_id=-1,
                title="Geheime Tuin van Bertha Jansen",
                language="nl",
                timezone="Europe/Amsterdam",
                created_at=uow.now,
                updated_at=uow.now,
            )
        )

    with pytest.raises(IntegrityError) as raised:
        await db.run(same_chat)
    shown = f"{raised.value}\n{raised.value!r}"
    assert "Bertha" not in shown and "Europe/Amsterdam" not in shown
    assert "hidden due to hide_parameters" in shown


def test_only_errors_of_the_database_count_as_its_outage() -> None:
    assert unavailable(OperationalError("SELECT 1", None, Exception("database is locked")))
    for other in (OSError("disk full writing a chart"), TimeoutError(), ConnectionRefusedError()):
        try:
            raise other
        except OSError as exc:
            assert not unavailable(exc), exc
