"""The result of a neighbourhood vote as a PNG, laid out for a phone screen.

One horizontal bar per option, top to bottom in the order given; the label sits above its
bar (full width, at most two lines) so long Dutch labels stay readable in portrait mode.
Rendering uses the object-oriented Figure API with an explicit Agg canvas: no pyplot and no
global state, so concurrent calls from a server are safe. Output is deterministic.
"""

from __future__ import annotations

import math
import struct
import textwrap
from dataclasses import dataclass
from io import BytesIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy

__all__ = ["MAX_BARS", "Bar", "png_size", "result_chart"]

MAX_BARS = 12

# Geometry, in inches (at DPI 150 the width is exactly 1080 px).
DPI = 150
WIDTH_IN = 7.2
MIN_HEIGHT_IN = 4.0  # 600 px
MARGIN_IN = 0.35
TOP_PAD_IN = 0.3
BOTTOM_IN = 0.85  # tick labels and the count-axis label
BAR_IN = 0.36
ROW_GAP_IN = 0.2
COUNT_ROOM_IN = 1.45  # space right of the longest bar for "999 · 100%"

FONT = "DejaVu Sans"  # bundled with matplotlib, covers Dutch accents
TITLE_PT = 19
TEXT_PT = 14
LINE_FACTOR = 1.3  # line height relative to the font size

# Text wrap widths (characters) for the usable width at those font sizes.
TITLE_CHARS = 44
LABEL_CHARS = 56
TITLE_LINES = 3
LABEL_LINES = 2
SUBTITLE_LINES = 2

WINNER = "#C2410C"
OTHER = "#9AA8B6"
INK = "#1F2933"
MUTED_INK = "#52606D"


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    winner: bool


def _wrap(text: str, width: int, max_lines: int, points: float, weight: str) -> list[str]:
    """Wrap to at most `max_lines` lines (ellipsis when cut) that fit the usable width.

    `width` is a first guess in characters; it shrinks until every line, measured in the
    actual font, fits (capitals and bold run wider than the average)."""
    text = " ".join(text.split())
    font = FontProperties(family=FONT, size=points, weight=weight)
    measure = TextToPath()
    room_pt = (WIDTH_IN - 2 * MARGIN_IN) * 72
    while True:
        wrapper = textwrap.TextWrapper(
            width=width, max_lines=max_lines, placeholder=" …", break_long_words=True
        )
        lines = wrapper.wrap(text) or [""]
        widest = max(
            measure.get_text_width_height_descent(line, font, ismath=False)[0] for line in lines
        )
        if widest <= room_pt or width <= 12:
            return lines
        width -= 3


def _line_in(points: float) -> float:
    return points * LINE_FACTOR / 72


def _percent(count: int, total: int) -> int:
    return 0 if total == 0 else math.floor(count * 100 / total + 0.5)


def result_chart(title: str, bars: list[Bar], *, subtitle: str, votes_word: str) -> bytes:
    """A horizontal bar chart as PNG bytes. `title` is the question, `subtitle` a line such
    as "12 stemmen · 40% van de buren" (already translated by the caller), `votes_word` the
    word for the count axis ("stemmen"/"votes").

    Percentages are each count's share of the sum of all counts (0% when nothing was cast).
    Raises ValueError for more than MAX_BARS bars or a negative count.
    """
    if len(bars) > MAX_BARS:
        raise ValueError(f"at most {MAX_BARS} bars, got {len(bars)}")
    if any(bar.count < 0 for bar in bars):
        raise ValueError("bar counts must not be negative")

    title_lines = _wrap(title, TITLE_CHARS, TITLE_LINES, TITLE_PT, "bold")
    subtitle_lines = (
        _wrap(subtitle, LABEL_CHARS, SUBTITLE_LINES, TEXT_PT, "normal") if subtitle.strip() else []
    )
    labels = [
        _wrap(bar.label, LABEL_CHARS, LABEL_LINES, TEXT_PT, "bold" if bar.winner else "normal")
        for bar in bars
    ]

    header_in = TOP_PAD_IN + len(title_lines) * _line_in(TITLE_PT)
    if subtitle_lines:
        header_in += 0.08 + len(subtitle_lines) * _line_in(TEXT_PT)
    header_in += 0.3
    rows_in = sum(len(lines) * _line_in(TEXT_PT) + BAR_IN + ROW_GAP_IN for lines in labels)
    rows_in = max(rows_in, BAR_IN)  # an empty chart still gets an axis
    height_in = max(MIN_HEIGHT_IN, header_in + rows_in + BOTTOM_IN)
    height_in = math.ceil(height_in * DPI) / DPI  # a whole number of pixels

    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    try:
        _draw(
            fig,
            height_in,
            header_in,
            rows_in,
            title_lines,
            subtitle_lines,
            bars,
            labels,
            votes_word,
        )
        buffer = BytesIO()
        fig.savefig(
            buffer,
            format="png",
            dpi=DPI,
            facecolor="white",
            metadata={"Software": None},
        )
        return buffer.getvalue()
    finally:
        fig.clear()


