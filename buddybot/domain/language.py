"""Which language to speak to whom."""

from __future__ import annotations

from buddybot.i18n import supported


def for_person(
    chosen: str | None, telegram_code: str | None, wijk_language: str | None, default: str
) -> str:
    """Private messages: the person's choice, else Telegram's language, else the wijk's."""
    return chosen or supported(telegram_code) or wijk_language or default
