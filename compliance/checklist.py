"""The checklist from applicant to committee: one item per requirement of the clinician's
staff category and states (a licence per state, DEA per state, board certification...),
plus references and work history, each with its status, the next step and the agency that
issues or verifies it. `ready_for_committee` only when every required item was verified
with its primary source within the window (NCQA 2025 CR 3: 120 days)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session

from compliance.packet import work_gaps
from compliance.requirements import Requirement, Requirements, RequirementVersion
from compliance.status import CredentialFacts, ProviderFilter, effective_expiry, load_facts
from compliance.summary import ProviderNotFound
from compliance.verification import (
    VerificationView,
    gap_explanations,
    latest_verifications,
    within_window,
)
from models import Credential, Provider

AGENCIES_FILE = Path(__file__).parent / "data" / "agencies.json"
ItemStatus = Literal["missing", "received", "verified", "expired", "not_required"]
REFERENCES_NEEDED = 2  # peer references asked of every candidate (bylaws commonly ask 2-3)

DEA = "Drug Enforcement Administration (DEA), Diversion Control registration lookup"
LIFE_SUPPORT = "American Heart Association (AHA) or American Red Cross (ARC)"
FIXED_AGENCIES = {
    "dea_registration": DEA,
    "board_certification": "the specialty board (ABMS Certification Matters, AOA, ANCC, AANPCB "
    "or NCCPA)",
    "diploma": "the school's registrar (or a designated equivalent source: AMA Physician "
    "Masterfile, ECFMG, NSC)",
    "training_certificate": "the training programme's director",
    "life_support_card": LIFE_SUPPORT,
    "malpractice_insurance": "the insurance carrier",
    "reference_letter": "the referee",
    "employment_verification": "the past employers",
    "cme_certificate": "the CME provider",
}


@functools.cache
def agencies() -> dict[str, Any]:
    """compliance/data/agencies.json (made by scripts/make_agencies.py from extract/data)."""
    data: dict[str, Any] = json.loads(AGENCIES_FILE.read_text(encoding="utf-8"))
    return data


def state_board(state: str, doc_type: str, category: str | None) -> str:
    """The board by name: nursing board for nursing licences, the PA board where a state has
    one, else the medical board."""
    info = agencies()["states"].get(state.upper())
    if info is None:
        return f"the licensing board of {state}"
    if doc_type == "nursing_license":
        board = info.get("nursing_board")
    elif category == "physician_assistant":
        board = info.get("pa_board") or info.get("medical_board")
    else:
        board = info.get("medical_board")
    return str(board or f"the licensing board of {info['name']}")


def agency_for(
    doc_type: str, state: str | None, category: str | None, issuer: str | None = None
) -> str:
    if doc_type in ("medical_license", "nursing_license") and state:
        return state_board(state, doc_type, category)
    if doc_type == "dea_registration":
        return DEA
    if issuer and doc_type in (
        "board_certification",
        "diploma",
        "training_certificate",
        "malpractice_insurance",
        "life_support_card",
    ):
        return issuer  # the school, the board, the carrier printed on the document
    return FIXED_AGENCIES.get(doc_type, "the issuing organisation")


@dataclass(frozen=True)
class ChecklistItem:
    requirement: str  # the requirement id (state_license, dea, references, work_history...)
    label: str
    state: str | None
    agency: str
    status: ItemStatus
    next_step: str
    credential_id: int | None = None
    verified_on: date | None = None
    required: bool = True


@dataclass(frozen=True)
class Checklist:
    provider_id: int
    name: str
    status: str
    on: date
    max_age_days: int
    items: tuple[ChecklistItem, ...]

    @property
    def ready_for_committee(self) -> bool:
        required = [i for i in self.items if i.required]
        return bool(required) and all(i.status == "verified" for i in required)

    @property
    def blocking(self) -> list[ChecklistItem]:
        return [i for i in self.items if i.required and i.status != "verified"]

    @property
    def missing(self) -> list[ChecklistItem]:
        """What the candidate is asked for in the missing-items letter."""
        return [i for i in self.items if i.required and i.status in ("missing", "expired")]


@dataclass(frozen=True)
class _Ctx:
    on: date
    max_age: int
    category: str | None
    checks: dict[int, VerificationView]
    issuers: dict[int, str | None]
    explained: tuple[tuple[date, date], ...] = ()  # gaps the candidate explained


def _judge(
    creds: list[CredentialFacts], validity: int | None, label: str, agency: str, ctx: _Ctx
) -> tuple[ItemStatus, str, CredentialFacts | None, date | None]:
    """Status, next step, the credential judged and its verification date."""
    if not creds:
        return (
            "missing",
            f"Ask the candidate for the {label}; it is issued by {agency}.",
            None,
            None,
        )
    best = max(creds, key=lambda c: (effective_expiry(c, validity) or date.max, c.id))
    exp = effective_expiry(best, validity)
    check = ctx.checks.get(best.id)
    day = check.verified_on if check and check.result == "verified" else None
    if exp is not None and exp < ctx.on:
        return "expired", f"Expired {exp}: the candidate renews it with {agency}.", best, day
    if check is not None and check.result != "verified":
        why = check.result.replace("_", " ")
        return (
            "received",
            (f"Resolve the {why} found with {check.source} on {check.verified_on}."),
            best,
            None,
        )
    if within_window(day, ctx.on, ctx.max_age):
        assert day is not None
        until = day + timedelta(days=ctx.max_age)
        return "verified", f"None: verified {day}, good for the committee until {until}.", best, day
    if day is not None:
        return (
            "received",
            (f"Verified {day}, more than {ctx.max_age} days ago: verify again with {agency}."),
            best,
            day,
        )
    return "received", f"Verify it with {agency} and record the verification.", best, None


def _requirement_items(
    req: Requirement, facts: list[CredentialFacts], states: tuple[str, ...], ctx: _Ctx
) -> list[ChecklistItem]:
    matching = [c for c in facts if c.doc_type == req.doc_type and req.matches_title(c.title)]
    groups: list[tuple[str | None, list[CredentialFacts]]] = (
        [(st, [c for c in matching if (c.jurisdiction or "").upper() == st]) for st in states]
        if req.per_state and states
        else [(None, matching)]
    )
    out = []
    for st, creds in groups:
        label = f"{req.label} ({st})" if st else req.label
        issuer = next((ctx.issuers.get(c.id) for c in creds if ctx.issuers.get(c.id)), None)
        agency = agency_for(req.doc_type, st, ctx.category, issuer)
        status, step, best, day = _judge(creds, req.validity_months, label, agency, ctx)
        cid = best.id if best else None
        out.append(ChecklistItem(req.id, label, st, agency, status, step, cid, day))
    return out


def _references(facts: list[CredentialFacts], ctx: _Ctx) -> ChecklistItem:
    refs = [c for c in facts if c.doc_type == "reference_letter"]
    label = f"Peer references ({REFERENCES_NEEDED})"
    agency = FIXED_AGENCIES["reference_letter"]
    checked = [c for c in refs if _judge([c], None, label, agency, ctx)[0] == "verified"]
    if len(refs) < REFERENCES_NEEDED:
        step = f"{len(refs)} of {REFERENCES_NEEDED} received: send reference requests."
        return ChecklistItem(
            "references", label, None, agency, "missing" if not refs else "received", step
        )
    if len(checked) < REFERENCES_NEEDED:
        step = "Confirm each reference with its referee and record the verification."
        todo = next(c.id for c in refs if c not in checked)
        return ChecklistItem("references", label, None, agency, "received", step, todo)
    day = min(ctx.checks[c.id].verified_on for c in checked)
    return ChecklistItem("references", label, None, agency, "verified", "None.", checked[0].id, day)


def _work_history(facts: list[CredentialFacts], ctx: _Ctx, dates: dict[int, Any]) -> ChecklistItem:
    jobs = [c for c in facts if c.doc_type == "employment_verification"]
    label = "Work history (gaps over 6 months explained)"
    agency = FIXED_AGENCIES["employment_verification"]
    if not jobs:
        step = "Ask the candidate for the work history; send employment-verification requests."
        return ChecklistItem("work_history", label, None, agency, "missing", step)
    gaps = [
        g
        for g in work_gaps([dates[c.id] for c in jobs if dates.get(c.id, (None,))[0]], ctx.on)
        if not any(s <= g.start and g.end <= e for s, e in ctx.explained)
    ]
    if gaps:
        g = gaps[0]
        step = f"Gap {g.start} to {g.end} ({g.months} months): ask the candidate to explain it."
        return ChecklistItem("work_history", label, None, agency, "received", step, jobs[0].id)
    unverified = [c for c in jobs if _judge([c], None, label, agency, ctx)[0] != "verified"]
    if unverified:
        step = "Verify each past employment with the employer and record it."
        return ChecklistItem(
            "work_history", label, None, agency, "received", step, unverified[0].id
        )
    day = min(ctx.checks[c.id].verified_on for c in jobs)
    return ChecklistItem("work_history", label, None, agency, "verified", "None.", jobs[0].id, day)


def _not_required(
    version: RequirementVersion, category: str | None, chosen: set[str]
) -> list[ChecklistItem]:
    base = version.base_set(category) if category else None
    return [
        ChecklistItem(
            r.id,
            r.label,
            None,
            agency_for(r.doc_type, None, category),
            "not_required",
            "None: not required for this department.",
            required=False,
        )
        for r in (base.requirements if base else ())
        if r.id not in chosen
    ]


def build_checklist(
    session: Session,
    requirements: Requirements,
    provider_id: int,
    on: date,
    *,
    max_age_days: int = 120,
) -> Checklist:
    """The checklist as of `on` (the committee's decision day, or today)."""
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise ProviderNotFound(f"provider {provider_id} not found")
    (p,) = load_facts(session, ProviderFilter(active_only=False, provider_ids=(provider_id,)))
    creds = list(session.query(Credential).filter(Credential.provider_id == provider_id))
    ctx = _Ctx(
        on,
        max_age_days,
        p.staff_category,
        latest_verifications(session, (c.id for c in creds)),
        {c.id: c.issuer for c in creds},
        tuple((g.gap_start, g.gap_end) for g in gap_explanations(session, provider_id)),
    )
    dates = {c.id: (c.start_date, c.end_date) for c in creds}
    version = requirements.version_on(on)
    rules = version.rules_for(p.staff_category, p.states, p.department)
    facts = list(p.credentials)
    items: list[ChecklistItem] = []
    if rules is None:
        why = "Set the staff category: no requirement set applies yet."
        items.append(
            ChecklistItem(
                "rules", "Requirement set", None, "the credentialing office", "missing", why
            )
        )
    else:
        for req in rules.requirements:
            items.extend(_requirement_items(req, facts, p.states, ctx))
        items.append(_references(facts, ctx))
        items.append(_work_history(facts, ctx, dates))
        items.extend(_not_required(version, p.staff_category, {r.id for r in rules.requirements}))
    return Checklist(provider.id, provider.name, provider.status, on, max_age_days, tuple(items))


def checklist_json(c: Checklist) -> dict[str, Any]:
    """The API's shape: `{"items": [...], "ready_for_committee": bool}`."""
    return {
        "provider_id": c.provider_id,
        "status": c.status,
        "on": c.on.isoformat(),
        "max_age_days": c.max_age_days,
        "ready_for_committee": c.ready_for_committee,
        "items": [
            {
                "requirement": i.requirement,
                "label": i.label,
                "state": i.state,
                "agency": i.agency,
                "status": i.status,
                "next_step": i.next_step,
                "credential_id": i.credential_id,
                "verified_on": i.verified_on.isoformat() if i.verified_on else None,
                "required": i.required,
            }
            for i in c.items
        ],
    }
