"""Bot replicas behind one webhook address, on one PostgreSQL database, and the checks that
each update is handled once and each due item delivered once.

In this process: a small round-robin balancer, the one webhook address, that forwards each
POST from fakegram to the next replica. Each replica is ``buddybot run`` in its own
process, in webhook mode, with its own tick. ``build_world`` makes groups with residents and
a first idea card each; ``run_load`` posts commands and support presses through fakegram,
then plans announcements due now, and reports what failed of the exactly-once checks.
Used by tests/scale/test_replicas.py and ``python -m benchmarks.replicas``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import cycle
from pathlib import Path
from typing import Any, Self, TypeVar

import psycopg
from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from buddybot.fakegram import FakegramClient, FakegramServer
from buddybot.fakegram.state import RecordedCall
from buddybot.storage.db import make_engine
from buddybot.storage.models import (
    Announcement,
    DueItem,
    Idea,
    Involvement,
    Person,
    ProcessedUpdate,
    Wijk,
)

JSON = dict[str, Any]
T = TypeVar("T")
TOKEN = "7000000001:buddybot-replicas"
SECRET = "replicas-bench-secret-of-32-characters"
HOOK_PATH = "/telegram"
TICK_SECONDS = 0.5
TICK_BATCH = 10
TITLES = [  # distinct enough that no proposal is taken for a duplicate of another
    "Moestuin achter de school",
    "Bankjes bij de vijver",
    "Buurtbieb in de oude telefooncel",
    "Zebrapad bij de bakker",
    "Kerstmarkt op het plein",
    "Repaircafe in het buurthuis",
    "Bloembakken langs de gracht",
    "Speeltuin opknappen",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the one webhook address ---------------------------------------------------------------


class Balancer:
    """Round-robin HTTP balancer: each POST goes to the next replica, with the secret header;
    the replica's status is passed back (a replica that is down answers 502, so Telegram, here
    fakegram, tries that update again later)."""

    def __init__(self, targets: list[str], host: str = "127.0.0.1") -> None:
        self.targets = targets
        self.host = host
        self._next = cycle(range(len(targets)))
        self._runner: web.AppRunner | None = None
        self._http: ClientSession | None = None
        self.port = 0
        self.accepted: Counter[int] = Counter()  # update id -> 2xx answers from a replica
        self.per_replica: Counter[int] = Counter()  # replica index -> updates accepted
        self.refused = 0
        self.seconds: list[float] = []  # each forwarded push: until the replica answered

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self.port = int(self._runner.addresses[0][1])
        self._http = ClientSession(timeout=ClientTimeout(total=30), connector=TCPConnector(limit=0))

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        index = next(self._next)
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")
        }
        started = time.perf_counter()
        try:
            async with self._http.post(
                self.targets[index] + request.path_qs, data=body, headers=headers
            ) as resp:
                status, answer = resp.status, await resp.read()
                content_type = resp.content_type
            self.seconds.append(time.perf_counter() - started)
        except (ClientError, TimeoutError):
            self.refused += 1
            return web.Response(status=502, text="replica unavailable")
        if 200 <= status < 300:
            self.accepted[int(json.loads(body)["update_id"])] += 1
            self.per_replica[index] += 1
        else:
            self.refused += 1
        return web.Response(status=status, body=answer, content_type=content_type)


# -- one replica: `buddybot run` in its own process -----------------------------------------


def replica_env(
    *,
    database_url: str,
    api: FakegramServer,
    webhook_url: str,
    port: int,
    tick: float,
    migrate_on_start: bool = False,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUDDYBOT_")}
    env.update(
        {
            "BUDDYBOT_TOKEN": TOKEN,
            "BUDDYBOT_DATABASE_URL": database_url,
            "BUDDYBOT_API_BASE_URL": api.api_base_url,
            "BUDDYBOT_API_FILE_URL": api.file_base_url,
            "BUDDYBOT_WEBHOOK_URL": webhook_url,
            "BUDDYBOT_WEBHOOK_SECRET": SECRET,
            "BUDDYBOT_LISTEN": "127.0.0.1",
            "BUDDYBOT_PORT": str(port),
            "BUDDYBOT_TICK_SECONDS": str(tick),
            # small batches, so the replicas' ticks overlap and compete for the same items
            "BUDDYBOT_TICK_BATCH": str(TICK_BATCH),
            "BUDDYBOT_MIGRATE_ON_START": "true" if migrate_on_start else "false",
            # fakegram does not enforce Telegram's flood limits here: measure the bot
            "BUDDYBOT_MESSAGES_PER_SECOND": "100000",
            "BUDDYBOT_GROUP_MESSAGES_PER_MINUTE": "1000000",
            "BUDDYBOT_PERSON_ACTIONS_PER_MINUTE": "100000",
            "BUDDYBOT_LOG_LEVEL": "INFO",
        }
    )
    return env


class Replica:
    """Started with ``buddybot run``; ready when it logs that it is running; its log is read
    all along (to count updates it saw twice, and to show why it died)."""

    READY = "buddybot is running as"

    def __init__(self, index: int, port: int, env: dict[str, str], workdir: Path) -> None:
        self.index = index
        self.port = port
        self.env = env
        self.workdir = workdir  # no stray .env is read from here
        self.proc: asyncio.subprocess.Process | None = None
        self.ready = asyncio.Event()
        self.tail: deque[str] = deque(maxlen=40)
        self.handled_before = 0  # "update N was handled before; ignored"
        self.errors = 0
        self._reader: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "buddybot.cli",
            "run",
            env=self.env,
            cwd=self.workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.tail.append(line)
            if self.READY in line:
                self.ready.set()
            elif "was handled before" in line:
                self.handled_before += 1
            elif " ERROR " in line:
                self.errors += 1

    async def wait_ready(self, limit: float) -> None:
        assert self.proc is not None
        waiter = asyncio.create_task(self.ready.wait())
        exited = asyncio.create_task(self.proc.wait())
        done, _ = await asyncio.wait({waiter, exited}, timeout=limit, return_when="FIRST_COMPLETED")
        waiter.cancel()
        exited.cancel()
        if not self.ready.is_set():
            why = "exited" if exited in done else f"not ready after {limit:.0f} s"
            raise RuntimeError(f"replica {self.index} {why}:\n" + "\n".join(self.tail))

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


class Cluster:
    """The balancer and ``n`` replicas in front of a running fakegram, on a migrated database.
    The replicas start all at once, as in a deployment (setWebhook and setMyCommands race)."""

    def __init__(
        self,
        server: FakegramServer,
        database_url: str,
        replicas: int,
        *,
        tick: float = TICK_SECONDS,
        migrate_on_start: bool = False,
    ) -> None:
        self.server = server
        self.database_url = database_url
        self.n = replicas
        self.tick = tick
        self.migrate_on_start = migrate_on_start
        self.balancer: Balancer | None = None
        self.replicas: list[Replica] = []
        self._workdir = tempfile.TemporaryDirectory(prefix="buddybot-replicas-")

    async def __aenter__(self) -> Self:
        try:
            ports = [free_port() for _ in range(self.n)]
            self.balancer = Balancer([f"http://127.0.0.1:{p}" for p in ports])
            await self.balancer.start()
            for i, port in enumerate(ports):
                env = replica_env(
                    database_url=self.database_url,
                    api=self.server,
                    webhook_url=self.balancer.url + HOOK_PATH,
                    port=port,
                    tick=self.tick,
                    migrate_on_start=self.migrate_on_start,
                )
                self.replicas.append(Replica(i, port, env, Path(self._workdir.name)))
            await asyncio.gather(*(r.start() for r in self.replicas))
            await asyncio.gather(*(r.wait_ready(60) for r in self.replicas))
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await asyncio.gather(*(r.stop() for r in self.replicas))
        if self.balancer is not None:
            await self.balancer.stop()
        self._workdir.cleanup()

    async def wait(self, what: str, check: Callable[[], bool], limit: float) -> None:
        """Wait on fakegram's state changes (no polling) until ``check()``."""
        if not await self.server.wait_until(check, limit):
            dead = [r for r in self.replicas if r.proc and r.proc.returncode is not None]
            tails = "".join(f"\nreplica {r.index}:\n" + "\n".join(r.tail) for r in dead)
            raise TimeoutError(f"timed out after {limit:.0f} s waiting for {what}{tails}")


