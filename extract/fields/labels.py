"""Label → value pairs read from the layout: the value after the label in the same cell,
in the next cell to the right, or in the cell below (forms with a header row).

Labels come from extract/data/labels.json; on OCR pages they are matched fuzzily
(rapidfuzz), so "Expiratlon Date" still announces an expiration date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from extract.fields import gazetteers
from extract.fields.layout import Cell, Layout

_STRIP = " :;#.-–—_|*=>\"'“”"
_COLON_LABEL = re.compile(r"(?:^|(?<=\s))([A-Za-z][A-Za-z /#&.\-]{1,40}?)\s*[:#]\s*")


@dataclass(frozen=True, slots=True)
class LabelHit:
    field: str
    label: str
    strength: float  # 1.0 exact strong label; lower for fuzzy or weak labels
    weak: bool
    cell: Cell
    word_index: int  # index in cell.words of the first word of the label
    n_words: int


@dataclass(frozen=True, slots=True)
class LabelValue:
    hit: LabelHit
    text: str
    start: int  # offsets in layout.text
    end: int
    where: str  # inline, right, below


@lru_cache(maxsize=1)
def _label_index() -> dict[str, list[tuple[str, bool]]]:
    """Normalised label text -> [(field, weak)]."""
    index: dict[str, list[tuple[str, bool]]] = {}
    for fld, groups in gazetteers.load().labels.items():
        for weak, key in ((False, "strong"), (True, "weak")):
            for label in groups.get(key, []):
                index.setdefault(_norm(label), []).append((fld, weak))
    return index


@lru_cache(maxsize=1)
def _labels_by_words() -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for label in _label_index():
        out.setdefault(len(label.split()), []).append(label)
    return out


def _norm(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^a-z0-9#/&' ]+", " ", text)
    return re.sub(r"\s*/\s*", "/", " ".join(text.split()))


@lru_cache(maxsize=1)
def _labels_without_spaces() -> dict[str, str]:
    """ "dateofhire" -> "date of hire": OCR often loses the spaces inside a label."""
    return {label.replace(" ", ""): label for label in _label_index() if " " in label}


def _match_at(words: list[str], fuzzy: bool) -> tuple[int, str, float] | None:
    """The longest label at the start of `words`: (n_words, label, strength)."""
    index = _label_index()
    by_words = _labels_by_words()
    for n in range(min(6, len(words)), 0, -1):
        prefix = _norm(" ".join(words[:n]))
        if prefix in index:
            return _absorb(words, n), prefix, 1.0
        if fuzzy and n <= 2 and prefix.replace(" ", "") in _labels_without_spaces():
            return _absorb(words, n), _labels_without_spaces()[prefix.replace(" ", "")], 0.9
        if fuzzy and len(prefix) >= 9:
            labels = by_words.get(len(prefix.split()))
            if not labels:
                continue
            best = process.extractOne(prefix, labels, scorer=fuzz.ratio, score_cutoff=89)
            if best:
                return _absorb(words, n), best[0], 0.75 + 0.25 * (best[1] - 89) / 11
    return None


_TRAILING = frozenset({"date", "dates", "number", "no", "num", "#", "name", "id", "on"})


def _absorb(words: list[str], n: int) -> int:
    """ "Recommended Renewal Date", "Training Center Name": a label's generic last word."""
    if n < len(words) and not words[n - 1].endswith(":") and _norm(words[n]) in _TRAILING:
        return n + 1
    return n


def find_label_hits(layout: Layout, ocr_pages: set[int]) -> list[LabelHit]:
    hits: list[LabelHit] = []
    index = _label_index()
    for row in layout.rows:
        for cell in row.cells:
            texts = [w.text for w in cell.words]
            fuzzy = cell.page in ocr_pages
            i = 0
            while i < len(texts):
                m = (
                    _match_at(texts[i:], fuzzy)
                    if i == 0
                    or texts[i - 1].endswith((":", "|"))
                    or _starts_label_after_value(texts, i)
                    else None
                )
                if m and i > 0 and index[m[1]][0][1]:
                    m = None  # a generic label ("Type:", "Date:") mid-cell belongs to a longer one
                if (
                    m
                    and m[0] < len(texts) - i
                    and not texts[i + m[0] - 1].endswith(":")
                    and texts[i + m[0]].endswith(":")
                ):
                    m = None  # "Activity Type:": the printed label is longer than the known one
                if m:
                    n, label, strength = m
                    for fld, weak in index[label]:
                        hits.append(
                            LabelHit(
                                fld, label, strength * (0.8 if weak else 1.0), weak, cell, i, n
                            )
                        )
                    i += n
                    continue
                i += 1
    return hits


def _starts_label_after_value(texts: list[str], i: int) -> bool:
    """A label may also start mid-cell when it ends with a colon: "... Valid Until: 2/21/2027"."""
    return any(texts[j].endswith(":") for j in range(i, min(i + 5, len(texts))))


