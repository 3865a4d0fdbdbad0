"""Reference and employment verification requests (coordinators track them; auditors read),
and a clinician's records page (`/providers/{id}/records`: documents, holds, requests)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict

from compliance import references as refs
from models.records import RequestKind
from review import params
from review.deps import STAFF_READ, Reviewer, SessionDep, StaffReader, redirect, render

router = APIRouter()
NAV = ("References", "/references", STAFF_READ)


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: RequestKind
    recipient_name: str
    recipient_email: str | None = None
    organisation: str | None = None
    due_on: date | None = None
    note: str | None = None


class ReceivedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document_id: int
    received_on: date | None = None


@router.get("/references", response_class=HTMLResponse, include_in_schema=False)
def references_page(
    request: Request, session: SessionDep, user: StaffReader, show: str = "open"
) -> Response:
    rows = refs.requests_for(session, None, show if show in ("all", "overdue") else "open")
    return render(request, "records/references.html", {"rows": rows, "show": show})


@router.post("/providers/{provider_id}/references", include_in_schema=False)
def request_form(
    provider_id: int,
    session: SessionDep,
    user: Reviewer,
    kind: str = Form(...),
    recipient_name: str = Form(""),
    recipient_email: str = Form(""),
    organisation: str = Form(""),
    due_on: str = Form(""),
) -> Response:
    target = f"/providers/{provider_id}/records"
    try:
        refs.request_letter(
            session, provider_id=provider_id, kind=kind, recipient_name=recipient_name,
            recipient_email=recipient_email, organisation=organisation,
            due_on=params.day(due_on, "due date"), actor=user.username,
        )  # fmt: skip
    except (ValueError, LookupError) as e:
        session.rollback()
        return redirect(target, error=str(e))
    session.commit()
    return redirect(target)


@router.post("/references/{request_id}/received", include_in_schema=False)
def received_form(
    request_id: int,
    session: SessionDep,
    user: Reviewer,
    document_id: int = Form(...),
    provider_id: int = Form(...),
) -> Response:
    target = f"/providers/{provider_id}/records"
    try:
        refs.mark_received(session, request_id, document_id=document_id, actor=user.username)
    except LookupError as e:
        session.rollback()
        return redirect(target, error=str(e))
    session.commit()
    return redirect(target)


@router.get("/api/reference-requests", tags=["records"])
def requests_json(
    session: SessionDep, user: StaffReader, provider_id: int | None = None, show: str = "all"
) -> list[dict[str, Any]]:
    """`show`: all, open (not yet received) or overdue (open and past due)."""
    return [params.as_json(r) for r in refs.requests_for(session, provider_id, show)]


@router.post("/api/providers/{provider_id}/reference-requests", status_code=201, tags=["records"])
def request_json(
    provider_id: int, body: RequestIn, session: SessionDep, user: Reviewer
) -> dict[str, Any]:
    req = refs.request_letter(
        session, provider_id=provider_id, actor=user.username, **body.model_dump()
    )
    session.commit()
    out: dict[str, Any] = params.as_json(refs.request_view(session, req.id))
    return out


@router.post("/api/reference-requests/{request_id}/received", tags=["records"])
def received_json(
    request_id: int, body: ReceivedIn, session: SessionDep, user: Reviewer
) -> dict[str, Any]:
    req = refs.mark_received(
        session, request_id, document_id=body.document_id, received_on=body.received_on,
        actor=user.username,
    )  # fmt: skip
    session.commit()
    return {
        "id": req.id,
        "document_id": req.document_id,
        "received_on": req.received_on.isoformat() if req.received_on else None,
    }
