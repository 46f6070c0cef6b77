"""Ideas in the group: from a thought in the chat to a team around it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from buddybot.storage.models import Idea, IdeaEvent, Wijk
from tests.support.harness import Harness, World
from tests.support.questions import last_question

JSON = dict[str, Any]


async def _last(bot: Harness, chat: int) -> JSON:
    messages = await bot.tg.messages(chat)
    assert messages
    return messages[-1]


async def _idea(bot: Harness, chat: int, text: str, user: int) -> JSON:
    """Propose an idea and return the card message."""
    await bot.say(chat, user, f"/idee {text}")
    card = await _last(bot, chat)
    assert card["text"].startswith("💡"), card["text"]
    return card


async def _card(bot: Harness, chat: int, message_id: int) -> JSON:
    for msg in await bot.tg.messages(chat):
        if msg["message_id"] == message_id:
            return msg
    raise AssertionError("card gone")


def _labels(msg: JSON) -> list[str]:
    return [b["text"] for row in msg["reply_markup"]["inline_keyboard"] for b in row]


async def _stored(bot: Harness, chat: int) -> list[Idea]:
    with bot.db.transaction() as uow:
        wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == chat))
        assert wijk is not None
        rows = uow.session.scalars(
            select(Idea).where(Idea.wijk_id == wijk.id).order_by(Idea.number)
        )
        return list(rows)


async def test_propose_shows_a_card_with_buttons_and_themes(world: World, bot: Harness) -> None:
    card = await _idea(
        bot, world.group, "Moestuin op het plein\nSamen groente kweken, met de school.", world.anna
    )
    text = card["text"]
    assert "#1 Moestuin op het plein" in text
    assert "Samen groente kweken" in text
    assert "Van Anna · voorgesteld" in text
    assert "groen" in text  # theme found in the words
    assert _labels(card) == [
        "👍 Steun (0)", "🙋 Ik doe mee (0)", "🏆 Kampioen worden", "🤝 Partners", "⚙️ Status",
    ]  # fmt: skip
    (idea,) = await _stored(bot, world.group)
    assert idea.number == 1 and idea.title == "Moestuin op het plein"


async def test_html_in_a_title_is_shown_literally(world: World, bot: Harness) -> None:
    card = await _idea(bot, world.group, "<b>Bankje</b> & *tafel*", world.anna)
    assert "<b>Bankje</b> & *tafel*" in card["text"]
    (idea,) = await _stored(bot, world.group)
    assert idea.title == "<b>Bankje</b> & *tafel*"


async def test_without_text_the_bot_asks_and_takes_the_reply(world: World, bot: Harness) -> None:
    said = await bot.say(world.group, world.bert, "/idee")
    ask = await _last(bot, world.group)
    assert "Wat is je idee?" in ask["text"]
    question = await last_question(bot, world.group)  # the reply box is Bert's only
    assert question.box_for(message_id=said["message"]["message_id"])
    # Someone else's reply does not count.
    await bot.say(world.group, world.anna, "Ik weet er ook een", reply_to=ask["message_id"])
    assert await _stored(bot, world.group) == []
    await bot.restart()  # the question survives a restart
    await bot.say(world.group, world.bert, "Buurtbarbecue\nIn juni", reply_to=ask["message_id"])
    (idea,) = await _stored(bot, world.group)
    assert idea.title == "Buurtbarbecue" and idea.description == "In juni"
    assert "#1 Buurtbarbecue" in await bot.last_text(world.group)


async def test_facilitator_enters_an_idea_from_an_offline_evening(
    world: World, bot: Harness
) -> None:
    card = await _idea(bot, world.group, "namens Marietje: Bankje bij de bushalte", world.admin)
    assert "Van Marietje" in card["text"]
    (idea,) = await _stored(bot, world.group)
    assert idea.on_behalf_of == "Marietje" and idea.author_id is None
    await bot.say(world.group, world.anna, "/idee namens Kees: Nog een bankje ergens")
    assert "alleen een facilitator" in await bot.last_text(world.group)
    assert len(await _stored(bot, world.group)) == 1


async def test_english_group_gets_english_cards(bot: Harness) -> None:
    w = await World(bot).build(title="Riverside", lang="en")
    await bot.say(w.group, w.anna, "/idea Community garden\nGrow food together")
    card = await _last(bot, w.group)
    assert "By Anna · proposed" in card["text"]
    assert "green" in card["text"]
    assert _labels(card)[0] == "👍 Support (0)"
    await bot.say(w.group, w.bert, "/support 1")
    assert "You support #1. 1 supporter now." in await bot.last_text(w.group)
    assert "👍 1 supporter: Bert" in (await _card(bot, w.group, card["message_id"]))["text"]
    await bot.say(w.group, w.anna, "/support 1")
    assert "You support #1. 2 supporters now." in await bot.last_text(w.group)
    assert "👍 2 supporters: Bert, Anna" in (await _card(bot, w.group, card["message_id"]))["text"]


async def test_support_and_join_toggle_and_edit_the_card(world: World, bot: Harness) -> None:
    card = await _idea(bot, world.group, "Speeltuin opknappen", world.anna)
    mid = card["message_id"]
    answer = await bot.press(world.group, mid, world.bert, text="👍 Steun (0)")
    assert answer is not None and "Je steunt #1" in str(answer["text"])
    updated = await _card(bot, world.group, mid)
    assert "👍 1 steunt: Bert" in updated["text"]
    assert _labels(updated)[0] == "👍 Steun (1)"
    await bot.press(world.group, mid, world.bert, data=f"1:sup:{_id(card)}")  # again: undo
    undone = await _card(bot, world.group, mid)
    assert "👍 1 steun" not in undone["text"] and _labels(undone)[0] == "👍 Steun (0)"
    await bot.say(world.group, world.anna, "/meedoen 1")
    assert "Je doet mee met #1" in await bot.last_text(world.group)
    assert "🙋 1 doet mee: Anna" in (await _card(bot, world.group, mid))["text"]
    await bot.say(world.group, world.bert, "/steun #1")
    assert "👍 1 steunt: Bert" in (await _card(bot, world.group, mid))["text"]


def _id(card: JSON) -> int:
    data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    return int(data.split(":")[2])


async def test_names_can_be_kept_private(world: World, bot: Harness) -> None:
    card = await _idea(bot, world.group, "Geveltuintjes", world.anna)
    await bot.handled(await bot.tg.start_private(world.bert))
    home = await _last(bot, world.bert)
    toast = await bot.press(world.bert, home["message_id"], world.bert, data="1:nm")
    assert toast is not None and "je naam staat er niet bij" in str(toast["text"])
    await bot.press(world.group, card["message_id"], world.bert, data=f"1:sup:{_id(card)}")
    text = (await _card(bot, world.group, card["message_id"]))["text"]
    assert "👍 1 steunt: 1 buur" in text and "Bert" not in text
    await bot.press(world.bert, home["message_id"], world.bert, data="1:nm")
    await bot.press(world.group, card["message_id"], world.anna, data=f"1:sup:{_id(card)}")
    assert "👍 2 steunen: Bert, Anna" in (await _card(bot, world.group, card["message_id"]))["text"]


async def test_a_press_keeps_the_author_on_the_card_unless_they_hide_their_name(
    world: World, bot: Harness
) -> None:
    card = await _idea(bot, world.group, "Bankje bij de vijver", world.anna)
    mid, data = card["message_id"], f"1:sup:{_id(card)}"
    await bot.press(world.group, mid, world.bert, data=data)
    assert "Van Anna" in (await _card(bot, world.group, mid))["text"]
    await bot.handled(await bot.tg.start_private(world.anna))
    home = await _last(bot, world.anna)
    await bot.press(world.anna, home["message_id"], world.anna, data="1:nm")
    await bot.press(world.group, mid, world.bert, data=data)  # takes the support back
    text = (await _card(bot, world.group, mid))["text"]
    assert "👍 1 steun" not in text and "Anna" not in text


async def test_list_is_paged_and_never_too_long(world: World, bot: Harness) -> None:
    subjects = [
        "Moestuin", "Speeltuin", "Bankjes", "Bloembakken", "Buurtfeest", "Zwerfafval",
        "Fietsenrek", "Boekenkast", "Jeu de boules", "Kerstmarkt", "Repair cafe",
    ]  # fmt: skip
    for i, subject in enumerate(subjects):
        await bot.say(world.group, world.admin, f"/idee namens Buur {i}: {subject}")
    bot.clock.advance(timedelta(minutes=1))
    await bot.say(world.group, world.anna, "/steun 10")
    await bot.say(world.group, world.bert, "/steun 10")
    await bot.say(world.group, world.bert, "/meedoen 10")
    await bot.say(world.group, world.bert, "/ideeen")
    first = await _last(bot, world.group)
    assert "pagina 1 van 2" in first["text"]
    assert first["text"].count("\n#") == 8
    # Newest activity first, with the counts of each idea.
    assert first["text"].index("#10 Kerstmarkt · 👍 2 · 🙋 1") < first["text"].index("#11 Repair")
    assert "#11 Repair cafe · 👍 0 · 🙋 0" in first["text"]
    assert len(first["text"]) < 4096
    answer = await bot.press(world.group, first["message_id"], world.bert, text="Volgende ▶️")
    assert answer is not None
    page2 = await _card(bot, world.group, first["message_id"])
    assert "pagina 2 van 2" in page2["text"] and "#1 Moestuin" in page2["text"]
    await bot.press(world.group, first["message_id"], world.bert, text="#1")
    assert "💡 #1 Moestuin" in await bot.last_text(world.group)


async def test_near_duplicate_offers_to_support_the_existing_idea(
    world: World, bot: Harness
) -> None:
    await _idea(bot, world.group, "Moestuin op het plein", world.anna)
    await bot.say(world.group, world.bert, "/idee Een moestuin op het pleintje")
    ask = await _last(bot, world.group)
    assert "lijkt op een idee" in ask["text"] and "#1 Moestuin op het plein" in ask["text"]
    assert len(await _stored(bot, world.group)) == 1
    other = await bot.press(world.group, ask["message_id"], world.anna, text="👍 Steun #1")
    assert other is not None and "iemand anders" in str(other["text"])
    await bot.press(world.group, ask["message_id"], world.bert, text="👍 Steun #1")
    cards = await bot.texts(world.group)
    assert any("👍 1 steunt: Bert" in t for t in cards)

    await bot.say(world.group, world.bert, "/idee Moestuin op het plein!")
    ask2 = await _last(bot, world.group)
    await bot.press(world.group, ask2["message_id"], world.bert, text="➕ Toch een nieuw idee")
    assert [i.title for i in await _stored(bot, world.group)] == [
        "Moestuin op het plein",
        "Moestuin op het plein!",
    ]


async def test_champion_gets_the_kit_in_private(world: World, bot: Harness) -> None:
    card = await _idea(bot, world.group, "Zwerfafval prikken", world.anna)
    await bot.press(world.group, card["message_id"], world.bert, text="🙋 Ik doe mee (0)")
    await bot.handled(await bot.tg.start_private(world.anna))
    await bot.press(world.group, card["message_id"], world.anna, text="🏆 Kampioen worden")
    assert "Anna is wijkkampioen van #1" in "\n".join(await bot.texts(world.group))
    kit = await bot.last_text(world.anna)
    assert "Je bent wijkkampioen van #1 Zwerfafval prikken" in kit
    assert "• Bert" in kit and "/bijwerken 1" in kit
    assert "🏆 Wijkkampioen: Anna" in (await _card(bot, world.group, card["message_id"]))["text"]
    again = await bot.press(world.group, card["message_id"], world.anna, text="🏆 Kampioen worden")
    assert again is not None and "al wijkkampioen" in str(again["text"])


async def test_champion_without_private_chat_gets_a_link(world: World, bot: Harness) -> None:
    await _idea(bot, world.group, "Buurtfeest", world.anna)
    await bot.say(world.group, world.bert, "/kampioen 1")
    last = await _last(bot, world.group)
    assert "open eerst een privégesprek" in last["text"].lower()
    url = last["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert url.endswith("?start=kit_" + str((await _stored(bot, world.group))[0].id))
    await bot.handled(await bot.tg.start_private(world.bert, payload=url.split("=")[1]))
    assert "Je bent wijkkampioen van #1 Buurtfeest" in await bot.last_text(world.bert)
    await bot.handled(await bot.tg.start_private(world.anna, payload=url.split("=")[1]))
    assert "voor de wijkkampioen" in await bot.last_text(world.anna)


async def test_champion_confirmation_when_the_wijk_asks_for_it(world: World, bot: Harness) -> None:
    with bot.db.transaction() as uow:
        wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == world.group))
        assert wijk is not None
        wijk.settings = {"champion_confirmation": True}
    await _idea(bot, world.group, "Bloembakken", world.anna)
    await bot.say(world.group, world.bert, "/kampioen 1")
    ask = await _last(bot, world.group)
    assert "Een facilitator kan dat bevestigen" in ask["text"]
    refused = await bot.press(world.group, ask["message_id"], world.anna, text="✅ Bevestigen")
    assert refused is not None and refused.get("show_alert")
    await bot.press(world.group, ask["message_id"], world.admin, text="✅ Bevestigen")
    assert "Bert is wijkkampioen van #1" in "\n".join(await bot.texts(world.group))


async def test_recruitment_call_at_the_threshold_once(world: World, bot: Harness) -> None:
    card = await _idea(bot, world.group, "Jeu de boules baan", world.anna)
    voters = [await bot.tg.create_user(f"Buur{i}") for i in range(6)]
    for v in voters:
        await bot.tg.add_member(world.group, v)
    await bot.settle()
    for v in voters[:5]:
        await bot.press(world.group, card["message_id"], v, data=f"1:sup:{_id(card)}")
    texts = await bot.texts(world.group)
    calls = [t for t in texts if "Wie wil dit idee trekken" in t]
    assert len(calls) == 1 and "5 keer steun" in calls[0]
    await bot.press(world.group, card["message_id"], voters[5], data=f"1:sup:{_id(card)}")
    assert len([t for t in await bot.texts(world.group) if "Wie wil dit idee" in t]) == 1


async def test_card_edits_are_merged_under_a_burst(world: World, bot: Harness) -> None:
    card = await _idea(bot, world.group, "Kerstmarkt", world.anna)
    people = [await bot.tg.create_user(f"Buur{i}") for i in range(10)]
    for p in people:
        await bot.tg.add_member(world.group, p)
    await bot.settle()
    await bot.tg.inject_fault(kind="slow", method="editMessageText", delay=0.3, count=10)
    before = len(await bot.tg.calls("editMessageText"))
    updates = [
        await bot.tg.press_button(world.group, card["message_id"], p, data=f"1:sup:{_id(card)}")
        for p in people
    ]
    for u in updates:
        await bot.handled(u)
    await bot.settle()
    edits = len(await bot.tg.calls("editMessageText")) - before
    assert 1 <= edits <= 3
    assert "👍 10 steun" in (await _card(bot, world.group, card["message_id"]))["text"]


async def test_progress_update_is_shown_and_posted(world: World, bot: Harness) -> None:
    card = await _idea(bot, world.group, "Boomspiegels", world.anna)
    await bot.say(world.group, world.anna, "/bijwerken 1 We hebben de gemeente gebeld")
    assert "Nieuws over #1 Boomspiegels van Anna" in await bot.last_text(world.group)
    assert (
        "Laatste nieuws: We hebben de gemeente gebeld"
        in (await _card(bot, world.group, card["message_id"]))["text"]
    )
    await bot.say(world.group, world.bert, "/bijwerken 1 Ik ook!")
    assert "kan de bedenker" in await bot.last_text(world.group)


async def _news_in_group(bot: Harness, chat: int) -> list[str]:
    return [t for t in await bot.texts(chat) if t.startswith("📣 Nieuws over")]


def _held(bot: Harness) -> list[int]:
    with bot.db.transaction() as uow:
        return list(
            uow.session.scalars(select(IdeaEvent.id).where(IdeaEvent.kind == "update_held"))
        )


async def test_a_helpers_news_waits_for_the_author_or_champion(world: World, bot: Harness) -> None:
    """Issue 22, item 14: a helper's news is held; the author (no champion yet) approves
    or refuses it privately; only an approved line reaches the group and the card."""
    w = world
    card = await _idea(bot, w.group, "Boomspiegels", w.anna)
    await bot.say(w.group, w.bert, "/meedoen 1")
    # The author has no private chat yet: the helper is told, nothing is kept.
    await bot.say(w.group, w.bert, "/bijwerken 1 Ik heb een schep geregeld")
    assert "niet privé bereiken" in await bot.last_text(w.group)
    assert _held(bot) == [] and await _news_in_group(bot, w.group) == []

    await bot.handled(await bot.tg.start_private(w.anna))
    await bot.handled(await bot.tg.start_private(w.bert))
    await bot.say(w.group, w.bert, "/bijwerken 1 Ik heb een schep geregeld")
    assert "gaat eerst naar de wijkkampioen of de bedenker" in await bot.last_text(w.group)
    assert await _news_in_group(bot, w.group) == []
    assert "Laatste nieuws" not in (await _card(bot, w.group, card["message_id"]))["text"]
    ask = await _last(bot, w.anna)
    assert "Bert wil nieuws plaatsen over #1" in ask["text"]
    (held,) = _held(bot)
    # The helper cannot approve their own news, not even with the button's data.
    bert_msg = await _last(bot, w.bert)
    answer = await bot.press(w.bert, bert_msg["message_id"], w.bert, data=f"1:nwy:{held}")
    assert answer is not None and answer.get("show_alert")
    # Nor can anyone from the group chat.
    answer = await bot.press(w.group, card["message_id"], w.anna, data=f"1:nwy:{held}")
    assert answer is not None and answer.get("show_alert")
    assert await _news_in_group(bot, w.group) == []

    await bot.press(w.anna, ask["message_id"], w.anna, text="✅ Plaats het nieuws")
    assert await _news_in_group(bot, w.group) == [
        "📣 Nieuws over #1 Boomspiegels van Bert:\nIk heb een schep geregeld"
    ]
    assert (
        "Laatste nieuws: Ik heb een schep geregeld"
        in (await _card(bot, w.group, card["message_id"]))["text"]
    )
    again = await bot.press(w.anna, ask["message_id"], w.anna, data=f"1:nwy:{held}")
    assert again is not None and "al beslist" in str(again.get("text"))
    assert len(await _news_in_group(bot, w.group)) == 1

    # A second line, refused: not in the group, gone from the database, Bert is told.
    await bot.say(w.group, w.bert, "/bijwerken 1 Het is klaar!")
    ask = await _last(bot, w.anna)
    await bot.press(w.anna, ask["message_id"], w.anna, text="✋ Niet plaatsen")
    assert len(await _news_in_group(bot, w.group)) == 1 and _held(bot) == []
    assert "niet in de groep gezet" in await bot.last_text(w.bert)


async def test_a_helpers_news_goes_to_the_author_when_no_champion_can_be_reached(
    world: World, bot: Harness
) -> None:
    """Issue 22, item 14: the idea has a champion, but not one the bot can write to in
    private; the author is asked instead of the helper being told nobody can approve."""
    w = world
    await _idea(bot, w.group, "Boomspiegels", w.bert)
    await bot.handled(await bot.tg.start_private(w.bert))
    await bot.say(w.group, w.anna, "/kampioen 1")  # Anna never opened a private chat
    carla = await bot.tg.create_user("Carla")
    await bot.tg.add_member(w.group, carla, by=w.admin)
    await bot.settle()
    await bot.handled(await bot.tg.start_private(carla))
    await bot.say(w.group, carla, "/meedoen 1")
    await bot.say(w.group, carla, "/bijwerken 1 Ik heb een schep geregeld")
    assert "gaat eerst naar de wijkkampioen of de bedenker" in await bot.last_text(w.group)
    ask = await _last(bot, w.bert)
    assert "Carla wil nieuws plaatsen over #1" in ask["text"]
    await bot.press(w.bert, ask["message_id"], w.bert, text="✅ Plaats het nieuws")
    assert await _news_in_group(bot, w.group) == [
        "📣 Nieuws over #1 Boomspiegels van Carla:\nIk heb een schep geregeld"
    ]


async def test_a_demoted_facilitator_loses_power_over_an_idea_they_typed_in(
    world: World, bot: Harness
) -> None:
    """Issue 22, items 5 and 14: a facilitator who typed in a neighbour's idea has an
    author's powers over it only while still a facilitator."""
    w = world
    msg = await bot.tg.send_message(w.group, w.anna, "Ik help graag")
    await bot.say(w.group, w.admin, "/facilitator", reply_to=msg["message"]["message_id"])
    await _idea(bot, w.group, "namens Kees: Bankje bij de bushalte", w.anna)
    await bot.say(w.group, w.anna, "/bijwerken 1 De gemeente komt kijken")
    assert len(await _news_in_group(bot, w.group)) == 1

    await bot.say(w.group, w.admin, "/facilitator", reply_to=msg["message"]["message_id"])
    assert "facilitator" in await bot.last_text(w.group)
    await bot.say(w.group, w.anna, "/bijwerken 1 Ik heb ook nog iets")
    assert "kan de bedenker, een wijkkampioen of een facilitator" in await bot.last_text(w.group)
    await bot.say(w.group, w.anna, "/status 1 ingetrokken")
    assert "Ingetrokken" not in await bot.last_text(w.group)
    assert len(await _news_in_group(bot, w.group)) == 1
    with bot.db.transaction() as uow:
        assert uow.session.scalar(select(Idea.status)) == "proposed"


