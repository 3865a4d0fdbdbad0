"""doc_type from weighted cues: title and keyword phrases (OCR-tolerant), gazetteer hits
and field shapes. Robust cues, not templates: any document that says "Board of Nursing"
and "Registered Nurse" and carries a licence number reads as a nursing licence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from extract.fields import gazetteers
from extract.fields.layout import Layout

# How much text is looked at: credentials are one or two pages; a long file is "other".
MAX_CHARS = 8000
MIN_SCORE = 3.5  # below this no credential type has enough evidence: "other"
# An amount of credit or contact hours is what a continuing-education certificate is for.
_CREDIT_AMOUNT = re.compile(
    r"\b\d{1,3}(?:\.\d{1,2})?\s+(?:[a-z0-9-]+\s+){0,4}(?:credits?|contact hours?)\b"
    r"|\b(?:credits?|contact hours?)\s*(?:awarded|earned|claimed)?\s*:\s*\d{1,3}(?:\.\d{1,2})?\b"
)


@dataclass(frozen=True, slots=True)
class Classification:
    doc_type: str
    confidence: float
    scores: dict[str, float]


@lru_cache(maxsize=1)
def _cue_table() -> list[tuple[str, str, float, bool, re.Pattern[str] | None]]:
    """(doc_type, phrase, weight, is_title, exact regex for short phrases)."""
    table = []
    for doc_type, spec in gazetteers.load().doc_types.items():
        titles = set(spec.get("title", []))
        for phrase, weight in spec["cues"].items():
            rx = re.compile(rf"\b{re.escape(phrase)}\b") if len(phrase) < 9 else None
            table.append((doc_type, phrase, float(weight), phrase in titles, rx))
    return table


def classify(
    layout: Layout,
    n_pages: int,
    gazetteer_kinds: set[str] | None = None,
    fuzzy: bool = True,
    cue_spans: list[tuple[str, int]] | None = None,
) -> Classification:
    """Score every doc_type from its cues.

    `cue_spans` are the exact cue matches of the spaCy SpanRuler (phrase, character offset);
    without them the text is searched here. `fuzzy` (for OCR'd pages) also counts cues
    misspelt by OCR.
    """
    text = layout.text[:MAX_CHARS].lower()
    text = re.sub(r"[ \t]+", " ", text)
    head_rows = layout.rows[: max(3, layout.first_page_rows // 3)]
    head_end = head_rows[-1].cells[-1].end if head_rows else 0
    head = " ".join(r.text for r in head_rows).lower()
    exact: dict[str, bool] | None = None
    if cue_spans is not None:
        exact = {}
        for phrase, offset in cue_spans:
            exact[phrase] = exact.get(phrase, False) or offset < head_end
    scores: dict[str, float] = {t: 0.0 for t in gazetteers.load().doc_types}
    for doc_type, phrase, weight, is_title, rx in _cue_table():
        in_head = False
        if exact is not None and phrase in exact:
            strength, in_head = 1.0, exact[phrase]
        elif exact is None and (rx.search(text) if rx is not None else phrase in text):
            strength, in_head = 1.0, phrase in head
        elif not fuzzy or rx is not None:
            continue
        else:
            r = fuzz.partial_ratio(phrase, text, score_cutoff=86)
            if not r:
                continue
            strength = 0.8 * (r - 70) / 30
            in_head = fuzz.partial_ratio(phrase, head, score_cutoff=86) > 0
        bonus = 2.0 if is_title and in_head else 1.0
        scores[doc_type] += weight * strength * bonus
    kinds = gazetteer_kinds or set()
    if "nursing_board" in kinds:
        scores["nursing_license"] += 3
    if "medical_board" in kinds:
        scores["medical_license"] += 3
    if "cert_board" in kinds:
        scores["board_certification"] += 3
    if "carrier" in kinds:
        scores["malpractice_insurance"] += 3
    if "life_support" in kinds and ("course" in kinds):
        scores["life_support_card"] += 3
    if re.search(r"\b[a-z]{2}\d{7}\b", text) and ("dea" in text or "controlled" in text):
        scores["dea_registration"] += 4
    if _CREDIT_AMOUNT.search(text):  # "30.00 AMA PRA Category 1 Credits", "Credit: 1.50"
        scores["cme_certificate"] += 3
    # Long documents are not credentials; their stray keywords must not win.
    words = len(text.split())
    if n_pages > 3 or words > 700:
        scores["other"] += 4 + min(words, 4000) / 150
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if best != "other" and top < MIN_SCORE:
        return Classification("other", 0.5, scores)
    margin = (top - second) / max(top, 1e-6)
    confidence = max(0.0, min(1.0, 0.35 + 0.65 * margin)) * min(1.0, top / (MIN_SCORE * 2))
    return Classification(best, round(confidence, 3), scores)
