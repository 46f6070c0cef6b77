"""``buddybot demo``: a neighbourhood story, played against a local fake Telegram.

No token and no setup: fakegram and the bot run on loopback with a fresh SQLite file,
residents talk to the bot, and the conversation is printed as a chat transcript.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from buddybot.clock import FakeClock
from buddybot.fakegram import FakegramClient, FakegramServer
from buddybot.stage import BOT_USERNAME, TOKEN, Stage, local_settings
from buddybot.storage.db import make_engine
from buddybot.storage.migrate import upgrade
from buddybot.storage.models import Meeting

JSON = dict[str, Any]
WIDTH = 78


class Transcript:
    """Prints each chat's new messages, residents' and the bot's, as they appear."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.seen: dict[int, int] = {}
        self.names: dict[int, str] = {}

    def title(self, chat_id: int, name: str) -> None:
        self.names[chat_id] = name

    def scene(self, text: str) -> None:
        print()
        print(textwrap.fill(f"*** {text}", WIDTH))

    async def show(self, chat_id: int) -> None:
        history = await self.stage.tg.history(chat_id)
        last = self.seen.get(chat_id, 0)
        for msg in history:
            if int(msg["message_id"]) <= last:
                continue
            self.seen[chat_id] = int(msg["message_id"])
            self._print(chat_id, msg)

    async def again(self, chat_id: int, message_id: int, note: str) -> None:
        """Show a message once more after the bot edited it (a card with new counts)."""
        for msg in await self.stage.tg.history(chat_id):
            if int(msg["message_id"]) == message_id:
                self._print(chat_id, msg, note)

    def _print(self, chat_id: int, msg: JSON, note: str = "") -> None:
        text = str(msg.get("text") or msg.get("caption") or "")
        if not (text or msg.get("poll")) or msg.get("fakegram", {}).get("deleted"):
            return
        sender = msg.get("from") or {}
        who = "🤖 Buddy" if sender.get("is_bot") else str(sender.get("first_name", "?"))
        place = self.names.get(chat_id, "privé")
        print(f"\n[{place}] {who}{note}:")
        for line in text.splitlines():
            print(textwrap.fill(line, WIDTH, initial_indent="  ", subsequent_indent="  "))
        poll = msg.get("poll")
        if poll:
            print(f"  🗳 {poll['question']}")
            for option in poll["options"]:
                print(f"    ○ {option['text']}")
        if msg.get("photo"):
            print("  🖼  (grafiek van de uitslag)")
        markup = msg.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            print("  " + "  ".join(f"[ {b['text']} ]" for b in row))

    def press(self, chat_id: int, who: str, label: str) -> None:
        print(f"\n[{self.names.get(chat_id, 'privé')}] {who} drukt op [ {label} ]")


