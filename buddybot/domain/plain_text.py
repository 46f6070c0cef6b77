"""Text as people type it, made safe to store and to show again.

``plain`` removes invisible formatting characters (Unicode category Cf) from names and
titles before they are stored: bidirectional overrides, embeddings and isolates
(U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C), zero-width spaces and joiners used to
hide or spoof text (U+200B, U+2060, U+FEFF) and the rest of Cf (soft hyphen, Arabic number
signs, interlinear annotation, ...). An idea titled "\\u202eraaB" would otherwise be shown
as "Baar" and reverse the text after it in every message that names it.

Two kinds of Cf character carry meaning and stay where they do:

* the joiners U+200C (ZWNJ) and U+200D (ZWJ) between two non-ASCII characters: emoji
  sequences ("🏳️‍🌈", families) and scripts such as Persian and Devanagari need them. Next to
  an ASCII character they only hide something ("An\\u200dna"), so they go;
* tag characters U+E0020-U+E007F, which spell the subdivision flags ("🏴 England").
"""

from __future__ import annotations

import unicodedata

_JOINERS = frozenset("\u200c\u200d")
_TAGS = range(0xE0020, 0xE0080)


def _kept(text: str, i: int) -> bool:
    char = text[i]
    if unicodedata.category(char) != "Cf":
        return True
    if ord(char) in _TAGS:
        return True
    if char in _JOINERS:
        return 0 < i < len(text) - 1 and not text[i - 1].isascii() and not text[i + 1].isascii()
    return False


def plain(text: str) -> str:
    """``text`` without invisible formatting characters (see the module docstring)."""
    if text.isascii():  # the common case: nothing to look at
        return text
    return "".join(char for i, char in enumerate(text) if _kept(text, i))


def plain_or_none(text: str | None) -> str | None:
    return None if text is None else plain(text)
