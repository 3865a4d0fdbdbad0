"""Faxes read like the pages they were sent from: square pixels, solid ink, no streaks.

A fax machine scans at 204 dpi across and 98 ("standard") or 196 ("fine") down, sends black
and white only (often dithered), and leaves streaks and dropped lines. Each page below is
made that way from a typed page and read through `extract.pages.read_pages`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from extract import preprocess as pp
from extract.pages import cleaned, read_pages
from tests.extract.test_ocr import _page as typed_page

LINES = [
    "State Board of Nursing",
    "License Number RN190299",
    "Registered Nurse license verification",
    "Expiration Date 31-MAY-2027",
]


def _typed(dpi: int = 204) -> np.ndarray:
    image = typed_page(LINES, dpi)
    return image[: image.shape[0] // 3].copy()  # the typed part: a short page reads fast


def _fax(gray: np.ndarray, standard: bool, dither: bool) -> Image.Image:
    img = Image.fromarray(gray)
    if standard:
        img = img.resize((img.width, img.height // 2), Image.Resampling.BOX)  # 98 rows per inch
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 10, (img.height, img.width))
    noisy = np.clip(np.asarray(img, np.float32) + noise, 0, 255)
    grey = Image.fromarray(noisy.astype(np.uint8))
    bits = np.asarray(grey.convert("1")) if dither else np.asarray(grey) >= 160
    bits = bits.copy()
    bits[:, 300:302] = False  # a streak down the page from dirt on the glass
    out = Image.fromarray(bits.astype(np.uint8) * 255).convert("1")
    out.info["dpi"] = (204, 98 if standard else 196)
    return out


def _text(path: Path) -> str:
    return " ".join(w.text for p in read_pages(path) for w in p.words)


def test_a_standard_mode_fax_has_its_rows_doubled_before_reading(tmp_path: Path) -> None:
    fax = _fax(_typed(), standard=True, dither=False)
    path = tmp_path / "fax.tif"
    fax.save(path, compression="group4", dpi=(204, 98))
    squared = cleaned(Image.open(path))
    assert squared.size == (fax.width, round(fax.height * 204 / 98))  # square: 204 x 204
    assert squared.info["dpi"] == (204.0, 204.0)
    text = _text(path)
    assert "RN190299" in text and "Registered Nurse" in text


def test_a_dithered_fax_is_made_solid_and_read(tmp_path: Path) -> None:
    fax = _fax(_typed(), standard=False, dither=True)
    gray, _ = pp.to_gray(fax)
    assert pp.is_bilevel(gray)
    assert np.count_nonzero(pp.lonely_dots(gray)) > 0.0035 * gray.size  # dithered
    path = tmp_path / "fax.png"
    fax.save(path, dpi=(204, 196))
    out, _ = pp.clean_bilevel(gray, (204, 196))
    assert np.count_nonzero(pp.lonely_dots(out)) < 0.0005 * out.size
    text = _text(path)
    assert "RN190299" in text and "Expiration Date" in text


def test_streaks_and_dropped_lines_are_cleared_but_print_stays() -> None:
    page = np.full((200, 300), 255, np.uint8)
    page[50:60, 20:120] = 0  # a bar of print
    page[:, 200] = 0  # a streak from top to bottom
    page[150, :] = 0  # a black scan line
    out = pp.clear_streaks(page)
    assert (out[:, 200] == 255).all() and (out[150] == 255).all()
    assert (out[50:60, 20:120] == 0).all()


def test_greyscale_and_square_pages_are_left_as_they_are() -> None:
    paper = np.linspace(200, 250, 300 * 200).reshape(200, 300).astype(np.uint8)
    paper[90:110, 40:260:12] = 20  # a line of print
    grey = Image.fromarray(paper)
    grey.info["dpi"] = (300, 300)
    assert cleaned(grey) is grey
    rgb = Image.new("RGB", (50, 40), (200, 200, 200))
    assert cleaned(rgb) is rgb
    squashed, dpi = pp.square_pixels(np.asarray(grey), (200.0, 100.0))
    assert squashed.shape == (400, 300) and dpi == 200.0
