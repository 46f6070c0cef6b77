"""End-to-end tests use the same stage as the demo: fakegram + the real bot over HTTP."""

from __future__ import annotations

from buddybot.stage import BOT_USERNAME, TOKEN, Stage, local_settings

Harness = Stage
__all__ = ["BOT_USERNAME", "TOKEN", "Harness", "World", "local_settings"]


class World:
    """A small neighbourhood: a group with an admin and two residents, the bot added."""

    def __init__(self, h: Stage) -> None:
        self.h = h
        self.group = 0
        self.admin = 0
        self.anna = 0
        self.bert = 0

    async def build(
        self, *, title: str = "Wijk Oost", lang: str = "nl", admin_bot: bool = True
    ) -> World:
        tg = self.h.tg
        self.admin = await tg.create_user(
            "Fatima", last_name="El Amrani", username="fatima", language_code=lang
        )
        self.anna = await tg.create_user("Anna", username="anna", language_code=lang)
        self.bert = await tg.create_user("Bert", language_code=lang)
        self.group = await tg.create_group(
            title, creator=self.admin, members=[self.anna, self.bert]
        )
        await tg.add_bot(self.group, by=self.admin, admin=admin_bot)
        await self.h.settle()
        return self
