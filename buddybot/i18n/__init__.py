"""Texts and dates in the wijk's or the person's language.

Texts live in gettext catalogs (``buddybot/locales/<lang>/LC_MESSAGES/buddybot.po``, compiled
to ``.mo`` with Babel). Message ids are keys such as ``"greet.group"``; every language,
English included, has a translation for every key. Placeholders use ``str.format`` names.
Values are HTML-escaped when filled in, unless wrapped in :class:`Html`.
"""

from __future__ import annotations

import gettext
import html
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from buddybot.settings import LANGUAGES

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "buddybot"
FALLBACK = "nl"


class Html(str):
    """Text that is already safe HTML (built by the renderers); not escaped again."""

    __slots__ = ()


class MissingText(KeyError):
    pass


@dataclass(frozen=True, slots=True)
class Plural:
    """A number and the text that says it (a plural entry, ``{n}`` in it: "2 jaar",
    "1 month"). As a value of ``t`` it is said in that text's language, with the plural
    form gettext picks for ``n`` there. Lets a service name an amount without text."""

    key: str
    n: int


@cache
def catalog(lang: str) -> gettext.NullTranslations:
    with (LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as fh:
        return gettext.GNUTranslations(fh)


def supported(lang: str | None) -> str | None:
    """The supported language for a Telegram language code like ``en-GB``, or None."""
    if not lang:
        return None
    base = lang.split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else None


@lru_cache(maxsize=4096)  # a card asks for a dozen texts; the catalogs never change
def raw(lang: str, key: str) -> str:
    text = catalog(supported(lang) or FALLBACK).gettext(key)
    if text == key:
        raise MissingText(f"no text {key!r} for {lang!r}")
    return text


def t(lang: str, key: str, /, **params: object) -> Html:
    """The text ``key`` in ``lang``, with every parameter escaped for Telegram HTML (a
    :class:`Plural` said in ``lang``)."""
    text = raw(lang, key)
    if not params:
        return Html(text)
    safe = {k: _escape(lang, v) for k, v in params.items()}
    return Html(text.format(**safe))


def tn(lang: str, key: str, n: int, /, **params: object) -> Html:
    """The plural entry ``key`` (its ``msgid_plural`` is ``key`` + ``.plural``) in the form
    ``lang`` uses for ``n``; ``{n}`` is filled in along with ``params``."""
    text = catalog(supported(lang) or FALLBACK).ngettext(key, f"{key}.plural", n)
    if text in (key, f"{key}.plural"):
        raise MissingText(f"no plural text {key!r} for {lang!r}")
    safe = {k: _escape(lang, v) for k, v in params.items()}
    return Html(text.format(n=n, **safe))


def _escape(lang: str, value: object) -> object:
    if isinstance(value, Plural):
        return tn(lang, value.key, value.n)
    if isinstance(value, Html):
        return value
    if isinstance(value, str):
        return html.escape(value, quote=False)
    return value


def join_lines(lines: list[Html]) -> Html:
    return Html("\n".join(lines))


def when(lang: str, moment: datetime, zone: str, *, year: bool = False) -> str:
    """A moment in words in the wijk's zone: "vrijdag 5 december om 19:30"."""
    pattern = raw(lang, "fmt.datetime_year" if year else "fmt.datetime")
    local = moment.astimezone(ZoneInfo(zone))
    return str(format_datetime(local, pattern, locale=supported(lang) or FALLBACK))
