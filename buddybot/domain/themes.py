"""Themes of an idea, detected from its words (Dutch and English).

Pure functions, no I/O. The user-visible name of a theme is the catalog message
``theme.<key>``; the keys themselves never change.

How a keyword matches a word of the text (after lowercasing, stripping accents and
splitting on everything that is not a letter):

* ``"art="`` (trailing ``=``), and every keyword of three letters or fewer: the whole
  word, or the word plus ``s`` ("art", "arts"; "zorg" but not "zorgen").
* ``"park-"`` (trailing ``-``), and every other keyword of four letters: the start of
  the word ("park", "parken", "parkje", "parkbankje").
* every other keyword of five letters or more: anywhere inside the word, so Dutch
  compounds match ("buurtmoestuin", "geveltuintjes", "bomenplan").
* a keyword with a space is a phrase: its words in a row, the last one as a prefix
  ("speed bump", "older people").

Inside one word the longest matching keywords win and shorter keywords overlapping
them are dropped. That is how exceptions are written: "parkeer" (verkeer) beats
"park" (groen) in "parkeerplaats", "groente" (eten) beats "groen" in "groentetuin",
and keywords in ``_NEUTRAL`` ("transport", "kunststof") win without giving a theme.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

THEMES: tuple[str, ...] = (
    "groen",
    "spelen",
    "veiligheid",
    "ontmoeting",
    "verkeer",
    "duurzaamheid",
    "cultuur",
    "zorg",
    "jongeren",
    "ouderen",
    "schoon",
    "wonen",
    "sport",
    "eten",
)

# English name of each theme, accepted by ``parse`` next to the Dutch key.
ENGLISH: dict[str, str] = {
    "groen": "green",
    "spelen": "play",
    "veiligheid": "safety",
    "ontmoeting": "meeting",
    "verkeer": "traffic",
    "duurzaamheid": "sustainability",
    "cultuur": "culture",
    "zorg": "care",
    "jongeren": "youth",
    "ouderen": "elderly",
    "schoon": "clean",
    "wonen": "housing",
    "sport": "sport",
    "eten": "food",
}

# fmt: off
_LEXICON: dict[str, tuple[str, ...]] = {
    "groen": (
        # nl
        "boom", "bomen", "plant", "plantsoen", "moestuin", "tuin", "geveltuin", "bloem",
        "park", "groen", "gras", "natuur", "struik", "heg", "heggen", "perk", "vogel",
        "bijen", "insect", "egel", "vlinder", "tegelwip", "boomspiegel", "fruitboom",
        "kinderboerderij", "vergroen",
        # en
        "tree", "garden", "flower", "green", "nature", "bees", "bird", "hedge", "lawn",
        "butterfl",
    ),
    "spelen": (
        # nl
        "speeltuin", "speel", "spelen", "spel", "schommel", "glijbaan", "zandbak", "klimrek",
        "trampoline", "wip=", "kinderen", "stoepkrijt", "kinderen spelen",
        # en
        "playground", "play", "swing", "sandpit", "sandbox", "slide=", "toys", "game",
        "kids", "children", "climbing frame",
    ),
    "veiligheid": (
        # nl
        "verlichting", "lantaarn", "lamp", "donker", "inbraak", "inbrek", "buurtwacht",
        "buurtpreventie", "veilig", "camera", "politie", "wijkagent", "overlast", "vandal",
        "criminal", "aed=",
        # en
        "lighting", "streetlight", "street light", "lights=", "dark", "safe", "unsafe",
        "police", "crime", "burglar", "theft", "cctv", "neighbourhood watch",
        "neighborhood watch",
    ),
    "ontmoeting": (
        # nl
        "buurthuis", "buurthuizen", "buurtkamer", "huiskamer", "koffie", "feest", "barbecue",
        "bbq", "ontmoet", "cafe", "borrel", "picknick", "bijeenkomst", "samenkom", "buren",
        "bankje", "kennismak", "samen eten",
        # en
        "meet", "coffee", "community", "party", "picnic", "bench", "gathering",
        "get together", "neighbours", "neighbors", "potluck",
    ),
    "verkeer": (
        # nl
        "drempel", "verkeer", "fiets", "parkeer", "parkeren", "snelheid", "oversteek",
        "zebrapad", "zebra", "kruispunt", "rotonde", "stoep", "auto", "bus", "bussen",
        "bushalte", "tram", "hard rijden", "hard gereden", "hardrij", "woonerf",
        "trottoir", "wegdek",
        # en
        "speed", "speed bump", "traffic", "parking", "crossing", "bike", "bicycle", "cycle",
        "cycling", "cyclist", "pedestrian", "sidewalk", "pavement", "road", "car",
        "bus stop",
    ),
    "duurzaamheid": (
        # nl
        "zonnepaneel", "zonnepanelen", "energie", "isolatie", "isoleren", "deelauto",
        "deelfiets", "duurzaam", "warmtepomp", "recycl", "recycling", "hergebruik", "repaircafe",
        "compost", "klimaat", "regenton", "groendak", "aardgas", "ruilkast", "laadpaal",
        # en
        "solar", "energy", "insulation", "sustainab", "climate", "reuse", "repair",
        "electric", "car sharing", "carsharing", "heat pump", "green roof",
    ),
    "cultuur": (
        # nl
        "muziek", "kunst", "theater", "toneel", "film", "festival", "muurschildering",
        "dans", "concert", "koor", "expositie", "tentoonstelling", "museum", "bibliotheek",
        "boek", "poezie", "gedicht", "cultuur", "zingen", "verhalen",
        # en
        "music", "art=", "artist", "theatre", "movie", "cinema", "mural", "dance",
        "choir", "exhibition", "library", "book", "poetry", "cultur", "singing",
        "storytelling",
    ),
    "zorg": (
        # nl
        "mantelzorg", "zorg=", "thuiszorg", "buurtzorg", "zorgzame", "zorgverlen", "verzorg",
        "eenzaam", "eenzame", "hulp", "burenhulp", "dementie", "gezondheid", "welzijn", "huisarts",
        "ziek", "dakloos", "rolstoel",
        # en
        "care=", "carer", "caring", "caregiver", "lonely", "loneliness", "isolation",
        "dementia", "health", "wellbeing", "doctor", "sick", "homeless", "wheelchair",
    ),
    "jongeren": (
        # nl
        "jongeren", "jeugd", "tiener", "puber", "hangplek", "scholier", "student",
        # en
        "youth", "teen", "young people", "youngster",
    ),
    "ouderen": (
        # nl
        "ouderen", "oudere=", "senior", "bejaard", "gepensioneerd", "pensioen", "rollator",
        "plusser",
        # en
        "elderly", "older people", "pensioner", "retired", "retirement",
    ),
    "schoon": (
        # nl
        "zwerfafval", "zwerfvuil", "afval", "vuil", "grofvuil", "prikken", "prikstok",
        "opruim", "schoon", "hondenpoep", "poep", "prullenbak", "veeg", "dump", "graffiti",
        "container",
        # en
        "litter", "rubbish", "trash", "garbage", "waste", "clean", "bin", "fly tipping",
        "dog poo",
    ),
    "wonen": (
        # nl
        "woning", "wonen", "woon", "huur", "verhuur", "corporatie", "huisvest", "nieuwbouw",
        "appartement", "flat", "renovat", "leegstand", "huizen",
        # en
        "housing", "house=", "houses", "rent=", "rental", "renting", "tenant", "landlord",
        "apartment", "homes=",
    ),
    "sport": (
        # nl
        "voetbal", "sport", "bootcamp", "hardlop", "hardloop", "fitness", "basketbal",
        "tennis", "zwem", "wandel", "yoga", "gym", "gymzaal", "beweeg", "bewegen", "skate",
        "panna", "atletiek", "hockey", "volleybal", "kunstgras", "parkour", "boules",
        # en
        "football", "soccer", "running", "jogging", "swim", "walking", "workout",
        "exercise", "calisthenics", "cricket",
    ),
    "eten": (
        # nl
        "eten", "koken", "kook", "maaltijd", "voedsel", "diner", "lunch", "ontbijt",
        "groente", "fruit", "soep", "recepten", "taart",
        # en
        "food", "cook", "meal", "dinner", "breakfast", "vegetable", "soup", "recipe",
        "cake",
    ),
}

# Words that contain a keyword but are about something else; they win the word
# (longest match) and give no theme.
_NEUTRAL: tuple[str, ...] = (
    "transport",  # sport
    "kunststof", "kunstmatig",  # kunst
    "autoriteit", "automat",  # auto: autoriteit, automaat, automatisch
    "parkiet", "parket",  # park
    "spelling",  # spel
    "booking",  # book
    "koorts",  # koor
    "soepel",  # soep
)
# fmt: on


class _Mode(Enum):
    WORD = "word"
    PREFIX = "prefix"
    INFIX = "infix"


@dataclass(frozen=True)
class _Keyword:
    text: str
    mode: _Mode
    themes: tuple[str, ...]  # empty for neutral words


_WORD_RE = re.compile(r"[^\W\d_]+")


def fold(text: str) -> str:
    """Lowercase and strip accents: "Café Één" → "cafe een"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """The folded words of ``text``: letters only, split on everything else."""
    return _WORD_RE.findall(fold(text))


