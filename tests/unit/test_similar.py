"""Near-duplicate idea titles: same idea in other words, and different ideas that look alike."""

from __future__ import annotations

import pytest

from buddybot.domain.similar import closest, normalize, similarity


@pytest.mark.parametrize(
    ("title", "normalized"),
    [
        ("Een moestuin op het pleintje!", "moestuin pleintje"),
        ("  Meer   BOMEN  in de straat ", "bomen straat"),
        ("Café voor de buurt", "cafe buurt"),
        ("A playground for the kids, please", "playground kids"),
        ("Auto's weg uit de straat", "autos weg straat"),
        ("30 km/u zone", "30 km zone"),  # "u" is a stop word (you)
        ("De", ""),
        ("", ""),
        ("Geen parkeren op de stoep", "geen parkeren stoep"),
    ],
)
def test_normalize(title: str, normalized: str) -> None:
    assert normalize(title) == normalized


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Moestuin op het plein", "Een moestuin op het pleintje"),
        ("Moestuin op het plein", "moestuin plein"),
        ("Speeltuin bij de school", "Speeltuin bij de basisschool"),
        ("Meer bomen in de Kerkstraat", "Bomen Kerkstraat"),
        ("Een bankje in het park", "Bankjes in het park"),
        ("Buurtbarbecue in de zomer", "Barbecue in de zomer"),
        ("Moestiun op het plein", "Moestuin op het plein"),  # typo
        ("Drempels in de Kerkstraat", "Verkeersdrempel Kerkstraat"),
        ("Repair café", "Repaircafé"),
        ("Plein", "Pleintje"),
        ("Speed bumps on Main Street", "A speed bump in Main Street"),
        ("Playground near the school", "A new playground by the school"),
        ("Dog poo bins", "Bins for dog poo"),
        ("More benches in the park", "Benches in the park"),
    ],
)
def test_same_idea(a: str, b: str) -> None:
    assert similarity(a, b) >= 85
    assert similarity(b, a) == similarity(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Moestuin op het plein", "Speeltuin bij de school"),
        ("Koffieochtend voor ouderen", "Koffieochtend voor jongeren"),
        ("Bomen in de Dorpsstraat", "Bomen in de Kerkstraat"),
        ("Bomen in de Kerkstraat", "Bomen op het plein"),
        ("Zonnepanelen op het buurthuis", "Zonnepanelen op de school"),
        ("Playground near the school", "Litter picking in the park"),
        ("Street party in June", "Street lights in June"),
        ("Café in de bibliotheek", "Cafe in the library"),  # other language, other words
    ],
)
def test_different_ideas(a: str, b: str) -> None:
    assert similarity(a, b) < 85


def test_spec_examples() -> None:
    assert similarity("Moestuin op het plein", "Een moestuin op het pleintje") >= 85
    assert similarity("Moestuin op het plein", "Speeltuin bij de school") < 60


def test_range() -> None:
    assert similarity("Moestuin op het plein", "Moestuin op het plein") == 100.0
    assert similarity("Moestuin", "Fietsenstalling") == 0.0
    score = similarity("Moestuin op het plein", "Moestuin op het plein bij de kerk")
    assert 0.0 <= score <= 100.0


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Plein", "Moestuin op het plein"),
        ("Bomen", "Bomen in de Kerkstraat"),
        ("Park", "Parkeren"),
        ("Feest", "Buurtfeest met muziek en eten"),
        ("Trees", "Trees for the school yard"),
    ],
)
def test_one_word_title_does_not_match_everything(a: str, b: str) -> None:
    assert similarity(a, b) < 85
    assert similarity(b, a) < 85


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("", "", 0.0),
        ("", "Moestuin", 0.0),
        ("De", "Moestuin", 0.0),
        ("De", "Het", 0.0),
        ("De", "de", 100.0),
        ("The", "the!", 100.0),
        ("!!!", "???", 0.0),
    ],
)
def test_empty_and_stop_word_titles(a: str, b: str, expected: float) -> None:
    assert similarity(a, b) == expected


def test_closest_best_first_at_most_three() -> None:
    candidates = [
        (1, "Speeltuin bij de school"),
        (2, "Moestuin op het plein bij de kerk"),
        (3, "Een moestuin op het pleintje"),
        (4, "Moestuin"),
        (5, "moestuin plein"),
        (6, "Moestuinen op het plein"),
    ]
    found = closest("Moestuin op het plein", candidates)
    assert [ident for ident, _ in found] == [3, 5, 6]  # all 100, candidate order kept
    assert all(score == 100.0 for _, score in found)


def test_closest_threshold() -> None:
    candidates = [(7, "Moestuin op het plein bij de kerk"), (8, "Speeltuin bij de school")]
    score = similarity("Moestuin op het plein", "Moestuin op het plein bij de kerk")
    assert closest("Moestuin op het plein", candidates, threshold=score) == [(7, score)]
    assert closest("Moestuin op het plein", candidates, threshold=score + 0.1) == []
    assert closest("Moestuin op het plein", candidates, threshold=0) == [(7, score), (8, 0.0)]


def test_closest_sorts_by_score() -> None:
    candidates = [
        (1, "Speeltuin bij de basisschool"),
        (2, "Speeltuin bij de school"),
        (3, "Moestuin"),
    ]
    found = closest("Speeltuin bij school", candidates, threshold=50)
    assert [ident for ident, _ in found] == [2, 1]
    assert found[0][1] > found[1][1]


def test_closest_empty() -> None:
    assert closest("Moestuin", []) == []
    assert closest("", [(1, ""), (2, "De")]) == []
    assert closest("de", [(1, "De"), (2, "Het")]) == [(1, 100.0)]


def test_closest_accepts_a_generator() -> None:
    titles = {1: "Bankjes in het park", 2: "Zonnepanelen"}
    assert closest("Een bankje in het park", ((i, t) for i, t in titles.items())) == [(1, 100.0)]
