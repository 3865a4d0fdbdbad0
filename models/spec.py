"""The vocabulary of ../shared/spec/fields.md that the database side shares: the fields,
the fields each doc_type carries, and the USPS codes a jurisdiction may take.

`extract` keeps its own copy in `extract.types` (it imports nothing of ours); a test checks
that the two agree.
"""

from __future__ import annotations

FIELD_NAMES: tuple[str, ...] = (
    "person_name",
    "credential_number",
    "issuer",
    "jurisdiction",
    "credential_title",
    "issue_date",
    "expiration_date",
    "start_date",
    "end_date",
    "npi",
    "schedules",
    "credit_hours",
    "referee_name",
)

# the fields of each doc_type besides person_name (and npi wherever printed)
FIELDS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "medical_license": (
        "credential_number",
        "issuer",
        "jurisdiction",
        "credential_title",
        "issue_date",
        "expiration_date",
    ),
    "nursing_license": (
        "credential_number",
        "issuer",
        "jurisdiction",
        "credential_title",
        "issue_date",
        "expiration_date",
    ),
    "dea_registration": ("credential_number", "jurisdiction", "expiration_date", "schedules"),
    "board_certification": (
        "issuer",
        "credential_title",
        "credential_number",
        "issue_date",
        "expiration_date",
    ),
    "diploma": ("issuer", "credential_title", "issue_date"),
    "training_certificate": ("issuer", "credential_title", "issue_date", "start_date"),
    "life_support_card": ("issuer", "credential_title", "issue_date", "expiration_date"),
    "cme_certificate": ("issuer", "credential_title", "issue_date", "credit_hours"),
    "malpractice_insurance": ("issuer", "credential_number", "issue_date", "expiration_date"),
    "reference_letter": ("issuer", "referee_name", "issue_date"),
    "employment_verification": (
        "issuer",
        "credential_title",
        "start_date",
        "end_date",
        "issue_date",
    ),
    "other": (),
}
DOC_TYPES: tuple[str, ...] = tuple(FIELDS_BY_TYPE)

# how people read the doc_types on pages and in reports
DOC_TYPE_LABELS: dict[str, str] = {
    "medical_license": "Medical licence",
    "nursing_license": "Nursing licence",
    "dea_registration": "DEA registration",
    "board_certification": "Board certification",
    "diploma": "Diploma",
    "training_certificate": "Training certificate",
    "life_support_card": "Life-support card",
    "cme_certificate": "CME certificate",
    "malpractice_insurance": "Malpractice insurance",
    "reference_letter": "Reference letter",
    "employment_verification": "Employment verification",
    "other": "Other",
}
DATE_FIELDS = frozenset({"issue_date", "expiration_date", "start_date", "end_date"})

_USPS = """
AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV
NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI
"""
USPS_CODES = frozenset(_USPS.split())


def fields_for(doc_type: str | None) -> tuple[str, ...]:
    """The fields a doc_type carries, in the spec's order (person_name first, npi late)."""
    own = set(FIELDS_BY_TYPE.get(doc_type or "other", ())) | {"person_name", "npi"}
    return tuple(f for f in FIELD_NAMES if f in own)
