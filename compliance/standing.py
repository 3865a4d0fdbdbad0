"""Each clinician's judgement kept in the database, so the expirations dashboard is a query.

Judging 20,000 clinicians in Python takes seconds; the dashboard must answer in a fraction
of one, also in a process that has just started. So the judgement of `status.evaluate` is
written down per clinician (models/compliance_status.py) and the dashboard reads it.

Why dates and not statuses: the judgement changes with the calendar (a licence lapses at
midnight, a verification grows too old, CME hours age out of their window), and a status
stored yesterday would be wrong today until something re-judged everyone. Within one
version of the rules every item's level is a step function of the day looked at, so the
steps are stored instead: the day a clinician becomes at risk, the day non-compliant, the
spans of days short of CME hours (the one item that can also get better by itself), and
for each dashboard row the day it starts to show. The database then answers for any day
(`on`) with comparisons, and nothing needs a daily pass. Reasons that name a number of days
are worded when the rows are read.

What is kept current, and how:
- a change of a clinician's facts (approval, an edit of category, department, states or
  active, a committee decision, a removal) calls `models.compliance_status.mark_stale` in
  the transaction of the change; the next dashboard read judges the few stale clinicians
  again before it answers (`Keeper.ready`); a clinician with no row yet (created by any
  path) counts as stale too;
- a change of the rules, or a new version taking effect, changes `rules_key`: every
  clinician is judged again once, in batches in a background thread (progress in
  `Keeper.progress` and the log) or with `credflow compliance refresh`; until that is done
  the dashboard answers from the Python judgement as before;
- a day under another rules version than today's is answered from the Python judgement.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from compliance.expirations import SECTIONS, Dashboard, Row, describe
from compliance.requirements import Requirement, Requirements, RequirementVersion
from compliance.status import (
    CredentialFacts,
    Level,
    ProviderFacts,
    ProviderFilter,
    add_months,
    current_credentials,
    effective_expiry,
    load_facts,
)
from models import Database, Provider
from models.compliance_status import (
    ALWAYS,
    ComplianceItem,
    ComplianceMeta,
    ComplianceSpan,
    ProviderCompliance,
)

log = logging.getLogger(__name__)

EXPIRY_WINDOW = 90  # the last expiring section ends 90 days out
PC = cast(Table, ProviderCompliance.__table__)
ITEMS = cast(Table, ComplianceItem.__table__)
SPANS = cast(Table, ComplianceSpan.__table__)
PROVIDERS = cast(Table, Provider.__table__)


@dataclass(frozen=True)
class ItemRow:
    kind: str  # expiry, missing, stale, recred
    credential_id: int | None
    doc_type: str | None
    item: str
    due: date | None
    shows_from: date
    required: bool = False
    verified_on: date | None = None
    limit_days: int | None = None


@dataclass(frozen=True)
class Standing:
    """One clinician's judgement under one rules version, as dates."""

    provider_id: int
    name: str
    active: bool
    department: str | None
    category: str | None
    states: str
    at_risk_from: date | None
    non_compliant_from: date | None
    cme_short: tuple[tuple[date, date | None], ...]
    items: tuple[ItemRow, ...]

    def level_on(self, on: date) -> Level:
        if self.non_compliant_from is not None and on >= self.non_compliant_from:
            return Level.NON_COMPLIANT
        if self.at_risk_from is not None and on >= self.at_risk_from:
            return Level.AT_RISK
        if any(s <= on and (e is None or on < e) for s, e in self.cme_short):
            return Level.AT_RISK
        return Level.COMPLIANT


