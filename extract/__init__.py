"""Reading credential documents: file in, pages with words and boxes, doc_type and fields out.

Pure: imports nothing of credflow's and never touches the database.
"""

from extract.errors import ExtractError
from extract.pipeline import extract_file
from extract.types import Candidate, Extraction, FieldResult, Page, ReadOptions, Word

__all__ = [
    "Candidate",
    "ExtractError",
    "Extraction",
    "FieldResult",
    "Page",
    "ReadOptions",
    "Word",
    "extract_file",
]
