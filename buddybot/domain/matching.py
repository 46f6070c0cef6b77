"""Which partners of the *sociale alliantie* fit an idea.

Pure functions, no I/O. A partner scores

* ``THEME_POINTS`` (2) for every theme it shares with the idea, and
* ``WORD_POINTS`` (1) for every distinct word of its offer that the idea also uses.

Themes weigh most; words are the tie-breaker and catch what themes miss ("taalcafé",
"portiek", a partner without themes). The caller renders the reasons from the ``Match``
fields ("zelfde thema: groen", "ze bieden: moestuinen").

How words are compared (idea title + description against the offer, nl and en):

1. words of at least four letters, folded (``themes.fold``: lowercase, no accents); Dutch
   and English stop words (``similar.STOP_WORDS`` plus longer function words) and words
   every idea uses ("buurt", "bewoners", "samen", "people", "helpen", "activiteiten")
   never count.
2. light stemming, at most two endings: diminutives and plurals (-tje(s), -pje(s), -je(s),
   -en, -es, -s), English -ing, Dutch adjective -e; a stem that ends in one short a/o/u
   between consonants gets its long vowel back ("bomen" → "boom", "zaden" → "zaad",
   "eenzame" → "eenzaam").
3. a small English → Dutch glossary of neighbourhood words ("vegetable garden" → moestuin,
   "lonely" → eenzaam, "library" → bibliotheek), so an English idea finds a Dutch offer
   and the other way round.
4. two stems are the same word when equal; when the shorter one (at least five letters)
   is inside the other with at least three letters to spare (Dutch compounds: "moestuin" /
   "buurtmoestuin", but not "groen" / "groente"); or when both have at least six letters
   and ``rapidfuzz`` ratio is at least 88 (typos).

A partner without themes gets the themes ``themes.detect`` finds in its offer; an idea
without themes gets those of its title and description. Equal scores are ordered by
partner id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from buddybot.domain import themes
from buddybot.domain.similar import STOP_WORDS

THEME_POINTS = 2.0
WORD_POINTS = 1.0
DEFAULT_MINIMUM = 1.0  # any shared theme or word: "taalcafé" alone is a good reason
DEFAULT_LIMIT = 3

_MIN_WORD = 4  # shorter words never count
_MIN_COMPOUND = 5  # "moestuin" inside "buurtmoestuin"
_MIN_REST = 3  # ... leaving a word part: "groen" is not inside "groente"
_MIN_FUZZY = 6  # both stems at least this long for a fuzzy match
_FUZZY_RATIO = 88.0
_STEM_PASSES = 2  # "mornings" → "morning" → "morn"

# fmt: off
_EXTRA_STOP_WORDS: frozenset[str] = frozenset({
    # nl function words of four letters or more
    "rond", "rondom", "zonder", "tussen", "onder", "boven", "naast", "achter", "langs",
    "elke", "ieder", "iedere", "alle", "allemaal", "hebben", "heeft", "hebt", "doen", "gaan",
    "maken", "moet", "moeten", "zouden", "zullen", "waar", "wanneer", "waarom", "welke",
    "zodat", "omdat", "want", "niet", "geen", "ander", "andere", "elkaar", "sommige", "zelf",
    "eigen", "zich", "beter", "betere", "goed", "goede", "mooi", "mooie", "groot", "grote",
    "klein", "kleine", "keer", "week", "weken", "maand", "jaar", "samen", "altijd", "vaak",
    "soms", "echt", "gewoon", "misschien", "zeker", "eens", "weer", "alleen",
    # en function words of four letters or more
    "about", "without", "their", "they", "them", "there", "here", "what", "when", "where",
    "which", "will", "have", "has", "make", "making", "every", "each", "other", "also",
    "than", "then", "just", "very", "much", "many", "most", "better", "good", "great",
    "nice", "weekly", "together", "should", "could", "need", "needs", "really",
    "maybe", "once", "only", "always", "often",
})

# Words (nearly) every idea or offer uses: they say nothing about the fit.
GENERIC_WORDS: frozenset[str] = frozenset({
    # nl
    "buurt", "buurten", "wijk", "wijken", "bewoner", "bewoners", "buurtbewoners",
    "wijkbewoners", "mensen", "iedereen", "help", "helpen", "hulp", "activiteit",
    "activiteiten", "idee", "ideeen", "plan", "plannen", "initiatief", "project",
    "projecten", "straat", "straten", "lokaal", "lokale",
    # en
    "neighbourhood", "neighbourhoods", "neighborhood", "neighborhoods", "neighbour",
    "neighbours", "neighbor", "neighbors", "community", "communities", "people", "everyone",
    "helping", "activity", "activities", "idea", "ideas", "plans", "projects",
    "initiative", "initiatives", "street", "streets", "local", "resident", "residents",
})

# English words and two-word phrases → the Dutch words they mean, for matching across
# languages. Written plainly; stemmed when the module loads.
_GLOSSARY: dict[str, tuple[str, ...]] = {
    "garden": ("tuin",),
    "vegetable garden": ("moestuin",),
    "kitchen garden": ("moestuin",),
    "veggie garden": ("moestuin",),
    "community garden": ("moestuin",),
    "allotment": ("moestuin",),
    "front garden": ("geveltuin",),
    "facade garden": ("geveltuin",),
    "vegetable": ("groente",),
    "veggie": ("groente",),
    "seed": ("zaad",),
    "soil": ("aarde",),
    "tree": ("boom",),
    "flower": ("bloem",),
    "playground": ("speeltuin",),
    "play area": ("speeltuin",),
    "litter": ("zwerfafval",),
    "rubbish": ("afval",),
    "trash": ("afval",),
    "waste": ("afval",),
    "garbage": ("afval",),
    "cleanup": ("opruimactie",),
    "clean up": ("opruimactie",),
    "material": ("materiaal",),
    "tools": ("materiaal",),
    "lighting": ("verlichting",),
    "light": ("verlichting",),
    "streetlight": ("verlichting",),
    "stairwell": ("portiek",),
    "porch": ("portiek",),
    "entrance": ("portiek",),
    "maintenance": ("onderhoud",),
    "home": ("woning",),
    "house": ("woning",),
    "housing": ("woning",),
    "funding": ("budget",),
    "grant": ("budget",),
    "library": ("bibliotheek",),
    "book": ("boek",),
    "reading": ("voorlezen",),
    "read aloud": ("voorlezen",),
    "story time": ("voorlezen",),
    "storytelling": ("voorlezen",),
    "kids": ("kinderen",),
    "child": ("kinderen",),
    "children": ("kinderen",),
    "language": ("taal",),
    "language cafe": ("taalcafe",),
    "conversation cafe": ("taalcafe",),
    "lonely": ("eenzaam",),
    "loneliness": ("eenzaamheid",),
    "elderly": ("ouderen",),
    "senior": ("ouderen",),
    "older people": ("ouderen",),
    "youth": ("jongeren",),
    "young people": ("jongeren",),
    "teenager": ("jongeren",),
    "coffee": ("koffie",),
    "coffee morning": ("koffieochtend",),
    "community centre": ("buurthuis",),
    "community center": ("buurthuis",),
    "space": ("ruimte",),
    "venue": ("ruimte",),
    "community worker": ("opbouwwerker",),
    "advice": ("advies",),
    "discount": ("korting",),
}
# fmt: on

_SUFFIXES = ("tjes", "pjes", "jes", "tje", "pje", "je", "ing", "en", "es", "s", "e")
_LONG_AFTER = frozenset({"en", "e"})  # endings after which a short vowel may be long
_VOWELS = frozenset("aeiouy")
_SHORT_LONG = frozenset("aou")

_APOSTROPHES = re.compile(r"['’‘`´]")
_WORD_RE = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class PartnerProfile:
    id: int
    name: str
    themes: tuple[str, ...]  # keys from themes.THEMES; empty: detected from the offer
    offer: str  # free text, nl or en: what they offer


@dataclass(frozen=True)
class IdeaProfile:
    title: str
    description: str
    themes: tuple[str, ...]  # empty: detected from title and description


@dataclass(frozen=True)
class Match:
    partner_id: int
    score: float  # higher is better
    shared_themes: tuple[str, ...]  # theme keys in common, in the idea's order
    shared_words: tuple[str, ...]  # offer words (lowercase, as written) the idea also uses


@dataclass(frozen=True)
class _Unit:
    """One word of a text, or a two-word glossary phrase."""

    written: str  # lowercase, accents kept: what the caller shows
    stem: str  # identity: one point per distinct stem
    keys: frozenset[str]  # stems it matches with: its own and its Dutch translations
    span: tuple[int, int]  # word positions it covers


def _strip_once(word: str) -> str:
    for suffix in _SUFFIXES:
        if not word.endswith(suffix):
            continue
        rest = word[: -len(suffix)]
        if suffix.startswith("tje") and rest[-1:] in _VOWELS:
            continue  # "straatje" is straat + je, not straa + tje
        long = _lengthen(rest) if suffix in _LONG_AFTER else rest
        if len(rest) >= _MIN_WORD or (long != rest and len(long) >= _MIN_WORD):
            return long
    return word


def _lengthen(rest: str) -> str:
    """ "bom" → "boom", "zad" → "zaad": a short a/o/u between consonants, doubled."""
    if (
        len(rest) >= 3
        and rest[-1] not in _VOWELS
        and rest[-2] in _SHORT_LONG
        and rest[-3] not in _VOWELS
    ):
        return rest[:-1] + rest[-2] + rest[-1]
    return rest


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """Light Dutch/English stem of a folded word: "moestuinen" → "moestuin"."""
    for _ in range(_STEM_PASSES):
        stripped = _strip_once(word)
        if stripped == word:
            break
        word = stripped
    return word


_IGNORED: frozenset[str] = STOP_WORDS | _EXTRA_STOP_WORDS | GENERIC_WORDS
_IGNORED_STEMS: frozenset[str] = frozenset(stem(w) for w in _IGNORED)


def _build_glossary() -> tuple[dict[str, frozenset[str]], dict[tuple[str, str], frozenset[str]]]:
    words: dict[str, set[str]] = {}
    phrases: dict[tuple[str, str], set[str]] = {}
    for english, dutch in _GLOSSARY.items():
        stems = [stem(w) for w in themes.tokens(english)]
        meaning = {stem(w) for d in dutch for w in themes.tokens(d)}
        if len(stems) == 1:
            words.setdefault(stems[0], set()).update(meaning)
        elif len(stems) == 2:
            phrases.setdefault((stems[0], stems[1]), set()).update(meaning)
    return (
        {k: frozenset(v) for k, v in words.items()},
        {k: frozenset(v) for k, v in phrases.items()},
    )


_WORD_GLOSSARY, _PHRASE_GLOSSARY = _build_glossary()


def ignored(word: str) -> bool:
    """True for words that never count as shared: short, stop words, generic words."""
    folded = themes.fold(word)
    return len(folded) < _MIN_WORD or folded in _IGNORED or stem(folded) in _IGNORED_STEMS


def _units(text: str) -> list[_Unit]:
    raw = _WORD_RE.findall(_APOSTROPHES.sub("", text))
    folded = [themes.fold(w) for w in raw]
    stems = [stem(f) for f in folded]
    units: list[_Unit] = []
    for i, word in enumerate(raw):
        if i + 1 < len(raw):
            meaning = _PHRASE_GLOSSARY.get((stems[i], stems[i + 1]))
            if meaning is not None:
                units.append(
                    _Unit(
                        f"{word.lower()} {raw[i + 1].lower()}",
                        f"{stems[i]} {stems[i + 1]}",
                        meaning,
                        (i, i + 2),
                    )
                )
        if ignored(word):
            continue
        keys = frozenset({stems[i]}) | _WORD_GLOSSARY.get(stems[i], frozenset())
        units.append(_Unit(word.lower(), stems[i], keys, (i, i + 1)))
    return units


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    if len(short) >= _MIN_COMPOUND and short in long and len(long) - len(short) >= _MIN_REST:
        return True
    return len(short) >= _MIN_FUZZY and fuzz.ratio(a, b) >= _FUZZY_RATIO


def _fits(offer: _Unit, idea: Iterable[_Unit]) -> bool:
    return any(_same(a, b) for unit in idea for a in offer.keys for b in unit.keys)


def shared_words(idea_text: str, offer: str) -> tuple[str, ...]:
    """Words of ``offer`` (lowercase, as written, in offer order) that ``idea_text`` also uses.

    One word per stem; a matched two-word phrase replaces its own words.
    """
    idea_units = _units(idea_text)
    matched = [u for u in _units(offer) if _fits(u, idea_units)]
    phrases = [u.span for u in matched if u.span[1] - u.span[0] > 1]
    found: list[str] = []
    seen: set[str] = set()
    for unit in matched:
        inside = any(s <= unit.span[0] and unit.span[1] <= e for s, e in phrases)
        if (inside and unit.span[1] - unit.span[0] == 1) or unit.stem in seen:
            continue
        seen.add(unit.stem)
        found.append(unit.written)
    return tuple(found)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def idea_themes(idea: IdeaProfile) -> tuple[str, ...]:
    """The idea's themes, or those detected in its title and description when it has none."""
    if idea.themes:
        return _unique(idea.themes)
    return tuple(themes.detect(f"{idea.title}\n{idea.description}"))


