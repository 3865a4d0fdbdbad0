"""Is a clinician compliant on a given date, and why: item by item, under one rules version.

The facts are loaded from the database once into plain dataclasses (`load_facts`) and the
judgement (`evaluate`) is pure, so the same code answers today's status, the status on a
past date, and the what-if for a version that has not taken effect yet.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum
from typing import Any

from sqlalchemy import Date, cast, func, select, type_coerce
from sqlalchemy.orm import Session

from compliance.requirements import ProviderRules, Requirement, Requirements, RequirementVersion
from models import Credential, Provider
from models.compliance import CommitteeDecision
from models.verification import CredentialVerification


class Level(IntEnum):
    """Ordered so the worst item decides the clinician's status."""

    COMPLIANT = 0
    AT_RISK = 1
    NON_COMPLIANT = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class CredentialFacts:
    id: int
    provider_id: int
    doc_type: str
    jurisdiction: str | None
    title: str | None
    issue_date: date | None
    expiration_date: date | None
    verified_on: date | None
    problems: str | None
    credit_hours: float | None


@dataclass(frozen=True)
class ProviderFacts:
    id: int
    name: str
    email: str | None
    staff_category: str | None
    department: str | None
    states: tuple[str, ...]
    active: bool
    # the latest approving committee decision: the start of the recredentialing cycle
    last_approved_on: date | None
    credentials: tuple[CredentialFacts, ...] = ()


@dataclass(frozen=True)
class Item:
    """One line of a clinician's status: a requirement (per state where it applies)."""

    key: str  # e.g. "bls", "state_license:CA", "cme", "recredentialing"
    label: str
    level: Level
    kind: str  # ok, missing, expired, expiring, problems, stale_verification, cme_short, ...
    reason: str
    credential_id: int | None = None
    due: date | None = None
    doc_type: str | None = None


@dataclass(frozen=True)
class ProviderStatus:
    provider_id: int
    name: str
    on: date
    version: str
    level: Level
    items: tuple[Item, ...]
    recredential_due: date | None = None

    @property
    def status(self) -> str:
        return self.level.label

    @property
    def findings(self) -> list[Item]:
        return [i for i in self.items if i.level > Level.COMPLIANT]


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


_COURSES = tuple(
    (name, re.compile(r"(?<![a-z])(?:" + "|".join(map(re.escape, words)) + r")(?![a-z])"))
    for name, words in (
        ("ACLS", ("acls", "advanced cardiovascular life support", "advanced cardiac life support")),
        ("PALS", ("pals", "pediatric advanced life support")),
        ("NRP", ("nrp", "neonatal resuscitation")),
        ("BLS", ("bls", "basic life support")),
    )
)


def course_of(title: str | None) -> str | None:
    """BLS / ACLS / PALS / NRP from a life-support card's title (the advanced ones first)."""
    text = (title or "").casefold()
    for name, pattern in _COURSES:
        if pattern.search(text):
            return name
    return None


def group_key(cred: CredentialFacts) -> tuple[str, str, str]:
    """Credentials that replace each other: a renewed licence of the same state, a new card
    of the same course. Only the latest of a group is current."""
    if cred.doc_type == "life_support_card":
        return (cred.doc_type, "", course_of(cred.title) or (cred.title or "").casefold())
    if cred.doc_type == "board_certification":
        return (cred.doc_type, "", (cred.title or "").casefold().strip())
    if cred.doc_type in ("cme_certificate", "reference_letter", "employment_verification"):
        return (cred.doc_type, "", f"#{cred.id}")  # each one counts on its own
    return (cred.doc_type, cred.jurisdiction or "", "")


def effective_expiry(cred: CredentialFacts, validity_months: int | None) -> date | None:
    """The printed expiration date; else issue date + validity (e.g. a card without one)."""
    if cred.expiration_date is not None:
        return cred.expiration_date
    if validity_months and cred.issue_date is not None:
        return add_months(cred.issue_date, validity_months)
    return None


def validity_for(cred: CredentialFacts, rules: ProviderRules | None) -> int | None:
    if rules is None:
        return None
    for r in rules.requirements:
        if r.doc_type == cred.doc_type and r.matches_title(cred.title):
            return r.validity_months
    return None


def current_credentials(
    creds: Iterable[CredentialFacts], rules: ProviderRules | None
) -> list[tuple[CredentialFacts, date | None]]:
    """Each credential that no later one of its group replaces, with its effective expiry."""
    best: dict[tuple[str, str, str], tuple[CredentialFacts, date | None]] = {}
    for c in creds:
        exp = effective_expiry(c, validity_for(c, rules))
        k = group_key(c)
        held = best.get(k)
        if held is None or _later(exp, c, held[1], held[0]):
            best[k] = (c, exp)
    return list(best.values())


