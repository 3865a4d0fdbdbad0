"""The review screen (`/review/...`): open, claim, renew, release, the form for another
document type, provider choices, approve, reject, needs information. Every role looks;
coordinators, managers and admins decide."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models import (
    Document,
    DocumentStatus,
)
from review import claims, forms
from review.deps import Reader, Reviewer, SessionDep, render
from review.schemas import MAX_ID, DocumentId
from review.screen import (
    approve_form,
    can_review,
    claim_seconds,
    decide_form,
    field_views,
    holder,
    not_found,
    open_next,
    review_context,
    run,
    search,
    suggest,
)

router = APIRouter(include_in_schema=False)


# ---- the review screen ---------------------------------------------------------------
@router.post("/review/next")
async def review_next(request: Request, session: SessionDep, user: Reviewer) -> Response:
    """Claim the next document by priority and open it (a form post: a link from another
    site cannot claim anything)."""
    after = str((await request.form()).get("after") or "")
    exclude = int(after) if after.isdigit() and int(after) <= MAX_ID else None
    return await run(lambda: open_next(session, request, user, exclude))


@router.get("/review/{document_id}", response_class=HTMLResponse)
def review_view(
    document_id: DocumentId, request: Request, session: SessionDep, user: Reader
) -> Response:
    """The document; editable when this user holds its claim. Looking never claims: a
    reviewer takes a free document with the page's "Review this document" button."""
    doc = session.get(Document, document_id)
    if doc is None or doc.status == DocumentStatus.DELETED:
        return not_found(request)
    held = claims.claim_holder(session, doc.id)
    claimed = held is not None and held[0].id == user.id
    holder = None if claimed or held is None else held[0].username
    context = review_context(session, request, doc, user, claimed=claimed, holder=holder)
    context["claimable"] = (
        not claimed
        and holder is None
        and can_review(user)
        and doc.status == DocumentStatus.AWAITING_REVIEW
    )
    return render(request, "review.html", context)


@router.post("/review/{document_id}/start")
def start_review(
    document_id: DocumentId, request: Request, session: SessionDep, user: Reviewer
) -> Response:
    """Claim this document and open it for review (409 page while someone else has it)."""
    if not claims.claim(session, document_id, user, claim_seconds(request)):
        session.rollback()
    else:
        session.commit()
    return RedirectResponse(f"/review/{document_id}", status_code=303)


@router.get("/review/{document_id}/form", response_class=HTMLResponse)
def review_form(
    document_id: DocumentId, request: Request, session: SessionDep, user: Reader
) -> Response:
    """The fields of another doc_type (the form follows a type change), keeping what the
    person already typed."""
    doc = session.get(Document, document_id)
    if doc is None:
        return not_found(request)
    doc_type = request.query_params.get("doc_type") or doc.doc_type or "other"
    if doc_type not in forms.FIELDS_BY_TYPE:
        doc_type = "other"
    views = field_views(session, doc, doc_type, request.query_params)
    return render(
        request,
        "partials/fields.html",
        {"fields": views, "doc": doc, "editable": True, "doc_type": doc_type},
    )


@router.post("/review/{document_id}/claim")
def renew_claim(
    document_id: DocumentId, request: Request, session: SessionDep, user: Reviewer
) -> Response:
    """Heartbeat from the open review screen: 204 while the claim is ours, 409 once lost."""
    ok = claims.renew(session, document_id, user, claim_seconds(request))
    session.commit()
    if ok:
        return Response(status_code=204)
    return Response(
        json.dumps({"holder": holder(session, document_id)}),
        status_code=409,
        media_type="application/json",
    )


@router.post("/review/{document_id}/release")
def release_claim(
    document_id: DocumentId, request: Request, session: SessionDep, user: Reviewer
) -> Response:
    """Give the document back (Skip, or leaving the page): others may take it at once."""
    claims.release(session, document_id, user)
    session.commit()
    target = request.query_params.get("to")
    if target == "next":
        return open_next(session, request, user, document_id)
    if target == "queue":
        return RedirectResponse("/queue", status_code=303)
    return Response(status_code=204)


@router.get("/review/{document_id}/providers", response_class=HTMLResponse)
def provider_search(
    document_id: DocumentId, request: Request, session: SessionDep, user: Reader
) -> Response:
    """Provider choices for the form: a search typed in "Find another provider" (`q`), else
    suggestions from the name and NPI as currently typed (same NPI first, then alike)."""
    doc = session.get(Document, document_id)
    if doc is None:
        return not_found(request)
    params = request.query_params
    q = (params.get("q") or "").strip()
    if q:
        found = search(session, q)
    else:
        found = suggest(
            session, doc, params.get("person_name") or "", (params.get("npi") or "").strip()
        )
    selected = params.get("provider_id") or (str(doc.provider_id) if doc.provider_id else "")
    if not selected and found and found[0]["reason"] == "npi":
        selected = str(found[0]["id"])  # the same NPI is the same person
    return render(
        request,
        "partials/providers.html",
        {"suggestions": found, "selected": selected, "editable": True},
    )


@router.post("/review/{document_id}/approve")
async def approve(
    document_id: DocumentId, request: Request, session: SessionDep, user: Reviewer
) -> Response:
    form = await request.form()
    return await run(lambda: approve_form(session, request, document_id, user, form))


@router.post("/review/{document_id}/reject")
async def reject(
    document_id: DocumentId, request: Request, session: SessionDep, user: Reviewer
) -> Response:
    form = await request.form()
    reason = " ".join(str(form.get("reason") or "").split())
    return await run(lambda: decide_form(session, request, document_id, user, "reject", reason))


@router.post("/review/{document_id}/needs-information")
async def needs_information(
    document_id: DocumentId, request: Request, session: SessionDep, user: Reviewer
) -> Response:
    form = await request.form()
    note = " ".join(str(form.get("note") or form.get("reason") or "").split())
    return await run(lambda: decide_form(session, request, document_id, user, "needs", note))
