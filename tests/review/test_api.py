"""The JSON API as a script uses it (Bearer token) and as the review pages use it (session
and CSRF header), on SQLite and PostgreSQL: listing and reading documents, approving into
credentials with the audit trail, rejecting, claims, providers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from models import (
    AuditDetail,
    AuditEvent,
    Credential,
    Database,
    Document,
    DocumentStatus,
    Provider,
    StoreLayout,
)
from review import auth
from tests.review.test_api_support import (
    DEA,
    LICENSE_FIELDS,
    NPI,
    add_users,
    client_as,
    make_app,
    post_json,
    seed_document,
)


@pytest.fixture
def app(db: Database, tmp_path: Path) -> FastAPI:
    add_users(db)
    return make_app(db, tmp_path)


@pytest.fixture
def api(db: Database, app: FastAPI) -> TestClient:
    """A script with a coordinator's API token."""
    with db.session() as session:
        token = auth.create_token(session, "coordinator")
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def confirmed(**changes: str | None) -> dict[str, str | None]:
    values: dict[str, str | None] = {k: v for k, (v, _) in LICENSE_FIELDS.items()}
    values.update(changes)
    return values


def test_list_and_read_documents(db: Database, tmp_path: Path, api: TestClient) -> None:
    layout = StoreLayout(tmp_path)
    first = seed_document(db, layout, name="a.png")
    second = seed_document(db, layout, name="b.pdf", doc_type="diploma", fields={})
    failed = seed_document(db, layout, name="c.tif", status=DocumentStatus.FAILED, fields={})
    with db.session() as session:
        session.get_one(Document, failed).error = "not a PDF, PNG, JPEG or TIFF file"

    everything = api.get("/api/documents").json()
    assert everything["total"] == 3
    assert [d["id"] for d in everything["items"]] == [failed, second, first]  # newest first
    item = everything["items"][2]
    assert {
        "id",
        "filename",
        "sha256",
        "status",
        "doc_type",
        "error",
        "hint",
        "created_at",
        "min_confidence",
    } <= set(item)
    assert item["min_confidence"] == 0.55

    awaiting = api.get("/api/documents", params={"status": "awaiting_review"}).json()
    assert awaiting["total"] == 2
    bad = api.get("/api/documents", params={"status": "failed"}).json()["items"]
    assert bad[0]["error"] == "not a PDF, PNG, JPEG or TIFF file"
    page = api.get("/api/documents", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 3 and [d["id"] for d in page["items"]] == [second]
    assert api.get("/api/documents", params={"doc_type": "diploma"}).json()["total"] == 1
    assert api.get("/api/documents", params={"q": "gonzalez"}).json()["total"] == 3  # the hint
    assert api.get("/api/documents", params={"q": "35.123456"}).json()["total"] == 1
    beyond = api.get("/api/documents", params={"q": "gonzalez", "offset": 10}).json()
    assert beyond == {"items": [], "total": 3}
    assert api.get("/api/documents", params={"q": "%"}).json()["total"] == 0  # taken literally
    assert api.get("/api/documents", params={"status": "nonsense"}).status_code == 422

    detail = api.get(f"/api/documents/{first}").json()
    assert detail["fields"]["person_name"]["value"] == "Maria Elena Gonzalez"
    assert detail["fields"]["expiration_date"] == {
        "value": "2027-01-01",
        "confidence": 0.55,
        "page": 1,
        "box": [0.1, 0.35, 0.5, 0.38],
        "candidates": [],
        "problems": [],
        "source": None,  # proposed by the rules alone, not from a learned layout
    }
    assert detail["pages"] == [
        {
            "number": 1,
            "width": 850.0,
            "height": 1100.0,
            "source": "ocr",
            "rotation": 0,
            "image_url": f"/documents/{first}/pages/1.png",
        }
    ]
    assert api.get("/api/documents/9999").status_code == 404

    counts = api.get("/api/documents/counts").json()
    assert counts["by_status"]["awaiting_review"] == 2
    assert counts["by_status"]["failed"] == 1
    assert counts["awaiting_by_doc_type"] == {"medical_license": 1, "diploma": 1}


def test_approve_creates_provider_credential_and_audit_trail(
    db: Database, tmp_path: Path, api: TestClient
) -> None:
    doc = seed_document(db, StoreLayout(tmp_path))
    body = {
        "doc_type": "medical_license",
        # one correction, one field "not on document" (left empty), the rest confirmed
        "fields": confirmed(credential_number="35.123457", credential_title=""),
        "provider_id": None,
    }
    response = api.post(f"/api/documents/{doc}/approve", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert len(result["credential_ids"]) == 1 and result["provider_created"] is True

    with db.session() as session:
        provider = session.get_one(Provider, result["provider_id"])
        assert (provider.name, provider.npi) == ("Maria Elena Gonzalez", NPI)
        cred = session.get_one(Credential, result["credential_ids"][0])
        assert cred.document_id == doc and cred.provider_id == provider.id
        assert cred.credential_number == "35.123457"
        assert cred.credential_title is None
        assert (cred.issue_date, cred.expiration_date) == (date(2018, 3, 3), date(2027, 1, 1))
        assert cred.jurisdiction == "OH" and cred.npi == NPI
        assert cred.verified_by_id is not None and cred.verified_at is not None
        stored = session.get_one(Document, doc)
        assert stored.status == DocumentStatus.APPROVED
        assert stored.reviewed_by_id == cred.verified_by_id and stored.provider_id == provider.id

        rows = session.execute(
            select(AuditEvent, AuditDetail)
            .join(AuditDetail, AuditDetail.event_id == AuditEvent.id)
            .where(AuditEvent.action.in_(["field.confirmed", "field.corrected"]))
        ).all()
        by_field = {d.data["field"]: (e, d) for e, d in rows}
        assert set(by_field) == set(LICENSE_FIELDS)
        event, detail = by_field["credential_number"]
        assert event.action == "field.corrected" and event.actor == "coordinator"
        assert detail.data["machine"] == "35.123456" and detail.data["person"] == "35.123457"
        assert (detail.document_id, detail.provider_id) == (doc, provider.id)
        assert by_field["credential_title"][0].action == "field.corrected"
        assert by_field["credential_title"][1].data["person"] is None
        assert by_field["issuer"][0].action == "field.confirmed"
        assert by_field["issuer"][1].data["machine"] == by_field["issuer"][1].data["person"]
        # no personal value in any event's note
        notes = " ".join(e.note or "" for e in session.scalars(select(AuditEvent)))
        assert "Gonzalez" not in notes and "35.12345" not in notes and NPI not in notes

    credentials = api.get(f"/api/providers/{result['provider_id']}/credentials").json()["items"]
    assert [c["credential_number"] for c in credentials] == ["35.123457"]
    assert credentials[0]["verified_by"] == "coordinator"
    assert credentials[0]["expiration_date"] == "2027-01-01"

    again = api.post(f"/api/documents/{doc}/approve", json=body)
    assert again.status_code == 409


def test_approve_checks_values_and_writes_nothing_when_wrong(
    db: Database, tmp_path: Path, api: TestClient
) -> None:
    doc = seed_document(db, StoreLayout(tmp_path))
    cases = {
        "expiration_date": ("01/02/2027", "Date must be YYYY-MM-DD"),
        "jurisdiction": ("XX", "Jurisdiction must be a US state or territory code (e.g. OH)"),
        "npi": ("1234567890", "NPI check digit does not match"),
    }
    for field, (value, message) in cases.items():
        r = api.post(
            f"/api/documents/{doc}/approve",
            json={"doc_type": "medical_license", "fields": confirmed(**{field: value})},
        )
        assert r.status_code == 422
        assert r.json()["errors"][field] == message

    r = api.post(
        f"/api/documents/{doc}/approve",
        json={"doc_type": "medical_license", "fields": confirmed(issue_date="2028-01-01")},
    )
    assert r.json()["errors"]["expiration_date"] == "Expiration date must be after the issue date"
    r = api.post(
        f"/api/documents/{doc}/approve",
        json={"doc_type": "medical_license", "fields": confirmed(schedules="2,3")},
    )
    assert r.json()["errors"]["schedules"] == "Not a field of medical_license"
    r = api.post(
        f"/api/documents/{doc}/approve",
        json={"doc_type": "medical_license", "fields": confirmed(person_name=None)},
    )
    assert r.json()["errors"]["person_name"] == "A name is needed to create the provider"
    r = api.post(
        f"/api/documents/{doc}/approve",
        json={"doc_type": "medical_license", "fields": confirmed(), "provider_id": 999},
    )
    assert r.json()["errors"]["provider_id"] == "No provider 999"

    # a DEA registration: the type changed in review, the number's check digit verified
    dea = {
        "person_name": "Maria Elena Gonzalez",
        "credential_number": "BG1234564",
        "jurisdiction": "OH",
        "expiration_date": "2027-06-30",
        "schedules": "2,2N,3,4,5",
    }
    r = api.post(
        f"/api/documents/{doc}/approve", json={"doc_type": "dea_registration", "fields": dea}
    )
    assert r.json()["errors"]["credential_number"] == "DEA check digit does not match"

    with db.session() as session:
        assert session.scalars(select(Credential)).all() == []
        assert session.get_one(Document, doc).status == DocumentStatus.AWAITING_REVIEW

    r = api.post(
        f"/api/documents/{doc}/approve",
        json={"doc_type": "dea_registration", "fields": {**dea, "credential_number": DEA}},
    )
    assert r.status_code == 200, r.text
    with db.session() as session:
        cred = session.scalars(select(Credential)).one()
        assert (cred.doc_type, cred.credential_number, cred.schedules) == (
            "dea_registration",
            DEA,
            "2,2N,3,4,5",
        )
        assert session.get_one(Document, doc).doc_type == "dea_registration"
        assert (
            session.scalars(
                select(AuditEvent.note).where(AuditEvent.action == "doc_type.corrected")
            ).one()
            == "medical_license -> dea_registration"
        )


def test_approve_links_an_existing_provider(db: Database, tmp_path: Path, api: TestClient) -> None:
    layout = StoreLayout(tmp_path)
    first, second = seed_document(db, layout, name="a.png"), seed_document(db, layout, name="b.png")
    made = api.post(
        f"/api/documents/{first}/approve",
        json={"doc_type": "medical_license", "fields": confirmed()},
    ).json()
    r = api.post(
        f"/api/documents/{second}/approve",
        json={
            "doc_type": "medical_license",
            "fields": confirmed(),
            "provider_id": made["provider_id"],
        },
    )
    assert r.status_code == 200 and r.json()["provider_id"] == made["provider_id"]
    assert r.json()["provider_created"] is False
    items = api.get(f"/api/providers/{made['provider_id']}/credentials").json()["items"]
    assert len(items) == 2
    with db.session() as session:
        assert len(session.scalars(select(Provider)).all()) == 1


def test_reject_and_needs_information(db: Database, tmp_path: Path, api: TestClient) -> None:
    layout = StoreLayout(tmp_path)
    doc, other = seed_document(db, layout, name="a.png"), seed_document(db, layout, name="b.png")
    assert api.post(f"/api/documents/{doc}/reject", json={"reason": ""}).status_code == 422
    r = api.post(f"/api/documents/{doc}/reject", json={"reason": "Not a credential: a menu"})
    assert r.json() == {"document_id": doc, "status": "rejected"}
    assert api.post(f"/api/documents/{doc}/reject", json={"reason": "again"}).status_code == 409

    r = api.post(
        f"/api/documents/{other}/needs-information",
        json={"note": "Back page of the licence missing"},
    )
    assert r.status_code == 200
    detail = api.get(f"/api/documents/{other}").json()
    assert detail["status"] == "awaiting_review"
    assert detail["needs_information"] == "Back page of the licence missing"
    with db.session() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        stored = session.get_one(Document, doc)
        assert stored.status == DocumentStatus.REJECTED
        assert stored.review_note == "Not a credential: a menu"
    assert "document.rejected" in actions and "document.needs_information" in actions


def test_claims_keep_two_reviewers_apart(db: Database, tmp_path: Path, app: FastAPI) -> None:
    doc = seed_document(db, StoreLayout(tmp_path))
    coordinator, manager = client_as(app, "coordinator"), client_as(app, "manager")
    auditor = client_as(app, "auditor")

    mine = post_json(coordinator, f"/api/documents/{doc}/claim")
    assert mine.status_code == 200 and mine.json()["claimed_by"] == "coordinator"
    assert post_json(coordinator, f"/api/documents/{doc}/claim").status_code == 200  # renewal
    theirs = post_json(manager, f"/api/documents/{doc}/claim")
    assert theirs.status_code == 409
    assert "coordinator" in theirs.json()["detail"]
    assert coordinator.get(f"/api/documents/{doc}").json()["claimed_by"] == "coordinator"

    # the other reviewer cannot decide on it meanwhile, nor can an auditor claim it
    r = post_json(
        manager,
        f"/api/documents/{doc}/approve",
        {"doc_type": "medical_license", "fields": confirmed()},
    )
    assert r.status_code == 409
    assert post_json(auditor, f"/api/documents/{doc}/claim").status_code == 403

    # released: the other reviewer takes it and approves
    assert post_json(coordinator, f"/api/documents/{doc}/release").json()["released"] is True
    assert post_json(manager, f"/api/documents/{doc}/claim").status_code == 200
    r = post_json(
        manager,
        f"/api/documents/{doc}/approve",
        {"doc_type": "medical_license", "fields": confirmed()},
    )
    assert r.status_code == 200
    assert post_json(coordinator, f"/api/documents/{doc}/claim").status_code == 409  # decided


def test_next_document_follows_priority_and_skips_claimed(
    db: Database, tmp_path: Path, app: FastAPI
) -> None:
    layout = StoreLayout(tmp_path)
    old_sure = seed_document(
        db, layout, name="old.png", age_days=30, fields={"person_name": ("A B", 0.99)}
    )
    doubtful = seed_document(db, layout, name="doubt.png", fields={"person_name": ("A B", 0.2)})
    expiring = seed_document(
        db, layout, name="exp.png", expires_on="2000-01-01", fields={"person_name": ("A B", 0.99)}
    )
    coordinator, manager = client_as(app, "coordinator"), client_as(app, "manager")
    order = [post_json(coordinator, "/api/documents/next").json()["document"]["id"]]
    order.append(post_json(manager, "/api/documents/next").json()["document"]["id"])
    assert order == [expiring, doubtful]  # the manager skips the coordinator's claim
    assert (
        post_json(manager, "/api/documents/next", params={"after": doubtful}).json()["document"][
            "id"
        ]
        == old_sure
    )
    assert post_json(client_as(app, "admin"), "/api/documents/next").json()["document"] is None


def test_providers_search_suggest_and_create(db: Database, tmp_path: Path, api: TestClient) -> None:
    with db.session() as session:
        session.add_all(
            [
                Provider(name="Maria Elena Gonzalez", npi=NPI),
                Provider(name="Mario Gonzales"),
                Provider(name="John Smith", npi="1245319599"),
            ]
        )
    found = api.get("/api/providers", params={"q": "gonz"}).json()["items"]
    assert [p["name"] for p in found] == ["Maria Elena Gonzalez", "Mario Gonzales"]
    by_npi = api.get("/api/providers", params={"q": "12453"}).json()["items"]
    assert [p["name"] for p in by_npi] == ["John Smith"]

    # NPI first; then names alike despite a misread letter
    doc = seed_document(
        db,
        StoreLayout(tmp_path),
        fields={"person_name": ("Maria Elena Gonzalaz", 0.7), "npi": (NPI, 0.9)},
    )
    suggestions = api.get("/api/providers/suggest", params={"document_id": doc}).json()["items"]
    assert suggestions[0]["reason"] == "npi" and suggestions[0]["name"] == "Maria Elena Gonzalez"
    no_npi = seed_document(
        db,
        StoreLayout(tmp_path),
        name="x.png",
        hint=None,
        fields={"person_name": ("Jon Smith", 0.7)},
    )
    suggestions = api.get("/api/providers/suggest", params={"document_id": no_npi}).json()
    assert [s["name"] for s in suggestions["items"]] == ["John Smith"]
    assert suggestions["items"][0]["reason"] == "name"

    created = api.post("/api/providers", json={"name": "Ada  Lovelace", "npi": "1234567893"})
    assert created.status_code == 409  # that NPI is taken
    created = api.post("/api/providers", json={"name": "Ada  Lovelace"})
    assert created.status_code == 201 and created.json()["name"] == "Ada Lovelace"
    pid = created.json()["id"]
    assert api.get(f"/api/providers/{pid}").json()["name"] == "Ada Lovelace"
    assert api.get("/api/providers/99999").status_code == 404
    assert api.post("/api/providers", json={"name": "X", "npi": "1"}).status_code == 422
