"""Tesseract on page images: clean each, read them (several as one job), return each
upright with its words and boxes.

Reading costs no more than plain tesseract on most pages: tesseract stays loaded in the
process (`extract.engine`; with the program instead, pages share one run), the clean-up
works on small copies, and orientation is settled
from the first reading itself (tesseract reads a sideways page and says so through its
word boxes). Only a page whose reading looks bad (low confidence) pays for tesseract's
orientation detection (OSD) and a second reading.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PIL import Image

from extract import engine
from extract import preprocess as pp
from extract.errors import OCRError
from extract.textlayer import COMMON_WORDS
from extract.types import Box, Page, ReadOptions, Word

# A reading whose length-weighted mean confidence is below this is re-checked for
# orientation. Upright print reads at 0.85-0.97 (poor photos ~0.65); upside-down text
# at 0.35-0.45.
BAD_QUALITY = 0.55
# A second reading replaces the first only when it is clearly better.
BETTER_BY = 0.08
# A blank or nearly blank page has nothing to turn: don't pay for OSD and a second read.
MIN_LETTERS = 20
# Fewer dark pixels than this (a few specks of dust) and the page is blank.
BLANK_INK_PIXELS = 150
# Seconds one tesseract run may take before the page is given up (never hang a worker).
TESSERACT_TIMEOUT = 180
# A shared run of several pages that takes longer than this has a bad page in it: each
# page is then read alone (a normal batch of eight takes ten seconds).
BATCH_TIMEOUT = 90

_ALNUM = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True, slots=True)
class Reading:
    """Words of one tesseract run, boxes as fractions of the image that was read."""

    words: list[Word]
    quality: float  # length-weighted mean confidence, 0..1 (0 without words)
    letters: int = 0  # letters and digits read: below a few there is nothing to judge


def read_image(image: Image.Image, number: int, options: ReadOptions) -> Page:
    """OCR one page image: crop/flatten a photo, deskew, read, turn upright when needed."""
    return read_image_scan(prepare_scan(image, number), options)


def read_image_scan(scan: Scan, options: ReadOptions) -> Page:
    """OCR one prepared page on its own."""
    (page,) = read_scans([scan], options)
    if isinstance(page, OCRError):
        raise page
    return page


@dataclass(frozen=True, slots=True)
class Scan:
    """A page image made ready for tesseract (cleaned, deskewed, scaled), not yet read."""

    number: int
    prepared: Prepared
    blank: bool  # no ink worth reading (the back of a sheet)


def prepare_scan(image: Image.Image, number: int) -> Scan:
    """Everything before tesseract, done where the page is decoded: its cost (and any
    memory trouble) belongs to its own file, not to the batch it is read in."""
    gray, rgb = pp.to_gray(image)
    prepared = prepare(gray, rgb, pp.image_dpi(image))
    blank = np.count_nonzero(prepared.gray < 128) < BLANK_INK_PIXELS
    return Scan(number, prepared, bool(blank))


def read_scans(
    scans: Sequence[Scan],
    options: ReadOptions,
    heartbeat: Callable[[], None] | None = None,
) -> list[Page | OCRError]:
    """Read prepared pages with one tesseract run, then settle each page's orientation.

    One run for many pages because starting tesseract (loading its model) costs about
    0.1 s, a sixth of reading a page. A page that breaks the run is read again alone, so
    it fails by itself; `heartbeat` is called after each of those single runs.
    """
    inked = [i for i, s in enumerate(scans) if not s.blank]
    read = tesseract_many(
        [(scans[i].prepared.ocr, scans[i].prepared.dpi) for i in inked], options, heartbeat
    )
    readings = dict(zip(inked, read, strict=True))
    pages: list[Page | OCRError] = []
    for i, scan in enumerate(scans):
        reading = readings.get(i, Reading([], 0.0, 0))
        if isinstance(reading, OCRError):
            pages.append(reading)
            continue
        try:
            reading = fuller_reading(scan.prepared, reading, options.language)
            pages.append(_settle(scan, reading, options))
        except OCRError as e:
            pages.append(e)
    return pages


def _settle(scan: Scan, reading: Reading, options: ReadOptions) -> Page:
    """Turn a read page upright: from its word boxes, or (poor reading) OSD and a re-read."""
    prepared = scan.prepared
    upright = prepared.gray
    turn = 0
    sideways = sideways_turn(reading.words)
    if sideways:
        # tesseract found vertical lines and read them; turn the page to match its reading
        turn = sideways
        upright = turn_image(upright, turn)
        reading = replace(reading, words=[_turn_word(w, turn) for w in reading.words])
    if (
        reading.quality < BAD_QUALITY
        and reading.letters >= MIN_LETTERS
        and not reads_as_language(reading.words)
    ):
        better = _reorient(upright, prepared.scale, prepared.dpi, options.language, reading)
        if better is not None:
            extra, reading = better
            upright = turn_image(upright, extra)
            turn = (turn + extra) % 360
    height, width = upright.shape[:2]
    return Page(
        scan.number,
        width,
        height,
        "ocr",
        reading.words,
        rotation=turn,
        skew=prepared.skew,
        image=Image.fromarray(upright) if options.keep_images else None,
    )


# A reading with fewer letters than this share of the page's letter-sized ink blobs has lost
# part of the page in tesseract's layout analysis (it took text for a picture, or kept a
# few lines of a skewed, framed page): the page is read again as one block of text.
SHORT_OF_INK = 0.4
# Below this many letter-sized blobs there is too little on the page to judge.
MIN_BLOBS = 150


def fuller_reading(prepared: Prepared, reading: Reading, language: str) -> Reading:
    """`reading`, or a reading of the same image with page segmentation mode 6 (one
    uniform block) when the first read far fewer letters than the page's ink holds and
    the second reads clearly more at no worse confidence."""
    if reading.letters >= 600:
        return reading  # a full page was read: the blob count is not worth its cost
    blobs = pp.letter_blobs(prepared.ocr)
    if blobs < MIN_BLOBS or reading.letters >= SHORT_OF_INK * blobs:
        return reading
    try:
        second = tesseract(prepared.ocr, prepared.dpi, language, psm=6)
    except OCRError:
        return reading
    if second.letters > 1.5 * reading.letters and second.quality >= reading.quality - 0.05:
        return second
    return reading


# ---------------------------------------------------------------- preparing the image


@dataclass(frozen=True, slots=True)
class Prepared:
    gray: pp.Gray  # the page as read (cropped, deskewed): what boxes are fractions of
    ocr: pp.Gray  # `gray` at the scale tesseract reads best
    scale: float
    dpi: int
    skew: float


def prepare(gray: pp.Gray, rgb: np.ndarray | None, dpi: float | None) -> Prepared:
    """Photo -> flat page; then deskew and bring to a readable scale."""
    # a file with a real resolution comes from a scanner; phone photos say 72 dpi or nothing
    quad = pp.find_page(gray, rgb) if dpi is None else None
    if quad is not None:
        page = pp.warp_page(gray, quad)
        page = pp.remove_rules(pp.flatten_light(page))
        skew = pp.estimate_skew(page, limit=2.5)  # the warp squared the page already
        page_dpi: float | None = None  # the photo's own figure says nothing about the page
    else:
        page = pp.thicken_thin_bilevel(gray, dpi)
        skew = pp.estimate_skew(page)
        page_dpi = dpi
    if skew:
        page = pp.rotate(page, skew)
    factor = 1.0
    if page_dpi is not None and page_dpi > 400:
        factor = 300 / page_dpi  # more pixels than tesseract needs only cost time
    elif page_dpi is not None and page_dpi >= 150:
        # a scan at a real resolution: enlarging 200 dpi scans to 300 found one more field
        # value in 42 and cost 30% more time (bench), and scanner noise fools the
        # text-size estimate
        factor = 1.0
    else:
        factor = pp.upscale_factor(page, page_dpi)
    ocr_dpi = round((page_dpi or _dpi_from_text(page)) * factor)
    return Prepared(page, pp.resize(page, factor), factor, max(70, min(ocr_dpi, 1200)), skew)


def _dpi_from_text(gray: pp.Gray) -> float:
    """A resolution to tell tesseract when the file has none: from the size of the text."""
    height = pp.blob_height(gray)
    if height is None:
        return 300.0
    return max(100.0, min(600.0, 300.0 * height / 24.0))


# ---------------------------------------------------------------- tesseract


def tesseract(gray: pp.Gray, dpi: int, language: str, psm: int = 3) -> Reading:
    """One tesseract reading of one page image: words, boxes as fractions, confidences."""
    data = engine.get().image_to_data(gray, dpi, language, psm, TESSERACT_TIMEOUT)
    return _reading(data, range(len(data.get("text", []))), gray.shape)


def tesseract_many(
    images: Sequence[tuple[pp.Gray, int]],
    options: ReadOptions,
    heartbeat: Callable[[], None] | None = None,
) -> list[Reading | OCRError]:
    """Several page images read as one job (one program run for the CLI engine).

    If the shared job fails (a page tesseract chokes on, a job that takes too long),
    each page is read alone so only the bad one ends as an error.
    """
    if len(images) <= 1:
        return [_read_alone(gray, dpi, options.language) for gray, dpi in images]
    try:
        data = engine.get().images_to_data(images, options.language, BATCH_TIMEOUT)
    except OCRError:
        readings: list[Reading | OCRError] = []
        for gray, dpi in images:
            readings.append(_read_alone(gray, dpi, options.language))
            if heartbeat is not None:
                heartbeat()
        return readings
    return [
        _reading(page, range(len(page.get("text", []))), gray.shape)
        for page, (gray, _) in zip(data, images, strict=True)
    ]


def _read_alone(gray: pp.Gray, dpi: int, language: str) -> Reading | OCRError:
    try:
        return tesseract(gray, dpi, language)
    except OCRError as e:
        return e


def _reading(data: dict[str, list[Any]], rows: Iterable[int], shape: tuple[int, ...]) -> Reading:
    """The words of `rows` of tesseract's TSV, with boxes as fractions of the image."""
    height, width = shape[:2]
    words: list[Word] = []
    line_ids: dict[tuple[int, int, int], int] = {}
    weighted = total = 0.0
    for i in rows:
        text = str(data["text"][i]).strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        line = line_ids.setdefault(key, len(line_ids))
        x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
        box = (x / width, y / height, (x + w) / width, (y + h) / height)
        words.append(Word(text, conf / 100.0, box, int(data["block_num"][i]), line))
        n = len(_ALNUM.findall(text))
        weighted += n * conf / 100.0
        total += n
    return Reading(words, weighted / total if total else 0.0, int(total))


