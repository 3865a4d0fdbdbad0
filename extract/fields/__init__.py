"""Document type and fields from the words of the pages (being built: see issue 4)."""

from __future__ import annotations

from extract.types import FieldResult, Page


def extract_fields(pages: list[Page]) -> tuple[str, float, dict[str, FieldResult]]:
    """Classify the document and extract its fields. Returns (doc_type, confidence, fields)."""
    return "other", 0.0, {}
