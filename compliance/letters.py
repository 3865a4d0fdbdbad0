"""Letters about a file: the missing-items letter to the candidate (e-mail through the
outbox and a PDF to print, each sending recorded), the reference and employment-verification
request letters with their short form, and the coordinator's reminders (overdue requests,
candidates' verifications about to age out of the committee's window)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from compliance import errors
from compliance.checklist import Checklist
from compliance.mail import MailTemplates
from compliance.notify import MAIL_ADDRESS, Draft, queue
from compliance.references import RequestNotFound, RequestView, list_requests, overdue_requests
from compliance.summary import ReportPdf
from compliance.verification import reverification_due
from models import Provider, Role, User, record_event
from models.compliance import OutboxMessage
from models.verification import LetterSent


class LetterError(errors.Invalid):
    """A letter that cannot be sent (no address); `status` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class LetterResult:
    letter_id: int
    outbox_id: int | None
    recipient: str
    items: int


def _item_ctx(c: Checklist) -> list[dict[str, Any]]:
    return [{"label": i.label, "status": i.status, "agency": i.agency} for i in c.missing]


def send_missing_items_letter(
    session: Session,
    checklist: Checklist,
    *,
    actor: str,
    templates: MailTemplates | None = None,
    domain: str = "localhost",
) -> LetterResult:
    """Queue the letter to the candidate (sent again on each request) and record it; the
    caller commits. `credflow notify` (or the web app's background task) sends it."""
    provider = session.get(Provider, checklist.provider_id)
    assert provider is not None
    if not provider.email or not MAIL_ADDRESS.match(provider.email):
        raise LetterError("The candidate has no usable e-mail address: print the PDF instead.")
    count = session.scalar(
        select(func.count()).select_from(LetterSent).where(LetterSent.provider_id == provider.id)
    )
    key = f"letter:missing_items:{provider.id}:{(count or 0) + 1}"
    context = {"name": provider.name, "items": _item_ctx(checklist)}
    draft = Draft(key, "letter", provider.id, provider.email, "missing_items", context)
    n = len(checklist.missing)
    letter = _queue_letter(
        session, draft, templates, domain, kind="missing_items", actor=actor, items=n,
        entity=("provider", provider.id), what=f"missing-items letter: {n} items",
    )  # fmt: skip
    return LetterResult(letter.id, letter.outbox_id, provider.email, n)


def _queue_letter(
    session: Session,
    draft: Draft,
    templates: MailTemplates | None,
    domain: str,
    *,
    kind: str,
    actor: str,
    items: int,
    entity: tuple[str, int],
    what: str,
) -> LetterSent:
    """Queue the e-mail in the outbox and record the sending on the file (audited)."""
    queue(session, [draft], templates or MailTemplates(), domain=domain)
    outbox_id = session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == draft.dedupe_key)
    )
    assert draft.provider_id is not None
    letter = LetterSent(
        provider_id=draft.provider_id, kind=kind, actor=actor, outbox_id=outbox_id, items=items
    )
    session.add(letter)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="letter.sent",
        entity_type=entity[0],
        entity_id=entity[1],
        note=f"{what}, letter {letter.id}, outbox {outbox_id}",
    )
    return letter


@dataclass(frozen=True)
class LetterView:
    id: int
    kind: str
    sent_at: str
    actor: str
    items: int
    outbox_id: int | None


def letters_sent(session: Session, provider_id: int) -> list[LetterView]:
    rows = session.scalars(
        select(LetterSent)
        .where(LetterSent.provider_id == provider_id)
        .order_by(LetterSent.sent_at.desc(), LetterSent.id.desc())
    )
    return [
        LetterView(
            r.id, r.kind, r.sent_at.isoformat(timespec="minutes"), r.actor, r.items, r.outbox_id
        )
        for r in rows
    ]


