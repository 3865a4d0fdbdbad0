"""The review screen's work behind its routes (review.routes.review, review.routes.queue):
the context a document's page shows, approving and deciding from a form post, and
re-rendering the form with what was typed when a decision is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from models import (
    Document,
    DocumentField,
    DocumentPage,
    DocumentStatus,
    Provider,
    User,
    record_event,
)
from review import approve as approve_mod
from review import claims, forms, providers
from review.deps import REVIEWERS, get_state, has_role, render
from review.schemas import DocumentId


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def can_review(user: User) -> bool:
    return has_role(user, *REVIEWERS)


def claim_seconds(request: Request) -> int:
    return int(get_state(request).claim_seconds)


async def run(fn: Any) -> Any:
    """Run blocking database work off the event loop (the form was read asynchronously)."""
    return await run_in_threadpool(fn)


def now() -> datetime:
    return datetime.now(UTC)


def username(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return session.scalar(select(User.username).where(User.id == user_id))


def holder(session: Session, doc_id: int) -> str | None:
    """Who has a live claim on the document (None when nobody)."""
    held = claims.claim_holder(session, doc_id)
    return held[0].username if held else None


def not_found(request: Request) -> Response:
    return render(
        request,
        "error.html",
        {
            "status_code": 404,
            "detail": "That document or provider does not exist, or it was removed.",
        },
        status_code=404,
    )


def field_views(
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


def page_views(session: Session, doc: Document) -> list[dict[str, Any]]:
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


def suggest(
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


def search(session: Session, q: str) -> list[dict[str, Any]]:
    return [
        {"id": p.id, "name": p.name, "npi": p.npi, "score": None, "reason": "search"}
        for p in providers.search_providers(session, q, limit=8)
    ]


def review_context(
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
    views = field_views(session, doc, doc_type, typed)
    for view in views:
        if field_errors and view.name in field_errors:
            view.error = field_errors[view.name]
    pages = page_views(session, doc)
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
        "claim_seconds": claim_seconds(request),
        "error": error,
        "field_errors": field_errors or {},
        "reviewed_by": username(session, doc.reviewed_by_id),
        "needs_info": needs_info,
    }


def approve_form(
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
        record_review_marks(session, document_id, user, submitted)
        session.commit()
    except approve_mod.ReviewError as err:
        session.rollback()
        return rerender(session, request, document_id, user, form, err)
    if str(form.get("next") or "") == "1":
        return open_next(session, request, user, document_id)
    return RedirectResponse(f"/queue?approved={document_id}", status_code=303)


def record_review_marks(
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


def decide_form(
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
        return rerender(session, request, document_id, user, None, err)
    done = "rejected" if what == "reject" else "needs_information"
    return RedirectResponse(f"/queue?{done}={document_id}", status_code=303)


def rerender(
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
        return not_found(request)
    held = claims.claim_holder(session, doc.id)
    mine = held is not None and held[0].id == user.id
    context = review_context(
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


def open_next(session: Session, request: Request, user: User, after: int | None) -> Response:
    """Claim the next document by priority (a POST did ask) and open it."""
    doc = claims.claim_next(session, user, claim_seconds(request), exclude=after)
    session.commit()
    if doc is None:
        return RedirectResponse("/queue?done=1", status_code=303)
    return RedirectResponse(f"/review/{doc.id}", status_code=303)
