"""Reference and employment verification requests: who was asked, when it is due, and the
letter's document once it arrived. `overdue_requests` feeds the reminder pass."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance import errors
from models import Credential, Document, DocumentStatus, Provider, record_event
from models.records import ReferenceRequest, RequestKind

DEFAULT_DAYS_TO_ANSWER = 14
LETTER_TYPES = {
    RequestKind.REFERENCE: "reference_letter",
    RequestKind.EMPLOYMENT: "employment_verification",
}


class RequestNotFound(errors.NotFound):
    pass


@dataclass(frozen=True)
class RequestView:
    id: int
    provider_id: int
    provider_name: str
    provider_email: str | None
    kind: str
    recipient_name: str
    recipient_email: str | None
    organisation: str | None
    requested_on: date
    requested_by: str
    due_on: date
    received_on: date | None
    document_id: int | None
    # "received", "overdue" or "open"
    status: str
    days_overdue: int


def request_letter(
    session: Session,
    *,
    provider_id: int,
    kind: str,
    recipient_name: str,
    actor: str,
    recipient_email: str | None = None,
    organisation: str | None = None,
    due_on: date | None = None,
    requested_on: date | None = None,
    note: str | None = None,
) -> ReferenceRequest:
    """Record that a reference or employment letter was asked for."""
    kind = RequestKind(kind)
    recipient_name = (recipient_name or "").strip()
    if not recipient_name:
        raise errors.Invalid("a request needs the name of the person asked")
    if session.get(Provider, provider_id) is None:
        raise errors.NotFound(f"provider {provider_id} not found")
    requested_on = requested_on or date.today()
    due_on = due_on or requested_on + timedelta(days=DEFAULT_DAYS_TO_ANSWER)
    if due_on < requested_on:
        raise errors.Invalid("the due date is before the request date")
    req = ReferenceRequest(
        provider_id=provider_id,
        kind=kind,
        recipient_name=recipient_name,
        recipient_email=(recipient_email or "").strip() or None,
        organisation=(organisation or "").strip() or None,
        requested_on=requested_on,
        requested_by=actor,
        due_on=due_on,
        note=(note or "").strip() or None,
    )
    session.add(req)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="reference.requested",
        entity_type="reference_request",
        entity_id=req.id,
        note=f"provider {provider_id}; {kind}; due {due_on.isoformat()}",
        detail={"recipient_name": req.recipient_name, "recipient_email": req.recipient_email},
        provider_id=provider_id,
    )
    return req


def mark_received(
    session: Session,
    request_id: int,
    *,
    document_id: int,
    actor: str,
    received_on: date | None = None,
) -> ReferenceRequest:
    """Link the letter that answered a request."""
    req = session.get(ReferenceRequest, request_id)
    if req is None:
        raise RequestNotFound(f"request {request_id} not found")
    doc = session.get(Document, document_id)
    if doc is None or doc.status == DocumentStatus.DELETED:
        raise errors.NotFound(f"document {document_id} not found")
    req.document_id = document_id
    req.received_on = received_on or date.today()
    record_event(
        session,
        actor=actor,
        action="reference.received",
        entity_type="reference_request",
        entity_id=req.id,
        note=f"provider {req.provider_id}; document {document_id}",
    )
    return req


def list_requests(
    session: Session,
    *,
    today: date | None = None,
    provider_id: int | None = None,
    open_only: bool = False,
) -> list[RequestView]:
    stmt = _select()
    if provider_id is not None:
        stmt = stmt.where(ReferenceRequest.provider_id == provider_id)
    if open_only:
        stmt = stmt.where(ReferenceRequest.received_on.is_(None))
    stmt = stmt.order_by(ReferenceRequest.due_on, ReferenceRequest.id)
    day = today or date.today()
    return [_view(r, name, email, day) for r, name, email in session.execute(stmt)]


def overdue_requests(session: Session, today: date) -> list[RequestView]:
    """Open requests whose due date has passed (oldest first): what reminders chase.
    `recipient_email` is whom to remind; `provider_email` the clinician, who may nudge too."""
    stmt = (
        _select()
        .where(ReferenceRequest.received_on.is_(None), ReferenceRequest.due_on < today)
        .order_by(ReferenceRequest.due_on, ReferenceRequest.id)
    )
    return [_view(r, name, email, today) for r, name, email in session.execute(stmt)]


def suggest_request(session: Session, document_id: int) -> RequestView | None:
    """The open request a newly approved letter most likely answers: same provider, the
    matching kind, and the referee or employer named like the person or place asked."""
    creds = list(session.scalars(select(Credential).where(Credential.document_id == document_id)))
    best: tuple[float, RequestView] | None = None
    for cred in creds:
        kinds = [k for k, t in LETTER_TYPES.items() if t == cred.doc_type]
        if not kinds:
            continue
        for view in list_requests(session, provider_id=cred.provider_id, open_only=True):
            if view.kind not in kinds:
                continue
            score = max(
                _similar(cred.referee_name, view.recipient_name),
                _similar(cred.issuer, view.organisation),
            )
            if score >= 80 and (best is None or score > best[0]):
                best = (score, view)
    return best[1] if best else None


def _similar(a: str | None, b: str | None) -> float:
    if not a or not b:
        return 0.0
    return float(fuzz.token_set_ratio(a.lower(), b.lower()))


def _select() -> Any:  # Select of (request, provider name, provider email)
    return select(ReferenceRequest, Provider.name, Provider.email).join(
        Provider, Provider.id == ReferenceRequest.provider_id
    )


def _view(r: ReferenceRequest, name: str, email: str | None, today: date) -> RequestView:
    if r.received_on is not None:
        status, late = "received", 0
    elif r.due_on < today:
        status, late = "overdue", (today - r.due_on).days
    else:
        status, late = "open", 0
    return RequestView(
        id=r.id,
        provider_id=r.provider_id,
        provider_name=name,
        provider_email=email,
        kind=r.kind,
        recipient_name=r.recipient_name,
        recipient_email=r.recipient_email,
        organisation=r.organisation,
        requested_on=r.requested_on,
        requested_by=r.requested_by,
        due_on=r.due_on,
        received_on=r.received_on,
        document_id=r.document_id,
        status=status,
        days_overdue=late,
    )


def requests_for(session: Session, provider_id: int | None, show: str) -> list[RequestView]:
    """`show`: all, open (not yet received) or overdue (open and past due)."""
    if show == "overdue":
        rows = overdue_requests(session, date.today())
        return [r for r in rows if provider_id is None or r.provider_id == provider_id]
    return list_requests(session, provider_id=provider_id, open_only=show == "open")


def request_view(session: Session, request_id: int) -> RequestView:
    """One request as the lists show it."""
    return next(r for r in list_requests(session) if r.id == request_id)
