"""The committee packet lists every credential with its verification facts and evidence,
flags what needs an answer, finds work-history gaps, and renders as a PDF."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pdfplumber

from compliance.packet import build_packet, render_packet_pdf, work_gaps
from compliance.references import mark_received, request_letter
from models import (
    Credential,
    Database,
    Document,
    DocumentArrival,
    DocumentStatus,
    Provider,
    User,
)

TODAY = date(2026, 11, 26)
DECISION = date(2027, 1, 15)
RECENT = datetime(2026, 11, 1, 10, tzinfo=UTC)
OLD = datetime(2026, 5, 1, 10, tzinfo=UTC)


def test_work_gaps_over_six_months() -> None:
    periods: list[tuple[date, date | None]] = [
        (date(2010, 1, 1), date(2012, 12, 31)),
        (date(2013, 3, 1), date(2015, 6, 30)),  # 2 months after: fine
        (date(2014, 1, 1), date(2015, 1, 31)),  # overlaps: merged
        (date(2016, 3, 1), date(2020, 5, 31)),  # 8 months after: a gap
        (date(2020, 11, 30), date(2024, 1, 31)),  # exactly 6 months: not more than 6
    ]
    gaps = work_gaps(periods, until=date(2024, 6, 1))
    assert [(g.start, g.end, g.months, g.open_ended) for g in gaps] == [
        (date(2015, 6, 30), date(2016, 3, 1), 8, False)
    ]
    # nothing on record for 10 months before the decision is a gap as well
    trailing = work_gaps(periods, until=date(2024, 12, 1))[-1]
    assert (trailing.start, trailing.months, trailing.open_ended) == (date(2024, 1, 31), 10, True)
    # an open-ended job runs to the decision date
    assert work_gaps([(date(2020, 1, 1), None)], until=date(2027, 1, 1)) == []


def make_file(db: Database) -> int:
    with db.session() as s:
        boss = User(username="verifier1", password_hash="x", role="coordinator")
        p = Provider(
            name="Tomás Brennan",
            npi="1234567893",
            staff_category="physician",
            department="Cardiology",
            states=["OH"],
        )
        s.add_all([boss, p])
        s.flush()

        def doc(name: str, doc_type: str) -> int:
            d = Document(
                sha256=name.encode().hex().ljust(64, "0")[:64],
                filename=name,
                doc_type=doc_type,
                status=DocumentStatus.APPROVED,
                page_count=1,
                provider_id=p.id,
            )
            s.add(d)
            s.flush()
            s.add(DocumentArrival(document_id=d.id, filename=name))
            return d.id

        def cred(
            doc_type: str, evidence: str | None, verified: datetime = RECENT, **kw: object
        ) -> None:
            s.add(
                Credential(
                    provider_id=p.id,
                    doc_type=doc_type,
                    document_id=doc(evidence, doc_type) if evidence else None,
                    verified_by_id=boss.id,
                    verified_at=verified,
                    **kw,
                )
            )

        cred(
            "medical_license",
            "lic-2024.pdf",
            credential_number="35.1",
            jurisdiction="OH",
            expiration_date=date(2025, 1, 1),
            verified=OLD,
        )  # renewed: history, no flag
        cred(
            "medical_license",
            "lic-2026.pdf",
            credential_number="35.1",
            jurisdiction="OH",
            expiration_date=date(2028, 1, 1),
        )
        cred(
            "medical_license",
            "lic-pa.pdf",
            credential_number="MD99",
            jurisdiction="PA",
            expiration_date=date(2026, 10, 31),
        )  # expired
        cred(
            "dea_registration",
            "dea.pdf",
            credential_number="AB1234563",
            jurisdiction="OH",
            expiration_date=date(2027, 1, 1),  # before the decision
            problems="DEA check digit does not match; second letter is not the family initial",
        )
        cred(
            "board_certification",
            "abim.pdf",
            issuer="ABIM",
            credential_title="Cardiology",
            verified=OLD,
        )  # verified 259 days before the decision
        cred(
            "employment_verification",
            "job1.pdf",
            issuer="Lakeside Clinic",
            credential_title="Cardiologist",
            start_date=date(2015, 7, 1),
            end_date=date(2019, 6, 30),
        )
        cred(
            "employment_verification",
            "job2.pdf",
            issuer="Mercy Heart Center",
            credential_title="Cardiologist",
            start_date=date(2020, 4, 1),
        )
        cred(
            "reference_letter",
            "ref1.pdf",
            referee_name="Dr Ines Vogt",
            issuer="Mercy Heart Center",
            issue_date=date(2026, 10, 2),
        )
        cred(
            "life_support_card",
            None,
            issuer="American Heart Association",
            credential_title="ACLS",
            expiration_date=date(2028, 2, 1),
        )
        s.flush()
        answered = request_letter(
            s,
            provider_id=p.id,
            kind="reference",
            actor="c",
            recipient_name="Dr Paul Ortiz",
            organisation="St Jude",
            requested_on=date(2026, 10, 1),
        )
        letter = doc("ortiz.pdf", "reference_letter")
        mark_received(s, answered.id, document_id=letter, actor="c", received_on=date(2026, 10, 20))
        request_letter(
            s,
            provider_id=p.id,
            kind="employment",
            actor="c",
            recipient_name="HR",
            organisation="Old Town Hospital",
            requested_on=date(2026, 10, 1),
            due_on=date(2026, 11, 1),
        )
        return p.id


def test_packet_flags_what_the_committee_must_weigh(db: Database) -> None:
    provider_id = make_file(db)
    with db.session() as s:
        packet = build_packet(s, provider_id, DECISION, today=TODAY)

    assert len(packet.credentials) == 9
    kinds = sorted((f.kind, f.message) for f in packet.flags)
    assert ("expired", "Medical licence MD99 expired on 2026-10-31") in kinds
    assert (
        "expires_before_decision",
        "DEA registration AB1234563 expires on 2027-01-01, before the decision date",
    ) in kinds
    assert [m for k, m in kinds if k == "validator"] == [
        "DEA registration AB1234563: DEA check digit does not match",
        "DEA registration AB1234563: second letter is not the family initial",
    ]
    assert [m for k, m in kinds if k == "verification_age"] == [
        "Board certification Cardiology verified 259 days before the decision date (limit 120)"
    ]
    assert [m for k, m in kinds if k == "work_gap"] == [
        "Gap in work history: 2019-06-30 to 2020-04-01 (9 months)"
    ]
    assert [m for k, m in kinds if k == "evidence"] == [
        "Life-support card ACLS has no evidence document on file"
    ]
    assert [m for k, m in kinds if k == "request_overdue"] == [
        "Employment request 2 overdue by 25 days"
    ]
    # the renewed licence's old record is history, not a flag
    old = next(
        c for c in packet.credentials if c.evidence and c.evidence[0].filename == "lic-2024.pdf"
    )
    assert old.superseded_by is not None and old.flags == []
    lic = next(c for c in packet.credentials if c.number == "35.1" and c.superseded_by is None)
    assert lic.verified_by == "verifier1" and lic.evidence[0].arrivals == 1
    assert [(r.referee, r.source) for r in packet.references] == [
        ("Dr Ines Vogt", "letter"),
        ("Dr Paul Ortiz", "request"),
    ]

    pdf = render_packet_pdf(packet)
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
        assert len(doc.pages) >= 2
    flat = " ".join(text.split())
    for expected in (
        "Tomás Brennan",
        "Decision date: 2027-01-15",
        "expired on 2026-10-31",
        "DEA check digit does not match",
        "2019-06-30 to 2020-04-01 (9 months)",
        "Dr Ines Vogt",
        "Dr Paul Ortiz",
        "lic-2026.pdf",
        "verifier1",
        "Old Town Hospital",
    ):
        assert expected in flat, expected
