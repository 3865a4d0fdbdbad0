"""Removal on request: a document (or a provider) goes from the store and the database,
with no byte left behind, unless a retention hold applies; the audit tombstone stays."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from compliance.removal import (
    HoldApplies,
    NotFound,
    RemovalRefused,
    erase_freed_space,
    list_holds,
    place_hold,
    release_hold,
    remove_document,
    remove_provider,
)
from models import (
    AuditDetail,
    AuditEvent,
    Base,
    Credential,
    Database,
    Document,
    DocumentArrival,
    DocumentField,
    DocumentPage,
    DocumentStatus,
    Provider,
    StoreLayout,
    record_event,
)
from models.compliance import OutboxMessage
from models.records import ReferenceRequest, RetentionHold

TODAY = date(2026, 11, 26)


@dataclass
class Stored:
    provider_id: int
    document_id: int
    credential_id: int
    sha: str
    original: bytes
    secrets: list[str]  # only the document holds these
    provider_secrets: list[str]  # the provider row holds these


def put_document(
    db: Database, layout: StoreLayout, tag: str, provider_id: int | None = None
) -> Stored:
    """A document as ingest and review leave it: stored original, page image, pages and
    fields read from it, an arrival, an approved credential and audit details."""
    name = f"Zyxwvut{tag} Qoplenmark"
    number = f"LIC{tag}-8876-QZW"
    hint = f"Qoplenmark{tag}, folder"
    original = b"%PDF-1.7\n" + os.urandom(48_000) + f"({name})".encode() + os.urandom(16_000)
    sha = hashlib.sha256(original).hexdigest()
    path = layout.original(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(original)
    page_png = layout.page_image(sha, 1)
    page_png.parent.mkdir(parents=True, exist_ok=True)
    page_png.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(9_000) + name.encode())

    with db.session() as s:
        if provider_id is None:
            provider = Provider(
                name=f"Wvbnqa{tag} Qoplenmark", npi="1234567893", email=f"wvbnqa{tag}@example.org"
            )
            s.add(provider)
            s.flush()
            provider_id = provider.id
        doc = Document(
            sha256=sha,
            filename=f"{name} licence.pdf",
            hint=hint,
            size=len(original),
            media_type="application/pdf",
            status=DocumentStatus.APPROVED,
            doc_type="medical_license",
            page_count=1,
            expires_on="2027-01-31",
            provider_id=provider_id,
            review_note=f"checked against {number}",
        )
        s.add(doc)
        s.flush()
        s.add(DocumentArrival(document_id=doc.id, filename=f"{name} licence.pdf", hint=hint))
        s.add(
            DocumentPage(
                document_id=doc.id,
                number=1,
                width=612,
                height=792,
                source="text",
                text=f"STATE MEDICAL BOARD\nThis certifies that {name}\nLicense No. {number}",
                words=[[name, 0.98, 0.1, 0.2, 0.5, 0.25], [number, 0.97, 0.1, 0.3, 0.4, 0.35]],
            )
        )
        s.add(DocumentField(document_id=doc.id, name="person_name", value=name, confidence=0.9))
        s.add(
            DocumentField(
                document_id=doc.id,
                name="credential_number",
                value=number,
                confidence=0.8,
                candidates=[{"value": number + "X", "confidence": 0.2}],
            )
        )
        cred = Credential(
            provider_id=provider_id,
            document_id=doc.id,
            doc_type="medical_license",
            credential_number=number,
            jurisdiction="OH",
            expiration_date=date(2027, 1, 31),
        )
        s.add(cred)
        s.flush()
        record_event(
            s,
            actor="coordinator1",
            action="field.corrected",
            entity_type="document",
            entity_id=doc.id,
            note="credential_number",
            detail={"machine": number + "X", "person": number},
            provider_id=provider_id,
            document_id=doc.id,
        )
        record_event(
            s,
            actor="coordinator1",
            action="credential.created",
            entity_type="credential",
            entity_id=cred.id,
            detail={"person_name": name},
        )
        owner = s.get(Provider, provider_id)
        assert owner is not None and owner.email is not None
        return Stored(
            provider_id,
            doc.id,
            cred.id,
            sha,
            original,
            [name, number, hint],
            [owner.name, owner.email],
        )


def database_files(db: Database) -> list[Path]:
    path = Path(db.engine.url.database or "")
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def found_in_files(paths: list[Path], needles: list[bytes]) -> set[bytes]:
    hits = set()
    for p in paths:
        data = p.read_bytes()
        hits |= {n for n in needles if n in data}
    return hits


def found_in_postgres(db: Database, needles: list[str]) -> set[str]:
    """Every row of every table as text, searched for the needles."""
    hits = set()
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for (row,) in conn.execute(text(f'SELECT t::text FROM "{table.name}" t')):
                hits |= {n for n in needles if n in row}
    return hits


def needles_of(stored: Stored) -> list[bytes]:
    """The personal strings, and slices of the original's bytes."""
    chunks = [stored.original[i : i + 32] for i in range(4096, len(stored.original) - 32, 8192)]
    return [s.encode() for s in stored.secrets] + chunks