def _later(exp: date | None, c: CredentialFacts, other: date | None, o: CredentialFacts) -> bool:
    a = (exp or date.max, c.issue_date or date.min, c.id)
    b = (other or date.max, o.issue_date or date.min, o.id)
    return a > b


def evaluate(
    provider: ProviderFacts,
    version: RequirementVersion,
    on: date,
    *,
    committee_on: date | None = None,
) -> ProviderStatus:
    """The clinician's status on `on` under `version`, item by item.

    `committee_on` is the date of the next committee decision (verifications must be
    recent then); by default the recredentialing due date, or `on` when no approval is
    on record (initial credentialing pending)."""
    rules = version.rules_for(provider.staff_category, provider.states, provider.department)
    items: list[Item] = []
    recred_due = (
        add_months(provider.last_approved_on, version.recredential_months)
        if provider.last_approved_on
        else None
    )
    if rules is None:
        reason = (
            "staff category not set: no requirements can be checked"
            if not provider.staff_category
            else f"no requirement set for staff category {provider.staff_category!r} "
            f"in version {version.version}"
        )
        items.append(Item("rules", "Requirement set", Level.AT_RISK, "no_rules", reason))
        return _status(provider, on, version, items, recred_due)

    decision_day = committee_on or recred_due or on
    check_verification = (decision_day - on).days <= rules.verification_days
    by_type: dict[str, list[CredentialFacts]] = defaultdict(list)
    for c in provider.credentials:
        by_type[c.doc_type].append(c)

    for req in rules.requirements:
        matching = [c for c in by_type.get(req.doc_type, ()) if req.matches_title(c.title)]
        if req.per_state and provider.states:
            for st in provider.states:
                in_state = [c for c in matching if (c.jurisdiction or "").upper() == st]
                items.extend(
                    _requirement_items(
                        req,
                        in_state,
                        f"{req.id}:{st}",
                        f"{req.label} ({st})",
                        on,
                        rules,
                        decision_day if check_verification else None,
                    )
                )
        else:
            label = req.label
            if req.per_state:
                label += " (any state: no states of practice recorded)"
            items.extend(
                _requirement_items(
                    req,
                    matching,
                    req.id,
                    label,
                    on,
                    rules,
                    decision_day if check_verification else None,
                )
            )

    if rules.cme_hours > 0:
        start = add_months(on, -rules.cme_period_months)
        hours = sum(
            c.credit_hours or 0.0
            for c in by_type.get("cme_certificate", ())
            if c.issue_date is not None and start < c.issue_date <= on
        )
        label = f"CME hours ({rules.cme_hours:g} per {rules.cme_period_months} months)"
        if hours + 1e-9 < rules.cme_hours:
            items.append(
                Item(
                    "cme", label, Level.AT_RISK, "cme_short",
                    f"{hours:g} of {rules.cme_hours:g} CME hours since {start.isoformat()}",
                    due=recred_due, doc_type="cme_certificate",
                )
            )  # fmt: skip
        else:
            items.append(Item("cme", label, Level.COMPLIANT, "ok", f"{hours:g} hours"))

    label = f"Recredentialing (every {rules.recredential_months} months)"
    if recred_due is None:
        items.append(
            Item("recredentialing", label, Level.AT_RISK, "no_decision",
                 "no committee approval on record")
        )  # fmt: skip
    elif recred_due < on:
        items.append(
            Item("recredentialing", label, Level.NON_COMPLIANT, "recred_overdue",
                 f"recredentialing was due on {recred_due.isoformat()}", due=recred_due)
        )  # fmt: skip
    elif (recred_due - on).days <= rules.at_risk_days:
        items.append(
            Item("recredentialing", label, Level.AT_RISK, "recred_due",
                 f"recredentialing due on {recred_due.isoformat()}", due=recred_due)
        )  # fmt: skip
    else:
        items.append(
            Item("recredentialing", label, Level.COMPLIANT, "ok",
                 f"next due {recred_due.isoformat()}", due=recred_due)
        )  # fmt: skip
    return _status(provider, on, version, items, recred_due)


