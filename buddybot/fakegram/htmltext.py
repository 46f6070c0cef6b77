"""Telegram-style HTML parsing: validate ``parse_mode=HTML`` text and turn it into
plain text plus ``MessageEntity`` dicts, the way the Bot API does.

Errors are raised as :class:`HtmlError` whose message follows Telegram's wording
("Unsupported start tag ...", "Can't find end tag corresponding to start tag ...");
the caller prefixes "Bad Request: can't parse entities: ".
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HtmlError", "parse_html", "utf16_len"]

_TAG_TO_ENTITY: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'", "nbsp": "\xa0"}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*?)?)\s*(/?)>", re.DOTALL)
_ATTR_RE = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);")
_SPECIAL_RE = re.compile(r"[<&]")


class HtmlError(ValueError):
    """The text is not valid Telegram HTML."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (Telegram counts offsets that way)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    entity: dict[str, Any]
    start: int
    byte_offset: int


def _attrs(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _ATTR_RE.finditer(raw):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        if value is None:
            value = m.group(4) if m.group(4) is not None else ""
        out[m.group(1).lower()] = html.unescape(value)
    return out


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML; return ``(plain_text, entities)`` or raise :class:`HtmlError`."""
    parser = _Parser()
    i = 0
    while i < len(source):
        byte_offset = len(source[:i].encode("utf-8"))
        if source[i] == "<":
            m = _TAG_RE.match(source, i)
            if m is None:
                raise HtmlError(f"Unsupported start tag at byte offset {byte_offset}")
            parser.tag(m, byte_offset)
            i = m.end()
        elif source[i] == "&":
            text, i = _character(source, i, byte_offset)
            parser.emit(text)
        else:  # plain run (a bare '>' is tolerated, as by Telegram)
            special = _SPECIAL_RE.search(source, i + 1)
            j = special.start() if special else len(source)
            parser.emit(source[i:j])
            i = j
    return parser.finish()


@dataclass
class _Parser:
    """The text emitted so far, the tags still open and the entities they made."""

    out: list[str] = field(default_factory=list)
    length: int = 0  # utf-16 length of the text emitted so far
    stack: list[_Open] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.length += utf16_len(text)

    def tag(self, m: re.Match[str], byte_offset: int) -> None:
        closing, name, raw_attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if name not in _TAG_TO_ENTITY:
            kind = "end" if closing else "start"
            raise HtmlError(f'Unsupported {kind} tag "{name}" at byte offset {byte_offset}')
        if closing:
            self.close(name, byte_offset)
        else:
            self.open(name, _attrs(raw_attrs or ""), byte_offset)

    def open(self, name: str, attrs: dict[str, str], byte_offset: int) -> None:
        entity = _entity(name, attrs, byte_offset)
        if name == "code" and self.stack and self.stack[-1].tag == "pre":
            lang = attrs.get("class", "")
            if lang.startswith("language-"):
                self.stack[-1].entity["language"] = lang[len("language-") :]
        self.stack.append(_Open(name, entity, self.length, byte_offset))

    def close(self, name: str, byte_offset: int) -> None:
        if not self.stack:
            raise HtmlError(f"Unexpected end tag at byte offset {byte_offset}")
        top = self.stack.pop()
        if top.tag != name:
            raise HtmlError(f'Can\'t find end tag corresponding to start tag "{top.tag}"')
        closed = top.entity
        closed["offset"] = top.start
        closed["length"] = self.length - top.start
        if closed["length"] > 0:
            self.entities.append(closed)

    def finish(self) -> tuple[str, list[dict[str, Any]]]:
        if self.stack:
            raise HtmlError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities


def _entity(name: str, attrs: dict[str, str], byte_offset: int) -> dict[str, Any]:
    """The entity a start tag opens, checked against the attributes Telegram requires."""
    entity: dict[str, Any] = {"type": _TAG_TO_ENTITY[name]}
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset}')
    if name == "a":
        entity.update(_link(attrs.get("href"), byte_offset))
    elif name == "tg-emoji":
        emoji_id = attrs.get("emoji-id")
        if not emoji_id:
            raise HtmlError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {byte_offset}'
            )
        entity["custom_emoji_id"] = emoji_id
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    return entity


def _link(href: str | None, byte_offset: int) -> dict[str, Any]:
    """A link to a URL, or a mention of a user (``tg://user?id=``)."""
    if not href:
        raise HtmlError(f'Tag "a" must have attribute "href" at byte offset {byte_offset}')
    if href.startswith("tg://user?id="):
        user = {"id": int(href.split("=", 1)[1] or 0), "is_bot": False, "first_name": ""}
        return {"type": "text_mention", "user": user}
    return {"url": href}


def _character(source: str, i: int, byte_offset: int) -> tuple[str, int]:
    """The character an entity at ``i`` stands for ("&amp;", "&#233;"), and where it ends."""
    m = _ENTITY_RE.match(source, i)
    if m is None:
        raise HtmlError(
            f"Character '&' is reserved and must be escaped as &amp; (byte offset {byte_offset})"
        )
    body = m.group(1)
    if body.startswith("#"):
        try:
            code = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
            return chr(code), m.end()
        except (ValueError, OverflowError) as exc:
            raise HtmlError(f"Invalid character entity at byte offset {byte_offset}") from exc
    if body.lower() in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[body.lower()], m.end()
    raise HtmlError(f'Unsupported HTML entity "&{body};" at byte offset {byte_offset}')
