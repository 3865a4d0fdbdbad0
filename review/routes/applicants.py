"""From applicant to committee in the web app: the API (`POST /api/providers/{id}/status`,
`GET /api/providers/{id}/checklist`, `POST /api/providers/{id}/missing-items-letter`, its
PDF) and the pages (`/applicants`, the pipeline; `/providers/{id}/checklist`, the checklist
with the forms to record a verification and send the letter). Coordinators change things;
everyone signed in reads (auditors change nothing, app-wide)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from compliance.applicants import change_status, pipeline
from compliance.checklist import Checklist, build_checklist, checklist_json
from compliance.letters import (
    letters_sent,
    render_missing_items_pdf,
    render_request_pdf,
    send_missing_items_letter,
    send_request_letter,
)
from compliance.requirements import Requirements
from compliance.screening.adjudicate import send_now
from compliance.verification import explain_gap, gap_explanations
from models import Credential, Provider
from models.provider import PROVIDER_STATUSES, STATUS_TRANSITIONS
from models.verification import VERIFICATION_METHODS, VERIFICATION_RESULTS
from review.deps import READERS, AppState, Reader, Reviewer, SessionDep, StateDep

router = APIRouter()
NAV = ("Applicants", "/applicants", READERS)
PDF_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def requirements_of(state: AppState) -> Requirements:
    return state.compliance.requirements()


def max_age_of(state: AppState) -> int:
    return state.config.verification_max_age_days


def checklist_for(
    state: AppState, session: Session, provider_id: int, on: date | None
) -> Checklist:
    return build_checklist(
        session,
        requirements_of(state),
        provider_id,
        on or date.today(),
        max_age_days=max_age_of(state),
    )


class StatusIn(BaseModel):
    status: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=500)


def _change(session: Session, provider_id: int, body: StatusIn, actor: str) -> dict[str, Any]:
    done = change_status(session, provider_id, body.status, actor=actor, reason=body.reason)
    session.commit()
    return {
        "id": provider_id,
        "old": done.old,
        "status": done.new,
        "status_since": done.since.isoformat(),
    }


@router.post("/api/providers/{provider_id}/status", tags=["applicants"])
def status_api(
    provider_id: int, body: StatusIn, session: SessionDep, user: Reviewer
) -> dict[str, Any]:
    """Move a provider along applicant → in_review → committee → active | denied (409 when
    the change is not allowed from the current status)."""
    return _change(session, provider_id, body, user.username)


@router.get("/api/providers/{provider_id}/checklist", tags=["applicants"])
def checklist_api(
    provider_id: int, session: SessionDep, state: StateDep, user: Reader, on: date | None = None
) -> dict[str, Any]:
    """Item per requirement with its status, next step and agency; `on` = decision day."""
    return checklist_json(checklist_for(state, session, provider_id, on))


def _send_letter(
    state: AppState, session: Session, provider_id: int, actor: str, background: BackgroundTasks
) -> dict[str, Any]:
    checklist = checklist_for(state, session, provider_id, None)
    sent = send_missing_items_letter(
        session, checklist, actor=actor, domain=state.config.mail_domain
    )
    session.commit()
    if state.config.smtp is not None:
        background.add_task(
            send_now, state.db, state.config.smtp, state.config.notify
        )  # the outbox, now
    return {
        "letter_id": sent.letter_id,
        "outbox_id": sent.outbox_id,
        "recipient": sent.recipient,
        "items": sent.items,
    }


@router.post(
    "/api/providers/{provider_id}/missing-items-letter",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["applicants"],
)
def letter_api(
    provider_id: int,
    session: SessionDep,
    state: StateDep,
    user: Reviewer,
    background: BackgroundTasks,
) -> dict[str, Any]:
    """Queue the missing-items letter to the candidate (each sending recorded)."""
    return _send_letter(state, session, provider_id, user.username, background)


@router.get("/api/providers/{provider_id}/letters", tags=["applicants"])
def letters_api(provider_id: int, session: SessionDep, user: Reader) -> dict[str, Any]:
    return {"items": [vars(x) for x in letters_sent(session, provider_id)]}


@router.get("/providers/{provider_id}/missing-items-letter.pdf", include_in_schema=False)
def letter_pdf(provider_id: int, session: SessionDep, state: StateDep, user: Reader) -> Response:
    c = checklist_for(state, session, provider_id, None)
    return Response(
        render_missing_items_pdf(c),
        media_type="application/pdf",
        headers={
            **PDF_HEADERS,
            "Content-Disposition": f'inline; filename="missing-items-{provider_id}.pdf"',
        },
    )


@router.post(
    "/api/reference-requests/{request_id}/letter",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["applicants"],
)
def request_letter_api(
    request_id: int,
    session: SessionDep,
    state: StateDep,
    user: Reviewer,
    background: BackgroundTasks,
) -> dict[str, Any]:
    """E-mail a reference or employment-verification request with its form (recorded)."""
    sent = send_request_letter(
        session, request_id, actor=user.username, domain=state.config.mail_domain
    )
    session.commit()
    if state.config.smtp is not None:
        background.add_task(send_now, state.db, state.config.smtp, state.config.notify)
    return {"letter_id": sent.letter_id, "outbox_id": sent.outbox_id, "recipient": sent.recipient}


@router.get("/reference-requests/{request_id}/letter.pdf", include_in_schema=False)
def request_letter_pdf(request_id: int, session: SessionDep, user: Reader) -> Response:
    content = render_request_pdf(session, request_id)
    return Response(
        content,
        media_type="application/pdf",
        headers={
            **PDF_HEADERS,
            "Content-Disposition": f'inline; filename="request-{request_id}.pdf"',
        },
    )


class GapIn(BaseModel):
    gap_start: date
    gap_end: date
    explanation: str = Field(min_length=1, max_length=4000)


def _explain(session: Session, provider_id: int, body: GapIn, actor: str) -> dict[str, Any]:
    g = explain_gap(
        session, provider_id, body.gap_start, body.gap_end, body.explanation, actor=actor
    )
    session.commit()
    return {
        "id": g.id,
        "gap_start": g.gap_start.isoformat(),
        "gap_end": g.gap_end.isoformat(),
        "explanation": g.explanation,
        "actor": g.actor,
    }


@router.post(
    "/api/providers/{provider_id}/gap-explanations",
    status_code=status.HTTP_201_CREATED,
    tags=["applicants"],
)
def gap_api(provider_id: int, body: GapIn, session: SessionDep, user: Reviewer) -> dict[str, Any]:
    """The candidate's explanation of a gap over six months in the work history."""
    return _explain(session, provider_id, body, user.username)


