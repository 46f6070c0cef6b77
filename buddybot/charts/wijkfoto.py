"""The charts of a neighbourhood's *wijkfoto* as PNGs, laid out for a phone screen.

Three pictures: the idea funnel (how many ideas reached each stage), activity per week and
a week-by-hour heatmap of when neighbours are active. Every visible word comes from the
caller, already translated. Same house style as `results`: the object-oriented Figure API
with an explicit Agg canvas (no pyplot, no global state), DejaVu Sans, 1080 px wide at
150 dpi, fonts of at least 14 pt, deterministic output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from io import BytesIO
from itertools import pairwise

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy

from buddybot.charts.results import (
    DPI,
    FONT,
    INK,
    LABEL_CHARS,
    LABEL_LINES,
    MARGIN_IN,
    MIN_HEIGHT_IN,
    MUTED_INK,
    OTHER,
    TEXT_PT,
    TITLE_CHARS,
    TITLE_LINES,
    TITLE_PT,
    TOP_PAD_IN,
    WIDTH_IN,
    _line_in,
    _wrap,
    png_size,
)

__all__ = [
    "HOURS",
    "MAX_STAGES",
    "MAX_WEEKS",
    "WEEKDAYS",
    "activity_chart",
    "funnel_chart",
    "heatmap_chart",
    "png_size",
]

MAX_STAGES = 10
MAX_WEEKS = 104
WEEKDAYS = 7
HOURS = 24

STAGE = "#2F855A"  # the green of the heatmap, one hue across the wijkfoto
GRID = "#D9DEE3"
AXIS = "#CBD2D9"

# Funnel geometry (inches; on the y axis one data unit is one inch, like `results`).
BAR_IN = 0.36
ROW_GAP_IN = 0.2
PARKED_GAP_IN = 0.45  # the empty band (with a dashed rule) above the parked stage
COUNT_ROOM_IN = 0.9  # right of the longest bar for the count
FUNNEL_BOTTOM_IN = 0.3

# Activity geometry.
PLOT_IN = 3.2
BAR_WIDTH = 0.72  # share of a week's slot
TICK_GAP_IN = 0.15  # minimum free space between two x tick labels
ACTIVITY_BOTTOM_IN = 0.55
MAX_TICK_LABEL_IN = 2.0

# Heatmap geometry.
CELL_H_IN = 0.4
MAX_DAY_LABEL_IN = 1.6
CBAR_GAP_IN = 0.2
CBAR_W_IN = 0.16
HEATMAP_BOTTOM_IN = 0.95
HEATMAP_CMAP = "Greens"
HOUR_STEP = 3


def funnel_chart(
    title: str, stages: list[tuple[str, int]], *, parked: tuple[str, int] | None
) -> bytes:
    """Horizontal bars, top to bottom in the order given (e.g. proposed → chosen → in progress
    → done), each stage's label above its bar and its count at the bar's end. `parked`, if
    given, is drawn apart below a gap in a muted grey. All bars share one scale.

    Raises ValueError for no stages, more than MAX_STAGES stages or a negative count.
    """
    if not stages:
        raise ValueError("a funnel needs at least one stage")
    if len(stages) > MAX_STAGES:
        raise ValueError(f"at most {MAX_STAGES} stages, got {len(stages)}")
    rows = [*stages, *([parked] if parked is not None else [])]
    if any(count < 0 for _, count in rows):
        raise ValueError("stage counts must not be negative")

    title_lines = _wrap(title, TITLE_CHARS, TITLE_LINES, TITLE_PT, "bold")
    labels = [_wrap(label, LABEL_CHARS, LABEL_LINES, TEXT_PT, "normal") for label, _ in rows]
    header_in = _header_in(title_lines) + 0.3
    rows_in = sum(len(lines) * _line_in(TEXT_PT) + BAR_IN + ROW_GAP_IN for lines in labels)
    if parked is not None:
        rows_in += PARKED_GAP_IN
    height_in = _pixels(max(MIN_HEIGHT_IN, header_in + rows_in + FUNNEL_BOTTOM_IN))

    def draw(fig: Figure) -> None:
        _title(fig, height_in, title_lines)
        axes_width_in = WIDTH_IN - 2 * MARGIN_IN
        ax = _add_axes(fig, height_in, MARGIN_IN, header_in, axes_width_in, rows_in)
        ax.set_ylim(rows_in, 0)
        top = max(count for _, count in rows)
        ax.set_xlim(0, max(top, 1) * axes_width_in / (axes_width_in - COUNT_ROOM_IN))
        count_offset = offset_copy(ax.transData, fig=fig, x=0.08, y=0, units="inches")
        y = 0.0
        for index, ((_, count), lines) in enumerate(zip(rows, labels, strict=True)):
            is_parked = parked is not None and index == len(rows) - 1
            if is_parked:
                ax.axhline(
                    y + PARKED_GAP_IN / 2 - ROW_GAP_IN / 2,
                    color=AXIS,
                    linewidth=1.2,
                    linestyle=(0, (4, 3)),
                )
                y += PARKED_GAP_IN
            colour, ink = (OTHER, MUTED_INK) if is_parked else (STAGE, INK)
            ax.text(
                0,
                y + 0.02,
                "\n".join(lines),
                ha="left",
                va="top",
                fontsize=TEXT_PT,
                family=FONT,
                color=ink,
                linespacing=1.1,
                clip_on=False,
            )
            y += len(lines) * _line_in(TEXT_PT)
            if count:
                ax.barh(y + BAR_IN / 2, count, height=BAR_IN, color=colour, zorder=2)
            ax.text(
                count,
                y + BAR_IN / 2,
                str(count),
                transform=count_offset,
                ha="left",
                va="center",
                fontsize=TEXT_PT,
                family=FONT,
                color=ink,
                fontweight="bold",
                zorder=3,
            )
            y += BAR_IN + ROW_GAP_IN
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        ax.spines["left"].set_color(AXIS)

    return _render(height_in, draw)


def activity_chart(
    title: str, weeks: list[tuple[date, int]], *, ylabel: str, week_label: Callable[[date], str]
) -> bytes:
    """Vertical bars, one per week, oldest left. `ylabel` (e.g. "berichten per week") is
    written above the plot, `week_label` formats a week's date for the x axis (e.g. "7 dec");
    when the labels do not all fit, every n-th is shown, always including the latest week.
    The y axis has integer ticks.

    Raises ValueError for no weeks, more than MAX_WEEKS weeks, dates that do not strictly
    increase or a negative count.
    """
    if not weeks:
        raise ValueError("at least one week is needed")
    if len(weeks) > MAX_WEEKS:
        raise ValueError(f"at most {MAX_WEEKS} weeks, got {len(weeks)}")
    if any(count < 0 for _, count in weeks):
        raise ValueError("week counts must not be negative")
    if any(later <= earlier for (earlier, _), (later, _) in pairwise(weeks)):
        raise ValueError("weeks must be in strictly increasing date order, oldest first")

    title_lines = _wrap(title, TITLE_CHARS, TITLE_LINES, TITLE_PT, "bold")
    ylabel_lines = _wrap(ylabel, LABEL_CHARS, 1, TEXT_PT, "normal") if ylabel.strip() else []
    header_in = _header_in(title_lines)
    if ylabel_lines:
        header_in += 0.1 + _line_in(TEXT_PT)
    header_in += 0.2
    height_in = _pixels(max(MIN_HEIGHT_IN, header_in + PLOT_IN + ACTIVITY_BOTTOM_IN))

    n = len(weeks)
    top = max(count for _, count in weeks)
    y_ticks = _integer_ticks(max(top, 1), nbins=5)
    tick_texts = [f"{t:g}" for t in y_ticks]
    left_in = MARGIN_IN + max(_text_in(t, TEXT_PT) for t in tick_texts) + 0.12
    x_texts = [_shorten(week_label(day), MAX_TICK_LABEL_IN, TEXT_PT) for day, _ in weeks]
    widest_in = max(_text_in(t, TEXT_PT) for t in x_texts)
    right_in = max(MARGIN_IN, widest_in / 2 + 0.05)
    axes_width_in = WIDTH_IN - left_in - right_in
    slot_in = axes_width_in / n
    step = max(1, math.ceil((widest_in + TICK_GAP_IN) / slot_in))
    shown = sorted(range(n - 1, -1, -step))

    def draw(fig: Figure) -> None:
        _title(fig, height_in, title_lines)
        if ylabel_lines:
            y_in = TOP_PAD_IN + len(title_lines) * _line_in(TITLE_PT) + 0.1
            fig.text(
                MARGIN_IN / WIDTH_IN,
                1 - y_in / height_in,
                ylabel_lines[0],
                ha="left",
                va="top",
                fontsize=TEXT_PT,
                family=FONT,
                color=MUTED_INK,
            )
        ax = _add_axes(fig, height_in, left_in, header_in, axes_width_in, PLOT_IN)
        xs = list(range(n))
        ax.bar(xs, [count for _, count in weeks], width=BAR_WIDTH, color=STAGE, zorder=2)
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_ylim(0, y_ticks[-1])
        ax.set_xticks(
            shown, [x_texts[i] for i in shown], fontsize=TEXT_PT, family=FONT, color=MUTED_INK
        )
        ax.set_yticks(y_ticks, tick_texts, fontsize=TEXT_PT, family=FONT, color=MUTED_INK)
        ax.tick_params(axis="both", length=0, pad=6)
        ax.grid(axis="y", color=GRID, linewidth=1, zorder=0)
        ax.set_axisbelow(True)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.spines["bottom"].set_color(AXIS)

    return _render(height_in, draw)


def heatmap_chart(
    title: str, counts: list[list[int]], *, day_names: list[str], hour_label: str
) -> bytes:
    """A 7 × 24 grid of when neighbours are active: `counts[weekday][hour]`, Monday in the
    top row (names from `day_names`), hours left to right with a tick every three hours and
    `hour_label` (e.g. "uur van de dag") under the axis; a small colorbar on the right.

    Raises ValueError unless `counts` is 7 rows of 24 non-negative counts and `day_names`
    has 7 names.
    """
    if len(day_names) != WEEKDAYS:
        raise ValueError(f"need {WEEKDAYS} day names, got {len(day_names)}")
    if len(counts) != WEEKDAYS or any(len(row) != HOURS for row in counts):
        raise ValueError(f"counts must be {WEEKDAYS} rows of {HOURS} hours")
    if any(count < 0 for row in counts for count in row):
        raise ValueError("counts must not be negative")

    title_lines = _wrap(title, TITLE_CHARS, TITLE_LINES, TITLE_PT, "bold")
    header_in = _header_in(title_lines) + 0.3
    plot_in = WEEKDAYS * CELL_H_IN
    height_in = _pixels(max(MIN_HEIGHT_IN, header_in + plot_in + HEATMAP_BOTTOM_IN))

    names = [_shorten(name, MAX_DAY_LABEL_IN, TEXT_PT) for name in day_names]
    left_in = MARGIN_IN + max(_text_in(name, TEXT_PT) for name in names) + 0.12
    top = max(max(row) for row in counts)
    bar_ticks = _integer_ticks(max(top, 1), nbins=4)
    bar_texts = [f"{t:g}" for t in bar_ticks]
    bar_room_in = max(_text_in(t, TEXT_PT) for t in bar_texts) + 0.12
    axes_width_in = WIDTH_IN - left_in - CBAR_GAP_IN - CBAR_W_IN - bar_room_in - MARGIN_IN

    def draw(fig: Figure) -> None:
        _title(fig, height_in, title_lines)
        ax = _add_axes(fig, height_in, left_in, header_in, axes_width_in, plot_in)
        mesh = ax.pcolormesh(
            list(range(HOURS + 1)),
            list(range(WEEKDAYS + 1)),
            counts,
            cmap=HEATMAP_CMAP,
            vmin=0,
            vmax=bar_ticks[-1],
            edgecolors="white",
            linewidth=1,
        )
        ax.set_xlim(0, HOURS)
        ax.set_ylim(WEEKDAYS, 0)  # Monday on top
        hours = list(range(0, HOURS, HOUR_STEP))
        ax.set_xticks(
            [h + 0.5 for h in hours],
            [str(h) for h in hours],
            fontsize=TEXT_PT,
            family=FONT,
            color=MUTED_INK,
        )
        ax.set_yticks(
            [d + 0.5 for d in range(WEEKDAYS)], names, fontsize=TEXT_PT, family=FONT, color=INK
        )
        ax.tick_params(axis="both", length=0, pad=6)
        if hour_label.strip():
            ax.set_xlabel(
                _shorten(hour_label, axes_width_in, TEXT_PT),
                fontsize=TEXT_PT,
                family=FONT,
                color=MUTED_INK,
                loc="left",
            )
        for spine in ax.spines.values():
            spine.set_visible(False)

        cax = _add_axes(
            fig, height_in, left_in + axes_width_in + CBAR_GAP_IN, header_in, CBAR_W_IN, plot_in
        )
        bar = fig.colorbar(mesh, cax=cax)
        bar.set_ticks(bar_ticks, labels=bar_texts, fontsize=TEXT_PT, family=FONT, color=MUTED_INK)
        bar.ax.tick_params(length=0, pad=6)
        bar.outline.set_visible(False)

    return _render(height_in, draw)


# Shared layout helpers.


def _pixels(height_in: float) -> float:
    """Round a height up to a whole number of pixels."""
    return math.ceil(height_in * DPI) / DPI


def _header_in(title_lines: list[str]) -> float:
    return TOP_PAD_IN + len(title_lines) * _line_in(TITLE_PT)


def _text_in(text: str, points: float, weight: str = "normal") -> float:
    """The width of one line of text, in inches, in the chart font."""
    font = FontProperties(family=FONT, size=points, weight=weight)
    width_pt = TextToPath().get_text_width_height_descent(text, font, ismath=False)[0]
    return float(width_pt) / 72


def _shorten(text: str, max_in: float, points: float) -> str:
    """One line of at most `max_in` inches, cut with an ellipsis when needed."""
    text = " ".join(text.split())
    if _text_in(text, points) <= max_in:
        return text
    while text and _text_in(text + "…", points) > max_in:
        text = text[:-1]
    return text.rstrip() + "…"


def _integer_ticks(top: int, *, nbins: int) -> list[float]:
    ticks = [t for t in MaxNLocator(nbins=nbins, integer=True).tick_values(0, top) if t >= 0]
    # Keep the first tick at or above the highest count, so the axis covers every bar.
    kept = [t for t in ticks if t < top] + [t for t in ticks if t >= top][:1]
    return [float(t) for t in kept] or [0.0]


def _add_axes(
    fig: Figure, height_in: float, left_in: float, top_in: float, width_in: float, h_in: float
) -> Axes:
    """Axes placed in inches from the figure's top-left corner."""
    return fig.add_axes(
        (left_in / WIDTH_IN, 1 - (top_in + h_in) / height_in, width_in / WIDTH_IN, h_in / height_in)
    )


def _title(fig: Figure, height_in: float, title_lines: list[str]) -> None:
    fig.text(
        MARGIN_IN / WIDTH_IN,
        1 - TOP_PAD_IN / height_in,
        "\n".join(title_lines),
        ha="left",
        va="top",
        fontsize=TITLE_PT,
        fontweight="bold",
        family=FONT,
        color=INK,
        linespacing=1.1,
    )


def _render(height_in: float, draw: Callable[[Figure], None]) -> bytes:
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    try:
        draw(fig)
        buffer = BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
        return buffer.getvalue()
    finally:
        fig.clear()
