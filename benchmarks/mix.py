"""The residents of the benchmarks' city and the updates they send (Bot API JSON).

Kept free of buddybot's own modules, so a bare PTB application can use it as well.
"""

from __future__ import annotations

import itertools
import random
import time
from typing import Any

from benchmarks.local_api import BOT
from buddybot.fakegram import shapes

TOKEN = "7000000001:bench"
JSON = dict[str, Any]
WORDS = [
    "moestuin", "speeltuin", "bankje", "bloembak", "buurtfeest", "fietsenrek", "boekenkast",
    "zebrapad", "kerstmarkt", "jeu de boules", "repair cafe", "geveltuin", "hondenveld",
    "picknicktafel", "muurschildering", "waterpunt", "zonnepanelen", "buurtbus",
]  # fmt: skip


class World:
    """Groups with residents; builds the updates residents send."""

    def __init__(self, groups: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.now = int(time.time())
        self.ids = itertools.count(1)
        self.msg_ids = itertools.count(1)
        self.people: dict[int, list[JSON]] = {}
        self.admins: dict[int, list[int]] = {}
        uid = itertools.count(100_000)
        for g in range(groups):
            chat_id = -1_000_000_000_000 - g
            self.people[chat_id] = [
                shapes.user(next(uid), f"Bewoner{g}_{i}", language_code="nl") for i in range(8)
            ]
            self.admins[chat_id] = [self.people[chat_id][0]["id"]]

    def _chat(self, chat_id: int) -> JSON:
        return shapes.chat(chat_id, "supergroup", title=f"Wijk {chat_id}")

    def joins(self) -> list[JSON]:
        out = []
        for chat_id, people in self.people.items():
            cmu = shapes.chat_member_updated(
                self._chat(chat_id), people[0], self.now,
                shapes.chat_member(BOT, "left"), shapes.chat_member(BOT, "administrator"),
            )  # fmt: skip
            out.append(shapes.update(next(self.ids), "my_chat_member", cmu))
        return out

    def command(self, chat_id: int, person: JSON, text: str, private: bool = False) -> JSON:
        chat = (
            shapes.chat(person["id"], "private", first_name=person["first_name"])
            if private
            else self._chat(chat_id)
        )
        word = text.split()[0]
        msg = shapes.message(
            next(self.msg_ids), self.now, chat, from_user=person, text=text,
            entities=[{"type": "bot_command", "offset": 0, "length": len(word)}],
        )  # fmt: skip
        return shapes.update(next(self.ids), "message", msg)

    def press(self, chat_id: int, person: JSON, data: str) -> JSON:
        msg = shapes.message(next(self.msg_ids), self.now, self._chat(chat_id), from_user=BOT,
                             text="💡 card")  # fmt: skip
        query = shapes.callback_query(
            str(next(self.ids)), person, f"ci{chat_id}", msg=msg, data=data
        )
        return shapes.update(next(self.ids), "callback_query", query)

    def proposal(self, chat_id: int, person: JSON) -> JSON:
        title = " ".join(self.rng.sample(WORDS, 3)) + f" {self.rng.randrange(10**6)}"
        return self.command(chat_id, person, f"/idee {title}")

    def seed_ideas(self, per_group: int) -> list[JSON]:
        return [
            self.proposal(chat_id, self.rng.choice(people))
            for chat_id, people in self.people.items()
            for _ in range(per_group)
        ]

    def vote(self, person: JSON, tg_poll_id: str) -> JSON:
        option = self.rng.randrange(2)
        answer = shapes.poll_answer(tg_poll_id, [option], [str(option)], voter=person)
        return shapes.update(next(self.ids), "poll_answer", answer)

    def mix(self, count: int, targets: Targets) -> list[JSON]:
        out = []
        chats = list(self.people)
        for _ in range(count):
            chat_id = self.rng.choice(chats)
            person = self.rng.choice(self.people[chat_id])
            roll = self.rng.random()
            if roll < 0.25 and targets.ideas.get(chat_id):
                idea = self.rng.choice(targets.ideas[chat_id])
                out.append(self.press(chat_id, person, f"1:sup:{idea}"))
            elif roll < 0.40 and chat_id in targets.meetings:
                answer = self.rng.choice("ymn")
                out.append(
                    self.press(chat_id, person, f"1:rsvp:{targets.meetings[chat_id]}:{answer}")
                )
            elif roll < 0.55 and chat_id in targets.polls:
                out.append(self.vote(person, targets.polls[chat_id]))
            elif roll < 0.65:
                out.append(self.proposal(chat_id, person))
            elif roll < 0.80:
                out.append(self.command(chat_id, person, "/ideeen"))
            elif roll < 0.90:
                out.append(self.command(chat_id, person, self.rng.choice(["/hulp", "/wie"])))
            elif roll < 0.95:
                lang = self.rng.choice(["nl", "en"])
                out.append(self.command(chat_id, person, f"/taal {lang}", private=True))
            else:
                out.append(self.command(chat_id, person, "/start", private=True))
        return out


class Targets:
    """What residents press and vote on: ideas, one meeting and one open vote per wijk."""

    def __init__(self) -> None:
        self.ideas: dict[int, list[int]] = {}
        self.meetings: dict[int, int] = {}
        self.polls: dict[int, str] = {}
