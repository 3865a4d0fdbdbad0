"""The processing task and its leases: claim once, read, record; fail with a reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import select, update

from ingest import leases
from ingest.intake import Intake
from ingest.tasks import ProcessOptions, process_document
from models import AuditEvent, Database, Document, DocumentField, DocumentPage, StoreLayout
from models.failed import failed_documents, retry_all_failed, retry_document
from tests.ingest.helpers import make_text_pdf
from tests.support import corpus_file

OPTIONS = ProcessOptions(lease_seconds=60, max_attempts=3)


def _take(db: Database, layout: StoreLayout, src: Path) -> int:
    return Intake(db, layout).take_file(src, hint=None, remove=False).document_id


def test_text_pdf_is_read_into_pages_fields_and_a_preview(db: Database, tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path)
    doc_id = _take(db, layout, make_text_pdf(tmp_path / "in" / "a.pdf", 1, pages=2))

    outcome = process_document(db, layout, doc_id, OPTIONS)

    assert outcome.status == "awaiting_review" and outcome.pages == 2
    with db.session() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.sha256
        assert (doc.status, doc.page_count, doc.attempts, doc.lease_owner) == (
            "awaiting_review",
            2,
            1,
            None,
        )
        assert doc.doc_type is not None and doc.processed_at is not None
        pages = s.scalars(select(DocumentPage).where(DocumentPage.document_id == doc_id)).all()
        assert [p.number for p in pages] == [1, 2] and pages[0].source == "text"
        text, conf, *box = pages[0].words[0]
        assert text == "STATE" and conf == 1.0 and all(0 <= c <= 1 for c in box)
        fields = s.scalars(select(DocumentField).where(DocumentField.document_id == doc_id)).all()
        if fields:
            assert doc.min_confidence == min(f.confidence for f in fields)
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == doc_id)).all()
        assert "document.read" in actions
    # a text page's preview is drawn from the PDF by the review screen (tests/review)
    assert not layout.page_image(doc.sha256, 1).exists()


def test_scan_is_read_with_tesseract_and_its_preview_stored(db: Database, tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path)
    doc_id = _take(db, layout, corpus_file("scan"))
    assert process_document(db, layout, doc_id, OPTIONS).status == "awaiting_review"
    with db.session() as s:
        page = s.scalars(select(DocumentPage).where(DocumentPage.document_id == doc_id)).one()
        assert page.source == "ocr" and len(page.words) > 20
        assert 0 < sum(w[1] for w in page.words) / len(page.words) <= 1
        sha = s.scalar(select(Document.sha256).where(Document.id == doc_id))
    # the page as read (deskewed, upright), at page_image_dpi (110) of an 11-inch page
    with Image.open(layout.page_image(sha or "", 1)) as img:
        assert img.format == "PNG" and img.mode == "P"
        assert abs(max(img.size) - 1210) <= 40 and img.size[0] < img.size[1] * 1.5


def test_running_the_task_again_does_nothing(db: Database, tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path)
    doc_id = _take(db, layout, make_text_pdf(tmp_path / "a.pdf", 2))
    assert process_document(db, layout, doc_id, OPTIONS).status == "awaiting_review"
    assert process_document(db, layout, doc_id, OPTIONS).status is None
    with db.session() as s:
        assert s.scalar(select(Document.attempts).where(Document.id == doc_id)) == 1
        assert (
            len(s.scalars(select(DocumentPage).where(DocumentPage.document_id == doc_id)).all())
            == 1
        )


def test_unreadable_file_fails_with_its_reason_and_can_be_retried(
    db: Database, tmp_path: Path
) -> None:
    layout = StoreLayout(tmp_path)
    whole = make_text_pdf(tmp_path / "whole.pdf", 4).read_bytes()
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(whole[:200])
    doc_id = _take(db, layout, truncated)

    assert process_document(db, layout, doc_id, OPTIONS).status == "failed"
    with db.session() as s:
        [row] = failed_documents(s)
        assert row.id == doc_id and row.error and "damaged" in row.error
        assert retry_document(s, doc_id, actor="alice")
        assert not retry_document(s, doc_id)  # no longer failed
        doc = s.get(Document, doc_id)
        assert doc is not None and (doc.status, doc.attempts, doc.error) == ("received", 0, None)
    assert process_document(db, layout, doc_id, OPTIONS).status == "failed"
    with db.session() as s:
        assert retry_all_failed(s) == [doc_id]


def test_a_lease_is_held_by_one_worker_until_it_expires(db: Database, tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path)
    doc_id = _take(db, layout, make_text_pdf(tmp_path / "a.pdf", 5))
    with db.session() as s:
        assert leases.claim(s, doc_id, "elsewhere:1:1", 60, 3)
    with db.session() as s:
        assert not leases.claim(s, doc_id, "elsewhere:2:1", 60, 3)
        assert leases.sweep(s, 3) == []  # alive as far as anyone here can tell
    assert process_document(db, layout, doc_id, OPTIONS).status is None
    with db.session() as s:  # the other machine's worker vanished: its lease runs out
        s.execute(update(Document).values(lease_expires_at=leases.now() - timedelta(seconds=1)))
    with db.session() as s:
        assert leases.sweep(s, 3) == [doc_id]
    assert process_document(db, layout, doc_id, OPTIONS).status == "awaiting_review"


def test_a_dead_local_owner_is_noticed_at_once(db: Database, tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path)
    doc_id = _take(db, layout, make_text_pdf(tmp_path / "a.pdf", 6))
    dead = f"{leases.HOST}:999999999:1"
    with db.session() as s:
        assert leases.claim(s, doc_id, dead, 600, 3)
    with db.session() as s:
        assert leases.sweep(s, 3) == [doc_id]


def test_a_document_that_keeps_stopping_its_worker_ends_failed(
    db: Database, tmp_path: Path
) -> None:
    layout = StoreLayout(tmp_path)
    doc_id = _take(db, layout, make_text_pdf(tmp_path / "a.pdf", 8))
    for attempt in range(3):
        with db.session() as s:
            assert leases.claim(s, doc_id, f"{leases.HOST}:999999999:{attempt}", 600, 3)
        with db.session() as s:
            leases.sweep(s, 3)
    with db.session() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.status == "failed" and doc.attempts == 3
        assert "stopped 3 times" in (doc.error or "")
        assert not leases.claim(s, doc_id, "x:1:1", 600, 3)
