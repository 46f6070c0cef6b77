"""Meeting dates that cannot be meant: more than two years ahead, an impossible day. The
facilitator is told what is wrong, in the wijk's language, and nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from buddybot.storage.models import DueItem, Meeting
from tests.support.harness import Harness, World

# Wednesday 2 December 2026, 10:00 in Amsterdam.
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
TOO_FAR = {
    "nl": "Die datum ligt te ver in de toekomst: {}. Kies een moment binnen 2 jaar.",
    "en": "That date is too far in the future: {}. Choose a moment within 2 years.",
}
IMPOSSIBLE = {
    "nl": "Die datum bestaat niet: {}. Schrijf bijvoorbeeld: 5 december 19:30",
    "en": "That date does not exist: {}. Write for example: 5 December 7:30pm",
}


def _stored(bot: Harness) -> tuple[int, int]:
    with bot.db.transaction() as uow:
        s = uow.session
        meetings = s.scalar(select(func.count()).select_from(Meeting)) or 0
        due = s.scalar(
            select(func.count()).select_from(DueItem).where(DueItem.kind.like("meeting%"))
        )
        return meetings, due or 0


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize(
    ("when", "wrong"),
    [
        ("31-12-9999 19:30", TOO_FAR),
        ("31-12-9999", TOO_FAR),  # no time: still the date that is wrong, not the time
        ("over 5000 jaar", TOO_FAR),
        ("in 5000 years 7pm", TOO_FAR),
        ("3 december 2028 19:30", TOO_FAR),
        ("-1 december 19:30", IMPOSSIBLE),
        ("-1 December 7pm", IMPOSSIBLE),
        ("31-02 19:30", IMPOSSIBLE),
    ],
)
async def test_an_impossible_meeting_date_is_refused_and_nothing_stored(
    bot: Harness, lang: str, when: str, wrong: dict[str, str]
) -> None:
    bot.clock.set(NOW)
    w = await World(bot).build(lang=lang)
    command = "/bijeenkomst" if lang == "nl" else "/meeting"
    await bot.say(w.group, w.admin, f"{command} {when} | Buurthuis | Startavond")
    assert await bot.last_text(w.group) == wrong[lang].format(when)
    assert _stored(bot) == (0, 0)


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_the_guided_question_refuses_it_too(bot: Harness, lang: str) -> None:
    bot.clock.set(NOW)
    w = await World(bot).build(lang=lang)
    await bot.say(w.group, w.admin, "/bijeenkomst")
    question = (await bot.tg.messages(w.group))[-1]
    await bot.say(w.group, w.admin, "31-12-9999 19:30", reply_to=question["message_id"])
    assert await bot.last_text(w.group) == TOO_FAR[lang].format("31-12-9999 19:30")
    assert _stored(bot) == (0, 0)


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_a_meeting_is_not_moved_into_another_millennium(bot: Harness, lang: str) -> None:
    bot.clock.set(NOW)
    w = await World(bot).build(lang=lang)
    await bot.say(w.group, w.admin, "/bijeenkomst vrijdag 19:30 | Buurthuis | Startavond")
    draft = (await bot.tg.messages(w.group))[-1]
    ok = draft["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await bot.press(w.group, draft["message_id"], w.admin, data=ok)
    with bot.db.transaction() as uow:
        before = uow.session.execute(select(Meeting.starts_at, Meeting.status)).all()
    command = "/verzetten" if lang == "nl" else "/reschedule"
    await bot.say(w.group, w.admin, f"{command} 1 over 5000 jaar 19:30")
    assert await bot.last_text(w.group) == TOO_FAR[lang].format("over 5000 jaar 19:30")
    await bot.say(w.group, w.admin, f"{command} 1 -1 december 19:30")
    assert await bot.last_text(w.group) == IMPOSSIBLE[lang].format("-1 december 19:30")
    with bot.db.transaction() as uow:
        assert uow.session.execute(select(Meeting.starts_at, Meeting.status)).all() == before
