"""Proposing values from a learned layout, and letting them compete with the rules'.

Each confirmed document of the layout says where a field is printed; the words at that
place on the new page are read and put in the spec's form. The more confirmed documents
agree on the value, the surer it is; a value the rules found too is surer still. The
proposal and the rules' value meet in one confidence scale: the higher one is the field,
the other stays as a candidate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from extract import validators
from extract.learned.match import Match, match
from extract.learned.model import PERSONAL_FIELDS, LearnedLayouts, Spot
from extract.learned.text import key, normal
from extract.types import Box, Candidate, FieldResult, Page, Word, fields_for

# confidence of a value read at a learned place, by how many confirmed documents agree
BY_AGREEING = {1: 0.8, 2: 0.9}
MOST = 0.95
CAP = 0.99
GAP = 1.6  # a value's words are at most this many word heights apart on their line


@dataclass(slots=True)
class Proposal:
    """What a learned layout says about a new document."""

    layout_id: int
    doc_type: str
    doc_type_confidence: float
    share: float  # anchors of the layout found in place
    fields: dict[str, FieldResult] = field(default_factory=dict)


def source_note(agreeing: int) -> str:
    return f"from {agreeing} confirmed document{'s' if agreeing != 1 else ''} of this layout"


def _strength(m: Match) -> float:
    """0.85..1 by how much of the layout was found in place."""
    return 0.85 + 0.15 * min(1.0, max(0.0, (m.share - 0.35) / 0.35))


class _View:
    """A page's words arranged once for reading many spots: centres, rows, a line's height."""

    def __init__(self, page: Page) -> None:
        self.page = page
        boxes = np.asarray([w.box for w in page.words] or [(0.0, 0.0, 0.0, 0.0)])
        self.x0, self.x1 = boxes[:, 0], boxes[:, 2]
        self.cy = (boxes[:, 1] + boxes[:, 3]) / 2
        self.pad = 0.3 * float(np.median(boxes[:, 3] - boxes[:, 1])) if page.words else 0.003
        rows: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, w in enumerate(page.words):
            rows[(w.block, w.line)].append(i)
        self.rows = {k: sorted(v, key=lambda i: page.words[i].box[0]) for k, v in rows.items()}


def _read(
    view: _View, box: Box, other: set[int], personal: bool, reach: float = 0.03
) -> tuple[str, Box] | None:
    """The words printed at `box` on the page, extended along their lines to a value's end:
    stopped by a gap, by a static word of the layout that is not this field's (`other`),
    or at how much longer than the confirmed one a value of its kind may be (a person's
    name may be twice as long; a board's name not much longer)."""
    page = view.page
    if not page.words:
        return None
    x0, y0, x1, y1 = box
    width = x1 - x0
    left = x0 - max((0.6 if personal else 0.15) * width, reach)
    right = x1 + max((1.0 if personal else 0.3) * width, reach)
    band = (view.cy >= y0 - view.pad) & (view.cy <= y1 + view.pad)
    if other:
        band[list(other)] = False
    seeds = [int(i) for i in np.flatnonzero(band & (view.x1 > x0) & (view.x0 < x1))]
    if not seeds:  # a shorter value than the confirmed one: the nearest word on its line
        near = [
            (min(abs(view.x0[i] - x1), abs(view.x1[i] - x0)), int(i)) for i in np.flatnonzero(band)
        ]
        near = [n for n in near if n[0] <= width + 0.03]
        if not near:
            return None
        seeds = [min(near)[1]]
    lines = view.rows
    chosen: list[int] = []
    for line_key in dict.fromkeys((page.words[i].block, page.words[i].line) for i in seeds):
        row = lines[line_key]
        inside = [k for k, i in enumerate(row) if i in seeds]
        lo, hi = min(inside), max(inside)
        while (
            lo > 0
            and page.words[row[lo - 1]].box[0] >= left
            and _joins(page.words, row[lo - 1], row[lo], other)
        ):
            lo -= 1
        while (
            hi < len(row) - 1
            and page.words[row[hi + 1]].box[2] <= right
            and _joins(page.words, row[hi], row[hi + 1], other)
        ):
            hi += 1
        chosen += row[lo : hi + 1]
    words = [page.words[i] for i in chosen]
    found: Box = (
        min(w.box[0] for w in words),
        min(w.box[1] for w in words),
        max(w.box[2] for w in words),
        max(w.box[3] for w in words),
    )
    return " ".join(w.text for w in words), found


def _joins(words: list[Word], left: int, right: int, other: set[int]) -> bool:
    if left in other or right in other:
        return False
    a, b = words[left].box, words[right].box
    return b[0] - a[2] < GAP * max(a[3] - a[1], b[3] - b[1])


NEAREST = 3  # anchors whose own displacement corrects a spot's place


def _spot_box(m: Match, spot: Spot, pages: dict[int, Page]) -> tuple[Box, float]:
    """Where the spot falls on the page: the layout's fit, corrected by how its nearest
    anchors (the label beside it, the heading above) moved on this page; and how sure that
    place is (1.0 when those anchors moved alike, less when the text around was reflowed)."""
    x0, y0, x1, y1 = spot.box
    pts = [m.apply(x, y) for x, y in ((x0, y0), (x1, y1), (x0, y1), (x1, y0))]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    near = []
    for ai, (page_no, wi) in m.anchored.items():
        a = m.layout.anchors[ai]
        if page_no != spot.page:
            continue
        near.append(((a.x - cx) ** 2 + (3 * (a.y - cy)) ** 2, a, pages[page_no].words[wi].box))
    near.sort(key=lambda n: n[0])
    moves = []
    for _, a, (bx0, by0, bx1, by1) in near[:NEAREST]:
        px, py = m.apply(a.x, a.y)
        moves.append(((bx0 + bx1) / 2 - px, (by0 + by1) / 2 - py))
    dx = sum(v[0] for v in moves) / len(moves) if moves else 0.0
    dy = sum(v[1] for v in moves) / len(moves) if moves else 0.0
    spread = max((abs(v[0] - dx) + 3 * abs(v[1] - dy) for v in moves), default=0.0)
    sure = 1.0 - min(0.3, max(0.0, spread - 0.01) * 10)
    return (min(xs) + dx, min(ys) + dy, max(xs) + dx, max(ys) + dy), sure


def _problems(name: str, value: str, doc_type: str) -> list[str]:
    if name == "npi":
        return validators.npi_problems(value)
    if name == "credential_number" and doc_type == "dea_registration":
        return validators.dea_problems(value)
    if name == "jurisdiction":
        return validators.state_problems(value)
    return []


def propose(pages: list[Page], learned: LearnedLayouts) -> Proposal | None:
    """The learned layout's values for these pages, or None when no layout matches."""
    m = match(pages, learned)
    if m is None:
        return None
    layout = m.layout
    static: dict[tuple[int, int], str | None] = {
        where: layout.anchors[ai].part_of for ai, where in m.anchored.items()
    }
    by_number = {p.number: p for p in pages}
    views = {p.number: _View(p) for p in pages}
    doc_type = layout.doc_type
    strength = _strength(m)
    readings: dict[str, list[tuple[str, Box, int, float]]] = defaultdict(list)
    for example in layout.examples:
        for spot in example.spots:
            page = by_number.get(spot.page)
            if page is None:
                continue
            other = {wi for (pn, wi), f in static.items() if pn == spot.page and f != spot.field}
            box, sure = _spot_box(m, spot, by_number)
            # a state is read out of the address or board name around it, so it may run long
            state = spot.field == "jurisdiction"
            wide = spot.field in PERSONAL_FIELDS or state
            read = _read(views[spot.page], box, other, wide, 0.15 if state else 0.03)
            value = normal(spot.field, read[0]) if read else None
            if read and value:
                readings[spot.field].append((value, read[1], spot.page, sure))
    proposal = Proposal(layout.id, doc_type, min(CAP, BY_AGREEING[1] * strength), m.share)
    agree_type = sum(e.doc_type == doc_type for e in layout.examples)
    unanimous = agree_type / len(layout.examples)  # a layout two types share decides neither
    proposal.doc_type_confidence = (
        min(CAP, BY_AGREEING.get(agree_type, MOST) * strength) * unanimous
    )
    for name, found in readings.items():
        groups: dict[str, list[tuple[str, Box, int, float]]] = defaultdict(list)
        for r in found:
            groups[key(r[0])].append(r)
        ranked = sorted(groups.values(), key=len, reverse=True)
        best = ranked[0]
        value, box, page_no, _ = best[0]
        sure = max(r[3] for r in best)
        confidence = BY_AGREEING.get(len(best), MOST) * strength * sure
        problems = _problems(name, value, doc_type)
        if problems:
            continue  # what fails its check is not this field here: the rules decide
        proposal.fields[name] = FieldResult(
            name,
            value,
            round(confidence, 3),
            page_no,
            box,
            [
                Candidate(
                    g[0][0], round(BY_AGREEING.get(len(g), MOST) * strength, 3), g[0][2], g[0][1]
                )
                for g in ranked[1:]
            ],
            problems,
            source=source_note(len(best)),
        )
    # one value read for two fields: a misplaced spot, trust neither
    counts: dict[str, int] = defaultdict(int)
    for f in proposal.fields.values():
        counts[key(f.value or "")] += 1
    proposal.fields = {n: f for n, f in proposal.fields.items() if counts[key(f.value or "")] == 1}
    return proposal


def _same_place(rule: str, learned: str) -> bool:
    """The same value, or one read a little longer or shorter than the other at the same
    place ("University of Chicago" / "University of Chicago Medical Center"): agreement,
    and the rules' reading of the extent is kept."""
    if key(rule) == key(learned):
        return True
    a = {key(w) for w in rule.split()} - {""}
    b = {key(w) for w in learned.split()} - {""}
    return bool(a and b) and (a <= b or b <= a)


def combine(
    doc_type: str,
    doc_type_confidence: float,
    fields: dict[str, FieldResult],
    proposal: Proposal,
) -> tuple[str, float, dict[str, FieldResult]]:
    """The rules' reading and a learned layout's, met on one confidence scale."""
    if proposal.doc_type != doc_type:
        if proposal.doc_type_confidence >= doc_type_confidence:
            doc_type, doc_type_confidence = proposal.doc_type, proposal.doc_type_confidence
            wanted = set(fields_for(doc_type))
            fields = {n: f for n, f in fields.items() if n in wanted}
    else:
        doc_type_confidence = max(
            doc_type_confidence, 1 - (1 - doc_type_confidence) * (1 - proposal.doc_type_confidence)
        )
    wanted = set(fields_for(doc_type))
    out = dict(fields)
    # a value the rules gave another field is not this one's (an NPI is not a licence number)
    elsewhere = {key(f.value): n for n, f in fields.items() if f.value}
    for name, learned in proposal.fields.items():
        if name not in wanted:
            continue
        if elsewhere.get(key(learned.value or ""), name) != name:
            continue
        rule = out.get(name)
        if rule is None or rule.value is None:
            out[name] = learned
            continue
        if _same_place(rule.value, learned.value or ""):
            both = min(CAP, 1 - (1 - rule.confidence) * (1 - learned.confidence))
            rule.confidence = round(max(rule.confidence, both), 3)
            rule.source = f"{learned.source} and the rules"
            continue
        if learned.confidence >= rule.confidence:
            rival = Candidate(rule.value, rule.confidence, rule.page, rule.box)
            learned.candidates.insert(0, rival)
            out[name] = learned
        else:
            rule.candidates.insert(
                0, Candidate(learned.value or "", learned.confidence, learned.page, learned.box)
            )
    return doc_type, doc_type_confidence, out
