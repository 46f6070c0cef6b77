"""Keyboards of callback buttons as plain data, written straight as the Bot API's JSON.

Cards build their keyboard on every press. PTB's button objects checked every attribute
they set, which cost more than writing the rest of the card (measured in issue 10);
``markup()`` still gives PTB's objects where a PTB method wants them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

Button = tuple[str, str]  # (text, callback data)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Keyboard:
    rows: tuple[tuple[Button, ...], ...]

    @classmethod
    def of(cls, rows: Iterable[Iterable[Button]]) -> Keyboard:
        return cls(tuple(tuple(row) for row in rows))

    def json(self) -> dict[str, Any]:
        """As ``self.markup().to_dict()`` gives it (PTB leaves out an empty keyboard)."""
        if not self.rows:
            return {}
        return {
            "inline_keyboard": [
                [{"text": text, "callback_data": data} for text, data in row] for row in self.rows
            ]
        }

    def markup(self) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(text, callback_data=data) for text, data in row]
                for row in self.rows
            ]
        )


@overload
def for_ptb(markup: Keyboard) -> InlineKeyboardMarkup: ...
@overload
def for_ptb(markup: T) -> T: ...
def for_ptb(markup: Keyboard | T) -> InlineKeyboardMarkup | T:
    """What a PTB method takes: a plain keyboard as PTB's objects, anything else as it is."""
    return markup.markup() if isinstance(markup, Keyboard) else markup
