"""What every handler and job needs, built once per running bot."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Coroutine
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from buddybot.bot.admins import AdminCache
from buddybot.bot.shares import GroupShares
from buddybot.clock import Clock
from buddybot.scheduling.due import RetryPolicy
from buddybot.services.people import Policy
from buddybot.services.polls import Tally
from buddybot.settings import Settings
from buddybot.storage.db import Database
from buddybot.storage.notices import Notices

# The background work (card edits) started while handling one update, when whoever handles
# it wants to wait for that work: the webhook answers Telegram only after it (bot.webhook).
spawned_here: ContextVar[set[asyncio.Task[None]] | None] = ContextVar("spawned_here", default=None)


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    admins: AdminCache
    policy: Policy
    retry: RetryPolicy
    shares: GroupShares
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    bot_username: str = ""
    background: set[asyncio.Task[None]] = field(default_factory=set)
    # Telegram's final counts of polls stopped while their vote could not be closed in the
    # database (an outage): the retry's stopPoll only answers "already closed".
    stopped_polls: dict[int, Tally] = field(default_factory=dict)

    def spawn(self, work: Coroutine[Any, Any, None], *, part_of_update: bool = True) -> None:
        """Run ``work`` in the background, keeping a reference until it is done.

        ``part_of_update``: the webhook answers Telegram (and lets the chat's next update
        through) only after it; False for work that may wait long, like a message queued
        behind the group's flood budget."""
        task = asyncio.get_running_loop().create_task(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        collecting = spawned_here.get()
        if collecting is not None and part_of_update:
            collecting.add(task)

    async def wait_background(self) -> None:
        while self.background:
            await asyncio.gather(*self.background, return_exceptions=True)

    @classmethod
    def build(cls, settings: Settings, db: Database, clock: Clock) -> Deps:
        return cls(
            settings=settings,
            db=db,
            clock=clock,
            admins=AdminCache(
                clock,
                settings.admin_cache_ttl,
                Notices(db),
                settings.retry_base,
                check=settings.listener_check,
            ),
            policy=Policy(
                superadmins=settings.superadmins,
                default_language=settings.default_language,
                timezone=settings.timezone,
                erasure_key=settings.erasure_secret,
            ),
            retry=RetryPolicy(settings.retry_base, settings.retry_max, settings.max_attempts),
            shares=GroupShares(clock, settings.person_group_messages_per_minute),
        )
