"""What a reviewer's decision does to the database: approve, reject, "needs information".

Approving checks the confirmed values (the review package may not import `extract`, so the
few checks a person's input needs are here), writes the Credential with its evidence
document and verification facts, links the document to its Provider (chosen or created
from the confirmed person_name and NPI), and records one audit event per field with the
machine's value and the person's. All in the caller's transaction: the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Credential, Document, DocumentField, DocumentStatus, Provider, User, record_event
from models.base import utcnow
from models.compliance_status import mark_stale
from models.credential import CREDENTIAL_FIELDS
from models.document_state import move
from models.spec import (
    DATE_FIELDS,
    FIELDS_BY_TYPE,
    USPS_CODES,
    fields_for,
)
from review.claims import CLAIMING_ROLES, NEEDS_INFO_PREFIX

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DEA = re.compile(r"^[A-Z][A-Z9]\d{7}$")
_SCHEDULES = re.compile(r"^[1-5]N?(,[1-5]N?)*$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


# Learns from an approved document (session, document id, doc_type, confirmed values, user);
# handed in by `credflow` (this package does not import `extract`), None when learning is off.
Learner = Callable[[Session, int, str, dict[str, str], User], None]


class ReviewError(Exception):
    """A decision that cannot be carried out. `status_code` says which kind (404 unknown,
    409 not awaiting review / claimed by someone else, 422 invalid values); `errors` maps a
    field name to its message for the form; 403 when the user's role may not decide."""

    status_code = 400

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(ReviewError):
    status_code = 404


class Forbidden(ReviewError):
    status_code = 403


class Conflict(ReviewError):
    status_code = 409


class Invalid(ReviewError):
    status_code = 422


@dataclass
class ApproveResult:
    provider_id: int
    credential_ids: list[int] = field(default_factory=list)
    provider_created: bool = False


# ---- checks on a person's values ------------------------------------------------------


def npi_problem(value: str) -> str | None:
    """None when valid: 10 digits, Luhn check over "80840" + the first nine digits."""
    if not re.fullmatch(r"\d{10}", value):
        return "NPI must be 10 digits"
    digits = [int(c) for c in "80840" + value[:9]]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    if (10 - total % 10) % 10 != int(value[9]):
        return "NPI check digit does not match"
    return None