def all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_removed_document_leaves_no_byte_in_store_or_database(db: Database, tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path / "data")
    gone = put_document(db, layout, "A1")
    kept = put_document(db, layout, "B2")
    needles = needles_of(gone)
    with db.session() as s:
        # the removed document was the letter answering a reference request
        letter = ReferenceRequest(
            provider_id=gone.provider_id,
            kind="reference",
            recipient_name="Dr Referee",
            requested_on=TODAY,
            requested_by="c",
            due_on=TODAY,
            received_on=TODAY,
            document_id=gone.document_id,
        )
        s.add(letter)
        s.flush()
        letter_id = letter.id

    # the scans do find what is there (on SQLite the rows sit in the WAL until a checkpoint)
    if db.is_sqlite:
        assert found_in_files(database_files(db), [s.encode() for s in gone.secrets]) == {
            s.encode() for s in gone.secrets
        }
    else:
        assert found_in_postgres(db, gone.secrets) == set(gone.secrets)
    assert found_in_files(all_files(layout.data_dir), needles[3:]) == set(needles[3:])

    with db.session() as s:
        removal = remove_document(
            s, layout, gone.document_id, actor="manager1", reason="clinician's written request"
        )
    erasure = erase_freed_space(db, removal.tables)
    assert erasure.complete
    assert removal.credentials == (gone.credential_id,)
    assert removal.files_removed == 2
    assert removal.details_removed == 2

    assert not layout.original(gone.sha).exists()
    assert not layout.page_dir(gone.sha).exists()
    assert found_in_files(all_files(layout.data_dir), needles) == set()
    if db.is_sqlite:
        files = database_files(db)
        assert found_in_files(files, needles) == set()
        # the other document is untouched (and the scan would have seen it)
        assert found_in_files(files, [s.encode() for s in kept.secrets]) == {
            s.encode() for s in kept.secrets
        }
    else:
        assert found_in_postgres(db, gone.secrets) == set()
        assert found_in_postgres(db, kept.secrets) == set(kept.secrets)
    assert layout.original(kept.sha).read_bytes() == kept.original

    with db.session() as s:
        doc = s.get(Document, gone.document_id)
        assert doc is not None
        assert (doc.status, doc.filename, doc.sha256, doc.hint, doc.error) == (
            DocumentStatus.DELETED,
            "removed",
            None,
            None,
            None,
        )
        assert (
            s.scalar(
                select(func.count())
                .select_from(DocumentPage)
                .where(DocumentPage.document_id == gone.document_id)
            )
            == 0
        )
        assert s.get(Credential, gone.credential_id) is None
        # the provider stays: only the document was asked for
        provider = s.get(Provider, gone.provider_id)
        assert provider is not None and provider.name == gone.provider_secrets[0]
        # the events stay, their personal values are gone; the tombstone holds ids + reason
        tomb = s.scalars(select(AuditEvent).where(AuditEvent.action == "document.removed")).one()
        assert (tomb.actor, tomb.entity_type, tomb.entity_id) == (
            "manager1",
            "document",
            gone.document_id,
        )
        assert "clinician's written request" in (tomb.note or "")
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 5
        assert s.scalar(select(func.count()).select_from(AuditDetail)) == 2

        # the request stays, unlinked from the letter that is gone
        request = s.get(ReferenceRequest, letter_id)
        assert request is not None and request.document_id is None
        # the same bytes may arrive again as a new document
        s.add(Document(sha256=gone.sha, filename="again.pdf"))


