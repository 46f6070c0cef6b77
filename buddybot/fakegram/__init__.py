"""fakegram: a local Telegram Bot API server (plus a control side) for tests and the demo.

The server and client (aiohttp) load on first use, so ``fakegram.shapes`` alone stays light
(the benchmarks' bare PTB reference imports it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from buddybot.fakegram.client import FakegramClient, FakegramControlError
    from buddybot.fakegram.server import FakegramServer
    from buddybot.fakegram.state import FakegramState

__all__ = ["FakegramClient", "FakegramControlError", "FakegramServer", "FakegramState"]

_HOMES = {
    "FakegramClient": "client",
    "FakegramControlError": "client",
    "FakegramServer": "server",
    "FakegramState": "state",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"buddybot.fakegram.{_HOMES[name]}"), name)
    raise AttributeError(name)
