"""Commands as Telegram delivers them: cut short at an accent, or in a photo's caption."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buddybot.storage.models import Idea, Involvement, Wijk
from tests.support.harness import BOT_USERNAME, Harness, World


def _titles(bot: Harness, chat: int) -> list[str]:
    with bot.db.transaction() as uow:
        wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == chat))
        assert wijk is not None
        ideas = uow.session.scalars(select(Idea).where(Idea.wijk_id == wijk.id))
        return sorted(i.title for i in ideas)


def _supports(bot: Harness) -> int:
    with bot.db.transaction() as uow:
        return len(
            list(uow.session.scalars(select(Involvement).where(Involvement.kind == "supporter")))
        )


@pytest.mark.parametrize(
    "typed",
    ["/ideeën", "/Ideeën", "/ideee\u0308n", f"/ideeën@{BOT_USERNAME}", "/ideeën graag"],
    ids=["accent", "capital", "decomposed", "addressed", "with-words"],
)
async def test_ideeen_with_its_accent_lists_the_ideas(
    world: World, bot: Harness, typed: str
) -> None:
    """Telegram delivers "/ideeën" as the command /idee with "ën" glued on: it lists the
    ideas, like /ideeen, and proposes nothing."""
    await bot.say(world.group, world.anna, "/idee Moestuin op het plein")
    before = await bot.texts(world.group)
    await bot.say(world.group, world.bert, typed)
    after = await bot.texts(world.group)
    assert len(after) == len(before) + 1
    assert "Open ideeën" in after[-1] and "#1 Moestuin op het plein" in after[-1]
    assert "Wat is je idee?" not in after[-1]
    assert _titles(bot, world.group) == ["Moestuin op het plein"]


async def test_accents_on_other_commands_are_read_the_same(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.anna, "/idee Moestuin op het plein")
    await bot.say(world.group, world.bert, "/stéun 1")  # folded to /steun
    assert "#1" in await bot.last_text(world.group)
    assert _supports(bot) == 1
    assert _titles(bot, world.group) == ["Moestuin op het plein"]


async def test_a_command_in_a_photo_caption_works(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.anna, "/idee Bankje bij de speeltuin", photo=True)
    assert "💡 #1 Bankje bij de speeltuin" in await bot.last_text(world.group)
    assert _titles(bot, world.group) == ["Bankje bij de speeltuin"]
    await bot.say(world.group, world.bert, "/ideeën", photo=True)
    assert "Open ideeën" in await bot.last_text(world.group)


async def test_a_photo_without_a_command_stays_plain_talk(world: World, bot: Harness) -> None:
    before = await bot.texts(world.group)
    await bot.say(world.group, world.anna, "Kijk, het nieuwe bankje /idee", photo=True)
    assert await bot.texts(world.group) == before
    assert _titles(bot, world.group) == []


async def test_commands_in_captions_count_for_the_flood_limit(world: World, bot: Harness) -> None:
    limit = bot.settings.person_actions_per_minute
    updates = [
        await bot.tg.send_message(world.group, world.bert, "/wie", photo=True)
        for _ in range(limit + 5)
    ]
    for u in updates:
        await bot.handled(u)
    texts = await bot.texts(world.group)
    assert sum("Rustig aan" in t for t in texts) == 1
    assert sum(t.startswith("Wijk Oost") for t in texts) == limit
