"""Everything a clinician's one-page file shows, gathered in a few queries and returned as
plain data (`ClinicianFile`): identity and details, compliance item by item with what to do
next, credentials with their evidence, documents, reference and employment requests,
committee decisions, notifications sent, retention holds and the removal state.

No web code: the page (review/routes/clinicians.py) only renders what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from compliance import removal
from compliance.references import LETTER_TYPES, RequestView, list_requests, suggest_request
from compliance.requirements import Requirements
from compliance.status import Item, ProviderStatus, provider_status
from models import Credential, Document, DocumentStatus, Provider
from models.compliance import CommitteeDecision, OutboxMessage

NOTIFICATIONS_SHOWN = 50

# what the office does next about an item, by the kind `compliance.status` gives it
NEXT_STEPS: dict[str, str] = {
    "missing": "Ask the clinician for it, then review the document when it arrives.",
    "expired": "Ask for the renewed credential; until it is reviewed the item stays lapsed.",
    "expiring": "Ask for the renewal before it expires.",
    "problems": "Verify it at the primary source and correct the credential.",
    "stale_verification": "Verify it again at the primary source before the committee date.",
    "cme_short": "Ask for CME certificates that make up the hours.",
    "no_decision": "Record the committee's decision.",
    "recred_overdue": "Put the file to the committee for recredentialing now.",
    "recred_due": "Prepare the committee packet for recredentialing.",
    "no_rules": "Choose a staff category that has a requirement set.",
}


class ClinicianNotFound(LookupError):
    """No clinician with that id (never existed, or removed on request)."""


@dataclass(frozen=True)
class Details:
    id: int
    name: str
    npi: str | None
    email: str | None
    staff_category: str | None
    department: str | None
    states: tuple[str, ...]
    active: bool
    other_names: tuple[str, ...]
    # for exclusion screening only: shown in the staff's form, never in summaries
    date_of_birth: date | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StatusItem:
    label: str
    level: str  # compliant, at_risk, non_compliant
    kind: str
    reason: str
    next_step: str
    credential_id: int | None
    due: date | None


@dataclass(frozen=True)
class Compliance:
    on: date
    version: str
    standing: str
    recredential_due: date | None
    items: tuple[StatusItem, ...]


@dataclass(frozen=True)
class CredentialView:
    id: int
    doc_type: str
    title: str | None
    number: str | None
    issuer: str | None
    jurisdiction: str | None
    issue_date: date | None
    expiration_date: date | None
    verified_at: datetime
    problems: str | None
    document_id: int | None
    document_filename: str | None
    # the first page's image (GET /documents/{id}/pages/1.png), when the document has pages
    page_image: str | None


@dataclass(frozen=True)
class DocumentView:
    id: int
    filename: str
    doc_type: str | None
    status: str
    page_count: int | None
    created_at: datetime


@dataclass(frozen=True)
class DecisionView:
    decided_on: date
    decision: str
    note: str | None


@dataclass(frozen=True)
class NotificationView:
    kind: str
    recipient: str
    subject: str
    status: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class RemovalState:
    """Whether a removal on request would be refused now, and what was removed already."""

    blocked_by: tuple[removal.HoldView, ...]
    removed_documents: int

    @property
    def blocked(self) -> bool:
        return bool(self.blocked_by)


@dataclass(frozen=True)
class ClinicianFile:
    details: Details
    compliance: Compliance | None
    credentials: tuple[CredentialView, ...]
    documents: tuple[DocumentView, ...]
    requests: tuple[RequestView, ...]
    # open request id -> the document that most likely answers it
    suggested: dict[int, int]
    decisions: tuple[DecisionView, ...]
    notifications: tuple[NotificationView, ...]
    notifications_total: int
    holds: tuple[removal.HoldView, ...]
    removal: RemovalState
    categories: tuple[str, ...]


def _details(p: Provider) -> Details:
    return Details(
        id=p.id, name=p.name, npi=p.npi, email=p.email, staff_category=p.staff_category,
        department=p.department, states=tuple(str(s) for s in (p.states or ())),
        active=p.active, other_names=tuple(str(n) for n in (p.other_names or ())),
        date_of_birth=p.date_of_birth,
        created_at=p.created_at, updated_at=p.updated_at,
    )  # fmt: skip


def _item(i: Item) -> StatusItem:
    step = "" if i.kind == "ok" else NEXT_STEPS.get(i.kind, "Look into it.")
    return StatusItem(i.label, i.level.label, i.kind, i.reason, step, i.credential_id, i.due)


def compliance_of(st: ProviderStatus | None) -> Compliance | None:
    """The status as the page shows it: worst items first, each with what to do next."""
    if st is None:
        return None
    items = sorted(st.items, key=lambda i: -int(i.level))
    return Compliance(
        st.on, st.version, st.status, st.recredential_due, tuple(_item(i) for i in items)
    )


def _credentials(session: Session, provider_id: int) -> tuple[CredentialView, ...]:
    rows = session.execute(
        select(Credential, Document.filename, Document.page_count)
        .outerjoin(Document, Document.id == Credential.document_id)
        .where(Credential.provider_id == provider_id)
        .order_by(Credential.expiration_date.is_(None), Credential.expiration_date, Credential.id)
    ).all()
    return tuple(_credential(c, filename, pages) for c, filename, pages in rows)


def _credential(c: Credential, filename: str | None, pages: int | None) -> CredentialView:
    image = None
    if c.document_id is not None and (pages or 0) > 0:
        image = f"/documents/{c.document_id}/pages/1.png"
    return CredentialView(
            id=c.id, doc_type=c.doc_type, title=c.credential_title, number=c.credential_number,
            issuer=c.issuer, jurisdiction=c.jurisdiction, issue_date=c.issue_date,
            expiration_date=c.expiration_date, verified_at=c.verified_at, problems=c.problems,
            document_id=c.document_id, document_filename=filename, page_image=image,
        )  # fmt: skip


def _documents(session: Session, provider_id: int) -> tuple[list[DocumentView], int]:
    rows = session.execute(
        select(
            Document.id, Document.filename, Document.doc_type, Document.status,
            Document.page_count, Document.created_at,
        ).where(Document.provider_id == provider_id).order_by(Document.created_at.desc())
    ).all()  # fmt: skip
    kept = [DocumentView(*r) for r in rows if r.status != DocumentStatus.DELETED]
    return kept, len(rows) - len(kept)


def _notifications(session: Session, provider_id: int) -> tuple[list[NotificationView], int]:
    where = OutboxMessage.provider_id == provider_id
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(where)) or 0
    rows = session.execute(
        select(
            OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.subject,
            OutboxMessage.status, OutboxMessage.created_at, OutboxMessage.sent_at,
        ).where(where).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(NOTIFICATIONS_SHOWN)
    ).all()  # fmt: skip
    return [NotificationView(*r) for r in rows], total


def clinician_file(
    session: Session, requirements: Requirements, provider_id: int, *, on: date
) -> ClinicianFile:
    """The whole file of one clinician as of `on`."""
    p = session.get(Provider, provider_id)
    if p is None:
        raise ClinicianNotFound(f"No clinician {provider_id}.")
    documents, removed = _documents(session, provider_id)
    doc_ids = {d.id for d in documents}
    holds = tuple(
        h
        for h in removal.list_holds(session, today=on)
        if h.provider_id == provider_id or h.document_id in doc_ids
    )
    suggested: dict[int, int] = {}
    for d in documents:
        if d.doc_type in LETTER_TYPES.values():
            match = suggest_request(session, d.id)
            if match is not None:
                suggested.setdefault(match.id, d.id)
    decisions = session.scalars(
        select(CommitteeDecision)
        .where(CommitteeDecision.provider_id == provider_id)
        .order_by(CommitteeDecision.decided_on.desc(), CommitteeDecision.id.desc())
    ).all()
    notes, notes_total = _notifications(session, provider_id)
    version = requirements.version_on(on)
    return ClinicianFile(
        details=_details(p),
        compliance=compliance_of(provider_status(session, requirements, provider_id, on)),
        credentials=_credentials(session, provider_id),
        documents=tuple(documents),
        requests=tuple(list_requests(session, provider_id=provider_id, today=on)),
        suggested=suggested,
        decisions=tuple(DecisionView(d.decided_on, d.decision, d.note) for d in decisions),
        notifications=tuple(notes),
        notifications_total=notes_total,
        holds=holds,
        removal=RemovalState(tuple(h for h in holds if h.active), removed),
        categories=tuple(version.categories),
    )
