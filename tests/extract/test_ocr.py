"""The pieces of reading a page image: turning, deskew, page finding, text-layer checks."""

from __future__ import annotations

import cv2
import numpy as np
import pypdfium2
import pytest
from fpdf import FPDF
from PIL import Image

from extract import ocr
from extract import preprocess as pp
from extract.textlayer import LayerCheck
from extract.types import Word
from tests.support import CORPUS, corpus_labels


def _page(lines: list[str], dpi: int = 150) -> np.ndarray:
    pdf = FPDF(format="letter")
    pdf.set_font("helvetica", size=14)
    pdf.add_page()
    for line in lines:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    doc = pypdfium2.PdfDocument(bytes(pdf.output()))
    image = np.asarray(doc[0].render(scale=dpi / 72, grayscale=True).to_pil())
    doc.close()
    return image


LINES = [f"Line {i}: the State Board of Medicine certifies this licence" for i in range(14)]


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_turning_a_box_matches_turning_the_image(turn: int) -> None:
    image = np.zeros((40, 100), np.uint8)
    image[5:15, 60:90] = 255  # a box at x 0.6..0.9, y 0.125..0.375
    box = (0.6, 5 / 40, 0.9, 15 / 40)
    turned = ocr.turn_image(image, turn)
    ys, xs = np.nonzero(turned)
    h, w = turned.shape
    expected = (xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h)
    assert np.allclose(ocr.turn_box(box, turn), expected)


def test_sideways_reading_is_recognised_from_word_boxes() -> None:
    def word(x: float, y: float, line: int) -> Word:
        return Word("word", 0.9, (x, y, x + 0.02, y + 0.08), 1, line)

    down = [word(0.7, 0.1 + 0.1 * i, line=0) for i in range(5)]
    up = [word(0.2, 0.9 - 0.1 * i, line=0) for i in range(5)]
    across = [Word("w", 0.9, (0.1 * i, 0.2, 0.1 * i + 0.08, 0.22), 1, 0) for i in range(5)]
    assert ocr.sideways_turn(down) == 270
    assert ocr.sideways_turn(up) == 90
    assert ocr.sideways_turn(across) == 0
    assert ocr.sideways_turn([]) == 0


@pytest.mark.parametrize("angle", [-5.0, -2.0, 3.0, 7.0])
def test_skew_is_measured_on_a_small_copy(angle: float) -> None:
    page = _page(LINES)
    tilted = pp.rotate(page, angle)
    measured = pp.estimate_skew(tilted)
    assert abs(measured + angle) <= 0.4  # turning back by `measured` straightens it
    assert abs(pp.estimate_skew(pp.rotate(tilted, measured))) <= 0.4