async def test_a_pending_champion_has_no_champion_powers(world: World, bot: Harness) -> None:
    """Issue 22, item 4: with champion_confirmation on, a volunteer waiting for a
    facilitator is not a champion: no news of their own, no parking from private."""
    w = world
    with bot.db.transaction() as uow:
        wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == w.group))
        assert wijk is not None
        wijk.settings = {"champion_confirmation": True}
    await _idea(bot, w.group, "Bloembakken", w.anna)
    await bot.say(w.group, w.bert, "/kampioen 1")
    assert "Een facilitator kan dat bevestigen" in await bot.last_text(w.group)
    await bot.say(w.group, w.bert, "/bijwerken 1 Ik begin morgen")
    assert "kan de bedenker, een wijkkampioen of een facilitator" in await bot.last_text(w.group)
    assert await _news_in_group(bot, w.group) == []
    await bot.handled(await bot.tg.start_private(w.bert))
    with bot.db.transaction() as uow:
        idea_id = uow.session.scalar(select(Idea.id).where(Idea.title == "Bloembakken"))
    home = await _last(bot, w.bert)
    answer = await bot.press(w.bert, home["message_id"], w.bert, data=f"1:park:{idea_id}")
    assert answer is not None and answer.get("show_alert")
    with bot.db.transaction() as uow:
        assert uow.session.scalar(select(Idea.status).where(Idea.id == idea_id)) == "proposed"
    # The kit link is for confirmed champions only.
    await bot.handled(await bot.tg.start_private(w.bert, payload=f"kit_{idea_id}"))
    assert "Je bent wijkkampioen" not in await bot.last_text(w.bert)


