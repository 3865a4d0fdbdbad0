"""Where each candidate stands: the status pipeline (applicant → in_review → committee →
active | denied, plus inactive), its audited transitions, and the Applicants view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance import errors
from compliance.checklist import build_checklist
from compliance.requirements import Requirements
from compliance.summary import ProviderNotFound
from models import AuditEvent, Provider, record_event
from models.base import utcnow
from models.compliance_status import mark_stale
from models.provider import APPLICANT_STATUSES, PROVIDER_STATUSES, STATUS_TRANSITIONS


class IllegalTransition(errors.Conflict):
    """A status that may not follow the current one (the API answers 409)."""


@dataclass(frozen=True)
class StatusChange:
    provider_id: int
    old: str
    new: str
    since: datetime


def change_status(
    session: Session, provider_id: int, new: str, *, actor: str, reason: str | None = None
) -> StatusChange:
    """Move a provider along the pipeline (audited; the caller commits). `active` follows
    the status: only staff on it get the clinicians' reminders and count on the dashboard."""
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise ProviderNotFound(f"provider {provider_id} not found")
    if new not in PROVIDER_STATUSES:
        raise IllegalTransition(f"unknown status {new!r}")
    old = provider.status
    if new not in STATUS_TRANSITIONS.get(old, ()):
        allowed = ", ".join(STATUS_TRANSITIONS.get(old, ())) or "nothing"
        raise IllegalTransition(f"{old} cannot become {new} (allowed: {allowed})")
    now = utcnow()
    provider.status, provider.status_since = new, now
    provider.active = new == "active"
    record_event(
        session,
        actor=actor,
        action="provider.status_changed",
        entity_type="provider",
        entity_id=provider_id,
        note=f"{old} -> {new}" + (f": {reason.strip()}" if reason and reason.strip() else ""),
    )
    mark_stale(session, [provider_id])
    return StatusChange(provider_id, old, new, now)


@dataclass(frozen=True)
class PipelineRow:
    provider_id: int
    name: str
    status: str
    days_in_status: int
    ready_for_committee: bool
    blocking: tuple[str, ...]  # labels of the required items not yet verified
    # days spent in each status so far, the current one included (from the audit trail)
    days_by_status: tuple[tuple[str, int], ...] = ()


def _history(session: Session, ids: list[int], today: date) -> dict[int, list[tuple[str, int]]]:
    """Days in each status per provider: from creation through each audited change."""
    created = dict(
        session.execute(select(Provider.id, Provider.created_at).where(Provider.id.in_(ids))).all()
    )
    events = session.execute(
        select(AuditEvent.entity_id, AuditEvent.at, AuditEvent.note)
        .where(AuditEvent.action == "provider.status_changed", AuditEvent.entity_id.in_(ids))
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    spans: dict[int, list[tuple[str, datetime]]] = {}
    for entity, at, note in events:
        pid = int(entity or 0)
        old, _, rest = (note or "").partition(" -> ")
        new = rest.split(":", 1)[0]
        if pid not in spans:
            spans[pid] = [(old, created[pid])]
        spans[pid].append((new, at))
    out: dict[int, list[tuple[str, int]]] = {}
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    for pid, steps in spans.items():
        totals: dict[str, int] = {}
        for (st, since), (_, until) in zip(steps, [*steps[1:], ("", now)], strict=True):
            totals[st] = totals.get(st, 0) + max(
                0, (until.astimezone(UTC).date() - since.astimezone(UTC).date()).days
            )
        out[pid] = list(totals.items())
    return out


def pipeline(
    session: Session, requirements: Requirements, today: date, *, max_age_days: int
) -> dict[str, list[PipelineRow]]:
    """Candidates by status (longest waiting first), with what blocks each one."""
    out: dict[str, list[PipelineRow]] = {s: [] for s in APPLICANT_STATUSES}
    rows = session.execute(
        select(Provider.id, Provider.name, Provider.status, Provider.status_since)
        .where(Provider.status.in_(APPLICANT_STATUSES))
        .order_by(Provider.status_since, Provider.id)
    ).all()
    history = _history(session, [r[0] for r in rows], today)
    for pid, name, st, since in rows:
        c = build_checklist(session, requirements, pid, today, max_age_days=max_age_days)
        days = (today - since.astimezone(UTC).date()).days
        blocking = tuple(f"{i.label}: {i.status}" for i in c.blocking)
        spent = tuple(history.get(pid, [(st, days)]))
        out[st].append(PipelineRow(pid, name, st, days, c.ready_for_committee, blocking, spent))
    return out
