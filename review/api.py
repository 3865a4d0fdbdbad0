"""The JSON API under /api (Bearer token or browser session) and the document files.

Readers (every role) may read; coordinators, managers and admins may decide; auditors get
403 on every change. Errors are `{"detail": message}`; a 422 from a decision also has
`"errors": {field: message}`.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from compliance.web_dashboard import ProviderPatch
from models import (
    Credential,
    Document,
    DocumentField,
    DocumentPage,
    DocumentStatus,
    Provider,
    Role,
    User,
    record_event,
)
from models.base import utcnow
from models.search import matching_documents
from review import approve as decisions
from review import auth, claims
from review.approve import npi_problem
from review.csrf import csrf_token, is_bearer
from review.deps import (
    MANAGERS,
    SESSION_ID,
    CurrentUser,
    Reader,
    Reviewer,
    SessionDep,
    StateDep,
    has_role,
    require_role,
)
from review.previews import DEFAULT_PAGE_IMAGE_DPI, NoPreview, draw_pdf_page
from review.providers import escape_like, search_providers, suggest_providers
from review.security import FILE_CSP

router = APIRouter(prefix="/api", tags=["api"])
files_router = APIRouter(tags=["files"])

# ids are 32-bit integers on PostgreSQL: larger numbers name nothing (422, never a 500)
MAX_ID = 2**31 - 1
DocumentId = Annotated[int, Path(ge=1, le=MAX_ID)]
ProviderId = Annotated[int, Path(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, Path(ge=1, le=10_000)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]


class Order(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    PRIORITY = "priority"


# ---- response and request models ------------------------------------------------------


class DocumentItem(BaseModel):
    id: int
    filename: str
    sha256: str | None
    status: str
    doc_type: str | None
    doc_type_confidence: float | None = None
    error: str | None
    hint: str | None
    created_at: datetime
    min_confidence: float | None
    page_count: int | None = None
    expires_on: str | None = None
    provider_id: int | None = None
    claimed_by: str | None = None
    claim_expires_at: datetime | None = None
    review_note: str | None = None
    reviewed_at: datetime | None = None


class DocumentList(BaseModel):
    items: list[DocumentItem]
    total: int


class FieldOut(BaseModel):
    value: str | None
    confidence: float
    page: int | None
    box: list[float] | None
    candidates: list[dict[str, Any]] = []
    problems: list[str] = []
    # where the value came from when not the rules alone ("from 3 confirmed documents ...")
    source: str | None = None


class PageOut(BaseModel):
    number: int
    width: float
    height: float
    source: str
    rotation: int = 0
    image_url: str


class DocumentDetail(DocumentItem):
    fields: dict[str, FieldOut]
    pages: list[PageOut]
    needs_information: str | None = None


class Counts(BaseModel):
    by_status: dict[str, int]
    # documents awaiting review, per doc_type ("unknown" when not yet classified)
    awaiting_by_doc_type: dict[str, int]


class ApproveIn(BaseModel):
    doc_type: str = Field(max_length=50)
    fields: dict[str, str | int | float | None]
    provider_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ApproveOut(BaseModel):
    provider_id: int
    credential_ids: list[int]
    provider_created: bool = False


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class NoteIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class DecisionOut(BaseModel):
    document_id: int
    status: str


class ClaimOut(BaseModel):
    document_id: int
    claimed_by: str
    expires_at: datetime


class ReleaseOut(BaseModel):
    document_id: int
    released: bool


class NextOut(BaseModel):
    document: DocumentItem | None


class ProviderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    npi: str | None
    email: str | None
    staff_category: str | None
    department: str | None
    states: list[str]
    active: bool
    created_at: datetime
    date_of_birth: date | None = None
    other_names: list[str] = []


class ProviderList(BaseModel):
    items: list[ProviderOut]


class ProviderIn(ProviderPatch):
    """Every field PATCH takes (states, active, date_of_birth, other_names...), and these."""

    name: str = Field(min_length=1, max_length=200)
    npi: str | None = None


class SuggestionOut(BaseModel):
    provider_id: int
    name: str
    npi: str | None
    score: float
    reason: str


class SuggestionList(BaseModel):
    items: list[SuggestionOut]


class CredentialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    provider_id: int
    document_id: int | None
    doc_type: str
    credential_number: str | None
    issuer: str | None
    jurisdiction: str | None
    credential_title: str | None
    issue_date: Any
    expiration_date: Any
    start_date: Any
    end_date: Any
    npi: str | None
    schedules: str | None
    credit_hours: str | None
    referee_name: str | None
    verified_by_id: int | None
    verified_by: str | None = None
    verified_at: datetime
    problems: str | None


class CredentialList(BaseModel):
    items: list[CredentialOut]


class Me(BaseModel):
    id: int
    username: str
    role: str
    can_review: bool
    can_manage: bool
    csrf_token: str | None = None


# ---- helpers --------------------------------------------------------------------------

Claimer = aliased(User)
T = TypeVar("T", bound=DocumentItem)


def _documents_query() -> Select[Document, str]:
    return select(Document, Claimer.username).outerjoin(
        Claimer, Document.claimed_by_id == Claimer.id
    )


def _item(
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


def _document(session: Session, document_id: int) -> Document:
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
    return _item(
        doc,
        holder[0].username if holder else None,
        DocumentDetail,
        fields=fields,
        pages=pages,
        needs_information=decisions.needs_information(doc),
    )


# ---- documents ------------------------------------------------------------------------


@router.get("/me", response_model=Me)
def me(request: Request, user: Reader) -> Me:
    """Who is signed in (and, for a browser session, its CSRF token for scripts)."""
    return Me(
        id=user.id,
        username=user.username,
        role=user.role,
        can_review=has_role(user, Role.COORDINATOR),
        can_manage=has_role(user, Role.MANAGER),
        csrf_token=None if is_bearer(request) else csrf_token(request),
    )


@router.get("/documents", response_model=DocumentList)
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
    conditions: list[Any] = [
        Document.status.in_(
            [s.value for s in status_ or []] or [s for s in DocumentStatus if s != "deleted"]
        )
    ]
    if doc_type:
        conditions.append(Document.doc_type == doc_type)
    if provider_id is not None:
        conditions.append(Document.provider_id == provider_id)
    searching = bool(q and q.strip())
    if q and searching:
        pattern = f"%{escape_like(q.strip())}%"
        sqlite = session.get_bind().dialect.name == "sqlite"

        def contains(column: Any) -> Any:
            # SQLite's LIKE ignores ASCII case already; its ILIKE would lower() every row
            return (
                column.like(pattern, escape="\\") if sqlite else column.ilike(pattern, escape="\\")
            )

        found = [contains(Document.filename), contains(Document.hint)]
        # names and numbers from the search-term index (a range scan, not a LIKE per field)
        documents = matching_documents(q)
        if documents is not None:
            found.append(Document.id.in_(documents))
        conditions.append(or_(*found))
    where = and_(*conditions)
    ordering: list[Any]
    if order == "priority":
        ordering = claims.priority_order()
    elif order == "oldest":
        ordering = [Document.id]
    else:  # ids grow with arrival: the primary key gives "newest" without a sort
        ordering = [Document.id.desc()]
    query = _documents_query().where(where).order_by(*ordering).limit(limit).offset(offset)
    if searching:
        # a search scans the fields once: count and page in one query
        rows = session.execute(query.add_columns(func.count().over())).all()
        total = rows[0][2] if rows else None
    else:
        rows = session.execute(query).all()
        total = None
    if total is None:
        total = session.scalar(select(func.count(Document.id)).where(where)) or 0
    return DocumentList(items=[_item(row[0], row[1]) for row in rows], total=total)


@router.get("/documents/counts", response_model=Counts)
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


@router.post("/documents/next", response_model=NextOut)
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
    return NextOut(document=_item(doc, user.username) if doc else None)


@router.get("/documents/{document_id}", response_model=DocumentDetail)
def get_document(document_id: DocumentId, session: SessionDep, user: Reader) -> DocumentDetail:
    return document_detail(session, _document(session, document_id))


@router.post("/documents/{document_id}/approve", response_model=ApproveOut)
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


@router.post("/documents/{document_id}/reject", response_model=DecisionOut)
def reject(
    document_id: DocumentId, body: RejectIn, session: SessionDep, user: Reviewer
) -> DecisionOut:
    decisions.reject_document(session, document_id, user, body.reason)
    session.commit()
    return DecisionOut(document_id=document_id, status=DocumentStatus.REJECTED)


@router.post("/documents/{document_id}/needs-information", response_model=DecisionOut)
def needs_information(
    document_id: DocumentId, body: NoteIn, session: SessionDep, user: Reviewer
) -> DecisionOut:
    decisions.mark_needs_information(session, document_id, user, body.note)
    session.commit()
    return DecisionOut(document_id=document_id, status=DocumentStatus.AWAITING_REVIEW)


@router.post("/documents/{document_id}/claim", response_model=ClaimOut)
def claim(
    document_id: DocumentId, session: SessionDep, state: StateDep, user: Reviewer
) -> ClaimOut:
    """Claim (or renew the claim on) a document; 409 while someone else holds it."""
    doc = _document(session, document_id)
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


@router.post("/documents/{document_id}/release", response_model=ReleaseOut)
def release(
    document_id: DocumentId, session: SessionDep, user: Reviewer, force: bool = False
) -> ReleaseOut:
    """Give the claim back; `force=true` (managers) releases another person's claim."""
    _document(session, document_id)
    if force and not has_role(user, Role.MANAGER):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Only a manager may release another's claim."
        )
    released = claims.release(session, document_id, user, force=force)
    session.commit()
    return ReleaseOut(document_id=document_id, released=released)


