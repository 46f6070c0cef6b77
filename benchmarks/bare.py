"""The ceiling: a PTB application that only replies to the same updates buddybot handles.

Used as the reference by the throughput and memory benchmarks; it imports nothing of
buddybot beyond the in-process Bot API.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    PollAnswerHandler,
)

from benchmarks.local_api import LocalBotApi
from benchmarks.mix import TOKEN

COMMANDS = ["hulp", "help", "wie", "who", "taal", "language", "start", "idee", "ideeen"]


class BareBot:
    """``app`` answers every press and replies to every command; ``wait(n)`` returns once
    ``n`` updates have been handled since start."""

    def __init__(self) -> None:
        self.handled = 0
        self._changed = asyncio.Condition()
        self.app: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder().token(TOKEN).request(LocalBotApi()).updater(None)
            .concurrent_updates(64).build()
        )  # fmt: skip
        self.app.add_handler(CommandHandler(COMMANDS, self._reply))
        self.app.add_handler(CallbackQueryHandler(self._reply))
        self.app.add_handler(PollAnswerHandler(self._reply))

    async def _reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer("ok")
        elif update.effective_message is not None:
            await update.effective_message.reply_text("ok")
        self.handled += 1
        async with self._changed:
            self._changed.notify_all()

    async def wait(self, count: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.handled >= count)
