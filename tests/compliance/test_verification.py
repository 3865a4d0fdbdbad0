"""Primary-source verifications: recorded (audited) and listed per credential; the latest
one's date, not the approval date, is what the dashboard's "verification older than
allowed" and the committee packet measure; candidates' verifications about to age out
remind the coordinator. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance.letters import coordinator_drafts
from compliance.packet import build_packet
from compliance.status import ProviderFilter, load_facts
from compliance.verification import (
    VerificationError,
    VerificationIn,
    list_verifications,
    record_verification,
    reverification_due,
    within_window,
)
from models import AuditEvent, Credential, Database, Provider, User
from tests.compliance.applicant_support import TODAY, add_applicant, add_documents


def test_window_edge() -> None:
    day = date(2026, 1, 1)
    assert within_window(day, day + timedelta(days=120), 120)
    assert not within_window(day, day + timedelta(days=121), 120)
    assert not within_window(None, day, 120)
    assert not within_window(day, day - timedelta(days=1), 120)  # after the decision


def test_record_list_and_audit(db: Database) -> None:
    with db.session() as s:
        pid = add_applicant(s)
        cid = add_documents(s, pid, only={"license_ca"})["license_ca"]
        first = record_verification(
            s,
            cid,
            VerificationIn(
                "Medical Board of California licence lookup",
                "online_lookup",
                date(2026, 8, 1),
                "verified",
            ),
            actor="cora",
            today=TODAY,
        )
        record_verification(
            s,
            cid,
            VerificationIn(
                "Board letter", "letter", date(2026, 10, 1), "discrepancy", note="expiry differs"
            ),
            actor="cora",
            today=TODAY,
        )
        listed = list_verifications(s, cid)
        events = list(
            s.scalars(select(AuditEvent).where(AuditEvent.action == "credential.verified"))
        )
        with pytest.raises(VerificationError) as bad:
            record_verification(
                s,
                cid,
                VerificationIn("x", "telepathy", TODAY, "verified"),
                actor="cora",
                today=TODAY,
            )
        with pytest.raises(VerificationError) as future:
            record_verification(
                s,
                cid,
                VerificationIn("x", "phone", TODAY + timedelta(days=1), "verified"),
                actor="cora",
                today=TODAY,
            )
        with pytest.raises(VerificationError) as missing:
            record_verification(
                s,
                999_999,
                VerificationIn("x", "phone", TODAY, "verified"),
                actor="cora",
                today=TODAY,
            )
    assert [(v.method, v.result) for v in listed] == [
        ("letter", "discrepancy"),
        ("online_lookup", "verified"),
    ]
    assert listed[1].id == first.id and listed[0].note == "expiry differs"
    assert [e.entity_id for e in events] == [cid, cid] and events[0].actor == "cora"
    assert "method must be one of" in str(bad.value) and bad.value.status == 422
    assert "future" in str(future.value)
    assert missing.value.status == 404


def _staff_file(session: Session) -> tuple[int, int]:
    """A clinician on staff whose licence copy was approved recently but verified with the
    board long ago."""
    p = Provider(name="Ben Ode", staff_category="physician", states=["CA"], status="active")
    session.add(p)
    session.flush()
    c = Credential(
        provider_id=p.id,
        doc_type="medical_license",
        jurisdiction="CA",
        expiration_date=date(2029, 1, 1),
        verified_at=datetime(2026, 11, 1, 9, tzinfo=UTC),
    )
    session.add(c)
    session.flush()
    return p.id, c.id


def test_dashboard_facts_and_packet_use_the_verification_date(db: Database) -> None:
    decision = date(2026, 12, 1)
    with db.session() as s:
        pid, cid = _staff_file(s)
        before = load_facts(s, ProviderFilter(provider_ids=(pid,)))[0].credentials[0]
        packet = build_packet(s, pid, decision, today=TODAY)
        unverified = sorted(f.kind for f in packet.flags if f.credential_id == cid)
        record_verification(
            s,
            cid,
            VerificationIn(
                "Medical Board of California", "online_lookup", date(2026, 6, 1), "verified"
            ),
            actor="cora",
            today=TODAY,
        )
        after = load_facts(s, ProviderFilter(provider_ids=(pid,)))[0].credentials[0]
        packet = build_packet(s, pid, decision, today=TODAY)
        aged = [f.message for f in packet.flags if f.kind == "verification_age"]
    assert before.verified_on == date(2026, 11, 1)  # no verification yet: the approval day
    assert "not_verified" in unverified and "verification_age" not in unverified
    assert after.verified_on == date(2026, 6, 1)
    assert aged == ["Medical licence verified 183 days before the decision date (limit 120)"]


def test_reverification_reminds_the_coordinator(db: Database) -> None:
    with db.session() as s:
        s.add(
            User(
                username="cora",
                password_hash="x",
                role="coordinator",
                email="cora@hospital.example",
            )
        )
        pid = add_applicant(s)
        creds = add_documents(s, pid, only={"license_ca", "dea_ca"})
        # closes in 10 days (120 days after), and one that has 100 days left
        ages = {"license_ca": 110, "dea_ca": 20}
        for key, age in ages.items():
            day = TODAY - timedelta(days=age)
            record_verification(
                s,
                creds[key],
                VerificationIn("src", "online_lookup", day, "verified"),
                actor="cora",
                today=TODAY,
            )
        due = reverification_due(s, TODAY, max_age_days=120)
        drafts = coordinator_drafts(s, TODAY, max_age_days=120)
    assert [(d.credential_id, d.window_closes) for d in due] == [
        (creds["license_ca"], TODAY + timedelta(days=10))
    ]
    (d,) = drafts
    assert d.recipient == "cora@hospital.example" and d.template == "reverification"
    assert d.provider_id is None  # the candidate is not written to
