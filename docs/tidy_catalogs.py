"""Tidy the Chinese catalogs after ``sphinx-intl update`` (``make translations`` runs this).

The update stamps each catalog's header with today's dates and marks a new catalog's
header fuzzy; neither says anything about the translations, and the dates would change
every catalog on every run.
"""
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parent / "locale"

if __name__ == "__main__":
    for po in sorted(LOCALE.rglob("*.po")):
        text = po.read_text(encoding="utf-8")
        tidy = re.sub(r'^"(POT-Creation-Date|PO-Revision-Date): [^"]*\\n"\n', "", text, flags=re.MULTILINE)
        tidy = re.sub(r'^#, fuzzy\nmsgid ""\nmsgstr ""\n', 'msgid ""\nmsgstr ""\n', tidy, count=1, flags=re.MULTILINE)
        if tidy != text:
            po.write_text(tidy, encoding="utf-8")
