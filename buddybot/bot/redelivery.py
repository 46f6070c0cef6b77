"""Updates Telegram sends again: in webhook mode, one the database could not take.

Telegram pushes an update to the webhook again when the answer is not 200. An update that
failed because the database was away (after ``Database.run``'s second try) before its
handled mark committed left nothing behind, so handling it again later is safe and loses
nothing: the webhook answers 503 for it. Once the mark committed (a later unit of work of
the same update failed), a second delivery would be ignored as handled: then, as in polling
mode (``getUpdates`` has moved past it), the usual error handler logs and apologises.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from buddybot.bot.context import BotContext
from buddybot.storage.db import committed_marks, unavailable

log = logging.getLogger(__name__)

# Set by the webhook while it handles one update: the infrastructure failures met on the way.
failures_here: ContextVar[list[BaseException] | None] = ContextVar("failures_here", default=None)


async def note_failure(update: object, context: BotContext) -> None:
    """The first error handler. When the webhook can have the update sent again and the
    database was unavailable, it notes the failure and stops the other error handlers: no
    apology in the chat, as the update will still be handled."""
    failures = failures_here.get()
    error = context.error
    if failures is None or error is None or not unavailable(error):
        return
    update_id = update.update_id if isinstance(update, Update) else None
    marks = committed_marks.get()
    if marks is not None and update_id in marks:
        return  # handled in part: sent again it would be ignored, so apologise now
    failures.append(error)
    log.warning("update %s waits for the database (%s); Telegram sends it again", update_id, error)
    raise ApplicationHandlerStop
