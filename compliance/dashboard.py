"""The compliance dashboard's judgements for the web pages: the requirements file (loaded
again when it changes), the whole board kept for a day, the kept judgement (`standing`)
when it is current, and the pages' views of one clinician and of the rules' what-if.
One `ComplianceBoard` per application (`review.app.create_app` makes it)."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from compliance import errors, standing
from compliance.expirations import Dashboard, build_dashboard
from compliance.requirements import DEFAULT_FILE, USPS, Requirements, load_requirements
from compliance.status import (
    ProviderFilter,
    ProviderStatus,
    WhatIfReport,
    diff_versions,
    load_facts,
    provider_status,
    what_if,
)
from models import Credential, Database, Provider
from models.compliance import CommitteeDecision

ROWS_SHOWN = 300


def parse_day(value: str | None) -> date:
    """A YYYY-MM-DD day (today when empty); Invalid otherwise."""
    if not value:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise errors.Invalid("dates are YYYY-MM-DD") from e


class RulesCache:
    """The requirements file, loaded again when it changes on disk."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._key: tuple[str, float] | None = None
        self._value: Requirements | None = None

    def get(self) -> Requirements:
        file = self.path or DEFAULT_FILE
        key = (str(file), file.stat().st_mtime)
        if self._value is None or key != self._key:
            self._value = load_requirements(file)
            self._key = key
        return self._value


class BoardCache:
    """The whole board (every active clinician) for a day, kept while a cheap fingerprint of
    the tables is unchanged and for at most `ttl` seconds (credentials edited in place do
    not move the fingerprint). Judging 20,000 clinicians takes seconds; filtering the kept
    board for a department or state takes milliseconds."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[date, tuple[tuple[Any, ...], float, Dashboard]] = {}

    @staticmethod
    def fingerprint(session: Session, requirements: Requirements) -> tuple[Any, ...]:
        c, p, d = Credential, Provider, CommitteeDecision
        values = (
            select(func.count(c.id)), select(func.max(c.id)), select(func.max(c.created_at)),
            select(func.count(p.id)), select(func.max(p.updated_at)),
            select(func.count(d.id)), select(func.max(d.id)),
        )  # fmt: skip
        row = session.execute(select(*(v.scalar_subquery() for v in values))).one()
        return (id(requirements), *row)

    def get(self, session: Session, requirements: Requirements, on: date) -> Dashboard:
        stamp = self.fingerprint(session, requirements)
        with self._lock:
            held = self._entries.get(on)
            if held and held[0] == stamp and time.monotonic() - held[1] < self.ttl:
                return held[2]
            board = build_dashboard(session, requirements, on)
            if len(self._entries) > 8:
                self._entries.clear()
            self._entries[on] = (stamp, time.monotonic(), board)
            return board


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters, as the query string carries them."""

    department: str | None
    category: str | None
    state: str | None
    on: date

    def provider_filter(self) -> ProviderFilter:
        return ProviderFilter(department=self.department, category=self.category, state=self.state)

    def query(self) -> str:
        d = {k: v for k, v in asdict(self).items() if v}
        d["on"] = self.on.isoformat()
        return urlencode(d)

    @classmethod
    def parse(
        cls,
        department: str | None = None,
        category: str | None = None,
        state: str | None = None,
        on: str | None = None,
    ) -> Filters:
        return cls(department or None, category or None,
                   (state or "").upper() or None, parse_day(on))  # fmt: skip


class ComplianceBoard:
    """What the compliance pages share across requests: the rules, the kept board, the
    keeper of the kept judgement and the last what-if report (judging everyone twice)."""

    def __init__(self, db: Database, requirements_file: Path | None) -> None:
        self.db = db
        self.rules = RulesCache(requirements_file)
        self.boards = BoardCache()
        self.keeper = standing.Keeper(db)
        self._what_ifs: dict[tuple[Any, ...], tuple[float, WhatIfReport]] = {}

    def requirements(self) -> Requirements:
        """The rules in force; RequirementsError (500) when the file is broken."""
        return self.rules.get()

    def board(self, f: Filters, limit: int | None) -> tuple[Dashboard, dict[str, list[str]]]:
        """The board and the filters' choices: from the kept judgement (queries), else
        judged in Python (a rules change being applied, a day under other rules)."""
        reqs = self.requirements()
        if self.keeper.ready(reqs, f.on):
            with self.db.session() as s:
                board = standing.board(s, reqs.version_on(f.on), f.on, f.provider_filter(),
                                       limit=limit)  # fmt: skip
                return board, {**standing.choices(s), "states": sorted(USPS)}
        with self.db.session() as s:
            return self.boards.get(s, reqs, f.on).filtered(f.provider_filter()), choices(s)

    def refreshing(self) -> standing.Progress | None:
        progress = self.keeper.progress
        return progress if progress.running else None

    def status_json(self, session: Session, provider_id: int, day: date) -> dict[str, Any]:
        """`GET /api/providers/{id}/compliance`: status item by item."""
        st = provider_status(session, self.requirements(), provider_id, day)
        if st is None:
            raise errors.NotFound(f"No provider {provider_id}.")
        return status_json(st, day)

    def rules_view(self, session: Session, version: str | None) -> dict[str, Any]:
        """The rules page: every version with its changes, and what the chosen (else the
        next upcoming) version would change."""
        reqs = self.requirements()
        today = datetime.now(UTC).date()
        current = reqs.version_on(today)
        versions = [
            {"v": v, "changes": diff_versions(reqs.previous(v), v),
             "current": v.version == current.version, "future": v.effective > today}
            for v in reversed(reqs.versions)
        ]  # fmt: skip
        chosen = None
        if version:
            try:
                chosen = reqs.version(version)
            except KeyError as e:
                raise errors.NotFound(str(e)) from e
        elif reqs.upcoming(today):
            chosen = reqs.upcoming(today)[0]
        report = None if chosen is None else self._what_if(session, reqs, chosen)
        return {"versions": versions, "source": reqs.source, "report": report, "chosen": chosen}

    def _what_if(self, session: Session, reqs: Requirements, chosen: Any) -> WhatIfReport:
        key = (chosen.version, *BoardCache.fingerprint(session, reqs))
        held = self._what_ifs.get(key)
        if held is not None and time.monotonic() - held[0] < self.boards.ttl:
            return held[1]
        report = what_if(load_facts(session), reqs, chosen)
        self._what_ifs.clear()
        self._what_ifs[key] = (time.monotonic(), report)
        return report


def status_json(st: ProviderStatus, day: date) -> dict[str, Any]:
    return {
        "provider_id": st.provider_id, "on": day.isoformat(), "version": st.version,
        "status": st.status,
        "recredential_due": st.recredential_due.isoformat() if st.recredential_due else None,
        "items": [
            {"key": i.key, "label": i.label, "status": i.level.label, "kind": i.kind,
             "reason": i.reason, "credential_id": i.credential_id,
             "due": i.due.isoformat() if i.due else None}
            for i in st.items
        ],
    }  # fmt: skip


def choices(s: Session) -> dict[str, list[str]]:
    """Values for the filter drop-downs."""
    deps = s.scalars(select(Provider.department).distinct().where(Provider.department.is_not(None)))
    cats = s.scalars(
        select(Provider.staff_category).distinct().where(Provider.staff_category.is_not(None))
    )
    return {"departments": sorted(d for d in deps if d), "categories": sorted(c for c in cats if c),
            "states": sorted(USPS)}  # fmt: skip
