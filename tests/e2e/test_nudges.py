"""Nudges: quiet ideas get a concrete next step, rung by rung, with good manners."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from buddybot.scheduling import nudges as nudging
from buddybot.services import nudges as nudge_service
from buddybot.storage.models import Idea, Nudge, Wijk
from tests.support.harness import Harness, World
from tests.support.questions import last_question

JSON = dict[str, Any]
# The world is made on Friday 27 November 2026 at 11:00 in Amsterdam.
WEEK = timedelta(days=7)


async def _nudges(bot: Harness, chat: int) -> list[str]:
    return [t for t in await bot.texts(chat) if t.startswith("💤")]


async def _at(bot: Harness, when: datetime) -> None:
    bot.clock.set(when)
    await bot.tick()


def _count(bot: Harness) -> int:
    with bot.db.transaction() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Nudge)) or 0)


async def test_the_ladder_rung_by_rung_then_left_alone(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.anna, "/idee Moestuin op het plein")
    await bot.handled(await bot.tg.start_private(world.anna))
    await bot.handled(await bot.tg.start_private(world.admin))
    msg = await bot.tg.send_message(world.group, world.anna, "ik help")
    await bot.say(world.group, world.admin, "/facilitator", reply_to=msg["message"]["message_id"])
    start = bot.clock.now()
    await _at(bot, start + WEEK - timedelta(minutes=1))
    assert await _nudges(bot, world.group) == []
    await _at(bot, start + WEEK)
    (group,) = await _nudges(bot, world.group)
    assert "#1 Moestuin op het plein: er is nog geen wijkkampioen" in group
    card = (await bot.tg.messages(world.group))[-1]
    assert card["reply_markup"]["inline_keyboard"][0][0]["text"] == "🏆 #1 Kampioen worden"
    await _at(bot, start + 2 * WEEK)
    assert "ligt al een tijdje stil" in await bot.last_text(world.anna)  # the author
    await _at(bot, start + 3 * WEEK)
    assert "ligt al lang stil" in await bot.last_text(world.admin)  # the facilitators
    count = _count(bot)
    await _at(bot, start + 10 * WEEK)
    assert _count(bot) == count == 3


async def test_any_activity_resets_the_ladder(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.anna, "/idee Bankjes bij de speeltuin")
    start = bot.clock.now()
    await _at(bot, start + WEEK)
    assert len(await _nudges(bot, world.group)) == 1
    bot.clock.set(start + WEEK + timedelta(days=3))
    await bot.say(world.group, world.bert, "/steun 1")
    await _at(bot, start + 2 * WEEK)  # not yet quiet again: no second rung
    assert len(await _nudges(bot, world.group)) == 1
    await _at(bot, start + 2 * WEEK + timedelta(days=3))
    nudges = await _nudges(bot, world.group)
    assert len(nudges) == 2 and "er is nog geen wijkkampioen" in nudges[-1]  # rung 1 again


async def test_the_step_fits_the_situation(world: World, bot: Harness) -> None:
    await bot.say(
        world.group,
        world.admin,
        "/partner Tuincentrum Groenrijk | groen | Planten en advies over moestuinen | -",
    )
    for title in ["Moestuin achter de school", "Buurtfeest", "Speelplek", "Buurtkrant"]:
        await bot.say(world.group, world.anna, f"/idee {title}")
    await bot.say(world.group, world.bert, "/kampioen 2")  # champion, no helpers
    await bot.say(world.group, world.bert, "/kampioen 3")
    await bot.say(world.group, world.anna, "/meedoen 3")  # champion and helper, selected
    await bot.say(world.group, world.admin, "/status 3 gekozen")
    await bot.say(world.group, world.bert, "/kampioen 4")
    await bot.say(world.group, world.anna, "/meedoen 4")
    with bot.db.transaction() as uow:
        wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == world.group))
        assert wijk is not None
        wijk.settings = {"nudge_cap": 5}
    await _at(bot, bot.clock.now() + WEEK)
    (text,) = await _nudges(bot, world.group)  # one combined message for all four
    assert "#1 Moestuin achter de school: er is nog geen wijkkampioen" in text
    assert "#2 Buurtfeest: de wijkkampioen zoekt helpers" in text
    assert "#3 Speelplek: plan een kort overleg" in text
    assert "#4 Buurtkrant: vertel hoe het gaat met /bijwerken 4" in text
    nudge = (await bot.tg.messages(world.group))[-1]
    toast = await bot.press(
        world.group, nudge["message_id"], world.anna, text="📅 #3 Plan een overleg"
    )
    assert toast is not None and "Een facilitator plant het" in str(toast["text"])
    await bot.press(world.group, nudge["message_id"], world.admin, text="📅 #3 Plan een overleg")
    # The pressed message is the bot's: the question names the one who pressed, so that
    # only they get the reply box; each next question quotes their answer.
    when = await last_question(bot, world.group)
    assert "Wanneer is de bijeenkomst?" in when.text
    assert when.box_for(user_id=world.admin) and not when.box_for(user_id=world.anna)
    answer = await bot.say(world.group, world.admin, "vrijdag 19:30", reply_to=when.message_id)
    place = await last_question(bot, world.group)
    assert place.box_for(message_id=answer["message"]["message_id"])


async def test_partner_step_when_a_matching_partner_is_not_linked(
    world: World, bot: Harness
) -> None:
    await bot.say(
        world.group,
        world.admin,
        "/partner Tuincentrum Groenrijk | groen | Planten en advies over moestuinen | -",
    )
    await bot.say(world.group, world.anna, "/idee Moestuin achter de school")
    await bot.say(world.group, world.bert, "/kampioen 1")
    await bot.say(world.group, world.anna, "/meedoen 1")
    await _at(bot, bot.clock.now() + WEEK)
    (text,) = await _nudges(bot, world.group)
    assert "#1 Moestuin achter de school: Tuincentrum Groenrijk kan helpen" in text
    nudge = (await bot.tg.messages(world.group))[-1]
    await bot.press(
        world.group, nudge["message_id"], world.admin, text="🤝 #1 Koppel Tuincentrum Groenrijk"
    )
    assert "is gekoppeld aan Tuincentrum Groenrijk" in await bot.last_text(world.group)


async def test_quiet_hours_and_days_off_wait(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.anna, "/idee Jeu de boules baan")
    # Due on Friday 4 December 11:00 local; move the clock to 22:30 local that day first.
    bot.clock.set(datetime(2026, 12, 4, 21, 30, tzinfo=UTC))
    await bot.tick()
    assert await _nudges(bot, world.group) == []
    await _at(bot, datetime(2026, 12, 5, 7, 59, tzinfo=UTC))  # 08:59 local: still quiet
    assert await _nudges(bot, world.group) == []
    await _at(bot, datetime(2026, 12, 5, 8, 0, tzinfo=UTC))  # 09:00 local
    assert len(await _nudges(bot, world.group)) == 1


async def test_daily_cap_combines_and_postpones(world: World, bot: Harness) -> None:
    titles = ["Moestuin", "Speeltuin", "Bankjes", "Bloembakken", "Zebrapad"]
    start = bot.clock.now()
    for i, title in enumerate(titles):
        bot.clock.set(start + timedelta(hours=i))
        await bot.say(world.group, world.anna, f"/idee {title}")
    with bot.db.transaction() as uow:
        wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == world.group))
        assert wijk is not None
        wijk.settings = {"nudge_cap": 2}
    for i in range(5):  # each idea becomes due an hour after the other
        await _at(bot, start + WEEK + timedelta(hours=i))
    nudges = await _nudges(bot, world.group)
    assert len(nudges) == 2  # the cap: two group messages that day
    await _at(bot, start + WEEK + timedelta(days=1))
    nudges = await _nudges(bot, world.group)
    assert len(nudges) == 3 and nudges[-1].count("\n•") == 3  # the rest, combined


async def test_opt_out_and_settings(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.anna, "/idee Moestuin")
    await bot.handled(await bot.tg.start_private(world.anna))
    start = bot.clock.now()
    await _at(bot, start + WEEK)
    await _at(bot, start + 2 * WEEK)
    private = (await bot.tg.messages(world.anna))[-1]
    assert "ligt al een tijdje stil" in private["text"]
    await bot.press(
        world.anna, private["message_id"], world.anna, text="🔕 Geen herinneringen meer"
    )
    await bot.say(world.group, world.anna, "/idee Tweede plan voor de straat")
    await _at(bot, start + 4 * WEEK)
    await _at(bot, start + 5 * WEEK)
    assert "Geen herinneringen" not in await bot.last_text(world.anna)
    assert sum("ligt al een tijdje stil" in t for t in await bot.texts(world.anna)) == 1

    await bot.say(world.group, world.anna, "/instellingen na 3")
    assert "alleen een facilitator" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/instellingen na 3")
    assert "stil na 3 dagen" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/instellingen stilte 22:00-08:00")
    assert "tussen 22:00 en 08:00" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/instellingen stilte altijd")
    assert "past niet bij stilte" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/instellingen herinneringen uit")
    assert "Herinneringen: uit" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/instellingen max 1")
    assert "Maximaal 1 herinnering per dag" in await bot.last_text(world.group)
    before = _count(bot)
    await bot.say(world.group, world.anna, "/idee Derde plan")
    await _at(bot, bot.clock.now() + 4 * WEEK)
    assert _count(bot) == before


async def test_a_new_quiet_time_moves_the_next_nudge_of_existing_ideas(
    world: World, bot: Harness
) -> None:
    await bot.say(world.group, world.anna, "/idee Moestuin")
    start = bot.clock.now()
    await bot.say(world.group, world.admin, "/instellingen na 5")
    await _at(bot, start + timedelta(days=5) - timedelta(minutes=1))
    assert await _nudges(bot, world.group) == []
    await _at(bot, start + timedelta(days=5))
    (nudge,) = await _nudges(bot, world.group)
    assert "#1 Moestuin" in nudge


async def test_nudges_back_on_reach_ideas_that_went_quiet_meanwhile(
    world: World, bot: Harness
) -> None:
    await bot.say(world.group, world.anna, "/idee Moestuin")
    start = bot.clock.now()
    await bot.say(world.group, world.admin, "/instellingen herinneringen uit")
    await _at(bot, start + WEEK)
    await bot.say(world.group, world.admin, "/instellingen herinneringen aan")
    await _at(bot, bot.clock.now() + timedelta(minutes=1))
    (nudge,) = await _nudges(bot, world.group)
    assert "#1 Moestuin" in nudge


async def test_the_quiet_time_reads_as_people_say_it(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.admin, "/instellingen na 5")
    assert "Een idee is stil na 5 dagen zonder activiteit." in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/instellingen na 1")
    assert "stil na 1 dag zonder" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/instellingen na 0,5")
    assert "stil na 12 uur zonder" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/language en")
    await bot.say(world.group, world.admin, "/settings after 5")
    assert "An idea is quiet after 5 days without activity." in await bot.last_text(world.group)


async def test_park_from_a_private_nudge(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.anna, "/idee Moestuin")
    await bot.handled(await bot.tg.start_private(world.anna))
    start = bot.clock.now()
    await _at(bot, start + WEEK)
    await _at(bot, start + 2 * WEEK)
    private = (await bot.tg.messages(world.anna))[-1]
    toast = await bot.press(
        world.anna, private["message_id"], world.anna, text="🅿️ Parkeer het idee"
    )
    assert toast is not None and "#1 is geparkeerd" in str(toast["text"])
    assert "#1 Moestuin is nu: geparkeerd." in await bot.last_text(world.group)
    forged = await bot.press(world.anna, private["message_id"], world.bert, data="1:park:1")
    assert forged is not None and forged.get("show_alert")


async def test_no_double_nudge_across_a_restart(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.anna, "/idee Moestuin")
    start = bot.clock.now()
    await _at(bot, start + WEEK)
    await bot.restart()
    await _at(bot, start + WEEK + timedelta(minutes=10))
    assert len(await _nudges(bot, world.group)) == 1


async def test_two_instances_on_one_database_nudge_each_idea_once(
    world: World, bot: Harness
) -> None:
    import asyncio

    titles = ["Moestuin", "Jeu de boules", "Bankjes", "Kerstmarkt", "Zebrapad", "Repaircafe"]
    for i, title in enumerate(titles):  # two authors: at most five ideas an hour each
        await bot.say(world.group, world.anna if i % 2 else world.bert, f"/idee {title}")
    with bot.db.transaction() as uow:
        wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == world.group))
        assert wijk is not None
        wijk.settings = {"nudge_cap": 10, "digest": False}
        assert len(uow.session.scalars(select(Idea.id)).all()) == 6
    other = Harness(bot.server, bot.tg, bot.settings, bot.clock)
    await other.start(polling=False)  # a second replica: same database, same Telegram
    try:
        bot.clock.advance(WEEK)
        await asyncio.gather(bot.tick(), other.tick(), bot.tick(), other.tick())
    finally:
        await other.close()
    assert _count(bot) == 6
    lines = sum(t.count("\n•") for t in await _nudges(bot, world.group))
    assert lines == 6


def _before_sending(
    monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], Awaitable[None]]
) -> None:
    """Run ``meanwhile`` once, after a tick has claimed and prepared its nudges and before
    it sends them: the moment a stalled replica or a quick resident would hit."""
    send_wijk = nudging.send_wijk
    calls = 0

    async def sending(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await meanwhile()
        await send_wijk(*args)

    monkeypatch.setattr(nudging, "send_wijk", sending)


async def test_a_replica_that_stalled_past_its_claim_does_not_nudge_again(
    world: World, bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:

    await bot.say(world.group, world.anna, "/idee Moestuin")
    other = Harness(bot.server, bot.tg, bot.settings, bot.clock)
    await other.start(polling=False)  # a second replica: same database, same Telegram

    async def stall() -> None:  # the claim runs out; the other replica takes the idea
        bot.clock.advance(bot.settings.claim_lease + timedelta(seconds=1))
        await other.tick()
        assert len(await _nudges(bot, world.group)) == 1

    _before_sending(monkeypatch, stall)
    try:
        await _at(bot, bot.clock.now() + WEEK)
    finally:
        await other.close()
    assert len(await _nudges(bot, world.group)) == 1
    assert _count(bot) == 1


async def test_an_idea_someone_acted_on_after_the_claim_is_not_nudged(
    world: World, bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bot.say(world.group, world.anna, "/idee Moestuin")

    async def act() -> None:
        await bot.say(world.group, world.bert, "/steun 1")

    _before_sending(monkeypatch, act)
    await _at(bot, bot.clock.now() + WEEK)
    assert await _nudges(bot, world.group) == []
    assert _count(bot) == 0


async def test_nudges_only_on_chosen_days(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.admin, "/instellingen dagen ma,di,wo")
    assert "Herinneringen op: ma, di, wo" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/instellingen dagen nooit")
    assert "past niet bij dagen" in await bot.last_text(world.group)
    await bot.say(world.group, world.anna, "/idee Moestuin")
    # Due Friday 4 December; Friday to Sunday are off: it goes out on Monday at 09:00.
    await _at(bot, datetime(2026, 12, 4, 12, 0, tzinfo=UTC))
    await _at(bot, datetime(2026, 12, 6, 12, 0, tzinfo=UTC))
    assert await _nudges(bot, world.group) == []
    await _at(bot, datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    assert len(await _nudges(bot, world.group)) == 1


async def test_the_champion_nudge_points_to_neighbours_with_the_same_interest(
    world: World, bot: Harness
) -> None:
    await bot.say(world.group, world.anna, "/idee Moestuin op het plein")
    await bot.say(world.group, world.anna, "/idee Geveltuinen in de straat")
    carla = await bot.tg.create_user("Carla")
    await bot.tg.add_member(world.group, carla)
    await bot.say(world.group, carla, "/steun 2")
    await bot.handled(await bot.tg.start_private(carla))
    home = (await bot.tg.messages(carla))[-1]
    await bot.press(carla, home["message_id"], carla, text="📬 Wijkkampioenen mogen mij benaderen")
    await bot.handled(await bot.tg.start_private(world.bert))
    await bot.say(world.group, world.bert, "/kampioen 1")
    start = bot.clock.now()
    await _at(bot, start + WEEK)
    await _at(bot, start + 2 * WEEK)
    text = await bot.last_text(world.bert)
    assert "ligt al een tijdje stil" in text and "dezelfde interesse" in text and "Carla" in text


async def test_private_nudges_go_out_when_time_passes_between_claim_and_send(
    world: World, bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In production the clock moves while a tick decides: renewing the claim must keep
    every idea of the wijk held, the private rungs too."""
    prepare = nudge_service.prepare

    def slow_prepare(*args: Any, **kwargs: Any) -> list[nudge_service.WijkNudges]:
        found = prepare(*args, **kwargs)
        bot.clock.advance(timedelta(milliseconds=5))  # deciding took 5 ms
        return found

    monkeypatch.setattr(nudge_service, "prepare", slow_prepare)
    await bot.say(world.group, world.anna, "/idee Moestuin op het plein")
    await bot.handled(await bot.tg.start_private(world.anna))
    start = bot.clock.now()
    await _at(bot, start + WEEK)  # rung 1: the group
    assert len(await _nudges(bot, world.group)) == 1
    await _at(bot, start + 2 * WEEK + timedelta(minutes=1))  # rung 2: the author, privately
    assert "ligt al een tijdje stil" in await bot.last_text(world.anna)
