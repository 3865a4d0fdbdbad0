"""Documents: the API's lists, counts, detail and decisions (approve, reject, needs
information, claim, release) and the document files (page images, the original)."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import FileResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Document,
    DocumentPage,
    DocumentStatus,
    Role,
)
from review import approve as decisions
from review import claims
from review.deps import (
    Reader,
    Reviewer,
    SessionDep,
    StateDep,
    has_role,
)
from review.documents import (
    DocumentFilter,
    document_detail,
    find_document,
    item_of,
    list_page,
)
from review.previews import NoPreview, draw_pdf_page
from review.schemas import (
    MAX_ID,
    ApproveIn,
    ApproveOut,
    ClaimOut,
    Counts,
    DecisionOut,
    DocumentDetail,
    DocumentId,
    DocumentList,
    NextOut,
    NoteIn,
    Offset,
    Order,
    PageNumber,
    RejectIn,
    ReleaseOut,
)
from review.security import FILE_CSP

api = APIRouter(prefix="/api", tags=["api"])
files = APIRouter(tags=["files"])

# ---- documents ------------------------------------------------------------------------


@api.get("/documents", response_model=DocumentList)
def list_documents(
    session: SessionDep,
    user: Reader,
    status_: Annotated[
        list[DocumentStatus] | None, Query(alias="status", description="repeat for several")
    ] = None,
    doc_type: Annotated[str | None, Query(max_length=50)] = None,
    provider_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    q: Annotated[str | None, Query(max_length=200, description="filename, name or number")] = None,
    order: Order = Order.NEWEST,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> DocumentList:
    flt = DocumentFilter(status_ or [], doc_type, provider_id, q, order)
    return list_page(session, flt, limit, offset)


@api.get("/documents/counts", response_model=Counts)
def document_counts(session: SessionDep, user: Reader) -> Counts:
    by_status = {s.value: 0 for s in DocumentStatus}
    for name, n in session.execute(select(Document.status, func.count()).group_by(Document.status)):
        by_status[name] = n
    by_type: dict[str, int] = {}
    # coalesce: group from the status index, not by walking the whole doc_type index
    kind = func.coalesce(Document.doc_type, "unknown")
    for doc_type, n in session.execute(
        select(kind, func.count())
        .where(Document.status == DocumentStatus.AWAITING_REVIEW)
        .group_by(kind)
    ):
        by_type[doc_type] = n
    return Counts(by_status=by_status, awaiting_by_doc_type=by_type)


@api.post("/documents/next", response_model=NextOut)
def claim_next_document(
    session: SessionDep,
    state: StateDep,
    user: Reviewer,
    doc_type: Annotated[str | None, Query(max_length=50)] = None,
    after: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> NextOut:
    """Claim the next document to review for this user (null when the queue is empty)."""
    doc = claims.claim_next(session, user, state.claim_seconds, doc_type=doc_type, exclude=after)
    session.commit()
    return NextOut(document=item_of(doc, user.username) if doc else None)


@api.get("/documents/{document_id}", response_model=DocumentDetail)
def get_document(document_id: DocumentId, session: SessionDep, user: Reader) -> DocumentDetail:
    return document_detail(session, find_document(session, document_id))


@api.post("/documents/{document_id}/approve", response_model=ApproveOut)
def approve(
    document_id: DocumentId, body: ApproveIn, session: SessionDep, state: StateDep, user: Reviewer
) -> ApproveOut:
    """Confirm the fields: writes the Credential, links the provider (null: created from
    the confirmed person_name and npi), records an audit event per field and learns the
    document's layout."""
    result = decisions.approve_document(
        session, document_id, user, body.doc_type, body.fields, body.provider_id, state.learner
    )
    session.commit()
    return ApproveOut(
        provider_id=result.provider_id,
        credential_ids=result.credential_ids,
        provider_created=result.provider_created,
    )


@api.post("/documents/{document_id}/reject", response_model=DecisionOut)
def reject(
    document_id: DocumentId, body: RejectIn, session: SessionDep, user: Reviewer
) -> DecisionOut:
    decisions.reject_document(session, document_id, user, body.reason)
    session.commit()
    return DecisionOut(document_id=document_id, status=DocumentStatus.REJECTED)