def rules_key(version: RequirementVersion) -> str:
    """A hash of the rules version in force: any change in it means judging everyone again."""
    text = json.dumps(version.model_dump(mode="json"), sort_keys=True, default=str)
    return f"{version.version[:30]}:{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def _shift(day: date, days: int) -> date | None:
    """`day` + `days`, or ALWAYS / None (never) where the calendar ends."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return ALWAYS if days < 0 else None


def judge(p: ProviderFacts, version: RequirementVersion) -> Standing:  # noqa: C901
    """What `status.evaluate(p, version, on)` and the dashboard say, for every `on`.

    Mirrors `evaluate` item by item; tests/compliance/test_standing.py holds the two equal
    over many days and after each kind of change."""
    rules = version.rules_for(p.staff_category, p.states, p.department)
    at_risk: list[date | None] = []
    non_compliant: list[date | None] = []
    rows: list[ItemRow] = []
    labels: dict[int, str] = {}
    short: tuple[tuple[date, date | None], ...] = ()
    recred = (
        add_months(p.last_approved_on, version.recredential_months) if p.last_approved_on else None
    )
    if rules is None:
        at_risk.append(ALWAYS)  # no requirement set: at risk whatever the day
    else:
        by_type: dict[str, list[CredentialFacts]] = defaultdict(list)
        for c in p.credentials:
            by_type[c.doc_type].append(c)
        days_ok = rules.verification_days

        def requirement(req: Requirement, creds: Sequence[CredentialFacts], label: str) -> None:
            if not creds:
                non_compliant.append(ALWAYS)
                rows.append(ItemRow("missing", None, req.doc_type, label, None, ALWAYS))
                return
            scored = [(effective_expiry(c, req.validity_months), c) for c in creds]
            exp, best = max(
                scored, key=lambda t: (t[0] or date.max, t[1].issue_date or date.min, t[1].id)
            )
            labels[best.id] = label
            if exp is not None:
                non_compliant.append(_shift(exp, 1))
                at_risk.append(_shift(exp, -rules.at_risk_days))
            if best.problems:
                at_risk.append(ALWAYS)
            if best.verified_on is None:
                return
            # stale when the committee date (recredentialing, else the day itself) is
            # within `days_ok` of the day and the verification older than `days_ok` then
            if recred is None:
                start = _shift(best.verified_on, days_ok + 1)
                due = None
            elif (recred - best.verified_on).days > days_ok:
                start, due = _shift(recred, -days_ok), recred
            else:
                return
            if start is None:
                return
            at_risk.append(start)
            rows.append(
                ItemRow("stale", best.id, req.doc_type, f"Verification of {label}", due, start,
                        verified_on=best.verified_on, limit_days=days_ok)
            )  # fmt: skip

        for req in rules.requirements:
            matching = [c for c in by_type.get(req.doc_type, ()) if req.matches_title(c.title)]
            if req.per_state and p.states:
                for st in p.states:
                    in_state = [c for c in matching if (c.jurisdiction or "").upper() == st]
                    requirement(req, in_state, f"{req.label} ({st})")
            else:
                label = req.label
                if req.per_state:
                    label += " (any state: no states of practice recorded)"
                requirement(req, matching, label)
        if rules.cme_hours > 0:
            short = cme_short_spans(
                by_type.get("cme_certificate", ()), rules.cme_hours, rules.cme_period_months
            )
        if recred is None:
            at_risk.append(ALWAYS)  # no committee approval on record
        else:
            shows = _shift(recred, -rules.at_risk_days) or ALWAYS
            at_risk.append(shows)
            non_compliant.append(_shift(recred, 1))
            rows.append(
                ItemRow("recred", None, None,
                        f"Recredentialing (every {rules.recredential_months} months)",
                        recred, shows)
            )  # fmt: skip
    expiries = [
        ItemRow(
            "expiry", cred.id, cred.doc_type,
            labels.get(cred.id) or describe(cred.doc_type, cred.title, cred.jurisdiction),
            exp, _shift(exp, -EXPIRY_WINDOW) or ALWAYS, required=cred.id in labels,
        )
        for cred, exp in current_credentials(p.credentials, rules)
        if exp is not None
    ]  # fmt: skip
    return Standing(
        p.id, p.name, p.active, p.department, p.staff_category, " " + " ".join(p.states) + " ",
        min((d for d in at_risk if d is not None), default=None),
        min((d for d in non_compliant if d is not None), default=None),
        short, tuple(expiries + rows),
    )  # fmt: skip


def _leaves(issued: date, months: int) -> date | None:
    """The first day whose CME window (`months` back, start excluded) no longer holds
    `issued`, or None past the calendar's end."""
    try:
        day = add_months(issued, months)
        while add_months(day - timedelta(days=1), -months) >= issued:
            day -= timedelta(days=1)
        while add_months(day, -months) < issued:
            day += timedelta(days=1)
    except (OverflowError, ValueError):
        return None
    return day


