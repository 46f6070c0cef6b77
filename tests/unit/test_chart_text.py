"""Chart text is drawn as written: matplotlib never reads ``$…$`` in it as math.

Every slot a word can take, in every chart: titles, labels, the count axis, tick labels
(weeks, days) and the colorbar's neighbours. A failing chart once cost a vote its champion
call (issue 22)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buddybot.charts.results import Bar, png_size, result_chart
from buddybot.charts.wijkfoto import activity_chart, funnel_chart, heatmap_chart

MATHLIKE = [
    "Speeltuin $x^$ opknappen",
    "$\\foo$",
    "$x$ en $y$",
    "$",
    "$$",
    "\\$5 per $uur",
    "$\\frac{1}{0}$ ^_{}",
    "prijs: $ 12,50 of $13",
]


def render_all(text: str) -> list[bytes]:
    weeks = [(date(2026, 1, 5) + timedelta(weeks=i), i) for i in range(6)]
    return [
        result_chart(
            text,
            [Bar(text, 3, True), Bar(f"#2 {text}", 1, False)],
            subtitle=text,
            votes_word=text,
        ),
        funnel_chart(text, [(text, 4), ("gekozen", 2)], parked=(text, 1)),
        activity_chart(text, weeks, ylabel=text, week_label=lambda d: f"{d.day} {text}"),
        heatmap_chart(
            text,
            [[(d + h) % 5 for h in range(24)] for d in range(7)],
            day_names=[f"{text} {d}" for d in range(7)],
            hour_label=text,
        ),
    ]


@pytest.mark.parametrize("text", MATHLIKE)
def test_dollar_text_renders_in_every_slot(text: str) -> None:
    for png in render_all(text):
        assert png_size(png)[0] == 1080


@settings(max_examples=8, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["$", "\\", "^", "_", "{", "}", "$x^$", "\\foo", "%", "#"]),
            st.text(st.characters(min_codepoint=32, max_codepoint=0x24F), max_size=6),
        ),
        min_size=1,
        max_size=10,
    ).map("".join)
)
def test_any_text_with_dollars_renders(text: str) -> None:
    for png in render_all(text):
        assert png_size(png)[0] == 1080
