"""The plain data of what was learned from confirmations: layouts, their anchors and the
places where each field was found. No personal values: anchors are the page's static words
(labels, headings, printed issuer names) and spots are boxes, never the text inside them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from extract.types import Box

# Fields whose values belong to a person: their words never become anchors.
PERSONAL_FIELDS = frozenset(
    {
        "person_name",
        "referee_name",
        "credential_number",
        "npi",
        "issue_date",
        "expiration_date",
        "start_date",
        "end_date",
        "schedules",
        "credit_hours",
    }
)


@dataclass(slots=True)
class Anchor:
    """A static word of a layout: its token, where it sits (page, centre as fractions of
    the page) and the documents that showed it (so removal can take a document's back)."""

    token: str
    page: int
    x: float
    y: float
    height: float
    # the non-personal field this word is part of (an issuer printed on every copy), if any
    part_of: str | None = None
    documents: set[int] = field(default_factory=set)


@dataclass(slots=True)
class Spot:
    """Where one confirmed document printed a field, in the layout's frame."""

    field: str
    page: int
    box: Box


@dataclass(slots=True)
class Example:
    """What one approved document taught: its doc_type and its field spots."""

    document_id: int
    doc_type: str
    spots: list[Spot] = field(default_factory=list)


@dataclass(slots=True)
class LearnedLayout:
    """One layout: its anchors and the examples (confirmed documents) seen of it."""

    id: int
    anchors: list[Anchor]
    examples: list[Example] = field(default_factory=list)

    @property
    def doc_type(self) -> str:
        """The doc_type most of its confirmed documents had (the latest on a tie)."""
        if not self.examples:
            return "other"
        counts = Counter(e.doc_type for e in self.examples)
        best = max(counts.values())
        return next(e.doc_type for e in reversed(self.examples) if counts[e.doc_type] == best)

    # ---- storage (JSON columns) ----------------------------------------------------------

    def anchors_json(self) -> list[list[Any]]:
        return [
            [
                a.token,
                a.page,
                round(a.x, 5),
                round(a.y, 5),
                round(a.height, 5),
                a.part_of,
                sorted(a.documents),
            ]
            for a in self.anchors
        ]

    @staticmethod
    def anchors_from_json(rows: list[list[Any]]) -> list[Anchor]:
        return [
            Anchor(str(t), int(p), float(x), float(y), float(h), f, {int(d) for d in docs})
            for t, p, x, y, h, f, docs in rows
        ]


def spots_json(spots: list[Spot]) -> list[list[Any]]:
    return [[s.field, s.page, *(round(c, 5) for c in s.box)] for s in spots]


def spots_from_json(rows: list[list[Any]]) -> list[Spot]:
    return [
        Spot(str(f), int(p), (float(a), float(b), float(c), float(d))) for f, p, a, b, c, d in rows
    ]


@dataclass(slots=True)
class LearnedLayouts:
    """Every layout a site has learned, with the version they were loaded at.

    Plain data: handed to `extract` by whoever loaded it (the database is not reached from
    here); the token index that makes matching fast is built on first use.
    """

    layouts: list[LearnedLayout] = field(default_factory=list)
    version: int = 0
    _index: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> tuple[list[LearnedLayout], int]:
        return self.layouts, self.version  # the index is rebuilt where it is used

    def __setstate__(self, state: tuple[list[LearnedLayout], int]) -> None:
        self.layouts, self.version = state
        self._index = None