def cme_short_spans(
    certs: Iterable[CredentialFacts], needed: float, months: int
) -> tuple[tuple[date, date | None], ...]:
    """The spans of days on which the CME hours of the last `months` fall short of
    `needed`, computed as `evaluate` does on each day where the hours can change."""
    dated = [c for c in certs if c.issue_date is not None]
    points: set[date] = set()
    for c in dated:
        assert c.issue_date is not None
        points.add(c.issue_date)
        gone = _leaves(c.issue_date, months)
        if gone is not None:
            points.add(gone)

    def short_on(day: date) -> bool:
        start = add_months(day, -months)
        hours = sum(
            c.credit_hours or 0.0
            for c in dated
            if c.issue_date is not None and start < c.issue_date <= day
        )
        return hours + 1e-9 < needed

    spans: list[tuple[date, date | None]] = []
    begun: date | None = ALWAYS  # before the first certificate: no hours at all
    for day in sorted(points):
        now_short = short_on(day)
        if begun is not None and not now_short:
            spans.append((begun, day))
            begun = None
        elif begun is None and now_short:
            begun = day
    if begun is not None:
        spans.append((begun, None))
    return tuple(spans)


# --- writing ------------------------------------------------------------------------


def _dialect(session: Session) -> Any:
    return postgresql if session.connection().dialect.name == "postgresql" else sqlite


def _lock(session: Session, key: str) -> None:
    """Refreshes take the meta row first: one at a time, and on SQLite the write lock is
    taken before anything is read (no stale snapshot to upgrade)."""
    session.execute(
        update(ComplianceMeta).where(ComplianceMeta.id == 1)
        .values(rules_key=key, refreshed_at=datetime.now(UTC))
    )  # fmt: skip


def refresh(session: Session, version: RequirementVersion, provider_ids: Sequence[int]) -> int:
    """Judge these clinicians again under `version` and write their rows; returns how many.

    Call it in a transaction of its own (it locks the meta row first)."""
    if not provider_ids:
        return 0
    key = rules_key(version)
    _lock(session, key)
    ids = sorted(set(provider_ids))
    seen: dict[int, int] = {
        pid: n
        for pid, n in session.execute(
            select(PC.c.provider_id, PC.c.changes).where(PC.c.provider_id.in_(ids))
        )
    }
    facts = load_facts(session, ProviderFilter(active_only=False, provider_ids=tuple(ids)))
    standings = [judge(f, version) for f in facts]
    conn = session.connection()
    conn.execute(delete(ITEMS).where(ITEMS.c.provider_id.in_(ids)))
    conn.execute(delete(SPANS).where(SPANS.c.provider_id.in_(ids)))
    if not standings:
        return 0
    now = datetime.now(UTC)
    insert = _dialect(session).insert(PC)
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[PC.c.provider_id],
            set_={
                "rules_key": insert.excluded.rules_key,
                "states": insert.excluded.states,
                "active": insert.excluded.active,
                "department": insert.excluded.department,
                "category": insert.excluded.category,
                "at_risk_from": insert.excluded.at_risk_from,
                "non_compliant_from": insert.excluded.non_compliant_from,
                "judged_at": insert.excluded.judged_at,
                # a change marked after the facts were read keeps the row stale
                "stale": PC.c.changes != insert.excluded.changes,
            },
        ),
        [
            {"provider_id": st.provider_id, "rules_key": key, "stale": False,
             "changes": seen.get(st.provider_id, 0), **_who(st),
             "at_risk_from": st.at_risk_from, "non_compliant_from": st.non_compliant_from,
             "judged_at": now}
            for st in standings
        ],
    )  # fmt: skip
    item_rows = [
        {"provider_id": st.provider_id, "seq": n, "kind": r.kind,
         "credential_id": r.credential_id, "doc_type": r.doc_type, "item": r.item, "due": r.due,
         "shows_from": r.shows_from, "required": r.required, "verified_on": r.verified_on,
         "limit_days": r.limit_days, "name": st.name, **_who(st)}
        for st in standings for n, r in enumerate(st.items)
    ]  # fmt: skip
    if item_rows:
        conn.execute(ITEMS.insert(), item_rows)
    span_rows = [
        {"provider_id": st.provider_id, "starts": s, "ends": e}
        for st in standings
        for s, e in st.cme_short
    ]
    if span_rows:
        conn.execute(SPANS.insert(), span_rows)
    return len(standings)