# -- what the bot answered, from fakegram's record of its calls ----------------------------


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _reply_target(call: RecordedCall) -> tuple[int, int] | None:
    params = call.params
    chat = _int(params.get("chat_id"))
    target = params.get("reply_parameters")
    message_id = target.get("message_id") if isinstance(target, dict) else None
    if message_id is None:
        message_id = params.get("reply_to_message_id")
    if chat is None or message_id is None:
        return None
    return chat, int(message_id)


class Answers:
    """Reads fakegram's call record incrementally: replies per command message, answers per
    callback query, and messages that carry a marker text (announcements). ``expect`` names
    what to wait for; ``done()`` is cheap, so it can be checked on every state change."""

    def __init__(self, server: FakegramServer, token: str = TOKEN) -> None:
        self.server = server
        self.token = token
        self._seen = 0
        self.replies: Counter[tuple[int, int]] = Counter()
        self.first_reply: dict[tuple[int, int], float] = {}
        self.answers: Counter[str] = Counter()
        self.first_answer: dict[str, float] = {}
        self.markers: Counter[str] = Counter()
        self.marker_at: dict[str, float] = {}
        self._watch: set[str] = set()
        self._missing: set[object] = set()

    def expect(
        self,
        commands: Iterable[tuple[int, int]] = (),
        presses: Iterable[str] = (),
        markers: Iterable[str] = (),
    ) -> None:
        self.scan()
        self._watch |= set(markers)
        self._missing |= {k for k in commands if k not in self.replies}
        self._missing |= {q for q in presses if q not in self.answers}
        self._missing |= {m for m in markers if m not in self.markers}

    def done(self) -> bool:
        self.scan()
        return not self._missing

    def scan(self) -> None:
        calls = self.server.state.calls
        for call in calls[self._seen :]:
            if call.token != self.token or not call.ok:
                continue
            if call.method == "sendMessage":
                target = _reply_target(call)
                if target is not None:
                    self.replies[target] += 1
                    self.first_reply.setdefault(target, call.at)
                    self._missing.discard(target)
                if self._watch:
                    body = str(call.params.get("text", ""))
                    for marker in self._watch:
                        if marker in body:
                            self.markers[marker] += 1
                            self.marker_at.setdefault(marker, call.at)
                            self._missing.discard(marker)
            elif call.method == "answerCallbackQuery":
                qid = str(call.params.get("callback_query_id"))
                self.answers[qid] += 1
                self.first_answer.setdefault(qid, call.at)
                self._missing.discard(qid)
        self._seen = len(calls)


