"""Compliance pages and API routes, added to the review app as a plugin (`install`).

Pages under /compliance: the expirations dashboard (+ CSV), a clinician's compliance page
(edit contact, category, department, states, active; committee decisions), deviations,
the rules and their what-if, training sessions, and the outbox. API: `GET /api/expiring`,
`PATCH /api/providers/{id}`, `GET /api/providers/{id}/compliance`, `GET /api/deviations`.

Coordinators see the dashboard and edit clinicians; managers and admins also see and act on
deviations, rules and the outbox; auditors read everything and change nothing (the app
refuses their writes app-wide).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from compliance import deviations as dev
from compliance import notify, standing, training
from compliance.expirations import (
    SECTIONS,
    Dashboard,
    build_dashboard,
    dashboard_csv,
    expiring_json,
)
from compliance.requirements import (
    DEFAULT_FILE,
    USPS,
    Requirements,
    RequirementsError,
    load_requirements,
)
from compliance.status import (
    ProviderFilter,
    WhatIfReport,
    diff_versions,
    load_facts,
    provider_status,
    what_if,
)
from models import Credential, Provider, Role, User, record_event
from models.compliance import CommitteeDecision
from models.compliance_status import mark_stale

if TYPE_CHECKING:
    from review.plugins import WebContext  # the contract only; compliance imports no review code

TEMPLATES = Path(__file__).parent / "templates"
STAFF = (Role.COORDINATOR, Role.MANAGER, Role.ADMIN)
MANAGERS = (Role.MANAGER, Role.ADMIN)
# who may look (auditors read everything, change nothing)
STAFF_READ = (*STAFF, Role.AUDITOR)
MANAGERS_READ = (*MANAGERS, Role.AUDITOR)
ROWS_SHOWN = 300


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


# --- provider details (the page and PATCH /api/providers/{id}) --------------------------

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


# --- the plugin ---------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
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


def _parse_day(value: str | None) -> date:
    if not value:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "dates are YYYY-MM-DD") from e


def install(app: FastAPI, web: WebContext) -> None:
    """Add the compliance pages and API routes to the review app."""
    settings = web.settings
    rules = RulesCache(getattr(settings, "requirements_file", None))
    boards = BoardCache()
    keeper = standing.Keeper(web.db)
    # the last what-if report (judging everyone twice), kept like the board
    what_ifs: dict[tuple[Any, ...], tuple[float, WhatIfReport]] = {}
    web.add_templates(TEMPLATES)
    web.nav.append(("Compliance", "/compliance", STAFF_READ))
    web.nav.append(("Deviations", "/compliance/deviations", MANAGERS_READ))
    staff = Depends(web.require_role(*STAFF))
    manager = Depends(web.require_role(*MANAGERS))
    staff_read = Depends(web.require_role(*STAFF_READ))
    manager_read = Depends(web.require_role(*MANAGERS_READ))
    templates = web.templates

    @contextmanager
    def db_session() -> Iterator[Session]:
        with web.db.session() as s:
            yield s

    def requirements() -> Requirements:
        try:
            return rules.get()
        except RequirementsError as e:
            raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, str(e)) from e

    def filters(
        department: str | None = None,
        category: str | None = None,
        state: str | None = None,
        on: str | None = None,
    ) -> Filters:
        return Filters(department or None, category or None,
                       (state or "").upper() or None, _parse_day(on))  # fmt: skip

    def current_board(f: Filters, limit: int | None) -> tuple[Dashboard, dict[str, list[str]]]:
        """The board and the filters' choices: from the kept judgement (queries), else
        judged in Python (a rules change being applied, a day under other rules)."""
        reqs = requirements()
        if keeper.ready(reqs, f.on):
            with db_session() as s:
                board = standing.board(s, reqs.version_on(f.on), f.on, f.provider_filter(),
                                       limit=limit)  # fmt: skip
                return board, {**standing.choices(s), "states": sorted(USPS)}
        with db_session() as s:
            return boards.get(s, reqs, f.on).filtered(f.provider_filter()), _choices(s)

    def page(request: Request, name: str, context: dict[str, Any], code: int = 200) -> Response:
        return templates.TemplateResponse(request, f"dashboard/{name}", context, status_code=code)

    pages = APIRouter(prefix="/compliance", include_in_schema=False)
    api = APIRouter(prefix="/api", tags=["compliance"])

    # -- dashboard --

    @pages.get("", response_class=HTMLResponse)
    def dashboard(
        request: Request, user: User = staff_read, f: Filters = Depends(filters)
    ) -> Response:
        board, choices = current_board(f, ROWS_SHOWN)
        return page(request, "index.html", {
            "board": board, "sections": SECTIONS, "f": f, "choices": choices,
            "rows_shown": ROWS_SHOWN, "query": f.query(),
            "refreshing": keeper.progress if keeper.progress.running else None,
        })  # fmt: skip

    @pages.get("/export.csv")
    def export_csv(user: User = staff_read, f: Filters = Depends(filters)) -> Response:
        board, _ = current_board(f, None)
        name = f"credflow-expirations-{f.on.isoformat()}.csv"
        return Response(
            dashboard_csv(board), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"',
                     "Cache-Control": "private, no-store"},
        )  # fmt: skip

    # -- one clinician --

    @pages.post("/providers/{provider_id}")
    def provider_save(
        provider_id: int,
        user: User = staff,
        email: str = Form(""),
        staff_category: str = Form(""),
        department: str = Form(""),
        states: str = Form(""),
        active: str | None = Form(None),
        date_of_birth: str = Form(""),
        other_names: str = Form(""),
    ) -> Response:
        try:
            patch = ProviderPatch(
                email=email, staff_category=staff_category, department=department,
                states=[x for x in re.split(r"[\s,;]+", states) if x], active=active is not None,
                date_of_birth=date.fromisoformat(date_of_birth) if date_of_birth else None,
                other_names=[n for n in other_names.splitlines() if n.strip()],
            )  # fmt: skip
        except ValueError as e:
            msg = _first_error(e)
            return RedirectResponse(
                f"/compliance/providers/{provider_id}?error={_q(msg)}", status.HTTP_303_SEE_OTHER
            )
        with db_session() as s:
            p = s.get(Provider, provider_id)
            if p is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"No provider {provider_id}.")
            changed = update_provider(s, p, patch, user.username)
        saved = ", ".join(changed) or "nothing changed"
        return RedirectResponse(
            f"/compliance/providers/{provider_id}?saved={_q(saved)}", status.HTTP_303_SEE_OTHER
        )

    @pages.post("/providers/{provider_id}/decisions")
    def record_decision(
        provider_id: int,
        user: User = manager,
        decided_on: str = Form(...),
        decision: Literal["approved", "denied"] = Form("approved"),
        note: str = Form(""),
    ) -> Response:
        day = _parse_day(decided_on)
        with db_session() as s:
            if s.get(Provider, provider_id) is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"No provider {provider_id}.")
            row = CommitteeDecision(provider_id=provider_id, decided_on=day, decision=decision,
                                    note=note.strip() or None, recorded_by_id=user.id)  # fmt: skip
            s.add(row)
            mark_stale(s, [provider_id])  # a new recredentialing cycle
            record_event(s, actor=user.username, action="committee.decision",
                         entity_type="provider", entity_id=provider_id,
                         note=f"{decision} on {day.isoformat()}")  # fmt: skip
        return RedirectResponse(
            f"/compliance/providers/{provider_id}?saved=decision", status.HTTP_303_SEE_OTHER
        )

    # -- deviations --

    @pages.get("/deviations", response_class=HTMLResponse)
    def deviations_page(
        request: Request, user: User = manager_read, show: str = "unresolved", kind: str = "",
        error: str | None = None,
    ) -> Response:  # fmt: skip
        with db_session() as s:
            rows = dev.list_deviations(s, status=show if show != "all" else None, kind=kind or None)
            owners = s.execute(
                select(User.id, User.username).where(User.role.in_([r.value for r in MANAGERS]),
                                                     User.disabled.is_(False))
                .order_by(User.username)
            ).all()  # fmt: skip
        return page(request, "deviations.html", {
            "rows": rows, "show": show, "kind": kind, "kinds": dev.KINDS, "owners": owners,
            "error": error,
        })  # fmt: skip

    @pages.post("/deviations/{deviation_id}")
    def deviation_action(
        deviation_id: int,
        user: User = manager,
        action: Literal["acknowledge", "resolve", "assign"] = Form(...),
        note: str = Form(""),
        owner_id: str = Form(""),
    ) -> Response:
        try:
            with db_session() as s:
                if action == "acknowledge":
                    dev.acknowledge(s, deviation_id, actor=user.username, note=note or None)
                elif action == "resolve":
                    dev.resolve(s, deviation_id, actor=user.username, note=note)
                else:
                    dev.assign(s, deviation_id, int(owner_id) if owner_id else None,
                               actor=user.username)  # fmt: skip
        except dev.DeviationError as e:
            return RedirectResponse(
                f"/compliance/deviations?error={_q(str(e))}", status.HTTP_303_SEE_OTHER
            )
        return RedirectResponse("/compliance/deviations", status.HTTP_303_SEE_OTHER)

    # -- rules and what-if --

    @pages.get("/rules", response_class=HTMLResponse)
    def rules_page(
        request: Request, user: User = manager_read, version: str | None = None
    ) -> Response:
        reqs = requirements()
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
                raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from e
        elif reqs.upcoming(today):
            chosen = reqs.upcoming(today)[0]
        report = None
        if chosen is not None:
            with db_session() as s:
                key = (chosen.version, *BoardCache.fingerprint(s, reqs))
                held = what_ifs.get(key)
                if held is not None and time.monotonic() - held[0] < boards.ttl:
                    report = held[1]
                else:
                    report = what_if(load_facts(s), reqs, chosen)
                    what_ifs.clear()
                    what_ifs[key] = (time.monotonic(), report)
        return page(request, "rules.html", {
            "versions": versions, "source": reqs.source, "report": report, "chosen": chosen,
        })  # fmt: skip

    # -- training sessions --

    @pages.get("/training", response_class=HTMLResponse)
    def training_page(
        request: Request, user: User = staff_read, error: str | None = None
    ) -> Response:
        with db_session() as s:
            sessions = training.upcoming(s, datetime.now(UTC))
        return page(request, "training.html", {
            "sessions": sessions, "doc_types": training.DOC_TYPES, "courses": training.COURSES,
            "error": error,
        })  # fmt: skip

    @pages.post("/training")
    def training_add(
        user: User = manager,
        title: str = Form(...),
        starts_at: str = Form(...),
        place: str = Form(...),
        renews_doc_type: str = Form("life_support_card"),
        renews_course: str = Form(""),
        seats: str = Form(""),
    ) -> Response:
        try:
            when = datetime.fromisoformat(starts_at)
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            with db_session() as s:
                training.add_session(
                    s, title=title, starts_at=when, place=place, renews_doc_type=renews_doc_type,
                    renews_course=renews_course or None, seats=int(seats) if seats else None,
                    actor=user.username, actor_id=user.id,
                )  # fmt: skip
        except (ValueError, training.TrainingError) as e:
            return RedirectResponse(f"/compliance/training?error={_q(str(e))}",
                                    status.HTTP_303_SEE_OTHER)  # fmt: skip
        return RedirectResponse("/compliance/training", status.HTTP_303_SEE_OTHER)

    @pages.post("/training/{session_id}/delete")
    def training_delete(session_id: int, user: User = manager) -> Response:
        try:
            with db_session() as s:
                training.remove_session(s, session_id, actor=user.username)
        except training.TrainingError as e:
            return RedirectResponse(f"/compliance/training?error={_q(str(e))}",
                                    status.HTTP_303_SEE_OTHER)  # fmt: skip
        return RedirectResponse("/compliance/training", status.HTTP_303_SEE_OTHER)

    # -- outbox --

    @pages.get("/outbox", response_class=HTMLResponse)
    def outbox_page(request: Request, user: User = manager_read) -> Response:
        with db_session() as s:
            counts = notify.outbox_counts(s)
            problems = notify.outbox_problems(s)
        return page(request, "outbox.html", {"counts": counts, "problems": problems})

    @pages.post("/outbox/retry")
    def outbox_retry(user: User = manager) -> Response:
        with db_session() as s:
            notify.retry_failed(s, actor=user.username)
        return RedirectResponse("/compliance/outbox", status.HTTP_303_SEE_OTHER)

    # -- API --

    @api.get("/expiring")
    def api_expiring(
        user: User = staff_read,
        within_days: int = Query(30, ge=0, le=3650),
        active_only: bool = False,
        on: date | None = None,
    ) -> Response:
        """Credentials that lapse within `within_days` days (from `on`, default today) or
        already have: provider_id, credential_id, doc_type, expiration_date, days_left..."""
        day = on or datetime.now(UTC).date()
        with db_session() as s:
            body = expiring_json(s, day, within_days, active_only=active_only)
        return Response(body, media_type="application/json")

    @api.patch("/providers/{provider_id}")
    def api_patch_provider(
        provider_id: int, patch: ProviderPatch, user: User = staff
    ) -> dict[str, Any]:
        """Set email, staff_category, department, states and/or active."""
        with db_session() as s:
            p = s.get(Provider, provider_id)
            if p is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"No provider {provider_id}.")
            changed = update_provider(s, p, patch, user.username)
            out = provider_json(p)
        return {**out, "changed": changed}

    @api.get("/providers/{provider_id}/compliance")
    def api_provider_compliance(
        provider_id: int, user: User = staff_read, on: date | None = None
    ) -> dict[str, Any]:
        day = on or datetime.now(UTC).date()
        with db_session() as s:
            st = provider_status(s, requirements(), provider_id, day)
        if st is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No provider {provider_id}.")
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

    @api.get("/deviations")
    def api_deviations(
        user: User = manager_read,
        status_: Literal["unresolved", "open", "acknowledged", "resolved", "all"] = Query(
            "unresolved", alias="status"
        ),
    ) -> dict[str, Any]:
        with db_session() as s:
            rows = dev.list_deviations(s, status=None if status_ == "all" else status_)
        return {"items": [
            {"id": d.id, "kind": d.kind, "status": d.status, "provider_id": d.provider_id,
             "credential_id": d.credential_id, "summary": d.summary, "owner": d.owner,
             "opened_at": d.opened_at.isoformat(), "updated_at": d.updated_at.isoformat(),
             "resolved_at": d.resolved_at.isoformat() if d.resolved_at else None,
             "resolution_note": d.resolution_note}
            for d in rows
        ]}  # fmt: skip

    app.include_router(pages)
    app.include_router(api)


def _choices(s: Session) -> dict[str, list[str]]:
    """Values for the filter drop-downs."""
    deps = s.scalars(select(Provider.department).distinct().where(Provider.department.is_not(None)))
    cats = s.scalars(
        select(Provider.staff_category).distinct().where(Provider.staff_category.is_not(None))
    )
    return {"departments": sorted(d for d in deps if d), "categories": sorted(c for c in cats if c),
            "states": sorted(USPS)}  # fmt: skip


def _first_error(e: ValueError) -> str:
    errors = getattr(e, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        return f"{where}: {msg}" if where else msg
    return str(e)


def _q(text: str) -> str:
    return quote(text[:300])
