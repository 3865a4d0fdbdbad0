"""Processing one document: the task the local worker pool and Celery workers both run.

Idempotent by construction: it starts with a lease claim (one conditional UPDATE) and
ends with a write conditional on still holding that lease, so running it twice, late, or
on two machines at once changes nothing the second time.
"""

from __future__ import annotations

import io
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image
from sqlalchemy import delete, select, update

from extract.errors import ExtractError
from extract.fields import extract_fields
from extract.pages import iter_pages
from extract.types import FieldResult, Page, ReadOptions
from ingest import leases
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
    owner = owner or leases.owner_id()
    with db.session() as s:
        if not leases.claim(s, doc_id, owner, options.lease_seconds, options.max_attempts):
            return Outcome(doc_id, None)
        sha = s.scalar(select(Document.sha256).where(Document.id == doc_id))
    if sha is None:
        return _fail(db, doc_id, owner, "the document was removed before it could be read")
    path = layout.original(sha)
    if not path.exists():
        return _fail(
            db,
            doc_id,
            owner,
            "the stored original is missing from the document store: drop the file again",
        )
    try:
        pages = _read_pages(db, layout, doc_id, sha, options, owner, on_page)
        doc_type, doc_type_conf, fields = extract_fields(pages)
    except ExtractError as e:
        return _fail(db, doc_id, owner, str(e))
    except MemoryError:
        return _fail(
            db,
            doc_id,
            owner,
            f"reading the file needs more than the worker's memory limit ({options.memory_mb} MB): "
            "split it into smaller files or scan it at a lower resolution",
        )
    except Exception as e:
        # the message of an unexpected error may quote document text: log only where it broke
        log.error(
            "document %s: unexpected %s while reading\n%s",
            doc_id,
            type(e).__name__,
            "".join(traceback.format_tb(e.__traceback__)),
        )
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
    return _finish(db, doc_id, owner, pages, doc_type, doc_type_conf, fields)


def _read_pages(
    db: Database,
    layout: StoreLayout,
    doc_id: int,
    sha: str,
    options: ProcessOptions,
    owner: str,
    on_page: Callable[[int], None] | None,
) -> list[Page]:
    """Pages one at a time: each preview written and its image dropped, the lease kept alive."""
    read = ReadOptions(dpi=options.ocr_dpi, max_pages=options.max_pages, keep_images=True)
    pages: list[Page] = []
    last_renew = time.monotonic()
    for page in iter_pages(layout.original(sha), read):
        if page.image is not None:
            write_atomic(layout.page_image(sha, page.number), _preview_png(page, options))
            page.image = None
        pages.append(page)
        if on_page is not None:
            on_page(page.number)
        if time.monotonic() - last_renew > options.lease_seconds / 4:
            with db.session() as s:
                leases.renew(s, doc_id, owner, options.lease_seconds)
            last_renew = time.monotonic()
    return pages


def _preview_png(page: Page, options: ProcessOptions) -> bytes:
    """The page image scaled to `page_image_dpi`, as PNG, for the review screen."""
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
    if img.mode not in ("1", "L", "RGB"):
        img = img.convert("RGB")
    if scale < 0.95:
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


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
        done = s.execute(
            update(Document)
            .where(
                Document.id == doc_id,
                Document.lease_owner == owner,
                Document.status == DocumentStatus.PROCESSING,
            )
            .values(
                status=DocumentStatus.AWAITING_REVIEW,
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
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
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
        done = s.execute(
            update(Document)
            .where(
                Document.id == doc_id,
                Document.lease_owner == owner,
                Document.status == DocumentStatus.PROCESSING,
            )
            .values(
                status=DocumentStatus.FAILED,
                error=reason,
                lease_owner=None,
                lease_expires_at=None,
                processed_at=leases.now(),
                updated_at=leases.now(),
            )
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
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