async def test_a_reply_to_a_card_counts_as_activity(world: World, bot: Harness) -> None:
    card = await _idea(bot, world.group, "Fietsenstalling", world.anna)
    await bot.say(world.group, world.bert, "Goed plan!", reply_to=card["message_id"])
    with bot.db.transaction() as uow:
        kinds = list(uow.session.scalars(select(IdeaEvent.kind).order_by(IdeaEvent.id)))
    assert kinds == ["proposed", "reply"]


async def test_lifecycle_by_command_and_button_with_celebration(world: World, bot: Harness) -> None:
    card = await _idea(bot, world.group, "Buurtbieb", world.anna)
    await bot.say(world.group, world.anna, "/status 1 gekozen")
    assert "alleen een facilitator" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/status 1 gerealiseerd")
    assert "geen stap overslaan" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/status 1 gekozen")
    assert "#1 Buurtbieb is nu: gekozen." in await bot.last_text(world.group)

    mid = card["message_id"]
    await bot.press(world.group, mid, world.admin, text="⚙️ Status")
    menu = await _card(bot, world.group, mid)
    assert _labels(menu) == ["bezig", "geparkeerd", "ingetrokken", "↩️ Terug"]
    refused = await bot.press(world.group, mid, world.bert, text="bezig")
    assert refused is not None and refused.get("show_alert")
    await bot.press(world.group, mid, world.admin, text="bezig")
    await bot.say(world.group, world.admin, "/setstatus 1 realised")
    assert "Het is gelukt! #1 Buurtbieb is gerealiseerd" in await bot.last_text(world.group)
    assert "gerealiseerd" in (await _card(bot, world.group, mid))["text"]
    await bot.say(world.group, world.bert, "/steun 1")
    assert "niet meer open" in await bot.last_text(world.group)


