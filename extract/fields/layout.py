"""Rows and cells from word boxes: the layout the field rules read.

A *row* is one printed line across the page (words whose boxes overlap vertically); a
*cell* is a run of words in a row with no wide gap, i.e. one label, one value, or one
sentence. The whole document is also flattened into one text (rows joined by newlines,
cells by tabs) with a map back from characters to words, so a pattern found in the text
can point at its box.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from extract.types import Box, Page, Word


@dataclass(slots=True)
class Cell:
    page: int
    words: list[Word]
    row: int  # index into Layout.rows
    index: int  # position in the row, left to right
    start: int = 0  # character offsets of the cell in Layout.text
    end: int = 0

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def box(self) -> Box:
        return union(w.box for w in self.words)

    @property
    def conf(self) -> float:
        return min((w.conf for w in self.words), default=0.0)


@dataclass(slots=True)
class Row:
    page: int
    cells: list[Cell]
    height: float  # median word height, page fraction

    @property
    def box(self) -> Box:
        return union(c.box for c in self.cells)

    @property
    def text(self) -> str:
        return "\t".join(c.text for c in self.cells)


@dataclass(slots=True)
class Layout:
    rows: list[Row]
    text: str
    # per character span of each word in `text`: (start, end, page, word)
    spans: list[tuple[int, int, int, Word]] = field(default_factory=list)
    first_page_rows: int = 0

    def words_in(self, start: int, end: int) -> list[tuple[int, Word]]:
        return [(p, w) for s, e, p, w in self.spans if s < end and start < e]

    def evidence(self, start: int, end: int) -> tuple[int | None, Box | None, float]:
        """Page, box and lowest OCR confidence of the words under a text span."""
        hits = self.words_in(start, end)
        if not hits:
            return None, None, 0.0
        page = hits[0][0]
        words = [w for p, w in hits if p == page]
        return page, union(w.box for w in words), min(w.conf for w in words)

    def cell_at(self, offset: int) -> Cell | None:
        for row in self.rows:
            for cell in row.cells:
                if cell.start <= offset < cell.end:
                    return cell
        return None


def union(boxes: object) -> Box:
    bs = list(boxes)  # type: ignore[call-overload]
    if not bs:
        return (0.0, 0.0, 0.0, 0.0)
    return (
        min(b[0] for b in bs),
        min(b[1] for b in bs),
        max(b[2] for b in bs),
        max(b[3] for b in bs),
    )


def _median(values: list[float]) -> float:
    vs = sorted(values)
    return vs[len(vs) // 2]


def _rows_of_page(page: Page) -> list[list[Word]]:
    """Group words into printed lines by vertical overlap (robust to pdfplumber's line ids,
    and joining the columns tesseract puts in separate blocks)."""
    words = [w for w in page.words if w.text.strip()]
    if not words:
        return []
    # Start from the reader's own lines (they follow skew), then merge lines that sit on
    # the same height.
    groups: dict[tuple[int, int], list[Word]] = {}
    if page.source == "ocr":
        for w in words:
            groups.setdefault((w.block, w.line), []).append(w)
        segments = list(groups.values())
    else:
        segments = [[w] for w in words]
    segments.sort(key=lambda ws: sum((w.box[1] + w.box[3]) / 2 for w in ws) / len(ws))
    rows: list[list[Word]] = []
    row_boxes: list[tuple[float, float]] = []
    for seg in segments:
        y0 = _median([w.box[1] for w in seg])
        y1 = _median([w.box[3] for w in seg])
        h = max(y1 - y0, 1e-4)
        placed = False
        for i in range(len(rows) - 1, max(len(rows) - 4, -1), -1):
            ry0, ry1 = row_boxes[i]
            overlap = min(y1, ry1) - max(y0, ry0)
            x0, x1 = min(w.box[0] for w in seg), max(w.box[2] for w in seg)
            collides = any(w.box[0] < x1 and x0 < w.box[2] for w in rows[i])
            if overlap > 0.5 * min(h, ry1 - ry0) and not collides:
                rows[i].extend(seg)
                placed = True
                break
        if not placed:
            rows.append(list(seg))
            row_boxes.append((y0, y1))
    for r in rows:
        r.sort(key=lambda w: w.box[0])
    return rows


def _split_cells(words: list[Word], page: Page) -> tuple[list[list[Word]], float]:
    heights = [w.box[3] - w.box[1] for w in words]
    h = _median(heights) if heights else 0.01
    # convert a height (fraction of page height) into a width fraction for gap comparisons
    aspect = page.height / page.width if page.width else 1.0
    gap_limit = 1.6 * h * aspect
    cells: list[list[Word]] = [[words[0]]]
    for prev, w in itertools.pairwise(words):
        if w.box[0] - prev.box[2] > gap_limit:
            cells.append([w])
        else:
            cells[-1].append(w)
    return cells, h


def build_layout(pages: list[Page]) -> Layout:
    rows: list[Row] = []
    parts: list[str] = []
    spans: list[tuple[int, int, int, Word]] = []
    offset = 0
    first_page_rows = 0
    for page in pages:
        for row_words in _rows_of_page(page):
            cell_words, h = _split_cells(row_words, page)
            row = Row(page.number, [], h)
            for ci, cw in enumerate(cell_words):
                if ci:
                    parts.append("\t")
                    offset += 1
                cell = Cell(page.number, cw, len(rows), ci, start=offset)
                for wi, w in enumerate(cw):
                    if wi:
                        parts.append(" ")
                        offset += 1
                    spans.append((offset, offset + len(w.text), page.number, w))
                    parts.append(w.text)
                    offset += len(w.text)
                cell.end = offset
                row.cells.append(cell)
            rows.append(row)
            parts.append("\n")
            offset += 1
        if page.number == pages[0].number:
            first_page_rows = len(rows)
    return Layout(rows, "".join(parts), spans, first_page_rows)
