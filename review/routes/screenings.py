"""Screening in the web app: the API (`GET /api/providers/{id}/screenings`,
`POST /api/screenings/{id}/adjudicate`, `GET /api/screenings`, `GET /api/source-imports`)
and the pages (`/screening` queue of open hits, `/screening/imports`, and the part of the
clinician's page at `/screening/providers/{id}`). Coordinators adjudicate; everyone signed
in reads (auditors change nothing, app-wide)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, BackgroundTasks, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from compliance.providers import get_provider
from compliance.screening import views
from compliance.screening.adjudicate import adjudicate, send_now
from review.deps import READERS, AppState, Reader, Reviewer, SessionDep, StateDep

router = APIRouter()
NAV = ("Screening", "/screening", READERS)


class AdjudicateIn(BaseModel):
    decision: Literal["confirmed", "dismissed"]
    reason: str


def _decide(
    state: AppState,
    session: Session,
    result_id: int,
    body: AdjudicateIn,
    username: str,
    background: BackgroundTasks,
) -> dict[str, Any]:
    config = state.config
    out = adjudicate(
        session,
        result_id,
        body.decision,
        body.reason,
        actor=username,
        base_url=config.public_url,
        mail_domain=config.mail_domain,
    )
    session.commit()
    if out.messages_queued and config.smtp is not None:
        # the managers hear at once
        background.add_task(send_now, state.db, config.smtp, config.notify)
    return {
        "id": out.result_id,
        "status": out.decision,
        "deviation_id": out.deviation_id,
        "messages_queued": out.messages_queued,
    }


@router.get("/api/providers/{provider_id}/screenings", tags=["screening"])
def provider_screenings(
    provider_id: int, session: SessionDep, user: Reader, history: bool = False
) -> dict[str, Any]:
    """The latest result against each list; every screening with `?history=true`."""
    get_provider(session, provider_id)
    return {"items": views.provider_screenings(session, provider_id, history=history)}


@router.post("/api/screenings/{result_id}/adjudicate", tags=["screening"])
def adjudicate_api(
    result_id: int,
    body: AdjudicateIn,
    session: SessionDep,
    state: StateDep,
    user: Reviewer,
    background: BackgroundTasks,
) -> dict[str, Any]:
    """Confirm or dismiss an open hit, with a reason; a confirmed exclusion opens a critical
    deviation and mails the managers."""
    return _decide(state, session, result_id, body, user.username, background)


@router.get("/api/screenings", tags=["screening"])
def open_hits_api(session: SessionDep, user: Reader) -> dict[str, Any]:
    """Open hits of the latest screenings (the coordinators' queue)."""
    return {"items": [views.hit_json(h) for h in views.open_hits(session)]}


@router.get("/api/source-imports", tags=["screening"])
def imports_api(session: SessionDep, user: Reader) -> dict[str, Any]:
    """Every list import, newest first, with its counts and rejection reasons."""
    return {"items": [views.import_json(i) for i in views.imports(session)]}


def _page(request: Request, name: str, context: dict[str, Any]) -> Response:
    templates = request.app.state.credflow.templates
    return templates.TemplateResponse(request, f"screening/{name}", context)


@router.get("/screening", response_class=HTMLResponse, include_in_schema=False)
def queue_page(request: Request, session: SessionDep, user: Reader, done: str = "") -> Response:
    return _page(request, "queue.html", {"hits": views.open_hits(session), "done": done})


@router.post("/screening/{result_id}", include_in_schema=False)
def decide_page(
    result_id: int,
    session: SessionDep,
    state: StateDep,
    user: Reviewer,
    background: BackgroundTasks,
    decision: str = Form(...),
    reason: str = Form(""),
) -> Response:
    if decision not in ("confirmed", "dismissed"):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "confirm or dismiss")
    body = AdjudicateIn(decision=decision, reason=reason)  # type: ignore[arg-type]
    _decide(state, session, result_id, body, user.username, background)
    return RedirectResponse(f"/screening?done={result_id}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/screening/imports", response_class=HTMLResponse, include_in_schema=False)
def imports_page(request: Request, session: SessionDep, user: Reader) -> Response:
    return _page(request, "imports.html", {"imports": views.imports(session)})


@router.get(
    "/screening/providers/{provider_id}", response_class=HTMLResponse, include_in_schema=False
)
def provider_part(
    provider_id: int, request: Request, session: SessionDep, user: Reader, history: bool = False
) -> Response:
    """The screening part of the clinician's page (loaded into it by htmx)."""
    items = views.provider_screenings(session, provider_id, history=history)
    return _page(
        request, "provider.html", {"items": items, "provider_id": provider_id, "history": history}
    )
