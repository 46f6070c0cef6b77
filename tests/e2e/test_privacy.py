"""AVG: see what is stored about you, and be forgotten without a trace."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from buddybot.clock import FakeClock
from buddybot.fakegram import FakegramClient, FakegramServer
from buddybot.storage import queries
from buddybot.storage.models import (
    DueItem,
    ErasedPerson,
    Idea,
    IdeaEvent,
    Membership,
    Partner,
    PartnerInvite,
    Prompt,
)
from tests.support.harness import TOKEN, Harness, World, local_settings
from tests.support.process import run_until_it_stops


async def _busy_anna(bot: Harness, w: World) -> None:
    await bot.say(w.group, w.anna, "/idee Moestuin op het plein")
    await bot.say(w.group, w.bert, "/idee Bankjes bij de speeltuin")
    await bot.say(w.group, w.anna, "/steun 2")
    await bot.say(w.group, w.anna, "/kampioen 2")
    await bot.say(w.group, w.anna, "/bijwerken 2 Ik bel de gemeente")
    await bot.say(w.group, w.admin, "/bijeenkomst vrijdag 19:30 | Buurthuis | Startavond")
    draft = (await bot.tg.messages(w.group))[-1]
    await bot.press(w.group, draft["message_id"], w.admin, text="✅ Klopt")
    card = [m for m in await bot.tg.messages(w.group) if m.get("text", "").startswith("📢")][-1]
    await bot.press(w.group, card["message_id"], w.anna, text="✅ Ik kom (0)")
    await bot.say(w.group, w.admin, "/stemming open Welke avond? | dinsdag | woensdag")
    poll = [m for m in await bot.tg.messages(w.group) if m.get("poll")][-1]["poll"]
    await bot.tg.vote(poll["id"], w.anna, [1])
    await bot.settle()


async def test_my_data_lists_everything_in_a_file(world: World, bot: Harness) -> None:
    await _busy_anna(bot, world)
    await bot.handled(await bot.tg.start_private(world.anna))
    await bot.say(world.group, world.anna, "/mijngegevens")
    assert "privégesprek" in await bot.last_text(world.group)
    await bot.say(world.anna, world.anna, "/mijngegevens")
    doc = (await bot.tg.messages(world.anna))[-1]
    data = json.loads(await bot.tg.document(world.anna, doc["message_id"]))
    assert data["person"]["first_name"] == "Anna" and data["person"]["username"] == "anna"
    assert [i["title"] for i in data["ideas_authored"]] == ["Moestuin op het plein"]
    assert {(i["idea"], i["as"]) for i in data["support_help_champion"]} == {
        (2, "supporter"),
        (2, "champion"),
    }
    assert data["meeting_answers"][0]["answer"] == "yes"
    assert data["open_vote_choices"] == [{"question": "Welke avond?", "options": ["woensdag"]}]
    assert any(u["detail"].get("text") == "Ik bel de gemeente" for u in data["actions_on_ideas"])


def _everything(bot: Harness) -> str:
    """Every row of every table as text."""
    with bot.db.transaction() as uow:
        conn = uow.session.connection()
        dump = []
        for name in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
            dump += [repr(tuple(r)) for r in rows]
    return "\n".join(dump)


async def test_forget_me_leaves_nothing_personal(world: World, bot: Harness) -> None:
    await _busy_anna(bot, world)
    await bot.handled(await bot.tg.start_private(world.anna))
    await bot.say(world.anna, world.anna, "/vergeetmij")
    ask = (await bot.tg.messages(world.anna))[-1]
    await bot.press(world.anna, ask["message_id"], world.anna, text="Nee")
    assert "niets gewist" in await bot.last_text(world.anna)
    await bot.say(world.anna, world.anna, "/vergeetmij")
    ask = (await bot.tg.messages(world.anna))[-1]
    await bot.press(world.anna, ask["message_id"], world.anna, text="🗑 Ja, vergeet mij")
    assert "Je bent vergeten" in await bot.last_text(world.anna)
    await bot.settle()

    everything = _everything(bot)
    assert str(world.anna) not in everything
    assert "'Anna'" not in everything and "'anna'" not in everything
    # Her idea stays, by "a neighbour"; her support is gone; #2 needs a new champion.
    with bot.db.transaction() as uow:
        idea = uow.session.scalar(select(Idea).where(Idea.number == 1))
    assert idea is not None and idea.author_id is None
    await bot.say(world.group, world.bert, "/toon 1")
    assert "Van een buurtbewoner" in await bot.last_text(world.group)
    texts = await bot.texts(world.group)
    assert any("#2 Bankjes bij de speeltuin zoekt een nieuwe wijkkampioen" in t for t in texts)
    await bot.say(world.group, world.bert, "/toon 2")
    card = await bot.last_text(world.group)
    assert "steun" not in card.split("\n")[3] and "Wijkkampioen: Anna" not in card
    await bot.say(world.group, world.admin, "/sluitstemming 1")
    result = next(t for t in await bot.texts(world.group) if t.startswith("🗳 Uitslag"))
    assert "woensdag: 0" in result


async def test_privacy_command(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.bert, "/privacy")
    assert "bewaart alleen wat nodig is" in await bot.last_text(world.group)


async def test_a_finished_wijk_is_purged_after_two_confirmations(
    world: World, bot: Harness
) -> None:
    await _busy_anna(bot, world)
    await bot.say(world.group, world.anna, "/wijkwissen")
    assert "Alleen een beheerder" in await bot.last_text(world.group)
    await bot.say(world.group, world.admin, "/wijkwissen")
    ask = (await bot.tg.messages(world.group))[-1]
    refused = await bot.press(world.group, ask["message_id"], world.anna, text="⚠️ Ja, wis alles")
    assert refused is not None and refused.get("show_alert")
    await bot.press(world.group, ask["message_id"], world.admin, text="⚠️ Ja, wis alles")
    await bot.press(world.group, ask["message_id"], world.admin, text="🗑 Definitief wissen")
    assert "zijn gewist" in await bot.last_text(world.group)
    everything = _everything(bot)
    assert "Moestuin" not in everything and "Startavond" not in everything
    assert str(world.anna) not in everything


async def test_cli_purge(world: World, bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from buddybot.cli import main

    await bot.say(world.group, world.anna, "/idee Moestuin op het plein")
    monkeypatch.setenv("BUDDYBOT_DATABASE_URL", bot.settings.database_url)
    assert await asyncio.to_thread(main, ["purge", "--wijk", "99", "--yes"]) == 1
    assert await asyncio.to_thread(main, ["purge", "--wijk", "1", "--yes"]) == 0
    assert "Moestuin" not in _everything(bot)


async def test_after_restoring_a_backup_forget_again_erases_the_forgotten_once_more(
    world: World, bot: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The bot's database plays a backup from before Anna was forgotten; the live database
    (kept aside before the restore) holds her keyed hash in ``erased_person``."""
    from buddybot.cli import main
    from buddybot.services.people import erased_hash
    from buddybot.storage.db import Database, make_engine
    from buddybot.storage.migrate import upgrade

    await _busy_anna(bot, world)
    live_url = f"sqlite:///{tmp_path / 'live.db'}"
    engine = make_engine(live_url)
    upgrade(engine)
    engine.dispose()
    live = Database(live_url, bot.clock)
    assert bot.deps is not None
    with live.transaction() as uow:
        anna_hash = erased_hash(bot.deps.policy, world.anna)
        uow.session.add(ErasedPerson(tg_hash=anna_hash, erased_at=uow.now))
    await live.dispose()
    assert "'Anna'" in _everything(bot)

    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("BUDDYBOT_DATABASE_URL", bot.settings.database_url)
    monkeypatch.setenv("BUDDYBOT_TOKEN", TOKEN)
    monkeypatch.delenv("BUDDYBOT_ERASURE_KEY", raising=False)
    args = ["forget-again", "--erased-from", live_url]
    # Without the token or the key that made the hashes nobody can be recognised: refused.
    monkeypatch.delenv("BUDDYBOT_TOKEN")
    assert await asyncio.to_thread(main, args) == 2
    assert "'Anna'" in _everything(bot)
    monkeypatch.setenv("BUDDYBOT_TOKEN", TOKEN)
    assert await asyncio.to_thread(main, args) == 0

    everything = _everything(bot)
    assert str(world.anna) not in everything and "'Anna'" not in everything
    assert "Moestuin op het plein" in everything and "'Bert'" in everything
    # Her hash is in the restored database now: talking does not store her again.
    await bot.say(world.group, world.anna, "Hallo allemaal")
    assert str(world.anna) not in _everything(bot)


