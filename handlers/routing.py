"""One lookup instead of a walk past every handler.

PTB asks the handlers of a group one by one whether they want an update; group 0 holds
about 80 of them. Nearly every update is a command or a button press, and each of those
can only be taken by the handlers of its command or of its button kind, plus the few
handlers that look at anything (members, polls, replies, the catch-all button). ``Routed``
asks only those, in the order they were added, so the same handler wins as without it."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from telegram import MessageEntity, Update
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, CommandHandler

from handlers import callbacks

log = logging.getLogger(__name__)
Handler = BaseHandler[Any, Any, Any]
Key = tuple[str, str]

# A button handler made by handlers/callbacks.pattern(kind) matches exactly its kind.
_BEFORE, _AFTER = callbacks.pattern("\0").split("\0")
_BUTTON_PATTERN = re.compile(rf"{re.escape(_BEFORE)}([A-Za-z0-9_]+){re.escape(_AFTER)}")


def _keys(handler: Handler) -> frozenset[Key] | None:
    """What an update must carry for ``handler`` to take it; None: it may take anything."""
    if type(handler) is CommandHandler:
        return frozenset(("cmd", c) for c in handler.commands)
    if type(handler) is CallbackQueryHandler and handler.game_pattern is None:
        pattern = handler.pattern
        if isinstance(pattern, re.Pattern) and pattern.flags == re.UNICODE:
            found = _BUTTON_PATTERN.fullmatch(pattern.pattern)
            if found:
                return frozenset({("cb", callbacks.pack(found.group(1)))})
    return None


def update_keys(update: object) -> frozenset[Key] | None:
    """The command and the button kind ``update`` carries, as PTB's handlers read them;
    None when it is anything unusual (then every handler is asked)."""
    if not isinstance(update, Update):
        return None
    keys: set[Key] = set()
    query = update.callback_query
    if query is not None:
        data = query.data
        if not isinstance(data, str) or not data or data.endswith("\n"):
            # PTB lets any button handler take a press without data, and its patterns'
            # ``$`` matches before a final newline: ask them all.
            return None
        parts = data.split(":", 2)
        if len(parts) >= 2:
            keys.add(("cb", f"{parts[0]}:{parts[1]}"))
    message = update.effective_message
    if message is not None and message.entities and message.text:
        first = message.entities[0]
        if first.type == MessageEntity.BOT_COMMAND and first.offset == 0:
            command = message.text[1 : first.length].split("@")[0].lower()
            keys.add(("cmd", command))
    return frozenset(keys)


class Routed(BaseHandler[Update, Any, object]):
    """The handlers of one group, asked only when the update can be theirs."""

    def __init__(self, handlers: Sequence[Handler]) -> None:
        super().__init__(self._unused, block=handlers[0].block)
        self.handlers = tuple(handlers)
        self._keyed: dict[Key, set[int]] = {}
        self._rest: list[int] = []
        for i, handler in enumerate(self.handlers):
            keys = _keys(handler)
            if keys is None:
                self._rest.append(i)
            else:
                for key in keys:
                    self._keyed.setdefault(key, set()).add(i)
        self._for: dict[frozenset[Key], tuple[Handler, ...]] = {}

    @staticmethod
    async def _unused(update: object, context: object) -> None:
        raise AssertionError("Routed hands each update to one of its handlers")

    def _candidates(self, keys: frozenset[Key]) -> tuple[Handler, ...]:
        known = frozenset(k for k in keys if k in self._keyed)  # bounded: user text is not
        found = self._for.get(known)
        if found is None:
            picked = set(self._rest).union(*(self._keyed[k] for k in known))
            found = tuple(h for i, h in enumerate(self.handlers) if i in picked)
            self._for[known] = found
        return found

    def check_update(self, update: object) -> tuple[Handler, object] | None:
        keys = update_keys(update)
        handlers = self.handlers if keys is None else self._candidates(keys)
        for handler in handlers:
            check = handler.check_update(update)
            if check is not None and check is not False:
                return handler, check
        return None

    def handle_update(  # type: ignore[override]
        self,
        update: Update,
        application: Application[Any, Any, Any, Any, Any, Any],
        check_result: tuple[Handler, object],
        context: Any,
    ) -> Any:
        handler, check = check_result
        return handler.handle_update(update, application, check, context)


def route(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Put each group's handlers behind one ``Routed``. A group whose handlers differ in
    ``block`` keeps its list: PTB reads ``block`` from the handler it asked. Handlers are
    read once: add them all before this runs."""
    for group, handlers in list(app.handlers.items()):
        if len(handlers) < 2:
            continue
        if any(h.block is not handlers[0].block for h in handlers):
            log.info("handler group %s is walked one by one: its handlers differ in block", group)
            continue
        routed = Routed(handlers)
        for handler in list(handlers):
            app.remove_handler(handler, group)
        app.add_handler(routed, group)
