"""Small things the ingest tests share: generated documents and waiting for the database."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from fpdf import FPDF
from sqlalchemy import func, select

from models import Database, Document

T = TypeVar("T")


def make_text_pdf(path: Path, n: int, pages: int = 1) -> Path:
    """A small licence-like PDF with a text layer; `n` makes its bytes unique."""
    pdf = FPDF(format="letter")
    pdf.set_creation_date(datetime(2024, 1, 1, tzinfo=UTC))  # same n, same bytes
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("Helvetica", size=16)
        pdf.cell(0, 12, "STATE BOARD OF MEDICINE", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=12)
        pdf.cell(0, 10, "Physician and Surgeon License", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(
            0, 10, f"License No. A{100000 + n}  page {page + 1}", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.cell(0, 10, "Issued 2021-03-04   Expires 2027-03-31", new_x="LMARGIN", new_y="NEXT")
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def wait_for(check: Callable[[], T], timeout: float = 120.0, interval: float = 0.1) -> T:
    """Poll until `check()` is truthy; fail the test with the last value when it never is."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = check()
    assert value, f"condition not met in {timeout} s (last value {value!r})"
    return value


def status_counts(db: Database) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(select(Document.status, func.count()).group_by(Document.status)).all()
    return {status: count for status, count in rows}


def settled(db: Database, expected: int) -> bool:
    """All `expected` documents have left received/processing."""
    counts = status_counts(db)
    return (
        sum(counts.values()) == expected
        and not counts.get("received")
        and not counts.get("processing")
    )