def _is_label_cell(cell: Cell, ocr: bool) -> bool:
    texts = [w.text for w in cell.words]
    m = _match_at(texts, ocr)
    return bool(m and m[0] == len(texts))


def values_for(layout: Layout, hits: list[LabelHit], ocr_pages: set[int]) -> list[LabelValue]:
    """Where each label's value is: after it in the cell, the next cell right, or below."""
    by_cell: dict[int, list[LabelHit]] = {}
    for h in hits:
        by_cell.setdefault(id(h.cell), []).append(h)
    out: list[LabelValue] = []
    for h in hits:
        if h.field == "_none":
            continue
        cell = h.cell
        # inline: words after the label up to the next label in the same cell
        end_word = len(cell.words)
        for other in by_cell[id(cell)]:
            if other.word_index > h.word_index:
                end_word = min(end_word, other.word_index)
        rest = cell.words[h.word_index + h.n_words : end_word]
        rest_text = " ".join(w.text for w in rest).strip(_STRIP)
        if _FORMAT_HINT.fullmatch(rest_text):
            rest_text = ""  # "POLICY EFF (MM/DD/YYYY)": how to write it; the value is elsewhere
        if rest_text:
            s, e = _span_of(layout, rest)
            out.append(LabelValue(h, rest_text, s, e, "inline"))
            continue
        if end_word < len(cell.words):
            continue  # another label follows directly: this one has no value here
        row = layout.rows[cell.row]
        ocr = cell.page in ocr_pages
        right_i = cell.index + 1
        while right_i < len(row.cells) and _is_noise(row.cells[right_i].text):
            right_i += 1  # "LICENSE NUMBER | ie | EXPIRES": specks between cells
        if right_i < len(row.cells):
            right = row.cells[right_i]
            if right.box[0] - cell.box[2] < 0.3 and not _is_label_cell(right, ocr):
                # a value OCR split into several cells: "Sentara | Healthcare"
                parts = [right]
                for nxt in row.cells[right_i + 1 :]:
                    if nxt.box[0] - parts[-1].box[2] > 0.12 or _is_noise(nxt.text):
                        break
                    if _is_label_cell(nxt, ocr) or not nxt.text[:1].isupper():
                        break
                    parts.append(nxt)
                text = " ".join(p.text for p in parts).strip(_STRIP)
                out.append(LabelValue(h, text, right.start, parts[-1].end, "right"))
                if not _header_like(right.text):
                    continue
        below = _cell_below(layout, h, ocr)
        if below is not None:
            out.append(LabelValue(h, below.text.strip(_STRIP), below.start, below.end, "below"))
    return out


# A form's note of how a value is written, printed after its label: (MM/DD/YYYY), (mm/dd/yy)
_PART = r"(?:mm|dd|yy|yyyy|m|d)"
_FORMAT_HINT = re.compile(rf"\(?\s*{_PART}(?:\s*[/\-.]\s*{_PART})+\s*\)?", re.I)


def _is_noise(text: str) -> bool:
    t = text.strip(_STRIP + ",'`~!()[]{}")
    return len(t) <= 2 and not any(c.isdigit() for c in t)


def _header_like(text: str) -> bool:
    """ "FEE PAID", "BUSINESS ACTIVITY": a column heading, so the value may be below."""
    return text.isupper() and not any(c.isdigit() for c in text) and len(text.split()) <= 4


def _span_of(layout: Layout, words: list) -> tuple[int, int]:
    ids = {id(w) for w in words}
    offs = [(s, e) for s, e, _p, w in layout.spans if id(w) in ids]
    if not offs:
        return 0, 0
    return min(s for s, _ in offs), max(e for _, e in offs)


def _cell_below(layout: Layout, h: LabelHit, ocr: bool) -> Cell | None:
    label_words = h.cell.words[h.word_index : h.word_index + h.n_words]
    x0 = min(w.box[0] for w in label_words)
    x1 = max(w.box[2] for w in label_words)
    y1 = max(w.box[3] for w in label_words)
    row_i = h.cell.row
    height = layout.rows[row_i].height
    for nxt in layout.rows[row_i + 1 : row_i + 3]:
        if nxt.page != h.cell.page:
            return None
        if nxt.box[1] - y1 > 4 * max(height, 0.005):
            return None
        best, best_overlap = None, 0.0
        for c in nxt.cells:
            cx0, _, cx1, _ = c.box
            overlap = min(x1, cx1) - max(x0, cx0)
            # a value starts near its label's left edge
            if overlap > best_overlap and abs(cx0 - x0) < 0.25:
                best, best_overlap = c, overlap
        if best is not None:
            if _is_label_cell(best, ocr):
                return None
            return best
    return None
