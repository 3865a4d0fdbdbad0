"""A realistic clinician's file for the file, page and browser tests and the README's
screenshots (no tests here): a physician with a licence evidenced by a stored scan, a
lapsing DEA registration, missing items, a reference request, a committee decision, a
reminder sent and a retention hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from compliance.references import request_letter
from compliance.removal import place_hold
from models import Credential, Database, Document, DocumentStatus, Provider, StoreLayout
from models.compliance import CommitteeDecision, OutboxMessage
from tests.review.test_api_support import seed_document


@dataclass
class SampleFile:
    provider_id: int
    document_id: int
    licence_id: int
    dea_id: int
    request_id: int
    hold_id: int


def seed_file(db: Database, layout: StoreLayout, today: date) -> SampleFile:
    """The file of Maria Elena Gonzalez, as of `today`."""
    document_id = seed_document(db, layout, name="gonzalez-licence.png",
                                status=DocumentStatus.APPROVED)  # fmt: skip
    with db.session() as s:
        p = Provider(name="Maria Elena Gonzalez", npi="1234567893", email="mgonzalez@example.org",
                     staff_category="physician", department="Family Medicine", states=["CA"],
                     other_names=["Maria Elena Ruiz"])  # fmt: skip
        s.add(p)
        s.flush()
        s.get_one(Document, document_id).provider_id = p.id
        verified = datetime.combine(today - timedelta(days=20), datetime.min.time(), tzinfo=UTC)
        licence = Credential(provider_id=p.id, document_id=document_id,
                             doc_type="medical_license", credential_number="A123456",
                             issuer="Medical Board of California", jurisdiction="CA",
                             credential_title="Physician and Surgeon",
                             issue_date=today - timedelta(days=700),
                             expiration_date=today + timedelta(days=400),
                             verified_at=verified)  # fmt: skip
        dea = Credential(provider_id=p.id, doc_type="dea_registration",
                         credential_number="BG1234563", jurisdiction="CA",
                         expiration_date=today + timedelta(days=20),
                         verified_at=verified)  # fmt: skip
        bls = Credential(provider_id=p.id, doc_type="life_support_card",
                         credential_title="BLS Provider", issue_date=today - timedelta(days=90),
                         verified_at=verified)  # fmt: skip
        s.add_all([licence, dea, bls])
        s.add(CommitteeDecision(provider_id=p.id, decided_on=today - timedelta(days=400),
                                decision="approved", note="initial appointment"))  # fmt: skip
        s.add(OutboxMessage(dedupe_key=f"expiry:{p.id}:dea:30", kind="reminder",
                            provider_id=p.id, recipient="mgonzalez@example.org",
                            subject="Your DEA registration expires soon", body="Please renew.",
                            status="sent", sent_at=datetime.now(UTC)))  # fmt: skip
        s.flush()
        request = request_letter(s, provider_id=p.id, kind="reference",
                                 recipient_name="Dr Boris Helm", actor="alice",
                                 organisation="Lakeside Clinic", requested_on=today,
                                 due_on=today + timedelta(days=14))  # fmt: skip
        hold = place_hold(s, actor="manager", reason="survey look-back", provider_id=p.id,
                          until=today + timedelta(days=90))  # fmt: skip
        return SampleFile(p.id, document_id, licence.id, dea.id, request.id, hold.id)
