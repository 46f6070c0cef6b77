"""The SQLite file holds names and activity: the bot creates it readable by its owner only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from buddybot.clock import FakeClock
from buddybot.storage.db import Database
from buddybot.storage.migrate import upgrade


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """Most systems' umask, under which files are readable by everyone (0644)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("usual_umask")
async def test_a_new_database_file_and_its_log_are_for_the_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "buddybot.db"
    db = Database(f"sqlite:///{path}", FakeClock())
    try:
        upgrade(db.engine)
        with db.transaction(update_id=1):
            pass
        # While a connection is open the write-ahead log and its index are there too.
        with db.engine.connect():
            files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            assert all(f.exists() for f in files)
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        await db.dispose()


@pytest.mark.usefixtures("usual_umask")
async def test_an_existing_database_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "buddybot.db"
    path.touch(mode=0o640)
    db = Database(f"sqlite:///{path}", FakeClock())
    try:
        upgrade(db.engine)
    finally:
        await db.dispose()
    assert _mode(path) == 0o640
