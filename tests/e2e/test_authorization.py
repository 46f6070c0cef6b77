"""The authorization matrix: every facilitator command and every button kind, pressed or
sent by every kind of person, in the group, in private and in another wijk's group.

Each cell asserts one of two things: the action was allowed and done (a database fact
changed the way it should), or it was refused and *nothing* changed (a snapshot of both
wijken is equal before and after). Forged callback data (another wijk's ids, unknown ids,
malformed, oversized) is always answered and changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from buddybot.clock import FakeClock
from buddybot.fakegram import FakegramClient, FakegramControlError, FakegramServer
from buddybot.storage.db import UnitOfWork
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
from tests.support.harness import Harness, local_settings

Snap = dict[str, Any]

ROLES = [
    "resident",  # dirk
    "helper",  # bert, helper of #1
    "champion",  # carla, champion of #1
    "author",  # anna, author of #1, #2, #3
    "facilitator",  # eva, appointed by the admin
    "admin",  # fatima, creator of the group
    "anonymous",  # fatima posting as the group (anonymous admin)
    "superadmin",  # sam, in SUPERADMINS, a plain member of the group
    "outsider",  # olga, a member of West only
    "left",  # lars, an appointed facilitator who left the group
]
STEER = {"facilitator", "admin", "anonymous", "superadmin"}
APPOINT = {"admin", "anonymous", "superadmin"}


# -- the world ----------------------------------------------------------------------------


@dataclass
class Town:
    bot: Harness
    oost: int = 0
    west: int = 0
    ids: dict[str, int] = field(default_factory=dict)  # role -> Telegram user id
    wim: int = 0  # West's admin
    zoe: int = 0  # target of /facilitator and /buddy
    zoe_msg: int = 0
    zoe_west_msg: int = 0
    card_msg: int = 0  # a bot message in Oost with buttons (idea card of #1)
    oost_wijk: int = 0
    west_wijk: int = 0

    def uid(self, role: str) -> int:
        return self.ids["admin" if role == "anonymous" else role]

    async def say(self, chat: int, role: str, text: str, *, reply_to: int | None = None) -> Any:
        return await self.bot.say(
            chat, self.uid(role), text, reply_to=reply_to, anonymous_admin=role == "anonymous"
        )


@pytest.fixture
async def town(
    server: FakegramServer, tg: FakegramClient, database_url: str, clock: FakeClock
) -> AsyncIterator[Town]:
    # The super-admin's Telegram id must be known before the bot's settings are made.
    names = {
        "admin": "Fatima",
        "author": "Anna",
        "helper": "Bert",
        "champion": "Carla",
        "resident": "Dirk",
        "facilitator": "Eva",
        "superadmin": "Sam",
        "outsider": "Olga",
        "left": "Lars",
    }
    ids = {role: await tg.create_user(name) for role, name in names.items()}
    settings = local_settings(
        server,
        database_url,
        superadmins=frozenset({ids["superadmin"]}),
        person_actions_per_minute=100_000,  # the flood guard is not what this file tests
    )
    bot = Harness(server, tg, settings, clock)
    await bot.start()
    try:
        yield await _build(Town(bot, ids=ids))
    finally:
        await bot.close()


async def _build(w: Town) -> Town:
    bot, tg, ids = w.bot, w.bot.tg, w.ids
    w.wim = await tg.create_user("Wim")
    w.zoe = await tg.create_user("Zoe")
    oost_members = [ids[r] for r in ("author", "helper", "champion", "resident")]
    oost_members += [ids[r] for r in ("facilitator", "superadmin", "left")] + [w.zoe]
    w.oost = await tg.create_group("Wijk Oost", creator=ids["admin"], members=oost_members)
    await tg.add_bot(w.oost, by=ids["admin"], admin=True)
    # West: Olga's wijk; everyone else of Oost is a plain member there too.
    west_members = [*ids.values(), w.zoe]
    w.west = await tg.create_group("Wijk West", creator=w.wim, members=west_members)
    await tg.add_bot(w.west, by=w.wim, admin=True)
    await bot.settle()

    await bot.say(w.west, ids["outsider"], "/idee Fietsenstalling bij de school")
    await bot.say(w.west, w.wim, "/partner Westpartner | groen | planten | -")
    await bot.say(w.west, w.wim, "/aankondiging vrijdag 19:00 | West koffie")
    await bot.say(w.west, w.wim, "/bijeenkomst vrijdag 19:30 | Westhuis | Westavond")
    draft = (await tg.messages(w.west))[-1]
    await bot.press(w.west, int(draft["message_id"]), w.wim, text="✅ Klopt")
    await bot.say(w.west, w.wim, "/stemming Welke dag? | ma | di")

    a = ids["author"]
    await bot.say(w.oost, a, "/idee Moestuin op het plein")
    w.card_msg = int((await tg.messages(w.oost))[-1]["message_id"])
    await bot.say(w.oost, a, "/idee Speeltuin opknappen")
    await bot.say(w.oost, a, "/idee Koffieochtend voor ouderen")
    await bot.say(w.oost, ids["helper"], "/meedoen 1")
    await bot.say(w.oost, ids["champion"], "/kampioen 1")
    for role in ("facilitator", "left"):
        hello = await tg.send_message(w.oost, ids[role], "Ik help graag")
        await bot.say(w.oost, ids["admin"], "/facilitator", reply_to=_mid(hello))
    await bot.say(w.oost, ids["admin"], "/verberg 3")
    await bot.say(w.oost, ids["admin"], "/partner Tuincentrum | groen | planten | -")
    for title in ("Startavond", "Tweede avond"):
        await bot.say(w.oost, ids["admin"], f"/bijeenkomst vrijdag 19:30 | Buurthuis | {title}")
        draft = (await tg.messages(w.oost))[-1]
        await bot.press(w.oost, int(draft["message_id"]), ids["admin"], text="✅ Klopt")
    await bot.say(w.oost, ids["admin"], "/stemming Welke avond? | dinsdag | woensdag")
    w.zoe_msg = _mid(await tg.send_message(w.oost, w.zoe, "Hallo allemaal"))
    w.zoe_west_msg = _mid(await tg.send_message(w.west, w.zoe, "Hallo West"))
    # Lars leaves; Telegram tells the bot.
    await tg.remove_member(w.oost, ids["left"])
    await bot.settle()
    for uid in ids.values():
        await bot.handled(await tg.start_private(uid))
    with bot.db.transaction() as uow:
        w.oost_wijk = int(uow.session.scalar(select(Wijk.id).where(Wijk.tg_chat_id == w.oost)))
        w.west_wijk = int(uow.session.scalar(select(Wijk.id).where(Wijk.tg_chat_id == w.west)))
    return w


def _mid(update: dict[str, Any]) -> int:
    return int(update["message"]["message_id"])


# -- what the database says ---------------------------------------------------------------


def snapshot(uow: UnitOfWork, wijk_id: int) -> Snap:
    """Everything a command or button of this file could change in one wijk (read in the
    caller's transaction, so that both wijken are one consistent picture)."""
    s = uow.session
    wijk = s.get(Wijk, wijk_id)
    assert wijk is not None
    ideas = (
        s.execute(
            select(Idea.number, Idea.status, Idea.hidden, Idea.themes)
            .where(Idea.wijk_id == wijk_id)
            .order_by(Idea.number)
        )
    ).all()
    idea_ids = select(Idea.id).where(Idea.wijk_id == wijk_id)
    involvement = (
        s.execute(
            select(
                Involvement.idea_id,
                Involvement.person_id,
                Involvement.kind,
                Involvement.confirmed,
            )
            .where(Involvement.idea_id.in_(idea_ids))
            .order_by(Involvement.id)
        )
    ).all()
    meetings = (
        s.execute(
            select(Meeting.number, Meeting.status, Meeting.starts_at)
            .where(Meeting.wijk_id == wijk_id)
            .order_by(Meeting.number)
        )
    ).all()
    announcements = (
        s.execute(
            select(Announcement.id, Announcement.status)
            .where(Announcement.wijk_id == wijk_id)
            .order_by(Announcement.id)
        )
    ).all()
    polls = (
        s.execute(select(Poll.id, Poll.status).where(Poll.wijk_id == wijk_id).order_by(Poll.id))
    ).all()
    partners = list(
        s.scalars(select(Partner.name).where(Partner.wijk_id == wijk_id).order_by(Partner.id))
    )
    links = s.scalar(
        select(func.count()).select_from(IdeaPartner).where(IdeaPartner.idea_id.in_(idea_ids))
    )
    partner_ids = select(Partner.id).where(Partner.wijk_id == wijk_id)
    # Partner accounts and their invitations: who could take over a partner.
    accounts = list(
        s.scalars(select(Partner.person_id).where(Partner.wijk_id == wijk_id).order_by(Partner.id))
    )
    invites = (
        s.execute(
            select(PartnerInvite.id, PartnerInvite.used_at)
            .where(PartnerInvite.partner_id.in_(partner_ids))
            .order_by(PartnerInvite.id)
        )
    ).all()
    news = s.scalar(
        select(func.count())
        .select_from(IdeaEvent)
        .where(IdeaEvent.idea_id.in_(idea_ids), IdeaEvent.kind == "update")
    )
    # Steering roles only: a first press or message makes a resident membership.
    roles = (
        s.execute(
            select(Membership.person_id, Membership.role)
            .where(Membership.wijk_id == wijk_id, Membership.role != "resident")
            .order_by(Membership.person_id)
        )
    ).all()
    return {
        "active": wijk.active,
        "language": wijk.language,
        "settings": dict(wijk.settings or {}),
        "profile": dict(wijk.profile or {}),
        "ideas": [tuple(r) for r in ideas],
        "involvement": [tuple(r) for r in involvement],
        "meetings": [tuple(r) for r in meetings],
        "announcements": [tuple(r) for r in announcements],
        "polls": [tuple(r) for r in polls],
        "partners": partners,
        "links": links,
        "accounts": accounts,
        "invites": [tuple(r) for r in invites],
        "news": news,
        "roles": [tuple(r) for r in roles],
    }


def both(w: Town) -> tuple[Snap, Snap]:
    with w.bot.db.transaction() as uow:
        return snapshot(uow, w.oost_wijk), snapshot(uow, w.west_wijk)


def _idea(s: Snap, n: int) -> tuple[Any, ...]:
    return next(i for i in s["ideas"] if i[0] == n)


def _meeting(s: Snap, n: int) -> tuple[Any, ...]:
    return next(m for m in s["meetings"] if m[0] == n)


# -- the facilitator commands -------------------------------------------------------------
# (command, who may, what changed when allowed)

Check = Callable[[Snap, Snap], bool]


@dataclass(frozen=True)
class Cmd:
    text: str
    allowed: frozenset[str]
    done: Check
    reply_to_zoe: bool = False


def _roles_changed(a: Snap, b: Snap) -> bool:
    return a["roles"] != b["roles"] and {k: v for k, v in a.items() if k != "roles"} == {
        k: v for k, v in b.items() if k != "roles"
    }


STEERING = frozenset(STEER)
COMMANDS: list[Cmd] = [
    Cmd("/status 1 gekozen", STEERING, lambda a, b: _idea(b, 1)[1] == "selected"),
    Cmd("/verberg 2", STEERING, lambda a, b: _idea(b, 2)[2] is True),
    Cmd("/herstel 3", STEERING, lambda a, b: _idea(b, 3)[2] is False),
    Cmd(
        "/bijeenkomst vrijdag 19:30 | Buurthuis | Test",
        STEERING,
        lambda a, b: (
            len(b["meetings"]) == len(a["meetings"]) + 1 and b["meetings"][-1][1] == "draft"
        ),
    ),
    Cmd("/verzetten 1 zaterdag 20:00", STEERING, lambda a, b: _meeting(a, 1) != _meeting(b, 1)),
    Cmd("/afzeggen 2 regen", STEERING, lambda a, b: _meeting(b, 2)[1] == "cancelled"),
    Cmd(
        "/aankondiging vrijdag 19:00 | Test",
        STEERING,
        lambda a, b: len(b["announcements"]) == len(a["announcements"]) + 1,
    ),
    Cmd(
        "/stemming Vraag? | ja | nee",
        STEERING,
        lambda a, b: len(b["polls"]) == len(a["polls"]) + 1 and b["polls"][-1][1] == "open",
    ),
    Cmd("/sluitstemming 1", STEERING, lambda a, b: b["polls"][0][1] == "closed"),
    Cmd(
        "/partner Nieuwe partner | groen | iets | -",
        STEERING,
        lambda a, b: b["partners"] == [*a["partners"], "Nieuwe partner"],
    ),
    # The idea's champion may link partners too (by button, and so by command).
    Cmd(
        "/koppel 1 Tuincentrum", STEERING | {"champion"}, lambda a, b: b["links"] == a["links"] + 1
    ),
    Cmd("/instellingen na 3", STEERING, lambda a, b: a["settings"] != b["settings"]),
    Cmd("/profiel ritme Druk op zaterdag", STEERING, lambda a, b: a["profile"] != b["profile"]),
    # An anonymous admin is asked to write as themselves (the change is logged per person).
    Cmd(
        "/thema 1 spelen",
        (STEERING - {"anonymous"}) | {"author"},
        lambda a, b: _idea(a, 1)[3] != _idea(b, 1)[3],
    ),
    Cmd("/facilitator", frozenset(APPOINT), _roles_changed, reply_to_zoe=True),
    Cmd("/buddy", frozenset(APPOINT), _roles_changed, reply_to_zoe=True),
    Cmd("/taal en", STEERING, lambda a, b: b["language"] == "en"),
]


async def _bot_messages(bot: Harness, chat: int) -> int:
    return len(await bot.tg.messages(chat))


@pytest.mark.parametrize("role", ROLES)
async def test_facilitator_commands_in_the_group(town: Town, role: str) -> None:
    """Every facilitator command by one kind of person in Oost: done, or refused and
    nothing changed in either wijk."""
    w, bot = town, town.bot
    before, west_before = both(w)
    for cmd in COMMANDS:
        sent_before = await _bot_messages(bot, w.oost)
        reply_to = w.zoe_msg if cmd.reply_to_zoe else None
        if role in ("outsider", "left"):
            # Not (any more) in the group: Telegram itself does not let them post there.
            with pytest.raises(FakegramControlError, match="not a member"):
                await bot.tg.send_message(w.oost, w.uid(role), cmd.text, reply_to=reply_to)
            continue
        await w.say(w.oost, role, cmd.text, reply_to=reply_to)
        after, west_after = both(w)
        assert west_after == west_before, f"{cmd.text} by {role} touched West"
        assert await _bot_messages(bot, w.oost) > sent_before, f"no answer to {cmd.text}"
        assert "er ging iets mis" not in await bot.last_text(w.oost), (cmd.text, role)
        if role in cmd.allowed:
            assert cmd.done(before, after), f"{cmd.text} by {role} was not done"
        else:
            assert after == before, f"{cmd.text} by {role} changed something"
        before, west_before = after, west_after
    assert both(w) == (before, west_before)
    # /wijkwissen: only the first step; the confirm button is offered to admins only.
    await _purge_first_step(w, role)


async def _purge_first_step(w: Town, role: str) -> None:
    bot = w.bot
    if role in ("outsider", "left"):
        return
    before = both(w)
    await w.say(w.oost, role, "/wijkwissen")
    last = (await bot.tg.messages(w.oost))[-1]
    rows = (last.get("reply_markup") or {}).get("inline_keyboard", [])
    datas = [b.get("callback_data") for row in rows for b in row]
    purge_roles = {"admin", "anonymous", "superadmin"}
    assert ("1:pg1" in datas) == (role in purge_roles), (role, last.get("text"))
    assert both(w) == before


async def test_authors_may_withdraw_only_their_own_idea(town: Town) -> None:
    w = town
    for role in ("helper", "champion", "resident"):
        before = both(w)
        await w.say(w.oost, role, "/status 2 ingetrokken")
        assert both(w) == before, role
    await w.say(w.oost, "author", "/status 2 gekozen")
    assert _idea((both(w))[0], 2)[1] == "proposed"
    await w.say(w.oost, "author", "/status 2 ingetrokken")
    assert _idea((both(w))[0], 2)[1] == "withdrawn"


PRIVATE_ROLES = [r for r in ROLES if r != "anonymous"]  # an anonymous admin has no private chat


async def test_facilitator_commands_in_private_change_nothing(town: Town) -> None:
    """In a private chat no command knows which wijk it would steer: refused, unchanged.
    /wijkfoto in private is the overview of the wijken you steer, and only those."""
    w, bot = town, town.bot
    before = both(w)
    for role in PRIVATE_ROLES:
        uid = w.uid(role)
        for cmd in [*COMMANDS, Cmd("/wijkwissen", frozenset(), _roles_changed)]:
            if cmd.reply_to_zoe:
                continue  # a reply needs a message in the same chat
            sent_before = await _bot_messages(bot, uid)
            await bot.say(uid, uid, cmd.text)
            assert await _bot_messages(bot, uid) > sent_before, (role, cmd.text)
            assert both(w) == before, f"{cmd.text} by {role} in private changed a wijk"
        seen = await _bot_messages(bot, uid)
        await bot.say(uid, uid, "/wijkfoto")
        texts = (await bot.texts(uid))[seen:]
        sees_oost = any("Wijk Oost" in t for t in texts)
        assert sees_oost == (role in {"facilitator", "admin", "superadmin"}), (role, texts)


ANOTHER_GROUP_ROLES = [r for r in ROLES if r not in ("anonymous", "left")] + ["left"]


async def test_facilitator_commands_in_another_wijk_never_touch_oost(town: Town) -> None:
    """Everyone of Oost is a plain member of West. Their Oost rights do not carry over, the
    numbers are West's own, and nothing of Oost changes, whoever sends it."""
    w, bot = town, town.bot
    oost_before, west_before = both(w)
    for role in ANOTHER_GROUP_ROLES:
        for cmd in COMMANDS:
            if cmd.text == "/taal en":
                continue
            reply_to = w.zoe_west_msg if cmd.reply_to_zoe else None
            await bot.say(w.west, w.uid(role), cmd.text, reply_to=reply_to)
            oost_after, west_after = both(w)
            assert oost_after == oost_before, f"{cmd.text} by {role} in West changed Oost"
            if role != "superadmin":
                assert west_after == west_before, f"{cmd.text} by {role} changed West"
            west_before = west_after
    # The super-admin steers West with West's own numbers: West's #1 moved, Oost's did not.
    oost, west = both(w)
    assert _idea(west, 1)[1] == "selected"
    assert _idea(oost, 1)[1] == "proposed"


# -- buttons ------------------------------------------------------------------------------


def _ids(w: Town) -> dict[str, int]:
    """Surrogate ids behind the buttons, of both wijken."""
    with w.bot.db.transaction() as uow:
        s = uow.session

        def one(model: Any, wijk: int, **where: Any) -> int:
            q = select(model.id).where(model.wijk_id == wijk)
            for k, v in where.items():
                q = q.where(getattr(model, k) == v)
            return int(s.scalar(q.order_by(model.id).limit(1)))

        return {
            "oost_idea": one(Idea, w.oost_wijk, number=1),
            "west_idea": one(Idea, w.west_wijk, number=1),
            "oost_meeting": one(Meeting, w.oost_wijk, number=1),
            "west_meeting": one(Meeting, w.west_wijk, number=1),
            "oost_partner": one(Partner, w.oost_wijk),
            "west_partner": one(Partner, w.west_wijk),
            "oost_poll": one(Poll, w.oost_wijk),
            "west_poll": one(Poll, w.west_wijk),
            "west_announcement": one(Announcement, w.west_wijk),
            "olga_person": int(
                s.scalar(select(Person.id).where(Person.tg_user_id == w.ids["outsider"]))
            ),
        }


# kind -> number of fields
KINDS: dict[str, int] = {
    "sup": 1, "join": 1, "champ": 1, "cfc": 2, "stm": 1, "stb": 1, "stv": 2, "pg": 1,
    "show": 1, "dup": 1, "new": 0, "taal": 2, "nm": 0, "ct": 0, "mok": 1, "mno": 1,
    "mtx": 1, "rsvp": 2, "ics": 1, "ask": 0, "anc": 1, "atx": 1, "pok": 1, "pno": 1,
    "prm": 1, "ptn": 1, "plk": 2, "park": 1, "nonudge": 0, "mtg": 1, "fgy": 0, "fgn": 0,
    "pg1": 0, "pg2": 0, "wf": 1, "pinv": 2, "nwy": 1, "nwn": 1,
}  # fmt: skip


def _cross_wijk(kind: str, ids: dict[str, int], w: Town) -> list[str]:
    """Well-formed data that names another wijk's things."""
    idea, meeting = ids["west_idea"], ids["west_meeting"]
    return {
        "sup": [f"1:sup:{idea}"],
        "join": [f"1:join:{idea}"],
        "champ": [f"1:champ:{idea}"],
        "cfc": [f"1:cfc:{idea}:{w.ids['outsider']}"],
        "stm": [f"1:stm:{idea}"],
        "stb": [f"1:stb:{idea}"],
        "stv": [f"1:stv:{idea}:selected", f"1:stv:{idea}:withdrawn"],
        "show": [f"1:show:{idea}"],
        "dup": [f"1:dup:{idea}"],
        "mok": [f"1:mok:{meeting}"],
        "mno": [f"1:mno:{meeting}"],
        "mtx": [f"1:mtx:{meeting}"],
        "rsvp": [f"1:rsvp:{meeting}:yes"],
        "ics": [f"1:ics:{meeting}"],
        "anc": [f"1:anc:{ids['west_announcement']}"],
        "atx": [f"1:atx:{ids['west_announcement']}"],
        "pok": [f"1:pok:{ids['west_poll']}"],
        "pno": [f"1:pno:{ids['west_poll']}"],
        "prm": [f"1:prm:{ids['west_partner']}"],
        "ptn": [f"1:ptn:{idea}"],
        "plk": [
            f"1:plk:{idea}:{ids['west_partner']}",
            f"1:plk:{ids['oost_idea']}:{ids['west_partner']}",
            f"1:plk:{idea}:{ids['oost_partner']}",
        ],
        "park": [f"1:park:{idea}"],
        "mtg": [f"1:mtg:{idea}"],
        "wf": [f"1:wf:{w.west_wijk}"],
        "pinv": [f"1:pinv:{ids['west_partner']}:0", f"1:pinv:{ids['west_partner']}:1"],
    }.get(kind, [])


def _forged(kind: str, count: int) -> list[str]:
    unknown = ":".join(["999999"] * count)
    shapes = [
        f"1:{kind}:{unknown}" if count else f"1:{kind}:999999",
        f"1:{kind}:abc" + ":x" * max(count - 1, 0),
        f"1:{kind}:-1" + ":1" * max(count - 1, 0),
        f"1:{kind}:²" + ":1" * max(count - 1, 0),  # a digit to str.isdigit, not to int()
        f"1:{kind}:" + ":".join(["1"] * (count + 2)),
        f"9:{kind}" + ":1" * count,
        f"1:{kind}:",
    ]
    if count:
        shapes.append(f"1:{kind}")
    prefix = f"1:{kind}:"
    shapes.append(prefix + "9" * (64 - len(prefix)))  # the most Telegram carries
    return shapes


async def _press(
    w: Town, user: int, data: str, before: tuple[Snap, Snap], chat: int | None = None
) -> tuple[dict[str, Any], tuple[Snap, Snap]]:
    """Press ``data`` on a real bot message; the query must be answered."""
    chat = chat if chat is not None else w.oost
    msg = w.card_msg if chat == w.oost else int((await w.bot.tg.messages(chat))[-1]["message_id"])
    answer = await w.bot.press(chat, msg, user, data=data)
    assert answer is not None, f"{data!r} was not answered"
    return answer, both(w)


# Kinds whose forged page number is simply "the last page": answered, no alert needed.
QUIET_KINDS = {"pg"}


async def test_forged_callback_data_is_answered_and_changes_nothing(town: Town) -> None:
    """Every button kind with unknown, malformed, oversized and other-wijk data."""
    w = town
    ids = _ids(w)
    resident, admin = w.ids["resident"], w.ids["admin"]
    before = both(w)
    for kind, count in KINDS.items():
        for data in _forged(kind, count):
            answer, after = await _press(w, resident, data, before)
            assert after == before, f"{data!r} changed something"
            if kind not in QUIET_KINDS:
                assert answer.get("show_alert"), (data, answer)
        for data in _cross_wijk(kind, ids, w):
            # Another wijk's ids never work here, not even for Oost's own admin.
            for user in (resident, admin):
                answer, after = await _press(w, user, data, before)
                assert after == before, f"{data!r} by {user} changed something"
                assert answer.get("show_alert"), (data, answer)


FACILITATOR_BUTTONS: dict[str, Callable[[dict[str, int], Town], str]] = {
    "stv": lambda i, w: f"1:stv:{i['oost_idea']}:selected",
    "cfc": lambda i, w: f"1:cfc:{i['oost_idea']}:{w.ids['champion']}",
    "mok": lambda i, w: f"1:mok:{i['oost_meeting']}",
    "mno": lambda i, w: f"1:mno:{i['oost_meeting']}",
    "anc": lambda i, w: "1:anc:1",
    "pok": lambda i, w: f"1:pok:{i['oost_poll']}",
    "pno": lambda i, w: f"1:pno:{i['oost_poll']}",
    "prm": lambda i, w: f"1:prm:{i['oost_partner']}",
    "pg1": lambda i, w: "1:pg1",
    "pg2": lambda i, w: "1:pg2",
    "taal": lambda i, w: "1:taal:g:en",
    "pinv": lambda i, w: f"1:pinv:{i['oost_partner']}:0",
}


async def test_facilitator_buttons_refuse_everyone_else(town: Town) -> None:
    """Steering buttons with this wijk's real ids, pressed by people who may not steer."""
    w = town
    ids = _ids(w)
    before = both(w)
    for kind, make in FACILITATOR_BUTTONS.items():
        for role in ("resident", "helper", "champion", "author", "outsider"):
            answer, after = await _press(w, w.uid(role), make(ids, w), before)
            assert answer.get("show_alert"), (kind, role, answer)
            assert after == before, f"{kind} by {role} changed something"
    # The status menu opens for facilitators and for the idea's author (to withdraw it).
    for role in ("resident", "helper", "champion", "outsider"):
        answer, after = await _press(w, w.uid(role), f"1:stm:{ids['oost_idea']}", before)
        assert answer.get("show_alert") and after == before, (role, answer)


async def test_a_facilitator_who_left_cannot_park_an_idea_from_private(town: Town) -> None:
    """Lars was appointed facilitator, then left the group. The 'park' button of a nudge
    lives in private chat, so he can still press (or forge) it there."""
    w = town
    ids = _ids(w)
    before = both(w)
    answer, after = await _press(
        w, w.ids["left"], f"1:park:{ids['oost_idea']}", before, chat=w.ids["left"]
    )
    assert after == before, "an idea of Oost was parked by someone who left Oost"
    assert answer.get("show_alert"), answer


async def test_park_button_in_private_for_those_who_may(town: Town) -> None:
    """The same private button works for the author and is refused to a mere helper."""
    w = town
    ids = _ids(w)
    before = both(w)
    for role in ("helper", "resident", "outsider"):
        answer, after = await _press(
            w, w.uid(role), f"1:park:{ids['oost_idea']}", before, chat=w.uid(role)
        )
        assert answer.get("show_alert") and after == before, (role, answer)
    _, after = await _press(
        w, w.uid("author"), f"1:park:{ids['oost_idea']}", before, chat=w.uid("author")
    )
    assert _idea(after[0], 1)[1] == "parked"


GENERIC_ERROR = "er ging iets mis"


async def test_odd_digits_in_callback_data_are_a_stale_button(town: Town) -> None:
    w = town
    before = both(w)
    generic = []
    for kind, count in KINDS.items():
        if not count:
            continue
        prefix = f"1:{kind}:"
        for data in (prefix + "²" + ":1" * (count - 1), prefix + "9" * (64 - len(prefix))):
            answer, after = await _press(w, w.ids["resident"], data, before)
            assert after == before, data
            if GENERIC_ERROR in str(answer.get("text")):
                generic.append(data)
    assert not generic, f"answered with the generic error: {generic}"


# -- private-chat buttons and pending champions (issue 22, item 4) ------------------------


async def test_private_chat_buttons_do_nothing_in_a_group(town: Town) -> None:
    """The park button (and the other private-chat buttons) only come in private: pressed
    in a group, even Oost's own group and by the idea's author, they change nothing."""
    w = town
    ids = _ids(w)
    before = both(w)
    for chat in (w.oost, w.west):
        for data in (f"1:park:{ids['oost_idea']}", f"1:wf:{w.oost_wijk}", "1:nwy:1", "1:nwn:1"):
            for role in ("author", "admin"):
                answer, after = await _press(w, w.uid(role), data, before, chat=chat)
                assert answer.get("show_alert"), (data, role, chat, answer)
                assert after == before, f"{data} by {role} in a group changed something"


async def test_a_pending_champion_has_no_champion_power(town: Town) -> None:
    """With champion_confirmation on, Dirk volunteers for #2 and waits for a facilitator.
    Every champion power is refused to him, by command, button and private button."""
    w, bot = town, town.bot
    ids = _ids(w)
    with bot.db.transaction() as uow:
        wijk = uow.session.get(Wijk, w.oost_wijk)
        assert wijk is not None
        wijk.settings = {**(wijk.settings or {}), "champion_confirmation": True}
        idea2 = int(
            uow.session.scalar(select(Idea.id).where(Idea.wijk_id == w.oost_wijk, Idea.number == 2))
        )
    await w.say(w.oost, "resident", "/kampioen 2")
    before = both(w)
    dirk = w.uid("resident")
    for text in ("/koppel 2 Tuincentrum", "/bijwerken 2 Ik begin morgen"):
        await w.say(w.oost, "resident", text)
        assert both(w) == before, f"{text} by a pending champion changed something"
    for data in (f"1:ptn:{idea2}", f"1:plk:{idea2}:{ids['oost_partner']}"):
        answer, after = await _press(w, dirk, data, before)
        assert answer.get("show_alert") and after == before, (data, answer)
    answer, after = await _press(w, dirk, f"1:park:{idea2}", before, chat=dirk)
    assert answer.get("show_alert") and after == before, answer
    await bot.handled(await bot.tg.start_private(dirk, payload=f"kit_{idea2}"))
    assert "Je bent wijkkampioen" not in await bot.last_text(dirk)
    # Confirmed by a facilitator, the same button works: the check is the confirmation.
    ask = next(
        m for m in reversed(await bot.tg.messages(w.oost)) if "kan dat bevestigen" in m["text"]
    )
    await bot.press(w.oost, int(ask["message_id"]), w.uid("admin"), text="✅ Bevestigen")
    answer, after = await _press(w, dirk, f"1:park:{idea2}", both(w), chat=dirk)
    assert _idea(after[0], 2)[1] == "parked", answer
