"""An applicant walked through the real app from creation to `ready_for_committee`: created
with `"status": "applicant"`, its checklist naming the agencies, the missing-items letter
received by a real SMTP server (aiosmtpd), each item verified with its source through the
API, the 120-day window checked on both sides of its edge, and the status moved on to the
committee. Roles and CSRF as elsewhere: coordinators change, auditors read. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from compliance.references import request_letter
from credflow.settings import Settings
from models import AuditEvent, Database, Document, StoreLayout
from tests.compliance.applicant_support import add_documents
from tests.compliance.test_notify import SmtpServer, smtp  # noqa: F401  (the SMTP fixture)
from tests.review.test_api_support import (
    add_users,
    client_as,
    csrf_of,
    make_app,
    post_form,
    seed_document,
)

NEW = {
    "name": "Ana Ruiz",
    "email": "ana.ruiz@example.org",
    "staff_category": "physician",
    "department": "Internal Medicine",
    "states": ["CA", "NY"],
    "status": "applicant",
    "date_of_birth": "1984-05-02",
    "other_names": ["Ana Ruiz-Vega"],
}


def _items(client: Any, pid: int, on: date | None = None) -> dict[str, Any]:
    url = f"/api/providers/{pid}/checklist" + (f"?on={on}" if on else "")
    got = client.get(url)
    assert got.status_code == 200, got.text
    data: dict[str, Any] = got.json()
    return data


def test_applicant_to_committee(db: Database, smtp: SmtpServer, tmp_path: Path) -> None:  # noqa: F811
    add_users(db)
    settings = Settings(
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="credentialing@hospital.example",
    )
    app = make_app(db, tmp_path, settings=settings)
    cora, auditor = client_as(app, "coordinator"), client_as(app, "auditor")
    h = {"X-CSRF-Token": csrf_of(cora)}
    made = cora.post("/api/providers", headers=h, json=NEW)
    assert made.status_code == 201, made.text
    p = made.json()
    pid = p["id"]
    assert (p["status"], p["active"], p["other_names"]) == ("applicant", False, ["Ana Ruiz-Vega"])

    first = _items(cora, pid)
    assert first["ready_for_committee"] is False
    shape = {"requirement", "label", "state", "agency", "next_step", "credential_id", "verified_on"}
    assert all(set(i) >= shape for i in first["items"])
    agencies = {(i["requirement"], i["state"]): i["agency"] for i in first["items"]}
    assert agencies[("state_license", "CA")] == "Medical Board of California"
    assert agencies[("state_license", "NY")] == "New York State Education Department"
    assert "Drug Enforcement Administration" in agencies[("dea", "CA")]

    # the letter: refused to an auditor, accepted (202) from a coordinator, sent at once
    assert (
        auditor.post(
            f"/api/providers/{pid}/missing-items-letter", headers={"X-CSRF-Token": csrf_of(auditor)}
        ).status_code
        == 403
    )
    assert cora.post(f"/api/providers/{pid}/missing-items-letter").status_code == 403  # no CSRF
    sent = cora.post(f"/api/providers/{pid}/missing-items-letter", headers=h)
    assert sent.status_code == 202, sent.text
    (msg,) = smtp.messages
    assert msg["To"] == "ana.ruiz@example.org"
    body = msg.get_content()
    assert "State medical licence (CA) (missing): Medical Board of California" in body
    assert "State medical licence (NY) (missing): New York State Education Department" in body
    assert "Drug Enforcement Administration" in body

    # the documents arrive (approved in the review screen) and are verified with each source
    with db.session() as s:
        creds = add_documents(s, pid)
    checked = date.today() - timedelta(days=10)
    refused = auditor.post(
        f"/api/credentials/{creds['board']}/verifications",
        headers={"X-CSRF-Token": csrf_of(auditor)},
        json={
            "source": "x",
            "method": "phone",
            "verified_on": str(checked),
            "result": "verified",
            "note": "",
        },
    )
    assert refused.status_code == 403
    bad = cora.post(
        f"/api/credentials/{creds['board']}/verifications",
        headers=h,
        json={"source": "x", "method": "pigeon", "verified_on": str(checked), "result": "verified"},
    )
    assert bad.status_code == 422
    for key, cid in creds.items():
        got = cora.post(
            f"/api/credentials/{cid}/verifications",
            headers=h,
            json={
                "source": f"primary source of {key}",
                "method": "online_lookup",
                "verified_on": str(checked),
                "result": "verified",
                "note": "matches",
            },
        )
        assert got.status_code == 201, got.text
    listed = cora.get(f"/api/credentials/{creds['license_ca']}/verifications").json()["items"]
    assert [(v["source"], v["verified_on"], v["actor"]) for v in listed] == [
        ("primary source of license_ca", str(checked), "coordinator")
    ]

    assert _items(cora, pid)["ready_for_committee"] is True
    assert _items(auditor, pid, checked + timedelta(days=120))["ready_for_committee"] is True
    late = _items(cora, pid, checked + timedelta(days=121))
    assert late["ready_for_committee"] is False
    assert {i["status"] for i in late["items"] if i["required"]} == {"received"}

    # along the pipeline: an illegal jump is 409, each step audited
    assert (
        cora.post(f"/api/providers/{pid}/status", headers=h, json={"status": "active"}).status_code
        == 409
    )
    for step in ("in_review", "committee"):
        moved = cora.post(f"/api/providers/{pid}/status", headers=h, json={"status": step})
        assert moved.status_code == 200 and moved.json()["status"] == step, moved.text
    page = cora.get("/applicants")
    assert page.status_code == 200 and "Ana Ruiz" in page.text and "ready" in page.text
    checklist = auditor.get(f"/providers/{pid}/checklist")
    assert checklist.status_code == 200 and "Ready for committee" in checklist.text
    assert "Record verification" not in checklist.text  # auditors read only
    pdf = cora.get(f"/providers/{pid}/missing-items-letter.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (
        post_form(cora, f"/providers/{pid}/checklist/status", {"new_status": "active"}).status_code
        == 303
    )
    assert cora.get(f"/api/providers/{pid}").json()["status"] == "active"
    with db.session() as s:
        notes = s.scalars(
            select(AuditEvent.note).where(AuditEvent.action == "provider.status_changed")
        ).all()
    assert notes == ["applicant -> in_review", "in_review -> committee", "committee -> active"]


def test_request_letter_by_mail_and_pdf(db: Database, smtp: SmtpServer, tmp_path: Path) -> None:  # noqa: F811
    add_users(db)
    settings = Settings(
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="credentialing@hospital.example",
    )
    app = make_app(db, tmp_path, settings=settings)
    cora, auditor = client_as(app, "coordinator"), client_as(app, "auditor")
    h = {"X-CSRF-Token": csrf_of(cora)}
    pid = cora.post("/api/providers", headers=h, json=NEW).json()["id"]
    with db.session() as s:
        rid = request_letter(
            s,
            provider_id=pid,
            kind="reference",
            recipient_name="Dr. Lee",
            recipient_email="lee@clinic.example.org",
            organisation="Valley Clinic",
            actor="coordinator",
        ).id
    url = f"/api/reference-requests/{rid}/letter"
    assert auditor.post(url, headers={"X-CSRF-Token": csrf_of(auditor)}).status_code == 403
    assert cora.post("/api/reference-requests/999999/letter", headers=h).status_code == 404
    sent = cora.post(url, headers=h)
    assert sent.status_code == 202, sent.text
    (msg,) = smtp.messages
    assert msg["To"] == "lee@clinic.example.org"
    assert msg["Subject"] == "Reference request for Ana Ruiz"
    assert "Would you recommend the candidate without reservation?" in msg.get_content()
    pdf = auditor.get(f"/reference-requests/{rid}/letter.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    kinds = [x["kind"] for x in cora.get(f"/api/providers/{pid}/letters").json()["items"]]
    assert kinds == ["reference_request"]


def test_evidence_linked_from_the_review_screen(db: Database, tmp_path: Path) -> None:
    add_users(db)
    app = make_app(db, tmp_path)
    cora = client_as(app, "coordinator")
    h = {"X-CSRF-Token": csrf_of(cora)}
    pid = cora.post("/api/providers", headers=h, json=NEW).json()["id"]
    with db.session() as s:
        cid = add_documents(s, pid, only={"license_ca"})["license_ca"]
    doc_id = seed_document(db, StoreLayout(tmp_path), name="mbc-lookup.png", hint=None)
    with db.session() as s:
        s.get_one(Document, doc_id).provider_id = pid
    screen = cora.get(f"/review/{doc_id}")
    assert screen.status_code == 200
    link = f"/providers/{pid}/checklist?evidence={doc_id}"
    assert f'id="use-as-evidence" href="{link}"' in screen.text
    form = cora.get(link)
    assert f'name="document_id" inputmode="numeric" size="6" value="{doc_id}"' in form.text
    day = date.today().isoformat()
    done = post_form(
        cora,
        f"/providers/{pid}/checklist/verification",
        {
            "credential": str(cid),
            "source": "Medical Board of California licence lookup",
            "method": "online_lookup",
            "verified_on": day,
            "result": "verified",
            "note": "",
            "document_id": str(doc_id),
        },
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?done=verified")
    other = post_form(cora, f"/providers/{pid + 1000}/checklist/verification",
                      {"credential": str(cid), "source": "x", "method": "online_lookup",
                       "verified_on": day, "result": "verified"})  # fmt: skip
    assert other.status_code == 404  # a credential of another file is refused
    (v,) = cora.get(f"/api/credentials/{cid}/verifications").json()["items"]
    assert (v["document_id"], v["verified_on"], v["actor"]) == (doc_id, day, "coordinator")


def test_gap_explanations(db: Database, tmp_path: Path) -> None:
    add_users(db)
    app = make_app(db, tmp_path)
    cora, auditor = client_as(app, "coordinator"), client_as(app, "auditor")
    h = {"X-CSRF-Token": csrf_of(cora)}
    pid = cora.post("/api/providers", headers=h, json=NEW).json()["id"]
    url = f"/api/providers/{pid}/gap-explanations"
    body = {"gap_start": "2020-06-30", "gap_end": "2021-03-01", "explanation": "parental leave"}
    assert (
        auditor.post(url, headers={"X-CSRF-Token": csrf_of(auditor)}, json=body).status_code == 403
    )
    backwards = {**body, "gap_end": "2019-01-01"}
    assert cora.post(url, headers=h, json=backwards).status_code == 422
    assert (
        cora.post("/api/providers/999999/gap-explanations", headers=h, json=body).status_code == 404
    )
    made = cora.post(url, headers=h, json=body)
    assert made.status_code == 201, made.text
    assert [g["explanation"] for g in auditor.get(url).json()["items"]] == ["parental leave"]
    form = post_form(
        cora,
        f"/providers/{pid}/checklist/gap",
        {"gap_start": "2010-01-01", "gap_end": "2011-01-01", "explanation": "study"},
    )
    assert form.status_code == 303
    assert len(cora.get(url).json()["items"]) == 2
