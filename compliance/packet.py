"""The committee packet: everything the credentialing committee weighs before a decision —
every credential with its verification facts and evidence, the flags that need an answer
(expired, expiring before the decision, validator problems left standing, verification
too old, gaps of more than six months in work history) and the references received."""

from __future__ import annotations

import calendar
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from compliance.references import RequestView, list_requests
from compliance.requirements import Requirements
from compliance.summary import ProviderNotFound, ReportPdf
from compliance.verification import verified_days
from models import Credential, Document, DocumentArrival, Provider, User
from models.spec import DOC_TYPE_LABELS

GAP_MONTHS = 6
DEFAULT_MAX_VERIFICATION_AGE_DAYS = 120  # NCQA 2025: verified within 120 days of decision

# most pressing first
FLAG_ORDER = (
    "not_ready",
    "expired",
    "expires_before_decision",
    "validator",
    "verification_age",
    "not_verified",
    "work_gap",
    "work_history",
    "request_overdue",
    "evidence",
)


@dataclass(frozen=True)
class Evidence:
    document_id: int
    filename: str
    doc_type: str | None
    received_on: date
    pages: int | None
    arrivals: int


@dataclass(frozen=True)
class Flag:
    kind: str  # expired, expires_before_decision, validator, verification_age, work_gap, ...
    message: str
    credential_id: int | None = None


@dataclass
class CredentialEntry:
    id: int
    doc_type: str
    label: str
    issuer: str | None
    title: str | None
    number: str | None
    jurisdiction: str | None
    issue_date: date | None
    expiration_date: date | None
    start_date: date | None
    end_date: date | None
    referee: str | None
    verified_by: str | None
    verified_at: datetime
    problems: list[str]
    evidence: list[Evidence]
    superseded_by: int | None = None
    # the latest primary-source verification (compliance.verification); None = not yet
    source_verified_on: date | None = None
    flags: list[Flag] = field(default_factory=list)


@dataclass(frozen=True)
class WorkGap:
    start: date  # the day after the last employment ended
    end: date  # the day the next one started (or the decision date)
    months: int
    open_ended: bool  # nothing on record after it, up to the decision date


@dataclass(frozen=True)
class Reference:
    referee: str | None
    organisation: str | None
    dated: date | None
    document_id: int | None
    source: str  # "letter" (a confirmed reference letter) or "request" (answered request)


