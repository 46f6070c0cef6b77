"""Every text exists in Dutch and English, with the same placeholders, compiled and in use."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from buddybot.handlers.commands import COMMANDS
from buddybot.i18n import LOCALES, t
from buddybot.i18n.compile import compiled, po_files
from buddybot.settings import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]


def _catalog(lang: str) -> dict[str, str]:
    """Key to text; a plural entry as one key per form (``span.years[0]``, ...)."""
    with (LOCALES / lang / "LC_MESSAGES" / "buddybot.po").open("rb") as fh:
        cat = read_po(fh)
    out: dict[str, str] = {}
    for m in cat:
        if not m.id or m.fuzzy:
            continue
        if m.pluralizable:
            out |= {f"{m.id[0]}[{i}]": str(form) for i, form in enumerate(m.string)}
        else:
            out[str(m.id)] = str(m.string)
    return out


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_text() -> None:
    catalogs = {lang: _catalog(lang) for lang in LANGUAGES}
    keys = set().union(*(c.keys() for c in catalogs.values()))
    for lang, cat in catalogs.items():
        missing = sorted(k for k in keys if not cat.get(k, "").strip())
        assert not missing, f"{lang} lacks a translation for {missing}"


def test_placeholders_agree_between_languages() -> None:
    nl, en = _catalog("nl"), _catalog("en")
    for key in nl:
        assert _fields(nl[key]) == _fields(en[key]), key


@pytest.mark.parametrize("po", po_files(), ids=lambda p: p.parts[-3])
def test_shipped_mo_matches_po(po: Path) -> None:
    assert po.with_suffix(".mo").read_bytes() == compiled(po), (
        "run: python -m buddybot.i18n.compile"
    )


def _used_keys() -> set[str]:
    keys: set[str] = set()
    literal = re.compile(r"""\bt\(\s*(?:[\w.]+,\s*)?["']([a-z_]+\.[a-z_.]+)["']""")
    refusal = re.compile(r"""(?:Refusal|NotAllowed)\(\s*["']([a-z_]+)["']""")
    for path in [*ROOT.glob("buddybot/**/*.py"), *ROOT.glob("handlers/**/*.py")]:
        if "fakegram" in path.parts:
            continue
        source = path.read_text()
        keys |= set(literal.findall(source))
        keys |= {f"refusal.{k}" for k in refusal.findall(source)}
    keys |= {f"cmd.{c.nl}" for c in COMMANDS}
    return keys


def test_every_text_the_code_uses_exists() -> None:
    nl = _catalog("nl")
    missing = sorted(k for k in _used_keys() if k not in nl)
    assert not missing


def test_values_are_escaped_but_catalog_markup_is_kept() -> None:
    text = t("nl", "who.wijk", title="<script>&")
    assert text == "<b>&lt;script&gt;&amp;</b>"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_is_valid_telegram_html(lang: str) -> None:
    from buddybot.fakegram.htmltext import HtmlError, parse_html

    for key, text in _catalog(lang).items():
        if key.startswith("fmt."):
            continue
        filled = text.format(**{name: "x" for name in _fields(text)})
        try:
            parse_html(filled)
        except HtmlError as exc:
            raise AssertionError(f"{lang} {key}: {exc}") from None
