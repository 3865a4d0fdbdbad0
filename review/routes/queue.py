"""The queue (`/queue`, its counts) and the failed list (`/failed`, retry): every role
reads, coordinators, managers and admins retry."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models import (
    DocumentStatus,
)
from models.failed import failed_documents, retry_document
from review import forms, queue
from review.deps import Reader, Reviewer, SessionDep, render
from review.schemas import DocumentId
from review.screen import (
    is_htmx,
)

router = APIRouter(include_in_schema=False)


# ---- the queue -----------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def home(user: Reader) -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue", response_class=HTMLResponse)
def queue_view(request: Request, session: SessionDep, user: Reader) -> Response:
    flt = queue.QueueFilter.from_params(request.query_params)
    page = queue.queue_page(session, flt)
    counts = queue.counts(session)
    context = {
        "page": page,
        "flt": flt,
        "counts": counts,
        "doc_types": forms.DOC_TYPES,
        "statuses": [s.value for s in DocumentStatus],
    }
    if is_htmx(request) and request.headers.get("HX-Target") == "queue-results":
        return render(request, "partials/queue_results.html", context)
    return render(request, "queue.html", context)


@router.get("/queue/counts", response_class=HTMLResponse)
def queue_counts(request: Request, session: SessionDep, user: Reader) -> Response:
    flt = queue.QueueFilter.from_params(request.query_params)
    return render(request, "partials/counts.html", {"counts": queue.counts(session), "flt": flt})


@router.get("/failed", response_class=HTMLResponse)
def failed_view(request: Request, session: SessionDep, user: Reader) -> Response:
    return render(
        request,
        "failed.html",
        {
            "docs": failed_documents(session, limit=100, newest_first=True),
            "counts": queue.counts(session),
            "retried": request.query_params.get("retried"),
        },
    )


@router.post("/failed/{document_id}/retry")
def retry(
    document_id: DocumentId, request: Request, session: SessionDep, user: Reviewer
) -> Response:
    """Put a failed document back to `received` so the workers read it again (the same
    change as `credflow retry`)."""
    retry_document(
        session,
        document_id,
        actor=user.username,
        note="sent back to be read again from the failed list",
    )
    session.commit()
    if is_htmx(request):
        return HTMLResponse(
            f'<td colspan="5" class="notice" role="status">Document {document_id} is '
            "queued to be read again.</td>"
        )
    return RedirectResponse(f"/failed?retried={document_id}", status_code=303)
