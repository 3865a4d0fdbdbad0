"""What is expiring, expired, missing, stale or due: the expirations dashboard and its CSV,
and the plain list behind `GET /api/expiring`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance.requirements import Requirements
from compliance.status import (
    Level,
    ProviderFacts,
    ProviderFilter,
    ProviderStatus,
    current_credentials,
    evaluate,
    load_facts,
)
from models import Credential, Provider
from models.spec import DOC_TYPE_LABELS

SECTIONS = (
    ("expired", "Expired"),
    ("expiring_30", "Expiring within 30 days"),
    ("expiring_60", "Expiring in 31–60 days"),
    ("expiring_90", "Expiring in 61–90 days"),
    ("missing", "Missing required credentials"),
    ("stale_verification", "Verification older than allowed"),
    ("recredentialing", "Recredentialing due"),
)
# the dashboard and reminders say "liability insurance", as managers and clinicians do
DOC_LABELS = {**DOC_TYPE_LABELS, "malpractice_insurance": "Liability insurance"}


@dataclass(frozen=True)
class Row:
    section: str
    provider_id: int
    provider: str
    department: str | None
    category: str | None
    states: str
    credential_id: int | None
    doc_type: str | None
    item: str
    due: date | None
    days: int | None
    reason: str


@dataclass
class Dashboard:
    on: date
    version: str
    providers: int
    sections: dict[str, list[Row]] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)
    # (provider id, department, category, states, level): what filtering needs
    people: list[tuple[int, str | None, str | None, tuple[str, ...], str]] = field(
        default_factory=list
    )
    # rows per section when `sections` holds only the first ones (compliance.standing)
    totals: dict[str, int] = field(default_factory=dict)

    def count(self, section: str) -> int:
        """How many rows the section has (also when only its first rows are held)."""
        return self.totals.get(section, len(self.sections.get(section, ())))

    def rows(self) -> Iterable[Row]:
        for key, _ in SECTIONS:
            yield from self.sections.get(key, [])

    def filtered(self, flt: ProviderFilter) -> Dashboard:
        """The same board for the clinicians a filter selects (no database needed)."""
        state = flt.state.upper() if flt.state else None
        keep = [
            p for p in self.people
            if (not flt.department or p[1] == flt.department)
            and (not flt.category or p[2] == flt.category)
            and (not state or state in p[3])
            and (flt.provider_ids is None or p[0] in flt.provider_ids)
        ]  # fmt: skip
        ids = {p[0] for p in keep}
        levels = {lv.label: 0 for lv in Level}
        for p in keep:
            levels[p[4]] += 1
        return Dashboard(
            on=self.on, version=self.version, providers=len(keep),
            sections={k: [r for r in rows if r.provider_id in ids]
                      for k, rows in self.sections.items()},
            levels=levels, people=keep,
        )  # fmt: skip


def build_dashboard(
    session: Session, requirements: Requirements, on: date, flt: ProviderFilter | None = None
) -> Dashboard:
    """Every section for the clinicians the filter selects (active ones by default)."""
    facts = load_facts(session, flt)
    return dashboard_from_facts(facts, requirements, on)


def dashboard_from_facts(
    facts: Iterable[ProviderFacts],
    requirements: Requirements,
    on: date,
    statuses: dict[int, ProviderStatus] | None = None,
) -> Dashboard:
    version = requirements.version_on(on)
    board = Dashboard(on=on, version=version.version, providers=0)
    sections: dict[str, list[Row]] = {key: [] for key, _ in SECTIONS}
    levels = {lv.label: 0 for lv in Level}
    for p in facts:
        board.providers += 1
        st = statuses.get(p.id) if statuses else None
        st = st or evaluate(p, version, on)
        levels[st.level.label] += 1
        board.people.append((p.id, p.department, p.staff_category, p.states, st.level.label))
        rules = version.rules_for(p.staff_category, p.states, p.department)
        # the requirement a credential meets names it (not the check of its verification)
        labels = {
            i.credential_id: i.label
            for i in st.items
            if i.credential_id is not None and i.kind != "stale_verification"
        }
        states = " ".join(p.states)

        def row(section: str, **kw: Any) -> Row:
            return Row(section, p.id, p.name, p.department, p.staff_category, states, **kw)  # noqa: B023

        for cred, exp in current_credentials(p.credentials, rules):
            if exp is None:
                continue
            days = (exp - on).days
            if days < 0:
                section = "expired"
            elif days <= 30:
                section = "expiring_30"
            elif days <= 60:
                section = "expiring_60"
            elif days <= 90:
                section = "expiring_90"
            else:
                continue
            item = labels.get(cred.id) or describe(cred.doc_type, cred.title, cred.jurisdiction)
            reason = f"expired on {exp.isoformat()}" if days < 0 else f"expires in {days} days"
            if cred.id not in labels:
                reason += " (not required by the rules)"
            sections[section].append(
                row(section, credential_id=cred.id, doc_type=cred.doc_type, item=item,
                    due=exp, days=days, reason=reason)
            )  # fmt: skip
        for i in st.items:
            kind_section = {
                "missing": "missing",
                "stale_verification": "stale_verification",
                "recred_due": "recredentialing",
                "recred_overdue": "recredentialing",
            }.get(i.kind)
            if kind_section is None:
                continue
            sections[kind_section].append(
                row(kind_section, credential_id=i.credential_id, doc_type=i.doc_type, item=i.label,
                    due=i.due, days=(i.due - on).days if i.due else None, reason=i.reason)
            )  # fmt: skip
    for rows in sections.values():
        rows.sort(key=lambda r: (r.due or date.max, r.provider, r.item))
    board.sections = sections
    board.levels = levels
    return board


def describe(doc_type: str, title: str | None, jurisdiction: str | None) -> str:
    text = DOC_LABELS.get(doc_type, doc_type)
    if title:
        text += f" – {title}"
    if jurisdiction:
        text += f" ({jurisdiction})"
    return text


CSV_COLUMNS = (
    "section", "provider_id", "provider", "department", "category", "states",
    "credential_id", "doc_type", "item", "due", "days", "reason",
)  # fmt: skip


def _cell(value: Any) -> str:
    """Text that a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else (value.isoformat() if isinstance(value, date) else str(value))
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def dashboard_csv(board: Dashboard) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in board.rows():
        d = asdict(r)
        writer.writerow([_cell(d[c]) for c in CSV_COLUMNS])
    return out.getvalue()