def _draw(
    fig: Figure,
    height_in: float,
    header_in: float,
    rows_in: float,
    title_lines: list[str],
    subtitle_lines: list[str],
    bars: list[Bar],
    labels: list[list[str]],
    votes_word: str,
) -> None:
    left = MARGIN_IN / WIDTH_IN
    y_in = TOP_PAD_IN
    fig.text(
        left,
        1 - y_in / height_in,
        "\n".join(title_lines),
        ha="left",
        va="top",
        fontsize=TITLE_PT,
        fontweight="bold",
        family=FONT,
        color=INK,
        linespacing=1.1,
    )
    y_in += len(title_lines) * _line_in(TITLE_PT) + 0.08
    if subtitle_lines:
        fig.text(
            left,
            1 - y_in / height_in,
            "\n".join(subtitle_lines),
            ha="left",
            va="top",
            fontsize=TEXT_PT,
            family=FONT,
            color=MUTED_INK,
            linespacing=1.1,
        )

    axes_width_in = WIDTH_IN - 2 * MARGIN_IN
    ax = fig.add_axes(
        (
            left,
            1 - (header_in + rows_in) / height_in,
            axes_width_in / WIDTH_IN,
            rows_in / height_in,
        )
    )
    # One data unit on y is one inch, downwards from the top of the axes.
    ax.set_ylim(rows_in, 0)
    top = max((bar.count for bar in bars), default=0)
    x_max = max(top, 1) * axes_width_in / (axes_width_in - COUNT_ROOM_IN)
    ax.set_xlim(0, x_max)

    total = sum(bar.count for bar in bars)
    count_offset = offset_copy(ax.transData, fig=fig, x=0.08, y=0, units="inches")
    y = 0.0
    for bar, lines in zip(bars, labels, strict=True):
        colour, ink, weight = (WINNER, INK, "bold") if bar.winner else (OTHER, MUTED_INK, "normal")
        ax.text(
            0,
            y + 0.02,
            "\n".join(lines),
            ha="left",
            va="top",
            fontsize=TEXT_PT,
            family=FONT,
            color=INK,
            fontweight=weight,
            linespacing=1.1,
            clip_on=False,
        )
        y += len(lines) * _line_in(TEXT_PT)
        if bar.count:
            ax.barh(y + BAR_IN / 2, bar.count, height=BAR_IN, color=colour, zorder=2)
        ax.text(
            bar.count,
            y + BAR_IN / 2,
            f"{bar.count} · {_percent(bar.count, total)}%",
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

    ticks = [t for t in MaxNLocator(nbins=5, integer=True).tick_values(0, top) if 0 <= t <= top]
    ticks = ticks or [0.0]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks], fontsize=TEXT_PT, family=FONT, color=MUTED_INK)
    ax.set_yticks([])
    ax.set_xlabel(votes_word, fontsize=TEXT_PT, family=FONT, color=MUTED_INK, loc="left")
    ax.tick_params(axis="x", length=0, pad=6)
    ax.grid(axis="x", color="#D9DEE3", linewidth=1, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#CBD2D9")
    ax.set_facecolor("white")


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk; ValueError if it is not a PNG."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)
