"""HTML routes coordinators work in: the queue, the failed list, the review screen.

`review.app.create_app` includes `router`; sign-in, roles (`review.deps.require_role`), the
app-wide CSRF check and the template context (`csrf_token`, `current_user`, `nav_links`,
`can_review`) come from the app. Claiming is `review.claims`, approving `review.approve`;
these routes turn form posts into those calls and render the results.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Document,
    DocumentField,
    DocumentPage,
    DocumentStatus,
    Provider,
    User,
    record_event,
)
from models.failed import failed_documents, retry_document
from review import approve as approve_mod
from review import claims, forms, providers, queue
from review.api import MAX_ID, DocumentId
from review.deps import READERS, REVIEWERS, SessionDep, get_state, has_role, require_role

router = APIRouter(include_in_schema=False)
Reader = Depends(require_role(*READERS))
Reviewer = Depends(require_role(*REVIEWERS))


def _templates(request: Request) -> Jinja2Templates:
    templates = get_state(request).templates
    env = templates.env
    if "doc_type_label" not in env.filters:
        env.filters["doc_type_label"] = lambda t: forms.DOC_TYPE_LABELS.get(t or "unclassified", t)
        env.filters["age"] = _age
        env.filters["urlencode_params"] = urlencode
    return templates


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return _templates(request).TemplateResponse(request, name, context, status_code=status_code)


def _age(when: datetime | None) -> str:
    """A short "how long ago" for lists: 5 min, 3 h, 2 d."""
    if when is None:
        return ""
    seconds = (datetime.now(UTC) - when).total_seconds()
    if seconds < 90:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _can_review(user: User) -> bool:
    return has_role(user, *REVIEWERS)


def _claim_seconds(request: Request) -> int:
    return int(get_state(request).claim_seconds)


# ---- the queue -----------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def home(user: User = Reader) -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue", response_class=HTMLResponse)
def queue_view(request: Request, session: SessionDep, user: User = Reader) -> Response:
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
    if _is_htmx(request) and request.headers.get("HX-Target") == "queue-results":
        return render(request, "partials/queue_results.html", context)
    return render(request, "queue.html", context)


@router.get("/queue/counts", response_class=HTMLResponse)
def queue_counts(request: Request, session: SessionDep, user: User = Reader) -> Response:
    flt = queue.QueueFilter.from_params(request.query_params)
    return render(request, "partials/counts.html", {"counts": queue.counts(session), "flt": flt})


@router.get("/failed", response_class=HTMLResponse)
def failed_view(request: Request, session: SessionDep, user: User = Reader) -> Response:
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
    document_id: DocumentId, request: Request, session: SessionDep, user: User = Reviewer
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
    if _is_htmx(request):
        return HTMLResponse(
            f'<td colspan="5" class="notice" role="status">Document {document_id} is '
            "queued to be read again.</td>"
        )
    return RedirectResponse(f"/failed?retried={document_id}", status_code=303)


# ---- the review screen ---------------------------------------------------------------
def _open_next(session: Session, request: Request, user: User, after: int | None) -> Response:
    """Claim the next document by priority (a POST did ask) and open it."""
    doc = claims.claim_next(session, user, _claim_seconds(request), exclude=after)
    session.commit()
    if doc is None:
        return RedirectResponse("/queue?done=1", status_code=303)
    return RedirectResponse(f"/review/{doc.id}", status_code=303)


@router.post("/review/next")
async def review_next(request: Request, session: SessionDep, user: User = Reviewer) -> Response:
    """Claim the next document by priority and open it (a form post: a link from another
    site cannot claim anything)."""
    after = str((await request.form()).get("after") or "")
    exclude = int(after) if after.isdigit() and int(after) <= MAX_ID else None
    return await _run(lambda: _open_next(session, request, user, exclude))


@router.get("/review/{document_id}", response_class=HTMLResponse)
def review_view(
    document_id: DocumentId, request: Request, session: SessionDep, user: User = Reader
) -> Response:
    """The document; editable when this user holds its claim. Looking never claims: a
    reviewer takes a free document with the page's "Review this document" button."""
    doc = session.get(Document, document_id)
    if doc is None or doc.status == DocumentStatus.DELETED:
        return _not_found(request)
    held = claims.claim_holder(session, doc.id)
    claimed = held is not None and held[0].id == user.id
    holder = None if claimed or held is None else held[0].username
    context = _review_context(session, request, doc, user, claimed=claimed, holder=holder)
    context["claimable"] = (
        not claimed
        and holder is None
        and _can_review(user)
        and doc.status == DocumentStatus.AWAITING_REVIEW
    )
    return render(request, "review.html", context)


