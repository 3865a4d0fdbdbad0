"""Deviations management must act on, found again on every pass and never silently dropped.

A deviation is keyed by what it is about (e.g. "expired:12:bls:345"); a pass opens the ones
not yet open, leaves the open ones alone, and marks resolved (with a note) those whose
condition is gone. Managers acknowledge, assign, and resolve them; each change is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from compliance.status import ProviderFacts, ProviderStatus
from models import Provider, Role, User, record_event
from models.base import utcnow
from models.compliance import Deviation, DeviationStatus

KINDS = {
    "missing": "Missing required credential",
    "expired": "Expired required credential",
    "validator": "Validator failure on an approved credential",
    "recredentialing": "Recredentialing date passed",
    "exclusion": "Confirmed on an exclusion list (critical)",
    "optout": "Confirmed on the Medicare opt-out list (critical)",
}
# opened and closed by screening (compliance.screening), never by the compliance pass
SCREENING_KINDS = frozenset({"exclusion", "optout"})


@dataclass(frozen=True)
class Finding:
    key: str
    kind: str
    provider_id: int
    credential_id: int | None
    summary: str


def find(facts: Iterable[ProviderFacts], statuses: dict[int, ProviderStatus]) -> list[Finding]:
    """The deviations present now, for active clinicians."""
    out: list[Finding] = []
    for p in facts:
        if not p.active:
            continue
        st = statuses.get(p.id)
        if st is not None:
            for i in st.items:
                if i.kind == "missing":
                    out.append(
                        Finding(f"missing:{p.id}:{i.key}", "missing", p.id, None,
                                f"{i.label}: missing")
                    )  # fmt: skip
                elif i.kind == "expired":
                    out.append(
                        Finding(f"expired:{p.id}:{i.key}:{i.credential_id}", "expired", p.id,
                                i.credential_id, f"{i.label}: {i.reason}")
                    )  # fmt: skip
                elif i.kind == "recred_overdue" and i.due is not None:
                    out.append(
                        Finding(f"recred:{p.id}:{i.due.isoformat()}", "recredentialing", p.id,
                                None, i.reason)
                    )  # fmt: skip
        for c in p.credentials:
            if c.problems:
                out.append(
                    Finding(f"validator:{c.id}", "validator", p.id, c.id,
                            f"{c.doc_type} #{c.id}: {c.problems}")
                )  # fmt: skip
    return out


@dataclass(frozen=True)
class DetectResult:
    opened: list[int]
    resolved: list[int]
    still_open: int


def default_owner(session: Session) -> int | None:
    """New deviations go to the first manager (else admin) until someone reassigns them."""
    for role in (Role.MANAGER, Role.ADMIN):
        uid = session.scalar(
            select(User.id)
            .where(User.role == role, User.disabled.is_(False))
            .order_by(User.id)
            .limit(1)
        )
        if uid is not None:
            return uid
    return None


def detect(
    session: Session,
    findings: list[Finding],
    today: date,
    *,
    scope: set[int] | None = None,
    actor: str = "system",
) -> DetectResult:
    """Bring the deviations table in line with `findings`: open the new, keep the present,
    resolve (with a note) the ones that went away. Idempotent: running it twice changes
    nothing the second time. `scope` limits resolving to these providers' deviations
    (when only some clinicians were examined)."""
    present = {f.key: f for f in findings}
    open_rows = session.execute(
        select(Deviation.id, Deviation.open_key, Deviation.provider_id).where(
            Deviation.open_key.is_not(None), Deviation.kind.not_in(SCREENING_KINDS)
        )
    ).all()
    open_keys = {r.open_key for r in open_rows}
    owner = default_owner(session)
    now = utcnow()
    opened: list[int] = []
    new = [f for k, f in present.items() if k not in open_keys]
    rows = [
        Deviation(
            key=f.key, open_key=f.key, kind=f.kind, provider_id=f.provider_id,
            credential_id=f.credential_id, summary=f.summary, status=DeviationStatus.OPEN,
            owner_id=owner, opened_at=now, updated_at=now,
        )
        for f in new
    ]  # fmt: skip
    session.add_all(rows)
    if rows:
        session.flush()
    for dev in rows:
        opened.append(dev.id)
        record_event(session, actor=actor, action="deviation.opened", entity_type="deviation",
                     entity_id=dev.id, note=dev.kind)  # fmt: skip
    resolved: list[int] = []
    note = f"no longer present on {today.isoformat()} (found by the compliance pass)"
    for r in open_rows:
        if r.open_key in present or (scope is not None and r.provider_id not in scope):
            continue
        session.execute(
            update(Deviation)
            .where(Deviation.id == r.id)
            .values(status=DeviationStatus.RESOLVED, open_key=None, resolved_at=now,
                    updated_at=now, resolution_note=note)
        )  # fmt: skip
        record_event(session, actor=actor, action="deviation.resolved", entity_type="deviation",
                     entity_id=r.id, note=note)  # fmt: skip
        resolved.append(r.id)
    still = len(open_keys & present.keys())
    return DetectResult(opened, resolved, still)


class DeviationError(ValueError):
    """A change a person asked for that cannot be made; the message says why."""


def _get(session: Session, deviation_id: int) -> Deviation:
    dev = session.get(Deviation, deviation_id)
    if dev is None:
        raise DeviationError(f"no deviation #{deviation_id}")
    return dev


def acknowledge(session: Session, deviation_id: int, *, actor: str, note: str | None) -> None:
    dev = _get(session, deviation_id)
    if dev.status != DeviationStatus.OPEN:
        raise DeviationError(f"deviation #{deviation_id} is {dev.status}, not open")
    dev.status = DeviationStatus.ACKNOWLEDGED
    dev.updated_at = utcnow()
    record_event(session, actor=actor, action="deviation.acknowledged",
                 entity_type="deviation", entity_id=dev.id, note=note)  # fmt: skip


def resolve(session: Session, deviation_id: int, *, actor: str, note: str) -> None:
    """Close a deviation by hand; if its condition is still there the next pass opens a new
    one, so nothing is hidden by closing it."""
    if not note.strip():
        raise DeviationError("say how it was resolved")
    dev = _get(session, deviation_id)
    if dev.status == DeviationStatus.RESOLVED:
        raise DeviationError(f"deviation #{deviation_id} is already resolved")
    now = utcnow()
    dev.status = DeviationStatus.RESOLVED
    dev.open_key = None
    dev.resolved_at = now
    dev.updated_at = now
    dev.resolution_note = f"{note.strip()} (by {actor})"
    record_event(session, actor=actor, action="deviation.resolved", entity_type="deviation",
                 entity_id=dev.id, note=note.strip())  # fmt: skip


def assign(session: Session, deviation_id: int, owner_id: int | None, *, actor: str) -> None:
    dev = _get(session, deviation_id)
    if owner_id is not None and session.get(User, owner_id) is None:
        raise DeviationError(f"no user #{owner_id}")
    dev.owner_id = owner_id
    dev.updated_at = utcnow()
    record_event(session, actor=actor, action="deviation.assigned", entity_type="deviation",
                 entity_id=dev.id, note=f"owner user #{owner_id}")  # fmt: skip


@dataclass(frozen=True)
class DeviationView:
    id: int
    kind: str
    status: str
    provider_id: int
    provider: str
    department: str | None
    credential_id: int | None
    summary: str
    owner: str | None
    owner_id: int | None
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolution_note: str | None


def list_deviations(
    session: Session, *, status: str | None = None, kind: str | None = None, limit: int = 500
) -> list[DeviationView]:
    """Newest first; `status="unresolved"` means open or acknowledged."""
    q = (
        select(Deviation, Provider.name, Provider.department, User.username)
        .join(Provider, Provider.id == Deviation.provider_id)
        .outerjoin(User, User.id == Deviation.owner_id)
        .order_by(Deviation.opened_at.desc(), Deviation.id.desc())
        .limit(limit)
    )
    if status == "unresolved":
        q = q.where(Deviation.status != DeviationStatus.RESOLVED)
    elif status:
        q = q.where(Deviation.status == status)
    if kind:
        q = q.where(Deviation.kind == kind)
    return [
        DeviationView(
            d.id, d.kind, d.status, d.provider_id, name, dept, d.credential_id, d.summary,
            owner, d.owner_id, d.opened_at, d.updated_at, d.resolved_at, d.resolution_note,
        )
        for d, name, dept, owner in session.execute(q)
    ]  # fmt: skip


def act(
    session: Session, deviation_id: int, action: str, *, actor: str, note: str, owner_id: str
) -> None:
    """One of the deviations page's actions: acknowledge, resolve, or assign to an owner."""
    if action == "acknowledge":
        acknowledge(session, deviation_id, actor=actor, note=note or None)
    elif action == "resolve":
        resolve(session, deviation_id, actor=actor, note=note)
    else:
        assign(session, deviation_id, int(owner_id) if owner_id else None, actor=actor)


def owners(session: Session) -> list[tuple[int, str]]:
    """Who may own a deviation: active managers and admins, by name."""
    rows = session.execute(
        select(User.id, User.username)
        .where(User.role.in_([Role.MANAGER.value, Role.ADMIN.value]), User.disabled.is_(False))
        .order_by(User.username)
    ).all()
    return [(r[0], r[1]) for r in rows]


def deviation_json(d: DeviationView) -> dict[str, object]:
    """One deviation as `GET /api/deviations` answers it."""
    return {
        "id": d.id, "kind": d.kind, "status": d.status, "provider_id": d.provider_id,
        "credential_id": d.credential_id, "summary": d.summary, "owner": d.owner,
        "opened_at": d.opened_at.isoformat(), "updated_at": d.updated_at.isoformat(),
        "resolved_at": d.resolved_at.isoformat() if d.resolved_at else None,
        "resolution_note": d.resolution_note,
    }  # fmt: skip
