"""Matching ideas to partners of the sociale alliantie: a small, realistic alliance."""

from __future__ import annotations

import pytest

from buddybot.domain import themes
from buddybot.domain.matching import (
    DEFAULT_MINIMUM,
    GENERIC_WORDS,
    THEME_POINTS,
    WORD_POINTS,
    IdeaProfile,
    Match,
    PartnerProfile,
    ignored,
    partner_themes,
    rank,
    shared_words,
    stem,
)
from buddybot.domain.similar import STOP_WORDS

LINDE = PartnerProfile(
    1,
    "Woonstichting De Linde",
    ("wonen", "veiligheid"),
    "Onderhoud van portieken, verlichting en groen rond onze woningen; "
    "budget voor bewonersinitiatieven",
)
WELZIJN = PartnerProfile(
    2,
    "Welzijn Oost",
    ("ontmoeting", "zorg", "ouderen", "jongeren"),
    "Opbouwwerkers die helpen met organiseren, een ruimte in het buurthuis, "
    "contact met eenzame ouderen",
)
BIEB = PartnerProfile(
    3,
    "Bibliotheek Centrum",
    ("cultuur", "jongeren"),
    "Ruimte voor activiteiten, taalcafé, voorlezen voor kinderen, boeken en een repair café",
)
TUINCENTRUM = PartnerProfile(
    4,
    "Tuincentrum Groenrijk",
    ("groen", "duurzaamheid"),
    "Planten, zaden en aarde met korting, advies over moestuinen en geveltuinen",
)
GEMEENTE = PartnerProfile(
    5,
    "Gemeente – afdeling Groen",
    ("groen", "schoon", "spelen"),
    "Bomen, plantsoenen, speeltuinen en zwerfafval; materiaal voor opruimacties",
)
ALLIANCE = (LINDE, WELZIJN, BIEB, TUINCENTRUM, GEMEENTE)


def idea(title: str, description: str = "") -> IdeaProfile:
    """An idea as the bot stores it: themes detected from its title and description."""
    return IdeaProfile(title, description, tuple(themes.detect(f"{title}\n{description}")))


def first(title: str, description: str = "") -> int:
    matches = rank(idea(title, description), ALLIANCE)
    assert matches, f"no partner for {title!r}"
    return matches[0].partner_id


@pytest.mark.parametrize(
    ("title", "description", "expected"),
    [
        # nl
        ("Moestuin op het plein", "", TUINCENTRUM),
        # A geveltuin is private green against the façade: the garden centre offers plants
        # and advice for exactly that; the gemeente (public green, trees, plantsoenen) is
        # second on the shared theme alone (see test_geveltuintjes_second_is_gemeente).
        ("Geveltuintjes in de straat", "", TUINCENTRUM),
        ("Speeltuin opknappen", "De schommel is kapot en de zandbak is vies.", GEMEENTE),
        ("Koffieochtend voor eenzame ouderen", "", WELZIJN),
        ("Taalcafé in de bieb", "", BIEB),
        (
            "Taalcafé in de bieb",
            "Elke week een taalcafé in de bibliotheek, waar nieuwe buren Nederlands oefenen.",
            BIEB,
        ),
        (
            "Betere verlichting in het portiek",
            "Het is 's avonds erg donker bij de voordeur.",
            LINDE,
        ),
        ("Zwerfafval prikken met de school", "", GEMEENTE),
        ("Nieuwe bomen in het plantsoen", "", GEMEENTE),
        ("Opruimactie in het park", "Met prikstokken en vuilniszakken.", GEMEENTE),
        ("Hangplek voor jongeren bij het buurthuis", "", WELZIJN),
        ("Budget voor een bewonersinitiatief", "Wie betaalt de verf voor de bankjes?", LINDE),
        ("Voorleesochtend voor peuters in de bibliotheek", "", BIEB),
        ("Buurtmoestuin achter de flat", "Bakken met groente en kruiden.", TUINCENTRUM),
        # en
        ("Community vegetable garden", "", TUINCENTRUM),
        ("Reading club for kids at the library", "", BIEB),
        ("Coffee mornings for lonely seniors", "", WELZIJN),
        ("Safer lighting in our stairwell", "", LINDE),
        ("Litter picking with the school", "", GEMEENTE),
        ("Fix up the playground", "The swings are broken.", GEMEENTE),
    ],
)
def test_expected_partner_comes_first(
    title: str, description: str, expected: PartnerProfile
) -> None:
    assert first(title, description) == expected.id