# -- forgetting holds (issue 22, item 8) ----------------------------------------------------


async def test_approved_news_of_a_helper_without_a_private_chat_goes_when_they_are_forgotten(
    world: World, bot: Harness
) -> None:
    """Bert helps and posts news from the group only; Anna (the author) approves it, so the
    group reads it under his name. When Bert later asks to be forgotten, that line goes."""
    w = world
    await bot.handled(await bot.tg.start_private(w.anna))
    await bot.say(w.group, w.anna, "/idee Moestuin op het plein")
    await bot.say(w.group, w.bert, "/meedoen 1")
    await bot.say(w.group, w.bert, "/bijwerken 1 Ik heb een schep geregeld")
    ask = (await bot.tg.messages(w.anna))[-1]
    await bot.press(w.anna, ask["message_id"], w.anna, text="✅ Plaats het nieuws")
    news = [m for m in await bot.tg.messages(w.group) if m["text"].startswith("📣 Nieuws over")]
    assert len(news) == 1 and "Bert" in news[0]["text"]

    await _forget(bot, w.bert)
    left = {m["message_id"] for m in await bot.tg.messages(w.group)}
    assert news[0]["message_id"] not in left


async def _anna_named_everywhere(bot: Harness, w: World) -> None:
    """Anna is named in the group: her idea card, her new role, her meeting, the champion
    news, the start-kit call and her news; Bert and she both come to the meeting."""
    update = await bot.say(w.group, w.anna, "Ik wil helpen")
    await bot.say(w.group, w.admin, "/facilitator", reply_to=update["message"]["message_id"])
    await bot.say(w.group, w.anna, "/idee Moestuin op het plein")
    await bot.say(w.group, w.bert, "/idee Bankjes bij de speeltuin")
    await bot.say(w.group, w.anna, "/kampioen 2")
    await bot.say(w.group, w.anna, "/bijwerken 2 Ik bel de gemeente")
    await bot.say(w.group, w.anna, "/bijeenkomst vrijdag 19:30 | Buurthuis | Startavond")
    draft = (await bot.tg.messages(w.group))[-1]
    await bot.press(w.group, draft["message_id"], w.anna, text="✅ Klopt")
    card = [m for m in await bot.tg.messages(w.group) if m.get("text", "").startswith("📢")][-1]
    await bot.press(w.group, card["message_id"], w.anna, text="✅ Ik kom (0)")
    await bot.press(w.group, card["message_id"], w.bert, text="✅ Ik kom (1)")
    await bot.settle()


