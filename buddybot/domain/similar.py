"""Near-duplicate idea titles within one wijk.

Pure functions, no I/O. Titles are compared word by word, not as one string, so a long
shared word cannot hide a different one ("Koffieochtend voor ouderen" is not
"Koffieochtend voor jongeren"):

1. ``normalize``: lowercase, accents and punctuation gone, Dutch and English stop words
   dropped ("Een moestuin op het pleintje!" → "moestuin pleintje").
2. every word loses a plural or diminutive ending ("pleintje" → "plein", "bumps" → "bump").
3. words are paired greedily, best pair first; a pair counts when the words are equal,
   nearly equal (typos: ``rapidfuzz`` ratio ≥ 80, both at least five letters), or one
   ends with the other of at least five letters (Dutch compounds: "basisschool" /
   "school"). Titles equal but for spaces ("Repair café" / "Repaircafé") score 100.
4. the score (0-100) is the mean of how much of both titles is paired (by letters) and
   how much of the better-covered title is paired, so a title that only adds words to
   another still scores fairly high. When either title is a single word only the first
   part counts: one word must be (nearly) the whole other title.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import fuzz

from buddybot.domain.themes import fold

# fmt: off
STOP_WORDS: frozenset[str] = frozenset({
    # nl
    "de", "het", "een", "en", "van", "voor", "op", "in", "met", "bij", "aan", "te", "naar",
    "om", "of", "uit", "door", "over", "tot", "dat", "die", "dit", "deze", "er", "is",
    "zijn", "wordt", "worden", "ons", "onze", "we", "wij", "ik", "je", "jij", "u", "hun",
    "mijn", "ze", "zij", "als", "dan", "ook", "nog", "meer", "maar", "al", "wat", "weer",
    "graag", "even", "iets", "via", "per", "zo", "dus", "hier", "daar", "heel", "erg",
    "veel", "wel", "toch", "na", "nieuw", "nieuwe", "extra", "komt", "komen", "kan",
    "kunnen", "willen", "wil", "laten", "jullie",
    # en
    "the", "a", "an", "and", "for", "on", "with", "to", "at", "by", "from", "our",
    "us", "i", "my", "your", "you", "it", "its", "this", "that", "these", "those", "are",
    "be", "more", "some", "new", "please", "into", "near", "around", "lets", "let", "get",
    "can", "want", "would", "like", "or",
})
# fmt: on

_SUFFIXES = ("tjes", "pjes", "jes", "tje", "pje", "je", "en", "es", "s")
_MIN_STEM = 4
_PAIR_MIN = 80.0  # rapidfuzz ratio from which two different words are "the same word"
_COMPOUND = 90.0  # "basisschool" / "school"
_COMPOUND_MIN = 5
_FUZZY_MIN = 5  # shorter words only pair when equal
_MAX_RESULTS = 3

_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[\W_]+")


def normalize(title: str) -> str:
    """Lowercase, no accents, no punctuation, no stop words, single spaces."""
    text = _NON_WORD.sub(" ", _APOSTROPHES.sub("", fold(title)))
    return " ".join(w for w in text.split() if w not in STOP_WORDS)


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


def _words(normalized: str) -> list[str]:
    return [_stem(w) for w in normalized.split()]


def _pair(a: str, b: str) -> float:
    """0..1: how much two (stemmed) words are the same word; 0 below the pairing bar."""
    if a == b:
        return 1.0
    short, long = sorted((a, b), key=len)
    if len(short) >= _COMPOUND_MIN and long.endswith(short):
        return _COMPOUND / 100
    if len(short) < _FUZZY_MIN:  # "park" / "parker": short words must be equal
        return 0.0
    ratio = fuzz.ratio(a, b)
    return ratio / 100 if ratio >= _PAIR_MIN else 0.0


def _score(words_a: list[str], words_b: list[str]) -> float:
    if not words_a or not words_b:
        return 0.0
    pairs = sorted(
        (
            (sim, i, j)
            for i, wa in enumerate(words_a)
            for j, wb in enumerate(words_b)
            if (sim := _pair(wa, wb)) > 0
        ),
        key=lambda p: (-p[0], p[1], p[2]),
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    covered_a = covered_b = 0.0
    for sim, i, j in pairs:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        covered_a += sim * len(words_a[i])
        covered_b += sim * len(words_b[j])
    total_a = sum(map(len, words_a))
    total_b = sum(map(len, words_b))
    both = (covered_a + covered_b) / (total_a + total_b)
    if len(words_a) == 1 or len(words_b) == 1:
        return round(100 * both, 1)
    best = max(covered_a / total_a, covered_b / total_b)
    return round(100 * (both + best) / 2, 1)


def similarity(a: str, b: str) -> float:
    """How much two idea titles are the same idea, 0..100.

    Titles that are nothing but stop words ("De", "the") only match an identical title.
    Two empty titles score 0.
    """
    return _compare(normalize(a), normalize(b), a, b)


def _compare(norm_a: str, norm_b: str, a: str, b: str) -> float:
    if not norm_a or not norm_b:
        plain_a, plain_b = (" ".join(_NON_WORD.sub(" ", fold(t)).split()) for t in (a, b))
        return 100.0 if plain_a and plain_a == plain_b else 0.0
    if norm_a.replace(" ", "") == norm_b.replace(" ", ""):  # "repair cafe" / "repaircafe"
        return 100.0
    return _score(_words(norm_a), _words(norm_b))


def closest(
    title: str, candidates: Iterable[tuple[int, str]], *, threshold: float = 85.0
) -> list[tuple[int, float]]:
    """(id, score) of the candidates scoring at least ``threshold``; best first, at most 3.

    Equal scores keep the candidates' order.
    """
    norm = normalize(title)
    found: list[tuple[int, float]] = []
    for ident, other in candidates:
        score = _compare(norm, normalize(other), title, other)
        if score >= threshold:
            found.append((ident, score))
    found.sort(key=lambda f: -f[1])
    return found[:_MAX_RESULTS]