def test_geveltuintjes_second_is_gemeente() -> None:
    matches = rank(idea("Geveltuintjes in de straat"), ALLIANCE)
    assert [m.partner_id for m in matches] == [TUINCENTRUM.id, GEMEENTE.id]
    assert matches[1].shared_themes == ("groen",)
    assert matches[1].shared_words == ()


def test_reasons_for_one_case() -> None:
    matches = rank(idea("Koffieochtend voor eenzame ouderen"), ALLIANCE)
    assert matches[0] == Match(
        partner_id=WELZIJN.id,
        score=3 * THEME_POINTS + 2 * WORD_POINTS,
        shared_themes=("ontmoeting", "zorg", "ouderen"),
        shared_words=("eenzame", "ouderen"),
    )


def test_shared_words_are_written_as_in_the_offer_in_offer_order() -> None:
    matches = rank(idea("Betere verlichting in het portiek"), ALLIANCE)
    assert matches[0].partner_id == LINDE.id
    assert matches[0].shared_themes == ("veiligheid",)
    assert matches[0].shared_words == ("portieken", "verlichting")
    assert matches[0].score == THEME_POINTS + 2 * WORD_POINTS
    # accents kept, lowercase
    assert shared_words("Taalcafe in de bieb", BIEB.offer) == ("taalcafé",)


def test_english_idea_finds_dutch_offer_words() -> None:
    matches = rank(idea("Community vegetable garden"), ALLIANCE)
    assert matches[0].shared_words == ("moestuinen",)
    matches = rank(idea("Reading club for kids at the library"), ALLIANCE)
    assert matches[0].shared_words == ("voorlezen", "kinderen")


def test_dutch_idea_finds_english_offer_words() -> None:
    partner = PartnerProfile(9, "Green Hands", ("groen",), "Seeds, tools and a vegetable garden")
    assert shared_words("Moestuin met zaden", partner.offer) == ("seeds", "vegetable garden")


def test_unrelated_idea_gets_no_partner() -> None:
    assert rank(idea("Schaakclub op dinsdagavond"), ALLIANCE) == []
    assert rank(idea("Chess evenings on Tuesdays"), ALLIANCE) == []


def test_generic_idea_gets_no_partner() -> None:
    vague = idea("Activiteiten voor bewoners in de buurt", "Samen met mensen uit de wijk helpen")
    assert rank(vague, ALLIANCE) == []


def test_minimum() -> None:
    title_only = idea("Taalcafé in de bieb")
    assert [m.score for m in rank(title_only, ALLIANCE)] == [WORD_POINTS]
    assert rank(title_only, ALLIANCE, minimum=2.0) == []
    assert DEFAULT_MINIMUM <= WORD_POINTS < THEME_POINTS
    # minimum 0 still leaves out partners with nothing in common
    assert [m.partner_id for m in rank(title_only, ALLIANCE, minimum=0.0)] == [BIEB.id]


def test_limit() -> None:
    green = idea("Groen plein", "Bomen, bloemen en een moestuin, en een speeltuin voor de kinderen")
    assert len(rank(green, ALLIANCE)) == 3
    assert len(rank(green, ALLIANCE, limit=5)) == 4
    assert [m.partner_id for m in rank(green, ALLIANCE, limit=1)] == [GEMEENTE.id]
    assert rank(green, ALLIANCE, limit=0) == []


def test_ties_are_ordered_by_partner_id_whatever_the_input_order() -> None:
    twins = [
        PartnerProfile(7, "Groen B", ("groen",), "Gereedschap"),
        PartnerProfile(3, "Groen A", ("groen",), "Gereedschap"),
        PartnerProfile(5, "Groen C", ("groen",), "Gereedschap"),
    ]
    plan = idea("Bloembakken op de stoep")
    expected = [3, 5, 7]
    assert [m.partner_id for m in rank(plan, twins)] == expected
    assert [m.partner_id for m in rank(plan, list(reversed(twins)))] == expected
    assert len({m.score for m in rank(plan, twins)}) == 1


