"""Paths and small helpers that tests import: the shared corpus and database URLs."""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CREDFLOW_SHARED_DIR", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "dev"
REAL = SHARED / "corpus" / "real"
PG_ADMIN_URL = os.environ.get(
    "CREDFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def corpus_labels() -> list[dict]:
    with (CORPUS / "labels.jsonl").open() as fh:
        return [json.loads(line) for line in fh if line.strip()]


def corpus_file(kind: str, doc_type: str | None = None) -> Path:
    """The first dev-corpus file rendered as `kind` (pdf_text, scan, photo)."""
    for label in corpus_labels():
        if label["render"]["kind"] == kind and doc_type in (None, label["doc_type"]):
            return CORPUS / label["file"]
    raise LookupError(f"no {kind} {doc_type or ''} document in the corpus")