# -- the world and the load -----------------------------------------------------------------


@dataclass
class Group:
    chat_id: int
    creator: int
    members: list[int]
    card_message_id: int = 0
    support_data: str = ""
    turns: int = 0  # commands posted so far (the next one in the rotation)
    presses: int = 0  # presses so far (the next member to press)
    supporters: set[int] = field(default_factory=set)  # of the first idea, as pressed so far
    ideas: int = 1  # titles used so far (the seed is the first)


@dataclass
class Load:
    """What was posted: command messages (chat, message id) and presses (query id)."""

    commands: list[tuple[int, int]] = field(default_factory=list)
    presses: list[str] = field(default_factory=list)
    press_updates: list[int] = field(default_factory=list)  # the update id of each press
    update_ids: list[int] = field(default_factory=list)
    started: float = 0.0

    @property
    def size(self) -> int:
        return len(self.update_ids)


async def _bounded(limit: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs, at most ``limit`` at once (a client posting as fast as it can)."""
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(run(j) for j in jobs)))


async def build_world(
    cluster: Cluster, tg: FakegramClient, groups: int, members: int
) -> list[Group]:
    """``groups`` groups with a creator, ``members`` residents and the bot; each group gets one
    idea (a card to press). Waits until the bot posted every card."""
    size = members + 1
    people: list[int] = await _bounded(
        32, [partial(tg.create_user, f"Bewoner {i}") for i in range(groups * size)]
    )
    world = [
        Group(0, people[g * size], people[g * size + 1 : (g + 1) * size]) for g in range(groups)
    ]

    async def make(g: int, group: Group) -> JSON:
        group.chat_id = await tg.create_group(
            f"Wijk {g}", supergroup=True, creator=group.creator, members=group.members
        )
        await tg.add_bot(group.chat_id, by=group.creator)
        return await tg.send_message(group.chat_id, group.creator, f"/idee {TITLES[0]}")

    seeds: list[JSON] = await _bounded(32, [partial(make, g, grp) for g, grp in enumerate(world)])
    answers = Answers(cluster.server)
    keys = [(int(s["message"]["chat"]["id"]), int(s["message"]["message_id"])) for s in seeds]
    answers.expect(commands=keys)
    await cluster.wait("the first idea card in every group", answers.done, 120)
    for group, (chat_id, seed_id) in zip(world, keys, strict=True):
        card = next(
            m
            for m in cluster.server.state.chats[chat_id].messages.values()
            if m.reply_to == seed_id and m.reply_markup
        )
        group.card_message_id = card.message_id
        rows = (card.reply_markup or {}).get("inline_keyboard", [])
        group.support_data = next(
            str(b["callback_data"])
            for row in rows
            for b in row
            if str(b.get("callback_data", "")).startswith("1:sup:")
        )
    return world


COMMANDS = ["/idee", "/hulp", "/wie", "/ideeen"]


def plan_load(world: list[Group], per_group: int) -> list[tuple[Group, int, str]]:
    """``per_group`` actions in every group, interleaved across groups: every other one a
    support press on the group's card (``text`` ""), the others commands in rotation, each by
    the next resident. Commands and presses stay one reply / one answer each."""
    rounds: list[list[tuple[Group, int, str]]] = []
    for group in world:
        actions: list[tuple[Group, int, str]] = []
        for k in range(per_group):
            if k % 2 == 1:
                person = group.members[group.presses % len(group.members)]
                group.presses += 1
                group.supporters ^= {person}  # a press toggles support
                actions.append((group, person, ""))
                continue
            command = COMMANDS[group.turns % len(COMMANDS)]
            person = group.members[group.turns % len(group.members)]
            group.turns += 1
            if command == "/idee":
                command = f"/idee {TITLES[group.ideas % len(TITLES)]}"
                group.ideas += 1
            actions.append((group, person, command))
        rounds.append(actions)
    return [actions[k] for k in range(per_group) for actions in rounds]


async def drive(tg: FakegramClient, plan: list[tuple[Group, int, str]]) -> Load:
    """Post the whole plan through fakegram's control side, many requests at once."""
    load = Load()

    async def act(group: Group, person: int, command: str) -> None:
        if command:
            upd = await tg.send_message(group.chat_id, person, command)
            load.commands.append((group.chat_id, int(upd["message"]["message_id"])))
        else:
            upd = await tg.press_button(
                group.chat_id, group.card_message_id, person, data=group.support_data
            )
            load.presses.append(str(upd["callback_query"]["id"]))
            load.press_updates.append(int(upd["update_id"]))
        load.update_ids.append(int(upd["update_id"]))

    load.started = time.time()  # fakegram stamps its call record with time.time()
    await _bounded(32, [partial(act, *a) for a in plan])
    return load


def processed(database_url: str, update_ids: list[int]) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            found = conn.scalar(
                select(func.count())
                .select_from(ProcessedUpdate)
                .where(ProcessedUpdate.update_id.in_(update_ids))
            )
    finally:
        engine.dispose()
    return int(found or 0)


def shown_support(server: FakegramServer, group: Group) -> int:
    """The support count the group's first idea card shows now ("👍 3 …"; none: 0)."""
    card = server.state.chats[group.chat_id].messages[group.card_message_id]
    found = re.search(r"👍 (\d+)", card.text or "")
    return int(found.group(1)) if found else 0


def supporters(database_url: str) -> dict[int, set[int]]:
    """Per group (Telegram chat id): who supports its first idea (Telegram user ids)."""
    query = (
        select(Wijk.tg_chat_id, Person.tg_user_id)
        .join(Idea, Idea.wijk_id == Wijk.id)
        .join(Involvement, Involvement.idea_id == Idea.id)
        .join(Person, Person.id == Involvement.person_id)
        .where(Idea.number == 1, Involvement.kind == "supporter")
    )
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(query).all()
    finally:
        engine.dispose()
    found: dict[int, set[int]] = {}
    for chat_id, user_id in rows:
        found.setdefault(int(chat_id), set()).add(int(user_id))
    return found


def plan_announcements(database_url: str, per_group: int, tag: str) -> tuple[list[str], list[str]]:
    """``per_group`` one-off announcements due now in every active wijk, written straight into
    the database (the rows /aankondiging plans); returns their marker texts and due keys."""
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    markers: list[str] = []
    try:
        with engine.begin() as conn:
            wijken = conn.execute(select(Wijk.id).where(Wijk.active)).scalars().all()
            rows = []
            for wijk_id in wijken:
                for k in range(per_group):
                    marker = f"[{tag}-{wijk_id}-{k}]"
                    markers.append(marker)
                    rows.append(
                        {
                            "wijk_id": wijk_id,
                            "text": f"Aankondiging {marker}: de container staat er zaterdag.",
                            "next_at": now,
                            "weekly": False,
                            "local_time": "10:00",
                            "weekday": 0,
                            "status": "pending",
                            "sent_count": 0,
                            "created_at": now,
                        }
                    )
            ids = conn.execute(insert(Announcement).returning(Announcement.id), rows)
            due = [
                {
                    "kind": "announcement",
                    "key": f"announcement:{aid}:0",
                    "wijk_id": row["wijk_id"],
                    "payload": {"announcement": aid, "occurrence": 0},
                    "due_at": now - timedelta(seconds=1),
                    "status": "pending",
                    "attempts": 0,
                }
                for aid, row in zip(ids.scalars().all(), rows, strict=True)
            ]
            conn.execute(insert(DueItem), due)
    finally:
        engine.dispose()
    return markers, [str(d["key"]) for d in due]


# A test-only trigger: every due item that becomes "done" sends its key on DUE_DONE, so the
# run waits for exactly that instead of asking the database again and again.
DUE_DONE = "buddybot_test_due_done"
_DUE_DONE_TRIGGER = f"""
CREATE OR REPLACE FUNCTION {DUE_DONE}() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{DUE_DONE}', NEW.key);
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER {DUE_DONE} AFTER UPDATE OF status ON due_item
    FOR EACH ROW WHEN (NEW.status = 'done') EXECUTE FUNCTION {DUE_DONE}();
"""


class DueDone:
    """Listens for the due items the replicas finish (through the trigger above)."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._conn = conn
        self.keys: set[str] = set()

    @classmethod
    @contextlib.asynccontextmanager
    async def listening(cls, database_url: str) -> AsyncIterator[DueDone]:
        url = make_url(database_url).set(drivername="postgresql")
        conn = await psycopg.AsyncConnection.connect(
            url.render_as_string(hide_password=False), autocommit=True
        )
        try:
            await conn.execute(_DUE_DONE_TRIGGER)
            await conn.execute(f"LISTEN {DUE_DONE}")
            yield cls(conn)
        finally:
            await conn.close()

    async def wait(self, keys: list[str], limit: float) -> None:
        """Until every one of ``keys`` is done, or ``limit`` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                while not self.keys.issuperset(keys):
                    async for notice in self._conn.notifies(stop_after=1):
                        self.keys.add(notice.payload)


def due_outcome(database_url: str, keys: list[str]) -> tuple[Counter[str], Counter[str]]:
    """These due items by status and by the replica (worker) that claimed them."""
    engine = make_engine(database_url)
    query = select(DueItem.status, DueItem.claimed_by).where(DueItem.key.in_(keys))
    try:
        with engine.connect() as conn:
            rows = conn.execute(query).all()
    finally:
        engine.dispose()
    return Counter(str(r.status) for r in rows), Counter(str(r.claimed_by) for r in rows)


# -- one measured run -----------------------------------------------------------------------


@dataclass
class Run:
    replicas: int
    updates: int
    seconds: float
    due_items: int
    due_seconds: float
    failed: list[str] = field(default_factory=list)
    per_replica: list[int] = field(default_factory=list)  # updates each replica accepted
    due_per_replica: list[int] = field(default_factory=list)  # due items each one claimed
    log_errors: int = 0
    pushed_again: int = 0  # pushes repeated after a timeout (recognised, changed nothing)
    push_p50: float = 0.0  # ms from a push reaching the balancer to the replica's answer
    push_p99: float = 0.0
    updates_once: bool = True
    due_once: bool = True

    @property
    def throughput(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else 0.0


async def run_load(
    cluster: Cluster,
    tg: FakegramClient,
    world: list[Group],
    *,
    per_group: int,
    announcements: int,
) -> Run:
    """Measure one load through ``cluster``, then one batch of due items; check both."""
    url = cluster.database_url
    answers = Answers(cluster.server)
    plan = plan_load(world, per_group)
    assert cluster.balancer is not None
    pushes_before = len(cluster.balancer.seconds)
    seen_before = sum(r.handled_before for r in cluster.replicas)
    load = await drive(tg, plan)
    answers.expect(commands=load.commands, presses=load.presses)
    await cluster.wait(f"answers to {len(plan)} updates", answers.done, 300)
    finished = max(
        [answers.first_reply[k] for k in load.commands]
        + [answers.first_answer[q] for q in load.presses]
    )
    bot = cluster.server.state.bot(TOKEN)
    await cluster.wait("an empty webhook queue", lambda: not bot.pending, 30)
    rows = await asyncio.to_thread(processed, url, load.update_ids)
    supported = await asyncio.to_thread(supporters, url)
    answers.scan()
    accepted = cluster.balancer.accepted
    # Pushed again after fakegram gave up waiting (as Telegram does): allowed, but each
    # second push must be recognised by its id and change nothing.
    again = sum(accepted[u] - 1 for u in load.update_ids if accepted[u] > 1)
    press_ids = dict(zip(load.presses, load.press_updates, strict=True))
    seen_twice = sum(r.handled_before for r in cluster.replicas) - seen_before
    checks = {
        "every update reached a replica": all(accepted[u] >= 1 for u in load.update_ids),
        "one reply per command": all(answers.replies[k] == 1 for k in load.commands),
        "one answer per press (two if it was pushed twice)": all(
            answers.answers[q] == accepted[press_ids[q]] for q in load.presses
        ),
        "a processed_update row per update": rows == load.size,
        "every support press applied once": all(
            supported.get(g.chat_id, set()) == g.supporters for g in world
        ),
        "every second push recognised as handled": seen_twice == again,
        # Two replicas editing one card at once could leave the older count on it.
        "every card shows its supporters": all(
            shown_support(cluster.server, g) == len(g.supporters) for g in world
        ),
    }
    pushes = sorted(cluster.balancer.seconds[pushes_before:])
    spread = [cluster.balancer.per_replica[i] for i in range(cluster.n)]

    tag = f"r{cluster.n}x{time.monotonic_ns()}"
    async with DueDone.listening(url) as done:
        markers, keys = await asyncio.to_thread(plan_announcements, url, announcements, tag)
        planned_at = time.time()
        answers.expect(markers=markers)
        await cluster.wait(f"{len(markers)} announcements", answers.done, 120)
        due_seconds = max(answers.marker_at[m] for m in markers) - planned_at
        # A replica records "done" just after posting: wait for those records too.
        await done.wait(keys, 10.0)
    statuses, workers = await asyncio.to_thread(due_outcome, url, keys)
    answers.scan()
    due_checks = {
        "each announcement posted once": all(answers.markers[m] == 1 for m in markers),
        "every due item done": statuses == Counter({"done": len(keys)}),
    }
    run = Run(cluster.n, load.size, finished - load.started, len(markers), due_seconds)
    run.failed = [k for k, ok in {**checks, **due_checks}.items() if not ok]
    run.updates_once = all(checks.values())
    run.due_once = all(due_checks.values())
    run.per_replica = spread
    run.pushed_again = again
    run.push_p50 = pushes[len(pushes) // 2] * 1000 if pushes else 0.0
    run.push_p99 = pushes[int(len(pushes) * 0.99)] * 1000 if pushes else 0.0
    run.due_per_replica = sorted(workers.values(), reverse=True)
    run.log_errors = sum(r.errors for r in cluster.replicas)
    return run