def _who(st: Standing) -> dict[str, Any]:
    """The clinician's values the filters select on."""
    return {"active": st.active, "department": st.department, "category": st.category,
            "states": st.states}  # fmt: skip


def _pending_where(key: str) -> ColumnElement[bool]:
    return or_(PC.c.provider_id.is_(None), PC.c.rules_key != key, PC.c.stale.is_(True))


def pending(session: Session, key: str, limit: int, after: int = 0) -> list[int]:
    """Ids of clinicians not judged under `key`, or marked stale since (id order)."""
    q = (
        select(PROVIDERS.c.id)
        .select_from(PROVIDERS.outerjoin(PC, PC.c.provider_id == PROVIDERS.c.id))
        .where(_pending_where(key), PROVIDERS.c.id > after)
        .order_by(PROVIDERS.c.id)
        .limit(limit)
    )
    return list(session.scalars(q))


def refresh_next(
    session: Session, version: RequirementVersion, limit: int, after: int = 0
) -> list[int]:
    """Judge the next `limit` pending clinicians (ids above `after`); returns their ids.
    The lock comes first, so two refreshers never pick the same clinicians."""
    key = rules_key(version)
    _lock(session, key)
    ids = pending(session, key, limit, after)
    refresh(session, version, ids)
    return ids


def pending_count(session: Session, key: str) -> int:
    """How many clinicians wait for a judgement: two index counts, no scan of the rows."""
    fresh = (
        select(func.count())
        .select_from(PC)
        .where(PC.c.rules_key == key, PC.c.stale.is_(False))
        .scalar_subquery()
    )
    total = select(func.count()).select_from(PROVIDERS).scalar_subquery()
    return int(session.execute(select(total - fresh)).scalar_one())


@dataclass
class Progress:
    running: bool = False
    done: int = 0
    total: int = 0
    rules_key: str = ""
    error: str | None = None


