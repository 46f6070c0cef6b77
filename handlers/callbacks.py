"""Callback data: short, versioned, parsed strictly. Telegram allows at most 64 bytes."""

from __future__ import annotations

from telegram import InlineKeyboardButton

from buddybot.services.errors import Refusal

VERSION = "1"
MAX_BYTES = 64


def pack(kind: str, *fields: str | int) -> str:
    data = ":".join([VERSION, kind, *(str(f) for f in fields)])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def button(text: str, kind: str, *fields: str | int) -> InlineKeyboardButton:
    """A button that sends this kind's data when pressed."""
    return InlineKeyboardButton(text, callback_data=pack(kind, *fields))


def pattern(kind: str) -> str:
    return rf"^{VERSION}:{kind}(:|$)"


def unpack(data: str | None, kind: str, count: int) -> list[str]:
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