async def _forget(bot: Harness, who: int) -> None:
    await bot.handled(await bot.tg.start_private(who))
    await bot.say(who, who, "/vergeetmij")
    ask = (await bot.tg.messages(who))[-1]
    await bot.press(who, ask["message_id"], who, text="🗑 Ja, vergeet mij")
    await bot.settle()


async def test_after_forgetting_no_group_message_names_them(world: World, bot: Harness) -> None:
    await _anna_named_everywhere(bot, world)
    before = await bot.tg.messages(world.group)
    named = [m for m in before if "Anna" in m.get("text", "")]
    idea_card = next(m for m in named if "Moestuin op het plein" in m["text"])
    meeting = next(m for m in named if m["text"].startswith("📢"))
    announcements = [m for m in named if not m["text"].startswith(("💡", "📢"))]
    assert len(announcements) == 4
    assert "Van Anna" in idea_card["text"] and "Georganiseerd door Anna" in meeting["text"]
    assert "✅ 2 komen" in meeting["text"]
    assert any("Anna is wijkkampioen" in m["text"] for m in announcements)
    assert any("ik stuur je graag een startpakket" in m["text"] for m in announcements)
    assert any("Ik bel de gemeente" in m["text"] for m in announcements)
    assert any("Anna is nu facilitator" in m["text"] for m in announcements)

    await _forget(bot, world.anna)

    after = {m["message_id"]: m for m in await bot.tg.messages(world.group)}
    assert not [m["text"] for m in after.values() if "Anna" in m.get("text", "")]
    # The live cards are edited in place: no name, and her answer no longer counted.
    assert "Van een buurtbewoner" in after[idea_card["message_id"]]["text"]
    meeting_now = after[meeting["message_id"]]["text"]
    assert "Georganiseerd door" not in meeting_now and "✅ 1 komt" in meeting_now
    # What only announced her (role, champion, start kit, her news) is deleted.
    for m in announcements:
        assert m["message_id"] not in after
    assert "Ik bel de gemeente" not in _everything(bot)


