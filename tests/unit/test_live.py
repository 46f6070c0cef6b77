"""Live messages: bursts merge, and the newest state is what the card ends up showing."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from buddybot.bot.live import LiveMessages, View
from buddybot.bot.shares import ACTING


class FakeDeps:
    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[None]] = []

    def spawn(self, work: Coroutine[Any, Any, None], **_: object) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(work))

    async def settle(self) -> None:
        while not all(t.done() for t in self.tasks):
            await asyncio.gather(*self.tasks)


class FakeBot:
    def __init__(self) -> None:
        self.edits: list[str] = []

    async def edit_message_text(
        self, text: str, chat_id: int, message_id: int, **_: object
    ) -> None:
        self.edits.append(text)
        await asyncio.sleep(0)  # an edit takes a while: presses can arrive meanwhile


def _live(db: dict[str, str]) -> tuple[LiveMessages, FakeDeps]:
    deps = FakeDeps()

    async def render(_deps: object, item: int) -> View:
        return (-1, 7, db["card"], None)

    live = LiveMessages(deps, {"idea": render})  # type: ignore[arg-type]
    return live, deps


async def test_a_change_after_the_handed_view_is_shown_too() -> None:
    """Press A hands over the card it read; press B (elsewhere) commits before A's edit
    starts and only marks the card stale. The card must end up showing B as well."""
    db = {"card": "A"}
    live, deps = _live(db)
    bot = FakeBot()
    live.request(bot, "idea", 1, (-1, 7, "A", None))  # type: ignore[arg-type]
    db["card"] = "A+B"
    live.request(bot, "idea", 1)  # type: ignore[arg-type]
    await deps.settle()
    assert bot.edits == ["A", "A+B"]


async def test_a_burst_of_presses_gives_few_edits_ending_with_the_newest() -> None:
    db = {"card": "0"}
    live, deps = _live(db)
    bot = FakeBot()
    for n in range(1, 11):
        db["card"] = str(n)
        live.request(bot, "idea", 1, (-1, 7, str(n), None))  # type: ignore[arg-type]
    await deps.settle()
    assert len(bot.edits) <= 3
    assert bot.edits[-1] == "10"


async def test_each_edit_counts_for_the_person_whose_change_it_shows() -> None:
    """Anna's press starts the edit; Bert's press while it runs only marks the card stale.
    The second edit shows Bert's change, so it counts against Bert's share, not Anna's."""
    db = {"card": "A"}
    live, deps = _live(db)
    bot = FakeBot()
    acting: list[int | None] = []
    edit = bot.edit_message_text

    async def edit_as(text: str, chat_id: int, message_id: int, **kw: object) -> None:
        acting.append(ACTING.get())
        await edit(text, chat_id, message_id, **kw)

    bot.edit_message_text = edit_as  # type: ignore[method-assign]
    ACTING.set(1)
    live.request(bot, "idea", 1, (-1, 7, "A", None))  # type: ignore[arg-type]
    ACTING.set(2)
    db["card"] = "A+B"
    live.request(bot, "idea", 1)  # type: ignore[arg-type]
    await deps.settle()
    assert bot.edits == ["A", "A+B"] and acting == [1, 2]
