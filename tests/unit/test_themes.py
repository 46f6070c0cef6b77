"""Themes from an idea's words: compounds, both languages, accents, and the known traps."""

from __future__ import annotations

import pytest

from buddybot.domain import themes
from buddybot.domain.themes import THEMES, detect, fold, parse, scores


def test_theme_keys_are_stable() -> None:
    assert THEMES == (
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
    assert set(themes.ENGLISH) == set(THEMES)


@pytest.mark.parametrize("theme", THEMES)
def test_every_theme_has_folded_keywords(theme: str) -> None:
    words = themes.keywords(theme)
    assert len(words) >= 8
    assert all(w == fold(w) and w == w.strip() for w in words)


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        # Dutch, plain words
        ("Meer bomen in de Kerkstraat", "groen"),
        ("Een schommel en een glijbaan", "spelen"),
        ("Betere verlichting bij het pad, het is daar donker", "veiligheid"),
        ("Koffie drinken met de buren", "ontmoeting"),
        ("Een drempel tegen te hard rijden", "verkeer"),
        ("Zonnepanelen op alle daken", "duurzaamheid"),
        ("Muziek en theater op het plein", "cultuur"),
        ("Steun voor mantelzorgers", "zorg"),
        ("Een plek voor tieners", "jongeren"),
        ("Uitjes voor senioren", "ouderen"),
        ("Zwerfafval prikken op zaterdag", "schoon"),
        ("Betaalbare huurwoningen", "wonen"),
        ("Bootcamp in het park", "sport"),
        ("Samen koken en eten", "eten"),
        # Dutch compounds
        ("Geveltuintjes in onze straat", "groen"),
        ("Twee nieuwe speeltuinen", "spelen"),
        ("Een bomenplan voor de wijk", "groen"),
        ("Buurtmoestuin achter de school", "groen"),
        ("Verkeersdrempels bij de basisschool", "verkeer"),
        ("Elke maand een buurtmaaltijd", "eten"),
        ("Opruimactie na oud en nieuw", "schoon"),
        ("Een hardloopgroepje voor beginners", "sport"),
        # English
        ("Plant trees along the canal", "groen"),
        ("A new playground for the kids", "spelen"),
        ("Speed bumps on Main Street", "verkeer"),
        ("More street lights, it feels unsafe", "veiligheid"),
        ("Solar panels on the community centre", "duurzaamheid"),
        ("A mural on the railway bridge", "cultuur"),
        ("Weekly coffee morning for lonely neighbours", "zorg"),
        ("Football tournament for teenagers", "sport"),
        ("Cooking club with shared meals", "eten"),
        ("Pick up litter together", "schoon"),
        ("Affordable rent for young families", "wonen"),
        # accents and uppercase
        ("Café voor iedereen", "ontmoeting"),
        ("POËZIE IN DE BIEB", "cultuur"),
        ("BOMEN PLANTEN!!!", "groen"),
        ("Repair Café in het buurthuis", "duurzaamheid"),
    ],
)
def test_detects_theme(text: str, theme: str) -> None:
    assert theme in detect(text, limit=len(THEMES))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Idee nummer 42",
        "Ik wil graag dat we zorgen dat het beter wordt",  # "zorgen dat" is not care
        "Transport regelen voor de markt",  # not sport
        "Kunststof scheiden is lastig",  # not kunst
        "Een brief naar de autoriteiten",  # not auto
        "Neighbourhood plans for next year",
    ],
)
def test_no_theme(text: str) -> None:
    assert detect(text) == []


@pytest.mark.parametrize(
    "text",
    ["Meer parkeerplaatsen", "Parkeren op de stoep", "Parking spaces for residents"],
)
def test_parking_is_traffic_not_green(text: str) -> None:
    found = detect(text)
    assert "verkeer" in found
    assert "groen" not in found


@pytest.mark.parametrize("text", ["Een bankje in het park", "Parkje bij de vijver", "Park cleanup"])
def test_park_itself_is_green(text: str) -> None:
    assert "groen" in detect(text)


