"""extract_file / extract_files: the whole reading of files, pages then doc_type and fields."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from extract.batch import read_files
from extract.errors import ExtractError
from extract.fields import extract_fields
from extract.pages import read_pages
from extract.types import Extraction, Page, ReadOptions


def extract_file(path: Path, options: ReadOptions = ReadOptions()) -> Extraction:
    """Pages (text layer or OCR), then doc_type and fields. Raises ExtractError with a
    one-line reason when the file cannot be read."""
    return _extraction(path, read_pages(path, options))


def extract_files(
    paths: Sequence[Path], options: ReadOptions = ReadOptions()
) -> Iterator[tuple[int, Extraction | ExtractError]]:
    """(index, extraction or the reason it failed) for each file, as each is done.

    Faster than `extract_file` on each: scanned pages of consecutive files share
    tesseract runs (`extract.batch`).
    """
    for result in read_files(paths, options):
        if isinstance(result.error, MemoryError):
            yield result.index, ExtractError("the file needs more memory than there is: split it")
        elif result.error is not None:
            yield result.index, result.error
        else:
            yield result.index, _extraction(paths[result.index], result.pages)


def _extraction(path: Path, pages: list[Page]) -> Extraction:
    doc_type, doc_type_confidence, fields = extract_fields(pages)
    return Extraction(str(path), doc_type, doc_type_confidence, fields, pages)
