"""Documents as the API lists and shows them: one query for lists, the detail view with
its fields, pages and credentials."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import HTTPException, status
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from models import (
    Document,
    DocumentField,
    DocumentPage,
    DocumentStatus,
    User,
)
from models.base import utcnow
from models.search import matching_documents
from review import approve as decisions
from review import claims
from review.providers import escape_like
from review.schemas import (
    DocumentDetail,
    DocumentItem,
    DocumentList,
    FieldOut,
    Order,
    PageOut,
)


@dataclass(frozen=True)
class DocumentFilter:
    """What `GET /api/documents` filters by: statuses (none: every one but deleted), type,
    provider, a search over filename, hint, names and numbers; and the order."""

    statuses: list[DocumentStatus]
    doc_type: str | None
    provider_id: int | None
    q: str | None
    order: Order


def list_page(session: Session, flt: DocumentFilter, limit: int, offset: int) -> DocumentList:
    """One page of documents and how many match in all."""
    conditions: list[Any] = [
        Document.status.in_(
            [s.value for s in flt.statuses] or [s for s in DocumentStatus if s != "deleted"]
        )
    ]
    if flt.doc_type:
        conditions.append(Document.doc_type == flt.doc_type)
    if flt.provider_id is not None:
        conditions.append(Document.provider_id == flt.provider_id)
    searching = bool(flt.q and flt.q.strip())
    if flt.q and searching:
        pattern = f"%{escape_like(flt.q.strip())}%"
        sqlite = session.get_bind().dialect.name == "sqlite"

        def contains(column: Any) -> Any:
            # SQLite's LIKE ignores ASCII case already; its ILIKE would lower() every row
            return (
                column.like(pattern, escape="\\") if sqlite else column.ilike(pattern, escape="\\")
            )

        found = [contains(Document.filename), contains(Document.hint)]
        # names and numbers from the search-term index (a range scan, not a LIKE per field)
        documents = matching_documents(flt.q)
        if documents is not None:
            found.append(Document.id.in_(documents))
        conditions.append(or_(*found))
    where = and_(*conditions)
    ordering: list[Any]
    if flt.order == "priority":
        ordering = claims.priority_order()
    elif flt.order == "oldest":
        ordering = [Document.id]
    else:  # ids grow with arrival: the primary key gives "newest" without a sort
        ordering = [Document.id.desc()]
    query = documents_query().where(where).order_by(*ordering).limit(limit).offset(offset)
    if searching:
        # a search scans the fields once: count and page in one query
        rows = session.execute(query.add_columns(func.count().over())).all()
        total = rows[0][2] if rows else None
    else:
        rows = session.execute(query).all()
        total = None
    if total is None:
        total = session.scalar(select(func.count(Document.id)).where(where)) or 0
    return DocumentList(items=[item_of(row[0], row[1]) for row in rows], total=total)


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
