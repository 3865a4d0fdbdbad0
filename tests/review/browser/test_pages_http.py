"""The queue and review pages over HTTP, without a browser: priority order, filters and
search, live counts, the failed list's retry, the form following a type change, approving
with a refused value and then a good one, and read-only views. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from models import (
    AuditEvent,
    Credential,
    Database,
    Document,
    DocumentField,
    DocumentPage,
    StoreLayout,
)
from review import auth, forms
from review.app import create_app

PASSWORD = "correct horse battery"


def add_document(
    db: Database,
    filename: str,
    *,
    status: str = "awaiting_review",
    doc_type: str | None = "medical_license",
    fields: dict[str, tuple[str, float]] | None = None,
    expires_on: str | None = None,
    age_days: float = 1,
    error: str | None = None,
    hint: str | None = None,
) -> int:
    """A document as the workers leave it: its fields, its lowest confidence, one page."""
    fields = fields or {}
    created = datetime.now(UTC) - timedelta(days=age_days)
    with db.session() as s:
        doc = Document(
            sha256=filename.encode().hex().ljust(64, "0")[:64],
            filename=filename,
            hint=hint,
            status=status,
            doc_type=doc_type,
            error=error,
            min_confidence=min((c for _v, c in fields.values()), default=None),
            expires_on=expires_on,
            page_count=1,
            created_at=created,
            updated_at=created,
        )
        s.add(doc)
        s.flush()
        for name, (value, confidence) in fields.items():
            s.add(
                DocumentField(
                    document_id=doc.id,
                    name=name,
                    value=value,
                    confidence=confidence,
                    page=1,
                    box=[0.1, 0.1, 0.3, 0.12],
                )
            )
        s.add(
            DocumentPage(
                document_id=doc.id,
                number=1,
                width=1000,
                height=1300,
                source="ocr",
                words=[["Okafor", 0.9, 0.1, 0.1, 0.2, 0.12]],
            )
        )
        return doc.id


def sign_in(client: TestClient, username: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    done = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    queue = client.get("/queue")
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', queue.text)
    assert found is not None
    return found.group(1)


@pytest.fixture
def site(db: Database, tmp_path: Path) -> Iterator[tuple[Database, TestClient, TestClient]]:
    """The app with a coordinator and an auditor signed in, each in their own client."""
    with db.session() as s:
        auth.create_user(s, "alice", PASSWORD, "coordinator")
        auth.create_user(s, "audrey", PASSWORD, "auditor")
    app = create_app(db, StoreLayout(tmp_path), secret_key="test-" + "k" * 40)
    with TestClient(app) as alice, TestClient(app) as audrey:
        alice.headers["X-CSRF-Token"] = sign_in(alice, "alice")
        sign_in(audrey, "audrey")
        yield db, alice, audrey


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-document-id="(\d+)"', html)]


def test_queue_in_priority_order_with_counts_filters_and_search(site: Any) -> None:
    db, alice, _ = site
    soon = (date.today() + timedelta(days=20)).isoformat()
    later = (date.today() + timedelta(days=900)).isoformat()
    sure_old = add_document(
        db, "old.pdf", fields={"person_name": ("Grace Mensah", 0.95)}, age_days=30
    )
    unsure = add_document(
        db,
        "unsure.png",
        doc_type="dea_registration",
        fields={"person_name": ("Kwame Okafor", 0.4), "credential_number": ("AB1234563", 0.3)},
        expires_on=later,
        hint="Okafor, Kwame",
    )
    expiring = add_document(
        db, "expiring.jpg", fields={"person_name": ("Lena Haddad", 0.97)}, expires_on=soon
    )
    add_document(db, "broken.pdf", status="failed", doc_type=None, error="the file is empty")
    add_document(db, "done.pdf", status="approved")

    page = alice.get("/queue")
    assert page.status_code == 200
    # expiring soon first, then lowest confidence, then oldest
    assert row_ids(page.text) == [expiring, unsure, sure_old]
    assert re.search(r'data-count="awaiting_review">3<', page.text)
    assert re.search(r'data-count="failed">1<', page.text)

    assert row_ids(alice.get("/queue?doc_type=dea_registration").text) == [unsure]
    assert row_ids(alice.get("/queue?confidence=high").text) == [expiring, sure_old]
    assert row_ids(alice.get("/queue?age=older").text) == [sure_old]
    assert row_ids(alice.get("/queue?hint=okafor").text) == [unsure]
    assert row_ids(alice.get("/queue?q=kwame").text) == [unsure]  # by name
    assert row_ids(alice.get("/queue?q=ab123").text) == [unsure]  # by number
    assert row_ids(alice.get("/queue?status=approved").text) != []

    # htmx asks for the results alone when a filter changes, and polls the counts
    partial = alice.get(
        "/queue?q=grace", headers={"HX-Request": "true", "HX-Target": "queue-results"}
    )
    assert partial.text.lstrip().startswith('<section id="queue-results"')
    assert row_ids(partial.text) == [sure_old]
    counts = alice.get("/queue/counts")
    assert 'id="counts"' in counts.text and 'hx-trigger="every 5s"' in counts.text


def test_failed_list_shows_the_reason_and_retry_sends_it_back(site: Any) -> None:
    db, alice, audrey = site
    doc_id = add_document(
        db, "locked.pdf", status="failed", doc_type=None, error="the PDF is encrypted"
    )
    page = alice.get("/failed")
    assert "the PDF is encrypted" in page.text and 'data-action="retry"' in page.text
    assert 'data-action="retry"' not in audrey.get("/failed").text  # read-only role

    refused = alice.post(f"/failed/{doc_id}/retry", headers={"X-CSRF-Token": "forged"})
    assert refused.status_code == 403
    assert audrey.post(f"/failed/{doc_id}/retry").status_code == 403

    done = alice.post(f"/failed/{doc_id}/retry", follow_redirects=False)
    assert done.status_code == 303
    with db.session() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.status == "received" and doc.error is None
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "document.retried"))
        assert event is not None and event.actor == "alice" and event.entity_id == doc_id


def test_form_follows_the_document_type(site: Any) -> None:
    db, alice, _ = site
    doc_id = add_document(db, "lic.pdf", fields={"person_name": ("Grace Mensah", 0.95)})
    html = alice.get(f"/review/{doc_id}/form?doc_type=dea_registration&person_name=G+M").text
    names = re.findall(r'<input id="f-([a-z_]+)"', html)
    assert names == list(forms.fields_for("dea_registration"))
    assert 'value="G M"' in html  # what the person typed is kept


def test_approve_refuses_a_bad_value_inline_then_approves(site: Any) -> None:
    db, alice, _ = site
    doc_id = add_document(
        db,
        "dea.png",
        doc_type="dea_registration",
        fields={
            "person_name": ("Kwame Okafor", 0.93),
            "credential_number": ("AO1234563", 0.5),
            "jurisdiction": ("TN", 0.95),
            "expiration_date": ("2031-02-28", 0.92),
        },
    )
    review = alice.post(f"/review/{doc_id}/start")
    assert 'data-editable="1"' in review.text
    assert 'data-role="page-image"' in review.text
    assert 'data-box-for="credential_number"' in review.text
    form = {
        "doc_type": "dea_registration",
        "person_name": "Kwame Okafor",
        "credential_number": "AO1234563",
        "jurisdiction": "TN",
        "expiration_date": "2031-02-28",
        "npi": "1234567890",
        "npi__state": "confirmed",
        "schedules": "",
        "schedules__state": "unsure",
        "provider_id": "",
    }
    refused = alice.post(f"/review/{doc_id}/approve", data=form)
    assert refused.status_code == 422
    assert "NPI check digit does not match" in refused.text
    assert 'value="1234567890"' in refused.text  # the person's input is kept

    form["npi__state"] = "absent"
    done = alice.post(
        f"/review/{doc_id}/approve", data={**form, "next": "1"}, follow_redirects=False
    )
    assert done.status_code == 303  # the next document claimed and opened, or the queue
    with db.session() as s:
        credential = s.scalar(select(Credential).where(Credential.document_id == doc_id))
        assert credential is not None and credential.credential_number == "AO1234563"
        assert credential.npi is None and credential.schedules is None
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == doc_id)))
        assert {"field.confirmed", "field.unreadable", "document.approved"} <= actions


def test_needs_information_and_reject_need_a_reason(site: Any) -> None:
    db, alice, _ = site
    doc_id = add_document(db, "letter.pdf", fields={"person_name": ("Grace Mensah", 0.95)})
    alice.post(f"/review/{doc_id}/start")
    assert alice.post(f"/review/{doc_id}/reject", data={"reason": " "}).status_code == 422
    done = alice.post(
        f"/review/{doc_id}/needs-information",
        data={"note": "back page missing"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = alice.get("/queue")
    assert "needs information" in page.text
    review = alice.get(f"/review/{doc_id}")
    assert "back page missing" in review.text


def test_auditor_and_second_reviewer_see_it_read_only(site: Any) -> None:
    db, alice, audrey = site
    doc_id = add_document(db, "lic.pdf", fields={"person_name": ("Grace Mensah", 0.95)})
    assert 'data-editable="1"' in alice.post(f"/review/{doc_id}/start").text
    seen = audrey.get(f"/review/{doc_id}")
    assert seen.status_code == 200 and 'data-editable="0"' in seen.text
    assert 'data-role="claimed-by"' in seen.text and "alice" in seen.text
    with db.session() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        holder = doc.claimed_by_id
    assert holder is not None  # still alice's: looking does not claim


def test_pages_need_a_signed_in_user(db: Database, tmp_path: Path) -> None:
    app = create_app(db, StoreLayout(tmp_path), secret_key="test-" + "k" * 40)
    with TestClient(app) as anonymous:
        for path in ("/queue", "/failed", "/review/1", "/queue/counts", "/providers/1"):
            answer = anonymous.get(path, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_heartbeat_keeps_the_claim_and_release_gives_it_back(site: Any) -> None:
    db, alice, _ = site
    with db.session() as s:
        auth.create_user(s, "bob", PASSWORD, "coordinator")
    doc_id = add_document(db, "lic.pdf", fields={"person_name": ("Grace Mensah", 0.95)})
    alice.post(f"/review/{doc_id}/start")
    assert alice.post(f"/review/{doc_id}/claim").status_code == 204

    back = alice.post(f"/review/{doc_id}/release?to=queue", follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/queue"
    with TestClient(alice.app) as bob:
        bob.headers["X-CSRF-Token"] = sign_in(bob, "bob")
        assert 'data-editable="1"' in bob.post(f"/review/{doc_id}/start").text
    lost = alice.post(f"/review/{doc_id}/claim")
    assert lost.status_code == 409 and lost.json() == {"holder": "bob"}