@dataclass
class Keeper:
    """Keeps the kept judgement current for one database: the dashboard asks `ready`."""

    db: Database
    # at most this many stale clinicians are judged inside a request; more go to the thread
    inline_limit: int = 300
    batch: int = 1000
    today: Callable[[], date] = field(default=lambda: datetime.now(UTC).date())
    progress: Progress = field(default_factory=Progress)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def version(self, requirements: Requirements) -> RequirementVersion:
        """The version the kept judgement is for: the one in force today."""
        return requirements.version_on(self.today())

    def ready(self, requirements: Requirements, on: date) -> bool:
        """True when the kept rows answer for `on` (after judging the few stale clinicians
        now); False while a full re-judgement runs (it is started here if needed) or when
        `on` falls under another rules version than today's."""
        version = self.version(requirements)
        if requirements.version_on(on) is not version:
            return False
        key = rules_key(version)
        with self.db.session() as s:
            waiting = pending_count(s, key)
        if waiting == 0:
            return True
        if waiting <= self.inline_limit:
            with self.db.session() as s:
                refresh_next(s, version, self.inline_limit)
            return True
        self.start(requirements)
        return False

    def start(self, requirements: Requirements) -> bool:
        """Judge everyone pending in a background thread; False if one already runs."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._thread = threading.Thread(
                target=self._run, args=(requirements,), name="compliance-refresh", daemon=True
            )
            self.progress.running = True
            self._thread.start()
            return True

    def _run(self, requirements: Requirements) -> None:
        try:
            self.rebuild(requirements)
        except Exception as e:  # the dashboard keeps answering from the Python judgement
            log.exception("compliance refresh failed")
            self.progress.error = type(e).__name__
        finally:
            self.progress.running = False

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def rebuild(
        self, requirements: Requirements, report: Callable[[Progress], None] | None = None
    ) -> int:
        """Judge every pending clinician, `batch` per transaction; returns how many."""
        version = self.version(requirements)
        key = rules_key(version)
        with self.db.session() as s:
            total = pending_count(s, key)
        self.progress = Progress(running=True, done=0, total=total, rules_key=key)
        log.info("compliance: judging %d clinicians under rules %s", total, version.version)
        after = 0
        while True:
            with self.db.session() as s:
                ids = refresh_next(s, version, self.batch, after)
            if not ids:
                if after == 0:
                    break
                after = 0  # once more from the start: clinicians marked stale meanwhile
                continue
            self.progress.done += len(ids)
            after = ids[-1]
            if report is not None:
                report(self.progress)
            log.info("compliance: %d of %d clinicians judged", self.progress.done, total)
        self.progress.running = False
        return self.progress.done


# --- reading: the dashboard from the kept rows ---------------------------------------


def _conditions(table: Table, flt: ProviderFilter) -> list[ColumnElement[bool]]:
    """The filter on the copied clinician columns of `table` (ITEMS or PC)."""
    out: list[ColumnElement[bool]] = []
    if flt.active_only:
        out.append(table.c.active.is_(True))
    if flt.department:
        out.append(table.c.department == flt.department)
    if flt.category:
        out.append(table.c.category == flt.category)
    if flt.state:
        out.append(table.c.states.like(f"% {flt.state.upper()} %"))
    if flt.provider_ids is not None:
        out.append(table.c.provider_id.in_(flt.provider_ids))
    return out


def _windows(on: date) -> dict[str, ColumnElement[bool]]:
    """Each section's rows on `on`, as ranges of the (kind, active, due) index."""
    day = timedelta(days=1)
    kind, due, shows = ITEMS.c.kind, ITEMS.c.due, ITEMS.c.shows_from
    return {
        "expired": and_(kind == "expiry", due < on),
        "expiring_30": and_(kind == "expiry", due >= on, due <= on + 30 * day),
        "expiring_60": and_(kind == "expiry", due > on + 30 * day, due <= on + 60 * day),
        "expiring_90": and_(kind == "expiry", due > on + 60 * day, due <= on + 90 * day),
        "missing": kind == "missing",
        "stale_verification": and_(kind == "stale", shows <= on),
        "recredentialing": and_(kind == "recred", shows <= on),
    }


