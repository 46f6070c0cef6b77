"""The vote-result chart: real PNGs from matplotlib's Agg canvas, checked by header and size."""

from __future__ import annotations

import struct
from concurrent.futures import ThreadPoolExecutor

import pytest

from buddybot.charts.results import MAX_BARS, Bar, png_size, result_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def bars(n: int, *, winner: int = 0) -> list[Bar]:
    return [Bar(f"#{i + 1} Voorstel {i + 1}", n - i, i == winner) for i in range(n)]


def chart(items: list[Bar], title: str = "Welk project krijgt het budget?") -> bytes:
    return result_chart(
        title, items, subtitle="12 stemmen · 40% van de buren", votes_word="stemmen"
    )


def assert_png(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    width, height = png_size(data)
    assert width == 1080
    assert 600 <= height <= 2400
    return width, height


@pytest.mark.parametrize("n", [2, 5, 12])
def test_sizes_fit_a_phone(n: int) -> None:
    assert_png(chart(bars(n)))


def test_height_grows_with_the_number_of_bars() -> None:
    heights = [png_size(chart(bars(n)))[1] for n in (2, 5, 12)]
    assert heights == sorted(heights)
    assert heights[0] < heights[-1]


def test_few_bars_keep_the_minimum_height() -> None:
    assert png_size(chart([Bar("Ja", 1, True)], title="Kort?"))[1] == 600


def test_zero_votes_still_render() -> None:
    data = chart([Bar("Ja", 0, False), Bar("Nee", 0, False)])
    assert_png(data)


def test_no_bars_still_renders() -> None:
    assert_png(chart([]))


def test_very_long_labels_and_title_stay_within_bounds() -> None:
    long = "Moestuin op het plein met bankjes, een waterpunt en een kas " * 10
    items = [Bar(long, 12 - i, i == 0) for i in range(12)]
    assert_png(chart(items, title=long))
    unbroken = "x" * 400
    assert_png(chart([Bar(unbroken, 3, True)], title=unbroken))


def rows_height(label: str) -> int:
    """The height of a chart of twelve bars, each with ``label`` (above the minimum)."""
    return png_size(chart([Bar(label, 3, False) for _ in range(12)]))[1]


def test_long_labels_wrap_to_at_most_two_lines() -> None:
    one_line = rows_height("Kort")
    two_lines = rows_height("Moestuin op het plein met bankjes, een waterpunt en een kas erbij")
    assert one_line < two_lines
    assert rows_height("woord " * 100) == two_lines
    cut = "woord " * 50
    assert chart([Bar(cut + "A", 3, True)]) == chart([Bar(cut + "B", 3, True)])


def test_wide_letters_wrap_sooner() -> None:
    assert rows_height("WWWW " * 10) > rows_height("iiii " * 10)


def test_accents() -> None:
    items = [Bar("Ééntje café", 3, True), Bar("Crème brûlée bij de ijssalon", 2, False)]
    assert_png(
        result_chart(
            "Wat wordt het? Ça va",
            items,
            subtitle="5 stemmen · 12% van de buren",
            votes_word="stemmen",
        )
    )


def test_output_is_deterministic() -> None:
    assert chart(bars(5)) == chart(bars(5))


def test_different_input_gives_a_different_image() -> None:
    assert chart(bars(3)) != chart(bars(3, winner=1))


def test_too_many_bars_or_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        chart(bars(MAX_BARS + 1))
    with pytest.raises(ValueError):
        chart([Bar("Min", -1, False)])


def test_concurrent_rendering_in_threads() -> None:
    jobs = [bars(2), bars(12, winner=3), bars(5), bars(7)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(chart, jobs))
    for data in results:
        assert_png(data)
    # Threads give the same pixels as a plain call.
    assert results[1] == chart(jobs[1])


def test_png_size_reads_the_header() -> None:
    header = PNG_SIGNATURE + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", 640, 480)
    assert png_size(header + b"\x08\x02\x00\x00\x00") == (640, 480)
    with pytest.raises(ValueError):
        png_size(b"GIF89a" + b"\x00" * 30)
    with pytest.raises(ValueError):
        png_size(PNG_SIGNATURE)
