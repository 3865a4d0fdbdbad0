"""The compliance dashboard (`/compliance`, its CSV, `GET /api/expiring`) and a clinician's
compliance page (`/compliance/providers/{id}`: details, committee decisions;
`GET /api/providers/{id}/compliance`). Coordinators read and edit; managers record the
committee's decisions; auditors read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from compliance import errors
from compliance.dashboard import ROWS_SHOWN, Filters, parse_day
from compliance.expirations import SECTIONS, dashboard_csv, expiring_json
from compliance.providers import form_patch, get_provider, record_decision
from compliance.providers import update_provider as apply_patch
from review.deps import (
    STAFF_READ,
    ComplianceDep,
    Manager,
    Reviewer,
    SessionDep,
    StaffReader,
    redirect,
    render,
)

router = APIRouter()
NAV = ("Compliance", "/compliance", STAFF_READ)
FiltersDep = Annotated[Filters, Depends(Filters.parse)]


@router.get("/compliance", response_class=HTMLResponse, include_in_schema=False)
def dashboard(request: Request, board: ComplianceDep, user: StaffReader, f: FiltersDep) -> Response:
    rows, choices = board.board(f, ROWS_SHOWN)
    return render(request, "dashboard/index.html", {
        "board": rows, "sections": SECTIONS, "f": f, "choices": choices,
        "rows_shown": ROWS_SHOWN, "query": f.query(), "refreshing": board.refreshing(),
    })  # fmt: skip


@router.get("/compliance/export.csv", include_in_schema=False)
def export_csv(board: ComplianceDep, user: StaffReader, f: FiltersDep) -> Response:
    rows, _ = board.board(f, None)
    name = f"credflow-expirations-{f.on.isoformat()}.csv"
    return Response(
        dashboard_csv(rows), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"',
                 "Cache-Control": "private, no-store"},
    )  # fmt: skip


@router.post("/compliance/providers/{provider_id}", include_in_schema=False)
def provider_save(
    provider_id: int,
    session: SessionDep,
    user: Reviewer,
    email: str = Form(""),
    staff_category: str = Form(""),
    department: str = Form(""),
    states: str = Form(""),
    active: str | None = Form(None),
    date_of_birth: str = Form(""),
    other_names: str = Form(""),
) -> Response:
    page = f"/compliance/providers/{provider_id}"
    try:
        patch = form_patch(
            email=email, staff_category=staff_category, department=department, states=states,
            active=active is not None, date_of_birth=date_of_birth, other_names=other_names,
        )  # fmt: skip
    except errors.Invalid as e:
        return redirect(page, error=str(e)[:300])
    changed = apply_patch(session, get_provider(session, provider_id), patch, user.username)
    session.commit()
    return redirect(page, saved=", ".join(changed) or "nothing changed")


@router.post("/compliance/providers/{provider_id}/decisions", include_in_schema=False)
def provider_decision(
    provider_id: int,
    session: SessionDep,
    user: Manager,
    decided_on: str = Form(...),
    decision: Literal["approved", "denied"] = Form("approved"),
    note: str = Form(""),
) -> Response:
    record_decision(session, provider_id, parse_day(decided_on), decision, note, user)
    session.commit()
    return redirect(f"/compliance/providers/{provider_id}", saved="decision")


@router.get("/api/expiring", tags=["compliance"])
def api_expiring(
    session: SessionDep,
    user: StaffReader,
    within_days: int = Query(30, ge=0, le=3650),
    active_only: bool = False,
    on: date | None = None,
) -> Response:
    """Credentials that lapse within `within_days` days (from `on`, default today) or
    already have: provider_id, credential_id, doc_type, expiration_date, days_left..."""
    day = on or datetime.now(UTC).date()
    body = expiring_json(session, day, within_days, active_only=active_only)
    return Response(body, media_type="application/json")


@router.get("/api/providers/{provider_id}/compliance", tags=["compliance"])
def api_provider_compliance(
    provider_id: int,
    session: SessionDep,
    board: ComplianceDep,
    user: StaffReader,
    on: date | None = None,
) -> dict[str, Any]:
    return board.status_json(session, provider_id, on or datetime.now(UTC).date())
