"""Fill empty Arabic translations of the catalogue from a Python dict file (msgid -> msgstr).

    .venv/bin/python scripts/po_fill.py TRANSLATIONS.py

Run `make extract-messages` first; msgids missing from the dict are listed and left empty.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "src/havens/web/translations"
PO = TRANSLATIONS / "ar" / "LC_MESSAGES" / "messages.po"
POT = TRANSLATIONS / "messages.pot"


def main() -> None:
    table = runpy.run_path(sys.argv[1])["AR"]
    if PO.exists():
        with PO.open("rb") as handle:
            catalog = read_po(handle, locale="ar")
    else:
        with POT.open("rb") as handle:
            template = read_po(handle)
        catalog = Catalog(locale="ar", project="Havens")
        catalog.update(template)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        if not message.string and message.id in table:
            message.string = table[message.id]
        if not message.string:
            missing.append(message.id)
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100)
    print(f"{PO}: {len(missing)} untranslated", *missing, sep="\n  ")


if __name__ == "__main__":
    main()
