"""A clinician's details as coordinators edit them (the page's form and
`PATCH /api/providers/{id}`), and the committee's decisions: validated input, one audit
event per change, the kept judgement marked stale when what it depends on changes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance import errors
from compliance.requirements import USPS
from models import Provider, User, record_event
from models.compliance import CommitteeDecision
from models.compliance_status import mark_stale

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


class ProviderPatch(BaseModel):
    """The fields a coordinator may change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = None
    staff_category: str | None = None
    department: str | None = None
    states: list[str] | None = None
    active: bool | None = None
    # for exclusion screening (never shown in patient summaries or packets)
    date_of_birth: date | None = None
    other_names: list[str] | None = None

    @field_validator("date_of_birth")
    @classmethod
    def _dob(cls, v: date | None) -> date | None:
        if v is not None and not date(1900, 1, 1) <= v <= datetime.now(UTC).date():
            raise ValueError("a date of birth between 1900 and today")
        return v

    @field_validator("other_names")
    @classmethod
    def _other_names(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        out = list(dict.fromkeys(" ".join(n.split()) for n in v if n and n.strip()))
        if any(len(n) > 200 for n in out) or len(out) > 20:
            raise ValueError("at most 20 names of at most 200 characters")
        return out

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        v = (v or "").strip()
        if v and (len(v) > 320 or not _EMAIL.match(v)):
            raise ValueError("not an e-mail address")
        return v or None

    @field_validator("staff_category")
    @classmethod
    def _category(cls, v: str | None) -> str | None:
        v = (v or "").strip().lower().replace(" ", "_")
        if v and not _CATEGORY.match(v):
            raise ValueError("a staff category is lower_case words, e.g. registered_nurse")
        return v or None

    @field_validator("department")
    @classmethod
    def _department(cls, v: str | None) -> str | None:
        v = " ".join((v or "").split())
        if len(v) > 200:
            raise ValueError("at most 200 characters")
        return v or None

    @field_validator("states")
    @classmethod
    def _states(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        out: list[str] = []
        for s in v:
            code = s.strip().upper()
            if code not in USPS:
                raise ValueError(f"{s!r} is not a USPS state code")
            if code not in out:
                out.append(code)
        return out


def provider_json(p: Provider) -> dict[str, Any]:
    return {
        "id": p.id, "name": p.name, "npi": p.npi, "email": p.email,
        "staff_category": p.staff_category, "department": p.department,
        "states": list(p.states or []), "active": p.active,
        "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None,
        "other_names": list(p.other_names or []),
    }  # fmt: skip


def update_provider(
    session: Session, provider: Provider, patch: ProviderPatch, actor: str
) -> list[str]:
    """Apply the fields that were sent; one audit event names what changed (old and new
    values kept in the event's personal detail)."""
    changes: dict[str, list[Any]] = {}
    for name in patch.model_fields_set:
        new = getattr(patch, name)
        if name == "active" and new is None:
            continue
        if name in ("states", "other_names") and new is None:
            new = []
        old = getattr(provider, name)
        if name in ("states", "other_names"):
            old = list(old or [])
        if old != new:
            changes[name] = [_plain(old), _plain(new)]
            setattr(provider, name, new)
    if changes.keys() & {"staff_category", "department", "states", "active"}:
        mark_stale(session, [provider.id])  # judged again (and filtered) with the new values
    if changes:
        record_event(session, actor=actor, action="provider.updated", entity_type="provider",
                     entity_id=provider.id, note="changed: " + ", ".join(sorted(changes)),
                     detail=changes, provider_id=provider.id)  # fmt: skip
    return sorted(changes)


def _plain(value: Any) -> Any:
    """A value the audit detail (JSON) can hold."""
    return value.isoformat() if isinstance(value, date) else value


def get_provider(session: Session, provider_id: int) -> Provider:
    """The clinician, or NotFound (404)."""
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise errors.NotFound(f"No provider {provider_id}.")
    return provider


def patch_provider(
    session: Session, provider_id: int, patch: ProviderPatch, actor: str
) -> dict[str, Any]:
    """`PATCH /api/providers/{id}`: apply and answer the clinician with what changed."""
    provider = get_provider(session, provider_id)
    changed = update_provider(session, provider, patch, actor)
    return {**provider_json(provider), "changed": changed}


def form_patch(
    *,
    email: str,
    staff_category: str,
    department: str,
    states: str,
    active: bool,
    date_of_birth: str,
    other_names: str,
) -> ProviderPatch:
    """The details form's text boxes as a patch; Invalid (with the first problem) if not."""
    try:
        return ProviderPatch(
            email=email, staff_category=staff_category, department=department,
            states=[x for x in re.split(r"[\s,;]+", states) if x], active=active,
            date_of_birth=date.fromisoformat(date_of_birth) if date_of_birth else None,
            other_names=[n for n in other_names.splitlines() if n.strip()],
        )  # fmt: skip
    except ValueError as e:
        raise errors.Invalid(first_error(e)) from e


def first_error(e: ValueError) -> str:
    """The first problem of a validation error, as `field: message`."""
    if isinstance(e, ValidationError):
        first = e.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        return f"{where}: {msg}" if where else msg
    return str(e)


def record_decision(
    session: Session, provider_id: int, day: date, decision: str, note: str, user: User
) -> CommitteeDecision:
    """The committee approved or denied: a new recredentialing cycle starts; audited."""
    get_provider(session, provider_id)
    row = CommitteeDecision(provider_id=provider_id, decided_on=day, decision=decision,
                            note=note.strip() or None, recorded_by_id=user.id)  # fmt: skip
    session.add(row)
    mark_stale(session, [provider_id])
    record_event(session, actor=user.username, action="committee.decision",
                 entity_type="provider", entity_id=provider_id,
                 note=f"{decision} on {day.isoformat()}")  # fmt: skip
    return row


def decisions_of(session: Session, provider_id: int) -> list[CommitteeDecision]:
    """The committee's decisions on a clinician, newest first."""
    return list(
        session.scalars(
            select(CommitteeDecision)
            .where(CommitteeDecision.provider_id == provider_id)
            .order_by(CommitteeDecision.decided_on.desc())
        )
    )
