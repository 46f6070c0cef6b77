"""Counting per key over the last minute, with one warning a minute: the per-person flood
limit and each person's share of a group both use it."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

WINDOW = timedelta(minutes=1)
PRUNE_EVERY = 1000  # calls between two sweeps of keys that went quiet

K = TypeVar("K", bound=Hashable)


class MinuteWindow(Generic[K]):
    """The times of the last minute per key. Keys quiet for a whole minute are forgotten
    now and then: otherwise a city's bot keeps an entry for everyone who ever acted."""

    def __init__(self) -> None:
        self._times: dict[K, deque[datetime]] = {}
        self._warned: dict[K, datetime] = {}
        self._calls = 0

    @property
    def tracked(self) -> int:
        """Keys the window keeps anything about."""
        return len(self._times.keys() | self._warned.keys())

    def count(self, key: K, now: datetime) -> int:
        self._calls += 1
        if self._calls % PRUNE_EVERY == 0:
            self._prune(now)
        times = self._times.get(key)
        if times is None:
            return 0
        while times and times[0] <= now - WINDOW:
            times.popleft()
        return len(times)

    def add(self, key: K, now: datetime) -> None:
        self.count(key, now)  # drops what is older than a minute
        self._times.setdefault(key, deque()).append(now)

    def warn_once(self, key: K, now: datetime) -> bool:
        """True at most once a minute per key: when to tell the person why."""
        warned = self._warned.get(key)
        if warned is not None and warned > now - WINDOW:
            return False
        self._warned[key] = now
        return True

    def _prune(self, now: datetime) -> None:
        cutoff = now - WINDOW
        self._times = {k: t for k, t in self._times.items() if t and t[-1] > cutoff}
        self._warned = {k: at for k, at in self._warned.items() if at > cutoff}