async def test_author_may_withdraw_own_idea(world: World, bot: Harness) -> None:
    await _idea(bot, world.group, "Hondenuitlaatplek", world.anna)
    await bot.say(world.group, world.bert, "/status 1 ingetrokken")
    assert "alleen een facilitator" in await bot.last_text(world.group)
    await bot.say(world.group, world.anna, "/status 1 ingetrokken")
    assert "is nu: ingetrokken" in await bot.last_text(world.group)
    await bot.say(world.group, world.bert, "/steun 1")
    assert "niet meer open" in await bot.last_text(world.group)


async def test_hide_and_restore(world: World, bot: Harness) -> None:
    await _idea(bot, world.group, "Graffiti muur", world.anna)
    await bot.say(world.group, world.anna, "/verberg 1")
    assert "alleen een facilitator" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/verberg 1")
    assert "#1 is verborgen" in await bot.last_text(world.group)
    await bot.say(world.group, world.bert, "/toon 1")
    assert "Ik ken geen idee #1" in await bot.last_text(world.group)
    await bot.say(world.group, world.bert, "/ideeen")
    assert "nog geen open ideeën" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/herstel 1")
    await bot.say(world.group, world.bert, "/toon 1")
    assert "#1 Graffiti muur" in await bot.last_text(world.group)


