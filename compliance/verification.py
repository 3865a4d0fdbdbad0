"""Primary-source verifications: recorded per credential, listed, and the date each
credential was last verified with its source (what the committee's time limit runs from,
not the date a coordinator approved the document copy)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance import errors
from models import Credential, Document, Provider, record_event
from models.compliance_status import mark_stale
from models.verification import (
    VERIFICATION_METHODS,
    VERIFICATION_RESULTS,
    CredentialVerification,
    GapExplanation,
)

DEFAULT_MAX_AGE_DAYS = 120  # NCQA 2025 CR 3


class VerificationError(errors.Invalid):
    """A verification that cannot be recorded; `status` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class VerificationNotFound(VerificationError, errors.NotFound):
    """The credential, document or provider named does not exist (404)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 404)


@dataclass(frozen=True)
class VerificationIn:
    source: str
    method: str
    verified_on: date
    result: str
    note: str | None = None
    document_id: int | None = None


@dataclass(frozen=True)
class VerificationView:
    id: int
    credential_id: int
    source: str
    method: str
    verified_on: date
    result: str
    note: str | None
    actor: str
    document_id: int | None


def _view(v: CredentialVerification) -> VerificationView:
    return VerificationView(
        v.id,
        v.credential_id,
        v.source,
        v.method,
        v.verified_on,
        v.result,
        v.note,
        v.actor,
        v.document_id,
    )


def _check(session: Session, credential_id: int, data: VerificationIn, today: date) -> None:
    if session.get(Credential, credential_id) is None:
        raise VerificationNotFound(f"No credential {credential_id}.")
    if not data.source.strip():
        raise VerificationError("Name the source the credential was verified with.")
    if data.method not in VERIFICATION_METHODS:
        raise VerificationError(f"method must be one of {', '.join(VERIFICATION_METHODS)}")
    if data.result not in VERIFICATION_RESULTS:
        raise VerificationError(f"result must be one of {', '.join(VERIFICATION_RESULTS)}")
    if data.verified_on > today:
        raise VerificationError("A verification cannot be dated in the future.")
    if data.document_id is not None and session.get(Document, data.document_id) is None:
        raise VerificationNotFound(f"No document {data.document_id}.")


def record_verification(
    session: Session,
    credential_id: int,
    data: VerificationIn,
    *,
    actor: str,
    today: date | None = None,
) -> VerificationView:
    """Add one verification (audited); the caller commits."""
    _check(session, credential_id, data, today or date.today())
    row = CredentialVerification(
        credential_id=credential_id,
        source=" ".join(data.source.split())[:300],
        method=data.method,
        verified_on=data.verified_on,
        result=data.result,
        note=(data.note or "").strip() or None,
        actor=actor,
        document_id=data.document_id,
    )
    session.add(row)
    session.flush()
    cred = session.get(Credential, credential_id)
    record_event(
        session,
        actor=actor,
        action="credential.verified",
        entity_type="credential",
        entity_id=credential_id,
        note=f"verification {row.id}: {data.result} via {data.method} on {data.verified_on}",
        detail={"source": row.source, "note": row.note, "document_id": data.document_id},
        provider_id=cred.provider_id if cred else None,
        document_id=data.document_id,
    )
    if cred is not None:
        mark_stale(session, [cred.provider_id])  # the dashboard judges it again
    return _view(row)


def list_verifications(session: Session, credential_id: int) -> list[VerificationView]:
    """Newest first."""
    rows = session.scalars(
        select(CredentialVerification)
        .where(CredentialVerification.credential_id == credential_id)
        .order_by(CredentialVerification.verified_on.desc(), CredentialVerification.id.desc())
    )
    return [_view(v) for v in rows]


def latest_verifications(
    session: Session, credential_ids: Iterable[int]
) -> dict[int, VerificationView]:
    """The latest verification of each credential (whatever its result)."""
    ids = sorted(set(credential_ids))
    out: dict[int, VerificationView] = {}
    for i in range(0, len(ids), 500):
        rows = session.scalars(
            select(CredentialVerification)
            .where(CredentialVerification.credential_id.in_(ids[i : i + 500]))
            .order_by(CredentialVerification.verified_on, CredentialVerification.id)
        )
        for v in rows:
            out[v.credential_id] = _view(v)  # later rows replace earlier ones
    return out


def verified_days(session: Session, credential_ids: Iterable[int]) -> dict[int, date]:
    """The day each credential was last verified with its source (result `verified`)."""
    return {
        cid: v.verified_on
        for cid, v in latest_verifications(session, credential_ids).items()
        if v.result == "verified"
    }


def within_window(verified_on: date | None, decision_day: date, max_age_days: int) -> bool:
    """NCQA: at most `max_age_days` old on the committee's decision day (the edge counts)."""
    return verified_on is not None and 0 <= (decision_day - verified_on).days <= max_age_days


@dataclass(frozen=True)
class ReverificationDue:
    provider_id: int
    provider_name: str
    credential_id: int
    doc_type: str
    verified_on: date
    window_closes: date


def reverification_due(
    session: Session, today: date, *, max_age_days: int, notice_days: int = 30
) -> list[ReverificationDue]:
    """Candidates' verifications whose window closes within `notice_days`: the coordinator
    verifies again before the committee would see a stale one."""
    from models.provider import APPLICANT_STATUSES

    rows = session.execute(
        select(Credential.id, Credential.doc_type, Provider.id, Provider.name)
        .join(Provider, Provider.id == Credential.provider_id)
        .where(Provider.status.in_(APPLICANT_STATUSES))
    ).all()
    days = verified_days(session, (r[0] for r in rows))
    out = []
    for cid, doc_type, pid, name in rows:
        day = days.get(cid)
        if day is None:
            continue
        closes = day + timedelta(days=max_age_days)
        if today <= closes <= today + timedelta(days=notice_days):
            out.append(ReverificationDue(pid, name, cid, doc_type, day, closes))
    return sorted(out, key=lambda r: (r.window_closes, r.provider_name, r.credential_id))


@dataclass(frozen=True)
class GapView:
    id: int
    gap_start: date
    gap_end: date
    explanation: str
    actor: str


def explain_gap(
    session: Session, provider_id: int, start: date, end: date, explanation: str, *, actor: str
) -> GapView:
    """Record the candidate's explanation of a gap in the work history (audited; the
    explanation's words stay in the event's detail, which a removal can erase)."""
    if session.get(Provider, provider_id) is None:
        raise VerificationNotFound(f"No provider {provider_id}.")
    if end <= start:
        raise VerificationError("The gap must end after it starts.")
    if not explanation.strip():
        raise VerificationError("Write down the candidate's explanation.")
    row = GapExplanation(
        provider_id=provider_id,
        gap_start=start,
        gap_end=end,
        explanation=explanation.strip(),
        actor=actor,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="work_gap.explained",
        entity_type="provider",
        entity_id=provider_id,
        note=f"gap {start} to {end} explained",
        detail={"explanation": row.explanation},
        provider_id=provider_id,
    )
    mark_stale(session, [provider_id])
    return GapView(row.id, start, end, row.explanation, actor)


def gap_explanations(session: Session, provider_id: int) -> list[GapView]:
    rows = session.scalars(
        select(GapExplanation)
        .where(GapExplanation.provider_id == provider_id)
        .order_by(GapExplanation.gap_start, GapExplanation.id)
    )
    return [GapView(r.id, r.gap_start, r.gap_end, r.explanation, r.actor) for r in rows]
