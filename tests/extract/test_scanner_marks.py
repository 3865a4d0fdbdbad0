"""A sheet scanned with the lid open, skewed, hole-punched: read like the sheet itself.

The dark border around the sheet and the punches through it are painted white before the
skew is measured and tesseract lays out the page (`preprocess.whiten_scanner_marks`).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pypdfium2
from fpdf import FPDF
from PIL import Image

from extract import preprocess as pp
from extract.pages import read_pages

DPI = 240


def _sheet() -> np.ndarray:
    pdf = FPDF(format="letter")
    pdf.add_page()
    pdf.set_font("helvetica", size=16)
    for line in (
        "Vanderbilt University",
        "has conferred upon Rafael Hao Oyelaran",
        "the degree of Doctor of Nursing Practice",
        "Given at Nashville, Tennessee, on June 26, 2003",
    ):
        pdf.cell(0, 14, line, new_x="LMARGIN", new_y="NEXT", align="C")
    doc = pypdfium2.PdfDocument(bytes(pdf.output()))
    image = np.asarray(doc[0].render(scale=DPI / 72, grayscale=True).to_pil())
    doc.close()
    return image[: image.shape[0] // 2].copy()


def _scanned(sheet: np.ndarray, skew: float) -> np.ndarray:
    """The sheet on a dark lid, three punches down its left margin, turned by `skew`."""
    h, w = sheet.shape
    canvas = np.full((h + 160, w + 160), 35, np.uint8)
    canvas[80 : 80 + h, 80 : 80 + w] = sheet
    for y in (0.15, 0.5, 0.85):
        cv2.circle(canvas, (80 + int(0.05 * w), 80 + int(y * h)), int(0.13 * DPI), 35, -1)
    m = cv2.getRotationMatrix2D((canvas.shape[1] / 2, canvas.shape[0] / 2), skew, 1.0)
    size = (canvas.shape[1], canvas.shape[0])
    return cv2.warpAffine(canvas, m, size, flags=cv2.INTER_CUBIC, borderValue=35)


def test_the_lid_and_the_punches_are_painted_white_and_the_print_kept() -> None:
    sheet = _sheet()
    scan = _scanned(sheet, 3.5)
    out = pp.whiten_scanner_marks(scan, DPI)
    assert np.count_nonzero(out < 100) < 0.1 * np.count_nonzero(scan < 100)
    # the print is still there: as much ink inside the sheet as the sheet had
    assert np.count_nonzero(out < 100) > 0.8 * np.count_nonzero(sheet < 100)


def test_the_skew_is_measured_on_the_text_not_the_border() -> None:
    scan = _scanned(_sheet(), 3.5)
    assert abs(pp.estimate_skew(pp.whiten_scanner_marks(scan, DPI)) - (-3.5)) <= 0.5


def test_a_skewed_punched_scan_on_a_dark_lid_is_read(tmp_path: Path) -> None:
    path = tmp_path / "diploma.png"
    Image.fromarray(_scanned(_sheet(), 3.5)).save(path, dpi=(DPI, DPI))
    (page,) = read_pages(path)
    assert abs(page.skew + 3.5) <= 0.5
    text = " ".join(w.text for w in page.words)
    assert "Rafael Hao Oyelaran" in text and "Doctor of Nursing Practice" in text


def test_a_clean_scan_is_left_alone() -> None:
    sheet = _sheet()
    assert pp.whiten_scanner_marks(sheet, DPI) is sheet