async def test_a_message_that_cannot_be_deleted_is_blanked(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.anna, "/idee Moestuin op het plein")
    await bot.say(world.group, world.anna, "/kampioen 1")
    news = next(m for m in await bot.tg.messages(world.group) if "is wijkkampioen" in m["text"])
    await bot.tg.inject_fault(
        kind="bad_request",
        method="deleteMessage",
        count=10,
        description="Bad Request: message can't be deleted for everyone",
    )
    await _forget(bot, world.anna)
    blanked = {m["message_id"]: m for m in await bot.tg.messages(world.group)}[news["message_id"]]
    removed = "De tekst van dit bericht is weggehaald op verzoek van een buurtbewoner."
    assert blanked["text"] == removed


async def test_a_forgotten_person_is_not_stored_again_by_talking(
    world: World, bot: Harness
) -> None:
    await _busy_anna(bot, world)
    await _forget(bot, world.anna)
    # Talking in the group, replying to a card, asking for help or for her data: not stored.
    await bot.say(world.group, world.anna, "Hallo allemaal")
    card = next(m for m in await bot.tg.messages(world.group) if "Moestuin" in m.get("text", ""))
    await bot.say(world.group, world.anna, "Mooi idee", reply_to=card["message_id"])
    await bot.say(world.group, world.anna, "/hulp")
    await bot.say(world.anna, world.anna, "/mijngegevens")
    assert await bot.last_text(world.anna) == "Ik bewaar niets over jou."
    assert not [m for m in await bot.tg.messages(world.anna) if m.get("document")]
    await bot.tg.remove_member(world.group, world.anna)
    await bot.tg.add_member(world.group, world.anna)
    await bot.settle()
    everything = _everything(bot)
    assert str(world.anna) not in everything and "Anna" not in everything
    # Only what needs her stores her again: supporting an idea.
    await bot.say(world.group, world.anna, "/steun 1")
    with bot.db.transaction() as uow:
        assert queries.person_by_tg(uow.session, world.anna) is not None


async def test_forget_me_twice_says_nothing_is_stored_without_buttons(
    world: World, bot: Harness
) -> None:
    await _forget(bot, world.anna)
    await bot.say(world.anna, world.anna, "/vergeetmij")
    answer = (await bot.tg.messages(world.anna))[-1]
    assert answer["text"] == "Ik bewaar niets over jou."
    assert not answer.get("reply_markup")


async def test_my_data_covers_what_they_made_and_their_open_questions(
    world: World, bot: Harness
) -> None:
    hello = (await bot.say(world.group, world.anna, "Ik wil helpen"))["message"]["message_id"]
    await bot.say(world.group, world.admin, "/facilitator", reply_to=hello)
    await bot.say(world.group, world.anna, "/partner Bibliotheek | cultuur | ruimte | bieb@x.nl")
    await bot.say(world.group, world.anna, "/idee Leesclub")
    await bot.say(world.group, world.anna, "/koppel 1 Bibliotheek")
    await bot.say(world.group, world.anna, "/bijeenkomst vrijdag 19:30 | Buurthuis | Startavond")
    await bot.say(world.group, world.anna, "/aankondiging morgen 10:00 | Koffie in het buurthuis")
    await bot.say(world.group, world.anna, "/stemming open Welke avond? | dinsdag | woensdag")
    await bot.say(world.group, world.anna, "/idee")  # the bot asks; her answer is still open
    await bot.handled(await bot.tg.start_private(world.anna))
    await bot.say(world.anna, world.anna, "/mijngegevens")
    doc = (await bot.tg.messages(world.anna))[-1]
    data = json.loads(await bot.tg.document(world.anna, doc["message_id"]))
    assert [m["title"] for m in data["meetings_organised"]] == ["Startavond"]
    assert [a["text"] for a in data["announcements_created"]] == ["Koffie in het buurthuis"]
    assert [p["question"] for p in data["votes_started"]] == ["Welke avond?"]
    assert [(link["idea"], link["partner"]) for link in data["partner_links_made"]] == [
        (1, "Bibliotheek")
    ]
    assert [q["question"] for q in data["open_questions"]] == ["idea"]
    assert {n["message"] for n in data["group_messages_naming_me"]} == {"role_facilitator"}