@dataclass(frozen=True)
class Expiring:
    provider_id: int
    credential_id: int
    doc_type: str
    expiration_date: date
    days_left: int
    status: str  # "expired" or "expiring"
    jurisdiction: str | None
    credential_title: str | None
    provider_active: bool

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["expiration_date"] = self.expiration_date.isoformat()
        return d


def _expiring_query(on: date, within_days: int, active_only: bool) -> Any:
    q = (
        select(
            Credential.id, Credential.provider_id, Credential.doc_type,
            Credential.expiration_date, Credential.jurisdiction, Credential.credential_title,
            Provider.active,
        )
        .join(Provider, Provider.id == Credential.provider_id)
        .where(Credential.expiration_date.is_not(None))
        .where(Credential.expiration_date <= on + timedelta(days=within_days))
        .order_by(Credential.expiration_date, Credential.id)
    )  # fmt: skip
    if active_only:
        q = q.where(Provider.active.is_(True))
    return q


def expiring(
    session: Session, on: date, within_days: int, *, active_only: bool = False
) -> list[Expiring]:
    """Credentials whose printed expiration date is within `within_days` of `on`, or past."""
    out: list[Expiring] = []
    for r in session.execute(_expiring_query(on, within_days, active_only)):
        days = (r.expiration_date - on).days
        out.append(
            Expiring(
                r.provider_id, r.id, r.doc_type, r.expiration_date, days,
                "expired" if days < 0 else "expiring", r.jurisdiction, r.credential_title,
                bool(r.active),
            )
        )  # fmt: skip
    return out


def expiring_json(
    session: Session, on: date, within_days: int, *, active_only: bool = False
) -> str:
    """`GET /api/expiring`'s body: the rows of `expiring` written straight to JSON (tens
    of thousands of them at a large site: no object per row, no encoder walking dicts)."""
    names = ("provider_id", "credential_id", "doc_type", "expiration_date", "days_left",
             "status", "jurisdiction", "credential_title", "provider_active")  # fmt: skip
    items = []
    for cid, pid, doc_type, expires, jur, title, active in session.execute(
        _expiring_query(on, within_days, active_only)
    ):
        days = (expires - on).days
        items.append(dict(zip(names, (
            pid, cid, doc_type, expires.isoformat(), days, "expired" if days < 0 else "expiring",
            jur, title, bool(active),
        ), strict=True)))  # fmt: skip
    body = {"on": on.isoformat(), "within_days": within_days, "items": items}
    return json.dumps(body, separators=(",", ":"))