async def story(stage: Stage, out: Transcript) -> None:
    tg = stage.tg
    fatima = await tg.create_user("Fatima", last_name="El Amrani", language_code="nl")
    anna = await tg.create_user("Anna", language_code="nl")
    bert = await tg.create_user("Bert", language_code="nl")
    sam = await tg.create_user("Sam", language_code="en")

    out.scene(
        "Fatima is de verbinder van de Bloemenbuurt. De buurt heeft al een groepsapp. "
        "Ze voegt de buddy toe en maakt hem beheerder."
    )
    group = await tg.create_group("Bloemenbuurt", creator=fatima, members=[anna, bert, sam])
    out.title(group, "Bloemenbuurt")
    await tg.add_bot(group, by=fatima, admin=True)
    await tg.wait_for_message(group)
    await out.show(group)

    out.scene("Anna wil weten wat de buddy doet.")
    await stage.say(group, anna, "/hulp")
    await out.show(group)

    out.scene("Fatima maakt Bert de buddy: hij antwoordt op zijn bericht met /buddy.")
    hello = await tg.send_message(group, bert, "Ik help graag, ik woon hier al 30 jaar.")
    await stage.say(group, fatima, "/buddy", reply_to=int(hello["message"]["message_id"]))
    await out.show(group)

    out.scene(
        "Anna probeert de taal van de groep te veranderen, maar dat mag alleen een facilitator."
    )
    await stage.say(group, anna, "/taal en")
    await out.show(group)

    out.scene("Sam spreekt Engels. Hij zegt hallo in de groep en opent dan een privégesprek.")
    await stage.say(group, sam, "Hi all, new here!")
    await out.show(group)
    await stage.handled(await tg.start_private(sam))
    out.title(sam, "Sam ↔ Buddy")
    await stage.say(sam, sam, "/who")
    await out.show(sam)

    out.scene("Anna heeft een idee voor het pleintje. Ze deelt het in de groep.")
    await stage.say(
        group,
        anna,
        "/idee Moestuin op het plein\nSamen groente kweken, met de kinderen van school.",
    )
    await out.show(group)
    card = (await tg.messages(group))[-1]
    card_id = int(card["message_id"])

    out.scene("Buren drukken op de knoppen onder het idee. De kaart telt mee.")
    for who, user, label in [
        ("Bert", bert, "👍 Steun (0)"),
        ("Sam", sam, "👍 Steun (1)"),
        ("Sam", sam, "🙋 Ik doe mee (0)"),
    ]:
        out.press(group, who, label)
        await stage.press(group, card_id, user, text=label)
    await out.again(group, card_id, " (kaart bijgewerkt)")

    out.scene("Bert deelt bijna hetzelfde idee. De buddy ziet dat en stelt voor om te steunen.")
    await stage.say(group, bert, "/idee Een moestuin op het pleintje")
    await out.show(group)
    question = (await tg.messages(group))[-1]
    out.press(group, "Bert", "👍 Steun #1")
    await stage.press(group, int(question["message_id"]), bert, text="👍 Steun #1")

    out.scene("Sam wil het idee trekken: hij wordt wijkkampioen en krijgt een startpakket.")
    await stage.say(group, sam, "/kampioen 1")
    await out.show(group)
    await out.show(sam)

    out.scene("Fatima bekijkt de open ideeën.")
    await stage.say(group, fatima, "/ideeen")
    await out.show(group)

    out.scene("Fatima kondigt de startavond aan. De buddy laat eerst zien hoe hij de datum leest.")
    await stage.say(
        group,
        fatima,
        "/bijeenkomst vrijdag 19:30 | Buurthuis De Linde | Startavond Bloemenbuurt"
        " | Kom kennismaken en neem je ideeën mee!",
    )
    await out.show(group)
    draft = (await tg.messages(group))[-1]
    out.press(group, "Fatima", "✅ Klopt")
    await stage.press(group, int(draft["message_id"]), fatima, text="✅ Klopt")
    await out.show(group)
    card = [m for m in await tg.messages(group) if str(m.get("text", "")).startswith("📢")][-1]
    card_id = int(card["message_id"])

    out.scene("Buren geven antwoord met de knoppen onder de aankondiging.")
    for who, user, label in [("Anna", anna, "✅ Ik kom"), ("Bert", bert, "🤔 Misschien")]:
        out.press(group, who, label)
        await stage.press(group, card_id, user, data=_rsvp_data(card, label))
    out.press(group, "Sam", "✅ Ik kom")
    await stage.press(group, card_id, sam, data=_rsvp_data(card, "✅ Ik kom"))
    await out.again(group, card_id, " (aankondiging bijgewerkt)")

    out.scene("De klok springt naar een dag voor de startavond: de buddy herinnert iedereen.")
    with stage.db.transaction() as uow:
        starts = uow.session.scalar(select(Meeting.starts_at))
    assert starts is not None
    stage.clock.set(starts - timedelta(hours=24))
    await stage.tick()
    await out.show(group)
    await out.show(sam)

    out.scene("Na de startavond zijn er meer ideeën. Fatima laat de buurt kiezen.")
    await stage.say(group, anna, "/idee Bankjes bij de speeltuin")
    await stage.say(group, bert, "/idee Buurtbarbecue in juni")
    await out.show(group)
    await stage.say(group, fatima, "/stemming 1 2 3 tot " + _day_after(starts))
    await out.show(group)
    poll = [m for m in await tg.messages(group) if m.get("poll")][-1]["poll"]
    neighbours = [await tg.create_user(f"Buur {i}") for i in range(5)]
    for neighbour in neighbours:
        await tg.add_member(group, neighbour)
    choices = [0, 0, 2, 0, 1, 2, 0, 0]
    for voter, choice in zip([anna, bert, sam, *neighbours], choices, strict=True):
        await tg.vote(str(poll["id"]), voter, [choice])
    await stage.settle()
    print("\n  (8 buren stemmen: de stemming is anoniem)")

    out.scene("De deadline is daar: de buddy sluit de stemming en deelt de uitslag.")
    stage.clock.set(starts + timedelta(days=2, hours=3))
    await stage.tick()
    await out.show(group)

    out.scene("Fatima zet de eerste partner in de sociale alliantie: het tuincentrum.")
    await stage.say(
        group,
        fatima,
        "/partner Tuincentrum Groenrijk | groen duurzaamheid"
        " | Planten, zaden en advies over moestuinen | Joost, 010-7654321",
    )
    await out.show(group)

    out.scene("Een week gebeurt er niets. De buddy merkt dat de ideeën stil liggen.")
    quiet = (starts + timedelta(days=10)).astimezone(ZoneInfo("Europe/Amsterdam"))
    stage.clock.set(quiet.replace(hour=10, minute=0).astimezone(UTC))
    await stage.tick()
    await out.show(group)
    nudge = [m for m in await tg.messages(group) if str(m.get("text", "")).startswith("💤")][-1]
    label = next(
        b["text"]
        for row in nudge["reply_markup"]["inline_keyboard"]
        for b in row
        if "Koppel" in b["text"]
    )
    out.press(group, "Fatima", label)
    await stage.press(group, int(nudge["message_id"]), fatima, text=label)
    await out.show(group)

    out.scene("Tot slot bekijkt Fatima de wijkfoto: cijfers en grafieken van de Bloemenbuurt.")
    before = len(await tg.messages(group))
    await stage.say(group, fatima, "/wijkfoto")
    await out.show(group)
    folder = Path(tempfile.mkdtemp(prefix="buddybot-wijkfoto-"))
    names = ["trechter.png", "activiteit.png", "wanneer.png"]
    photos = [m for m in (await tg.messages(group))[before:] if m.get("photo")]
    for name, photo in zip(names, photos, strict=False):
        path = folder / name
        path.write_bytes(await tg.document(group, int(photo["message_id"])))
        print(f"  grafiek bewaard: {path}")