def dea_problem(value: str) -> str | None:
    """None when valid: two letters, seven digits, (d1+d3+d5) + 2*(d2+d4+d6) ends in d7."""
    if not _DEA.fullmatch(value):
        return "DEA number must be two letters and seven digits"
    d = [int(c) for c in value[2:]]
    if (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 != d[6]:
        return "DEA check digit does not match"
    return None


def _family_initial(name: str | None) -> str | None:
    parts = [
        p
        for p in (name or "").replace(",", " ").split()
        if p.rstrip(".").upper() not in {"JR", "SR", "II", "III", "IV", "V"}
    ]
    return parts[-1][0].upper() if parts else None


def normalize(name: str, value: str) -> str:
    """The spec's normal form of a typed value (spaces, case); content is left as typed."""
    value = " ".join(value.split())
    if name == "credential_number":
        return value.replace(" ", "").upper()
    if name == "jurisdiction":
        return value.upper()
    if name == "npi":
        return value.replace(" ", "").replace("-", "")
    if name == "schedules":
        return value.replace(" ", "").upper()
    return value


def check_fields(doc_type: str, values: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(errors by field, warnings) for normalized values of a doc_type.

    Errors stop an approval (a value that cannot be right); warnings are kept on the
    credential as its standing problems (e.g. it has lapsed)."""
    errors: dict[str, str] = {}
    warnings: list[str] = []
    dates: dict[str, date] = {}
    for name, value in values.items():
        if name in DATE_FIELDS:
            try:
                if not _ISO_DATE.fullmatch(value):
                    raise ValueError
                dates[name] = date.fromisoformat(value)
            except ValueError:
                errors[name] = "Date must be YYYY-MM-DD"
        elif name == "jurisdiction" and value not in USPS_CODES:
            errors[name] = "Jurisdiction must be a US state or territory code (e.g. OH)"
        elif name == "npi" and (problem := npi_problem(value)):
            errors[name] = problem
        elif name == "credential_number" and doc_type == "dea_registration":
            if problem := dea_problem(value):
                errors[name] = problem
            else:
                initial = _family_initial(values.get("person_name"))
                if initial and value[1] != "9" and value[1] != initial:
                    warnings.append("DEA second letter is not the family name's initial")
        elif name == "schedules" and not _SCHEDULES.fullmatch(value):
            errors[name] = 'Schedules are numbers 1-5, optionally with N, e.g. "2,2N,3,4,5"'
        elif name == "credit_hours" and not _NUMBER.fullmatch(value):
            errors[name] = 'Credit hours are a number, e.g. "12.5"'
    issue, expiry = dates.get("issue_date"), dates.get("expiration_date")
    if issue and expiry and expiry <= issue:
        errors.setdefault("expiration_date", "Expiration date must be after the issue date")
    start, end = dates.get("start_date"), dates.get("end_date")
    if start and end and end < start:
        errors.setdefault("end_date", "End date must not be before the start date")
    if expiry and expiry < utcnow().date():
        warnings.append("Expired: the expiration date has passed")
    return errors, warnings


# ---- decisions ------------------------------------------------------------------------


def _awaiting(session: Session, document_id: int, user: User) -> Document:
    if user.role not in CLAIMING_ROLES:
        raise Forbidden("Your role may not decide on documents.")
    doc = session.get(Document, document_id)
    if doc is None or doc.status == DocumentStatus.DELETED:
        raise NotFound(f"No document {document_id}.")
    if doc.status != DocumentStatus.AWAITING_REVIEW:
        raise Conflict(f"Document {document_id} is {doc.status}, not awaiting review.")
    now = utcnow()
    if (
        doc.claimed_by_id not in (None, user.id)
        and doc.claim_expires_at is not None
        and doc.claim_expires_at >= now
    ):
        holder = session.get(User, doc.claimed_by_id)
        who = holder.username if holder else "someone else"
        raise Conflict(f"Document {document_id} is being reviewed by {who}.")
    return doc


def _take(session: Session, doc: Document, user: User, new_status: DocumentStatus) -> None:
    """Move the document out of review in one conditional UPDATE, so two people deciding
    at the same moment cannot both succeed."""
    now = utcnow()
    if not move(
        session,
        doc.id,
        new_status,
        expect=DocumentStatus.AWAITING_REVIEW,
        where=[
            or_(
                Document.claimed_by_id.is_(None),
                Document.claimed_by_id == user.id,
                Document.claim_expires_at < now,
            )
        ],
        reviewed_by_id=user.id,
        reviewed_at=now,
        claimed_by_id=None,
        claim_expires_at=None,
    ):
        raise Conflict(f"Document {doc.id} was just decided or claimed by someone else.")
    session.expire(doc)


def _clean(values: dict[str, Any]) -> dict[str, str]:
    """Drop fields left empty ("not on document"); values as normalized text."""
    cleaned: dict[str, str] = {}
    for name, raw in values.items():
        if raw is None:
            continue
        text = normalize(name, str(raw))
        if text:
            cleaned[name] = text
    return cleaned


def approve_document(
    session: Session,
    document_id: int,
    user: User,
    doc_type: str,
    fields: dict[str, Any],
    provider_id: int | None,
    learner: Learner | None = None,
) -> ApproveResult:
    """Confirm a document: Credential rows, provider link, audit events; then `learner`
    learns its layout from the confirmed values. Raises NotFound,
    Conflict (not awaiting review / claimed by someone else) or Invalid (with per-field
    errors); nothing is written then."""
    if doc_type not in FIELDS_BY_TYPE:
        raise Invalid(f"Unknown document type {doc_type!r}.", {"doc_type": "Unknown document type"})
    doc = _awaiting(session, document_id, user)
    allowed = set(fields_for(doc_type))
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise Invalid(
            f"{', '.join(unknown)} not part of a {doc_type}.",
            {name: f"Not a field of {doc_type}" for name in unknown},
        )
    values = _clean(fields)
    errors, warnings = check_fields(doc_type, values)

    provider: Provider | None = None
    created = False
    if provider_id is not None:
        provider = session.get(Provider, provider_id)
        if provider is None:
            errors["provider_id"] = f"No provider {provider_id}"
        elif provider.npi and values.get("npi") and provider.npi != values["npi"]:
            errors["npi"] = "NPI differs from the chosen provider's NPI"
    elif not values.get("person_name"):
        errors["person_name"] = "A name is needed to create the provider"
    if errors:
        first = next(iter(errors.items()))
        raise Invalid(f"{first[0]}: {first[1]}", errors)

    _take(session, doc, user, DocumentStatus.APPROVED)
    if provider is None:
        provider = Provider(name=values["person_name"], npi=values.get("npi"))
        session.add(provider)
        session.flush()
        created = True
        record_event(
            session,
            actor=user.username,
            action="provider.created",
            entity_type="provider",
            entity_id=provider.id,
            note=f"from document {doc.id}",
            detail={"name": provider.name, "npi": provider.npi},
            provider_id=provider.id,
            document_id=doc.id,
        )
    elif values.get("npi") and not provider.npi:
        provider.npi = values["npi"]
        record_event(
            session,
            actor=user.username,
            action="provider.npi_added",
            entity_type="provider",
            entity_id=provider.id,
            note=f"from document {doc.id}",
            detail={"npi": provider.npi},
            provider_id=provider.id,
            document_id=doc.id,
        )

    credential_ids = _add_credential(session, doc, doc_type, values, warnings, user, provider)

    mark_stale(session, [provider.id])  # the compliance judgement counts the new credential

    _record_marks(session, doc, doc_type, values, user, provider)

    doc.doc_type = doc_type
    doc.provider_id = provider.id
    if needs_information(doc):
        doc.review_note = None
    record_event(
        session,
        actor=user.username,
        action="document.approved",
        entity_type="document",
        entity_id=doc.id,
        note=f"provider {provider.id}; credentials {', '.join(map(str, credential_ids)) or 'none'}",
    )
    session.flush()
    if learner is not None:
        learner(session, doc.id, doc_type, values, user)
    return ApproveResult(
        provider_id=provider.id, credential_ids=credential_ids, provider_created=created
    )


def _add_credential(
    session: Session,
    doc: Document,
    doc_type: str,
    values: dict[str, Any],
    warnings: list[str],
    user: User,
    provider: Provider,
) -> list[int]:
    """The Credential row a confirmed document evidences (none for `other`); audited."""
    credential_ids: list[int] = []
    if doc_type == "other":
        return credential_ids
    credential = Credential(
        provider_id=provider.id,
        document_id=doc.id,
        doc_type=doc_type,
        verified_by_id=user.id,
        verified_at=utcnow(),
        problems="; ".join(warnings) or None,
    )
    for name in CREDENTIAL_FIELDS:
        if name in values:
            value: Any = values[name]
            setattr(credential, name, date.fromisoformat(value) if name in DATE_FIELDS else value)
    session.add(credential)
    session.flush()
    credential_ids.append(credential.id)
    record_event(
        session,
        actor=user.username,
        action="credential.created",
        entity_type="credential",
        entity_id=credential.id,
        note=f"{doc_type} from document {doc.id}",
        provider_id=provider.id,
        document_id=doc.id,
    )
    return credential_ids


def _record_marks(
    session: Session,
    doc: Document,
    doc_type: str,
    values: dict[str, Any],
    user: User,
    provider: Provider,
) -> None:
    """The machine's proposals against the person's decisions, field by field (what the
    accuracy reports and learning read)."""
    proposed = {
        f.name: f
        for f in session.scalars(select(DocumentField).where(DocumentField.document_id == doc.id))
    }
    machine_type = doc.doc_type
    if machine_type != doc_type:
        record_event(
            session,
            actor=user.username,
            action="doc_type.corrected",
            entity_type="document",
            entity_id=doc.id,
            note=f"{machine_type} -> {doc_type}",
        )
    for name in fields_for(doc_type):
        proposal = proposed.get(name)
        machine = proposal.value if proposal is not None else None
        person = values.get(name)
        if machine is None and person is None and proposal is None:
            continue
        same = person is not None and machine is not None and normalize(name, machine) == person
        record_event(
            session,
            actor=user.username,
            action="field.confirmed" if same else "field.corrected",
            entity_type="document",
            entity_id=doc.id,
            note=name,
            detail={
                "field": name,
                "machine": machine,
                "person": person,
                "confidence": proposal.confidence if proposal is not None else None,
            },
            provider_id=provider.id,
            document_id=doc.id,
        )


def reject_document(session: Session, document_id: int, user: User, reason: str) -> None:
    """Refuse a document (not a credential, unreadable, wrong person...) with a reason."""
    reason = " ".join(reason.split())
    if not reason:
        raise Invalid("A reason is needed to reject a document.", {"reason": "Give a reason"})
    doc = _awaiting(session, document_id, user)
    _take(session, doc, user, DocumentStatus.REJECTED)
    doc.review_note = reason[:2000]
    record_event(
        session,
        actor=user.username,
        action="document.rejected",
        entity_type="document",
        entity_id=document_id,
        note=reason[:2000],
    )


def mark_needs_information(session: Session, document_id: int, user: User, note: str) -> None:
    """Keep the document awaiting review but put it behind the rest, with what is missing;
    the claim is given back so anyone can pick it up once the information arrives."""
    note = " ".join(note.split())
    if not note:
        raise Invalid("Say what information is needed.", {"note": "Say what is needed"})
    doc = _awaiting(session, document_id, user)
    doc.review_note = (NEEDS_INFO_PREFIX + note)[:2000]
    doc.claimed_by_id = None
    doc.claim_expires_at = None
    record_event(
        session,
        actor=user.username,
        action="document.needs_information",
        entity_type="document",
        entity_id=document_id,
        note=note[:2000],
    )


def needs_information(doc: Document) -> str | None:
    """What a document marked "needs information" is waiting for, else None."""
    if doc.review_note and doc.review_note.startswith(NEEDS_INFO_PREFIX):
        return doc.review_note[len(NEEDS_INFO_PREFIX) :]
    return None