def render_missing_items_pdf(checklist: Checklist, address: str | None = None) -> bytes:
    """The same letter, to print and post."""
    pdf = ReportPdf(
        f"Missing items: {checklist.name}",
        f"Credentialing office, {checklist.on.isoformat()}",
    )
    pdf.heading("Your credentialing file: items still needed")
    pdf.paragraph(
        f"{checklist.on.isoformat()}\n\n{checklist.name}" + (f"\n{address}" if address else "")
    )
    pdf.ln(3)
    pdf.paragraph(
        f"Dear {checklist.name},\n\nThank you for applying to join our medical staff. To "
        "complete your credentialing file we still need the items below. For each one the "
        "organisation that issues it is named: please contact it, or send us a copy if you "
        "already hold it."
    )
    pdf.section(f"Items still needed ({len(checklist.missing)})")
    pdf.grid(
        ["Item", "Status", "Organisation to contact"],
        [[i.label, i.status, i.agency] for i in checklist.missing],
        (62, 22, 94),
        empty="Nothing is missing.",
    )
    pdf.ln(4)
    pdf.paragraph(
        "We verify each document with its issuing source before your file goes to the "
        "credentialing committee.\n\nThank you,\nThe credentialing office"
    )
    return pdf.render()


# --- reference and employment-verification requests ----------------------------------


def _request(session: Session, request_id: int) -> RequestView:
    for r in list_requests(session):
        if r.id == request_id:
            return r
    raise RequestNotFound(f"request {request_id} not found")


def _request_ctx(r: RequestView) -> dict[str, Any]:
    return {
        "kind": r.kind,
        "candidate": r.provider_name,
        "recipient": r.recipient_name,
        "organisation": r.organisation,
        "due_on": r.due_on.isoformat(),
    }


def send_request_letter(
    session: Session,
    request_id: int,
    *,
    actor: str,
    templates: MailTemplates | None = None,
    domain: str = "localhost",
) -> LetterResult:
    """E-mail the request and its short form to the referee or past employer (recorded)."""
    r = _request(session, request_id)
    if not r.recipient_email or not MAIL_ADDRESS.match(r.recipient_email):
        raise LetterError("The request has no usable e-mail address: print the PDF instead.")
    count = session.scalar(
        select(func.count()).select_from(LetterSent).where(LetterSent.provider_id == r.provider_id)
    )
    key = f"letter:request:{r.id}:{(count or 0) + 1}"
    draft = Draft(
        key, "letter", r.provider_id, r.recipient_email, "request_letter", _request_ctx(r)
    )
    letter = _queue_letter(
        session, draft, templates, domain, kind=f"{r.kind}_request", actor=actor, items=1,
        entity=("reference_request", r.id), what=f"{r.kind} request letter",
    )  # fmt: skip
    return LetterResult(letter.id, letter.outbox_id, r.recipient_email, 1)


def render_request_pdf(session: Session, request_id: int) -> bytes:
    """The request letter with its form, to print (same words as the e-mail)."""
    r = _request(session, request_id)
    subject, body = MailTemplates().render("request_letter", _request_ctx(r))
    pdf = ReportPdf(subject, f"Credentialing office, request {r.id}")
    pdf.heading(subject, 13)
    pdf.paragraph(body)
    return pdf.render()


# --- the coordinator's reminders ----------------------------------------------------------


def coordinators(session: Session) -> list[str]:
    rows = session.scalars(
        select(User.email)
        .where(User.role == Role.COORDINATOR.value, User.disabled.is_(False))
        .where(User.email.is_not(None))
        .order_by(User.id)
    )
    return [e for e in rows if e and MAIL_ADDRESS.match(e)]


def coordinator_drafts(session: Session, today: date, *, max_age_days: int) -> list[Draft]:
    """Overdue requests and candidates' verifications about to age out, once a day, to
    every coordinator (the candidate hears nothing of these)."""
    over = [
        {
            "candidate": r.provider_name,
            "kind": r.kind,
            "recipient": r.recipient_name,
            "organisation": r.organisation,
            "due_on": r.due_on.isoformat(),
            "days_overdue": r.days_overdue,
        }
        for r in overdue_requests(session, today)
    ]
    due = [asdict(d) for d in reverification_due(session, today, max_age_days=max_age_days)]
    out: list[Draft] = []
    for to in coordinators(session):
        if over:
            out.append(
                Draft(
                    f"requests_overdue:{to}:{today}",
                    "coordinator",
                    None,
                    to,
                    "request_overdue",
                    {"requests": over},
                )
            )
        if due:
            out.append(
                Draft(
                    f"reverify:{to}:{today}",
                    "coordinator",
                    None,
                    to,
                    "reverification",
                    {"items": due, "max_age": max_age_days},
                )
            )
    return out
