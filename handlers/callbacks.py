"""Callback data: short, versioned, parsed strictly. Telegram allows at most 64 bytes."""

from __future__ import annotations

from enum import StrEnum

from telegram import InlineKeyboardButton

from buddybot.services.errors import Refusal

VERSION = "1"
MAX_BYTES = 64


class Button(StrEnum):
    """Every kind of button the bot makes, named by what a press does. The value is the
    short code in the button's callback data: Telegram allows 64 bytes, and buttons
    already sent keep working, so a code never changes."""

    CHOOSE_LANGUAGE = "taal"  # choose the language (of the person, or of the group)
    SHOW_MY_NAME = "nm"  # show my name on idea cards, or count me only
    CONTACT_OK = "ct"  # may champions of similar ideas contact me
    SUPPORT = "sup"  # support an idea (again: take it back)
    JOIN = "join"  # help with an idea (again: step back)
    CHAMPION = "champ"  # volunteer as wijkkampioen of an idea
    CONFIRM_CHAMPION = "cfc"  # a facilitator confirms a volunteer as wijkkampioen
    NEWS_APPROVE = "nwy"  # a champion or author approves a helper's news (private)
    NEWS_REJECT = "nwn"  # a champion or author turns a helper's news down (private)
    STATUS_MENU = "stm"  # open the menu of an idea's next states
    STATUS_BACK = "stb"  # close that menu again
    SET_STATUS = "stv"  # move an idea to the state pressed
    IDEAS_PAGE = "pg"  # another page of the open ideas
    SHOW_IDEA = "show"  # an idea's card, from the list
    SUPPORT_SIMILAR = "dup"  # support the look-alike instead of proposing a new idea
    PROPOSE_ANYWAY = "new"  # propose the new idea after all
    MEETING_DRAFT_OK = "mok"  # announce the meeting as drafted
    MEETING_DRAFT_CHANGE = "mno"  # change the drafted meeting
    MEETING_TEXT = "mtx"  # the announcement as plain text for other channels
    RSVP = "rsvp"  # answer an invitation: yes, maybe or no
    CALENDAR_FILE = "ics"  # the meeting as a calendar file
    ADD_IDEA = "ask"  # after a meeting: give your idea
    CANCEL_ANNOUNCEMENT = "anc"  # cancel a scheduled announcement
    ANNOUNCEMENT_TEXT = "atx"  # a scheduled announcement as plain text
    POLL_CONFIRM = "pok"  # start the drafted vote
    POLL_DISCARD = "pno"  # discard the drafted vote
    REMOVE_PARTNER = "prm"  # remove a partner
    PARTNER_MATCHES = "ptn"  # ideas that fit a partner
    LINK_PARTNER = "plk"  # link an idea to a partner
    PARTNER_INVITE = "pinv"  # a partner's invitation, sent privately to the facilitator
    PARK_IDEA = "park"  # park a quiet idea
    STOP_NUDGES = "nonudge"  # no more reminders about a quiet idea
    PLAN_MEETING = "mtg"  # plan a meeting about a quiet idea
    WIJKFOTO_OF = "wf"  # the wijkfoto of one wijk (private chat)
    FORGET_ME_YES = "fgy"  # yes, erase me
    FORGET_ME_NO = "fgn"  # no, keep me
    PURGE_ASK = "pg1"  # a facilitator starts erasing the wijk
    PURGE_CONFIRM = "pg2"  # a facilitator confirms erasing the wijk


def pack(kind: Button, *fields: str | int) -> str:
    data = ":".join([VERSION, kind, *(str(f) for f in fields)])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def button(text: str, kind: Button, *fields: str | int) -> InlineKeyboardButton:
    """A button that sends this kind's data when pressed."""
    return InlineKeyboardButton(text, callback_data=pack(kind, *fields))


def pattern(kind: Button) -> str:
    return rf"^{VERSION}:{kind}(:|$)"


def unpack(data: str | None, kind: Button, count: int) -> list[str]:
    """The fields of ``data`` for ``kind``; anything else is refused as a stale button."""
    if data is None or len(data.encode()) > MAX_BYTES:
        raise Refusal("stale_button")
    parts = data.split(":")
    if len(parts) != count + 2 or parts[0] != VERSION or parts[1] != kind:
        raise Refusal("stale_button")
    return parts[2:]


def is_id(raw: str) -> bool:
    """A database id in callback data or a command: ASCII digits, small enough for a column
    (so "²" or a 60-digit number is a stale button, not a crash)."""
    return raw.isascii() and raw.isdigit() and 0 < len(raw) <= 9


def is_tg_id(raw: str) -> bool:
    """A Telegram user id (they grow past what a plain integer column holds)."""
    return raw.isascii() and raw.isdigit() and 0 < len(raw) <= 15
