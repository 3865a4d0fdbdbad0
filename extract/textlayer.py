"""A PDF page's own text layer: words with boxes, and whether that layer can be trusted.

pdfium's text page (C, through pypdfium2) gives each character with its box in a few
milliseconds a page, about twenty times faster than pdfplumber's pure-Python parse,
which keeps text PDFs far cheaper than scans. A layer is not trusted, and the page is
OCR'd instead, when it is empty, made of unmapped glyphs or mojibake, an earlier OCR
that reads as gibberish, or a few words laid over a page-sized scan (a fax header).
"""

from __future__ import annotations

import ctypes
import re
import unicodedata
from dataclasses import dataclass

import pypdfium2
import pypdfium2.raw as pdfium_c

from extract.types import Box, Word

_WORD = re.compile(r"[^\W\d_]{2,}")
_VOWEL = re.compile(r"[aeiouy]")
_MOJIBAKE = re.compile(r"Ã.|Â.|â€|ï¿½|\(cid:\d+\)")
# The commonest English words and the words credential papers are made of: a real text
# layer is full of them, a layer of unmapped glyphs or bad OCR has almost none.
COMMON_WORDS = frozenset(
    [
        "a",
        "about",
        "after",
        "all",
        "also",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "board",
        "by",
        "can",
        "certificate",
        "certify",
        "certification",
        "completed",
        "date",
        "day",
        "do",
        "for",
        "from",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "license",
        "medical",
        "may",
        "me",
        "my",
        "name",
        "no",
        "not",
        "number",
        "of",
        "on",
        "or",
        "our",
        "provider",
        "state",
        "she",
        "that",
        "the",
        "their",
        "this",
        "to",
        "us",
        "was",
        "we",
        "which",
        "who",
        "will",
        "with",
        "you",
        "your",
        "issued",
        "expires",
        "expiration",
        "program",
        "training",
        "registration",
        "university",
        "hospital",
        "school",
        "center",
        "health",
        "care",
        "nursing",
        "physician",
        "doctor",
        "degree",
        "medicine",
        "american",
        "national",
        "dear",
        "sincerely",
        "page",
        "address",
        "phone",
        "policy",
        "insurance",
        "coverage",
        "effective",
        "year",
        "years",
    ]
)


@dataclass(slots=True)
class LayerCheck:
    """What the text layer of one page looks like, to decide whether to trust it."""

    chars: int = 0  # printable non-space characters
    bad_chars: int = 0  # control, replacement, private-use characters
    invisible_chars: int = 0  # drawn with text render mode 3 (an OCR layer under a scan)
    image_cover: float = 0.0  # share of the page covered by its largest image
    image_dpi: float = 0.0  # resolution of that image on the page
    words: int = 0
    tokens: int = 0  # runs of 2+ letters
    plausible_words: int = 0  # letters only, a vowel, sane capitalisation
    common_words: int = 0
    mojibake: int = 0

    def verdict(self) -> str | None:
        """None when the layer can be used; else why the page must be OCR'd."""
        if self.chars == 0 or self.words == 0:
            return "no text layer"
        if self.bad_chars > 0.05 * self.chars:
            return "unmapped glyphs"
        if self.mojibake > max(2, 0.05 * self.words):
            return "mojibake"
        plausible = self.plausible_words / max(1, self.tokens)
        common = self.common_words / max(1, self.tokens)
        scanned = self.image_cover > 0.5
        if self.tokens >= 8 and (plausible < 0.75 or (plausible < 0.85 and common < 0.02)):
            return "gibberish"
        if self.invisible_chars > 0.5 * self.chars and (plausible < 0.88 or self.words < 8):
            return "doubtful earlier OCR"
        if scanned and self.words < 15:
            return "a few words over a scanned page"
        return None


def read_layer(page: pypdfium2.PdfPage) -> tuple[list[Word], LayerCheck]:
    """Words of the page's text layer, boxes as fractions of the page as displayed."""
    check = LayerCheck()
    invisible_share = _inspect_objects(page, check)
    textpage = page.get_textpage()
    try:
        words = _words(page, textpage, check)
    finally:
        textpage.close()
    # render modes belong to text objects: spread the invisible share over the characters
    check.invisible_chars = round(invisible_share * check.chars)
    for w in words:
        check.words += 1
        for token in _WORD.findall(w.text):
            check.tokens += 1
            if _plausible(token):
                check.plausible_words += 1
            if token.lower() in COMMON_WORDS:
                check.common_words += 1
    check.mojibake = sum(len(_MOJIBAKE.findall(w.text)) for w in words)
    return words, check


def _plausible(token: str) -> bool:
    """Letters that could be a word in a Latin-script language: a vowel, sane capitals."""
    base = unicodedata.normalize("NFD", token.lower())
    if not _VOWEL.search(base):
        return False
    if token.islower() or token.isupper() or token.istitle():
        return True
    # McDonald, DeAngelo: one inner capital after a lower-case run
    inner = sum(1 for c in token[1:] if c.isupper())
    return token[0].isupper() and inner == 1