def osd_turn(gray: pp.Gray, dpi: int) -> int | None:
    """Tesseract's orientation detection: clockwise degrees that make the page upright.

    None when OSD has too few letters to judge (sparse pages) or is unsure.
    """
    small, f = gray, 1.0
    if max(gray.shape) > 2600:  # OSD needs letters, not pixels: a smaller copy reads as well
        f = 2600 / max(gray.shape)
        small = pp.resize(gray, f)
    osd_dpi = max(70, round(dpi * f))
    found = engine.get().osd(small, osd_dpi, TESSERACT_TIMEOUT)
    if found is None or found[1] < 1.5:
        return None
    return found[0]


def _reorient(
    upright: pp.Gray, scale: float, dpi: int, language: str, first: Reading
) -> tuple[int, Reading] | None:
    """A reading in another orientation that is clearly better than `first`, if any."""
    turn = osd_turn(pp.resize(upright, scale), dpi)
    if turn == 0:
        return None
    tries = [turn] if turn is not None else [180]  # OSD could not tell: the likely flip
    best: tuple[int, Reading] | None = None
    for t in tries:
        turned = turn_image(upright, t)
        reading = tesseract(pp.resize(turned, scale), dpi, language)
        if reading.quality >= first.quality + BETTER_BY and (
            best is None or reading.quality > best[1].quality
        ):
            best = (t, reading)
    return best