@dataclass
class Packet:
    provider_id: int
    name: str
    npi: str | None
    staff_category: str | None
    department: str | None
    states: list[str]
    decision_date: date
    prepared_on: date
    max_verification_age_days: int
    credentials: list[CredentialEntry]
    flags: list[Flag]
    gaps: list[WorkGap]
    references: list[Reference]
    open_requests: list[RequestView]


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: date, end: date) -> int:
    """Whole months from start to end."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def work_gaps(
    periods: list[tuple[date, date | None]], until: date, months: int = GAP_MONTHS
) -> list[WorkGap]:
    """Gaps longer than `months` between employment periods (an open period runs to
    `until`), and from the last period's end to `until`."""
    spans = sorted((s, e or until) for s, e in periods if s <= until)
    merged: list[list[date]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    gaps = []
    edges = [(a[1], b[0], False) for a, b in itertools.pairwise(merged)]
    if merged and merged[-1][1] < until:
        edges.append((merged[-1][1], until, True))
    for ended, resumed, open_ended in edges:
        if resumed > add_months(ended, months):
            gaps.append(WorkGap(ended, resumed, months_between(ended, resumed), open_ended))
    return gaps


def build_packet(
    session: Session,
    provider_id: int,
    decision_date: date,
    *,
    today: date | None = None,
    max_verification_age_days: int = DEFAULT_MAX_VERIFICATION_AGE_DAYS,
    requirements: Requirements | None = None,
) -> Packet:
    """With `requirements`, the checklist's items not yet verified lead the flags: what
    stands between the file and `ready_for_committee`."""
    today = today or date.today()
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise ProviderNotFound(f"provider {provider_id} not found")
    creds = list(
        session.scalars(
            select(Credential)
            .where(Credential.provider_id == provider_id)
            .order_by(Credential.doc_type, Credential.id)
        )
    )
    verifier_ids = sorted({c.verified_by_id for c in creds if c.verified_by_id})
    users = {
        uid: name
        for uid, name in session.execute(
            select(User.id, User.username).where(User.id.in_(verifier_ids))
        )
    }
    evidence = _evidence(session, {c.document_id for c in creds if c.document_id})
    psv = verified_days(session, (c.id for c in creds))
    entries = [
        CredentialEntry(
            id=c.id,
            doc_type=c.doc_type,
            label=DOC_TYPE_LABELS.get(c.doc_type, c.doc_type),
            issuer=c.issuer,
            title=c.credential_title,
            number=c.credential_number,
            jurisdiction=c.jurisdiction,
            issue_date=c.issue_date,
            expiration_date=c.expiration_date,
            start_date=c.start_date,
            end_date=c.end_date,
            referee=c.referee_name,
            verified_by=users.get(c.verified_by_id) if c.verified_by_id else None,
            verified_at=c.verified_at,
            problems=_problems(c.problems),
            evidence=[evidence[c.document_id]] if c.document_id in evidence else [],
            source_verified_on=psv.get(c.id),
        )
        for c in creds
    ]
    _mark_superseded(entries)
    for e in entries:
        e.flags = _flags(e, today, decision_date, max_verification_age_days)

    periods = [
        (e.start_date, e.end_date)
        for e in entries
        if e.doc_type == "employment_verification" and e.start_date is not None
    ]
    gaps = work_gaps(periods, decision_date)
    flags = [f for e in entries for f in e.flags]
    for g in gaps:
        span = f"{g.start.isoformat()} to {g.end.isoformat()}"
        flags.append(
            Flag(
                "work_gap",
                f"No employment on record since {g.start.isoformat()} ({g.months} months)"
                if g.open_ended
                else f"Gap in work history: {span} ({g.months} months)",
            )
        )
    if not periods:
        flags.append(Flag("work_history", "No employment verification with dates on file"))
    if not evidence and entries:
        flags.append(Flag("evidence", "No evidence documents on file"))

    requests = list_requests(session, today=today, provider_id=provider_id)
    references = _references(entries, requests)
    open_requests = [r for r in requests if r.status != "received"]
    for r in open_requests:
        if r.status == "overdue":
            flags.append(
                Flag(
                    "request_overdue",
                    f"{r.kind.capitalize()} request {r.id} overdue by {r.days_overdue} days",
                )
            )
    if requirements is not None:
        flags.extend(
            _not_ready(session, requirements, provider_id, decision_date, max_verification_age_days)
        )
    flags.sort(key=lambda f: FLAG_ORDER.index(f.kind) if f.kind in FLAG_ORDER else len(FLAG_ORDER))
    return Packet(
        provider_id=provider.id,
        name=provider.name,
        npi=provider.npi,
        staff_category=provider.staff_category,
        department=provider.department,
        states=list(provider.states or []),
        decision_date=decision_date,
        prepared_on=today,
        max_verification_age_days=max_verification_age_days,
        credentials=entries,
        flags=flags,
        gaps=gaps,
        references=references,
        open_requests=open_requests,
    )


def _not_ready(
    session: Session, requirements: Requirements, provider_id: int, decision: date, max_age: int
) -> list[Flag]:
    from compliance.checklist import build_checklist  # the checklist builds on this module

    c = build_checklist(session, requirements, provider_id, decision, max_age_days=max_age)
    return [
        Flag(
            "not_ready", f"{i.label}: {i.status.replace('_', ' ')}. {i.next_step}", i.credential_id
        )
        for i in c.blocking
    ]


def _problems(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").replace("\n", ";").split(";") if p.strip()]


def _evidence(session: Session, doc_ids: set[int | None]) -> dict[int, Evidence]:
    ids = [d for d in doc_ids if d is not None]
    if not ids:
        return {}
    arrivals = {
        doc_id: count
        for doc_id, count in session.execute(
            select(DocumentArrival.document_id, func.count())
            .where(DocumentArrival.document_id.in_(ids))
            .group_by(DocumentArrival.document_id)
        )
    }
    return {
        d.id: Evidence(
            document_id=d.id,
            filename=d.filename,
            doc_type=d.doc_type,
            received_on=d.created_at.date(),
            pages=d.page_count,
            arrivals=arrivals.get(d.id, 0),
        )
        for d in session.scalars(select(Document).where(Document.id.in_(ids)))
        if d.status != "deleted"
    }


def _mark_superseded(entries: list[CredentialEntry]) -> None:
    """A renewal (same type, state and number) supersedes the older record: an expired
    old licence is history, not a flag."""
    latest: dict[tuple[str, str | None, str], CredentialEntry] = {}
    for e in entries:
        if not e.number:
            continue
        key = (e.doc_type, e.jurisdiction, e.number.upper())
        old = latest.get(key)
        if old is None or (e.expiration_date or date.min, e.id) > (
            old.expiration_date or date.min,
            old.id,
        ):
            latest[key] = e
    for e in entries:
        if e.number:
            newest = latest[(e.doc_type, e.jurisdiction, e.number.upper())]
            if newest is not e:
                e.superseded_by = newest.id


def _flags(e: CredentialEntry, today: date, decision: date, max_age: int) -> list[Flag]:
    what = f"{e.label} {e.number or e.title or ''}".strip()
    flags = []
    if e.superseded_by is None and e.expiration_date is not None:
        if e.expiration_date < today:
            flags.append(Flag("expired", f"{what} expired on {e.expiration_date}", e.id))
        elif e.expiration_date < decision:
            flags.append(
                Flag(
                    "expires_before_decision",
                    f"{what} expires on {e.expiration_date}, before the decision date",
                    e.id,
                )
            )
    for p in e.problems:
        flags.append(Flag("validator", f"{what}: {p}", e.id))
    if e.superseded_by is None and e.source_verified_on is None:
        flags.append(Flag("not_verified", f"{what} not verified with its primary source", e.id))
    age = (decision - (e.source_verified_on or e.verified_at.date())).days
    if e.superseded_by is None and age > max_age:
        flags.append(
            Flag(
                "verification_age",
                f"{what} verified {age} days before the decision date (limit {max_age})",
                e.id,
            )
        )
    if not e.evidence:
        flags.append(Flag("evidence", f"{what} has no evidence document on file", e.id))
    return flags


def _references(entries: list[CredentialEntry], requests: list[RequestView]) -> list[Reference]:
    """Confirmed reference letters, plus answered requests whose letter is not one of them."""
    refs: list[Reference] = []
    letters: set[int] = set()
    for e in entries:
        if e.doc_type != "reference_letter":
            continue
        doc_id = e.evidence[0].document_id if e.evidence else None
        if doc_id is not None:
            letters.add(doc_id)
        refs.append(Reference(e.referee, e.issuer, e.issue_date, doc_id, "letter"))
    for r in requests:
        if r.status == "received" and r.kind == "reference" and r.document_id not in letters:
            refs.append(
                Reference(r.recipient_name, r.organisation, r.received_on, r.document_id, "request")
            )
    return refs


# --- PDF -----------------------------------------------------------------------------------


def render_packet_pdf(packet: Packet) -> bytes:
    pdf = ReportPdf(
        f"Committee packet: {packet.name}",
        f"Committee packet, {packet.name}, decision {packet.decision_date.isoformat()}. "
        "Confidential: for the credentialing committee only.",
    )
    pdf.heading("Credentialing committee packet")
    pdf.heading(packet.name, 13)
    facts = [
        f"Decision date: {packet.decision_date.isoformat()}",
        f"Prepared: {packet.prepared_on.isoformat()}",
        f"NPI: {packet.npi or 'not on file'}",
        f"Staff category: {(packet.staff_category or 'not set').replace('_', ' ')}",
        f"Department: {packet.department or 'not set'}",
        f"States: {', '.join(packet.states) or 'not set'}",
    ]
    pdf.paragraph("    ".join(facts))

    pdf.section(f"Flags ({len(packet.flags)})")
    if packet.flags:
        pdf.grid(
            ["Kind", "What needs an answer"],
            [[f.kind.replace("_", " "), f.message] for f in packet.flags],
            (38, 140),
        )
    else:
        pdf.paragraph("Nothing flagged.")

    pdf.section(f"Credentials ({len(packet.credentials)})")
    for e in packet.credentials:
        _credential_block(pdf, e, packet)

    pdf.section("Work history")
    pdf.grid(
        ["Employer", "Position", "From", "To"],
        [
            [e.issuer, e.title, e.start_date, e.end_date or "present"]
            for e in sorted(
                (x for x in packet.credentials if x.doc_type == "employment_verification"),
                key=lambda x: x.start_date or date.min,
            )
        ],
        (70, 56, 26, 26),
        empty="No employment verification on file.",
    )
    if packet.gaps:
        pdf.paragraph(
            "Gaps of more than six months: "
            + "; ".join(
                f"{g.start.isoformat()} to {g.end.isoformat()} ({g.months} months)"
                for g in packet.gaps
            )
        )

    pdf.section("References received")
    pdf.grid(
        ["Referee", "Organisation", "Dated", "Document"],
        [
            [r.referee, r.organisation, r.dated, f"#{r.document_id}" if r.document_id else None]
            for r in packet.references
        ],
        (52, 70, 28, 28),
        empty="No references received.",
    )
    if packet.open_requests:
        pdf.section("Requests not yet answered")
        pdf.grid(
            ["Kind", "Asked", "Organisation", "Requested", "Due", "Status"],
            [
                [
                    r.kind,
                    r.recipient_name,
                    r.organisation,
                    r.requested_on,
                    r.due_on,
                    f"overdue {r.days_overdue} d" if r.status == "overdue" else r.status,
                ]
                for r in packet.open_requests
            ],
            (22, 38, 46, 24, 24, 24),
        )
    return pdf.render()


def _credential_block(pdf: ReportPdf, e: CredentialEntry, packet: Packet) -> None:
    title = f"{e.label}: {e.title or e.issuer or e.number or ''}".rstrip(": ")
    if e.superseded_by:
        title += f" (superseded by record {e.superseded_by})"
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    pdf.ln(1.5)
    pdf.set_font(pdf.face, "B", 9.5)
    pdf.multi_cell(0, 5, pdf.text_of(title), new_x="LMARGIN", new_y="NEXT")
    rows: list[list[Any]] = [
        ["Issuer", e.issuer],
        ["Number", e.number],
        ["State", e.jurisdiction],
        ["Issued", e.issue_date],
        ["Expires", e.expiration_date],
        [
            "Period",
            f"{e.start_date or '?'} to {e.end_date or 'present'}"
            if e.start_date or e.end_date
            else None,
        ],
        ["Referee", e.referee],
        ["Approved", f"{e.verified_at.date().isoformat()} by {e.verified_by or 'unknown'}"],
        [
            "Primary source",
            f"verified {e.source_verified_on}" if e.source_verified_on else "not yet",
        ],
        ["Validator", "; ".join(e.problems) if e.problems else "no problems left standing"],
        [
            "Evidence",
            "; ".join(
                f"document #{v.document_id} {v.filename} ({v.doc_type or 'unclassified'}, "
                f"received {v.received_on.isoformat()}, {v.pages or '?'} pages)"
                for v in e.evidence
            )
            or "none on file",
        ],
    ]
    if e.flags:
        rows.append(["Flags", "; ".join(f.message for f in e.flags)])
    pdf.grid(None, [r for r in rows if r[1] not in (None, "")], (28, 150))