async def test_my_data_lists_partner_invitations_and_approved_news_and_forgetting_drops_them(
    world: World, bot: Harness
) -> None:
    w = world
    hello = (await bot.say(w.group, w.anna, "Ik wil helpen"))["message"]["message_id"]
    await bot.say(w.group, w.admin, "/facilitator", reply_to=hello)
    await bot.handled(await bot.tg.start_private(w.anna))
    await bot.say(w.group, w.anna, "/partner Bibliotheek | cultuur | ruimte | bieb@x.nl")
    card = next(m for m in reversed(await bot.tg.messages(w.group)) if "Bibliotheek" in m["text"])
    await bot.press(w.group, card["message_id"], w.anna, text="🔗 Uitnodiging voor de partner")
    await bot.say(w.group, w.anna, "/idee Leesclub")
    await bot.say(w.group, w.bert, "/meedoen 1")
    await bot.say(w.group, w.bert, "/bijwerken 1 Ik neem boeken mee")
    ask = (await bot.tg.messages(w.anna))[-1]
    await bot.press(w.anna, ask["message_id"], w.anna, text="✅ Plaats het nieuws")
    assert "Ik neem boeken mee" in await bot.last_text(w.group)

    await bot.say(w.anna, w.anna, "/mijngegevens")
    doc = (await bot.tg.messages(w.anna))[-1]
    data = json.loads(await bot.tg.document(w.anna, doc["message_id"]))
    assert [(i["partner"], i["as"]) for i in data["partner_invitations"]] == [
        ("Bibliotheek", "made")
    ]
    assert [(n["idea"], n["wijk"]) for n in data["news_approved"]] == [(1, "Wijk Oost")]

    await _forget(bot, w.anna)
    with bot.db.transaction() as uow:
        details = [e.detail for e in uow.session.scalars(select(IdeaEvent))]
    assert any(d.get("text") == "Ik neem boeken mee" for d in details)  # Bert's news stays
    assert not [d for d in details if "approved_by" in d]