def test_a_photographed_page_is_found_cut_out_and_flattened() -> None:
    page = _page(LINES)
    h, w = page.shape
    canvas = np.zeros((h + 400, w + 400, 3), np.uint8)
    canvas[:] = (95, 60, 35)  # a wooden desk
    canvas += np.random.default_rng(1).integers(0, 25, canvas.shape, dtype=np.uint8)
    quad = np.array([[230, 180], [w + 150, 230], [w + 200, h + 230], [180, h + 170]], np.float32)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(src, quad)
    paper = cv2.warpPerspective(cv2.cvtColor(page, cv2.COLOR_GRAY2RGB), m, canvas.shape[1::-1])
    mask = cv2.warpPerspective(np.full_like(page, 255), m, canvas.shape[1::-1]) > 0
    canvas[mask] = paper[mask]
    # a shadow across the lower half
    canvas[canvas.shape[0] // 2 :] = (canvas[canvas.shape[0] // 2 :] * 0.6).astype(np.uint8)
    gray = cv2.cvtColor(canvas, cv2.COLOR_RGB2GRAY)

    found = pp.find_page(gray, canvas)
    assert found is not None
    assert np.abs(found - quad).max() < 25
    flat = pp.flatten_light(pp.warp_page(gray, found))
    top, bottom = flat[: flat.shape[0] // 3], flat[-flat.shape[0] // 3 :]
    assert abs(float(np.median(top)) - float(np.median(bottom))) < 10  # shadow gone
    # a scan (paper to the border) is left alone
    assert pp.find_page(page, None) is None


def test_every_dev_photo_is_cut_out_along_its_sheet() -> None:
    # desks of wood, metal and plain grey with vignetting and lamp light: each page is
    # one sheet inside the frame, its opposite sides about as long (a perspective view)
    for label in corpus_labels():
        if label["render"]["kind"] != "photo":
            continue
        gray, rgb = pp.to_gray(Image.open(CORPUS / label["file"]))
        quad = pp.find_page(gray, rgb)
        assert quad is not None, label["file"]
        h, w = gray.shape
        assert quad.min() > -0.02 * max(h, w), label["file"]
        assert (quad[:, 0] < 1.02 * w).all() and (quad[:, 1] < 1.02 * h).all(), label["file"]
        sides = [float(np.linalg.norm(quad[i] - quad[(i + 1) % 4])) for i in range(4)]
        for a, b in ((sides[0], sides[2]), (sides[1], sides[3])):
            assert min(a, b) / max(a, b) > 0.85, label["file"]
        area = cv2.contourArea(quad)
        assert 0.25 * h * w < area < 0.95 * h * w, label["file"]


def test_rules_go_and_letters_stay() -> None:
    image = np.full((700, 1000), 250, np.uint8)
    cv2.putText(image, "CHRISTINA ALLEN", (120, 200), cv2.FONT_HERSHEY_SIMPLEX, 2.2, 0, 7)
    for i in range(6):
        y = 300 + 40 * i
        cv2.putText(image, "the board certifies this", (60, y), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2)
    cv2.line(image, (60, 560), (940, 560), 170, 2)  # a pale table rule
    cv2.line(image, (60, 620), (940, 620), 0, 2)  # a black one
    image = cv2.GaussianBlur(image, (5, 5), 1.2)
    cleaned = pp.remove_rules(image)
    assert np.count_nonzero(cleaned[550:570, 100:900] < 200) < 50
    assert np.count_nonzero(cleaned[610:630, 100:900] < 200) < 50
    letters = (slice(130, 215), slice(110, 900))
    before = np.count_nonzero(image[letters] < 128)
    assert np.count_nonzero(cleaned[letters] < 128) > 0.97 * before


def test_small_text_is_scaled_up_and_big_text_is_not() -> None:
    assert pp.upscale_factor(_page(LINES, dpi=90), None) > 1.4
    assert pp.upscale_factor(_page(LINES, dpi=300), None) == 1.0


def test_layer_checks_tell_good_text_from_garbage() -> None:
    good = LayerCheck(chars=800, words=150, tokens=120, plausible_words=115, common_words=30)
    assert good.verdict() is None
    glyphs = LayerCheck(chars=800, bad_chars=500, words=150, tokens=10, plausible_words=2)
    assert glyphs.verdict() == "unmapped glyphs"
    soup = LayerCheck(chars=800, words=150, tokens=120, plausible_words=40, common_words=0)
    assert soup.verdict() == "gibberish"
    earlier_ocr = LayerCheck(
        chars=800,
        invisible_chars=800,
        words=150,
        tokens=120,
        plausible_words=100,
        common_words=10,
        image_cover=1.0,
    )
    assert earlier_ocr.verdict() == "doubtful earlier OCR"
    fax_header = LayerCheck(chars=40, words=6, tokens=5, plausible_words=5, image_cover=0.95)
    assert fax_header.verdict() == "a few words over a scanned page"
    assert LayerCheck().verdict() == "no text layer"


def test_a_bilevel_scan_with_broken_thin_strokes_is_made_bolder() -> None:
    # a 200 dpi black-and-white scan of light print (the dev corpus's poor CME transcript)
    fax = CORPUS / "doc_0007.tif"
    with Image.open(fax) as img:
        gray, _ = pp.to_gray(img)
    bolder = pp.thicken_thin_bilevel(gray, 200)
    assert np.count_nonzero(bolder < 128) > 1.3 * np.count_nonzero(gray < 128)
    words = " ".join(w.text for w in ocr.tesseract(bolder, 200, "eng").words)
    assert "American College of Emergency Physicians" in words


def test_greyscale_scans_and_solid_bilevel_print_are_left_alone() -> None:
    page = np.full((400, 600), 255, np.uint8)
    cv2.putText(page, "Board of Medicine", (20, 200), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 0, 8)
    assert pp.thicken_thin_bilevel(page, 200) is page  # strokes 8 px wide: solid
    grey = cv2.GaussianBlur(page, (5, 5), 0)
    assert pp.thicken_thin_bilevel(grey, 200) is grey  # greys: not bilevel


def test_a_page_read_far_short_of_its_ink_is_read_again_as_one_block() -> None:
    # a reading that kept two of the fourteen lines (as tesseract's layout analysis does
    # when it takes most of a page for a picture) against the page's letter-sized ink
    gray = _page(LINES, dpi=200)
    prepared = ocr.prepare(gray, None, 200.0)
    lines = np.nonzero((prepared.ocr < 128).any(axis=1))[0]
    part = prepared.ocr.copy()
    part[lines[0] + 60 :] = 255
    short = ocr.tesseract(part, prepared.dpi, "eng")
    assert short.letters < ocr.SHORT_OF_INK * pp.letter_blobs(prepared.ocr)
    fuller = ocr.fuller_reading(prepared, short, "eng")
    assert fuller.letters > 3 * short.letters
    assert sum(w.text == "Board" for w in fuller.words) >= 10
    # a full reading is kept as it is, without a second run
    assert ocr.fuller_reading(prepared, fuller, "eng") is fuller
