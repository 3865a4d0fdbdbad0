"""Documents as the API lists and shows them: one query for lists, the detail view with
its fields, pages and credentials."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import HTTPException, status
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from models import (
    Document,
    DocumentField,
    DocumentPage,
    User,
)
from models.base import utcnow
from review import approve as decisions
from review import claims
from review.schemas import (
    DocumentDetail,
    DocumentItem,
    FieldOut,
    PageOut,
)

# ---- helpers --------------------------------------------------------------------------

Claimer = aliased(User)
T = TypeVar("T", bound=DocumentItem)


def documents_query() -> Select[Document, str]:
    return select(Document, Claimer.username).outerjoin(
        Claimer, Document.claimed_by_id == Claimer.id
    )


def item_of(
    doc: Document,
    claimer: str | None,
    model: type[T] = DocumentItem,  # type: ignore[assignment]
    **extra: Any,
) -> T:
    live = doc.claim_expires_at is not None and doc.claim_expires_at >= utcnow()
    return model(
        id=doc.id,
        filename=doc.filename,
        sha256=doc.sha256,
        status=doc.status,
        doc_type=doc.doc_type,
        doc_type_confidence=doc.doc_type_confidence,
        error=doc.error,
        hint=doc.hint,
        created_at=doc.created_at,
        min_confidence=doc.min_confidence,
        page_count=doc.page_count,
        expires_on=doc.expires_on,
        provider_id=doc.provider_id,
        claimed_by=claimer if live else None,
        claim_expires_at=doc.claim_expires_at if live else None,
        review_note=doc.review_note,
        reviewed_at=doc.reviewed_at,
        **extra,
    )


def find_document(session: Session, document_id: int) -> Document:
    doc = session.get(Document, document_id)
    if doc is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No document {document_id}.")
    return doc


def document_detail(session: Session, doc: Document) -> DocumentDetail:
    """The document with its proposed fields and pages (shared with the review page)."""
    holder = claims.claim_holder(session, doc.id)
    fields = {
        f.name: FieldOut(
            value=f.value,
            confidence=f.confidence,
            page=f.page,
            box=list(f.box) if f.box else None,
            candidates=list(f.candidates or []),
            problems=[str(p) for p in f.problems or []],
            source=f.source,
        )
        for f in session.scalars(select(DocumentField).where(DocumentField.document_id == doc.id))
    }
    pages = [
        PageOut(
            number=p.number,
            width=p.width,
            height=p.height,
            source=p.source,
            rotation=p.rotation,
            image_url=f"/documents/{doc.id}/pages/{p.number}.png",
        )
        for p in session.execute(
            select(
                DocumentPage.number,
                DocumentPage.width,
                DocumentPage.height,
                DocumentPage.source,
                DocumentPage.rotation,
            )
            .where(DocumentPage.document_id == doc.id)
            .order_by(DocumentPage.number)
        )
    ]
    return item_of(
        doc,
        holder[0].username if holder else None,
        DocumentDetail,
        fields=fields,
        pages=pages,
        needs_information=decisions.needs_information(doc),
    )