def _mode(raw: str) -> tuple[str, _Mode]:
    if raw.endswith("="):
        return raw[:-1], _Mode.WORD
    if raw.endswith("-"):
        return raw[:-1], _Mode.PREFIX
    if len(raw) <= 3:
        return raw, _Mode.WORD
    if len(raw) == 4:
        return raw, _Mode.PREFIX
    return raw, _Mode.INFIX


def _build() -> tuple[dict[str, _Keyword], dict[tuple[str, ...], _Keyword]]:
    themes_of: dict[tuple[str, _Mode], list[str]] = {}
    for theme in THEMES:
        for raw in _LEXICON[theme]:
            key = _mode(fold(raw).strip())
            themes_of.setdefault(key, [])
            if theme not in themes_of[key]:
                themes_of[key].append(theme)
    for raw in _NEUTRAL:
        themes_of.setdefault(_mode(fold(raw)), [])
    words: dict[str, _Keyword] = {}
    phrases: dict[tuple[str, ...], _Keyword] = {}
    for (text, mode), themes in themes_of.items():
        keyword = _Keyword(text, mode, tuple(themes))
        if " " in text:
            phrases[tuple(text.split())] = keyword
        else:
            words[text] = keyword
    return words, phrases


_WORDS, _PHRASES = _build()
_PHRASE_LENGTHS = sorted({len(p) for p in _PHRASES}, reverse=True)


