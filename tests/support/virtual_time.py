"""An event loop on virtual time: a test of what happens over minutes takes milliseconds."""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


# Each pass of the loop takes this long, as on a real machine: a timer that fires a hair
# early (asyncio allows the clock's resolution) finds time moved on.
PASS_SECONDS = 1e-6


class _Skipping(selectors.DefaultSelector):
    """Polls without waiting; when nothing is ready, the wait passes at once on the clock."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0 if timeout is not None else None)
        self.now += PASS_SECONDS
        if not ready and timeout is not None:
            self.now += timeout
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """``time()`` starts at 0 and jumps to the next timer whenever every task waits for one
    (``asyncio.sleep``, timeouts, rate limiters): no real time passes."""

    def __init__(self) -> None:
        self.selector = _Skipping()
        super().__init__(self.selector)

    def time(self) -> float:
        return self.selector.now


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a fresh virtual-time loop."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()
