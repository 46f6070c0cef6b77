"""Webhook mode with 1, 2 and 3 bot replicas behind one address, on one PostgreSQL database.

    python -m benchmarks.replicas [--quick] [--replicas 1 2 3] [--groups 200] [--per-group 5]

Loopback only. In this process: fakegram, which pushes updates in parallel as Telegram does
(``max_connections``, one at a time per chat), and a small round-robin balancer, the one
webhook address, that forwards each POST to the next replica. Each replica is ``buddybot
run`` in its own process, in webhook mode, with its own tick. PostgreSQL comes from
``BUDDYBOT_BENCH_PG`` (see benchmarks/databases.py); the database ``bench_replicas`` is made
afresh and migrated once, before any replica starts, and dropped at the end.

One world (200 groups with residents, the bot and a first idea card each) and then, for each
replica count, the replicas started together and:

* throughput: 1,000 updates (/hulp, /wie, /ideeen, /idee <title>, and support presses on the
  idea cards) posted as fast as possible, from the first post until every update is answered
  (the reply to the command, or the callback answer, as fakegram recorded it);
* exactly once: every update reached a replica, one reply per command, one answer per press,
  a ``processed_update`` row each, every card's supporters as pressed (and shown on the
  card); an update pushed again after a timeout (allowed) is recognised and changes nothing;
* due items: an announcement due now in every group, delivered by the replicas' ticks (each
  replica claims atomically, in small batches so they compete); each is posted once.

The machine has 2 cores shared by PostgreSQL, the replicas and this process, so more
replicas do not mean more throughput here; the point is that they stay correct.

The balancer, the replicas and the checks are tests/support/replicas.py (the test
tests/scale/test_replicas.py runs a small load through them).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

from benchmarks import databases
from benchmarks.report import Figure, table
from buddybot.fakegram import FakegramClient, FakegramServer
from tests.support.replicas import TOKEN, Cluster, Group, Run, build_world, run_load

DB_NAME = "bench_replicas"
# How long fakegram waits for a replica's answer before it pushes the update again. The
# 2-core machine is shared, so a push can queue for seconds behind the others in flight.
PUSH_TIMEOUT = 60.0


class PostgresUnavailable(RuntimeError):
    pass


def require_postgres() -> str:
    """The benchmark's database URL; a clear error when PostgreSQL does not answer."""
    why = databases.pg_unreachable()
    if why is not None:
        raise PostgresUnavailable(
            f"{why}: the replicas benchmark needs PostgreSQL (set BUDDYBOT_BENCH_PG, e.g. "
            "postgresql://postgres@127.0.0.1:5432)"
        )
    return databases.url_for("postgresql", DB_NAME)


# -- the table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    groups: int
    members: int
    per_group: int  # updates per group in each measured run
    announcements: int  # due announcements per group in each run


FULL = Size(groups=200, members=6, per_group=5, announcements=1)
QUICK = Size(groups=60, members=4, per_group=4, announcements=1)


async def measure(replica_counts: list[int], size: Size) -> list[Run]:
    """One world on one fresh database; then, for each replica count, replicas started
    together on it, one measured load and one batch of due items."""
    url = require_postgres()
    databases.fresh(url)  # migrated once, before any replica starts
    runs: list[Run] = []
    try:
        async with (
            FakegramServer(
                token=TOKEN, bot_username="buddy_test_bot", webhook_timeout=PUSH_TIMEOUT
            ) as server,
            FakegramClient(server.url) as tg,
        ):
            world: list[Group] | None = None
            for n in replica_counts:
                async with Cluster(server, url, n) as cluster:
                    if world is None:
                        world = await build_world(cluster, tg, size.groups, size.members)
                    runs.append(
                        await run_load(
                            cluster,
                            tg,
                            world,
                            per_group=size.per_group,
                            announcements=size.announcements,
                        )
                    )
    finally:
        databases.drop(url)
    return runs


def _replicas(n: int) -> str:
    return f"{n} replica{'s' if n != 1 else ''}"


def rows(runs: list[Run]) -> list[Figure]:
    reference = runs[0]
    out = [
        Figure(
            f"webhook throughput, {_replicas(r.replicas)}",
            r.throughput,
            "updates/s",
            reference=None if r is reference else reference.throughput,
            reference_name="" if r is reference else f"({_replicas(reference.replicas)})",
        )
        for r in runs
    ]
    once = [
        ("updates handled", "updates", "posted", [(r.updates, r.updates_once) for r in runs]),
        ("due items delivered", "items", "due", [(r.due_items, r.due_once) for r in runs]),
    ]
    for what, unit, reference_name, counts in once:
        out.append(
            Figure(
                f"{what} exactly once ({len(runs)} runs)",
                float(sum(n for n, ok in counts if ok)),
                unit,
                reference=float(sum(n for n, _ in counts)),
                reference_name=reference_name,
                target="all",
                passed=all(ok for _, ok in counts),
            )
        )
    return out


async def figures(quick: bool = False) -> list[Figure]:
    why = databases.pg_unreachable()
    if why is not None:  # several replicas need PostgreSQL; the other figures still count
        print(f"replicas skipped: {why}")
        return []
    return rows(await measure([1, 2, 3], QUICK if quick else FULL))


def main() -> None:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.replicas",
        description="webhook throughput and exactly-once with several bot replicas (PostgreSQL)",
    )
    p.add_argument("--quick", action="store_true", help="a smaller load")
    p.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--groups", type=int, help=f"groups (default {FULL.groups})")
    p.add_argument("--per-group", type=int, help=f"updates per group per run ({FULL.per_group})")
    p.add_argument(
        "--announcements", type=int, help=f"due items per group per run ({FULL.announcements})"
    )
    args = p.parse_args()
    base = QUICK if args.quick else FULL
    size = Size(
        groups=args.groups or base.groups,
        members=base.members,
        per_group=args.per_group or base.per_group,
        announcements=args.announcements or base.announcements,
    )
    started = time.perf_counter()
    try:
        runs = asyncio.run(measure(args.replicas, size))
    except PostgresUnavailable as exc:
        raise SystemExit(str(exc)) from None
    for r in runs:
        print(
            f"{_replicas(r.replicas)}: {r.updates} updates answered in {r.seconds:.2f} s; "
            f"{r.due_items} due items delivered in {r.due_seconds:.2f} s"
        )
        print(
            f"  push to answer p50 {r.push_p50:.0f} ms, p99 {r.push_p99:.0f} ms; "
            f"pushed again after a timeout: {r.pushed_again}"
        )
        print(
            f"  updates per replica {r.per_replica}; due items per replica "
            f"{r.due_per_replica}; ERROR lines in their logs: {r.log_errors}"
        )
        for failure in r.failed:
            print(f"  FAILED: {failure}")
    print(table(rows(runs)))
    print(f"(whole run {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