@router.post("/review/{document_id}/start")
def start_review(
    document_id: DocumentId, request: Request, session: SessionDep, user: User = Reviewer
) -> Response:
    """Claim this document and open it for review (409 page while someone else has it)."""
    if not claims.claim(session, document_id, user, _claim_seconds(request)):
        session.rollback()
    else:
        session.commit()
    return RedirectResponse(f"/review/{document_id}", status_code=303)


@router.get("/review/{document_id}/form", response_class=HTMLResponse)
def review_form(
    document_id: DocumentId, request: Request, session: SessionDep, user: User = Reader
) -> Response:
    """The fields of another doc_type (the form follows a type change), keeping what the
    person already typed."""
    doc = session.get(Document, document_id)
    if doc is None:
        return _not_found(request)
    doc_type = request.query_params.get("doc_type") or doc.doc_type or "other"
    if doc_type not in forms.FIELDS_BY_TYPE:
        doc_type = "other"
    views = _field_views(session, doc, doc_type, request.query_params)
    return render(
        request,
        "partials/fields.html",
        {"fields": views, "doc": doc, "editable": True, "doc_type": doc_type},
    )


@router.post("/review/{document_id}/claim")
def renew_claim(
    document_id: DocumentId, request: Request, session: SessionDep, user: User = Reviewer
) -> Response:
    """Heartbeat from the open review screen: 204 while the claim is ours, 409 once lost."""
    ok = claims.renew(session, document_id, user, _claim_seconds(request))
    session.commit()
    if ok:
        return Response(status_code=204)
    return Response(
        json.dumps({"holder": _holder(session, document_id)}),
        status_code=409,
        media_type="application/json",
    )


@router.post("/review/{document_id}/release")
def release_claim(
    document_id: DocumentId, request: Request, session: SessionDep, user: User = Reviewer
) -> Response:
    """Give the document back (Skip, or leaving the page): others may take it at once."""
    claims.release(session, document_id, user)
    session.commit()
    target = request.query_params.get("to")
    if target == "next":
        return _open_next(session, request, user, document_id)
    if target == "queue":
        return RedirectResponse("/queue", status_code=303)
    return Response(status_code=204)


@router.get("/review/{document_id}/providers", response_class=HTMLResponse)
def provider_search(
    document_id: DocumentId, request: Request, session: SessionDep, user: User = Reader
) -> Response:
    """Provider choices for the form: a search typed in "Find another provider" (`q`), else
    suggestions from the name and NPI as currently typed (same NPI first, then alike)."""
    doc = session.get(Document, document_id)
    if doc is None:
        return _not_found(request)
    params = request.query_params
    q = (params.get("q") or "").strip()
    if q:
        found = _search(session, q)
    else:
        found = _suggest(
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
    document_id: DocumentId, request: Request, session: SessionDep, user: User = Reviewer
) -> Response:
    form = await request.form()
    return await _run(lambda: _approve(session, request, document_id, user, form))


@router.post("/review/{document_id}/reject")
async def reject(
    document_id: DocumentId, request: Request, session: SessionDep, user: User = Reviewer
) -> Response:
    form = await request.form()
    reason = " ".join(str(form.get("reason") or "").split())
    return await _run(lambda: _decide(session, request, document_id, user, "reject", reason))


@router.post("/review/{document_id}/needs-information")
async def needs_information(
    document_id: DocumentId, request: Request, session: SessionDep, user: User = Reviewer
) -> Response:
    form = await request.form()
    note = " ".join(str(form.get("note") or form.get("reason") or "").split())
    return await _run(lambda: _decide(session, request, document_id, user, "needs", note))


