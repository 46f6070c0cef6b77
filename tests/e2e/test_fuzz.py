"""Fuzzing the whole bot: random and hostile updates through the real Application.

Each hypothesis example builds its own little world (fakegram over HTTP, a fresh migrated
SQLite database, the real Application, "Wijk Oost" with Fatima, Anna and Bert), sends one
batch of generated updates, waits until every one of them is handled and checks:

* nothing was logged on ``buddybot.errors`` (no unexpected exception in any handler) or on
  ``buddybot.charts`` (no chart that could not be drawn);
* the bot never apologised ("Sorry, er ging iets mis" / "Sorry, something went wrong");
* no Bot API call was refused for malformed HTML or an over-long text (fakegram checks
  ``parse_mode=HTML`` like Telegram does);
* every callback query was answered;
* a resident trying facilitator commands and steering buttons changes nothing that
  facilitators own (ideas, meetings, polls, partners, announcements, links, roles, settings);
* hostile text in ideas, partners and meetings stays data in what the bot hands out: no
  cell of ``/export`` starts a spreadsheet formula, and a meeting's calendar file holds one
  event with only its own properties, the text inside its values.

Crashes the fuzzing found are pinned one input each in ``test_known_crashes``.

SQLite only: the examples need a fresh database each, which on SQLite is a file copy of
the migrated template; the PostgreSQL run skips this module.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from icalendar import Calendar
from sqlalchemy import func, select

from buddybot.clock import FakeClock
from buddybot.fakegram import FakegramClient, FakegramServer, shapes
from buddybot.handlers.commands import COMMANDS
from buddybot.storage.models import (
    Announcement,
    Idea,
    IdeaEvent,
    IdeaPartner,
    Involvement,
    Meeting,
    Membership,
    Partner,
    PartnerInvite,
    Person,
    Poll,
    Wijk,
)
from tests.support import dbs
from tests.support.harness import BOT_USERNAME, TOKEN, Harness, World, local_settings

pytestmark = pytest.mark.skipif(
    dbs.BACKEND != "sqlite",
    reason="the fuzz suite needs a fresh database per example: SQLite template copies only",
)

JSON = dict[str, Any]
APOLOGIES = ("Sorry, er ging iets mis", "Sorry, something went wrong")
# Deterministic by default, so the suite stays green unless the bot changes;
# BUDDYBOT_FUZZ_RANDOM=1 explores new seeds, BUDDYBOT_FUZZ_EXAMPLES=200 explores longer.
# No shrinking: a failure names the very update that failed (the logged update, or the
# input in the assertion message), and shrinking whole batches takes minutes.
# hypothesis keeps a cache even without an example database: not in the working tree
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "buddybot-hypothesis"))
FUZZ = settings(
    max_examples=int(os.environ.get("BUDDYBOT_FUZZ_EXAMPLES", "12")),
    deadline=None,
    derandomize=not os.environ.get("BUDDYBOT_FUZZ_RANDOM"),
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- strategies -----------------------------------------------------------------------------

FRAGMENTS = [
    "<b>",
    "</b>",
    "<i>",
    "</i>",
    "<a href='javascript:x'>",
    "</a>",
    "<script>",
    "<tg-spoiler>",
    "<pre>",
    "<code>",
    "&amp;",
    "&",
    "&lt;",
    "&#0;",
    "&#x110000;",
    "&bogus;",
    "<",
    ">",
    "*bold*",
    "_it_",
    "`code`",
    "```",
    "~~",
    "||spoiler||",
    "[x](http://x)",
    "\u202e",
    "\u202b",
    "\u200f",
    "\u200b",
    "\u200c",
    "\u200d",
    "\ufeff",
    "\u2060",
    "مرحبا",
    "שלום",
    "💡",
    "👍🏽",
    "🏳️‍🌈",
    "e\u0301",
    "\u00a0",
    "\n",
    "  ",
    "\t",
    "#3",
    "|",
    "@otherbot",
    "@buddy_test_bot",
    "%s",
    "{name}",
    "{0}",
    "\\",
    "'",
    '"',
    "1",
    "-1",
    "10" * 15,
    "Moestuin",
    "tot morgen",
    # matplotlib reads text between two dollars as math: charts must draw it as text
    "$",
    "$x^$",
    "$\\foo$",
    "\\$",
    "^_{}",
]
chars = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
hostile_text = st.one_of(
    st.text(chars, max_size=60),
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(chars, max_size=5)), max_size=8).map(
        "".join
    ),
    st.sampled_from(["x" * 10_000, "💡" * 5_000, "<b>" * 3_000, "\u202e" * 10_000]),
)

NAMES = sorted({n for c in COMMANDS for n in c.names})
FACILITATOR_NAMES = sorted({n for c in COMMANDS if c.facilitator for n in c.names})
SUFFIXES = ["", "", "", "@otherbot", f"@{BOT_USERNAME}", f"@{BOT_USERNAME.upper()}", "@"]
SEPARATORS = [" ", " ", "  ", "\n", "\t", "\u00a0", " \u200b"]
ARG_WORDS = [
    "1",
    "2",
    "3",
    "0",
    "-1",
    "-999",
    str(10**30),
    "#3",
    "#",
    "|",
    "||",
    "99999999999",
    "1.5",
    "1e9",
    "٣",
    "³",
    "Ⅻ",
    "²",
    "①",
    "1²",
    "kit_²",
    "voorgesteld",
    "gekozen",
    "gerealiseerd",
    "geparkeerd",
    "proposed",
    "realised",
    "en",
    "nl",
    "xx",
    "tot",
    "morgen",
    "morgen 19:30",
    "31-02-2025",
    "2999-01-01 10:00",
    "gisteren",
    "vandaag 25:61",
    "nudge_days",
    "quiet_hours",
    "identiteit",
    "ja",
    "nee",
    "groen",
]
arg = st.one_of(
    st.sampled_from(ARG_WORDS),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(FRAGMENTS),
    st.text(chars, min_size=1, max_size=8),
    st.sampled_from(["x" * 10_000, "<b>" * 1_000]),
)
args = st.lists(arg, max_size=5).flatmap(
    lambda xs: st.sampled_from([" ", " | ", "|", "\n"]).map(lambda sep: sep.join(xs))
)


def command_text(names: list[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda name, suffix, sep, rest: f"/{name}{suffix}{sep}{rest}".rstrip(" "),
        st.sampled_from(names),
        st.sampled_from(SUFFIXES),
        st.sampled_from(SEPARATORS),
        args,
    )


any_command = command_text(NAMES)
facilitator_command = st.one_of(
    command_text(FACILITATOR_NAMES),
    # /stemming with arguments drafts a vote: facilitators only
    st.builds(lambda c, a: f"/{c} {a}x", st.sampled_from(["stemming", "poll"]), args),
)
NUMBERISH = ["1", "2", "3", "#1", "#2", "0", "-1", str(10**30), "٣", "1.5", "1,2", "1-2"]
facilitator_args = st.lists(
    st.one_of(st.sampled_from(NUMBERISH + ARG_WORDS), st.sampled_from(FRAGMENTS)), max_size=5
).flatmap(lambda xs: st.sampled_from([" ", " | ", "|"]).map(lambda sep: sep.join(xs)))
facilitator_at_work = st.builds(
    lambda name, suffix, rest: f"/{name}{suffix} {rest}".rstrip(" "),
    st.sampled_from([*FACILITATOR_NAMES, "stemming", "poll", "status", "thema"]),
    st.sampled_from(["", "", f"@{BOT_USERNAME}"]),
    facilitator_args,
)
# What a resident might press to steer things: real kinds, real-looking ids.
steering_press = st.builds(
    lambda kind, fields: ":".join(["1", kind, *fields]),
    st.sampled_from(
        [
            "stm",
            "stv",
            "stb",
            "prm",
            "plk",
            "pok",
            "pno",
            "mok",
            "mno",
            "anc",
            "pg1",
            "pg2",
            "park",
            "cfc",
            "wf",
            "taal",
            "pinv",
            "nwy",
            "nwn",
        ]
    ),
    st.lists(
        st.sampled_from(
            ["0", "1", "2", "3", "realised", "selected", "parked", "withdrawn", "group"]
        ),
        max_size=2,
    ),
)

WHO = st.sampled_from(["admin", "anna", "bert"])
# (kind, who, text, where): where 0 = the group, 1 = Anna's private chat
message_action = st.tuples(
    st.sampled_from(["say", "say", "cmd", "cmd", "cmd", "edit", "reply"]),
    WHO,
    st.one_of(hostile_text, any_command),
    st.integers(0, 1),
)

callback_data = st.one_of(
    st.text(chars, max_size=64).filter(lambda s: len(s.encode()) <= 64),
    st.builds(
        lambda kind, fields: ":".join(["1", kind, *fields])[:64],
        st.sampled_from(
            [
                "sup",
                "join",
                "champ",
                "cfc",
                "stm",
                "stb",
                "stv",
                "pg",
                "show",
                "dup",
                "new",
                "mok",
                "mno",
                "mtx",
                "rsvp",
                "ics",
                "ask",
                "prm",
                "ptn",
                "plk",
                "park",
                "nonudge",
                "mtg",
                "wf",
                "taal",
                "nm",
                "ct",
                "anc",
                "atx",
                "fgy",
                "fgn",
                "pg1",
                "pg2",
                "pok",
                "pno",
                "pinv",
                "nwy",
                "nwn",
                "x",
            ]
        ),
        st.lists(
            st.one_of(
                st.sampled_from(
                    ["1", "2", "0", "-1", "999999", "hacked", "", "nl", "en", "yes", "²", "①"]
                ),
                st.integers(-(10**20), 10**20).map(str),
                st.text(chars, max_size=8).filter(lambda s: ":" not in s),
            ),
            max_size=4,
        ),
    ).filter(lambda s: len(s.encode()) <= 64),
    st.sampled_from(
        ["1:sup:999999", "1:sup:-1", "1:stv:1:hacked", "1:x:" + "y" * 60, "2:sup:1", ":", "1:"]
    ),
)


# -- the stage for one example ----------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Scene:
    bot: Harness
    world: World
    errors: _Collect
    queries: list[str] = field(default_factory=list)
    posted: list[tuple[int, int, int]] = field(default_factory=list)  # chat, message, user
    unknown: int = 0  # a group the bot is in without having been told

    @property
    def tg(self) -> FakegramClient:
        return self.bot.tg

    def user(self, who: str) -> int:
        return {"admin": self.world.admin, "anna": self.world.anna, "bert": self.world.bert}[who]

    async def post(self, chat: int, user: int, text: str, **kwargs: Any) -> JSON:
        update = await self.tg.send_message(chat, user, text, **kwargs)
        self.posted.append((chat, int(update["message"]["message_id"]), user))
        return update

    async def press(self, chat: int, message_id: int, user: int, data: str) -> None:
        update = await self.tg.press_button(chat, message_id, user, data=data)
        self.queries.append(str(update["callback_query"]["id"]))

    async def bot_message(self, chat: int) -> int:
        messages = await self.tg.messages(chat)
        assert messages, f"the bot sent nothing to {chat}"
        return int(messages[-1]["message_id"])

    async def check(self, what: object) -> None:
        """Everything queued is handled; no error, no apology, no refused HTML, all answered."""
        await self.bot.settle()
        logged = [r.getMessage()[:300] for r in self.errors.records]
        assert not logged, f"errors logged for {what!r}: {logged}"
        for chat in (self.world.group, self.world.anna):
            for text in await self.bot.texts(chat):
                assert not text.startswith(APOLOGIES), f"apology in {chat} for {what!r}"
        refused = [
            (c["method"], c.get("description"))
            for c in await self.tg.calls()
            if not c.get("ok")
            and any(
                w in str(c.get("description")).lower()
                for w in ("parse entities", "too long", "too_long", "text must be non-empty")
            )
        ]
        assert not refused, f"Bot API refused {refused} for {what!r}"
        for query_id in self.queries:
            assert await self.tg.callback_answer(query_id) is not None, (
                f"callback query {query_id} unanswered for {what!r}"
            )


@asynccontextmanager
async def scene(template: Path, title: str = "Wijk Oost") -> AsyncIterator[Scene]:
    errors = _Collect()
    loggers = [logging.getLogger(name) for name in ("buddybot.errors", "buddybot.charts")]
    for logger in loggers:
        logger.addHandler(errors)
    try:
        with TemporaryDirectory() as folder:
            url = dbs.copy_sqlite(template, Path(folder))
            async with (
                FakegramServer(token=TOKEN, bot_username=BOT_USERNAME) as server,
                FakegramClient(server.url) as tg,
            ):
                stage = Harness(
                    server,
                    tg,
                    local_settings(server, url, person_actions_per_minute=100_000),
                    FakeClock(),
                )
                await stage.start()
                try:
                    world = await World(stage).build(title=title)
                    await stage.handled(await tg.start_private(world.anna))
                    yield Scene(stage, world, errors)
                finally:
                    await stage.close()
    finally:
        for logger in loggers:
            logger.removeHandler(errors)


def run(template: Path, body: Any, what: object, *, title: str = "Wijk Oost") -> None:
    """One example: a fresh world, ``body`` sends the batch, then every check."""

    async def main() -> None:
        async with scene(template, title) as s:
            await body(s)
            await s.check(what)

    asyncio.run(main())


# -- properties -------------------------------------------------------------------------------


@FUZZ
@given(batch=st.lists(message_action, min_size=10, max_size=30))
def test_hostile_messages_and_commands_never_break_the_bot(
    _sqlite_template: Path, batch: list[tuple[str, str, str, int]]
) -> None:
    async def body(s: Scene) -> None:
        for kind, who, text, where in batch:
            user = s.user(who)
            chat = s.world.group if where == 0 else s.world.anna
            if chat == s.world.anna:
                user = s.world.anna
            if kind == "edit" and s.posted:
                chat, message_id, user = s.posted[len(text) % len(s.posted)]
                await s.tg.send_edited(chat, message_id, user, text)
            elif kind == "reply":
                reply_to = await s.bot_message(chat)
                await s.post(chat, user, text, reply_to=reply_to)
            else:
                await s.post(chat, user, text)

    run(_sqlite_template, body, batch)


def _raw(s: Scene, kind: str, text: str, where: str, who: str) -> JSON:
    chat_id = {"group": s.world.group, "private": s.world.anna, "unknown": s.unknown}[where]
    if where == "private":
        in_chat = shapes.chat(chat_id, "private", first_name="Anna", username="anna")
        who = "anna"
    else:
        title = "Wijk Oost" if where == "group" else "Wijk West"
        in_chat = shapes.chat(chat_id, "group", title=title)
    sender = shapes.user(s.user(who), who.title(), language_code="nl")
    stranger = shapes.user(990_000_001, "Vreemde", username="vreemd")
    channel = shapes.chat(-1_009_999_999, "channel", title="Kanaal")
    date = 1_700_000_000
    m: JSON = {"message_id": 900_000 + len(text), "date": date, "in_chat": in_chat}
    payload: JSON
    match kind:
        case "no_from":
            payload = shapes.message(**m, text=text)
        case "sender_chat":
            payload = shapes.message(
                **m, from_user=shapes.group_anonymous_bot(), sender_chat=in_chat, text=text
            )
        case "channel_post":
            return {"channel_post": shapes.message(**{**m, "in_chat": channel}, text=text)}
        case "edited_channel_post":
            return {
                "edited_channel_post": shapes.message(
                    **{**m, "in_chat": channel}, text=text, edit_date=date + 5
                )
            }
        case "edited_no_from":
            return {"edited_message": shapes.message(**m, text=text, edit_date=date + 5)}
        case "edited":
            return {
                "edited_message": shapes.message(
                    **m, from_user=sender, text=text, edit_date=date + 5
                )
            }
        case "joined":
            payload = shapes.message(**m, from_user=sender, new_chat_members=[stranger, sender])
        case "left":
            payload = shapes.message(**m, from_user=sender, left_chat_member=stranger)
        case "pinned":
            inner = shapes.message(1, date, in_chat, from_user=sender, text=text)
            payload = shapes.message(**m, from_user=sender, pinned_message=inner)
        case "title":
            payload = shapes.message(**m, from_user=sender, new_chat_title=text[:128] or "x")
        case "photo_title":
            payload = shapes.message(**m, from_user=sender, delete_chat_photo=True)
        case "caption":
            payload = shapes.message(
                **m,
                from_user=sender,
                caption=text[:1024],
                photo=shapes.photo_sizes("f1", "u1", 100),
            )
        case "command_no_from":
            payload = shapes.message(
                **m,
                text="/idee " + text,
                entities=[{"type": "bot_command", "offset": 0, "length": 5}],
            )
        case _:
            raise AssertionError(kind)
    return {"message": payload}


RAW_KINDS = [
    "no_from",
    "sender_chat",
    "channel_post",
    "edited_channel_post",
    "edited_no_from",
    "edited",
    "joined",
    "left",
    "pinned",
    "title",
    "photo_title",
    "caption",
    "command_no_from",
]
raw_action = st.tuples(
    st.sampled_from(RAW_KINDS),
    st.one_of(hostile_text, any_command),
    # "unknown": a group the bot is in but never heard of (its join update was lost)
    st.sampled_from(["group", "group", "group", "private", "unknown"]),
    WHO,
)


@FUZZ
@given(batch=st.lists(raw_action, min_size=10, max_size=30))
def test_raw_service_and_sender_less_updates_never_break_the_bot(
    _sqlite_template: Path, batch: list[tuple[str, str, str, str]]
) -> None:
    async def body(s: Scene) -> None:
        assert s.bot.app is not None
        s.unknown = await s.tg.create_group(
            "Wijk West", creator=s.world.admin, members=[s.world.bert, s.bot.app.bot.id]
        )
        for kind, text, where, who in batch:
            await s.tg.send_raw_update(_raw(s, kind, text, where, who))

    run(_sqlite_template, body, batch)


press_action = st.tuples(callback_data, WHO, st.sampled_from(["card", "greeting", "private"]))


@FUZZ
@given(batch=st.lists(press_action, min_size=10, max_size=30))
def test_random_callback_data_is_always_answered(
    _sqlite_template: Path, batch: list[tuple[str, str, str]]
) -> None:
    async def body(s: Scene) -> None:
        group = s.world.group
        greeting = await s.bot_message(group)
        await s.bot.say(group, s.world.admin, "/idee Moestuin op het plein")
        card = await s.bot_message(group)
        private = await s.bot_message(s.world.anna)
        for data, who, where in batch:
            if where == "private":
                await s.press(s.world.anna, private, s.world.anna, data)
            else:
                await s.press(group, card if where == "card" else greeting, s.user(who), data)

    run(_sqlite_template, body, batch)


def _owned(s: Scene) -> JSON:
    """What facilitators own in the wijk: rows and the fields a refused command could touch."""
    with s.bot.db.transaction() as uow:
        q = uow.session
        wijk = q.scalar(select(Wijk).where(Wijk.tg_chat_id == s.world.group))
        assert wijk is not None
        counts = {
            model.__tablename__: q.scalar(select(func.count()).select_from(model))
            for model in (
                Idea,
                Meeting,
                Poll,
                Partner,
                Announcement,
                IdeaPartner,
                Involvement,
                PartnerInvite,
            )
        }
        return {
            "counts": counts,
            "ideas": (q.execute(select(Idea.number, Idea.status, Idea.hidden))).all(),
            "meetings": (
                q.execute(select(Meeting.number, Meeting.status, Meeting.starts_at))
            ).all(),
            "polls": (q.execute(select(Poll.number, Poll.status, Poll.deadline))).all(),
            # Who holds a role above resident. A resident's own first press (the status
            # menu's "back" is open to everyone) records them as a resident: not a change.
            "roles": (
                q.execute(
                    select(Membership.person_id, Membership.role).where(
                        Membership.role != "resident"
                    )
                )
            ).all(),
            "wijk": (wijk.language, wijk.settings, wijk.profile, wijk.active),
            "partner_accounts": q.execute(select(Partner.name, Partner.person_id)).all(),
            "news": q.scalar(
                select(func.count()).select_from(IdeaEvent).where(IdeaEvent.kind == "update")
            ),
        }


resident_try = st.one_of(
    facilitator_command.map(lambda text: ("say", text)),
    steering_press.map(lambda data: ("press", data)),
)


@FUZZ
@given(batch=st.lists(resident_try, min_size=10, max_size=25))
def test_a_resident_cannot_change_what_facilitators_own(
    _sqlite_template: Path, batch: list[tuple[str, str]]
) -> None:
    async def body(s: Scene) -> None:
        group, admin = s.world.group, s.world.admin
        for text in ("/idee Moestuin op het plein", "/idee Bankje bij de bushalte"):
            await s.bot.say(group, admin, text)
        await s.bot.say(group, admin, "/partner Buurthuis | groen | ruimte | info@buurthuis.nl")
        await s.bot.say(group, admin, "/koppel 1 Buurthuis")
        await s.bot.settle()
        before = _owned(s)
        assert before["counts"]["idea"] == 2 and before["counts"]["partner"] == 1, before
        assert before["counts"]["idea_partner"] == 1, before
        card = await s.bot_message(group)
        for i, (kind, text) in enumerate(batch):
            # Bert (a plain resident) tries it; every third message as a reply to the bot
            if kind == "press":
                await s.press(group, card, s.world.bert, text)
            else:
                await s.post(group, s.world.bert, text, reply_to=card if i % 3 == 2 else None)
        await s.bot.settle()
        assert _owned(s) == before

    run(_sqlite_template, body, batch)


@FUZZ
@given(batch=st.lists(facilitator_at_work, min_size=10, max_size=25))
def test_facilitator_commands_with_odd_arguments_never_break_the_bot(
    _sqlite_template: Path, batch: list[str]
) -> None:
    async def body(s: Scene) -> None:
        group, admin = s.world.group, s.world.admin
        await s.bot.say(group, admin, "/idee Moestuin op het plein")
        await s.bot.say(group, admin, "/partner Buurthuis | groen | ruimte | info@buurthuis.nl")
        for text in batch:
            await s.post(group, admin, text)

    run(_sqlite_template, body, batch)


dollar_text = (
    st.lists(
        st.one_of(
            st.sampled_from(["$", "$x^$", "$\\foo$", "\\$", "^", "_", "{", "}", "\\"]),
            st.text(chars, max_size=4),
        ),
        min_size=1,
        max_size=8,
    )
    .map("".join)
    .filter(lambda s: "\n" not in s and "|" not in s)
)


IDEA_BASES = ["Moestuin achter de school", "Bankjes bij de vijver", "Kerstmarkt op het plein"]


@FUZZ
@given(titles=st.lists(dollar_text, min_size=2, max_size=3), group_title=dollar_text)
def test_dollars_in_titles_never_break_a_vote_or_the_wijkfoto(
    _sqlite_template: Path, titles: list[str], group_title: str
) -> None:
    """Ideas and a group named with ``$``: the vote closes with its result, chart and
    champion call, and /wijkfoto sends its figures and charts."""

    async def body(s: Scene) -> None:
        group, admin = s.world.group, s.world.admin
        for base, title in zip(IDEA_BASES, titles, strict=False):
            await s.bot.say(group, admin, f"/idee {base} {title}")
        numbers = " ".join(str(i + 1) for i in range(len(titles)))
        await s.bot.say(group, admin, f"/stemming {numbers}")
        poll = next(m["poll"] for m in await s.tg.messages(group) if m.get("poll"))
        await s.tg.vote(poll["id"], s.world.anna, [0])
        await s.bot.settle()
        await s.bot.say(group, admin, "/sluitstemming 1")
        texts = await s.bot.texts(group)
        assert any(t.startswith("🗳 Uitslag") for t in texts), texts
        assert any("Wie wil dit idee trekken" in t for t in texts), texts
        before = len(await s.tg.messages(group))
        await s.bot.say(group, admin, "/wijkfoto")
        sent = (await s.tg.messages(group))[before:]
        assert sum(1 for m in sent if m.get("photo")) == 3, sent

    run(_sqlite_template, body, (titles, group_title), title=f"Wijk {group_title}")


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("admin", "/instellingen :"),
        ("bert", "/settings \u200bnudges 3"),
        ("admin", "/settings -1"),
        ("admin", "/stemming ²"),
        ("admin", "/poll #① 1"),
        ("admin", "/instellingen max ²"),
        ("admin", "/partner Buurthuis | " + "x" * 5000 + " | ruimte | -"),
        ("admin", "/thema 1 " + "x" * 5000),
        # the same commands, well-formed or refused in words: no crash
        ("admin", "/instellingen max 2"),
        ("bert", "/stemming ²"),
        ("bert", "/instellingen max ²"),
    ],
)
def test_known_crashes(_sqlite_template: Path, who: str, text: str) -> None:
    """Each input alone: the bot answers in words, logs no error and does not apologise."""

    async def body(s: Scene) -> None:
        await s.bot.say(s.world.group, s.world.admin, "/idee Moestuin op het plein")
        await s.post(s.world.group, s.user(who), text)

    run(_sqlite_template, body, text)


# -- partner links, pending champions and private-chat buttons (issue 22) -------------------

START_PREFIXES = ["ptn_", "p", "p1_", "kit_", "ptn_ptn_", ""]
start_payload = st.one_of(
    st.builds(
        lambda prefix, rest: (prefix + rest)[:64],
        st.sampled_from(START_PREFIXES),
        st.one_of(
            st.text(st.sampled_from("AZaz09_-"), min_size=0, max_size=30),
            st.text(chars, max_size=30),
            st.sampled_from(["A" * 22, "0" * 22, "-" * 22, "²" * 22, "1", "999999"]),
        ),
    ),
    hostile_text.map(lambda s: s[:64]),
)
# (who, what): a start payload in private, a press in private (their own chat) or in the group
takeover_try = st.one_of(
    st.tuples(st.sampled_from(["anna", "bert"]), start_payload.map(lambda p: ("start", p))),
    st.tuples(
        st.sampled_from(["anna", "bert"]),
        st.one_of(steering_press, callback_data).map(lambda d: ("private", d)),
    ),
    st.tuples(st.sampled_from(["anna", "bert"]), steering_press.map(lambda d: ("group", d))),
)


def _accounts(s: Scene) -> JSON:
    with s.bot.db.transaction() as uow:
        q = uow.session
        return {
            "accounts": q.execute(select(Partner.name, Partner.person_id)).all(),
            "invites": q.execute(select(PartnerInvite.id, PartnerInvite.used_at)).all(),
            "ideas": q.execute(select(Idea.number, Idea.status, Idea.hidden)).all(),
            "news": q.scalar(
                select(func.count()).select_from(IdeaEvent).where(IdeaEvent.kind == "update")
            ),
        }


@FUZZ
@given(batch=st.lists(takeover_try, min_size=10, max_size=25))
def test_nobody_takes_over_a_partner_or_acts_as_a_pending_champion(
    _sqlite_template: Path, batch: list[tuple[str, tuple[str, str]]]
) -> None:
    """A facilitator has a live partner invitation in private; Bert is a pending champion
    of #1 and helps with it. Random deep links, and steering or random buttons pressed in
    private and in the group, by Anna and Bert, never link a partner account, never use
    the invitation, never park or move an idea and never post news. The real link still
    works afterwards (so the batch could have used it)."""

    async def body(s: Scene) -> None:
        group, admin = s.world.group, s.world.admin
        with s.bot.db.transaction() as uow:
            wijk = uow.session.scalar(select(Wijk).where(Wijk.tg_chat_id == group))
            assert wijk is not None
            wijk.settings = {"champion_confirmation": True}
        await s.bot.say(group, s.world.anna, "/idee Moestuin op het plein")
        await s.bot.say(group, s.world.bert, "/kampioen 1")
        await s.bot.say(group, admin, "/partner Buurthuis | groen | ruimte | info@buurthuis.nl")
        partner_card = await s.bot_message(group)
        await s.bot.handled(await s.tg.start_private(admin))
        await s.bot.handled(await s.tg.start_private(s.world.bert))
        await s.bot.press(group, partner_card, admin, text="🔗 Uitnodiging voor de partner")
        link = (await s.bot.texts(admin))[-1]
        assert "start=ptn_" in link, link
        payload = link.split("start=")[1].split()[0]
        card = partner_card
        before = _accounts(s)
        for who, (where, text) in batch:
            user = s.user(who)
            if where == "start":
                update = await s.tg.start_private(user, payload=text or None)
                s.posted.append((user, int(update["message"]["message_id"]), user))
            elif where == "private":
                await s.press(user, await s.bot_message(user), user, text)
            else:
                await s.press(group, card, user, text)
        await s.bot.settle()
        assert _accounts(s) == before
        # The real invitation was never used up by the batch: it links its opener now.
        carla = await s.tg.create_user("Carla")
        await s.bot.handled(await s.tg.start_private(carla, payload=payload))
        with s.bot.db.transaction() as uow:
            linked = uow.session.scalar(select(Partner.person_id))
            carla_id = uow.session.scalar(select(Person.id).where(Person.tg_user_id == carla))
        assert linked is not None and linked == carla_id

    run(_sqlite_template, body, batch)


# -- what the bot hands out: CSV and calendar files ---------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
INJECTIONS = [
    '=HYPERLINK("http://evil.example","klik")',
    "=1+1",
    "+31",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\nBEGIN:VEVENT\nSUMMARY:evil\nEND:VEVENT\n",
    "\r\nEND:VCALENDAR\r\n",
    "\u2028BEGIN:VALARM",
    "\x85ATTACH:x",
    ";",
    ",",
    ":",
    "\\n",
    '"',
]
field_text = st.lists(
    st.one_of(st.sampled_from(INJECTIONS), st.sampled_from(FRAGMENTS), st.text(chars, max_size=6)),
    min_size=1,
    max_size=6,
).map(lambda parts: "".join(parts).replace("|", "/")[:150])


def _cells(archive: zipfile.ZipFile) -> dict[str, list[str]]:
    return {
        name: [c for row in csv.reader(io.StringIO(archive.read(name).decode())) for c in row]
        for name in archive.namelist()
    }


@FUZZ
@given(idea=field_text, partner=field_text, place=field_text, title=field_text, details=field_text)
def test_hostile_text_stays_data_in_the_export_and_the_calendar_file(
    _sqlite_template: Path, idea: str, partner: str, place: str, title: str, details: str
) -> None:
    async def body(s: Scene) -> None:
        group, admin = s.world.group, s.world.admin
        await s.tg.start_private(admin)
        await s.post(group, s.world.anna, f"/idee Plan {idea}")
        await s.post(group, admin, f"/partner {partner} | groen | {details} | {place}")
        await s.post(group, admin, f"/bijeenkomst vrijdag 19:30 | {place} | {title} | {details}")
        await s.bot.settle()
        draft = (await s.tg.messages(group))[-1]
        if draft.get("reply_markup") and "Klopt dit?" in draft.get("text", ""):
            ok = draft["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            await s.press(group, draft["message_id"], admin, ok)
            await s.bot.settle()
            card = [m for m in await s.tg.messages(group) if m.get("text", "").startswith("📢")]
            agenda = card[-1]["reply_markup"]["inline_keyboard"][-1][-1]["callback_data"]
            await s.press(group, card[-1]["message_id"], admin, agenda)
            await s.bot.settle()
            sent = (await s.tg.messages(admin))[-1]
            data = await s.tg.document(admin, sent["message_id"])
            lines = data.decode("utf-8").replace("\r\n ", "").splitlines()
            begins = [line for line in lines if line.startswith(("BEGIN:", "END:"))]
            assert begins.count("BEGIN:VEVENT") == 1 and begins.count("END:VCALENDAR") == 1, lines
            assert not [line for line in lines if line.startswith(("ATTACH", "BEGIN:VALARM"))]
            (event,) = Calendar.from_ical(data).walk("VEVENT")
            with s.bot.db.transaction() as uow:
                stored = uow.session.scalars(select(Meeting)).one()
            control = r"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f]"
            assert str(event["SUMMARY"]) == re.sub(control, "", stored.title)
        await s.post(group, admin, "/export")
        await s.bot.settle()
        sent = (await s.tg.messages(admin))[-1]
        archive = zipfile.ZipFile(io.BytesIO(await s.tg.document(admin, sent["message_id"])))
        for name, cells in _cells(archive).items():
            live = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
            assert not live, f"{name} holds live formulas: {live}"

    run(_sqlite_template, body, (idea, partner, place, title, details))