def _day_after(moment: datetime) -> str:
    """A deadline the date reader understands: two days after ``moment``, at 20:00."""
    day = (moment + timedelta(days=2)).astimezone(ZoneInfo("Europe/Amsterdam"))
    return f"{day:%Y-%m-%d} 20:00"


def _rsvp_data(card: JSON, label: str) -> str:
    for row in card["reply_markup"]["inline_keyboard"]:
        for b in row:
            if str(b["text"]).startswith(label):
                return str(b["callback_data"])
    raise LookupError(label)


async def run_demo(keep: str | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="buddybot-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_file = folder / "demo.db"
    db_file.unlink(missing_ok=True)
    url = f"sqlite:///{db_file}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()

    print("buddybot demo: a local fake Telegram and the real bot, on this machine only.")
    async with (
        FakegramServer(token=TOKEN, bot_username=BOT_USERNAME) as server,
        FakegramClient(server.url) as tg,
    ):
        stage = Stage(server, tg, local_settings(server, url), FakeClock(datetime.now(UTC)))
        await stage.start()
        try:
            await story(stage, Transcript(stage))
        finally:
            await stage.close()
    print()
    if keep:
        print(f"The demo database is kept in {db_file}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    print("End of the demo. To run the bot for real: see README.md (BUDDYBOT_TOKEN).")
    return 0