def board(
    session: Session,
    version: RequirementVersion,
    on: date,
    flt: ProviderFilter | None = None,
    *,
    limit: int | None = None,
) -> Dashboard:
    """The dashboard for `on` from the kept rows: the levels, each section's size, and its
    first `limit` rows (all with None), in the order `dashboard_from_facts` gives.

    No joins: the kept rows carry the clinician's name and filter values."""
    flt = flt or ProviderFilter()
    short = exists().where(
        SPANS.c.provider_id == PC.c.provider_id,
        SPANS.c.starts <= on,
        or_(SPANS.c.ends.is_(None), SPANS.c.ends > on),
    )
    level = case(
        (PC.c.non_compliant_from <= on, int(Level.NON_COMPLIANT)),
        (or_(PC.c.at_risk_from <= on, short), int(Level.AT_RISK)),
        else_=int(Level.COMPLIANT),
    ).label("level")
    per = select(level).where(*_conditions(PC, flt)).subquery()
    counted: dict[int, int] = {
        int(lv): int(n)
        for lv, n in session.execute(select(per.c.level, func.count()).group_by(per.c.level))
    }
    levels = {lv.label: int(counted.get(int(lv), 0)) for lv in Level}
    board = Dashboard(on=on, version=version.version, providers=sum(levels.values()))
    board.levels = levels

    conds = _conditions(ITEMS, flt)
    # a stale verification without a committee date is judged on the day looked at
    due = func.coalesce(ITEMS.c.due, literal(on, ITEMS.c.due.type)).label("sort_due")
    cols = (
        ITEMS.c.kind, ITEMS.c.provider_id, ITEMS.c.name, ITEMS.c.department, ITEMS.c.category,
        ITEMS.c.states, ITEMS.c.credential_id, ITEMS.c.doc_type, ITEMS.c.item, ITEMS.c.due,
        due, ITEMS.c.required, ITEMS.c.verified_on, ITEMS.c.limit_days,
    )  # fmt: skip
    windows = _windows(on)
    totals = union_all(*(
        select(literal(key).label("section"), func.count().label("n")).where(where, *conds)
        for key, where in windows.items()
    )).subquery()  # fmt: skip
    board.totals = {key: int(n) for key, n in session.execute(select(totals))}
    for key, where in windows.items():
        if not board.totals.get(key) or limit == 0:
            board.sections[key] = []
            continue
        tail = (ITEMS.c.name, ITEMS.c.item, ITEMS.c.provider_id, ITEMS.c.seq)
        order = (
            tail
            if key == "missing"
            else (ITEMS.c.due if key != "stale_verification" else due, *tail)
        )
        q = select(*cols).where(where, *conds).order_by(*order)
        if limit is not None:
            q = q.limit(limit)
        board.sections[key] = [_row(key, r, on) for r in session.execute(q)]
    return board


def choices(session: Session) -> dict[str, list[str]]:
    """Departments and categories for the filter drop-downs, from the kept rows' indexes."""
    deps = session.scalars(select(PC.c.department).distinct().where(PC.c.department.is_not(None)))
    cats = session.scalars(select(PC.c.category).distinct().where(PC.c.category.is_not(None)))
    return {"departments": sorted(d for d in deps if d), "categories": sorted(c for c in cats if c)}


def _row(section: str, r: Any, on: date) -> Row:
    (kind, pid, name, department, category, states, cid, doc_type, item, raw_due, sort_due,
     required, verified_on, limit_days) = r  # fmt: skip
    due: date | None = sort_due if kind == "stale" else raw_due
    days = (due - on).days if due is not None else None
    if kind == "expiry":
        assert days is not None
        reason = f"expired on {due}" if days < 0 else f"expires in {days} days"
        if not required:
            reason += " (not required by the rules)"
    elif kind == "missing":
        reason = "missing"
    elif kind == "stale":
        assert due is not None
        reason = (
            f"verified {verified_on}, {(due - verified_on).days} days before "
            f"the committee date {due} (at most {limit_days} allowed)"
        )
    else:
        assert due is not None
        reason = (
            f"recredentialing was due on {due.isoformat()}"
            if due < on
            else f"recredentialing due on {due.isoformat()}"
        )
    return Row(
        section, pid, name, department, category, states.strip(), cid, doc_type, item, due,
        days, reason,
    )  # fmt: skip


__all__ = [
    "SECTIONS",
    "ItemRow",
    "Keeper",
    "Progress",
    "Standing",
    "board",
    "cme_short_spans",
    "judge",
    "pending",
    "pending_count",
    "refresh",
    "rules_key",
]