def keywords(theme: str) -> tuple[str, ...]:
    """The folded keywords of one theme (mode markers removed), for display and tests."""
    return tuple(_mode(fold(raw))[0] for raw in _LEXICON[theme])


def _matches(token: str, keyword: _Keyword) -> list[tuple[int, int]]:
    """Spans of ``token`` covered by ``keyword``."""
    text = keyword.text
    if keyword.mode is _Mode.WORD:
        return [(0, len(token))] if token in (text, text + "s") else []
    if keyword.mode is _Mode.PREFIX:
        return [(0, len(text))] if token.startswith(text) else []
    spans = []
    start = token.find(text)
    while start >= 0:
        spans.append((start, start + len(text)))
        start = token.find(text, start + len(text))
    return spans


@lru_cache(maxsize=4096)
def _token_hits(token: str) -> tuple[str, ...]:
    """Themes of one word: longest keywords first, overlapping shorter ones dropped."""
    candidates: list[tuple[int, int, _Keyword]] = []
    for keyword in _WORDS.values():
        if len(keyword.text) > len(token):
            continue
        for start, end in _matches(token, keyword):
            candidates.append((start, end, keyword))
    candidates.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
    taken: list[tuple[int, int]] = []
    hits: list[str] = []
    for start, end, keyword in candidates:
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        hits.extend(keyword.themes)
    return tuple(hits)


def _phrase_at(words: list[str], i: int) -> tuple[int, _Keyword] | None:
    for length in _PHRASE_LENGTHS:
        window = words[i : i + length]
        if len(window) < length:
            continue
        for phrase, keyword in _PHRASES.items():
            if (
                len(phrase) == length
                and tuple(window[:-1]) == phrase[:-1]
                and window[-1].startswith(phrase[-1])
            ):
                return length, keyword
    return None


def _hits(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    words = tokens(text)
    i = 0
    while i < len(words):
        phrase = _phrase_at(words, i)
        if phrase is not None:
            length, keyword = phrase
            counts.update(keyword.themes)
            i += length
            continue
        counts.update(_token_hits(words[i]))
        i += 1
    return counts


def scores(text: str) -> dict[str, int]:
    """Keyword hits per theme (themes without hits left out)."""
    return dict(_hits(text))


def detect(text: str, *, limit: int = 3) -> list[str]:
    """Themes of ``text``, most keyword hits first (ties in ``THEMES`` order), at most ``limit``."""
    if limit <= 0:
        return []
    counts = _hits(text)
    ranked = sorted((t for t in THEMES if counts[t] > 0), key=lambda t: -counts[t])
    return ranked[:limit]


_BY_NAME: dict[str, str] = {
    **{key: key for key in THEMES},
    **{english: key for key, english in ENGLISH.items()},
}
_CONNECTORS = frozenset({"en", "and", "of", "or", "&", "+"})
ECHO_MAX = 60  # characters of unknown words a refusal repeats
_SPLIT_RE = re.compile(r"[\s,;/|]+")


def _clean(word: str) -> str:
    return word.strip(".!?:\"'()[]{}#*<>")


def parse(words: str) -> tuple[list[str], list[str]]:
    """Themes a person typed: ("groen, spelen" / "green play") → (theme keys, unknown words).

    Dutch keys and English names, any case, accents ignored; separated by spaces, commas,
    semicolons, slashes or "en"/"and". Both lists keep the typed order, without repeats;
    unknown words are returned as typed.
    """
    known: list[str] = []
    unknown: list[str] = []
    for raw in _SPLIT_RE.split(words):
        word = _clean(raw)
        folded = fold(word)
        if not folded or folded in _CONNECTORS:
            continue
        key = _BY_NAME.get(folded)
        if key is None:
            if word not in unknown:
                unknown.append(word)
        elif key not in known:
            known.append(key)
    return known, unknown


def echo(unknown: list[str]) -> str:
    """Unknown words as a refusal repeats them: never so long that the answer cannot be
    sent (Telegram refuses a message over 4,096 characters)."""
    text = ", ".join(unknown)
    return text if len(text) <= ECHO_MAX else text[: ECHO_MAX - 1] + "…"