@pytest.mark.parametrize(
    "offer",
    [
        "Wij helpen bewoners in de buurt met activiteiten, samen met andere mensen",
        "We help people in the neighbourhood with activities for the community",
        "Voor de wijk, met de bewoners, door de buurt, van iedereen",
    ],
)
def test_stop_and_generic_words_never_count(offer: str) -> None:
    partner = PartnerProfile(1, "Vaag", ("cultuur",), offer)
    text = (
        "Wij willen samen met mensen uit de buurt en de wijk activiteiten organiseren, "
        "we help people in our neighbourhood with activities, voor de bewoners van iedereen"
    )
    assert shared_words(text, offer) == ()
    assert rank(IdeaProfile(text, "", ("groen",)), [partner]) == []


def test_stop_words_are_ignored() -> None:
    for word in ["buurt", "wijk", "bewoners", "mensen", "samen", "neighbourhood", "people"]:
        assert ignored(word), word
    for word in ["help", "helpen", "activiteiten", "Buurten", "Activiteit"]:
        assert ignored(word), word
    assert all(ignored(w) for w in STOP_WORDS | GENERIC_WORDS)
    for word in ["moestuin", "portiek", "taalcafé", "zwerfafval"]:
        assert not ignored(word), word


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("moestuinen", "moestuin"),
        ("geveltuintjes", "geveltuin"),
        ("pleintje", "plein"),
        ("bankjes", "bank"),
        ("boompjes", "boom"),
        ("bomen", "boom"),
        ("zaden", "zaad"),
        ("eenzame", "eenzaam"),
        ("portieken", "portiek"),
        ("woningen", "woning"),
        ("gras", "gras"),
        ("grote", "groot"),
    ],
)
def test_stem(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


@pytest.mark.parametrize(
    ("singular", "plural"),
    [
        ("garden", "gardens"),
        ("bench", "benches"),
        ("morning", "mornings"),
        ("house", "houses"),
        ("tree", "trees"),
        ("light", "lighting"),
        ("tuin", "tuintjes"),
        ("straat", "straatjes"),
        ("straat", "straten"),
    ],
)
def test_plural_and_singular_share_a_stem(singular: str, plural: str) -> None:
    assert stem(singular) == stem(plural)


@pytest.mark.parametrize(
    ("idea_text", "offer", "shared"),
    [
        ("Een buurtmoestuin", "Advies over moestuinen", ("moestuinen",)),  # compound
        ("Moestuin", "Buurtmoestuinen voor iedereen", ("buurtmoestuinen",)),  # and back
        ("Bibliotheek in de wijk", "Boeken uit de bibiotheek", ("bibiotheek",)),  # typo
        ("Groente kweken", "Onderhoud van het groen", ()),  # groen is not groente
        ("Plein", "Pleintjes", ("pleintjes",)),  # diminutive
        ("Park", "Parkeren", ()),  # short words are never part of a compound
        ("Een bankje", "Bankjes en banken", ("bankjes",)),  # one word per stem
    ],
)
def test_word_matching(idea_text: str, offer: str, shared: tuple[str, ...]) -> None:
    assert shared_words(idea_text, offer) == shared


def test_partner_without_themes_gets_themes_from_its_offer() -> None:
    bare = PartnerProfile(8, "Imker Jansen", (), "Bijenhotels en bloemen voor de tuin")
    assert "groen" in partner_themes(bare)
    matches = rank(idea("Bloemenweide voor de bijen"), [bare])
    assert matches[0].partner_id == bare.id
    assert matches[0].shared_themes == ("groen",)
    assert partner_themes(LINDE) == ("wonen", "veiligheid")  # listed themes win


def test_idea_without_themes_gets_them_from_its_text() -> None:
    bare = IdeaProfile("Speeltuin opknappen", "", ())
    assert rank(bare, ALLIANCE)[0].shared_themes == ("spelen",)


def test_empty_alliance() -> None:
    assert rank(idea("Moestuin op het plein"), []) == []