# ---- providers ------------------------------------------------------------------------


@router.get("/providers", response_model=ProviderList)
def list_providers(
    session: SessionDep,
    user: Reader,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Offset = 0,
) -> ProviderList:
    """Search by name (every word) or NPI (digits)."""
    found = search_providers(session, q, limit=limit, offset=offset)
    return ProviderList(items=[ProviderOut.model_validate(p) for p in found])


@router.post("/providers", response_model=ProviderOut, status_code=status.HTTP_201_CREATED)
def create_provider(body: ProviderIn, session: SessionDep, user: Reviewer) -> ProviderOut:
    npi = (body.npi or "").replace(" ", "") or None
    if npi and (problem := npi_problem(npi)):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)
    if npi and session.scalar(select(Provider.id).where(Provider.npi == npi)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "A provider with this NPI exists already.")
    given = body.model_dump(include=body.model_fields_set - {"name", "npi"}, exclude_none=True)
    provider = Provider(name=" ".join(body.name.split()), npi=npi, **given)
    given_json = body.model_dump(mode="json", include=set(given))
    session.add(provider)
    session.flush()
    record_event(
        session,
        actor=user.username,
        action="provider.created",
        entity_type="provider",
        entity_id=provider.id,
        detail={"name": provider.name, "npi": npi, **given_json},
        provider_id=provider.id,
    )
    session.commit()
    return ProviderOut.model_validate(provider)