def partner_themes(partner: PartnerProfile) -> tuple[str, ...]:
    """The partner's themes, or those detected in its offer when it lists none."""
    if partner.themes:
        return _unique(partner.themes)
    return tuple(themes.detect(partner.offer))


def score(idea: IdeaProfile, partner: PartnerProfile) -> Match:
    """How well one partner fits one idea, with the reasons."""
    wanted = idea_themes(idea)
    offered = set(partner_themes(partner))
    common = tuple(t for t in wanted if t in offered)
    words = shared_words(f"{idea.title}\n{idea.description}", partner.offer)
    points = THEME_POINTS * len(common) + WORD_POINTS * len(words)
    return Match(partner.id, points, common, words)


def rank(
    idea: IdeaProfile,
    partners: Sequence[PartnerProfile],
    *,
    limit: int = DEFAULT_LIMIT,
    minimum: float = DEFAULT_MINIMUM,
) -> list[Match]:
    """Partners ranked by theme overlap and by words shared between the idea and the offer.

    Only partners scoring at least ``minimum`` (default: one shared theme or word; never
    a partner with nothing in common); best first, equal scores by partner id; at most
    ``limit``.
    """
    if limit <= 0:
        return []
    matches = [score(idea, p) for p in partners]
    kept = [m for m in matches if m.score >= minimum and m.score > 0]
    kept.sort(key=lambda m: (-m.score, m.partner_id))
    return kept[:limit]
