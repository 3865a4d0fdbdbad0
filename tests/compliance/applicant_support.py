"""A candidate's file for the applicant tests: a physician of Internal Medicine practising
in California and New York, with every document the requirement set asks for."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from models import Credential, Provider

TODAY = date(2026, 11, 20)


def add_applicant(session: Session, *, email: str | None = "ana.ruiz@example.org") -> int:
    p = Provider(
        name="Ana Ruiz",
        email=email,
        staff_category="physician",
        department="Internal Medicine",  # ACLS is not asked of this department
        states=["CA", "NY"],
        status="applicant",
        active=False,
    )
    session.add(p)
    session.flush()
    return p.id


# (key, doc_type, fields) for every item of the physician set, plus references and jobs
DOCUMENTS: list[tuple[str, str, dict[str, Any]]] = [
    ("license_ca", "medical_license", {"jurisdiction": "CA", "credential_number": "A12345",
                                       "expiration_date": date(2028, 6, 30)}),
    ("license_ny", "medical_license", {"jurisdiction": "NY", "credential_number": "301234",
                                       "expiration_date": date(2028, 3, 31)}),
    ("dea_ca", "dea_registration", {"jurisdiction": "CA", "credential_number": "BR1234563",
                                    "expiration_date": date(2028, 1, 31)}),
    ("dea_ny", "dea_registration", {"jurisdiction": "NY", "credential_number": "BR7654321",
                                    "expiration_date": date(2028, 1, 31)}),
    ("board", "board_certification", {"issuer": "American Board of Internal Medicine",
                                      "credential_title": "Internal Medicine",
                                      "expiration_date": date(2030, 12, 31)}),
    ("degree", "diploma", {"issuer": "Stanford University School of Medicine",
                           "credential_title": "Doctor of Medicine",
                           "issue_date": date(2012, 6, 10)}),
    ("malpractice", "malpractice_insurance", {"issuer": "NORCAL Insurance Company",
                                              "issue_date": date(2026, 7, 1),
                                              "expiration_date": date(2027, 7, 1)}),
    ("bls", "life_support_card", {"issuer": "American Heart Association",
                                  "credential_title": "BLS Provider",
                                  "issue_date": date(2026, 2, 1)}),
    ("ref1", "reference_letter", {"referee_name": "Dr. Lee", "issue_date": date(2026, 9, 1)}),
    ("ref2", "reference_letter", {"referee_name": "Dr. Shah", "issue_date": date(2026, 9, 3)}),
    ("job1", "employment_verification", {"issuer": "Kaiser Permanente",
                                         "start_date": date(2015, 7, 1),
                                         "end_date": date(2020, 6, 30)}),
    ("job2", "employment_verification", {"issuer": "Mount Sinai Hospital",
                                         "start_date": date(2020, 8, 1), "end_date": None}),
]  # fmt: skip


def add_documents(
    session: Session, provider_id: int, only: set[str] | None = None
) -> dict[str, int]:
    """The credentials (as approved documents would have made them), by key."""
    out: dict[str, int] = {}
    for key, doc_type, fields in DOCUMENTS:
        if only is not None and key not in only:
            continue
        c = Credential(provider_id=provider_id, doc_type=doc_type, **fields)
        session.add(c)
        session.flush()
        out[key] = c.id
    return out