# ---------------------------------------------------------------- orientation


def reads_as_language(words: list[Word]) -> bool:
    """Whether a poor reading is still upright: common words come out even from a bad scan.

    Text read upside down gives letter soup ("ay} JaA0 peduun{") with none of them, so a
    page that has them is not worth an orientation check.
    """
    tokens = common = 0
    for w in words:
        token = w.text.strip(".,;:()'\"!?").lower()
        if len(token) >= 2 and token.isalpha():
            tokens += 1
            common += token in COMMON_WORDS
    return tokens >= 10 and common >= 0.1 * tokens


def sideways_turn(words: list[Word]) -> int:
    """0, or the clockwise turn (90/270) that makes a page tesseract read sideways upright.

    Tesseract reads vertical text lines by itself and reports boxes in the image as
    given: consecutive words of one line then follow each other down (page turned
    clockwise) or up (turned counter-clockwise).
    """
    down = up = across = 0
    prev: Word | None = None
    for w in words:
        if prev is not None and prev.line == w.line:
            dx = (w.box[0] + w.box[2]) / 2 - (prev.box[0] + prev.box[2]) / 2
            dy = (w.box[1] + w.box[3]) / 2 - (prev.box[1] + prev.box[3]) / 2
            if abs(dy) > 2 * abs(dx):
                if dy > 0:
                    down += 1
                else:
                    up += 1
            else:
                across += 1
        prev = w
    vertical = down + up
    if vertical < 3 or vertical < 2 * across:
        return 0
    return 270 if down >= up else 90


def turn_image(gray: pp.Gray, clockwise: int) -> pp.Gray:
    if clockwise % 360 == 0:
        return gray
    return np.ascontiguousarray(np.rot90(gray, k=(-clockwise // 90) % 4))


def turn_box(box: Box, clockwise: int) -> Box:
    """A box (fractions) of an image, on that image turned clockwise by 90/180/270."""
    x0, y0, x1, y1 = box
    c = clockwise % 360
    if c == 90:
        return (1 - y1, x0, 1 - y0, x1)
    if c == 180:
        return (1 - x1, 1 - y1, 1 - x0, 1 - y0)
    if c == 270:
        return (y0, 1 - x1, y1, 1 - x0)
    return box


def _turn_word(word: Word, clockwise: int) -> Word:
    return replace(word, box=turn_box(word.box, clockwise))
