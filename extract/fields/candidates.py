"""The candidate a finder proposes, and the context every finder reads.

Each field family (labelled.py, people.py, date_roles.py, titles.py, issuers.py,
numbers.py, places.py) returns Cands; __init__.py weighs them into one value per field.
A Cand carries its evidence span (offsets in Layout.text) and a score 0..1 for how strong
that kind of evidence is.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Doc

from extract.fields.layout import Layout


@dataclass(slots=True)
class Cand:
    """One proposed value for a field, with its evidence span and how strong that kind of
    evidence is (`source` names the finder, for explanations and tests)."""

    field: str
    value: str
    score: float
    start: int
    end: int
    source: str


@dataclass(slots=True)
class Context:
    """What every finder reads: the page text with its layout, the spaCy doc (gazetteer
    spans), the doc type, and which pages were OCRed (fuzzy matching only there)."""

    layout: Layout
    doc: Doc
    doc_type: str
    ocr_pages: set[int]

    @property
    def text(self) -> str:
        return self.layout.text