def _requirement_items(
    req: Requirement,
    creds: Sequence[CredentialFacts],
    key: str,
    label: str,
    on: date,
    rules: ProviderRules,
    decision_day: date | None,
) -> list[Item]:
    if not creds:
        return [Item(key, label, Level.NON_COMPLIANT, "missing", "missing", doc_type=req.doc_type)]
    scored = [(effective_expiry(c, req.validity_months), c) for c in creds]
    exp, best = max(scored, key=lambda t: (t[0] or date.max, t[1].issue_date or date.min, t[1].id))
    out: list[Item] = []

    def item(level: Level, kind: str, reason: str) -> Item:
        return Item(key, label, level, kind, reason, best.id, exp, req.doc_type)

    if exp is not None and exp < on:
        out.append(item(Level.NON_COMPLIANT, "expired", f"expired on {exp.isoformat()}"))
    elif exp is not None and (exp - on).days <= rules.at_risk_days:
        days = (exp - on).days
        out.append(
            item(Level.AT_RISK, "expiring", f"expires on {exp.isoformat()} (in {days} days)")
        )
    elif best.problems:
        out.append(item(Level.AT_RISK, "problems", f"validator: {best.problems}"))
    else:
        why = f"valid until {exp.isoformat()}" if exp else "held (no expiry)"
        out.append(item(Level.COMPLIANT, "ok", why))
    if decision_day is not None and best.verified_on is not None:
        age = (decision_day - best.verified_on).days
        if age > rules.verification_days:
            out.append(
                Item(
                    f"verification:{key}", f"Verification of {label}", Level.AT_RISK,
                    "stale_verification",
                    f"verified {best.verified_on.isoformat()}, {age} days before the committee "
                    f"date {decision_day.isoformat()} (at most {rules.verification_days} allowed)",
                    credential_id=best.id, due=decision_day, doc_type=req.doc_type,
                )
            )  # fmt: skip
    return out


def _status(
    provider: ProviderFacts,
    on: date,
    version: RequirementVersion,
    items: list[Item],
    recred_due: date | None,
) -> ProviderStatus:
    level = max((i.level for i in items), default=Level.COMPLIANT)
    return ProviderStatus(
        provider.id, provider.name, on, version.version, level, tuple(items), recred_due
    )


def status_on(provider: ProviderFacts, requirements: Requirements, on: date) -> ProviderStatus:
    """The status under the version in force on `on`."""
    return evaluate(provider, requirements.version_on(on), on)


# --- what-if -------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIfRow:
    provider_id: int
    name: str
    before: Level  # under the rules in force the day before
    after: Level  # under the new version, on its effective date
    why: tuple[Item, ...]  # items worse under the new version


@dataclass(frozen=True)
class WhatIfReport:
    version: str
    effective: date
    previous: str | None
    rows: list[WhatIfRow] = field(default_factory=list)


def what_if(
    providers: Iterable[ProviderFacts], requirements: Requirements, version: RequirementVersion
) -> WhatIfReport:
    """Who would fall out of compliance when `version` takes effect, and why: each clinician
    judged on the effective date under the old rules and under the new ones."""
    on = version.effective
    old = requirements.previous(version)
    rows: list[WhatIfRow] = []
    for p in providers:
        after = evaluate(p, version, on)
        if old is None:
            before_items: dict[str, Level] = {}
            before = Level.COMPLIANT
        else:
            b = evaluate(p, old, on)
            before_items = {i.key: i.level for i in b.items}
            before = b.level
        worse = tuple(i for i in after.items if i.level > before_items.get(i.key, Level.COMPLIANT))
        if after.level > before or (worse and after.level > Level.COMPLIANT):
            rows.append(WhatIfRow(p.id, p.name, before, after.level, worse))
    rows.sort(key=lambda r: (-r.after, r.name))
    return WhatIfReport(version.version, on, old.version if old else None, rows)


def diff_versions(old: RequirementVersion | None, new: RequirementVersion) -> list[str]:
    """What changed between two versions, in words, for the rules page."""
    if old is None:
        return [f"first version, effective {new.effective.isoformat()}"]
    out: list[str] = []
    for name in ("verification_days", "recredential_months", "at_risk_days"):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out.append(f"{name.replace('_', ' ')}: {a} → {b}")
    old_sets = {(s.category, s.state): s for s in old.sets}
    new_sets = {(s.category, s.state): s for s in new.sets}
    for k in sorted(new_sets.keys() - old_sets.keys(), key=str):
        out.append(f"set {new_sets[k].name} added")
    for k in sorted(old_sets.keys() - new_sets.keys(), key=str):
        out.append(f"set {old_sets[k].name} removed")
    for k in sorted(new_sets.keys() & old_sets.keys(), key=str):
        a_set, b_set = old_sets[k], new_sets[k]
        a_items = {r.id: r for r in a_set.requirements}
        b_items = {r.id: r for r in b_set.requirements}
        for rid in b_items.keys() - a_items.keys():
            out.append(f"{b_set.name}: requires {b_items[rid].label}")
        for rid in a_items.keys() - b_items.keys():
            out.append(f"{b_set.name}: no longer requires {a_items[rid].label}")
        for rid in a_items.keys() & b_items.keys():
            if a_items[rid] != b_items[rid]:
                out.append(f"{b_set.name}: {b_items[rid].label} changed")
        if (a_set.cme_hours, a_set.cme_period_months) != (b_set.cme_hours, b_set.cme_period_months):
            out.append(
                f"{b_set.name}: CME {a_set.cme_hours}/{a_set.cme_period_months} months → "
                f"{b_set.cme_hours}/{b_set.cme_period_months} months"
            )
    return out or ["no change in the rules"]


