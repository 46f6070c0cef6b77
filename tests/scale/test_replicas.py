"""Two bot replicas (separate processes, ``buddybot run`` in webhook mode) behind one
round-robin address, on one PostgreSQL database: every update handled once, every due item
delivered once. The small brother of ``python -m benchmarks.replicas``.

The replicas start together on an empty database and migrate it themselves (one waits for
the other's lock), and one of them gets a 429 on setWebhook, as Telegram answers when
several instances set the webhook at the same moment.

Needs PostgreSQL: ``BUDDYBOT_TEST_DB=postgresql`` (SQLite has no second writer process).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from buddybot.fakegram import FakegramClient, FakegramServer
from tests.support import dbs
from tests.support.replicas import HOOK_PATH, TOKEN, Cluster, build_world, run_load

pytestmark = pytest.mark.postgres


@pytest.fixture
def empty_pg() -> Iterator[str]:
    """A new, empty (not migrated) PostgreSQL database."""
    if dbs.BACKEND != "postgresql":
        pytest.skip("several replicas need PostgreSQL: run with BUDDYBOT_TEST_DB=postgresql")
    with dbs.pg_database(migrate=False) as url:
        yield url


async def test_two_replicas_handle_each_update_once_and_send_each_due_item_once(
    empty_pg: str,
) -> None:
    async with (
        FakegramServer(token=TOKEN, bot_username="buddy_test_bot") as server,
        FakegramClient(server.url) as tg,
    ):
        await tg.inject_fault(kind="retry_after", method="setWebhook", retry_after=1)
        async with Cluster(server, empty_pg, 2, tick=0.2, migrate_on_start=True) as cluster:
            world = await build_world(cluster, tg, groups=4, members=3)
            run = await run_load(cluster, tg, world, per_group=6, announcements=2)

    assert run.failed == []
    assert run.updates == 24 and run.due_items == 8
    assert len(run.per_replica) == 2 and min(run.per_replica) > 0  # both took updates
    assert sum(run.due_per_replica) == 8
    assert run.log_errors == 0
    set_webhook = [c for c in server.state.calls if c.method == "setWebhook"]
    assert [c.ok for c in set_webhook].count(False) == 1  # the 429, waited out
    assert cluster.balancer is not None
    assert [c.params["url"] for c in set_webhook if c.ok] == [cluster.balancer.url + HOOK_PATH] * 2