@router.get("/api/providers/{provider_id}/gap-explanations", tags=["applicants"])
def gaps_api(provider_id: int, session: SessionDep, user: Reader) -> dict[str, Any]:
    items = gap_explanations(session, provider_id)
    return {
        "items": [
            {
                "id": g.id,
                "gap_start": g.gap_start.isoformat(),
                "gap_end": g.gap_end.isoformat(),
                "explanation": g.explanation,
                "actor": g.actor,
            }
            for g in items
        ]
    }


@router.post("/providers/{provider_id}/checklist/gap", include_in_schema=False)
def gap_form(
    provider_id: int,
    session: SessionDep,
    user: Reviewer,
    gap_start: date = Form(...),
    gap_end: date = Form(...),
    explanation: str = Form(...),
) -> Response:
    body = GapIn(gap_start=gap_start, gap_end=gap_end, explanation=explanation or " ")
    _explain(session, provider_id, body, user.username)
    return _back(provider_id, "gap")


# --- pages ------------------------------------------------------------------------------


def _page(request: Request, name: str, context: dict[str, Any]) -> Response:
    templates = request.app.state.credflow.templates
    return templates.TemplateResponse(request, f"applicants/{name}", context)


@router.get("/applicants", response_class=HTMLResponse, include_in_schema=False)
def applicants_page(
    request: Request, session: SessionDep, state: StateDep, user: Reader
) -> Response:
    rows = pipeline(session, requirements_of(state), date.today(), max_age_days=max_age_of(state))
    return _page(request, "index.html", {"pipeline": rows})


def checklist_context(
    state: AppState, session: Session, provider_id: int, done: str = "", evidence: int | None = None
) -> dict[str, Any]:
    """What `applicants/_checklist.html` needs (the clinician's page includes it too)."""
    c = checklist_for(state, session, provider_id, None)
    provider = session.get(Provider, provider_id)
    creds = session.query(Credential).filter(Credential.provider_id == provider_id).all()
    return {
        "checklist": c,
        "provider": provider,
        "done": done,
        "evidence": evidence,
        "letters": letters_sent(session, provider_id),
        "credentials": {x.id: x for x in creds},
        "methods": VERIFICATION_METHODS,
        "results": VERIFICATION_RESULTS,
        "next_statuses": STATUS_TRANSITIONS.get(provider.status if provider else "", ()),
    }


@router.get(
    "/providers/{provider_id}/checklist", response_class=HTMLResponse, include_in_schema=False
)
def checklist_page(
    provider_id: int,
    request: Request,
    session: SessionDep,
    state: StateDep,
    user: Reader,
    done: str = "",
    evidence: int | None = None,
) -> Response:
    """`?evidence=DOC` (the review screen's link) fills in the evidence document."""
    context = checklist_context(state, session, provider_id, done, evidence)
    return _page(request, "checklist.html", context)


def _back(provider_id: int, done: str) -> Response:
    return RedirectResponse(
        f"/providers/{provider_id}/checklist?done={done}", status_code=status.HTTP_303_SEE_OTHER
    )


@router.post("/providers/{provider_id}/checklist/letter", include_in_schema=False)
def letter_form(
    provider_id: int,
    session: SessionDep,
    state: StateDep,
    user: Reviewer,
    background: BackgroundTasks,
) -> Response:
    _send_letter(state, session, provider_id, user.username, background)
    return _back(provider_id, "letter")


@router.post("/providers/{provider_id}/checklist/status", include_in_schema=False)
def status_form(
    provider_id: int, session: SessionDep, user: Reviewer, new_status: str = Form(...)
) -> Response:
    if new_status not in PROVIDER_STATUSES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "unknown status")
    _change(session, provider_id, StatusIn(status=new_status), user.username)
    return _back(provider_id, "status")
