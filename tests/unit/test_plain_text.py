"""plain(): invisible formatting characters go, the ones that carry meaning stay."""

from __future__ import annotations

import unicodedata

import pytest

from buddybot.domain.plain_text import plain


@pytest.mark.parametrize(
    "char",
    [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), *range(0x200B, 0x2010))]
    + ["\u2060", "\ufeff", "\u061c", "\u00ad", "\u2061", "\u206f", "\u0600", "\U0001d173"],
)
def test_format_characters_go(char: str) -> None:
    assert plain(f"An{char}na") == "Anna"


def test_every_other_format_character_goes_too() -> None:
    kept = {"\u200c", "\u200d"} | {chr(c) for c in range(0xE0020, 0xE0080)}
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) == "Cf" and char not in kept:
            assert plain(f"a{char}b") == "ab", hex(code)


@pytest.mark.parametrize(
    "text",
    [
        "🏳️\u200d🌈",  # rainbow flag: a ZWJ sequence
        "👩\u200d👩\u200d👧",
        "می\u200cخواهم",  # Persian: ZWNJ between letters
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # England's flag
        "Moestuin op het plein",
        "Café\n  twee regels\t",
    ],
)
def test_meaningful_text_is_kept(text: str) -> None:
    assert plain(text) == text


@pytest.mark.parametrize("text", ["An\u200dna", "\u200dAnna", "Anna\u200c", "\u200c"])
def test_joiners_next_to_ascii_go(text: str) -> None:
    assert plain(text) == text.replace("\u200c", "").replace("\u200d", "")
