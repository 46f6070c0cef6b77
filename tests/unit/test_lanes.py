"""Lanes (the tick's delivery): many wijken at once, bounded, each wijk's work in order,
the first failure stops new work and is reported."""

from __future__ import annotations

import asyncio

from buddybot.bot.lanes import Lanes


async def test_one_lane_keeps_its_order_while_lanes_overlap() -> None:
    done: list[tuple[str, int]] = []
    running: set[str] = set()
    overlapped = False

    async def work(lane: str, n: int) -> None:
        nonlocal overlapped
        assert lane not in running  # a lane's work never runs twice at once
        running.add(lane)
        overlapped = overlapped or len(running) > 1
        for _ in range(3):
            await asyncio.sleep(0)
        done.append((lane, n))
        running.discard(lane)

    lanes = Lanes(3)
    for n in range(3):
        for lane in ("a", "b"):
            await lanes.submit(lane, work(lane, n))
    await lanes.wait()
    assert lanes.error is None
    assert [n for lane, n in done if lane == "a"] == [0, 1, 2]
    assert [n for lane, n in done if lane == "b"] == [0, 1, 2]
    assert overlapped  # different lanes do run at the same time


async def test_no_more_than_the_limit_at_once() -> None:
    running = 0
    most = 0

    async def work() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        running -= 1

    lanes = Lanes(4)
    for n in range(20):
        await lanes.submit(n, work())
    await lanes.wait()
    assert most == 4


async def test_the_first_failure_stops_new_work_and_is_kept() -> None:
    started: list[int] = []

    async def work(n: int) -> None:
        started.append(n)
        if n == 1:
            raise RuntimeError("database away")
        await asyncio.sleep(0)

    lanes = Lanes(1)
    for n in range(5):
        await lanes.submit(n, work(n))
    await lanes.wait()
    assert isinstance(lanes.error, RuntimeError)
    assert started == [0, 1]
