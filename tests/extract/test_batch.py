"""Reading several files with shared tesseract runs: the same pages as one by one, and a
bad file or a failed run costs only itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract import ocr
from extract.batch import read_files
from extract.errors import EmptyFileError
from extract.pages import read_pages
from extract.types import Page, ReadOptions
from tests.support import CORPUS, REAL, corpus_labels


def _files(kind: str, n: int) -> list[Path]:
    return [CORPUS / lab["file"] for lab in corpus_labels() if lab["render"]["kind"] == kind][:n]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    empty = tmp_path_factory.mktemp("batch") / "empty.png"
    empty.write_bytes(b"")
    phototest = REAL / "ocr-ground-truth" / "phototest-rotated-180.png"
    return [*_files("scan", 2), empty, *_files("pdf_text", 1), phototest, *_files("scan", 3)[2:]]


@pytest.fixture(scope="module")
def alone(mixed: list[Path]) -> dict[Path, list[str]]:
    """Each readable file's page texts, read on its own."""
    return {p: [page.text for page in read_pages(p)] for p in mixed if p.name != "empty.png"}


def test_a_batch_reads_every_page_as_reading_each_file_alone(
    mixed: list[Path], alone: dict[Path, list[str]]
) -> None:
    seen: list[tuple[int, int]] = []
    results = list(
        read_files(mixed, batch_pages=3, on_page=lambda i, page: seen.append((i, page.number)))
    )

    assert sorted(r.index for r in results) == list(range(len(mixed)))
    by_index = {r.index: r for r in results}
    for index, path in enumerate(mixed):
        result = by_index[index]
        if path.name == "empty.png":
            assert isinstance(result.error, EmptyFileError) and not result.pages
            continue
        assert result.error is None
        assert [p.text for p in result.pages] == alone[path], path.name
    # the upside-down page was turned in the batch as it is alone
    assert by_index[4].pages[0].rotation == 180
    assert sorted(seen) == sorted((r.index, p.number) for r in results for p in r.pages)


def test_a_failed_shared_run_is_read_again_page_by_page(
    mixed: list[Path], alone: dict[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    scans = [p for p in alone if p.suffix != ".pdf"][:3]
    monkeypatch.setattr(ocr, "BATCH_TIMEOUT", 0.01)  # every shared run now times out
    beats: list[int] = []

    results = list(read_files(scans, heartbeat=lambda: beats.append(1)))

    assert len(beats) == len(scans)  # one single run per page, each a sign of life
    assert [r.index for r in results] == [0, 1, 2]
    for result, path in zip(results, scans, strict=True):
        assert result.error is None
        assert [p.text for p in result.pages] == alone[path]


def test_pages_of_a_long_scan_come_back_in_order_across_batches(tmp_path: Path) -> None:
    from PIL import Image

    scans = _files("scan", 3)
    frames = [Image.open(p).convert("L") for p in scans]
    tiff = tmp_path / "three-pages.tif"
    frames[0].save(tiff, save_all=True, append_images=frames[1:], dpi=(200, 200))

    (result,) = read_files([tiff], ReadOptions(), batch_pages=2)

    assert [p.number for p in result.pages] == [1, 2, 3]
    assert all(isinstance(p, Page) and p.words for p in result.pages)