def test_removing_a_provider_removes_everything_about_them(db: Database, tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path / "data")
    first = put_document(db, layout, "C3")
    second = put_document(db, layout, "D4", provider_id=first.provider_id)
    other = put_document(db, layout, "E5")
    with db.session() as s:
        s.add(
            ReferenceRequest(
                provider_id=first.provider_id,
                kind="reference",
                recipient_name="Referee Yqpxlmn",
                recipient_email="yqpxlmn@example.org",
                requested_on=TODAY,
                requested_by="coordinator1",
                due_on=TODAY + timedelta(days=14),
            )
        )
        s.add(
            OutboxMessage(
                dedupe_key=f"expiry:{first.credential_id}",
                kind="reminder",
                provider_id=first.provider_id,
                recipient="qC3@example.org",
                subject="Your licence expires",
                body="Dear Zyxwvut, ...",
            )
        )
        # an expired hold does not stop the removal
        s.add(
            RetentionHold(
                provider_id=first.provider_id,
                reason="old survey",
                until=TODAY - timedelta(days=1),
                created_by="manager1",
            )
        )

    with db.session() as s:
        removal = remove_provider(
            s,
            layout,
            first.provider_id,
            actor="admin",
            reason="left; asked for erasure",
            today=TODAY,
        )
    assert erase_freed_space(db, removal.tables).complete
    assert set(removal.documents) == {first.document_id, second.document_id}
    assert removal.files_removed == 4

    extra = [*first.provider_secrets, "Yqpxlmn", "Dear Zyxwvut"]
    needles = needles_of(first) + needles_of(second) + [e.encode() for e in extra]
    assert found_in_files(all_files(layout.data_dir), needles) == set()
    if db.is_sqlite:
        assert found_in_files(database_files(db), needles) == set()
    else:
        strings = [*first.secrets, *second.secrets, *extra]
        assert found_in_postgres(db, strings) == set()
        assert found_in_postgres(db, other.secrets) == set(other.secrets)

    with db.session() as s:
        assert s.get(Provider, first.provider_id) is None
        assert s.get(Provider, other.provider_id) is not None
        assert s.scalar(select(func.count()).select_from(ReferenceRequest)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert s.scalar(select(func.count()).select_from(RetentionHold)) == 0
        statuses = s.scalars(
            select(Document.status).where(Document.id.in_(removal.documents))
        ).all()
        assert statuses == ["deleted", "deleted"]
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("%.removed"))
        ).all()
        assert sorted(actions) == ["document.removed", "document.removed", "provider.removed"]
        # only the other provider's two details remain
        assert s.scalar(select(func.count()).select_from(AuditDetail)) == 2


def test_a_hold_refuses_removal_with_its_reason_until_released(
    db: Database, tmp_path: Path
) -> None:
    layout = StoreLayout(tmp_path / "data")
    stored = put_document(db, layout, "F6")
    with db.session() as s:
        hold = place_hold(
            s,
            actor="manager1",
            reason="Joint Commission survey look-back",
            until=TODAY + timedelta(days=365),
            provider_id=stored.provider_id,
        )
        hold_id = hold.id

    for remove, target in (
        (remove_document, stored.document_id),
        (remove_provider, stored.provider_id),
    ):
        with pytest.raises(HoldApplies) as err, db.session() as s:
            remove(s, layout, target, actor="manager1", reason="request", today=TODAY)
        assert err.value.reason == "Joint Commission survey look-back"
        assert "survey look-back" in str(err.value)
    # nothing was touched
    assert layout.original(stored.sha).read_bytes() == stored.original
    with db.session() as s:
        assert s.get(Document, stored.document_id).status == DocumentStatus.APPROVED  # type: ignore[union-attr]
        assert s.get(Credential, stored.credential_id) is not None
    # the hold applies through its last day
    with pytest.raises(HoldApplies), db.session() as s:
        remove_document(
            s, layout, stored.document_id, actor="m", reason="r", today=TODAY + timedelta(days=365)
        )

    with db.session() as s:
        assert [h.id for h in list_holds(s, today=TODAY)] == [hold_id]
        release_hold(s, hold_id, actor="manager2")
    with db.session() as s:
        assert list_holds(s, today=TODAY) == []
        assert [h.released_by for h in list_holds(s, include_inactive=True, today=TODAY)] == [
            "manager2"
        ]
        remove_document(
            s, layout, stored.document_id, actor="manager1", reason="request", today=TODAY
        )
    assert not layout.original(stored.sha).exists()


