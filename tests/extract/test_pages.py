"""Reading pages with real tesseract and real files: orientation, mixed PDFs, bad input."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from fpdf import FPDF
from fpdf.enums import TextMode
from PIL import Image

from extract.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedPDFError,
    ExtractError,
    ImageTooLargeError,
    TooManyPagesError,
    UnsupportedFileError,
)
from extract.pages import iter_pages, read_pages
from extract.types import ReadOptions
from tests.support import REAL, SHARED

TRUTH = REAL / "ocr-ground-truth"
GOLD = (TRUTH / "phototest.gold.txt").read_text()
LETTER = "This is to certify that Maria Lopez has completed the requirements of the program."


def _rates(truth: str, text: str) -> tuple[float, float]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("acc", SHARED / "tools" / "ocr_accuracy.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cer, wer = module.rates(truth, text)
    return float(cer), float(wer)


def _text_pdf(lines: list[str], size: int = 16) -> FPDF:
    pdf = FPDF(format="letter")
    pdf.set_font("helvetica", size=size)
    pdf.add_page()
    for line in lines:
        pdf.cell(0, 12, line, new_x="LMARGIN", new_y="NEXT")
    return pdf


def _scan_of(lines: list[str], dpi: int = 200) -> Image.Image:
    """A page image as a scanner would make it: a typed page rendered to pixels."""
    doc = pypdfium2.PdfDocument(bytes(_text_pdf(lines).output()))
    image = doc[0].render(scale=dpi / 72, grayscale=True).to_pil()
    doc.close()
    return image


# ---------------------------------------------------------------- orientation


@pytest.fixture(scope="module")
def upright() -> list:
    return read_pages(TRUTH / "phototest.tif", ReadOptions(keep_images=True))


@pytest.mark.parametrize(
    ("name", "rotation"),
    [
        ("phototest-rotated-180.png", 180),
        ("phototest-rotated-L.png", 90),
        ("phototest-rotated-R.png", 270),
    ],
)
def test_rotated_pages_read_like_the_upright_one(upright, name: str, rotation: int) -> None:
    (page,) = read_pages(TRUTH / name, ReadOptions(keep_images=True))
    cer, _ = _rates(GOLD, page.text)
    assert cer <= 0.02
    assert _rates(upright[0].text, page.text)[0] <= 0.02
    assert page.rotation == rotation
    # boxes are on the upright page: the same word sits in the same place
    assert len(page.words) == len(upright[0].words)
    for word, same in zip(page.words, upright[0].words, strict=True):
        if word.text == same.text:
            assert np.allclose(word.box, same.box, atol=0.03)
    # and the kept image is that upright page
    assert page.image is not None
    assert page.image.size == (page.width, page.height) == upright[0].image.size


def test_kept_image_shows_ink_inside_word_boxes() -> None:
    (page,) = read_pages(TRUTH / "phototest-rotated-L.png", ReadOptions(keep_images=True))
    assert page.image is not None
    pixels = np.asarray(page.image.convert("L"))
    h, w = pixels.shape
    for word in page.words[:10]:
        x0, y0, x1, y1 = word.box
        inside = pixels[int(y0 * h) : int(y1 * h) + 1, int(x0 * w) : int(x1 * w) + 1]
        assert inside.min() < 100  # the word's ink is where its box says


def test_words_carry_lines_blocks_and_reading_order(upright) -> None:
    words = upright[0].words
    assert [w.line for w in words] == sorted(w.line for w in words)
    assert upright[0].text.splitlines()[0].startswith("This is a lot of 12 point text")
    for w in words:
        x0, y0, x1, y1 = w.box
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
        assert 0 < w.conf <= 1


def test_skewed_scan_is_straightened(tmp_path: Path) -> None:
    image = _scan_of([LETTER[:45], LETTER[45:]]).rotate(4, expand=True, fillcolor=255)
    path = tmp_path / "skewed.png"
    image.save(path, dpi=(200, 200))
    (page,) = read_pages(path)
    assert abs(page.skew - (-4)) < 0.6 or abs(page.skew - 4) < 0.6
    assert "certify that Maria Lopez" in page.text


# ---------------------------------------------------------------- PDFs


def test_mixed_pdf_reads_each_page_from_its_best_source(tmp_path: Path) -> None:
    pdf = _text_pdf(["Medical License", "License Number: MD-12345"])
    scan = tmp_path / "scan.png"
    _scan_of([LETTER[:45], LETTER[45:]]).save(scan)
    pdf.add_page()
    pdf.image(str(scan), x=0, y=0, w=pdf.w, h=pdf.h)
    path = tmp_path / "mixed.pdf"
    pdf.output(str(path))

    pages = read_pages(path)
    assert [p.source for p in pages] == ["text", "ocr"]
    assert "License Number: MD-12345" in pages[0].text
    assert pages[0].words[0].conf == 1.0
    assert "certify that Maria Lopez" in pages[1].text


def test_garbage_text_layer_is_read_again_by_ocr(tmp_path: Path) -> None:
    """A scan with an earlier, bad OCR layer under it: the layer is ignored."""
    scan = tmp_path / "scan.png"
    _scan_of([LETTER[:45], LETTER[45:]]).save(scan)
    rng = random.Random(4)
    junk = " ".join(
        "".join(rng.choice("xqzkvjw#@%1l|") for _ in range(rng.randint(3, 8))) for _ in range(40)
    )
    pdf = FPDF(format="letter")
    pdf.add_page()
    pdf.image(str(scan), x=0, y=0, w=pdf.w, h=pdf.h)
    pdf.set_font("helvetica", size=12)
    pdf.text_mode = TextMode.INVISIBLE
    pdf.set_xy(20, 30)
    pdf.multi_cell(0, 8, junk)
    path = tmp_path / "bad-ocr-layer.pdf"
    pdf.output(str(path))

    (page,) = read_pages(path)
    assert page.source == "ocr"
    assert "certify that Maria Lopez" in page.text


def test_good_earlier_ocr_layer_is_used_without_reading_again(tmp_path: Path) -> None:
    """A searchable scan whose hidden text reads as language: no second OCR needed."""
    scan = tmp_path / "scan.png"
    _scan_of([LETTER[:45], LETTER[45:]]).save(scan)
    pdf = FPDF(format="letter")
    pdf.add_page()
    pdf.image(str(scan), x=0, y=0, w=pdf.w, h=pdf.h)
    pdf.set_font("helvetica", size=16)
    pdf.text_mode = TextMode.INVISIBLE
    pdf.set_xy(10, 10)
    pdf.multi_cell(0, 12, f"{LETTER} {LETTER}")
    path = tmp_path / "searchable.pdf"
    pdf.output(str(path))
    (page,) = read_pages(path)
    assert page.source == "text"
    assert "certify that Maria Lopez" in page.text


def test_good_text_layer_is_kept_and_fast_path_has_no_image(tmp_path: Path) -> None:
    path = tmp_path / "typed.pdf"
    _text_pdf(["Board of Medicine", "Expires 12/31/2026"]).output(str(path))
    (page,) = read_pages(path)
    assert page.source == "text" and page.image is None
    assert page.text.splitlines() == ["Board of Medicine", "Expires 12/31/2026"]
    (kept,) = read_pages(path, ReadOptions(keep_images=True))
    assert kept.image is not None
    assert abs(kept.image.size[0] / kept.image.size[1] - page.width / page.height) < 0.01


def test_letter_spaced_and_narrow_glyphs_keep_their_words(tmp_path: Path) -> None:
    pdf = FPDF(format="letter")
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.set_char_spacing(2.5)  # "S T A T E  O F" headings: letters as far apart as words
    pdf.cell(0, 10, "STATE OF ARIZONA", new_x="LMARGIN", new_y="NEXT")
    pdf.set_char_spacing(0)
    pdf.set_font("Times", size=11)  # a "1" is a narrow glyph with wide bearings
    pdf.cell(0, 10, "given this 17th day of December, 2022", new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "spaced.pdf"
    pdf.output(str(path))

    (page,) = read_pages(path)

    assert page.text.splitlines() == ["STATE OF ARIZONA", "given this 17th day of December, 2022"]


def test_rotated_pdf_page_boxes_are_on_the_displayed_page(tmp_path: Path) -> None:
    path = tmp_path / "typed.pdf"
    _text_pdf(["Board of Medicine"]).output(str(path))
    doc = pypdfium2.PdfDocument(str(path))
    doc[0].set_rotation(90)
    turned = tmp_path / "turned.pdf"
    doc.save(str(turned))
    doc.close()
    (page,) = read_pages(turned)
    assert page.width > page.height  # letter turned sideways
    box = page.words[0].box
    # the text sat at the top left; turned clockwise it sits at the top right, running down
    assert box[0] > 0.8 and box[3] - box[1] > box[2] - box[0]


@pytest.mark.parametrize(
    "path",
    sorted((REAL / "malformed-pdfs").glob("*.pdf")) + sorted((REAL / "other-pdfs").glob("*.pdf")),
    ids=lambda p: p.name,
)
def test_damaged_and_odd_pdfs_read_or_fail_with_a_reason(path: Path) -> None:
    try:
        pages = list(iter_pages(path))
    except ExtractError as e:
        reason = str(e)
        assert reason and "\n" not in reason and len(reason) < 200
        assert ":" in reason  # what happened: what to do
        return
    assert pages
    for page in pages:
        assert page.source in ("text", "ocr")


def test_known_bad_files_give_the_right_error() -> None:
    with pytest.raises(EmptyFileError):
        read_pages(REAL / "other-pdfs" / "empty.pdf")
    with pytest.raises(EncryptedPDFError, match="password"):
        read_pages(REAL / "other-pdfs" / "password-example.pdf")
    with pytest.raises(CorruptFileError, match="damaged"):
        read_pages(REAL / "malformed-pdfs" / "issue-100.pdf")


# ---------------------------------------------------------------- images and limits


def test_multipage_tiff_reads_every_page(tmp_path: Path) -> None:
    first = Image.open(TRUTH / "phototest.tif").convert("L")
    second = Image.open(TRUTH / "phototest-rotated-180.png").convert("L")
    path = tmp_path / "two.tif"
    first.save(path, save_all=True, append_images=[second], dpi=(200, 200))
    pages = read_pages(path)
    assert [p.number for p in pages] == [1, 2]
    assert [p.rotation for p in pages] == [0, 180]
    assert all(_rates(GOLD, p.text)[0] <= 0.02 for p in pages)
    with pytest.raises(TooManyPagesError, match="split"):
        read_pages(path, ReadOptions(max_pages=1))


def test_bad_files_fail_with_a_reason(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(EmptyFileError, match="0 bytes"):
        read_pages(empty)

    text = tmp_path / "notes.pdf"
    text.write_text("just some notes, not a document\n")
    with pytest.raises(UnsupportedFileError):
        read_pages(text)

    buf = io.BytesIO()
    Image.open(TRUTH / "phototest.tif").convert("L").save(buf, format="PNG")
    cut = tmp_path / "cut.png"
    cut.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(CorruptFileError, match="damaged or cut short"):
        read_pages(cut)

    with pytest.raises(ImageTooLargeError, match="decompression bomb"):
        read_pages(TRUTH / "phototest.tif", ReadOptions(max_pixels=10_000))


def test_blank_page_reads_as_no_words(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    Image.new("L", (850, 1100), 255).save(path, dpi=(100, 100))
    (page,) = read_pages(path)
    assert page.words == [] and page.source == "ocr" and page.rotation == 0