@api.post("/documents/{document_id}/needs-information", response_model=DecisionOut)
def needs_information(
    document_id: DocumentId, body: NoteIn, session: SessionDep, user: Reviewer
) -> DecisionOut:
    decisions.mark_needs_information(session, document_id, user, body.note)
    session.commit()
    return DecisionOut(document_id=document_id, status=DocumentStatus.AWAITING_REVIEW)


@api.post("/documents/{document_id}/claim", response_model=ClaimOut)
def claim(
    document_id: DocumentId, session: SessionDep, state: StateDep, user: Reviewer
) -> ClaimOut:
    """Claim (or renew the claim on) a document; 409 while someone else holds it."""
    doc = find_document(session, document_id)
    if not claims.claim(session, document_id, user, state.claim_seconds):
        session.rollback()
        holder = claims.claim_holder(session, document_id)
        if holder is not None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"Document {document_id} is being reviewed by {holder[0].username}.",
            )
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"Document {document_id} is {doc.status}, not awaiting review.",
        )
    session.commit()
    session.refresh(doc)
    assert doc.claim_expires_at is not None
    return ClaimOut(
        document_id=document_id, claimed_by=user.username, expires_at=doc.claim_expires_at
    )


@api.post("/documents/{document_id}/release", response_model=ReleaseOut)
def release(
    document_id: DocumentId, session: SessionDep, user: Reviewer, force: bool = False
) -> ReleaseOut:
    """Give the claim back; `force=true` (managers) releases another person's claim."""
    find_document(session, document_id)
    if force and not has_role(user, Role.MANAGER):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Only a manager may release another's claim."
        )
    released = claims.release(session, document_id, user, force=force)
    session.commit()
    return ReleaseOut(document_id=document_id, released=released)


# ---- files ----------------------------------------------------------------------------

# stored files are shown, never run: no script, no plug-in, no same-origin access
FILE_HEADERS = {"Cache-Control": "no-store", "Content-Security-Policy": FILE_CSP}
# what a browser may show inline, recognised by the first bytes (never by name or claim)
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


def detected_type(head: bytes) -> str | None:
    """The media type of a PDF, PNG, JPEG or TIFF by its magic bytes; None otherwise."""
    return next((media for magic, media in SIGNATURES if head.startswith(magic)), None)


def _stored(session: Session, document_id: int) -> Document:
    doc = session.get(Document, document_id)
    if doc is None or doc.sha256 is None or doc.status == DocumentStatus.DELETED:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No document {document_id}.")
    return doc


@files.get("/documents/{document_id}/pages/{number}.png", response_class=Response)
def page_image(
    document_id: DocumentId, number: PageNumber, session: SessionDep, state: StateDep, user: Reader
) -> Response:
    """A page preview, only for signed-in readers: the image ingest wrote for a page it
    OCR'd, or a text-layer page drawn from the stored PDF."""
    doc = _stored(session, document_id)
    assert doc.sha256 is not None
    path = state.layout.page_image(doc.sha256, number)
    if path.is_file():
        return FileResponse(path, media_type="image/png", headers=FILE_HEADERS)
    source = session.scalar(
        select(DocumentPage.source).where(
            DocumentPage.document_id == document_id, DocumentPage.number == number
        )
    )
    if source == "text":
        dpi = state.config.page_image_dpi
        with contextlib.suppress(NoPreview):
            png = draw_pdf_page(state.layout.original(doc.sha256), number, dpi)
            return Response(png, media_type="image/png", headers=FILE_HEADERS)
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"No image of page {number}.")


@files.get("/documents/{document_id}/original", response_class=FileResponse)
def original(
    document_id: DocumentId, session: SessionDep, state: StateDep, user: Reader
) -> FileResponse:
    """The stored original as it arrived: a PDF or image (recognised by its bytes) shown
    inline, anything else only as a download (`application/octet-stream`, attachment)."""
    doc = _stored(session, document_id)
    assert doc.sha256 is not None
    path = state.layout.original(doc.sha256)
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "The original is not in the store.")
    with path.open("rb") as fh:
        media = detected_type(fh.read(8))
    return FileResponse(
        path,
        media_type=media or "application/octet-stream",
        filename=doc.filename,
        content_disposition_type="inline" if media else "attachment",
        headers=FILE_HEADERS,
    )


router = APIRouter()
router.include_router(api)
router.include_router(files)
