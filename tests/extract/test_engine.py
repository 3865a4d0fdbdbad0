"""The two OCR engines read the same: tesseract loaded in the process (tesserocr) gives
the words, boxes and confidences of the tesseract program, page by page and in batches,
and the fields extracted from them are the same."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from extract import engine, ocr
from extract import preprocess as pp
from extract.errors import OCRError
from extract.fields import extract_fields
from extract.pages import iter_sources, read_pages
from extract.types import Page
from tests.support import CORPUS, REAL, SHARED, corpus_labels

pytest.importorskip("tesserocr")

FAX = SHARED / "corpus" / "dev-fax"
COLUMNS = ("block_num", "par_num", "line_num", "word_num", "left", "top", "width", "height")


def _pages() -> list[Path]:
    scans = [CORPUS / lab["file"] for lab in corpus_labels() if lab["render"]["kind"] == "scan"]
    return [
        scans[0],
        FAX / "fax_0001.pdf",
        FAX / "fax_0003.tif",
        REAL / "ocr-ground-truth" / "phototest-rotated-180.png",
    ]


@pytest.fixture
def use_engine() -> Iterator[object]:
    """Choose an engine for this process, and go back to the automatic choice after."""
    yield engine.configure
    engine.configure("auto")


def _words(data: engine.TSV) -> list[tuple[object, ...]]:
    """The rows of a TSV that are words: what credflow keeps of a reading."""
    return [
        (str(data["text"][i]).strip(), data["conf"][i], *(data[c][i] for c in COLUMNS))
        for i in range(len(data["text"]))
        if str(data["text"][i]).strip() and float(data["conf"][i]) >= 0
    ]


def test_the_in_process_engine_is_built_against_the_programs_tesseract() -> None:
    assert engine.tesserocr_problem() is None
    assert engine.describe("auto").startswith("tesserocr (tesseract 5.")
    assert engine.describe("cli").startswith("cli")


def test_both_engines_give_the_same_words_boxes_and_confidences() -> None:
    scans = [s for p in _pages() for s in iter_sources(p) if isinstance(s, ocr.Scan)]
    images = [(s.prepared.ocr, s.prepared.dpi) for s in scans]
    fast, cli = engine.TesserocrEngine(), engine.CliEngine()

    alone = [cli.image_to_data(g, d, "eng", 3, 120) for g, d in images]
    assert all(_words(a) for a in alone)
    assert [_words(fast.image_to_data(g, d, "eng", 3, 120)) for g, d in images] == [
        _words(a) for a in alone
    ]
    # several pages as one job: one program run for the CLI, one loaded model in process
    assert [_words(t) for t in fast.images_to_data(images, "eng", 600)] == [
        _words(t) for t in cli.images_to_data(images, "eng", 600)
    ]


@pytest.mark.parametrize("name", ["phototest-rotated-180.png", "phototest-rotated-L.png"])
def test_both_engines_see_the_same_orientation(name: str) -> None:
    gray, _ = pp.to_gray(Image.open(REAL / "ocr-ground-truth" / name))
    fast = engine.TesserocrEngine().osd(gray, 300, 60)
    assert fast is not None and fast[0] in (90, 180, 270)
    assert fast == engine.CliEngine().osd(gray, 300, 60)


def test_pages_and_fields_are_the_same_whichever_engine_reads(use_engine: object) -> None:
    def read(name: engine.EngineName) -> list[tuple[list[Page], object]]:
        engine.configure(name)
        out: list[tuple[list[Page], object]] = []
        for path in (_pages()[0], _pages()[-1]):  # a scan, an upside-down page
            pages = read_pages(path)
            out.append((pages, extract_fields(pages)))
        assert engine.get().name == name
        return out

    fast = read("tesserocr")
    assert fast[1][0][0].rotation == 180
    assert fast == read("cli")


def test_without_tesserocr_the_program_reads(
    use_engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tesserocr", None)  # as if it were not installed
    engine.configure("auto")
    assert engine.tesserocr_problem() == "tesserocr is not installed"
    assert isinstance(engine.get(), engine.CliEngine)
    assert engine.describe().startswith("cli (tesseract program per batch: tesserocr is not")
    engine.configure("tesserocr")
    with pytest.raises(OCRError, match="in-process OCR engine cannot be used"):
        engine.get()


def test_a_page_that_takes_too_long_fails_with_a_reason() -> None:
    (scan,) = [s for s in iter_sources(_pages()[0]) if isinstance(s, ocr.Scan)]
    with pytest.raises(OCRError, match="took longer than"):
        engine.TesserocrEngine().image_to_data(scan.prepared.ocr, scan.prepared.dpi, "eng", 3, 0)
