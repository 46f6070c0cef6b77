"""Wijkfoto: the profile, figures and charts for the people who steer, and the export."""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from buddybot.cli import main
from tests.support.harness import Harness, World

JSON = dict[str, Any]


def _png(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_profile_fill_and_show(world: World, bot: Harness) -> None:
    await bot.say(world.group, world.anna, "/profiel identiteit Jonge gezinnen en ouderen")
    assert "alleen een facilitator" in await bot.last_text(world.group)
    await bot.say(
        world.group,
        world.admin,
        "/profiel identiteit Jonge gezinnen en <b>ouderen</b>, veel ondernemers",
    )
    await bot.say(world.group, world.admin, "/profiel plekken Buurthuis De Linde, het plein")
    await bot.say(world.group, world.admin, "/profiel sterren veel")
    assert "Dat veld ken ik niet: sterren" in await bot.last_text(world.group)
    await bot.say(world.group, world.bert, "/profiel")
    shown = await bot.last_text(world.group)
    assert "Wie is de wijk? Jonge gezinnen en <b>ouderen</b>, veel ondernemers" in shown
    assert "Plekken Buurthuis De Linde, het plein" in shown
    assert "Hoe ademt de wijk? nog niet ingevuld" in shown


async def test_profile_in_english(bot: Harness) -> None:
    w = await World(bot).build(title="Riverside", lang="en")
    await bot.say(w.group, w.admin, "/profile rhythm Market on Saturday, school at 8:30")
    await bot.say(w.group, w.bert, "/profile")
    assert "How does it breathe? Market on Saturday, school at 8:30" in await bot.last_text(w.group)


async def _seed(bot: Harness, w: World) -> None:
    """A wijk with known numbers."""
    voters = []
    for i in range(3):
        voters.append(await bot.tg.create_user(f"Buur{i}"))
        await bot.tg.add_member(w.group, voters[-1])
    await bot.settle()
    for title in ["Moestuin", "Jeu de boules", "Bankjes", "Kerstmarkt"]:
        await bot.say(w.group, w.anna, f"/idee {title}")
    for state in ["gekozen", "bezig", "gerealiseerd"]:
        await bot.say(w.group, w.admin, f"/status 1 {state}")
    await bot.say(w.group, w.admin, "/status 2 geparkeerd")
    await bot.say(w.group, w.bert, "/kampioen 3")
    await bot.say(w.group, w.admin, "/partner Tuincentrum | groen | Planten | -")
    await bot.say(w.group, w.admin, "/koppel 3 Tuincentrum")
    await bot.say(w.group, w.admin, "/bijeenkomst 2026-11-30 19:30 | Buurthuis | Startavond")
    draft = (await bot.tg.messages(w.group))[-1]
    await bot.press(w.group, draft["message_id"], w.admin, text="✅ Klopt")
    card = [m for m in await bot.tg.messages(w.group) if m.get("text", "").startswith("📢")][-1]
    await bot.press(w.group, card["message_id"], w.anna, text="✅ Ik kom (0)")
    await bot.press(w.group, card["message_id"], w.bert, text="✅ Ik kom (1)")
    await bot.say(w.group, w.admin, "/stemming open Welke avond? | dinsdag | woensdag")
    poll = [m for m in await bot.tg.messages(w.group) if m.get("poll")][-1]["poll"]
    await bot.tg.vote(poll["id"], voters[0], [0])
    await bot.tg.vote(poll["id"], voters[1], [1])
    await bot.settle()
    await bot.say(w.group, w.admin, "/sluitstemming 1")
    bot.clock.advance(timedelta(days=8))
    await bot.tick()  # the meeting is held (follow-up)


async def test_wijkfoto_figures_and_charts(world: World, bot: Harness) -> None:
    await _seed(bot, world)
    await bot.say(world.group, world.anna, "/wijkfoto")
    assert "alleen een facilitator" in await bot.last_text(world.group)
    before = len(await bot.tg.messages(world.group))
    await bot.say(world.group, world.admin, "/wijkfoto")
    sent = (await bot.tg.messages(world.group))[before:]
    text = sent[0]["text"]
    assert "De buddy kent 6 buren" in text  # Fatima, Anna, Bert and three neighbours
    assert "voorgesteld 2 → gekozen 0 → bezig 0 → gerealiseerd 1 · geparkeerd 1" in text
    assert "met wijkkampioen: 1, zonder: 1" in text
    assert "Stille ideeën: 2" in text
    assert "Bijeenkomsten gehouden: 1; 2 keer 'Ik kom'" in text
    assert "1 stemming; gemiddeld stemde 33% van de buren" in text
    assert "1 partner in de alliantie; 1 koppeling met ideeën" in text
    photos = [m for m in sent if m.get("photo")]
    assert len(photos) == 3
    for photo in photos:
        width, height = _png(await bot.tg.document(world.group, photo["message_id"]))
        assert width == 1080 and 500 <= height <= 2500


async def test_wijkfoto_of_a_group_titled_with_dollar_signs(bot: Harness) -> None:
    """Matplotlib would read ``$\\foo$`` in the chart titles as (unknown) math."""
    w = await World(bot).build(title="Buurt $\\foo$ en $x^$")
    await bot.say(w.group, w.anna, "/idee Moestuin")
    before = len(await bot.tg.messages(w.group))
    await bot.say(w.group, w.admin, "/wijkfoto")
    sent = (await bot.tg.messages(w.group))[before:]
    assert sent[0]["text"].startswith("📸")
    assert "Buurt $\\foo$ en $x^$" in sent[0]["text"]
    assert len([m for m in sent if m.get("photo")]) == 3


async def test_wijkfoto_charts_that_fail_leave_the_figures(
    world: World, bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from buddybot.handlers import wijkfoto as wijkfoto_handlers

    def broken(*_: object) -> list[tuple[str, bytes]]:
        raise ValueError("the charts broke")

    monkeypatch.setattr(wijkfoto_handlers, "charts", broken)
    before = len(await bot.tg.messages(world.group))
    await bot.say(world.group, world.admin, "/wijkfoto")
    sent = (await bot.tg.messages(world.group))[before:]
    assert len(sent) == 1 and "De buddy kent" in sent[0]["text"]


async def test_overview_of_several_wijken_in_private(bot: Harness) -> None:
    east = await World(bot).build(title="Oost")
    west = World(bot)
    west.admin, west.anna, west.bert = east.admin, east.anna, east.bert
    west.group = await bot.tg.create_group("West", creator=east.admin, members=[east.anna])
    await bot.tg.add_bot(west.group, by=east.admin, admin=True)
    await bot.settle()
    await bot.say(west.group, east.anna, "/idee Speeltuin")
    await bot.handled(await bot.tg.start_private(east.admin))
    await bot.say(east.admin, east.admin, "/wijkfoto")
    overview = (await bot.tg.messages(east.admin))[-1]
    assert "Jouw wijken naast elkaar" in overview["text"]
    assert "Oost" in overview["text"] and "West" in overview["text"]
    assert "1 open ideeën" in overview["text"]
    await bot.press(east.admin, overview["message_id"], east.admin, text="West")
    assert any("Wijkfoto van West" in t for t in await bot.texts(east.admin))
    await bot.handled(await bot.tg.start_private(east.bert))
    await bot.say(east.bert, east.bert, "/wijkfoto")
    assert "voor facilitators" in await bot.last_text(east.bert)


def _read(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))


async def test_export_zip_in_private_row_by_row(world: World, bot: Harness) -> None:
    await _seed(bot, world)
    await bot.say(world.group, world.admin, "/export")
    assert "open eerst een privégesprek" in (await bot.last_text(world.group)).lower()
    await bot.handled(await bot.tg.start_private(world.admin))
    await bot.say(world.group, world.admin, "/export")
    assert "in een privégesprek gestuurd" in await bot.last_text(world.group)
    doc = (await bot.tg.messages(world.admin))[-1]
    archive = zipfile.ZipFile(io.BytesIO(await bot.tg.document(world.admin, doc["message_id"])))
    assert sorted(archive.namelist()) == [
        "events.csv", "ideas.csv", "meetings.csv", "partners.csv", "votes.csv",
    ]  # fmt: skip
    ideas = _read(archive, "ideas.csv")
    assert [(i["number"], i["title"], i["status"]) for i in ideas] == [
        ("1", "Moestuin", "realised"),
        ("2", "Jeu de boules", "parked"),
        ("3", "Bankjes", "proposed"),
        ("4", "Kerstmarkt", "proposed"),
    ]
    assert ideas[2]["champions"] == "Bert" and ideas[2]["partners"] == "Tuincentrum"
    assert ideas[0]["author"] == "Anna" and ideas[0]["created_at"].startswith("2026-11-27T")
    meetings = _read(archive, "meetings.csv")
    assert meetings[0]["status"] == "held" and meetings[0]["yes"] == "2"
    votes = _read(archive, "votes.csv")
    assert [(v["option"], v["votes"]) for v in votes] == [("dinsdag", "1"), ("woensdag", "1")]
    events = _read(archive, "events.csv")
    names = {e["by"] for e in events}
    assert names <= {"", "Anna", "Bert", "Fatima El Amrani"} and "Buur0" not in names
    assert _read(archive, "partners.csv")[0]["name"] == "Tuincentrum"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


async def test_export_holds_no_live_formula_in_any_file(world: World, bot: Harness) -> None:
    """A resident's text that a spreadsheet would run (CSV injection) is exported as text."""
    mallory = await bot.tg.create_user("=Mallory", last_name="@SUM(A1)")
    await bot.tg.add_member(world.group, mallory)
    await bot.settle()
    link = '=HYPERLINK("http://evil.example","klik")'
    await bot.say(world.group, mallory, f"/idee {link}")
    await bot.say(world.group, world.anna, "/idee @SUM(1+1)*cmd|' /C calc'!A0")
    await bot.say(world.group, world.anna, "/idee -2+3 bankjes")
    await bot.say(world.group, mallory, "/kampioen 1")
    await bot.say(world.group, world.admin, "/partner +Buurthuis | groen | =1+1 | -31 6 123")
    await bot.say(world.group, world.admin, "/koppel 1 +Buurthuis")
    await bot.say(world.group, world.admin, "/bijeenkomst 2026-11-30 19:30 | @plein | =Startavond")
    draft = (await bot.tg.messages(world.group))[-1]
    await bot.press(world.group, draft["message_id"], world.admin, text="✅ Klopt")
    await bot.say(world.group, world.admin, "/stemming open =Welke avond? | =dinsdag | +woensdag")
    await bot.handled(await bot.tg.start_private(world.admin))
    await bot.say(world.group, world.admin, "/export")
    doc = (await bot.tg.messages(world.admin))[-1]
    archive = zipfile.ZipFile(io.BytesIO(await bot.tg.document(world.admin, doc["message_id"])))
    cells = {
        name: [cell for row in csv.reader(io.StringIO(archive.read(name).decode())) for cell in row]
        for name in archive.namelist()
    }
    assert sorted(cells) == [
        "events.csv", "ideas.csv", "meetings.csv", "partners.csv", "votes.csv",
    ]  # fmt: skip
    for name, found in cells.items():
        live = [cell for cell in found if cell.startswith(FORMULA_STARTS)]
        assert not live, f"{name} holds live formulas: {live}"
    # the text itself is kept, behind a quote that makes it text in a spreadsheet
    assert "'" + link in cells["ideas.csv"] and "'@SUM(1+1)*cmd|' /C calc'!A0" in cells["ideas.csv"]
    assert "'-2+3 bankjes" in cells["ideas.csv"] and "'=Mallory @SUM(A1)" in cells["ideas.csv"]
    assert "'=Mallory @SUM(A1)" in cells["events.csv"]
    assert {"'+Buurthuis", "'=1+1", "'-31 6 123"} <= set(cells["partners.csv"])
    assert {"'@plein", "'=Startavond"} <= set(cells["meetings.csv"])
    assert {"'=Welke avond?", "'=dinsdag", "'+woensdag"} <= set(cells["votes.csv"])


async def test_cli_export_with_progress(
    world: World,
    bot: Harness,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await bot.say(world.group, world.anna, "/idee Moestuin")
    monkeypatch.setenv("BUDDYBOT_DATABASE_URL", bot.settings.database_url)
    out = tmp_path / "oost.zip"
    code = await _run_cli(["export", "--wijk", "1", "--out", str(out)])
    assert code == 0
    captured = capsys.readouterr()
    assert "ideas" in captured.err and "1/1" in captured.err
    assert "wrote" in captured.out
    rows = _read(zipfile.ZipFile(out), "ideas.csv")
    assert rows[0]["title"] == "Moestuin"
    assert await _run_cli(["export", "--wijk", "99", "--out", str(out)]) == 1


async def _run_cli(argv: list[str]) -> int:
    import asyncio

    # The CLI runs its own event loop; run it in a thread beside the test's loop.
    return await asyncio.to_thread(main, argv)


async def test_a_chart_telegram_refuses_leaves_the_other_charts(world: World, bot: Harness) -> None:
    """The first chart is refused: the figures and the two other charts still come, and no
    apology for a report that did arrive."""
    await bot.say(world.group, world.anna, "/idee Moestuin")
    before = len(await bot.tg.messages(world.group))
    await bot.tg.inject_fault(kind="bad_request", method="sendPhoto", count=1)
    await bot.say(world.group, world.admin, "/wijkfoto")
    sent = (await bot.tg.messages(world.group))[before:]
    assert sent[0]["text"].startswith("📸")
    assert len([m for m in sent if m.get("photo")]) == 2
    assert not any("Sorry" in str(m.get("text")) for m in sent)
