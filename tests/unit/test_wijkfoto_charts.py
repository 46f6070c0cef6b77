"""The wijkfoto charts: real PNGs from matplotlib's Agg canvas, checked by header and size."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from buddybot.charts.wijkfoto import (
    MAX_STAGES,
    MAX_WEEKS,
    activity_chart,
    funnel_chart,
    heatmap_chart,
    png_size,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MONTHS = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
DAYS = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
STAGES = [("voorgesteld", 12), ("gekozen", 5), ("bezig", 3), ("gerealiseerd", 1)]
LONG = "Ééntje café met crème brûlée bij de ijssalon op het Frederik Hendrikplein " * 4


def assert_png(data: bytes) -> int:
    assert data.startswith(PNG_SIGNATURE)
    width, height = png_size(data)
    assert width == 1080
    assert 600 <= height <= 2400
    return height


def short_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}"


def weeks(n: int, counts: list[int] | None = None) -> list[tuple[date, int]]:
    start = date(2024, 9, 23)
    values = counts if counts is not None else [(i * 7) % 23 for i in range(n)]
    return [(start + timedelta(weeks=i), values[i]) for i in range(n)]


def activity(items: list[tuple[date, int]], *, ylabel: str = "berichten per week") -> bytes:
    return activity_chart("Activiteit in de groep", items, ylabel=ylabel, week_label=short_date)


def grid(value: int = 0) -> list[list[int]]:
    return [[(d * 5 + h * 3) % 11 if value < 0 else value for h in range(24)] for d in range(7)]


def heatmap(counts: list[list[int]], days: list[str] = DAYS) -> bytes:
    return heatmap_chart("Wanneer zijn de buren actief?", counts, day_names=days, hour_label="uur")


# Funnel


def test_funnel_renders_with_and_without_parked() -> None:
    with_parked = funnel_chart("Ideeën", STAGES, parked=("geparkeerd", 4))
    without = funnel_chart("Ideeën", STAGES, parked=None)
    assert assert_png(with_parked) > assert_png(without)


def test_funnel_zero_counts() -> None:
    zeros = [(label, 0) for label, _ in STAGES]
    assert_png(funnel_chart("Nog geen ideeën", zeros, parked=("geparkeerd", 0)))
    assert_png(funnel_chart("Eén fase", [("voorgesteld", 0)], parked=None))


def test_funnel_long_labels_with_accents() -> None:
    stages = [(LONG, 12 - i) for i in range(MAX_STAGES)]
    assert_png(funnel_chart(LONG, stages, parked=(LONG, 2)))
    assert_png(funnel_chart("x" * 300, [("y" * 300, 1)], parked=("z" * 300, 1)))


def test_funnel_is_deterministic() -> None:
    def render() -> bytes:
        return funnel_chart("Ideeën", STAGES, parked=("geparkeerd", 4))

    assert render() == render()
    assert render() != funnel_chart("Ideeën", STAGES, parked=("geparkeerd", 5))


def test_funnel_validation() -> None:
    with pytest.raises(ValueError):
        funnel_chart("Ideeën", [], parked=None)
    with pytest.raises(ValueError):
        funnel_chart("Ideeën", [("a", 1)] * (MAX_STAGES + 1), parked=None)
    with pytest.raises(ValueError):
        funnel_chart("Ideeën", [("a", -1)], parked=None)
    with pytest.raises(ValueError):
        funnel_chart("Ideeën", STAGES, parked=("geparkeerd", -1))


# Activity


@pytest.mark.parametrize("n", [1, 12, 26, MAX_WEEKS])
def test_activity_sizes(n: int) -> None:
    assert_png(activity(weeks(n)))


def test_activity_all_zeros() -> None:
    assert_png(activity(weeks(12, [0] * 12)))


def test_activity_long_labels_with_accents() -> None:
    def label(day: date) -> str:
        return f"week van maandag {day.day} {MONTHS[day.month - 1]}é {day.year} (crème)"

    data = activity_chart(LONG, weeks(26), ylabel=LONG, week_label=label)
    assert_png(data)
    assert_png(activity(weeks(12), ylabel=""))


def test_activity_large_counts() -> None:
    assert_png(activity(weeks(12, [12_345 * (i + 1) for i in range(12)])))


def test_activity_is_deterministic() -> None:
    assert activity(weeks(26)) == activity(weeks(26))
    assert activity(weeks(12)) != activity(weeks(12, [1] * 12))


def test_activity_validation() -> None:
    with pytest.raises(ValueError):
        activity([])
    with pytest.raises(ValueError):
        activity(weeks(MAX_WEEKS + 1))
    with pytest.raises(ValueError):
        activity(weeks(3, [1, -1, 2]))
    with pytest.raises(ValueError):
        activity(list(reversed(weeks(3))))
    with pytest.raises(ValueError):
        activity([(date(2024, 12, 2), 1), (date(2024, 12, 2), 2)])


# Heatmap


def test_heatmap_renders() -> None:
    assert_png(heatmap(grid(-1)))
    assert_png(heatmap(grid(-1), days=["ma", "di", "wo", "do", "vr", "za", "zo"]))


def test_heatmap_all_zeros_and_large_counts() -> None:
    assert_png(heatmap(grid(0)))
    assert_png(heatmap(grid(98_765)))


def test_heatmap_long_labels_with_accents() -> None:
    days = [f"{name} — ééntje crème brûlée" * 3 for name in DAYS]
    assert_png(heatmap_chart(LONG, grid(-1), day_names=days, hour_label=LONG))
    assert_png(heatmap_chart("Wanneer?", grid(-1), day_names=DAYS, hour_label=""))


def test_heatmap_is_deterministic() -> None:
    assert heatmap(grid(-1)) == heatmap(grid(-1))
    assert heatmap(grid(-1)) != heatmap(grid(0))


def test_heatmap_validation() -> None:
    with pytest.raises(ValueError):
        heatmap(grid(0)[:6])
    with pytest.raises(ValueError):
        heatmap([row[:23] for row in grid(0)])
    with pytest.raises(ValueError):
        heatmap([*grid(0), [0] * 24])
    bad = grid(0)
    bad[3][5] = -1
    with pytest.raises(ValueError):
        heatmap(bad)
    with pytest.raises(ValueError):
        heatmap(grid(0), days=DAYS[:6])
