"""Processing one document: the task the local worker pool and Celery workers both run.

Idempotent by construction: it starts with a lease claim (one conditional UPDATE) and
ends with a write conditional on still holding that lease, so running it twice, late, or
on two machines at once changes nothing the second time.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image
from sqlalchemy import delete, select

from extract.batch import FileRead, read_files
from extract.learned import LearnedLayouts
from extract.pipeline import read_fields
from extract.types import FieldResult, Page, ReadOptions
from ingest import leases
from ingest.learning import CACHE as LEARNED
from ingest.store import write_atomic
from models import (
    Database,
    Document,
    DocumentField,
    DocumentPage,
    DocumentStatus,
    StoreLayout,
    record_event,
)
from models.document_state import move
from models.layout import page_png

log = logging.getLogger(__name__)

MAX_PREVIEW_SIDE = 2400  # pixels; a poster-sized scan still gets a usable preview
LONG_SIDE_INCHES = 11.0


@dataclass(frozen=True)
class ProcessOptions:
    """What a worker needs to know, built from the settings by the command line."""

    lease_seconds: int = 600
    max_attempts: int = 3
    ocr_dpi: int = 300
    page_image_dpi: int = 110
    max_pages: int = 200
    memory_mb: int = 0  # the worker's memory limit, for the message when it is hit
    ocr_engine: str = "auto"  # extract.engine: "auto" (tesserocr when usable), "tesserocr", "cli"
    learning: bool = True  # propose values from the layouts learned from confirmations


@dataclass(frozen=True)
class Outcome:
    document_id: int
    status: str | None  # None: not claimed (already done, or someone else has it)
    pages: int = 0


def process_document(
    db: Database,
    layout: StoreLayout,
    doc_id: int,
    options: ProcessOptions,
    *,
    owner: str | None = None,
    on_page: Callable[[int], None] | None = None,
) -> Outcome:
    """Claim, read, and record one document; never raises for a bad file."""
    page_done = (lambda _doc, number: on_page(number)) if on_page is not None else None
    (outcome,) = process_documents(db, layout, [doc_id], options, owner=owner, on_page=page_done)
    return outcome


def process_documents(
    db: Database,
    layout: StoreLayout,
    doc_ids: Sequence[int],
    options: ProcessOptions,
    *,
    owner: str | None = None,
    on_start: Callable[[int], None] | None = None,
    on_page: Callable[[int, int], None] | None = None,
) -> list[Outcome]:
    """Claim, read and record several documents, their scanned pages OCR'd together.

    Reading consecutive documents in one go lets tesseract runs be shared
    (`extract.batch`); each document is still claimed, recorded and failed on its own.
    `on_start(doc_id)` is called before a document is opened, `on_page(doc_id, number)`
    after each page (also as a keep-alive while pages are re-read after a failed batch).
    """
    owner = owner or leases.owner_id()
    outcomes: dict[int, Outcome] = {}
    claimed: list[tuple[int, str]] = []
    for doc_id in doc_ids:
        sha, outcome = _claim(db, layout, doc_id, options, owner)
        if outcome is not None:
            outcomes[doc_id] = outcome
        elif sha is not None:
            claimed.append((doc_id, sha))
    if claimed:
        outcomes.update(_read_and_record(db, layout, claimed, options, owner, on_start, on_page))
    return [outcomes[doc_id] for doc_id in doc_ids]


def _claim(
    db: Database, layout: StoreLayout, doc_id: int, options: ProcessOptions, owner: str
) -> tuple[str | None, Outcome | None]:
    """(sha256, None) for a document now ours to read, else (None, its outcome)."""
    with db.session() as s:
        if not leases.claim(s, doc_id, owner, options.lease_seconds, options.max_attempts):
            return None, Outcome(doc_id, None)
        sha = s.scalar(select(Document.sha256).where(Document.id == doc_id))
    if sha is None:
        return None, _fail(db, doc_id, owner, "the document was removed before it could be read")
    if not layout.original(sha).exists():
        return None, _fail(
            db,
            doc_id,
            owner,
            "the stored original is missing from the document store: drop the file again",
        )
    return sha, None


def _read_and_record(
    db: Database,
    layout: StoreLayout,
    claimed: list[tuple[int, str]],
    options: ProcessOptions,
    owner: str,
    on_start: Callable[[int], None] | None,
    on_page: Callable[[int, int], None] | None,
) -> dict[int, Outcome]:
    # previews of OCR'd pages are written here; text pages are drawn by the review screen
    read = ReadOptions(
        dpi=options.ocr_dpi,
        max_pages=options.max_pages,
        keep_images=True,
        draw_text_pages=False,
    )
    keeper = _LeaseKeeper(db, [doc_id for doc_id, _ in claimed], owner, options.lease_seconds)

    def page_read(index: int, page: Page) -> None:
        doc_id, sha = claimed[index]
        if page.image is not None:
            write_atomic(layout.page_image(sha, page.number), _preview_png(page, options))
            page.image = None
        if on_page is not None:
            on_page(doc_id, page.number)
        keeper.tick()

    def heartbeat() -> None:  # page 0: still alive, re-reading a batch page by page
        if on_page is not None:
            on_page(claimed[0][0], 0)
        keeper.tick()

    def started(index: int) -> None:
        if on_start is not None:
            on_start(claimed[index][0])

    outcomes: dict[int, Outcome] = {}
    learned = LEARNED.get(db) if options.learning else None
    try:
        for result in read_files(
            [layout.original(sha) for _, sha in claimed],
            read,
            on_file=started,
            on_page=page_read,
            heartbeat=heartbeat,
        ):
            doc_id = claimed[result.index][0]
            outcomes[doc_id] = _record(db, doc_id, owner, result, options, learned)
    except Exception as e:
        unfinished = [doc_id for doc_id, _ in claimed if doc_id not in outcomes]
        _log_unexpected(unfinished[0], e)
        for doc_id in unfinished:
            outcomes[doc_id] = _release_unexpected(db, doc_id, owner, e, options)
    return outcomes


def _record(
    db: Database,
    doc_id: int,
    owner: str,
    result: FileRead,
    options: ProcessOptions,
    learned: LearnedLayouts | None = None,
) -> Outcome:
    """One document read: its fields and pages recorded, or the reason it failed."""
    if isinstance(result.error, MemoryError):
        return _fail(
            db,
            doc_id,
            owner,
            f"reading the file needs more than the worker's memory limit ({options.memory_mb} MB): "
            "split it into smaller files or scan it at a lower resolution",
        )
    if result.error is not None:
        return _fail(db, doc_id, owner, str(result.error))
    try:
        doc_type, doc_type_conf, fields = read_fields(result.pages, learned)
    except Exception as e:
        _log_unexpected(doc_id, e)
        return _release_unexpected(db, doc_id, owner, e, options)
    return _finish(db, doc_id, owner, result.pages, doc_type, doc_type_conf, fields)


def _log_unexpected(doc_id: int, e: BaseException) -> None:
    # the message of an unexpected error may quote document text: log only where it broke
    log.error(
        "document %s: unexpected %s while reading\n%s",
        doc_id,
        type(e).__name__,
        "".join(traceback.format_tb(e.__traceback__)),
    )


def _release_unexpected(
    db: Database, doc_id: int, owner: str, e: BaseException, options: ProcessOptions
) -> Outcome:
    """A bug, not a bad file: give the document back to be tried again, a few times."""
    with db.session() as s:
        status = leases.release(
            s,
            doc_id,
            owner,
            reason=(
                f"credflow could not read this file ({type(e).__name__}) in "
                f"{options.max_attempts} attempts: retry it; if it fails again, report it "
                "with the document id"
            ),
            max_attempts=options.max_attempts,
        )
    return Outcome(doc_id, status)


class _LeaseKeeper:
    """Renews the leases of documents being read, every quarter of the lease."""

    def __init__(self, db: Database, doc_ids: list[int], owner: str, seconds: int) -> None:
        self.db, self.doc_ids, self.owner, self.seconds = db, doc_ids, owner, seconds
        self.last = time.monotonic()

    def tick(self) -> None:
        if time.monotonic() - self.last <= self.seconds / 4:
            return
        with self.db.session() as s:
            for doc_id in self.doc_ids:
                leases.renew(s, doc_id, self.owner, self.seconds)
        self.last = time.monotonic()


def _preview_png(page: Page, options: ProcessOptions) -> bytes:
    """The page image scaled to `page_image_dpi`, for the review screen.

    About 6 ms (a whole-number area reduction, a linear finish, a 16-grey PNG) against
    35 ms for a Pillow resize and an 8-bit PNG: 6% of reading a scanned page.
    """
    img = page.image
    assert img is not None
    dpi = img.info.get("dpi")
    if page.source == "text":  # the page's size in points is known
        scale = options.page_image_dpi / (img.width / (page.width / 72.0))
    elif dpi and dpi[0]:
        scale = options.page_image_dpi / float(dpi[0])
    else:  # a scan of unknown resolution: assume a letter or A4 page (11 inches long)
        scale = options.page_image_dpi * LONG_SIDE_INCHES / max(img.size)
    scale = min(scale, MAX_PREVIEW_SIDE / max(img.size))
    if scale < 0.95:
        gray = _shrink(np.asarray(img if img.mode == "L" else img.convert("L")), scale)
        img = Image.fromarray(gray)
    return page_png(img)


def _shrink(gray: NDArray[Any], scale: float) -> NDArray[Any]:
    """Downscale by `scale`: area-average by the whole part (fast in OpenCV), then linear."""
    h, w = gray.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    k = int(1 / scale)
    if k >= 2:
        whole = gray[: h - h % k, : w - w % k]
        gray = cv2.resize(whole, (w // k, h // k), interpolation=cv2.INTER_AREA)
    return cv2.resize(gray, size, interpolation=cv2.INTER_LINEAR)


def _field_row(doc_id: int, f: FieldResult) -> DocumentField:
    return DocumentField(
        document_id=doc_id,
        name=f.name,
        value=f.value,
        confidence=float(f.confidence),
        page=f.page,
        box=list(f.box) if f.box else None,
        candidates=[
            {
                "value": c.value,
                "confidence": c.confidence,
                "page": c.page,
                "box": list(c.box) if c.box else None,
            }
            for c in f.candidates
        ],
        problems=list(f.problems),
        source=f.source,
    )


def _page_row(doc_id: int, p: Page) -> DocumentPage:
    words: list[Any] = [[w.text, round(w.conf, 3), *(round(c, 5) for c in w.box)] for w in p.words]
    return DocumentPage(
        document_id=doc_id,
        number=p.number,
        width=float(p.width),
        height=float(p.height),
        source=p.source,
        rotation=p.rotation,
        text=p.text,
        words=words,
    )


def _earliest_expiration(fields: dict[str, FieldResult]) -> str | None:
    dates = [
        v
        for f in fields.values()
        if f.name == "expiration_date"
        for v in [f.value, *(c.value for c in f.candidates)]
        if v and len(v) == 10 and v[4] == "-" and v[7] == "-"
    ]
    return min(dates) if dates else None


def _finish(
    db: Database,
    doc_id: int,
    owner: str,
    pages: list[Page],
    doc_type: str,
    doc_type_conf: float,
    fields: dict[str, FieldResult],
) -> Outcome:
    confidences = [f.confidence for f in fields.values()]
    with db.session() as s:
        done = move(
            s,
            doc_id,
            DocumentStatus.AWAITING_REVIEW,
            expect=DocumentStatus.PROCESSING,
            where=[Document.lease_owner == owner],
            error=None,
            doc_type=doc_type,
            doc_type_confidence=float(doc_type_conf),
            page_count=len(pages),
            min_confidence=min(confidences) if confidences else None,
            expires_on=_earliest_expiration(fields),
            lease_owner=None,
            lease_expires_at=None,
            processed_at=leases.now(),
            updated_at=leases.now(),
        )
        if not done:
            # the lease ran out and another worker took over: its result is the one kept
            return Outcome(doc_id, None)
        s.execute(delete(DocumentPage).where(DocumentPage.document_id == doc_id))
        s.execute(delete(DocumentField).where(DocumentField.document_id == doc_id))
        s.add_all([_page_row(doc_id, p) for p in pages])
        s.add_all([_field_row(doc_id, f) for f in fields.values()])
        record_event(
            s,
            actor="system",
            action="document.read",
            entity_type="document",
            entity_id=doc_id,
            note=f"{len(pages)} page(s) read, {len(fields)} field(s) proposed, type {doc_type}",
        )
    return Outcome(doc_id, DocumentStatus.AWAITING_REVIEW, len(pages))


def _fail(db: Database, doc_id: int, owner: str, reason: str) -> Outcome:
    """A file that cannot be read: kept, marked failed with the reason a person can act on."""
    with db.session() as s:
        done = move(
            s,
            doc_id,
            DocumentStatus.FAILED,
            expect=DocumentStatus.PROCESSING,
            where=[Document.lease_owner == owner],
            error=reason,
            lease_owner=None,
            lease_expires_at=None,
            processed_at=leases.now(),
            updated_at=leases.now(),
        )
        if not done:
            return Outcome(doc_id, None)
        record_event(
            s,
            actor="system",
            action="document.failed",
            entity_type="document",
            entity_id=doc_id,
            note="could not be read",
        )
    return Outcome(doc_id, DocumentStatus.FAILED)
