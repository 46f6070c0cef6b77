"""fakegram: a local Telegram Bot API server (plus a control side) for tests and the demo."""

from buddybot.fakegram.client import FakegramClient, FakegramControlError
from buddybot.fakegram.server import FakegramServer
from buddybot.fakegram.state import FakegramState

__all__ = ["FakegramClient", "FakegramControlError", "FakegramServer", "FakegramState"]
