"""The line a fax machine prints across the top (or foot) of every page it sends.

"JAN-05-2025 10:23  FROM:HUMAN RESOURCES  2025551234   P.001/002" says when and from where
the page was sent, not what the document says: its date is never an issue date, its
sender never a person or an issuer. Such a line is recognised by where it is (a thin band
at the page's edge) and by its shape: a page counter or a clock time, with a sender or
recipient tag or a fax number beside it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from extract.types import Page, Word

# Share of the page's height at its top and bottom edge where a transmission line is printed.
EDGE_BAND = 0.06

# OCR of a fax header is poor: digits come out as O, o, l, I or @, and a colon as a full stop
_D = r"[0-9OoIl@]"
_TIME = re.compile(rf"(?<![\w/]){_D}?{_D}\s?[:.]\s?{_D}{_D}(?![\w/])")
_COUNTER = re.compile(
    rf"\bP(?:AGE|G)?\s*[.,:#]{{0,2}}\s*{_D}{{1,3}}\s*(?:/|OF)\s*{_D}{{1,3}}\b", re.I
)
_TAG = re.compile(r"\b(?:FROM|TO|FAX|TX|RX)\s*[:#]", re.I)
_PHONE = re.compile(r"(?<!\d)(?:\d[\s.\-()]{0,2}){10,11}(?!\d)")


def is_transmission_line(text: str) -> bool:
    """Whether one printed line reads like a fax header: a page counter with a clock time,
    a FROM:/TO:/FAX: tag or a telephone number; or a clock time with a tag or a number.
    (A letterhead's "Tel ... Fax ..." line has neither a counter nor a time.)"""
    time, tag, phone = bool(_TIME.search(text)), bool(_TAG.search(text)), bool(_PHONE.search(text))
    if _COUNTER.search(text):
        return time or tag or phone
    return time and (tag or phone)


def _lines(words: list[Word]) -> list[list[Word]]:
    """Words grouped into printed lines by vertical overlap (tesseract may split a header
    with wide gaps into several blocks)."""
    lines: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.box[1] + w.box[3]) / 2):
        mid = (w.box[1] + w.box[3]) / 2
        if lines:
            top = min(x.box[1] for x in lines[-1])
            bottom = max(x.box[3] for x in lines[-1])
            if top <= mid <= bottom:
                lines[-1].append(w)
                continue
        lines.append([w])
    return lines


def without_transmission_lines(page: Page) -> Page:
    """The page without the fax header (or footer) lines in its edge bands."""
    edge = [w for w in page.words if w.box[3] <= EDGE_BAND or w.box[1] >= 1 - EDGE_BAND]
    if not edge:
        return page
    drop: set[int] = set()
    for line in _lines(edge):
        line.sort(key=lambda w: w.box[0])
        if is_transmission_line(" ".join(w.text for w in line)):
            drop.update(id(w) for w in line)
    if not drop:
        return page
    return replace(page, words=[w for w in page.words if id(w) not in drop])
