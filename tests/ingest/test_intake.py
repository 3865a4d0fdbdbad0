"""Intake: store and commit before the inbox file goes; duplicates; hints; bad files kept."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from sqlalchemy import select

from ingest.intake import Intake, hint_for, is_ignored
from ingest.store import TEMP_PREFIX, clean_temporaries, put_file, sha256_file
from models import AuditEvent, Database, Document, DocumentArrival, StoreLayout
from tests.ingest.helpers import make_text_pdf


@pytest.mark.parametrize(
    "name",
    [
        "~$letter.pdf",
        "scan.pdf.part",
        "upload.tmp",
        ".DS_Store",
        "Thumbs.db",
        ".hidden.pdf",
        "@eaDir/scan.pdf",
        "__MACOSX/._scan.pdf",
        "Smith/.~lock.scan.pdf#",
    ],
)
def test_temporary_and_system_files_are_ignored(name: str) -> None:
    assert is_ignored(PurePosixPath(name))


@pytest.mark.parametrize("name", ["scan.pdf", "Gonzalez, Maria/licence.PDF", "2019/a b.tiff"])
def test_documents_are_not_ignored(name: str) -> None:
    assert not is_ignored(PurePosixPath(name))


def test_hint_is_the_subfolder() -> None:
    assert hint_for(PurePosixPath("Gonzalez, Maria/licence.pdf")) == "Gonzalez, Maria"
    assert hint_for(PurePosixPath("licence.pdf")) is None


def test_store_writes_under_the_hash_and_leaves_no_temporaries(tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path)
    src = make_text_pdf(tmp_path / "a.pdf", 1)
    stored = put_file(layout, src)
    assert stored.sha256 == sha256_file(src)
    assert layout.original(stored.sha256).read_bytes() == src.read_bytes()
    assert not [p for p in layout.store.iterdir() if p.name.startswith(TEMP_PREFIX)]
    # a crash mid-copy leaves a temporary: the next start removes it
    (layout.store / f"{TEMP_PREFIX}abc").write_bytes(b"half")
    assert clean_temporaries(layout) == 1


def test_file_is_stored_and_committed_before_it_leaves_the_inbox(
    db: Database, tmp_path: Path
) -> None:
    layout = StoreLayout(tmp_path)
    seen_by_callback: list[tuple[bool, bool]] = []

    def on_received(doc_id: int) -> None:
        # when intake announces the document, the row is committed and the inbox file gone
        with db.session() as s:
            doc = s.get(Document, doc_id)
            assert doc is not None
            seen_by_callback.append((layout.original(doc.sha256 or "").exists(), src.exists()))

    intake = Intake(db, layout, on_received=on_received)
    src = make_text_pdf(layout.inbox / "Gonzalez, Maria" / "licence.pdf", 1)
    sha = sha256_file(src)
    result = intake.take_file(src, hint="Gonzalez, Maria", remove=True)

    assert result.status == "received" and not result.duplicate and result.queued
    assert not src.exists()
    assert seen_by_callback == [(True, False)]
    with db.session() as s:
        doc = s.get(Document, result.document_id)
        assert doc is not None
        assert (doc.sha256, doc.filename, doc.hint, doc.media_type) == (
            sha,
            "licence.pdf",
            "Gonzalez, Maria",
            "application/pdf",
        )
        assert doc.size == layout.original(sha).stat().st_size
        events = s.scalars(select(AuditEvent).where(AuditEvent.entity_id == doc.id)).all()
        assert [e.action for e in events] == ["document.received"]
        assert "Gonzalez" not in (events[0].note or "")


def test_same_bytes_again_is_a_visible_duplicate(db: Database, tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path)
    queued: list[int] = []
    intake = Intake(db, layout, on_received=queued.append)
    first = intake.take_file(make_text_pdf(layout.inbox / "a.pdf", 7), hint=None, remove=True)
    again = intake.take_file(
        make_text_pdf(layout.inbox / "Smith/b.pdf", 7), hint="Smith", remove=True
    )

    assert again.duplicate and again.document_id == first.document_id
    assert queued == [first.document_id]  # read once
    with db.session() as s:
        assert s.query(Document).count() == 1
        arrivals = s.scalars(select(DocumentArrival).order_by(DocumentArrival.id)).all()
        assert [(a.filename, a.hint, a.duplicate) for a in arrivals] == [
            ("a.pdf", None, False),
            ("b.pdf", "Smith", True),
        ]
    assert not list(layout.inbox.rglob("*.pdf"))


def test_restart_after_commit_does_not_record_the_file_twice(db: Database, tmp_path: Path) -> None:
    """A crash between the commit and the removal leaves the file in the inbox: taking it
    again removes it without a second arrival."""
    layout = StoreLayout(tmp_path)
    intake = Intake(db, layout)
    src = make_text_pdf(layout.inbox / "a.pdf", 3)
    first = intake.take_file(src, hint=None, remove=False)  # "crashed" before removing
    assert src.exists()
    again = intake.take_file(src, hint=None, remove=True)
    assert again.already_recorded and again.document_id == first.document_id
    assert not src.exists()
    with db.session() as s:
        assert s.query(DocumentArrival).count() == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"Dear credentialing office,\nplease find attached", "not a PDF, PNG, JPEG or TIFF"),
        (b"PK\x03\x04 a word document", "not a PDF, PNG, JPEG or TIFF"),
    ],
)
def test_unreadable_kinds_are_kept_and_failed_with_a_reason(
    db: Database, tmp_path: Path, content: bytes, reason: str
) -> None:
    layout = StoreLayout(tmp_path)
    queued: list[int] = []
    intake = Intake(db, layout, on_received=queued.append)
    src = layout.inbox / "letter.docx"
    src.parent.mkdir(parents=True)
    src.write_bytes(content)
    result = intake.take_file(src, hint=None, remove=True)
    assert result.status == "failed" and not queued
    with db.session() as s:
        doc = s.get(Document, result.document_id)
        assert doc is not None and doc.sha256 is not None
        assert reason in (doc.error or "")
        assert layout.original(doc.sha256).read_bytes() == content  # never lost


def test_over_the_size_limit_is_kept_and_failed(db: Database, tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path)
    intake = Intake(db, layout, max_file_mb=0)
    result = intake.take_file(make_text_pdf(layout.inbox / "a.pdf", 1), hint=None, remove=True)
    with db.session() as s:
        doc = s.get(Document, result.document_id)
        assert doc is not None and doc.status == "failed"
        assert "over the limit of 0 MB" in (doc.error or "")
