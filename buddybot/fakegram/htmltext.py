"""Telegram-style HTML parsing: validate ``parse_mode=HTML`` text and turn it into
plain text plus ``MessageEntity`` dicts, the way the Bot API does.

Errors are raised as :class:`HtmlError` whose message follows Telegram's wording
("Unsupported start tag ...", "Can't find end tag corresponding to start tag ...");
the caller prefixes "Bad Request: can't parse entities: ".
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
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
    out: list[str] = []
    length = 0  # utf-16 length of the text emitted so far
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        byte_offset = len(source[:i].encode("utf-8"))
        if ch == "<":
            m = _TAG_RE.match(source, i)
            if m is None:
                raise HtmlError(f"Unsupported start tag at byte offset {byte_offset}")
            closing, name, raw_attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
            if name not in _TAG_TO_ENTITY:
                kind = "end" if closing else "start"
                raise HtmlError(f'Unsupported {kind} tag "{name}" at byte offset {byte_offset}')
            if closing:
                if not stack:
                    raise HtmlError(f"Unexpected end tag at byte offset {byte_offset}")
                top = stack.pop()
                if top.tag != name:
                    raise HtmlError(f'Can\'t find end tag corresponding to start tag "{top.tag}"')
                closed = top.entity
                closed["offset"] = top.start
                closed["length"] = length - top.start
                if closed["length"] > 0:
                    entities.append(closed)
            else:
                attrs = _attrs(raw_attrs or "")
                entity_type = _TAG_TO_ENTITY[name]
                entity: dict[str, Any] = {"type": entity_type}
                if name == "span":
                    if attrs.get("class") != "tg-spoiler":
                        raise HtmlError(
                            f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset}'
                        )
                elif name == "a":
                    href = attrs.get("href")
                    if not href:
                        raise HtmlError(
                            f'Tag "a" must have attribute "href" at byte offset {byte_offset}'
                        )
                    if href.startswith("tg://user?id="):
                        entity["type"] = "text_mention"
                        entity["user"] = {
                            "id": int(href.split("=", 1)[1] or 0),
                            "is_bot": False,
                            "first_name": "",
                        }
                    else:
                        entity["url"] = href
                elif name == "tg-emoji":
                    emoji_id = attrs.get("emoji-id")
                    if not emoji_id:
                        raise HtmlError(
                            f'Tag "tg-emoji" must have attribute "emoji-id" '
                            f"at byte offset {byte_offset}"
                        )
                    entity["custom_emoji_id"] = emoji_id
                elif name == "blockquote" and "expandable" in attrs:
                    entity["type"] = "expandable_blockquote"
                elif name == "code" and stack and stack[-1].tag == "pre":
                    lang = attrs.get("class", "")
                    if lang.startswith("language-"):
                        stack[-1].entity["language"] = lang[len("language-") :]
                stack.append(_Open(name, entity, length, byte_offset))
            i = m.end()
            continue
        if ch == "&":
            m = _ENTITY_RE.match(source, i)
            if m is None:
                raise HtmlError(
                    f"Character '&' is reserved and must be escaped as &amp; "
                    f"(byte offset {byte_offset})"
                )
            body = m.group(1)
            if body.startswith("#"):
                try:
                    code = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
                    text = chr(code)
                except (ValueError, OverflowError) as exc:
                    raise HtmlError(
                        f"Invalid character entity at byte offset {byte_offset}"
                    ) from exc
            elif body.lower() in _NAMED_ENTITIES:
                text = _NAMED_ENTITIES[body.lower()]
            else:
                raise HtmlError(f'Unsupported HTML entity "&{body};" at byte offset {byte_offset}')
            out.append(text)
            length += utf16_len(text)
            i = m.end()
            continue
        # plain run (a bare '>' is tolerated, as by Telegram)
        j = i + 1
        while j < n and source[j] not in "<&":
            j += 1
        chunk = source[i:j]
        out.append(chunk)
        length += utf16_len(chunk)
        i = j
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities
