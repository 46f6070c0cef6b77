"""Restart chaos: SIGKILL the bot process at random moments of a busy day, restart it,
and check that every scheduled message went out exactly once and no vote or RSVP was lost.

The bot runs as a separate process (``tests.support.chaos_bot``) against fakegram, which runs
in this process; time is a file both sides read (see ``chaos_bot.FileClock``). Works on
SQLite (the default) and on PostgreSQL (``BUDDYBOT_TEST_DB=postgresql``).

The CI variant kills the bot 3 times; ``pytest -m chaos`` runs the full one (20 kills).
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import select

from buddybot.clock import FakeClock
from buddybot.fakegram import FakegramClient, FakegramServer
from buddybot.stage import BOT_USERNAME, TOKEN
from buddybot.storage.db import Database
from buddybot.storage.models import (
    DueItem,
    Idea,
    Meeting,
    Nudge,
    Person,
    Poll,
    PollVote,
    Rsvp,
)
from tests.support.chaos_bot import write_clock

JSON = dict[str, Any]
ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # Friday 11:00 in Amsterdam
END = T0 + timedelta(hours=44)  # Sunday 06:00 UTC: everything below is due by then
AFTER_RESTART = timedelta(minutes=10)  # > claim lease (1 min) and the nudge lease (5 min)

MEETINGS = [  # (when, local time, title); reminders 24 h and 2 h before, follow-up 3 h after
    ("2026-11-28 12:00", "Koffieochtend", datetime(2026, 11, 28, 11, 0, tzinfo=UTC)),
    ("2026-11-28 19:30", "Startavond", datetime(2026, 11, 28, 18, 30, tzinfo=UTC)),
]
ANNOUNCEMENTS = [
    ("2026-11-27 16:00", "Eerste bericht over de container"),
    ("2026-11-28 10:00", "Tweede bericht over de markt"),
    ("2026-11-28 23:00", "Derde bericht over de kerstboom"),
]
IDEAS = ["Moestuin", "Speeltuin opknappen", "Bankjes", "Bloembakken", "Zebrapad"]
POLL_A_DEADLINE = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)  # 14:00 local
POLL_B_DEADLINE = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)  # 21:00 local


async def wait_until(
    what: str, check: Callable[[], Awaitable[bool]], limit: float = 20.0, step: float = 0.02
) -> None:
    """Poll ``check`` (it waits on a real separate process) until true or ``limit``."""
    deadline = time.monotonic() + limit
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit}s waiting for {what}")
        await asyncio.sleep(step)


class BotProcess:
    """``python -m tests.support.chaos_bot`` — started, SIGKILLed and started again."""

    def __init__(self, args: list[str], log: IO[bytes]) -> None:
        self.args = args
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.chaos_bot",
            *self.args,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log,
        )
        assert self.proc.stdout is not None
        async with asyncio.timeout(30):
            line = await self.proc.stdout.readline()
        assert line.strip() == b"ready", f"bot did not start: {line!r}, see {self.log.name}"
        self.starts += 1

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()
        self.proc = None


@dataclass
class Day:
    """The scripted neighbourhood and what the residents did."""

    tg: FakegramClient
    db: Database
    group: int = 0
    admin: int = 0
    residents: list[int] = field(default_factory=list)
    rsvps: dict[tuple[int, int], str] = field(default_factory=dict)  # (meeting, user) → y/m/n
    open_votes: dict[int, list[int]] = field(default_factory=dict)  # user → options (poll B)
    anon_counts: list[int] = field(default_factory=lambda: [0, 0, 0])  # poll A
    poll_ids: dict[str, str] = field(default_factory=dict)
    meeting_ids: list[int] = field(default_factory=list)

    async def handled(self) -> None:
        """Wait until the bot has fetched every update and the residents' answers so far
        are in the database (not every update is recorded as handled; answers are)."""

        async def done() -> bool:
            return await self.tg.pending_updates() == 0 and await self.stored() == self.expected()

        await wait_until("the bot to fetch the updates and store the answers", done)

    def expected(self) -> tuple[Any, ...]:
        words = {"y": "yes", "m": "maybe", "n": "no"}
        rsvps = {key: words[a] for key, a in self.rsvps.items()}
        return rsvps, self.open_votes, self.anon_counts if self.poll_ids else None

    async def stored(self) -> tuple[Any, ...]:
        """RSVPs by (meeting index, user), open votes by user, anonymous counts."""
        with self.db.transaction() as uow:
            s = uow.session
            people = {p.id: p.tg_user_id for p in s.scalars(select(Person))}
            order = [m.id for m in s.scalars(select(Meeting).order_by(Meeting.id))]
            rsvps: dict[tuple[int, int], str] = {}
            rows = list(s.scalars(select(Rsvp)))
            for r in rows:
                rsvps[(order.index(r.meeting_id), people[r.person_id])] = r.answer
            if len(rows) != len(rsvps):
                rsvps[(-1, -1)] = f"{len(rows)} rows"  # a duplicate row never matches
            polls = {p.number: p for p in s.scalars(select(Poll))}
            votes: dict[int, list[int]] = {}
            if 2 in polls:
                vote_rows = list(s.scalars(select(PollVote).where(PollVote.poll_id == polls[2].id)))
                votes = {people[v.person_id]: list(v.option_ids) for v in vote_rows}
                if len(vote_rows) != len(votes):
                    votes[-1] = [len(vote_rows)]
        return rsvps, votes, (list(polls[1].counts) if 1 in polls else None)

    async def texts(self, chat: int) -> list[str]:
        return [str(m.get("text") or m.get("caption") or "") for m in await self.tg.messages(chat)]

    async def say(self, user: int, text: str, expect: str = "") -> None:
        """Post as ``user`` and wait for a bot message containing ``expect``."""
        before = len(await self.tg.messages(self.group))
        await self.tg.send_message(self.group, user, text)

        async def answered() -> bool:
            return any(expect in t for t in (await self.texts(self.group))[before:])

        await wait_until(f"{expect!r} after {text!r}", answered)

    async def rsvp(self, meeting: int, user: int, answer: str) -> None:
        await self.tg.press_button(
            self.group, self.meeting_ids[meeting], user, data=f"1:rsvp:{meeting + 1}:{answer}"
        )
        self.rsvps[(meeting, user)] = answer

    async def vote_open(self, user: int, options: list[int]) -> None:
        await self.tg.vote(self.poll_ids["B"], user, options)
        self.open_votes[user] = options

    async def vote_anon(self, user: int, option: int) -> None:
        await self.tg.vote(self.poll_ids["A"], user, [option])
        self.anon_counts[option] += 1


async def script_the_day(day: Day) -> list[tuple[datetime, Callable[[], Awaitable[None]]]]:
    """Build the wijk and plan the day before the chaos; returns what residents do during
    it, each with the time before which it must happen."""
    tg = day.tg
    day.admin = await tg.create_user("Fatima", username="fatima")
    day.residents = [
        await tg.create_user(name) for name in ["Anna", "Bert", "Chris", "Dewi", "Emre"]
    ]
    anna, bert, chris, dewi, emre = day.residents
    day.group = await tg.create_group("Wijk Oost", creator=day.admin, members=day.residents)
    await tg.add_bot(day.group, by=day.admin, admin=True)
    for user in [day.admin, *day.residents]:
        await tg.start_private(user)
    await day.handled()
    for user in day.residents:
        await tg.send_message(day.group, user, "hoi")  # the bot knows them

    async def known() -> bool:
        with day.db.transaction() as uow:
            ids = set(uow.session.scalars(select(Person.tg_user_id)))
        return ids >= {day.admin, *day.residents}

    await wait_until("the bot to know everyone", known)
    # Quiet hours that hardly matter, a first rung after 12 hours, no daily cap in the way.
    await day.say(day.admin, "/instellingen stilte 03:00-03:01")
    await day.say(day.admin, "/instellingen na 0,5")
    await day.say(day.admin, "/instellingen max 10")
    for title in IDEAS:
        await day.say(anna, f"/idee {title}", title)

    for when, title, _ in MEETINGS:
        await day.say(day.admin, f"/bijeenkomst {when} | Buurthuis | {title}", "Klopt dit?")
        draft = (await tg.messages(day.group))[-1]
        await tg.press_button(day.group, draft["message_id"], day.admin, text="✅ Klopt")
        await day.handled()

        async def posted(title: str = title) -> bool:
            return any(t.startswith("📢") and title in t for t in await day.texts(day.group))

        await wait_until(f"meeting card {title}", posted)
        cards = [m for m in await tg.messages(day.group) if m["text"].startswith("📢")]
        card = next(m for m in cards if title in m["text"])
        day.meeting_ids.append(int(card["message_id"]))
    for user, answer in zip(day.residents, "ymyny", strict=True):
        await day.rsvp(0, user, answer)
    for user, answer in zip(day.residents[:4], "yymy", strict=True):
        await day.rsvp(1, user, answer)
    await day.handled()

    for when, text in ANNOUNCEMENTS:
        await day.say(day.admin, f"/aankondiging {when} | {text}", "Ik plaats dit op")

    await day.say(
        day.admin, "/stemming Wat eten we? | soep | salade | stamppot tot 2026-11-28 14:00",
        "Stemmen kan tot",
    )  # fmt: skip
    await day.say(
        day.admin,
        "/stemming open Welke avond? | dinsdag | woensdag | donderdag tot 2026-11-28 21:00",
        "open stemming",
    )
    polls = [m["poll"] for m in await tg.messages(day.group) if m.get("poll")]
    assert len(polls) == 2, await day.texts(day.group)
    day.poll_ids = {"A": polls[0]["id"], "B": polls[1]["id"]}
    for user, option in zip(day.residents, [0, 0, 1, 2, 0], strict=True):
        await day.vote_anon(user, option)
    for user, options in zip(day.residents[:4], [[1], [1], [0], [2]], strict=True):
        await day.vote_open(user, options)
    await day.handled()

    # Changed and late answers, sent at chaos time (often while the bot is down).
    async def bert_comes() -> None:
        await day.rsvp(0, bert, "y")

    async def emre_maybe() -> None:
        await day.rsvp(1, emre, "m")

    async def open_votes() -> None:
        await day.vote_open(emre, [1])
        await day.vote_open(chris, [1])

    async def admin_votes() -> None:
        await day.vote_anon(day.admin, 2)

    async def dewi_cannot() -> None:
        await day.rsvp(1, dewi, "n")

    return [
        (MEETINGS[1][2], bert_comes),
        (MEETINGS[0][2], emre_maybe),
        (POLL_B_DEADLINE, open_votes),
        (POLL_A_DEADLINE, admin_votes),
        (MEETINGS[0][2], dewi_cannot),
    ]


async def caught_up(day: Day, now: datetime) -> bool:
    """Nothing due is left undelivered, no update waits, every answer is stored."""
    with day.db.transaction() as uow:
        due = list(
            uow.session.scalars(
                select(DueItem.due_at).where(DueItem.status.in_(["pending", "claimed"]))
            )
        )
        quiet = list(
            uow.session.scalars(select(Idea.nudge_due_at).where(Idea.nudge_due_at.is_not(None)))
        )
    if any(_aware(d) <= now for d in [*due, *quiet]):
        return False
    return await day.tg.pending_updates() == 0 and await day.stored() == day.expected()


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass
class Report:
    kills: int
    steps: int
    problems: list[str]
    seconds: float


async def run_chaos_day(tmp_path: Path, database_url: str, *, kills: int, seed: int) -> Report:
    started = time.monotonic()
    rng = random.Random(seed)
    clock_file = tmp_path / "clock"
    write_clock(clock_file, T0)
    log_path = tmp_path / "bot.log"
    db = Database(database_url, FakeClock(T0), read_only=True)  # it only looks
    async with (
        FakegramServer(token=TOKEN, bot_username=BOT_USERNAME) as server,
        FakegramClient(server.url) as tg,
    ):
        bot_args = ["--db", database_url, "--api", server.api_base_url]
        bot_args += ["--files", server.file_base_url, "--clock", str(clock_file)]
        with log_path.open("wb") as log:
            bot = BotProcess(
                bot_args,
                log,
            )
            try:
                await bot.start()
                day = Day(tg, db)
                actions = await script_the_day(day)

                # The steps across the day, and at which of them the bot is killed.
                times: list[datetime] = []
                now = T0
                while now < END:
                    now = min(now + timedelta(minutes=rng.randint(30, 60)), END)
                    times.append(now)
                kill_at = set(rng.sample(range(len(times)), kills))
                todo: dict[int, list[Callable[[], Awaitable[None]]]] = {}
                for before, action in actions:
                    ok = [i for i, t in enumerate(times) if t < before - timedelta(hours=1)]
                    killed = [i for i in ok if i in kill_at]
                    todo.setdefault(min(killed) if killed else ok[-1], []).append(action)

                for i, now in enumerate(times):
                    write_clock(clock_file, now)
                    if i in kill_at:
                        await asyncio.sleep(rng.uniform(0.0, 0.3))
                        await bot.kill()
                        for action in todo.get(i, []):
                            await action()  # queued in fakegram while the bot is down
                        await bot.start()
                        now += AFTER_RESTART  # let the dead process's claims run out
                        write_clock(clock_file, now)
                    else:
                        for action in todo.get(i, []):
                            await action()
                    await wait_until(
                        f"the bot to catch up at {now}", lambda now=now: caught_up(day, now)
                    )
                now = END + AFTER_RESTART
                write_clock(clock_file, now)
                await wait_until("the bot to catch up at the end", lambda: caught_up(day, now))
                await _quiet(tg)
                problems = await _check(day)
            finally:
                await bot.kill()
                await db.dispose()
    if problems:
        problems.append(f"(bot log: {log_path})")
    return Report(kills, len(times), problems, time.monotonic() - started)


async def _quiet(tg: FakegramClient, still: float = 1.0) -> None:
    """Until no Bot API call (long polling aside) came for ``still`` s and no update waits."""
    assert await tg.wait_quiet(still=still, timeout=30), "the bot never went quiet"


def _exactly_once(problems: list[str], what: str, found: int) -> None:
    if found != 1:
        problems.append(f"{what}: sent {found} times")


async def _check(day: Day) -> list[str]:
    problems: list[str] = []
    anna = day.residents[0]
    group = await day.texts(day.group)
    firsts = Counter(t.split("\n", 1)[0] for t in group)

    # Reminders at 24 h and 2 h, the follow-up after the meeting.
    for _, title, _ in MEETINGS:
        for hours in (24, 2):
            line = f"⏰ Over {hours} uur: {title}"
            _exactly_once(problems, f"group reminder {line!r}", firsts[line])
            private = Counter(t.split("\n", 1)[0] for t in await day.texts(anna))
            _exactly_once(problems, f"Anna's reminder {line!r}", private[line])
            for user in day.residents[1:]:
                got = Counter(t.split("\n", 1)[0] for t in await day.texts(user))[line]
                if got > 1:
                    problems.append(f"reminder {line!r} to {user}: sent {got} times")
        follow = sum(f"Hoe was {title}?" in t for t in group)
        _exactly_once(problems, f"follow-up of {title}", follow)

    for _, text in ANNOUNCEMENTS:
        _exactly_once(problems, f"announcement {text!r}", group.count(f"📣 {text}"))

    for number in (1, 2):
        found = sum(t.startswith("🗳") and f"Uitslag stemming #{number}:" in t for t in group)
        _exactly_once(problems, f"result of vote #{number}", found)

    # Nudges: rung 1 in the group (combined), rung 2 to the author, rung 3 to the admin.
    admin_texts = await day.texts(day.admin)
    anna_texts = await day.texts(anna)
    for number, title in enumerate(IDEAS, start=1):
        tag = f"#{number} {title}"
        for rung, texts in ((1, group), (2, anna_texts), (3, admin_texts)):
            found = sum(t.startswith("💤") and tag in t for t in texts)
            _exactly_once(problems, f"nudge rung {rung} of {tag}", found)

    with day.db.transaction() as uow:
        s = uow.session
        people = {p.id: p.tg_user_id for p in s.scalars(select(Person))}
        meetings = {m.id: m.title for m in s.scalars(select(Meeting))}
        stored = {
            (list(meetings.values()).index(meetings[r.meeting_id]), people[r.person_id]): r.answer
            for r in s.scalars(select(Rsvp))
        }
        rsvp_rows = len(list(s.scalars(select(Rsvp))))
        polls = {p.number: p for p in s.scalars(select(Poll))}
        votes = list(s.scalars(select(PollVote)))
        nudges = Counter((n.idea_id, n.level) for n in s.scalars(select(Nudge)))
        ideas = list(s.scalars(select(Idea)))

    words = {"y": "yes", "m": "maybe", "n": "no"}
    expected_rsvps = {key: words[a] for key, a in day.rsvps.items()}
    if stored != expected_rsvps or rsvp_rows != len(expected_rsvps):
        problems.append(f"RSVPs: stored {stored} ({rsvp_rows} rows), expected {expected_rsvps}")
    if sorted(polls) != [1, 2] or any(p.status != "closed" for p in polls.values()):
        problems.append(f"polls not both closed: {[(n, p.status) for n, p in polls.items()]}")
    elif polls[1].counts != day.anon_counts:
        problems.append(f"anonymous poll counts {polls[1].counts}, expected {day.anon_counts}")
    stored_votes = {people[v.person_id]: v.option_ids for v in votes if v.poll_id == polls[2].id}
    open_rows = sum(v.poll_id == polls[2].id for v in votes)
    if stored_votes != day.open_votes or open_rows != len(day.open_votes):
        problems.append(f"open votes: stored {stored_votes}, expected {day.open_votes}")
    result_b = next((t for t in group if "Uitslag stemming #2:" in t), "")
    if "woensdag: 4 (80%)" not in result_b:
        problems.append(f"open vote result: {result_b!r}")
    if sorted(nudges.values()) != [1] * 15 or any(i.nudge_level != 3 for i in ideas):
        problems.append(f"nudge rows {dict(nudges)}, levels {[i.nudge_level for i in ideas]}")
    return problems


async def _run(tmp_path: Path, database_url: str, kills: int, seed: int) -> None:
    report = await run_chaos_day(tmp_path, database_url, kills=kills, seed=seed)
    print(
        f"restart chaos: seed {seed}, {report.kills} kills over {report.steps} steps, "
        f"{report.seconds:.1f}s, {len(report.problems)} problems"
    )
    assert not report.problems, "\n".join(report.problems)


async def test_restart_chaos_short(tmp_path: Path, database_url: str) -> None:
    """CI: the same busy day, killed 3 times."""
    await _run(tmp_path, database_url, kills=3, seed=1)


@pytest.mark.chaos
@pytest.mark.parametrize("seed", [7])
async def test_restart_chaos_full(tmp_path: Path, database_url: str, seed: int) -> None:
    """``pytest -m chaos``: killed 20 times at random moments."""
    await _run(tmp_path, database_url, kills=20, seed=seed)