async def _run(fn: Any) -> Any:
    """Run blocking database work off the event loop (the form was read asynchronously)."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn)


def _now() -> datetime:
    return datetime.now(UTC)


def _username(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return session.scalar(select(User.username).where(User.id == user_id))


def _holder(session: Session, doc_id: int) -> str | None:
    """Who has a live claim on the document (None when nobody)."""
    held = claims.claim_holder(session, doc_id)
    return held[0].username if held else None


def _not_found(request: Request) -> Response:
    return render(
        request,
        "error.html",
        {
            "status_code": 404,
            "detail": "That document or provider does not exist, or it was removed.",
        },
        status_code=404,
    )


def _field_views(
    session: Session, doc: Document, doc_type: str, typed: Any | None = None
) -> list[forms.FieldView]:
    proposed = {
        f.name: f
        for f in session.scalars(select(DocumentField).where(DocumentField.document_id == doc.id))
    }
    views: list[forms.FieldView] = []
    for name in forms.fields_for(doc_type):
        f = proposed.get(name)
        view = forms.FieldView(
            name=name,
            value=(f.value or "") if f else "",
            machine_value=f.value if f else None,
            confidence=f.confidence if f else None,
            page=f.page if f else None,
            box=list(f.box) if f and f.box else None,
            candidates=[c for c in (f.candidates or []) if isinstance(c, dict)] if f else [],
            problems=[str(p) for p in (f.problems or [])] if f else [],
            proposed=f is not None,
            source=f.source if f else None,
        )
        if typed is not None and name in typed:
            view.value = str(typed.get(name) or "")
            state = str(typed.get(f"{name}__state") or forms.STATE_CONFIRMED)
            view.state = state if state in forms.STATES else forms.STATE_CONFIRMED
            box = forms.parse_box(str(typed.get(f"{name}__box") or ""))
            if box:
                view.page, view.box = int(box[0]), box[1:]
        views.append(view)
    return views


def _page_views(session: Session, doc: Document) -> list[dict[str, Any]]:
    pages = session.scalars(
        select(DocumentPage).where(DocumentPage.document_id == doc.id).order_by(DocumentPage.number)
    )
    return [
        {
            "number": p.number,
            "width": p.width,
            "height": p.height,
            "rotation": p.rotation,
            "source": p.source,
            # [text, conf, x0, y0, x1, y1]: the words a person can click to fill a field
            "words": [w for w in (p.words or []) if isinstance(w, list) and len(w) >= 6],
        }
        for p in pages
    ]


def _suggest(
    session: Session, doc: Document, name: str | None = None, npi: str | None = None
) -> list[dict[str, Any]]:
    """Providers that may be this document's person: same NPI first, then similar names
    (the typed name, else the proposed one, and the inbox subfolder it came from)."""
    if name is None and npi is None:
        found = providers.suggest_providers(session, doc.id)
    else:
        names = [name or ""]
        if doc.hint:
            names.append(doc.hint.replace("/", " ").replace("_", " "))
        found = providers.suggest_for_names(session, names, npi=npi or None)
    return [
        {"id": s.provider_id, "name": s.name, "npi": s.npi, "score": s.score, "reason": s.reason}
        for s in found
    ]


def _search(session: Session, q: str) -> list[dict[str, Any]]:
    return [
        {"id": p.id, "name": p.name, "npi": p.npi, "score": None, "reason": "search"}
        for p in providers.search_providers(session, q, limit=8)
    ]


def _review_context(
    session: Session,
    request: Request,
    doc: Document,
    user: User,
    *,
    claimed: bool,
    holder: str | None,
    typed: Any | None = None,
    error: str | None = None,
    field_errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    doc_type = (typed.get("doc_type") if typed is not None else None) or doc.doc_type or "other"
    if doc_type not in forms.FIELDS_BY_TYPE:
        doc_type = "other"
    views = _field_views(session, doc, doc_type, typed)
    for view in views:
        if field_errors and view.name in field_errors:
            view.error = field_errors[view.name]
    pages = _page_views(session, doc)
    # the provider suggestions load right after the page (GET .../providers): finding
    # similar names among thousands of providers should not hold the page up
    selected = ""
    if doc.provider_id:
        selected = str(doc.provider_id)
    elif typed is not None:
        selected = str(typed.get("provider_id") or "")
    editable = claimed and doc.status == DocumentStatus.AWAITING_REVIEW
    note = doc.review_note or ""
    needs_info = (
        note[len(claims.NEEDS_INFO_PREFIX) :] if note.startswith(claims.NEEDS_INFO_PREFIX) else None
    )
    return {
        "doc": doc,
        "doc_type": doc_type,
        "doc_types": forms.DOC_TYPES,
        "fields": views,
        "pages": pages,
        "pages_json": json.dumps(
            [{"number": p["number"], "words": p["words"], "rotation": p["rotation"]} for p in pages]
        ).replace("<", "\\u003c"),
        "selected": selected,
        "linked_provider": session.get(Provider, doc.provider_id) if doc.provider_id else None,
        "claimed": claimed,
        "holder": holder,
        "editable": editable,
        "claim_seconds": _claim_seconds(request),
        "error": error,
        "field_errors": field_errors or {},
        "reviewed_by": _username(session, doc.reviewed_by_id),
        "needs_info": needs_info,
    }


def _approve(
    session: Session, request: Request, document_id: DocumentId, user: User, form: Any
) -> Response:
    submitted = forms.parse_submission(form, None)
    try:
        approve_mod.approve_document(
            session,
            document_id,
            user,
            submitted.doc_type,
            dict(submitted.values),
            submitted.provider_id,
            get_state(request).learner,
        )
        _record_review_marks(session, document_id, user, submitted)
        session.commit()
    except approve_mod.ReviewError as err:
        session.rollback()
        return _rerender(session, request, document_id, user, form, err)
    if str(form.get("next") or "") == "1":
        return _open_next(session, request, user, document_id)
    return RedirectResponse(f"/queue?approved={document_id}", status_code=303)


def _record_review_marks(
    session: Session, document_id: DocumentId, user: User, submitted: forms.Submitted
) -> None:
    """What the approval itself does not keep: fields marked "unsure" (printed but not
    readable, as distinct from "not on document") and boxes the person drew on the page."""
    doc = session.get(Document, document_id)
    provider_id = doc.provider_id if doc else None
    machine_boxes = {
        name: [page, *box] if page and box else None
        for name, page, box in session.execute(
            select(DocumentField.name, DocumentField.page, DocumentField.box).where(
                DocumentField.document_id == document_id
            )
        )
    }
    for name, state in submitted.states.items():
        if state == forms.STATE_UNSURE:
            record_event(
                session,
                actor=user.username,
                action="field.unreadable",
                entity_type="document",
                entity_id=document_id,
                note=name,
            )
        box = submitted.boxes.get(name)
        machine = machine_boxes.get(name)
        same = (
            machine is not None
            and box is not None
            and all(abs(float(a) - float(b)) < 1e-4 for a, b in zip(box, machine, strict=False))
        )
        if box is not None and state == forms.STATE_CONFIRMED and not same:
            record_event(
                session,
                actor=user.username,
                action="field.box",
                entity_type="document",
                entity_id=document_id,
                note=name,
                detail={"field": name, "page": int(box[0]), "box": box[1:]},
                provider_id=provider_id,
                document_id=document_id,
            )


def _decide(
    session: Session, request: Request, document_id: DocumentId, user: User, what: str, text: str
) -> Response:
    try:
        if what == "reject":
            approve_mod.reject_document(session, document_id, user, text)
        else:
            approve_mod.mark_needs_information(session, document_id, user, text)
        session.commit()
    except approve_mod.ReviewError as err:
        session.rollback()
        return _rerender(session, request, document_id, user, None, err)
    done = "rejected" if what == "reject" else "needs_information"
    return RedirectResponse(f"/queue?{done}={document_id}", status_code=303)


def _rerender(
    session: Session,
    request: Request,
    document_id: DocumentId,
    user: User,
    form: Any,
    err: approve_mod.ReviewError,
) -> Response:
    """The review screen again, with what the person typed and the reasons it was refused."""
    doc = session.get(Document, document_id)
    if doc is None:
        return _not_found(request)
    held = claims.claim_holder(session, doc.id)
    mine = held is not None and held[0].id == user.id
    context = _review_context(
        session,
        request,
        doc,
        user,
        claimed=mine,
        holder=None if mine or held is None else held[0].username,
        typed=form,
        error=err.message,
        field_errors=err.errors,
    )
    return render(request, "review.html", context, status_code=err.status_code)
