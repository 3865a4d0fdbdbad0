"""Removal on request, for managers: a document (`DELETE /api/documents/{id}`, the page
`/documents/{id}/remove`) or a clinician's whole file (`DELETE /api/providers/{id}` in
review.routes.providers, the form `/providers/{id}/remove`). Refused (409) while a retention
hold applies."""

from __future__ import annotations

from fastapi import APIRouter, Body, Form, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict

from compliance import removal as rm
from models import User
from review.deps import AppState, Manager, SessionDep, StateDep, render

router = APIRouter()


class RemovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str


def api_remove(
    state: AppState, kind: str, target_id: int, reason: str | None, body: RemovalIn | None,
    user: User,
) -> Response:  # fmt: skip
    """The reason from the JSON body, else the query; 204 once removed."""
    text = (body.reason if body is not None else None) or reason or ""
    rm.remove(state.db, state.layout, kind, target_id, actor=user.username, reason=text)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/api/documents/{document_id}", status_code=204, response_class=Response, tags=["records"]
)
def delete_document(
    document_id: int,
    state: StateDep,
    user: Manager,
    reason: str | None = Query(None),
    body: RemovalIn | None = Body(None),
) -> Response:
    """Remove one document: its file, page images, text, fields and the credentials it
    evidences. 204 when removed; 409 with the hold's reason while a hold applies."""
    return api_remove(state, "document", document_id, reason, body, user)


@router.get("/documents/{document_id}/remove", response_class=HTMLResponse, include_in_schema=False)
def remove_document_page(
    request: Request, document_id: int, session: SessionDep, user: Manager
) -> Response:
    preview = rm.document_preview(session, document_id)
    return render(request, "records/remove.html", {
        **preview, "kind": "document", "action": f"/documents/{document_id}/remove",
    })  # fmt: skip


def _form_remove(
    request: Request, state: AppState, kind: str, target_id: int, reason: str, user: User
) -> Response:
    context = {"kind": kind, "target_id": target_id, "refused": None, "result": None}
    try:
        context["result"] = rm.remove(
            state.db, state.layout, kind, target_id, actor=user.username, reason=reason
        )
    except (rm.RemovalRefused, ValueError) as e:
        return render(request, "records/removed.html", {**context, "refused": str(e)}, 409)
    return render(request, "records/removed.html", context)


@router.post(
    "/documents/{document_id}/remove", response_class=HTMLResponse, include_in_schema=False
)
def remove_document_form(
    request: Request, document_id: int, state: StateDep, user: Manager, reason: str = Form("")
) -> Response:
    return _form_remove(request, state, "document", document_id, reason, user)


@router.post(
    "/providers/{provider_id}/remove", response_class=HTMLResponse, include_in_schema=False
)
def remove_provider_form(
    request: Request, provider_id: int, state: StateDep, user: Manager, reason: str = Form("")
) -> Response:
    return _form_remove(request, state, "provider", provider_id, reason, user)