@router.get("/providers/suggest", response_model=SuggestionList)
def suggest(
    document_id: Annotated[int, Query(ge=1, le=MAX_ID)], session: SessionDep, user: Reader
) -> SuggestionList:
    """Providers for a document: same NPI first, then similar names."""
    _document(session, document_id)
    return SuggestionList(
        items=[SuggestionOut(**s.__dict__) for s in suggest_providers(session, document_id)]
    )


def _provider(session: Session, provider_id: int) -> Provider:
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No provider {provider_id}.")
    return provider


@router.get("/providers/{provider_id}", response_model=ProviderOut)
def get_provider(provider_id: ProviderId, session: SessionDep, user: Reader) -> ProviderOut:
    return ProviderOut.model_validate(_provider(session, provider_id))


@router.get("/providers/{provider_id}/credentials", response_model=CredentialList)
def provider_credentials(
    provider_id: ProviderId, session: SessionDep, user: Reader
) -> CredentialList:
    _provider(session, provider_id)
    Verifier = aliased(User)
    rows = session.execute(
        select(Credential, Verifier.username)
        .outerjoin(Verifier, Credential.verified_by_id == Verifier.id)
        .where(Credential.provider_id == provider_id)
        .order_by(Credential.doc_type, Credential.expiration_date, Credential.id)
    )
    items = []
    for cred, verifier in rows:
        out = CredentialOut.model_validate(cred)
        out.verified_by = verifier
        items.append(out)
    return CredentialList(items=items)


# ---- accounts (managers) -------------------------------------------------------------

# managers administer accounts; auditors may read the list
UserAdmin = Annotated[User, Depends(require_role(*MANAGERS))]
UserReader = Annotated[User, Depends(require_role(*MANAGERS, Role.AUDITOR))]
UserName = Annotated[str, Path(min_length=1, max_length=100)]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: str
    email: str | None
    disabled: bool
    created_at: datetime