def test_parking_next_to_the_park_is_both() -> None:
    assert set(detect("Parkeren naast het park")) == {"verkeer", "groen"}


def test_longest_keyword_wins_inside_a_word() -> None:
    assert detect("Een groentetuin") == ["eten"]  # not groen
    assert "groen" not in detect("Verse groente voor iedereen")
    assert detect("Recycling bij de school") == ["duurzaamheid"]  # not cycling → verkeer
    assert detect("Kunstgrasveld") == ["sport"]  # not kunst → cultuur


def test_a_compound_can_carry_two_themes() -> None:
    assert set(detect("Een parkbankje")) == {"groen", "ontmoeting"}
    assert set(detect("Fruitbomen")) == {"groen", "eten"}


def test_ranked_by_hits_then_theme_order() -> None:
    text = "Bomen, bloemen en een moestuin, met een buurtfeest en een speeltuin"
    assert scores(text) == {"groen": 3, "ontmoeting": 1, "spelen": 1}
    # groen has most hits; spelen and ontmoeting tie and follow THEMES order
    assert detect(text) == ["groen", "spelen", "ontmoeting"]


def test_tie_uses_theme_order() -> None:
    assert detect("Eten en voetbal") == ["sport", "eten"]
    assert detect("Voetbal en eten") == ["sport", "eten"]


def test_limit() -> None:
    text = "Bomen, speeltuin, verlichting, koffie, drempel, zonnepanelen, muziek"
    assert len(detect(text)) == 3
    assert detect(text, limit=1) == ["groen"]
    assert detect(text, limit=0) == []
    assert detect(text, limit=-1) == []
    assert detect(text, limit=20) == [
        "groen",
        "spelen",
        "veiligheid",
        "ontmoeting",
        "verkeer",
        "duurzaamheid",
        "cultuur",
    ]


def test_phrases() -> None:
    assert detect("Kinderen spelen op straat") == ["spelen"]
    assert scores("Kinderen spelen op straat") == {"spelen": 1}  # one phrase, one hit
    assert detect("Older people feel alone") == ["ouderen"]
    assert detect("Er wordt hard gereden") == ["verkeer"]


def test_words_inside_other_words_do_not_count() -> None:
    assert detect("Een straatje") == []  # "tree" only starts a word
    assert detect("Vergeten te weten") == []  # "eten" only starts a word
    assert detect("Een goede carrière") == []  # "care" is a whole word


@pytest.mark.parametrize(
    ("typed", "known", "unknown"),
    [
        ("groen, spelen", ["groen", "spelen"], []),
        ("green play", ["groen", "spelen"], []),
        ("Groen ontmoeting", ["groen", "ontmoeting"], []),
        ("GREEN; Safety / verkeer", ["groen", "veiligheid", "verkeer"], []),
        ("groen en spelen", ["groen", "spelen"], []),
        ("food and care", ["eten", "zorg"], []),
        ("groen, green, Groen", ["groen"], []),
        ("groen, bloemen, xyz, bloemen", ["groen"], ["bloemen", "xyz"]),
        (
            "Sustainability, culture, youth, elderly",
            ["duurzaamheid", "cultuur", "jongeren", "ouderen"],
            [],
        ),
        (
            "clean housing sport meeting traffic",
            ["schoon", "wonen", "sport", "ontmoeting", "verkeer"],
            [],
        ),
        ("Café, sport", ["sport"], ["Café"]),
        ("", [], []),
        (" , ; ", [], []),
    ],
)
def test_parse(typed: str, known: list[str], unknown: list[str]) -> None:
    assert parse(typed) == (known, unknown)


def test_parse_accepts_every_key_and_english_name() -> None:
    assert parse(" ".join(THEMES)) == (list(THEMES), [])
    assert parse(" ".join(themes.ENGLISH.values()).upper()) == (list(THEMES), [])
