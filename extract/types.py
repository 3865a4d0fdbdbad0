"""The plain data that leaves `extract`: pages as read, fields as proposed.

Boxes are `(x0, y0, x1, y1)` as fractions of the page (0..1, origin top left) of the page
as read, i.e. after any rotation or deskew, so they can be drawn on the page image at any
zoom.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from PIL.Image import Image

Box = tuple[float, float, float, float]

# The fields of ../shared/spec/fields.md, in the spec's order.
FIELD_NAMES: tuple[str, ...] = (
    "person_name",
    "credential_number",
    "issuer",
    "jurisdiction",
    "credential_title",
    "issue_date",
    "expiration_date",
    "start_date",
    "end_date",
    "npi",
    "schedules",
    "credit_hours",
    "referee_name",
)

# The fields each doc_type carries besides person_name (and npi wherever printed).
FIELDS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "medical_license": (
        "credential_number",
        "issuer",
        "jurisdiction",
        "credential_title",
        "issue_date",
        "expiration_date",
    ),
    "nursing_license": (
        "credential_number",
        "issuer",
        "jurisdiction",
        "credential_title",
        "issue_date",
        "expiration_date",
    ),
    "dea_registration": ("credential_number", "jurisdiction", "expiration_date", "schedules"),
    "board_certification": (
        "issuer",
        "credential_title",
        "credential_number",
        "issue_date",
        "expiration_date",
    ),
    "diploma": ("issuer", "credential_title", "issue_date"),
    "training_certificate": ("issuer", "credential_title", "issue_date", "start_date"),
    "life_support_card": ("issuer", "credential_title", "issue_date", "expiration_date"),
    "cme_certificate": ("issuer", "credential_title", "issue_date", "credit_hours"),
    "malpractice_insurance": ("issuer", "credential_number", "issue_date", "expiration_date"),
    "reference_letter": ("issuer", "referee_name", "issue_date"),
    "employment_verification": (
        "issuer",
        "credential_title",
        "start_date",
        "end_date",
        "issue_date",
    ),
    "other": (),
}
DOC_TYPES: tuple[str, ...] = tuple(FIELDS_BY_TYPE)


def fields_for(doc_type: str) -> tuple[str, ...]:
    """The spec's fields of a doc_type, in the spec's order (person_name first, npi last)."""
    own = set(FIELDS_BY_TYPE.get(doc_type, ())) | {"person_name", "npi"}
    return tuple(f for f in FIELD_NAMES if f in own)


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    conf: float  # 0..1; 1.0 for a PDF text layer
    box: Box
    block: int = 0
    line: int = 0  # line number within the page, in reading order


@dataclass(slots=True)
class Page:
    number: int  # 1-based
    width: float  # of the page as read: pixels for OCR, points for a text layer
    height: float
    source: Literal["text", "ocr"]
    words: list[Word] = field(default_factory=list)
    rotation: int = 0  # degrees the page was turned clockwise to read upright (0, 90, 180, 270)
    # the upright page image, when the caller asked to keep it (for page previews)
    image: Image | None = None
    skew: float = 0.0  # degrees the scan was turned (counter-clockwise) to straighten lines

    @property
    def text(self) -> str:
        """The page's text in reading order, one printed line per line."""
        lines: list[str] = []
        current: list[str] = []
        last: tuple[int, int] | None = None
        for w in self.words:
            key = (w.block, w.line)
            if last is not None and key != last:
                lines.append(" ".join(current))
                current = []
            current.append(w.text)
            last = key
        if current:
            lines.append(" ".join(current))
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Candidate:
    value: str
    confidence: float
    page: int | None = None
    box: Box | None = None


@dataclass(slots=True)
class FieldResult:
    name: str
    value: str | None  # None: printed on the document but could not be read
    confidence: float
    page: int | None = None
    box: Box | None = None
    candidates: list[Candidate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # validator messages
    # where the value came from when not the rules alone, e.g. a learned layout
    source: str | None = None


@dataclass(slots=True)
class Extraction:
    file: str
    doc_type: str
    doc_type_confidence: float
    fields: dict[str, FieldResult]
    pages: list[Page]

    def to_json(self) -> dict[str, Any]:
        """The object of spec/fields.md, plus per-field confidence and evidence."""
        return {
            "file": self.file,
            "doc_type": self.doc_type,
            "fields": {n: f.value for n, f in self.fields.items()},
            "confidence": {n: round(f.confidence, 3) for n, f in self.fields.items()},
            "evidence": {
                n: {"page": f.page, "box": [round(c, 4) for c in f.box] if f.box else None}
                for n, f in self.fields.items()
            },
            "doc_type_confidence": round(self.doc_type_confidence, 3),
            **(
                {"source": {n: f.source for n, f in self.fields.items() if f.source}}
                if any(f.source for f in self.fields.values())
                else {}
            ),
        }


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How pages are read; one object so every entry point reads alike."""

    dpi: int = 300
    max_pages: int = 200
    max_pixels: int = 200_000_000  # a decompression bomb is refused above this
    keep_images: bool = False
    # with keep_images: also draw text-layer pages (a caller that can draw them later from
    # the PDF, as the review screen does, skips that cost)
    draw_text_pages: bool = True
    language: str = "eng"
