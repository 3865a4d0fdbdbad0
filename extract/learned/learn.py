"""Learning from one approved document: locate its confirmed values, keep the layout's
static words as anchors (never a person's words) and where each field was printed."""

from __future__ import annotations

from rapidfuzz import fuzz

from extract.learned.locate import locate
from extract.learned.match import match
from extract.learned.model import (
    PERSONAL_FIELDS,
    Anchor,
    Example,
    LearnedLayout,
    LearnedLayouts,
    Spot,
)
from extract.learned.text import key, token
from extract.types import FIELD_NAMES, Box, Page

# the same person's word, misread: "Srnith" for "Smith" is kept out of the anchors too
PERSONAL_LOOKALIKE = 85.0


def _union(boxes: list[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def personal_tokens(values: dict[str, str]) -> set[str]:
    """The tokens of a person's confirmed values (names, and any letters in numbers)."""
    out: set[str] = set()
    for name, value in values.items():
        if name in PERSONAL_FIELDS:
            for part in value.replace(",", " ").replace("-", " ").split():
                folded = key(part)
                if len(folded) >= 2 and not folded.isdigit():
                    out.add("".join(c for c in folded if c.isalpha()))
    return {t for t in out if len(t) >= 2}


def _is_personal(tok: str, personal: set[str]) -> bool:
    if tok in personal:
        return True
    return len(tok) >= 4 and any(
        len(p) >= 4 and fuzz.ratio(tok, p) >= PERSONAL_LOOKALIKE for p in personal
    )


ADDRESS_LINES = 4  # lines under a person's name that hold their address, never a layout's


def _address_block(page: Page, name_box: Box) -> set[int]:
    """Words of the lines printed just under a person's name and starting within it: the
    person's street and town (a registration's, a letter's recipient)."""
    x0, _, x1, y1 = name_box
    height = name_box[3] - name_box[1]
    return {
        i
        for i, w in enumerate(page.words)
        if y1 < (w.box[1] + w.box[3]) / 2 <= y1 + ADDRESS_LINES * 1.6 * height
        and x0 - height <= w.box[0] <= x1
    }


def learn(
    pages: list[Page],
    doc_type: str,
    values: dict[str, str],
    document_id: int,
    learned: LearnedLayouts,
    new_id: int = 0,
) -> tuple[LearnedLayout, bool]:
    """Add what `document_id` teaches to `learned`: (the layout it joined or started, started).

    `values` are the confirmed fields in the spec's normal form. The returned layout holds
    anchors and boxes only; the values themselves are not kept anywhere in it.
    """
    found = {
        name: hit
        for name, value in values.items()
        if name in FIELD_NAMES and (hit := locate(pages, name, value)) is not None
    }
    by_number = {p.number: p for p in pages}
    personal = personal_tokens(values)
    taken: dict[tuple[int, int], str] = {}
    for name, hit in found.items():
        for wi in hit.words:
            taken.setdefault((hit.page, wi), name)
    boxes = {
        name: (hit.page, _union([by_number[hit.page].words[i].box for i in hit.words]))
        for name, hit in found.items()
    }

    names = personal_tokens({k: v for k, v in values.items() if k.endswith("_name")})
    for p in pages:  # under every place a name is printed (a certificate and its wallet card)
        for w in p.words:
            if (token(w.text) or "") in names:
                for wi in _address_block(p, w.box):
                    taken.setdefault((p.number, wi), "address")

    m = match(pages, learned)
    if m is not None:
        layout = m.layout
        for ai in m.anchored:
            layout.anchors[ai].documents.add(document_id)
        spots = []
        for name, (page, (x0, y0, x1, y1)) in boxes.items():
            corners = [m.invert(x, y) for x, y in ((x0, y0), (x1, y1), (x0, y1), (x1, y0))]
            spots.append(Spot(name, page, _union([(*c, *c) for c in corners])))
        layout.examples.append(Example(document_id, doc_type, spots))
        # with two confirmations, a word is static only if another document printed it too
        layout.anchors = [
            a
            for a in layout.anchors
            if len(a.documents) >= 2 and not _is_personal(a.token, personal)
        ]
        return layout, False

    anchors = []
    for p in pages:
        for wi, w in enumerate(p.words):
            tok = token(w.text)
            owner = taken.get((p.number, wi))
            if tok is None or owner in PERSONAL_FIELDS or owner == "address":
                continue
            if _is_personal(tok, personal):
                continue
            x0, y0, x1, y1 = w.box
            anchors.append(
                Anchor(tok, p.number, (x0 + x1) / 2, (y0 + y1) / 2, y1 - y0, owner, {document_id})
            )
    spots = [Spot(name, page, box) for name, (page, box) in boxes.items()]
    layout = LearnedLayout(new_id, anchors, [Example(document_id, doc_type, spots)])
    learned.layouts.append(layout)
    learned._index = None
    return layout, True


def forget(learned: LearnedLayout, document_ids: set[int]) -> bool:
    """Take back what `document_ids` taught a layout; False when nothing of it is left.

    Their examples go; anchors only they showed go; static words other documents also
    printed stay (they belong to the layout, not to anyone)."""
    learned.examples = [e for e in learned.examples if e.document_id not in document_ids]
    for a in learned.anchors:
        a.documents -= document_ids
    learned.anchors = [a for a in learned.anchors if a.documents]
    return bool(learned.examples)
