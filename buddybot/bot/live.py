"""Keeps live messages (idea cards, meeting announcements) up to date, merging bursts.

A change asks for a refresh. When no edit of that message is running, one starts in the
background; changes that come in while it runs only mark it stale, and one more edit
follows with the newest state. Edits count against the group's flood budget, so ten quick
presses give two or three edits, not ten. Each edit counts against the share of the person
whose change it shows last (``bot.shares``), not of whoever started the first one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError

from buddybot.bot.runtime import Deps
from buddybot.bot.shares import ACTING

log = logging.getLogger(__name__)

# (chat id, message id, text, buttons) of the message as it should look now; None: leave it.
View = tuple[int, int, str, InlineKeyboardMarkup | None]
Render = Callable[[Deps, int], Awaitable[View | None]]


class LiveMessages:
    """``renderers``: kind of live message -> how it should look now."""

    def __init__(self, deps: Deps, renderers: Mapping[str, Render]) -> None:
        self.deps = deps
        self._renderers = dict(renderers)
        self._running: set[tuple[str, int]] = set()
        self._stale: set[tuple[str, int]] = set()
        self._asker: dict[tuple[str, int], int | None] = {}  # whose change the next edit shows

    def request(self, bot: Bot, kind: str, item_id: int, view: View | None = None) -> None:
        """``view``: the message as the caller just computed it in its own transaction,
        which spares the first edit a database round; later edits render afresh."""
        key = (kind, item_id)
        if key in self._running:
            self._stale.add(key)
            self._asker[key] = ACTING.get()
            return
        self._running.add(key)
        self.deps.spawn(self._run(bot, key, view, ACTING.get()))

    async def _run(
        self, bot: Bot, key: tuple[str, int], view: View | None, asker: int | None
    ) -> None:
        try:
            while True:
                ACTING.set(asker)  # this task's own context
                if view is not None:
                    # A stale mark set after the request is newer than this view: keep it,
                    # so the loop renders once more.
                    await self._show(bot, key, view)
                    view = None
                else:
                    self._stale.discard(key)
                    await self._edit(bot, key)
                if key not in self._stale:
                    return
                asker = self._asker.pop(key, None)  # whose change the next edit shows
        finally:
            self._running.discard(key)
            self._stale.discard(key)
            self._asker.pop(key, None)

    async def _edit(self, bot: Bot, key: tuple[str, int]) -> None:
        view = await self._renderers[key[0]](self.deps, key[1])
        if view is not None:
            await self._show(bot, key, view)

    async def _show(self, bot: Bot, key: tuple[str, int], view: View) -> None:
        chat_id, message_id, text, markup = view
        try:
            await bot.edit_message_text(text, chat_id, message_id, reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in exc.message:
                log.info("live message %s not edited: %s", key, exc.message)
        except TelegramError as exc:
            log.warning("live message %s not edited: %s", key, exc)
