"""CSV cells never start a spreadsheet formula (CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest

from buddybot.domain.csv_files import csv_bytes, csv_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x","klik")', '\'=HYPERLINK("http://x","klik")'),
        ("+31 6 1234", "'+31 6 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Moestuin = fijn", "Moestuin = fijn"),
        ("", ""),
        (None, ""),
        (3, "3"),
    ],
)
def test_cell(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_every_cell_of_a_file_header_included() -> None:
    data = csv_bytes(["=h", "ok"], [["@a", 1], ["-b", "c,d\n=e"]])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert rows == [["'=h", "ok"], ["'@a", "1"], ["'-b", "c,d\n=e"]]
