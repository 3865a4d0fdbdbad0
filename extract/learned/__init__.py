"""Learning from confirmations: the second document of a layout comes out right.

Pure (no database): the caller loads what a site has learned into `LearnedLayouts` and
hands it in; `learn` adds an approved document to it, `apply_learned` lets its proposals
compete with the rules' fields, `forget` takes a document's contribution back.

    layouts = LearnedLayouts()
    learn(pages, "medical_license", confirmed_values, document_id=7, learned=layouts)
    doc_type, confidence, fields = apply_learned(new_pages, *extract_fields(new_pages), layouts)
"""

from __future__ import annotations

from extract.learned.learn import forget, learn
from extract.learned.match import Match, match
from extract.learned.model import (
    PERSONAL_FIELDS,
    Anchor,
    Example,
    LearnedLayout,
    LearnedLayouts,
    Spot,
    spots_from_json,
    spots_json,
)
from extract.learned.propose import Proposal, combine, propose, source_note
from extract.types import FieldResult, Page


def apply_learned(
    pages: list[Page],
    doc_type: str,
    doc_type_confidence: float,
    fields: dict[str, FieldResult],
    learned: LearnedLayouts | None,
) -> tuple[str, float, dict[str, FieldResult]]:
    """The rules' result, improved by a learned layout these pages match (if any)."""
    if not learned or not learned.layouts:
        return doc_type, doc_type_confidence, fields
    proposal = propose(pages, learned)
    if proposal is None:
        return doc_type, doc_type_confidence, fields
    return combine(doc_type, doc_type_confidence, fields, proposal)


__all__ = [
    "PERSONAL_FIELDS",
    "Anchor",
    "Example",
    "LearnedLayout",
    "LearnedLayouts",
    "Match",
    "Proposal",
    "Spot",
    "apply_learned",
    "combine",
    "forget",
    "learn",
    "match",
    "propose",
    "source_note",
    "spots_from_json",
    "spots_json",
]
