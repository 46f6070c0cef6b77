"""Work for many wijken at once: bounded, and each wijk's work strictly in order."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class Lanes:
    """Runs work for many wijken at once, bounded, one wijk's work strictly in order.

    The first exception stops new work from starting and is kept in ``error``: the tick
    waits for what runs and raises it (a database that is away fails the tick, as before,
    and the job runs again).
    """

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._last: dict[object, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._error: BaseException | None = None

    @property
    def error(self) -> BaseException | None:
        return self._error

    async def submit(self, lane: object, work: Coroutine[Any, Any, None]) -> None:
        """Start ``work`` after the lane's earlier work; waits while all slots are busy."""
        if self._error is not None:
            work.close()
            return
        await self._slots.acquire()
        before = self._last.get(lane)
        task = asyncio.create_task(self._run(before, work))
        self._last[lane] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, before: asyncio.Task[None] | None, work: Coroutine[Any, Any, None]
    ) -> None:
        try:
            if before is not None:
                await asyncio.wait([before])
            if self._error is None:
                await work
            else:
                work.close()
        except Exception as exc:
            if self._error is None:
                self._error = exc
        finally:
            self._slots.release()

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def wait(self) -> None:
        while self._tasks:
            await asyncio.wait(list(self._tasks))