def _inspect_objects(page: pypdfium2.PdfPage, check: LayerCheck) -> float:
    """Note the page's largest image; return the share of text objects drawn invisibly."""
    width, height = page.get_size()
    area = max(1.0, width * height)
    best = 0.0
    texts = invisible = 0
    for obj in page.get_objects(
        filter=[pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4
    ):
        if obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT:
            texts += 1
            if pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) == 3:
                invisible += 1
            continue
        try:
            left, bottom, right, top = obj.get_bounds()
            cover = max(0.0, right - left) * max(0.0, top - bottom) / area
            if cover > best and isinstance(obj, pypdfium2.PdfImage):
                best = cover
                px_w, _ = obj.get_px_size()
                check.image_dpi = px_w / max(1e-6, (right - left) / 72.0)
        except pypdfium2.PdfiumError:
            continue
    check.image_cover = min(1.0, best)
    return invisible / texts if texts else 0.0


def _words(
    page: pypdfium2.PdfPage, textpage: pypdfium2.PdfTextPage, check: LayerCheck
) -> list[Word]:
    n = textpage.count_chars()
    if n <= 0:
        return []
    left, bottom, right, top = page.get_cropbox()
    pw, ph = max(1e-6, right - left), max(1e-6, top - bottom)
    rotation = page.get_rotation() % 360
    raw = textpage.raw
    l_, r_, b_, t_ = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    loose = pdfium_c.FS_RECTF()
    words: list[Word] = []
    cur: list[str] = []
    box: list[float] = []
    em = 0.0  # the word's font size (its loose boxes' height): glyph heights vary too much
    pen = 0.0  # where the previous letter's advance ended
    gaps: list[float] = []  # between the word's letters so far
    line = block = 0
    last_line_box: list[float] | None = None

    def flush() -> None:
        nonlocal cur, box, line, block, last_line_box, em
        em = 0.0
        gaps.clear()
        if not cur:
            return
        x0, y0, x1, y1 = box
        if last_line_box is not None:
            lh = max(1e-6, last_line_box[3] - last_line_box[1])
            mid = (y0 + y1) / 2
            same_line = last_line_box[1] - 0.2 * lh <= mid <= last_line_box[3] + 0.2 * lh
            if same_line and x0 >= last_line_box[2] - lh:
                last_line_box = [
                    last_line_box[0],
                    min(last_line_box[1], y0),
                    x1,
                    max(last_line_box[3], y1),
                ]
            else:
                line += 1
                if mid > last_line_box[3] + 1.3 * lh or mid < last_line_box[1] - 6 * lh:
                    block += 1
                last_line_box = list(box)
        else:
            last_line_box = list(box)
        frac = _to_fractions((x0, y0, x1, y1), left, bottom, pw, ph, rotation)
        words.append(Word("".join(cur), 1.0, frac, block, line))
        cur, box = [], []

    for i in range(n):
        code = pdfium_c.FPDFText_GetUnicode(raw, i)
        ch = chr(code) if 0 < code < 0x110000 else "\ufffd"
        if ch.isspace() or ch == "\x00" or pdfium_c.FPDFText_IsGenerated(raw, i) == 1:
            flush()
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Co", "Cs", "Cn") or ch == "\ufffd":
            check.bad_chars += 1
        check.chars += 1
        if not pdfium_c.FPDFText_GetCharBox(raw, i, l_, r_, b_, t_):
            continue
        x0, x1, y0, y1 = l_.value, r_.value, b_.value, t_.value
        # the advance box (pen position to pen position) parts letters evenly; the glyph's
        # own box leaves a "1" or an "l" with wide gaps on either side
        size, start, end = y1 - y0, x0, x1
        if pdfium_c.FPDFText_GetLooseCharBox(raw, i, loose):
            size, start, end = max(size, loose.top - loose.bottom), loose.left, loose.right
        if box:
            height = max(1e-6, box[3] - box[1], y1 - y0)
            gap = start - pen
            jumps = abs((y0 + y1) / 2 - (box[1] + box[3]) / 2) > 0.6 * height
            if jumps or x0 - box[2] < -2 * height or _word_break(gap, max(em, size), gaps):
                flush()
            else:
                gaps.append(gap)
        em, pen = max(em, size), end
        cur.append(ch)
        box = (
            [x0, y0, x1, y1]
            if not box
            else [min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)]
        )
    flush()
    return words


def _word_break(gap: float, em: float, gaps: list[float]) -> bool:
    """A gap with no space character that still parts two words.

    Most PDFs carry their spaces (or pdfium adds them); this catches the ones that place
    words apart without. A word space is about a quarter of the font size; letter-spaced
    capitals ("S T A T E") have gaps as wide between letters, so within such a run only a
    gap clearly wider than its letters' counts.
    """
    letters = sorted(gaps)[len(gaps) // 2] if len(gaps) >= 2 else 0.0
    return gap > max(0.3 * em, 2.0 * letters)


def _to_fractions(
    pdf_box: tuple[float, float, float, float],
    left: float,
    bottom: float,
    pw: float,
    ph: float,
    rotation: int,
) -> Box:
    """PDF user space (origin bottom left) to fractions of the displayed page (top left)."""
    x0, y0, x1, y1 = pdf_box
    fx0 = min(1.0, max(0.0, (x0 - left) / pw))
    fx1 = min(1.0, max(0.0, (x1 - left) / pw))
    fy0 = min(1.0, max(0.0, 1 - (y1 - bottom) / ph))
    fy1 = min(1.0, max(0.0, 1 - (y0 - bottom) / ph))
    if rotation == 90:  # /Rotate turns the page clockwise for display
        return (1 - fy1, fx0, 1 - fy0, fx1)
    if rotation == 180:
        return (1 - fx1, 1 - fy1, 1 - fx0, 1 - fy0)
    if rotation == 270:
        return (fy0, 1 - fx1, fy1, 1 - fx0)
    return (fx0, fy0, fx1, fy1)
