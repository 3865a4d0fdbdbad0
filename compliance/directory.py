"""The clinician directory: search, filters, sorting and paging over every clinician, and
its CSV export. Plain data out (`DirectoryPage`), no web code.

The compliance standing is read from the kept judgement (`models.compliance_status`, written
by `compliance.standing.refresh`) as of a day, the same way the dashboard reads it, so one
page is a single query over `providers` left-joined to `provider_compliance` at 20,000
clinicians. A row judged under other rules (or never) shows as `unknown`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from sqlalchemy import String, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from compliance.expirations import _cell as csv_cell  # one rule for formula-safe cells
from models import Credential, Provider
from models.compliance_status import ComplianceSpan, ProviderCompliance

Standing = Literal["compliant", "at_risk", "non_compliant", "unknown"]
STANDINGS: tuple[str, ...] = ("compliant", "at_risk", "non_compliant", "unknown")
STATUSES: tuple[str, ...] = ("active", "inactive", "all")
SORTS: dict[str, str] = {
    "name": "Name",
    "npi": "NPI",
    "category": "Staff category",
    "department": "Department",
    "standing": "Compliance",
    "updated": "Last changed",
}
PAGE_SIZES = (25, 50, 100)
MAX_QUERY = 100
CSV_COLUMNS = (
    "provider_id", "name", "npi", "email", "staff_category", "department", "states",
    "active", "standing", "at_risk_from", "non_compliant_from",
)  # fmt: skip


@dataclass(frozen=True)
class DirectoryQuery:
    """What the directory was asked for: every value comes from the page's query string."""

    q: str = ""
    category: str | None = None
    department: str | None = None
    state: str | None = None
    status: str = "active"
    standing: str | None = None
    sort: str = "name"
    desc: bool = False
    page: int = 1
    per_page: int = 50

    def normalised(self) -> DirectoryQuery:
        """Unknown values fall back to the defaults instead of failing the page."""
        return replace(
            self,
            q=" ".join(self.q.split())[:MAX_QUERY],
            category=self.category or None,
            department=self.department or None,
            state=(self.state or "").strip().upper()[:2] or None,
            status=self.status if self.status in STATUSES else "active",
            standing=self.standing if self.standing in STANDINGS else None,
            sort=self.sort if self.sort in SORTS else "name",
            page=max(1, self.page),
            per_page=self.per_page if self.per_page in PAGE_SIZES else 50,
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """The query string for this query with `changes` (defaults left out: short URLs)."""
        values = {**self.__dict__, **changes}
        defaults = DirectoryQuery().__dict__
        out: dict[str, str] = {}
        for key, value in values.items():
            if value in (None, "") or value == defaults[key]:
                continue
            out[key] = ("1" if value else "") if isinstance(value, bool) else str(value)
        return out


@dataclass(frozen=True)
class DirectoryRow:
    id: int
    name: str
    npi: str | None
    email: str | None
    staff_category: str | None
    department: str | None
    states: tuple[str, ...]
    active: bool
    standing: str
    at_risk_from: date | None
    non_compliant_from: date | None


@dataclass(frozen=True)
class DirectoryPage:
    query: DirectoryQuery
    rows: list[DirectoryRow]
    total: int
    pages: int
    choices: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Judgement:
    """The kept judgement as of `on` under rules `key`: the clinician's row, and whether a
    CME shortfall span covers `on` (an uncorrelated IN: the few short clinicians are found
    once per query, not by a subquery per clinician)."""

    on: date
    key: str
    short: ColumnElement[bool]

    @classmethod
    def of(cls, on: date, key: str) -> _Judgement:
        spans = ComplianceSpan
        ids = select(spans.provider_id).where(
            spans.starts <= on, or_(spans.ends.is_(None), spans.ends > on)
        )
        return cls(on, key, Provider.id.in_(ids))

    def joined(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.outerjoin(ProviderCompliance, ProviderCompliance.provider_id == Provider.id)

    def is_(self, standing: str) -> ColumnElement[bool]:
        """The same as `standing() == standing`, as plain conditions an index can answer
        (rules key, then the dates)."""
        pc, on = ProviderCompliance, self.on
        judged = pc.rules_key == self.key
        if standing == "unknown":
            return or_(pc.rules_key.is_(None), pc.rules_key != self.key)
        if standing == "non_compliant":
            return and_(judged, pc.non_compliant_from <= on)
        not_nc = or_(pc.non_compliant_from.is_(None), pc.non_compliant_from > on)
        if standing == "at_risk":
            return and_(judged, not_nc, or_(pc.at_risk_from <= on, self.short))
        not_ar = or_(pc.at_risk_from.is_(None), pc.at_risk_from > on)
        return and_(judged, not_nc, not_ar, ~self.short)

    def standing(self) -> ColumnElement[str]:
        """The standing on `on`, as `compliance.standing.Standing.level_on` says."""
        pc, on = ProviderCompliance, self.on
        return case(
            (or_(pc.rules_key.is_(None), pc.rules_key != self.key), literal("unknown")),
            (pc.non_compliant_from <= on, literal("non_compliant")),
            (or_(pc.at_risk_from <= on, self.short), literal("at_risk")),
            else_=literal("compliant"),
        )  # fmt: skip


def _search(q: str) -> ColumnElement[bool]:
    """Name (any part, any case), NPI (prefix) or a credential's number (exact)."""
    digits = q.replace(" ", "")
    like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    terms: list[ColumnElement[bool]] = [func.lower(Provider.name).like(like, escape="\\")]
    if digits.isdigit():
        terms.append(Provider.npi.like(digits + "%"))
    # the few clinicians holding that number, from its index (not a probe per clinician)
    holders = select(Credential.provider_id).where(
        func.upper(Credential.credential_number) == q.upper()
    )
    terms.append(Provider.id.in_(holders))
    return or_(*terms)


def _conditions(query: DirectoryQuery, j: _Judgement) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.q:
        where.append(_search(query.q))
    if query.category:
        where.append(Provider.staff_category == query.category)
    if query.department:
        where.append(Provider.department == query.department)
    if query.state:
        # JSON list as text on both databases: ["CA", "NV"]
        where.append(cast(Provider.states, String).like(f'%"{query.state}"%'))
    if query.status != "all":
        where.append(Provider.active.is_(query.status == "active"))
    if query.standing:
        where.append(j.is_(query.standing))
    return where


def _needs_judgement(query: DirectoryQuery) -> bool:
    return bool(query.standing) or query.sort == "standing"


def _selecting(stmt: Select[Any], query: DirectoryQuery, j: _Judgement, join: bool) -> Select[Any]:
    """`stmt` over the providers the query selects, joined to the kept judgement if `join`."""
    if join:
        stmt = j.joined(stmt)
    where = _conditions(query, j)
    return stmt.where(and_(*where)) if where else stmt


def _ordered(stmt: Select[Any], query: DirectoryQuery, j: _Judgement) -> Select[Any]:
    standing = j.standing()
    rank = case(
        (standing == "non_compliant", 0), (standing == "at_risk", 1),
        (standing == "unknown", 2), else_=3,
    )  # fmt: skip
    columns: dict[str, Any] = {
        "name": Provider.name,
        "npi": Provider.npi,
        "category": Provider.staff_category,
        "department": Provider.department,
        "standing": rank,
        "updated": Provider.updated_at,
    }
    col = columns[query.sort]
    first = col.desc() if query.desc else col.asc()
    keys = [first.nulls_last()] if query.sort not in ("name", "standing") else [first]
    if query.sort != "name":
        keys.append(Provider.name.asc())
    return stmt.order_by(*keys, Provider.id.asc())


def _wide(j: _Judgement) -> Select[Any]:
    """What a row shows: the clinician and the kept judgement."""
    return j.joined(select(
        Provider.id, Provider.name, Provider.npi, Provider.email, Provider.staff_category,
        Provider.department, Provider.states, Provider.active, j.standing().label("standing"),
        ProviderCompliance.at_risk_from, ProviderCompliance.non_compliant_from,
    ))  # fmt: skip


def _row(r: Any) -> DirectoryRow:
    return DirectoryRow(
        id=r.id, name=r.name, npi=r.npi, email=r.email, staff_category=r.staff_category,
        department=r.department, states=tuple(str(s) for s in (r.states or ())),
        active=bool(r.active), standing=r.standing, at_risk_from=r.at_risk_from,
        non_compliant_from=r.non_compliant_from,
    )  # fmt: skip


def choices(session: Session, categories: list[str] | tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Values for the filter drop-downs: the configured categories and those in use."""
    deps = session.scalars(
        select(Provider.department).distinct().where(Provider.department.is_not(None))
    )
    cats = session.scalars(
        select(Provider.staff_category).distinct().where(Provider.staff_category.is_not(None))
    )
    return {
        "departments": sorted(d for d in deps if d),
        "categories": sorted(set(categories) | {c for c in cats if c}),
    }


def directory(
    session: Session,
    query: DirectoryQuery,
    *,
    on: date,
    rules_key: str,
    categories: list[str] | tuple[str, ...] = (),
) -> DirectoryPage:
    """One page of the directory (the last page when `page` is beyond it)."""
    query = query.normalised()
    j = _Judgement.of(on, rules_key)
    join = _needs_judgement(query)
    counting = _selecting(select(func.count(Provider.id)), query, j, join)
    total = session.scalar(counting) or 0
    pages = max(1, -(-total // query.per_page))
    query = replace(query, page=min(query.page, pages))
    # a deferred join: the page's ids from the narrow (indexed) query, then their rows
    ids_stmt = _ordered(_selecting(select(Provider.id), query, j, join), query, j)
    ids = list(session.scalars(
        ids_stmt.limit(query.per_page).offset((query.page - 1) * query.per_page)
    ))  # fmt: skip
    found = {r.id: _row(r) for r in session.execute(
        _wide(j).where(Provider.id.in_(ids)))}  # fmt: skip
    rows = [found[i] for i in ids if i in found]
    return DirectoryPage(query, rows, total, pages, choices(session, categories))


def iter_rows(
    session: Session, query: DirectoryQuery, *, on: date, rules_key: str
) -> Iterator[DirectoryRow]:
    """Every row the query selects (no paging), in its order, read in batches."""
    query = query.normalised()
    j = _Judgement.of(on, rules_key)
    stmt = _ordered(_selecting(_wide(j), query, j, False), query, j)
    result = session.execute(stmt.execution_options(yield_per=1000))
    for r in result:
        yield _row(r)


def csv_lines(rows: Iterator[DirectoryRow]) -> Iterator[str]:
    """The CSV export line by line (header first); cells a spreadsheet would run as a
    formula are neutralised as the dashboard's export does."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")

    def flush() -> str:
        text = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for r in rows:
        writer.writerow(
            [csv_cell(v) for v in (
                r.id, r.name, r.npi, r.email, r.staff_category, r.department,
                " ".join(r.states), "yes" if r.active else "no", r.standing,
                r.at_risk_from, r.non_compliant_from,
            )]
        )  # fmt: skip
        yield flush()