async def test_themes_can_be_corrected(world: World, bot: Harness) -> None:
    await _idea(bot, world.group, "Iets voor de straat", world.anna)
    await bot.say(world.group, world.anna, "/thema 1 spelen jongeren")
    assert "spelen, jongeren" in await bot.last_text(world.group)
    await bot.say(world.group, world.bert, "/thema 1 groen")
    assert "bedenker of een facilitator" in await bot.last_text(world.group)
    await bot.say(world.group, world.anna, "/thema 1 ruimtevaart")
    assert "Dit thema ken ik niet: ruimtevaart" in await bot.last_text(world.group)
    (idea,) = await _stored(bot, world.group)
    assert idea.themes == ["spelen", "jongeren"]


async def test_bad_input_is_refused_and_changes_nothing(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.anna, "/idee ab")
    assert "te kort" in await bot.last_text(world.group)
    await bot.say(world.group, world.anna, "/idee " + "x" * 101)
    assert "te lang (101 tekens)" in await bot.last_text(world.group)
    await bot.say(world.group, world.anna, "/idee Titel\n" + "y" * 1001)
    assert "uitleg is te lang (1001 tekens)" in await bot.last_text(world.group)
    await bot.say(world.group, world.anna, "/toon 9")
    assert "Ik ken geen idee #9" in await bot.last_text(world.group)
    await bot.say(world.group, world.anna, "/steun negen")
    assert "Welk idee bedoel je?" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/status 1")
    assert "Schrijf de nieuwe status erachter" in await bot.last_text(world.group)
    assert await _stored(bot, world.group) == []


