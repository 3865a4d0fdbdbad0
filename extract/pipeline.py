"""extract_file / extract_files: the whole reading of files, pages then doc_type and fields."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from extract.batch import read_files
from extract.errors import ExtractError
from extract.fields import extract_fields
from extract.learned import LearnedLayouts, apply_learned
from extract.pages import read_pages
from extract.types import Extraction, FieldResult, Page, ReadOptions


def extract_file(
    path: Path, options: ReadOptions = ReadOptions(), learned: LearnedLayouts | None = None
) -> Extraction:
    """Pages (text layer or OCR), then doc_type and fields (improved by `learned` layouts,
    when given). Raises ExtractError with a one-line reason when the file cannot be read."""
    return _extraction(path, read_pages(path, options), learned)


def extract_files(
    paths: Sequence[Path],
    options: ReadOptions = ReadOptions(),
    learned: LearnedLayouts | None = None,
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
            yield result.index, _extraction(paths[result.index], result.pages, learned)


def read_fields(
    pages: list[Page], learned: LearnedLayouts | None = None
) -> tuple[str, float, dict[str, FieldResult]]:
    """doc_type, its confidence and the fields: the rules first, then what the site has
    learned from confirmations (`learned`, plain data; None reads zero-shot)."""
    return apply_learned(pages, *extract_fields(pages), learned)


def _extraction(path: Path, pages: list[Page], learned: LearnedLayouts | None) -> Extraction:
    doc_type, doc_type_confidence, fields = read_fields(pages, learned)
    return Extraction(str(path), doc_type, doc_type_confidence, fields, pages)