# --- loading the facts -----------------------------------------------------------------


@dataclass(frozen=True)
class ProviderFilter:
    department: str | None = None
    category: str | None = None
    state: str | None = None
    active_only: bool = True
    provider_ids: tuple[int, ...] | None = None


def _hours(text: str | None) -> float | None:
    if not text:
        return None
    m = re.search(r"\d+(?:\.\d+)?", text)
    return float(m.group()) if m else None


def _source_verified(session: Session, which: Any) -> dict[int, date]:
    """The latest primary-source verification day per credential: what the committee's time
    limit runs from. A credential with none keeps its approval day (files from before
    verifications were recorded)."""
    v = CredentialVerification
    q = (
        select(v.credential_id, func.max(v.verified_on))
        .join(Credential, Credential.id == v.credential_id)
        .where(v.result == "verified", which)
        .group_by(v.credential_id)
    )
    return {cid: day for cid, day in session.execute(q)}


def load_facts(session: Session, flt: ProviderFilter | None = None) -> list[ProviderFacts]:
    """Providers (filtered in SQL where possible) with their credentials and last approval,
    in three queries whatever the number of providers."""
    flt = flt or ProviderFilter()
    pq = select(
        Provider.id, Provider.name, Provider.email, Provider.staff_category,
        Provider.department, Provider.states, Provider.active,
    )  # fmt: skip
    if flt.active_only:
        pq = pq.where(Provider.active.is_(True))
    if flt.department:
        pq = pq.where(Provider.department == flt.department)
    if flt.category:
        pq = pq.where(Provider.staff_category == flt.category)
    if flt.provider_ids is not None:
        pq = pq.where(Provider.id.in_(flt.provider_ids))
    prows = session.execute(pq.order_by(Provider.name, Provider.id)).all()
    state = flt.state.upper() if flt.state else None
    if state:
        prows = [r for r in prows if state in [str(s).upper() for s in (r.states or [])]]
    wanted = {r.id for r in prows}
    if not wanted:
        return []
    ids_sub = pq.with_only_columns(Provider.id).scalar_subquery()
    c = Credential.__table__.c
    conn = session.connection()
    # the verification day computed by the database: no datetime object per row
    if conn.dialect.name == "sqlite":
        verified_day: Any = type_coerce(func.date(c.verified_at), Date)
    else:
        verified_day = cast(func.timezone("UTC", c.verified_at), Date)
    cq = select(
        c.id, c.provider_id, c.doc_type, c.jurisdiction, c.credential_title, c.issue_date,
        c.expiration_date, verified_day, c.problems, c.credit_hours,
    ).where(c.provider_id.in_(ids_sub))  # fmt: skip
    psv = _source_verified(session, c.provider_id.in_(ids_sub))
    creds: dict[int, list[CredentialFacts]] = defaultdict(list)
    for cid, pid, doc_type, jur, title, issued, expires, verified, problems, hours in conn.execute(
        cq
    ):
        if pid not in wanted:
            continue
        creds[pid].append(
            CredentialFacts(
                cid, pid, doc_type, jur.upper() if jur else None, title, issued, expires,
                psv.get(cid, verified), problems or None, _hours(hours) if hours else None,
            )
        )  # fmt: skip
    dq = (
        select(CommitteeDecision.provider_id, func.max(CommitteeDecision.decided_on))
        .where(CommitteeDecision.decision == "approved")
        .where(CommitteeDecision.provider_id.in_(ids_sub))
        .group_by(CommitteeDecision.provider_id)
    )
    approved = {pid: d for pid, d in session.execute(dq)}
    return [
        ProviderFacts(
            r.id, r.name, r.email, r.staff_category, r.department,
            tuple(str(s).upper() for s in (r.states or [])), bool(r.active),
            approved.get(r.id), tuple(creds.get(r.id, ())),
        )
        for r in prows
    ]  # fmt: skip


def provider_status(
    session: Session, requirements: Requirements, provider_id: int, on: date
) -> ProviderStatus | None:
    facts = load_facts(session, ProviderFilter(active_only=False, provider_ids=(provider_id,)))
    return status_on(facts[0], requirements, on) if facts else None
