"""The patient-facing credential summary shows licences, boards, education and when each
was verified, and never a confidential value (checked in the JSON and in the PDF's text)."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pdfplumber
import pytest

from compliance.summary import ProviderNotFound, build_summary, render_summary_pdf
from models import (
    Credential,
    Database,
    Document,
    DocumentField,
    DocumentPage,
    DocumentStatus,
    Provider,
    record_event,
)

TODAY = date(2026, 11, 26)
VERIFIED = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
# values the office keeps but a patient must never see
CONFIDENTIAL = [
    "AB1234563",  # the full DEA number
    "AB123",
    "Qzurich Mutual Liability",  # malpractice carrier
    "MPL-55501-QX",  # malpractice policy
    "Harriet Xqvlonde",  # a referee
    "Qumberland Clinic",  # an employer
    "1971-04-09",  # date of birth (read from a page)
    "742 Evergreen Xqterrace",  # home address (read from a page)
    "NPDB report 77",  # databank result (in an audit detail)
]


def make_clinician(db: Database) -> int:
    with db.session() as s:
        p = Provider(name="María José Núñez-O'Brien", npi="1234567893", email="mjn@example.org")
        s.add(p)
        s.flush()
        doc = Document(
            sha256="a" * 64, filename="scan.pdf", status=DocumentStatus.APPROVED, provider_id=p.id
        )
        s.add(doc)
        s.flush()
        s.add(
            DocumentPage(
                document_id=doc.id,
                number=1,
                width=1,
                height=1,
                source="ocr",
                text="DOB 1971-04-09  Home: 742 Evergreen Xqterrace",
                words=[],
            )
        )
        s.add(DocumentField(document_id=doc.id, name="date_of_birth", value="1971-04-09"))
        record_event(
            s,
            actor="c",
            action="note.added",
            entity_type="provider",
            entity_id=p.id,
            detail={"text": "NPDB report 77"},
            provider_id=p.id,
        )

        def cred(doc_type: str, **kw: object) -> None:
            s.add(
                Credential(
                    provider_id=p.id,
                    doc_type=doc_type,
                    document_id=doc.id,
                    verified_at=VERIFIED,
                    **kw,
                )
            )

        # an old licence record and its renewal: only the renewal is shown
        cred(
            "medical_license",
            credential_number="35.123456",
            jurisdiction="OH",
            credential_title="Physician and Surgeon",
            expiration_date=date(2024, 1, 1),
        )
        cred(
            "medical_license",
            credential_number="35.123456",
            jurisdiction="OH",
            credential_title="Physician and Surgeon",
            expiration_date=date(2028, 1, 1),
        )
        cred(
            "medical_license",
            credential_number="G77120",
            jurisdiction="CA",
            expiration_date=date(2025, 6, 30),
        )
        cred(
            "dea_registration",
            credential_number="AB1234563",
            jurisdiction="OH",
            expiration_date=date(2027, 5, 31),
            schedules="2,2N,3,3N,4,5",
        )
        cred(
            "board_certification",
            issuer="American Board of Internal Medicine",
            credential_title="Internal Medicine",
            expiration_date=date(2030, 12, 31),
        )
        cred(
            "diploma",
            issuer="Ohio State University College of Medicine",
            credential_title="Doctor of Medicine",
            issue_date=date(2009, 6, 5),
        )
        cred(
            "training_certificate",
            issuer="Cleveland Clinic",
            credential_title="Internal Medicine Residency",
            issue_date=date(2012, 6, 30),
        )
        cred(
            "malpractice_insurance",
            issuer="Qzurich Mutual Liability",
            credential_number="MPL-55501-QX",
            expiration_date=date(2027, 1, 1),
        )
        cred("reference_letter", referee_name="Harriet Xqvlonde", issuer="Mercy Hospital")
        cred(
            "employment_verification",
            issuer="Qumberland Clinic",
            credential_title="Hospitalist",
            start_date=date(2012, 7, 1),
        )
        return p.id


def test_summary_lists_verified_credentials(db: Database) -> None:
    provider_id = make_clinician(db)
    with db.session() as s:
        summary = build_summary(s, provider_id, today=TODAY)
        with pytest.raises(ProviderNotFound):
            build_summary(s, provider_id + 100, today=TODAY)

    assert summary.name == "María José Núñez-O'Brien"
    lines = [(x.kind, x.state, x.number, x.status, x.expires) for x in summary.licences]
    assert lines == [
        ("Medical licence", "CA", "G77120", "expired", date(2025, 6, 30)),
        ("Medical licence", "OH", "35.123456", "active", date(2028, 1, 1)),
        ("DEA registration", "OH", "ending 4563", "active", date(2027, 5, 31)),
    ]
    assert all(x.verified_on == date(2026, 3, 4) for x in summary.licences)
    assert [(b.board, b.specialty, b.status) for b in summary.board_certifications] == [
        ("American Board of Internal Medicine", "Internal Medicine", "active")
    ]
    assert [(e.kind, e.school, e.completed) for e in summary.education] == [
        ("Degree", "Ohio State University College of Medicine", date(2009, 6, 5)),
        ("Training", "Cleveland Clinic", date(2012, 6, 30)),
    ]
    as_json = json.dumps(summary.to_json())
    assert "35.123456" in as_json and "2026-03-04" in as_json
    for value in CONFIDENTIAL:
        assert value not in as_json


def test_summary_pdf_holds_the_facts_and_nothing_confidential(db: Database) -> None:
    provider_id = make_clinician(db)
    with db.session() as s:
        pdf = render_summary_pdf(build_summary(s, provider_id, today=TODAY))
    assert pdf.startswith(b"%PDF-")
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
    for expected in (
        "María José Núñez-O'Brien",
        "35.123456",
        "G77120",
        "ending 4563",
        "expired",
        "2028-01-01",
        "American Board of Internal Medicine",
        "Doctor of Medicine",
        "2026-03-04",
    ):
        assert expected in text, expected
    for value in CONFIDENTIAL:
        assert value not in text, value
