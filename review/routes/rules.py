"""The requirement rules and their what-if (`/compliance/rules`), for managers and auditors."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from review.deps import ComplianceDep, ManagerReader, SessionDep, render

router = APIRouter()


@router.get("/compliance/rules", response_class=HTMLResponse, include_in_schema=False)
def rules_page(
    request: Request,
    session: SessionDep,
    board: ComplianceDep,
    user: ManagerReader,
    version: str | None = None,
) -> Response:
    return render(request, "dashboard/rules.html", board.rules_view(session, version))
