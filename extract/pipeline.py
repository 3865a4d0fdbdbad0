"""extract_file: the whole reading of one file, as a sequence of named steps."""

from __future__ import annotations

from pathlib import Path

from extract.fields import extract_fields
from extract.pages import read_pages
from extract.types import Extraction, ReadOptions


def extract_file(path: Path, options: ReadOptions = ReadOptions()) -> Extraction:
    """Pages (text layer or OCR), then doc_type and fields. Raises ExtractError with a
    one-line reason when the file cannot be read."""
    pages = read_pages(path, options)
    doc_type, doc_type_confidence, fields = extract_fields(pages)
    return Extraction(str(path), doc_type, doc_type_confidence, fields, pages)
