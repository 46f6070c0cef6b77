"""SQLite's write-ahead log stays small: the bot checkpoints it itself, off the event loop,
and a read-only tool never takes the write lock the running bot needs."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from buddybot.clock import SystemClock
from buddybot.storage import db as db_module
from buddybot.storage.db import Database, make_engine
from buddybot.storage.migrate import upgrade
from tests.dbs import sqlite_url


async def _database(tmp_path: Path) -> tuple[Database, Path]:
    path = tmp_path / "wal.db"
    db = Database(sqlite_url(path), SystemClock())
    await upgrade(db.engine)
    return db, path


async def test_the_wal_is_checkpointed_while_the_bot_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bot's limit (64 MB) is more than these commits write without any checkpoint.
    monkeypatch.setattr(db_module, "CATCH_UP_FRAMES", 4000)
    db, path = await _database(tmp_path)
    wal = Path(f"{path}-wal")
    for update_id in range(1, 2001):
        async with db.unit_of_work(update_id):
            pass
    size = await asyncio.to_thread(os.path.getsize, wal)  # before dispose removes it
    await db.dispose()
    # About 14 kB of log a commit: 27 MB without checkpoints; with them it stays under
    # the length at which writers wait for one to catch up.
    assert db_module.CHECKPOINT_EVERY < 2000
    assert size < db_module.CATCH_UP_FRAMES * 4096 + 300 * 16_384


async def test_a_read_only_tool_does_not_hold_up_the_bot(tmp_path: Path) -> None:
    db, path = await _database(tmp_path)
    reader = make_engine(sqlite_url(path), read_only=True)
    async with reader.connect() as conn:
        await conn.execute(text("SELECT count(*) FROM processed_update"))
        # The reader's transaction is still open; the bot writes without waiting.
        async with asyncio.timeout(1):
            async with db.unit_of_work(1):
                pass
    await reader.dispose()
    await db.dispose()


async def test_a_refused_commit_does_not_hold_the_connection(tmp_path: Path) -> None:
    """SQLite can refuse a COMMIT and keep its transaction open (here: a deferred foreign
    key). The next update must not find the bot's one connection still inside it."""
    db, _ = await _database(tmp_path)
    with pytest.raises(Exception, match="FOREIGN KEY"):
        async with db.unit_of_work(1) as uow:
            await uow.session.execute(text("PRAGMA defer_foreign_keys=ON"))
            await uow.session.execute(
                text(
                    'INSERT INTO membership (wijk_id, person_id, role, "left", first_seen_at,'
                    " last_seen_at) VALUES (999, 999, 'resident', 0, '2026-01-01', '2026-01-01')"
                )
            )
    async with db.unit_of_work(2):
        pass
    async with db.unit_of_work() as uow:
        handled = (await uow.session.execute(text("SELECT update_id FROM processed_update"))).all()
    await db.dispose()
    assert [row[0] for row in handled] == [2]
