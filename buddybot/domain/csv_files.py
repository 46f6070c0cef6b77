"""CSV files the bot hands out (``/export``): UTF-8, a header row, no live formulas.

Every CSV the bot writes goes through ``csv_bytes``, so every cell passes ``csv_cell``.
A spreadsheet runs a cell that starts with "=", "+", "-" or "@" as a formula (and one that
starts with a tab or a carriage return after trimming it): a resident's idea titled
'=HYPERLINK("http://...","klik")' would be a live link in the facilitator's spreadsheet.
Such a cell is prefixed with a single quote, which spreadsheets show as text (OWASP, "CSV
injection"). The text itself is kept, so nothing a resident wrote is lost.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """One cell as text, a would-be formula prefixed with "'"; ``None`` is empty."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A whole CSV file: the header row, then ``rows``, every cell through ``csv_cell``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(name) for name in header])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return out.getvalue().encode("utf-8")
