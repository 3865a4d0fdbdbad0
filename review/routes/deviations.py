"""Deviations for managers (`/compliance/deviations`, `GET /api/deviations`): acknowledge,
resolve, assign; auditors read."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from compliance import deviations as dev
from review.deps import MANAGERS_READ, Manager, ManagerReader, SessionDep, redirect, render

router = APIRouter()
NAV = ("Deviations", "/compliance/deviations", MANAGERS_READ)
PAGE = "/compliance/deviations"


@router.get(PAGE, response_class=HTMLResponse, include_in_schema=False)
def deviations_page(
    request: Request, session: SessionDep, user: ManagerReader, show: str = "unresolved",
    kind: str = "", error: str | None = None,
) -> Response:  # fmt: skip
    rows = dev.list_deviations(session, status=show if show != "all" else None, kind=kind or None)
    return render(request, "dashboard/deviations.html", {
        "rows": rows, "show": show, "kind": kind, "kinds": dev.KINDS,
        "owners": dev.owners(session), "error": error,
    })  # fmt: skip


@router.post(PAGE + "/{deviation_id}", include_in_schema=False)
def deviation_action(
    deviation_id: int,
    session: SessionDep,
    user: Manager,
    action: Literal["acknowledge", "resolve", "assign"] = Form(...),
    note: str = Form(""),
    owner_id: str = Form(""),
) -> Response:
    try:
        dev.act(session, deviation_id, action, actor=user.username, note=note, owner_id=owner_id)
    except dev.DeviationError as e:
        session.rollback()
        return redirect(PAGE, error=str(e)[:300])
    session.commit()
    return redirect(PAGE)


@router.get("/api/deviations", tags=["compliance"])
def api_deviations(
    session: SessionDep,
    user: ManagerReader,
    status_: Literal["unresolved", "open", "acknowledged", "resolved", "all"] = Query(
        "unresolved", alias="status"
    ),
) -> dict[str, Any]:
    rows = dev.list_deviations(session, status=None if status_ == "all" else status_)
    return {"items": [dev.deviation_json(d) for d in rows]}
