"""Retention holds: managers place and release them (removal is refused while one
applies); auditors read."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict

from compliance import removal as rm
from review import params
from review.deps import MANAGERS_READ, Manager, ManagerReader, SessionDep, redirect, render

router = APIRouter()
NAV = ("Holds", "/holds", MANAGERS_READ)


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider_id: int | None = None
    document_id: int | None = None
    reason: str
    until: date | None = None


@router.get("/holds", response_class=HTMLResponse, include_in_schema=False)
def holds_page(
    request: Request, session: SessionDep, user: ManagerReader, show: str = "active",
    error: str | None = None,
) -> Response:  # fmt: skip
    rows = rm.list_holds(session, include_inactive=show == "all")
    return render(request, "records/holds.html", {"rows": rows, "show": show, "error": error})


@router.post("/holds", include_in_schema=False)
def hold_form(
    session: SessionDep,
    user: Manager,
    reason: str = Form(""),
    until: str = Form(""),
    provider_id: str = Form(""),
    document_id: str = Form(""),
    next: str = Form("/holds"),
) -> Response:
    target = next if next.startswith("/") and not next.startswith("//") else "/holds"
    try:
        rm.place_hold(
            session, actor=user.username, reason=reason, until=params.day(until, "until"),
            provider_id=params.number(provider_id), document_id=params.number(document_id),
        )  # fmt: skip
    except (ValueError, rm.NotFound) as e:
        session.rollback()
        return redirect(target, error=str(e))
    session.commit()
    return redirect(target)


@router.post("/holds/{hold_id}/release", include_in_schema=False)
def release_form(hold_id: int, session: SessionDep, user: Manager) -> Response:
    rm.release_hold(session, hold_id, actor=user.username)
    session.commit()
    return redirect("/holds")


@router.get("/api/holds", tags=["records"])
def holds_json(
    session: SessionDep, user: ManagerReader, show: str = "active"
) -> list[dict[str, Any]]:
    """`show`: active (applies today) or all."""
    return [params.as_json(h) for h in rm.list_holds(session, include_inactive=show == "all")]


@router.post("/api/holds", status_code=201, tags=["records"])
def hold_json(body: HoldIn, session: SessionDep, user: Manager) -> dict[str, Any]:
    """Hold a provider's file or one document: removal is refused with `reason` while
    the hold applies (through `until`, or until released)."""
    hold = rm.place_hold(session, actor=user.username, **body.model_dump())
    session.commit()
    out: dict[str, Any] = params.as_json(rm.hold_view(session, hold.id))
    return out


@router.post("/api/holds/{hold_id}/release", tags=["records"])
def release_json(hold_id: int, session: SessionDep, user: Manager) -> dict[str, Any]:
    hold = rm.release_hold(session, hold_id, actor=user.username)
    session.commit()
    return {"id": hold.id, "released_by": hold.released_by}