async def test_an_error_log_line_carries_ids_not_names_or_text(
    world: World, bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.tg.inject_fault(kind="server_error", method="sendMessage", count=20)
    with caplog.at_level(logging.ERROR, logger="buddybot.errors"):
        update = await bot.say(world.group, world.anna, "/idee Geheime moestuin")
    await bot.tg.clear_faults()
    lines = [r.getMessage() for r in caplog.records if r.name == "buddybot.errors"]
    assert lines, "the failed reply was logged"
    assert f"update={update['update_id']}" in lines[0] and f"user={world.anna}" in lines[0]
    assert f"chat={world.group}" in lines[0] and "kind=message" in lines[0]
    for line in lines:
        assert "Anna" not in line and "anna" not in line and "Geheime" not in line


async def test_stale_rows_are_pruned_and_fresh_ones_kept(world: World, bot: Harness) -> None:
    from buddybot import app as bot_app

    await bot.say(world.group, world.anna, "/idee")  # a question she never answers
    await bot.say(world.group, world.admin, "/aankondiging morgen 10:00 | Koffie")
    bot.clock.advance(timedelta(days=2))
    await bot.tick()  # the announcement goes out: finished scheduled work
    await bot.say(world.group, world.bert, "Tot ziens allemaal")
    await bot.tg.remove_member(world.group, world.bert)
    await bot.settle()
    assert bot.deps is not None
    pruned = await bot_app.run_prune(bot.deps)
    assert (pruned.prompts, pruned.due_items, pruned.memberships) == (0, 0, 0)

    s = bot.settings
    stale = max(s.prompt_retention, s.due_retention, s.left_member_retention)
    bot.clock.advance(stale + timedelta(minutes=1))
    await bot.say(world.group, world.admin, "/idee")  # a fresh question
    pruned = await bot_app.run_prune(bot.deps)
    assert (pruned.prompts, pruned.due_items, pruned.memberships) == (1, 1, 1)
    with bot.db.transaction() as uow:
        admin = queries.person_by_tg(uow.session, world.admin)
        anna = queries.person_by_tg(uow.session, world.anna)
        assert admin is not None and anna is not None
        assert [p.person_id for p in uow.session.scalars(select(Prompt))] == [admin.id]
        assert not list(uow.session.scalars(select(DueItem).where(DueItem.status == "done")))
        members = {m.person_id for m in uow.session.scalars(select(Membership))}
    assert members == {admin.id, anna.id}  # Bert left long ago; Anna is still here


async def test_forgetting_removes_the_thanks_the_invitation_hint_and_the_team_list(
    world: World, bot: Harness
) -> None:
    """Group answers that name the person in passing go too: the thanks for held news,
    the hint to open a private chat first, and /wie's list of the team."""
    w = world
    await bot.say(w.group, w.bert, "/idee Leesclub")
    await bot.handled(await bot.tg.start_private(w.bert))
    await bot.say(w.group, w.anna, "/meedoen 1")
    await bot.say(w.group, w.anna, "/bijwerken 1 Ik neem boeken mee")
    assert (await bot.last_text(w.group)).startswith("Dank je, Anna!")
    hello = (await bot.say(w.group, w.anna, "Ik wil helpen"))["message"]["message_id"]
    await bot.say(w.group, w.admin, "/facilitator", reply_to=hello)
    await bot.say(w.group, w.anna, "/partner Bibliotheek | cultuur | ruimte | bieb@x.nl")
    card = next(m for m in reversed(await bot.tg.messages(w.group)) if "Bibliotheek" in m["text"])
    await bot.press(w.group, card["message_id"], w.anna, text="🔗 Uitnodiging voor de partner")
    assert (await bot.last_text(w.group)).startswith("Anna, ik kan je nog niet privé schrijven")
    await bot.say(w.group, w.bert, "/wie")
    assert "Anna" in await bot.last_text(w.group)

    await _forget(bot, w.anna)

    assert not [t for t in await bot.texts(w.group) if "Anna" in t]


async def _run_until_it_stops(tmp_path: Path, **settings: str) -> str:
    """``buddybot run`` as a process with a real-looking token; it stops at once."""
    token = "7000000003:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    return (await run_until_it_stops(tmp_path, token, **settings))[1]


async def test_a_bot_without_its_own_erasure_key_warns_once_at_start(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    printed = await _run_until_it_stops(tmp_path / "a")
    assert printed.count("BUDDYBOT_ERASURE_KEY is not set") == 1, printed
    assert "buddybot erasure-key" in printed
    printed = await _run_until_it_stops(tmp_path / "b", BUDDYBOT_ERASURE_KEY="k" * 40)
    assert "BUDDYBOT_ERASURE_KEY" not in printed, printed


async def test_undecided_news_and_used_or_expired_invitations_are_pruned(
    world: World, bot: Harness
) -> None:
    from buddybot import app as bot_app

    w = world
    await bot.say(w.group, w.bert, "/idee Leesclub")
    await bot.handled(await bot.tg.start_private(w.bert))
    await bot.say(w.group, w.anna, "/meedoen 1")
    await bot.say(w.group, w.anna, "/bijwerken 1 Ik neem boeken mee")  # Bert never decides
    await bot.handled(await bot.tg.start_private(w.admin))
    for name in ("Bibliotheek", "Buurthuis"):
        await bot.say(w.group, w.admin, f"/partner {name} | cultuur | ruimte | info@x.nl")
        card = next(m for m in reversed(await bot.tg.messages(w.group)) if name in m["text"])
        await bot.press(w.group, card["message_id"], w.admin, text="🔗 Uitnodiging voor de partner")
    links = re.findall(r"start=(ptn_[A-Za-z0-9_-]+)", " ".join(await bot.texts(w.admin)))
    assert len(links) == 2
    await bot.handled(await bot.tg.start_private(w.anna, payload=links[0]))  # used at once
    assert bot.deps is not None

    bot.clock.advance(timedelta(days=2))
    pruned = await bot_app.run_prune(bot.deps)
    assert (pruned.held_news, pruned.invites) == (0, 1)  # the used one
    bot.clock.advance(bot.settings.prompt_retention)
    pruned = await bot_app.run_prune(bot.deps)
    assert (pruned.held_news, pruned.invites) == (1, 1)  # the news, the expired one
    with bot.db.transaction() as uow:
        assert uow.session.scalar(select(func.count()).select_from(PartnerInvite)) == 0
        assert "Ik neem boeken mee" not in repr(
            [e.detail for e in uow.session.scalars(select(IdeaEvent))]
        )
        linked = uow.session.scalar(select(Partner.person_id).where(Partner.name == "Bibliotheek"))
        assert linked is not None  # the partner's link stays


async def test_pruning_starts_one_tick_after_start(
    server: FakegramServer, tg: FakegramClient, database_url: str, clock: FakeClock
) -> None:
    """A bot that restarts more often than ``PRUNE_EVERY`` still prunes."""
    settings = local_settings(server, database_url, tick_seconds=timedelta(seconds=30))
    harness = Harness(server, tg, settings, clock)
    await harness.start(polling=False)
    try:
        assert harness.app is not None and harness.app.job_queue is not None
        (job,) = harness.app.job_queue.get_jobs_by_name("prune")
        assert job.next_t is not None
        assert job.next_t - datetime.now(UTC) <= timedelta(seconds=31)
    finally:
        await harness.close()
