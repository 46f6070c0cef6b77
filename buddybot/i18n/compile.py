"""Compile the ``.po`` catalogs to the ``.mo`` files buddybot loads.

Run ``python -m buddybot.i18n.compile`` after editing a ``.po`` file; a test fails when a
shipped ``.mo`` does not match its ``.po``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from buddybot.i18n import DOMAIN, LOCALES


def po_files() -> list[Path]:
    return sorted(LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def compiled(po: Path) -> bytes:
    with po.open("rb") as fh:
        catalog = read_po(fh)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def main() -> int:
    for po in po_files():
        po.with_suffix(".mo").write_bytes(compiled(po))
        print(f"compiled {po.relative_to(LOCALES.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
