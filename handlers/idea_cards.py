"""Keeps idea cards up to date, merging bursts of changes into few edits.

A change asks for a refresh. When no edit of that card is running, one starts in the
background; changes that come in while it runs only mark the card as stale, and one more
edit follows with the newest state. Edits count against the group's flood budget, so ten
quick presses give two or three edits, not ten.
"""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import BadRequest, TelegramError

from buddybot.bot.runtime import Deps
from buddybot.services import ideas, wijken
from handlers.idea_views import card_markup, card_text

log = logging.getLogger(__name__)


class CardRefresher:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._running: set[int] = set()
        self._stale: set[int] = set()
        self.edits = 0

    def request(self, bot: Bot, idea_id: int) -> None:
        if idea_id in self._running:
            self._stale.add(idea_id)
            return
        self._running.add(idea_id)
        self.deps.spawn(self._run(bot, idea_id))

    async def _run(self, bot: Bot, idea_id: int) -> None:
        try:
            while True:
                self._stale.discard(idea_id)
                await self._edit(bot, idea_id)
                if idea_id not in self._stale:
                    return
        finally:
            self._running.discard(idea_id)
            self._stale.discard(idea_id)

    async def _edit(self, bot: Bot, idea_id: int) -> None:
        async with self.deps.db.unit_of_work() as uow:
            card = await ideas.card_by_id(uow, idea_id)
            target = await wijken.chat_of(uow, card.wijk_id) if card else None
        if card is None or target is None or card.card_message_id is None:
            return
        chat_id, lang, _ = target
        if card.card_chat_id is not None and card.card_chat_id != chat_id:
            return  # the card is in an old chat id (before a migration); leave it
        try:
            self.edits += 1
            await bot.edit_message_text(
                card_text(lang, card),
                chat_id=chat_id,
                message_id=card.card_message_id,
                reply_markup=card_markup(lang, card),
            )
        except BadRequest as exc:
            if "not modified" not in exc.message:
                log.info("card of idea %s not edited: %s", idea_id, exc.message)
        except TelegramError as exc:
            log.warning("card of idea %s not edited: %s", idea_id, exc)