def test_a_hold_on_one_document_blocks_it_and_its_provider(db: Database, tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path / "data")
    held = put_document(db, layout, "G7")
    free = put_document(db, layout, "H8", provider_id=held.provider_id)
    with db.session() as s:
        place_hold(s, actor="m", reason="pending malpractice claim", document_id=held.document_id)
    with pytest.raises(HoldApplies, match="pending malpractice claim"), db.session() as s:
        remove_provider(s, layout, held.provider_id, actor="m", reason="request")
    with db.session() as s:
        remove_document(s, layout, free.document_id, actor="m", reason="wrong person's file")
    with pytest.raises(NotFound), db.session() as s:
        remove_document(s, layout, free.document_id, actor="m", reason="again")


def test_removal_needs_a_reason_and_waits_for_a_worker(db: Database, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    layout = StoreLayout(tmp_path / "data")
    stored = put_document(db, layout, "J9")
    with pytest.raises(ValueError), db.session() as s:
        remove_document(s, layout, stored.document_id, actor="m", reason="  ")
    with db.session() as s:
        doc = s.get(Document, stored.document_id)
        assert doc is not None
        doc.status = DocumentStatus.PROCESSING
        doc.lease_owner = "worker-1"
        doc.lease_expires_at = datetime.now(UTC) + timedelta(minutes=5)
    with pytest.raises(RemovalRefused, match="being read"), db.session() as s:
        remove_document(s, layout, stored.document_id, actor="m", reason="request")
    assert layout.original(stored.sha).exists()


def test_a_document_read_by_ingest_is_removed_without_trace(db: Database, tmp_path: Path) -> None:
    """The real intake and worker store and read a corpus licence; removal leaves nothing."""
    from ingest.intake import Intake
    from ingest.tasks import ProcessOptions, process_document
    from tests.support import corpus_file

    source = corpus_file("pdf_text", "medical_license")  # Christopher E. Nasser III, IL
    layout = StoreLayout(tmp_path / "data")
    inbox = tmp_path / "inbox" / "Nasser, Christopher"
    inbox.mkdir(parents=True)
    dropped = inbox / "nasser-licence.pdf"
    dropped.write_bytes(source.read_bytes())
    taken = Intake(db, layout).take_file(dropped, hint="Nasser, Christopher", remove=True)
    outcome = process_document(db, layout, taken.document_id, ProcessOptions(page_image_dpi=50))
    assert outcome.status == DocumentStatus.AWAITING_REVIEW

    original = source.read_bytes()
    secrets = ["Nasser", "036.176858", "1840368645"]
    needles = [s.encode() for s in secrets] + [
        original[i : i + 32] for i in range(512, len(original) - 32, 1024)
    ]
    with db.session() as s:
        doc = s.get(Document, taken.document_id)
        assert doc is not None and doc.sha256 is not None
        sha = doc.sha256
        values = set(
            s.scalars(select(DocumentField.value).where(DocumentField.document_id == doc.id))
        )
        assert {"036.176858", "1840368645"} <= values
    # its text pages have no stored preview (the review screen draws them from the PDF)
    assert not layout.page_dir(sha).exists()
    if db.is_sqlite:
        assert found_in_files(database_files(db), needles[:3]) == set(needles[:3])
    else:
        assert found_in_postgres(db, secrets) == set(secrets)

    with db.session() as s:
        removal = remove_document(s, layout, taken.document_id, actor="m", reason="asked")
    assert erase_freed_space(db, removal.tables).complete
    assert found_in_files(all_files(tmp_path), needles) == set()  # store, pages, inbox, db
    if not db.is_sqlite:
        assert found_in_postgres(db, secrets) == set()