async def test_proposals_per_hour_are_limited(world: World, bot: Harness) -> None:
    for i in range(5):
        await _idea(bot, world.group, f"Plan {i} {'abcdefghij'[i] * 8}", world.anna)
    await bot.say(world.group, world.anna, "/idee Nog eentje zzzz")
    assert "al 5 ideeën gedeeld" in await bot.last_text(world.group)
    assert len(await _stored(bot, world.group)) == 5


async def test_forged_and_foreign_buttons_are_refused(bot: Harness) -> None:
    east = await World(bot).build(title="Oost")
    west = await World(bot).build(title="West")
    card = await _idea(bot, east.group, "Buurtkast", east.anna)
    idea_id = _id(card)
    # The same button data pressed in another wijk's chat: refused, nothing changes.
    await bot.say(west.group, west.anna, "/idee Ander plan")
    west_card = await _last(bot, west.group)
    for data in [f"1:sup:{idea_id}", "1:sup:999999", "1:sup:abc", "2:sup:1", "1:sup", "x" * 64]:
        answer = await bot.press(west.group, west_card["message_id"], west.bert, data=data)
        assert answer is not None and answer.get("show_alert"), data
    assert _labels(await _card(bot, east.group, card["message_id"]))[0] == "👍 Steun (0)"
    with bot.db.transaction() as uow:
        supports = uow.session.scalar(select(IdeaEvent).where(IdeaEvent.kind == "supporter"))
    assert supports is None


async def test_two_wijken_keep_their_own_numbers(bot: Harness) -> None:
    east = await World(bot).build(title="Oost")
    west = await World(bot).build(title="West")
    await _idea(bot, east.group, "Buurtbarbecue", east.anna)
    await _idea(bot, east.group, "Zebrapad bij school", east.anna)
    card = await _idea(bot, west.group, "Buurtbarbecue", west.anna)  # no look-alike: other wijk
    assert "#1 Buurtbarbecue" in card["text"]
    await bot.say(west.group, west.bert, "/toon 2")
    assert "Ik ken geen idee #2" in await bot.last_text(west.group)
    await bot.say(west.group, west.bert, "/steun 2")
    assert "Ik ken geen idee #2" in await bot.last_text(west.group)
