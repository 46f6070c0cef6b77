"""Who administers a group, asked of Telegram and kept for a while.

Every lookup costs one call against the group's 20-per-minute budget, so answers are
cached and refreshed when a ``chat_member`` update says the admins changed. Telegram sends
that update to one replica only, so the replica that gets it tells the others (PostgreSQL
NOTIFY); while a replica cannot hear them, it keeps nothing and asks Telegram every time.

Telegram sends ``chat_member`` updates only to a bot that is an admin of the group. Where the
bot is not, the cache cannot hear of a demotion (it ages out after ``ttl``) and the stored
memberships may miss a leave; ``standing`` then asks Telegram about the one person.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import Bot, ChatMember, ChatMemberRestricted
from telegram.error import TelegramError

from buddybot.clock import Clock
from buddybot.storage.notices import Notices, Subscription

log = logging.getLogger(__name__)


CHANNEL = "buddybot_admins"


@dataclass(frozen=True, slots=True)
class Standing:
    """A person's place in a group, as far as powers used outside it are concerned."""

    present: bool  # a member (False: left or removed)
    admin: bool  # an admin or the owner


class AdminCache:
    def __init__(
        self,
        clock: Clock,
        ttl: timedelta,
        notices: Notices | None = None,
        retry: timedelta = timedelta(seconds=30),
        *,
        check: timedelta = timedelta(seconds=30),
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        # chat id -> (kept until, admins, whether the bot itself is an admin there)
        self._admins: dict[int, tuple[datetime, dict[int, str], bool]] = {}
        self._notices = notices
        self._retry = retry
        self._check = check
        # Whether changes seen by other replicas reach this one (always, with no others).
        self._hearing = notices is None or not notices.shared
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._next_notice = asyncio.Event()
        # Bumped by every change seen: an answer fetched across one is not kept.
        self._generation = 0
        self.heard = 0  # notices received (tests wait on them)
        # Changes the other replicas could not be told of yet: chat id -> (when, which);
        # the latest change of a chat counts: the others keep lists until ``ttl`` after it.
        self._unsent: dict[int, tuple[datetime, int]] = {}
        self._changes = itertools.count()
        self._resender: asyncio.Task[None] | None = None
        self._told = asyncio.Condition()

    async def admins(self, bot: Bot, chat_id: int) -> dict[int, str]:
        """Telegram user id -> display name of the group's human admins."""
        return (await self._lookup(bot, chat_id))[0]

    async def _lookup(self, bot: Bot, chat_id: int) -> tuple[dict[int, str], bool]:
        """The human admins, and whether the bot is an admin itself (False when unknown)."""
        now = self._clock.now()
        cached = self._admins.get(chat_id)
        hearing, generation = self._hearing, self._generation
        if cached and cached[0] > now and hearing:
            return cached[1], cached[2]
        try:
            members = await bot.get_chat_administrators(chat_id)
        except TelegramError as exc:
            log.warning("could not read admins of chat %s: %s", chat_id, exc)
            return (cached[1] if cached else {}), False
        found = {m.user.id: m.user.full_name for m in members if not m.user.is_bot}
        bot_admin = any(m.user.id == bot.id for m in members)
        # Kept only when no change can have been missed: not while deaf to the other
        # replicas, and not when a change arrived while Telegram was being asked.
        if hearing and generation == self._generation:
            self._admins[chat_id] = (now + self._ttl, found, bot_admin)
        return found, bot_admin

    async def standing(self, bot: Bot, chat_id: int, user_id: int) -> Standing | None:
        """For a power used outside the group (a private chat, a private delivery).

        Where the bot is an admin, Telegram tells it of every leave and demotion: the cached
        admins hold and the stored membership is current (``present`` then means "as
        stored"). Elsewhere Telegram is asked about this person (``getChatMember``).
        None when Telegram cannot be asked: the caller grants nothing."""
        admins, trusted = await self._lookup(bot, chat_id)
        if trusted:
            return Standing(present=True, admin=user_id in admins)
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            log.warning("could not read member %s of chat %s: %s", user_id, chat_id, exc)
            return None
        admin = member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)
        present = admin or member.status == ChatMember.MEMBER
        if isinstance(member, ChatMemberRestricted):
            present = member.is_member
        return Standing(present=present, admin=admin)

    async def is_admin(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        return user_id in await self.admins(bot, chat_id)

    async def changed(self, *chat_ids: int) -> None:
        """The admins of these chats changed (or the chat moved): forget them here and
        tell the other replicas. A failure to tell is logged: their answers age out."""
        self._generation += 1
        for chat_id in chat_ids:
            self._admins.pop(chat_id, None)
        if self._notices is None or not self._notices.shared:
            return
        for chat_id in chat_ids:
            try:
                await self._notices.send(CHANNEL, str(chat_id))
            except Exception as exc:
                log.warning("could not tell the other replicas that %s changed (%s)", chat_id, exc)
                self._unsent[chat_id] = (self._clock.now(), next(self._changes))
        if self._unsent and self._resender is None:
            self._resender = asyncio.get_running_loop().create_task(self._resend(self._notices))

    async def _resend(self, notices: Notices) -> None:
        """Tell the other replicas of the changes they missed, every ``retry``, until told:
        until then a removed admin keeps their rights there. Given up after ``ttl``, when
        every other replica has dropped what it kept from before the change anyway."""
        try:
            while self._unsent:
                await asyncio.sleep(self._retry.total_seconds())
                for chat_id, change in list(self._unsent.items()):
                    if self._unsent.get(chat_id) != change:
                        continue  # a newer change came in meanwhile: the next round has it
                    if self._clock.now() >= change[0] + self._ttl:
                        del self._unsent[chat_id]
                        continue
                    try:
                        await notices.send(CHANNEL, str(chat_id))
                    except Exception as exc:
                        log.warning("still cannot tell the other replicas (%s)", exc)
                        break  # the channel is down: wait before the next
                    # (A change that failed while this was sent is told on the next round.)
                    if self._unsent.get(chat_id) == change:
                        del self._unsent[chat_id]
                    log.info("told the other replicas that %s changed, late", chat_id)
        finally:
            self._resender = None
            async with self._told:
                self._told.notify_all()

    @property
    def unsent(self) -> int:
        """Changes the other replicas have not been told of yet."""
        return len(self._unsent)

    async def wait_told(self) -> None:
        """Until nothing is left to tell (callers bound the wait)."""
        async with self._told:
            await self._told.wait_for(lambda: self._resender is None)

    async def start(self) -> None:
        """Listen for the changes other replicas see (PostgreSQL; nothing to do alone)."""
        if self._notices is not None and self._notices.shared and self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(self._listen(self._notices))

    async def stop(self) -> None:
        if self._resender is not None:
            self._resender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._resender
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except asyncio.CancelledError:
                pass
            except Exception:  # shutting down must go on (the app, the database)
                log.exception("the admin-change listener failed")
            self._listener = None

    async def _listen(self, notices: Notices) -> None:
        while True:
            subscription: Subscription | None = None
            try:
                subscription = await notices.listen(CHANNEL, self._on_notice)
                # What was kept while deaf may have missed a change: start afresh.
                self._admins.clear()
                self._generation += 1
                self._hearing = True
                self._listening.set()
                await self._until_lost(subscription)
                log.warning("lost the admin-change channel; asking Telegram until it is back")
            except Exception as exc:
                log.warning("cannot listen for admin changes (%s); retrying", exc)
            finally:
                # Changes may be missed from here on: keep nothing until hearing again.
                self._hearing = False
                self._listening.clear()
                self._admins.clear()
                if subscription is not None:
                    with contextlib.suppress(Exception):  # the loop must go on
                        await subscription.close()
            await asyncio.sleep(self._retry.total_seconds())

    async def _until_lost(self, subscription: Subscription) -> None:
        """Until the channel breaks or stops answering. Without the check, a connection
        whose other end vanished silently would seem to listen on while hearing nothing,
        and this replica would trust stale admins for a whole ``ttl``."""
        every = self._check.total_seconds()
        while not subscription.lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every):
                    await subscription.lost.wait()
            if not subscription.lost.is_set() and not await subscription.answers(every):
                return

    def _on_notice(self, payload: str) -> None:
        self._generation += 1
        with contextlib.suppress(ValueError):
            self._admins.pop(int(payload), None)
        self.heard += 1
        self._next_notice.set()
        self._next_notice = asyncio.Event()

    async def wait_listening(self) -> None:
        """Until changes seen by other replicas reach this one (callers bound the wait)."""
        if self._notices is not None and self._notices.shared:
            await self._listening.wait()

    async def wait_heard(self, count: int) -> None:
        """Until ``count`` notices have arrived (callers bound it with a timeout)."""
        while self.heard < count:
            await self._next_notice.wait()
