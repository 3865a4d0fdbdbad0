"""Primary-source verifications of a credential: `POST /api/credentials/{id}/verifications`
(201) and `GET` (newest first), and the checklist page's form. Coordinators record;
everyone signed in reads."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Form, HTTPException, status
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from compliance.verification import (
    VerificationIn,
    VerificationView,
    list_verifications,
    record_verification,
)
from models import Credential
from review.deps import Reader, Reviewer, SessionDep

router = APIRouter()


class VerificationBody(BaseModel):
    source: str = Field(min_length=1, max_length=300)
    method: str = Field(max_length=20)
    verified_on: date
    result: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=2000)
    document_id: int | None = Field(default=None, ge=1)


def _json(v: VerificationView) -> dict[str, Any]:
    out = dict(vars(v))
    out["verified_on"] = v.verified_on.isoformat()
    return out


def _record(
    session: Session, credential_id: int, body: VerificationBody, actor: str
) -> VerificationView:
    view = record_verification(
        session, credential_id, VerificationIn(**body.model_dump()), actor=actor
    )
    session.commit()
    return view


@router.post(
    "/api/credentials/{credential_id}/verifications",
    status_code=status.HTTP_201_CREATED,
    tags=["verifications"],
)
def add_verification(
    credential_id: int, body: VerificationBody, session: SessionDep, user: Reviewer
) -> dict[str, Any]:
    """Record a check with the primary source (the board, the school, NPPES...)."""
    return _json(_record(session, credential_id, body, user.username))


@router.get("/api/credentials/{credential_id}/verifications", tags=["verifications"])
def verifications(credential_id: int, session: SessionDep, user: Reader) -> dict[str, Any]:
    if session.get(Credential, credential_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No credential {credential_id}.")
    return {"items": [_json(v) for v in list_verifications(session, credential_id)]}


@router.post("/providers/{provider_id}/checklist/verification", include_in_schema=False)
def verification_form(
    provider_id: int,
    session: SessionDep,
    user: Reviewer,
    credential: int = Form(...),
    source: str = Form(...),
    method: str = Form(...),
    verified_on: date = Form(...),
    result: str = Form(...),
    note: str = Form(""),
    document_id: str = Form(""),
) -> Response:
    """The checklist's form: the credential is chosen in the form (no script rewrites the
    action under the app's CSP), and must be one of this clinician's."""
    cred = session.get(Credential, credential)
    if cred is None or cred.provider_id != provider_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No credential {credential} on this file.")
    doc = int(document_id) if document_id.strip().isdigit() else None
    body = VerificationBody(
        source=source,
        method=method,
        verified_on=verified_on,
        result=result,
        note=note or None,
        document_id=doc,
    )
    _record(session, credential, body, user.username)
    return RedirectResponse(
        f"/providers/{provider_id}/checklist?done=verified", status_code=status.HTTP_303_SEE_OTHER
    )
