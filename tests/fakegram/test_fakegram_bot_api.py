"""PTB v22 drives fakegram over real HTTP: every method, every error, every shape."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
    ChatFullInfo,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden
from telegram.ext import Application

from buddybot.fakegram import FakegramClient, FakegramServer

AppT = Application  # type: ignore[type-arg]


async def drain(app: AppT, **kwargs: Any) -> tuple[Update, ...]:
    """Fetch and confirm everything pending (no waiting)."""
    updates = await app.bot.get_updates(timeout=0, **kwargs)
    if updates:
        await app.bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return updates


async def make_group(tg: FakegramClient, *, supergroup: bool = False, bot_admin: bool = False):
    anna = await tg.create_user("Anna", username="anna")
    bert = await tg.create_user("Bert")
    chat_id = await tg.create_group("De Wijk", supergroup=supergroup, creator=anna, members=[bert])
    await tg.add_bot(chat_id, by=anna, admin=bot_admin)
    return chat_id, anna, bert


async def test_get_me_and_identity(app: AppT) -> None:
    assert app.bot.username == "buddy_test_bot"
    me = await app.bot.get_me()
    assert me.is_bot and me.can_join_groups
    assert await app.bot.log_out() is True
    assert await app.bot.close() is True


@pytest.mark.parametrize("supergroup", [False, True])
async def test_group_conversation(app: AppT, tg: FakegramClient, supergroup: bool) -> None:
    chat_id, anna, bert = await make_group(tg, supergroup=supergroup)
    assert chat_id < 0
    ups = await drain(app)
    # the bot being added: a my_chat_member update and a new_chat_members service message
    kinds = [u.my_chat_member is not None for u in ups]
    assert any(kinds)
    mcm = next(u.my_chat_member for u in ups if u.my_chat_member)
    assert mcm.new_chat_member.status == "member" and mcm.old_chat_member.status == "left"
    assert mcm.from_user.id == anna
    joined = next(u.message for u in ups if u.message)
    assert joined.new_chat_members[0].id == app.bot.id

    sent = await tg.send_message(chat_id, bert, "/ideas@buddy_test_bot rest")
    upd = Update.de_json(sent, app.bot)
    assert upd.message is not None
    assert upd.message.chat.type == ("supergroup" if supergroup else "group")
    assert upd.message.entities[0].type == "bot_command"
    assert upd.message.entities[0].length == len("/ideas@buddy_test_bot")
    (got,) = await drain(app)
    assert got.update_id == sent["update_id"] and got.message.text.startswith("/ideas")

    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="v1:y")]])
    msg = await app.bot.send_message(
        chat_id,
        "<b>Hallo</b> &amp; welkom",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
        reply_parameters=ReplyParameters(got.message.message_id),
    )
    assert isinstance(msg, Message)
    assert msg.text == "Hallo & welkom"
    assert msg.entities[0].type == "bold" and msg.entities[0].length == 5
    assert msg.reply_to_message is not None
    assert msg.reply_to_message.message_id == got.message.message_id
    assert msg.text_html == "<b>Hallo</b> &amp; welkom"

    sent_msgs = await tg.messages(chat_id)
    assert [m["message_id"] for m in sent_msgs] == [msg.message_id]
    assert sent_msgs[0]["fakegram"]["html"] == "<b>Hallo</b> &amp; welkom"
    assert await tg.buttons(chat_id, msg.message_id) == [[{"text": "Ja", "callback_data": "v1:y"}]]

    # edits: not-modified is an error, a real change counts
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await app.bot.edit_message_text(
            "<b>Hallo</b> &amp; welkom",
            chat_id=chat_id,
            message_id=msg.message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
        )
    edited = await app.bot.edit_message_text(
        "Dag", chat_id=chat_id, message_id=msg.message_id, reply_markup=keyboard
    )
    assert isinstance(edited, Message) and edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await app.bot.edit_message_reply_markup(chat_id, msg.message_id, reply_markup=keyboard)
    await app.bot.edit_message_reply_markup(chat_id, msg.message_id, reply_markup=None)
    (state,) = await tg.messages(chat_id)
    assert state["text"] == "Dag" and "reply_markup" not in state
    assert state["fakegram"]["edit_count"] == 2
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await app.bot.edit_message_text("x", chat_id=chat_id, message_id=9999)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await app.bot.edit_message_text("x", chat_id=chat_id, message_id=got.message.message_id)

    # deletions
    assert await app.bot.delete_message(chat_id, msg.message_id) is True
    assert await tg.messages(chat_id) == []
    deleted = await tg.messages(chat_id, include_deleted=True)
    assert deleted[0]["fakegram"]["deleted"] is True
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await app.bot.delete_message(chat_id, msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message can't be deleted"):
        await app.bot.delete_message(chat_id, got.message.message_id)


async def test_edited_message_and_anonymous_admin(app: AppT, tg: FakegramClient) -> None:
    chat_id, anna, bert = await make_group(tg, supergroup=True)
    await drain(app)
    first = await tg.send_message(chat_id, bert, "typo")
    edited = await tg.send_edited(chat_id, first["message"]["message_id"], bert, "fixed")
    upd = Update.de_json(edited, app.bot)
    assert upd.edited_message is not None and upd.edited_message.text == "fixed"
    anon = await tg.send_message(chat_id, anna, "/admin", anonymous_admin=True)
    m = Update.de_json(anon, app.bot).message
    assert m is not None and m.from_user is not None
    assert m.from_user.id == 1087968824 and m.from_user.username == "GroupAnonymousBot"
    assert m.sender_chat is not None and m.sender_chat.id == chat_id
    ups = await drain(app)
    assert [bool(u.edited_message) for u in ups] == [False, True, False]
    with pytest.raises(Exception, match=r"(?i)not an administrator"):
        await tg.send_message(chat_id, bert, "/admin", anonymous_admin=True)


async def test_private_chat_rules(app: AppT, tg: FakegramClient) -> None:
    uid = await tg.create_user("Carla", language_code="en")
    with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation with a user"):
        await app.bot.send_message(uid, "hoi")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await app.bot.send_message(424242, "hoi")
    start = await tg.start_private(uid, payload="join-42")
    upd = Update.de_json(start, app.bot)
    assert upd.message is not None and upd.message.text == "/start join-42"
    assert upd.message.chat.type == "private" and upd.message.chat.id == uid
    assert upd.message.from_user is not None and upd.message.from_user.language_code == "en"
    reply = await app.bot.send_message(uid, "Welkom!")
    assert reply.chat.id == uid
    assert (await tg.wait_for_message(uid))["text"] == "Welkom!"  # type: ignore[index]
    await tg.block_bot(uid)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await app.bot.send_message(uid, "nog daar?")
    ups = await drain(app)
    blocked = [u.my_chat_member for u in ups if u.my_chat_member]
    assert blocked and blocked[-1].new_chat_member.status == "kicked"
    await tg.start_private(uid)
    await app.bot.send_message(uid, "weer terug")


async def test_validation_errors(app: AppT, tg: FakegramClient) -> None:
    chat_id, _, _ = await make_group(tg)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await app.bot.send_message(chat_id, "<b>open", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r'(?i)can\'t parse entities: Unsupported start tag "div"'):
        await app.bot.send_message(chat_id, "<div>x</div>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await app.bot.send_message(chat_id, "Tom & Jerry", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await app.bot.send_message(chat_id, "a < b", parse_mode=ParseMode.HTML)
    # plain text is not validated as HTML
    await app.bot.send_message(chat_id, "Tom & Jerry <3")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await app.bot.send_message(chat_id, "x" * 4097)
    await app.bot.send_message(chat_id, "x" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await app.bot.send_message(chat_id, "  ")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await app.bot.send_message(chat_id, "<b></b>", parse_mode=ParseMode.HTML)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await app.bot.send_message(chat_id, "x", reply_markup=too_long)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await app.bot.send_message(-999, "x")
    ok_html = (
        '<i>i</i><s>s</s><u>u</u><span class="tg-spoiler">sp</span><tg-spoiler>t</tg-spoiler>'
        '<a href="https://example.org/?a=1&amp;b=2">link</a><code>c</code>'
        '<pre><code class="language-python">p</code></pre><blockquote expandable>q</blockquote>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> &lt;&gt;&quot;&#39;'
    )
    msg = await app.bot.send_message(chat_id, ok_html, parse_mode=ParseMode.HTML)
    types = [e.type for e in msg.entities]
    assert "text_link" in types and "expandable_blockquote" in types and "pre" in types
    assert msg.text is not None and msg.text.endswith("<>\"'")
    calls = await tg.calls("sendMessage")
    assert sum(1 for c in calls if not c["ok"]) == 9


async def test_unknown_method_and_token(server: FakegramServer, app: AppT) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.api_base_url}{app.bot.token}/noSuchMethod") as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        async with http.get(f"{server.api_base_url}123:nope/getMe") as resp:
            assert resp.status == 401
            assert (await resp.json())["description"] == "Unauthorized"
        # JSON bodies are accepted too
        async with http.post(
            f"{server.api_base_url}{app.bot.token}/getChatMemberCount", json={"chat_id": -5}
        ) as resp:
            assert resp.status == 400


async def test_chat_info_members_and_pins(app: AppT, tg: FakegramClient) -> None:
    chat_id, anna, bert = await make_group(tg, supergroup=True)
    msg = await app.bot.send_message(chat_id, "Belangrijk")
    with pytest.raises(BadRequest, match=r"(?i)not enough rights"):
        await app.bot.pin_chat_message(chat_id, msg.message_id)
    await tg.promote_bot(chat_id, anna)
    assert await app.bot.pin_chat_message(chat_id, msg.message_id, disable_notification=True)
    info = await app.bot.get_chat(chat_id)
    assert isinstance(info, ChatFullInfo) and info.title == "De Wijk"
    assert info.pinned_message is not None and info.pinned_message.message_id == msg.message_id
    (m,) = await tg.messages(chat_id)
    assert m["fakegram"]["pinned"] is True
    assert await app.bot.unpin_chat_message(chat_id, msg.message_id)
    assert (await app.bot.get_chat(chat_id)).pinned_message is None

    admins = await app.bot.get_chat_administrators(chat_id)
    by_id = {a.user.id: a for a in admins}
    assert isinstance(by_id[anna], ChatMemberOwner)
    bot_admin = by_id[app.bot.id]
    assert isinstance(bot_admin, ChatMemberAdministrator)
    assert bot_admin.can_delete_messages and bot_admin.can_pin_messages
    assert bert not in by_id
    member = await app.bot.get_chat_member(chat_id, bert)
    assert member.status == ChatMember.MEMBER
    assert await app.bot.get_chat_member_count(chat_id) == 3
    await tg.promote(chat_id, bert)
    assert (await app.bot.get_chat_member(chat_id, bert)).status == ChatMember.ADMINISTRATOR
    await tg.demote(chat_id, bert)
    await tg.remove_member(chat_id, bert, kicked=True)
    assert (await app.bot.get_chat_member(chat_id, bert)).status == ChatMember.BANNED
    outsider = await tg.create_user("Olga")
    assert (await app.bot.get_chat_member(chat_id, outsider)).status == ChatMember.LEFT
    with pytest.raises(BadRequest, match=r"(?i)user not found"):
        await app.bot.get_chat_member(chat_id, 987654)
    # every member payload round-trips
    raw = await tg.chat_member(chat_id, app.bot.id)
    assert isinstance(ChatMember.de_json(raw, app.bot), ChatMemberAdministrator)


async def test_commands_and_menu_button(app: AppT, tg: FakegramClient) -> None:
    chat_id, _, _ = await make_group(tg)
    nl = [BotCommand("idee", "Een idee"), BotCommand("stem", "Stemmen")]
    en = [BotCommand("idea", "An idea")]
    admins = [BotCommand("beheer", "Beheer")]
    assert await app.bot.set_my_commands(nl, language_code="nl")
    assert await app.bot.set_my_commands(en)
    assert await app.bot.set_my_commands(admins, scope=BotCommandScopeChatAdministrators(chat_id))
    assert await app.bot.get_my_commands(language_code="nl") == tuple(nl)
    assert await app.bot.get_my_commands() == tuple(en)
    assert await app.bot.get_my_commands(scope=BotCommandScopeChatAdministrators(chat_id)) == tuple(
        admins
    )
    assert await app.bot.get_my_commands(scope=BotCommandScopeChat(chat_id)) == ()
    assert await app.bot.delete_my_commands(language_code="nl")
    assert await app.bot.get_my_commands(language_code="nl") == ()
    with pytest.raises(BadRequest):
        await app.bot.set_my_commands([BotCommand("Bad Command", "x")])
    assert await app.bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    recorded = await tg.calls("setMyCommands")
    assert recorded[0]["params"]["commands"] == [
        {"command": "idee", "description": "Een idee"},
        {"command": "stem", "description": "Stemmen"},
    ]
    assert recorded[0]["params"]["language_code"] == "nl"


async def test_documents_and_photos(app: AppT, tg: FakegramClient) -> None:
    chat_id, _, _ = await make_group(tg)
    payload = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    msg = await app.bot.send_document(
        chat_id, payload, filename="buurtfeest.ics", caption="<b>Agenda</b>", parse_mode="HTML"
    )
    assert msg.document is not None and msg.document.file_name == "buurtfeest.ics"
    assert msg.document.file_size == len(payload)
    assert msg.caption == "Agenda" and msg.caption_entities[0].type == "bold"
    assert await tg.document(chat_id, msg.message_id) == payload
    photo = await app.bot.send_photo(chat_id, b"\x89PNG fake", caption="grafiek")
    assert photo.photo[-1].file_size == len(b"\x89PNG fake")
    got = await tg.messages(chat_id)
    assert got[0]["fakegram"]["file"]["file_name"] == "buurtfeest.ics"
    assert got[1]["fakegram"]["file"]["kind"] == "photo"
    # download through the file endpoint, as PTB does
    file = await app.bot.get_file(msg.document.file_id)
    assert bytes(await file.download_as_bytearray()) == payload
    # re-send by file_id
    again = await app.bot.send_document(chat_id, msg.document.file_id)
    assert again.document is not None and again.document.file_id == msg.document.file_id


async def test_migration(app: AppT, tg: FakegramClient) -> None:
    chat_id, anna, bert = await make_group(tg)
    before = await app.bot.send_message(chat_id, "voor de upgrade")
    await drain(app)
    new_id = await tg.migrate_group(chat_id)
    assert new_id < -1_000_000_000_000
    ups = await drain(app)
    migrate_to = [u.message.migrate_to_chat_id for u in ups if u.message]
    migrate_from = [u.message.migrate_from_chat_id for u in ups if u.message]
    assert new_id in migrate_to and chat_id in migrate_from
    with pytest.raises(ChatMigrated) as info:
        await app.bot.send_message(chat_id, "oud")
    assert info.value.new_chat_id == new_id
    with pytest.raises(ChatMigrated):
        await app.bot.get_chat_administrators(chat_id)
    msg = await app.bot.send_message(new_id, "nieuw")
    assert msg.chat.type == "supergroup"
    assert [m["text"] for m in await tg.messages(new_id)] == ["voor de upgrade", "nieuw"]
    assert (await app.bot.get_chat_member(new_id, anna)).status == ChatMember.OWNER
    await app.bot.edit_message_text("bewerkt", chat_id=new_id, message_id=before.message_id)
    with pytest.raises(Exception, match=r"(?i)migrated"):
        await tg.send_message(chat_id, bert, "hallo?")


async def test_bot_removed_from_group(app: AppT, tg: FakegramClient) -> None:
    chat_id, anna, _ = await make_group(tg)
    await drain(app)
    await tg.remove_bot(chat_id, by=anna, kicked=True)
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the group chat"):
        await app.bot.send_message(chat_id, "x")
    ups = await drain(app)
    mcm = [u.my_chat_member for u in ups if u.my_chat_member]
    assert mcm[-1].new_chat_member.status == ChatMember.BANNED
    sg, sanna, _ = await make_group(tg, supergroup=True)
    await tg.remove_bot(sg, by=sanna, kicked=False)
    with pytest.raises(Forbidden, match=r"(?i)bot is not a member of the supergroup chat"):
        await app.bot.send_message(sg, "x")
    never = await tg.create_group("Zonder bot", creator=sanna)
    with pytest.raises(Forbidden, match=r"(?i)bot is not a member of the group chat"):
        await app.bot.send_message(never, "x")
    await tg.add_bot(never, by=sanna)
    await app.bot.send_message(never, "hallo")


async def test_member_updates_respect_allowed_updates(app: AppT, tg: FakegramClient) -> None:
    chat_id, anna, bert = await make_group(tg, supergroup=True, bot_admin=True)
    await drain(app)
    carl = await tg.create_user("Carl")
    await tg.add_member(chat_id, carl)  # default allowed_updates: no chat_member
    ups = await drain(app)
    assert [u.message.new_chat_members[0].id for u in ups if u.message] == [carl]
    assert not any(u.chat_member for u in ups)
    await drain(app, allowed_updates=["message", "chat_member", "my_chat_member"])
    await tg.remove_member(chat_id, carl)
    ups = await drain(app)  # sticky: no allowed_updates passed this time
    left = [u.chat_member for u in ups if u.chat_member]
    assert left and left[0].new_chat_member.status == ChatMember.LEFT
    assert any(u.message and u.message.left_chat_member for u in ups)
    await tg.promote(chat_id, bert)
    (promoted,) = [u.chat_member for u in await drain(app) if u.chat_member]
    assert promoted.new_chat_member.status == ChatMember.ADMINISTRATOR
    assert promoted.from_user.id == anna
    # only message updates from now on
    await drain(app, allowed_updates=["message"])
    await tg.demote(chat_id, bert)
    await tg.send_message(chat_id, bert, "hoi")
    ups = await drain(app)
    assert [bool(u.message) for u in ups] == [True]


async def test_command_entity_ends_where_telegram_ends_it(app: AppT, tg: FakegramClient) -> None:
    """Telegram stops a command at the first character outside [A-Za-z0-9_]; a photo's
    caption gets its command entity in caption_entities."""
    chat_id, _, bert = await make_group(tg, supergroup=True)
    await drain(app)
    sent = Update.de_json(await tg.send_message(chat_id, bert, "/ideeën@buddy_test_bot"), app.bot)
    assert sent.message is not None
    assert sent.message.entities[0].length == len("/idee")
    photo = Update.de_json(await tg.send_message(chat_id, bert, "/steun 3", photo=True), app.bot)
    assert photo.message is not None and photo.message.text is None and photo.message.photo
    assert photo.message.caption == "/steun 3"
    assert photo.message.caption_entities[0].length == len("/steun")
    assert len(await drain(app)) == 2
