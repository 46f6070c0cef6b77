"""Chats are handled concurrently, each chat strictly in order (PTB #3509, #3575)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def chat_key(update: object) -> object:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.poll_answer is not None:
        return ("poll", update.poll_answer.poll_id)
    if update.poll is not None:
        return ("poll", update.poll.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """At most ``max_concurrent_updates`` updates at once, never two of one chat.

    It also remembers which updates are finished, so the demo and the tests can wait for
    "this update is handled" instead of sleeping.
    """

    def __init__(self, max_concurrent_updates: int, remember: int = 10_000) -> None:
        # PTB's own semaphore is made wide; the real limit is ``_slots``, taken *after* the
        # chat lock, so a flood in one chat queues behind its own lock and does not fill the
        # slots other chats need.
        super().__init__(1 << 20)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[object, asyncio.Lock] = {}
        self._waiting: dict[object, int] = {}
        self._done: deque[int] = deque(maxlen=remember)
        self._times: dict[int, int] = {}  # update id -> how often handled (redelivery)
        self._changed = asyncio.Condition()
        self.in_flight = 0
        self.handled_count = 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        self.in_flight += 1
        try:
            if key is None:
                async with self._slots:
                    await coroutine
                return
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = asyncio.Lock()
            self._waiting[key] = self._waiting.get(key, 0) + 1
            try:
                async with lock, self._slots:
                    await coroutine
            finally:
                self._waiting[key] -= 1
                if not self._waiting[key]:
                    del self._waiting[key]
                    del self._locks[key]
        finally:
            self.in_flight -= 1
            await self._record(update)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def _record(self, update: object) -> None:
        self.handled_count += 1
        if isinstance(update, Update):
            uid = update.update_id
            if uid not in self._times:
                if len(self._done) == self._done.maxlen:
                    self._times.pop(self._done[0], None)
                self._done.append(uid)
            self._times[uid] = self._times.get(uid, 0) + 1
        async with self._changed:
            self._changed.notify_all()

    def times_handled(self, update_id: int) -> int:
        return self._times.get(update_id, 0)

    def handled_ids(self) -> set[int]:
        return set(self._times)

    def is_handled(self, update_id: int) -> bool:
        return update_id in self._times

    async def wait_handled(self, update_id: int, times: int = 1) -> None:
        """Wait until the update is handled ``times`` times (callers bound the wait with
        ``asyncio.timeout``)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._times.get(update_id, 0) >= times)

    async def wait_count(self, count: int) -> None:
        """Wait until ``count`` updates have been handled since start."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.handled_count >= count)

    async def wait_idle(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight == 0)
