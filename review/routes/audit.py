"""The audit log for managers and auditors: the page, its CSV and `GET /api/audit`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from compliance.audit_log import AuditFilter, csv_lines, filter_choices, iter_events, query_events
from review import params
from review.deps import MANAGERS_READ, ManagerReader, SessionDep, StateDep, render

router = APIRouter()
NAV = ("Audit log", "/audit", MANAGERS_READ)
PAGE_SIZE = 100
BeforeId = Query(None, ge=1, le=2**31 - 1)


def audit_filter(
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> AuditFilter:
    return AuditFilter(
        actor=actor or None,
        action=action or None,
        entity_type=entity_type or None,
        entity_id=params.number(entity_id),
        since=params.day(since, "since"),
        until=params.day(until, "until"),
    )


FilterDep = Annotated[AuditFilter, Depends(audit_filter)]


@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(
    request: Request,
    session: SessionDep,
    flt: FilterDep,
    user: ManagerReader,
    before_id: int | None = BeforeId,
    detail: bool = False,
) -> Response:
    rows = query_events(session, flt, limit=PAGE_SIZE, before_id=before_id, with_detail=detail)
    query = {k: v for k, v in asdict(flt).items() if v not in (None, "")}
    older = None
    if len(rows) == PAGE_SIZE:
        older = urlencode({**query, "before_id": rows[-1].id, "detail": int(detail)})
    return render(request, "records/audit.html", {
        "rows": rows, "f": flt, "choices": filter_choices(session), "detail": detail,
        "older": older, "csv_query": urlencode(query),
    })  # fmt: skip


@router.get("/audit.csv", include_in_schema=False)
def audit_csv_page(
    state: StateDep, flt: FilterDep, user: ManagerReader, detail: bool = False
) -> Response:
    return _csv(state, flt, detail)


@router.get(
    "/api/audit",
    response_model=None,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    tags=["records"],
)
def audit_json(
    session: SessionDep,
    state: StateDep,
    flt: FilterDep,
    user: ManagerReader,
    limit: int = Query(100, ge=1, le=1000),
    before_id: int | None = BeforeId,
    detail: bool = False,
    format: Literal["json", "csv"] = "json",
) -> Response | dict[str, Any]:
    """Audit events, newest first (page with `before_id`), filtered by actor, action
    (`document.*` for a prefix), entity_type + entity_id and since/until (UTC days).
    `format=csv` streams every matching event, oldest first. `detail=true` adds the
    personal values kept apart from the events (absent once removed on request)."""
    if format == "csv":
        return _csv(state, flt, detail)
    rows = query_events(session, flt, limit=limit, before_id=before_id, with_detail=detail)
    return {
        "events": [r.as_json() for r in rows],
        "next_before_id": rows[-1].id if len(rows) == limit else None,
    }


def _csv(state: StateDep, flt: AuditFilter, detail: bool) -> Response:
    stream = csv_lines(iter_events(state.db, flt, with_detail=detail), with_detail=detail)
    return StreamingResponse(
        stream,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="credflow-audit-{date.today()}.csv"',
            "Cache-Control": "private, no-store",
        },
    )