class UserList(BaseModel):
    items: list[UserOut]


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=500)
    role: Role
    email: str | None = None


class PasswordIn(BaseModel):
    password: str = Field(min_length=1, max_length=500)


class OwnPasswordIn(BaseModel):
    current_password: str = Field(max_length=500)
    new_password: str = Field(min_length=1, max_length=500)


def _may_administer(actor: User, role: str) -> None:
    """A manager manages coordinators, auditors and managers; only an admin touches admins."""
    if role == Role.ADMIN and actor.role != Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only an admin may manage admin accounts.")


def _account(session: Session, username: str) -> User:
    user = auth.get_user(session, username)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No user named {username!r}.")
    return user


def _account_error(err: auth.AccountError) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err))


@router.get("/users", response_model=UserList)
def list_users(session: SessionDep, user: UserReader) -> UserList:
    rows = session.scalars(select(User).order_by(User.username))
    return UserList(items=[UserOut.model_validate(u) for u in rows])


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def add_user(body: UserIn, session: SessionDep, user: UserAdmin) -> UserOut:
    _may_administer(user, body.role)
    if auth.get_user(session, body.username) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"A user named {body.username!r} exists.")
    try:
        created = auth.create_user(
            session,
            body.username,
            body.password,
            body.role,
            email=body.email,
            actor=user.username,
        )
    except auth.AccountError as err:
        raise _account_error(err) from None
    session.commit()
    return UserOut.model_validate(created)


@router.post("/users/{username}/password", response_model=UserOut)
def reset_password(
    username: UserName, body: PasswordIn, session: SessionDep, user: UserAdmin
) -> UserOut:
    """Set another person's password (their sessions end, their tokens are revoked). A
    manager resets coordinators' and auditors'; a peer's or an admin's only an admin may;
    one's own password changes only with the current one (`POST /api/me/password`)."""
    target = _account(session, username)
    if target.id == user.id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Change your own password with the current one (POST /api/me/password).",
        )
    if target.role in (Role.MANAGER, Role.ADMIN) and user.role != Role.ADMIN:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Only an admin may reset a manager's or an admin's password."
        )
    try:
        changed = auth.set_password(session, target.username, body.password, actor=user.username)
    except auth.AccountError as err:
        raise _account_error(err) from None
    session.commit()
    return UserOut.model_validate(changed)


@router.post("/users/{username}/disable", response_model=UserOut)
def disable(username: UserName, session: SessionDep, user: UserAdmin) -> UserOut:
    target = _account(session, username)
    _may_administer(user, target.role)
    if target.id == user.id:
        raise HTTPException(status.HTTP_409_CONFLICT, "You cannot disable your own account.")
    auth.disable_user(session, username, actor=user.username)
    session.commit()
    return UserOut.model_validate(target)


@router.post("/users/{username}/enable", response_model=UserOut)
def enable(username: UserName, session: SessionDep, user: UserAdmin) -> UserOut:
    _may_administer(user, _account(session, username).role)
    enabled = auth.enable_user(session, username, actor=user.username)
    session.commit()
    return UserOut.model_validate(enabled)


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_own_password(
    request: Request, body: OwnPasswordIn, session: SessionDep, user: CurrentUser
) -> None:
    """Anyone, auditors included, may change their own password (other sessions end; this
    one stays signed in)."""
    if auth.verify_password(session, user.username, body.current_password) is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "The current password is wrong.")
    sid = None if is_bearer(request) else request.session.get(SESSION_ID)
    try:
        auth.set_password(
            session,
            user.username,
            body.new_password,
            actor=user.username,
            keep_session=sid if isinstance(sid, str) else None,
        )
    except auth.AccountError as err:
        raise _account_error(err) from None
    session.commit()


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


@files_router.get("/documents/{document_id}/pages/{number}.png", response_class=Response)
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
        dpi = int(getattr(state.settings, "page_image_dpi", DEFAULT_PAGE_IMAGE_DPI))
        with contextlib.suppress(NoPreview):
            png = draw_pdf_page(state.layout.original(doc.sha256), number, dpi)
            return Response(png, media_type="image/png", headers=FILE_HEADERS)
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"No image of page {number}.")


@files_router.get("/documents/{document_id}/original", response_class=FileResponse)
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
