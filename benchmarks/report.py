"""One row of the benchmark table, and the table itself.

Every benchmark module exposes ``async def figures(quick: bool = False) -> list[Figure]``;
``python -m benchmarks`` runs them all and prints one table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """A measured figure next to the reference measured in the same run.

    ``target`` is human-readable ("≥ 1000/s"); ``passed`` is None when the figure has no
    target of its own (a reference row, or context).
    """

    name: str
    value: float
    unit: str
    reference: float | None = None
    reference_name: str = ""
    target: str = ""
    passed: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.reference is None or self.reference == 0:
            return None
        return self.value / self.reference


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(rows: Iterable[Figure]) -> str:
    head = ("figure", "value", "reference", "ratio", "target", "result")
    body = []
    for f in rows:
        ref = f"{_num(f.reference)} {f.reference_name}".strip() if f.reference is not None else "–"
        verdict = "" if f.passed is None else ("PASS" if f.passed else "MISS")
        body.append(
            (f.name, f"{_num(f.value)} {f.unit}".strip(), ref, _num(f.ratio), f.target, verdict)
        )
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(head, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(lines)
