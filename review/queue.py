"""The queries behind the queue pages: counts, filters, priority order, the failed list.

Kept apart from the routes so the benchmark and the tests can call them on a session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from models import Document, DocumentField, DocumentStatus, Provider, User
from models.search import matching_documents, matching_providers
from review import claims

PAGE_SIZE = 50
# "expiring soon" (or lapsed) documents are reviewed first: the claims' queue order
SOON_DAYS = claims.SOON_DAYS
CONFIDENCE_BANDS: dict[str, tuple[float, float]] = {
    "low": (0.0, 0.6),
    "medium": (0.6, 0.9),
    "high": (0.9, 1.01),
}
AGE_BANDS: dict[str, tuple[int | None, int | None]] = {
    # name: (at least days old, at most days old)
    "today": (None, 1),
    "week": (None, 7),
    "older": (7, None),
    "month": (30, None),
}


MAX_PAGE = 100_000


@dataclass
class QueueFilter:
    """What the coordinator asked the queue for; empty strings mean "any"."""

    status: str = DocumentStatus.AWAITING_REVIEW
    doc_type: str = ""
    confidence: str = ""
    age: str = ""
    hint: str = ""
    provider: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def from_params(cls, params: Any) -> QueueFilter:
        def get(name: str, default: str = "") -> str:
            return str(params.get(name, default) or "").strip()[:200]

        try:
            # bounded: a page past the last is empty, a huge number is not a database error
            page = min(max(1, int(get("page", "1") or 1)), MAX_PAGE)
        except ValueError:
            page = 1
        status = get("status", DocumentStatus.AWAITING_REVIEW)
        if status not in {s.value for s in DocumentStatus} and status != "all":
            status = DocumentStatus.AWAITING_REVIEW
        return cls(
            status=status,
            doc_type=get("doc_type"),
            confidence=get("confidence") if get("confidence") in CONFIDENCE_BANDS else "",
            age=get("age") if get("age") in AGE_BANDS else "",
            hint=get("hint"),
            provider=get("provider"),
            q=get("q"),
            page=page,
        )

    def params(self, **changes: Any) -> dict[str, Any]:
        """Query parameters of this filter (for links), with some values changed."""
        values = {
            "status": self.status,
            "doc_type": self.doc_type,
            "confidence": self.confidence,
            "age": self.age,
            "hint": self.hint,
            "provider": self.provider,
            "q": self.q,
            "page": self.page,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None, 1) or k == "status"}


@dataclass
class QueueRow:
    id: int
    filename: str
    hint: str | None
    status: str
    doc_type: str | None
    min_confidence: float | None
    expires_on: str | None
    created_at: datetime
    person_name: str | None
    provider_name: str | None
    claimed_by: str | None
    error: str | None
    review_note: str | None = None

    @property
    def needs_information(self) -> str | None:
        note = self.review_note or ""
        if note.startswith(claims.NEEDS_INFO_PREFIX):
            return note[len(claims.NEEDS_INFO_PREFIX) :]
        return None

    @property
    def expiring_soon(self) -> bool:
        if not self.expires_on:
            return False
        try:
            return date.fromisoformat(self.expires_on) <= date.today() + timedelta(days=SOON_DAYS)
        except ValueError:
            return False


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    filter: QueueFilter
    page_size: int = PAGE_SIZE
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.page_size - 1) // self.page_size)


@dataclass
class Counts:
    by_status: dict[str, int]
    by_type: dict[str, int]  # documents awaiting review, per doc_type

    @property
    def awaiting(self) -> int:
        return self.by_status.get(DocumentStatus.AWAITING_REVIEW, 0)

    @property
    def in_progress(self) -> int:
        return self.by_status.get(DocumentStatus.RECEIVED, 0) + self.by_status.get(
            DocumentStatus.PROCESSING, 0
        )

    @property
    def failed(self) -> int:
        return self.by_status.get(DocumentStatus.FAILED, 0)


def counts(session: Session) -> Counts:
    """Documents per status, and those awaiting review per doc_type (two index scans)."""
    by_status = {
        str(s): int(n)
        for s, n in session.execute(select(Document.status, func.count()).group_by(Document.status))
    }
    # grouped by an expression, so that the planner finds the few awaiting documents by
    # their status instead of walking the doc_type index over every document
    doc_type = func.coalesce(Document.doc_type, "unclassified")
    by_type_stmt = (
        select(doc_type, func.count())
        .where(Document.status == DocumentStatus.AWAITING_REVIEW)
        .group_by(doc_type)
    )
    by_type = {str(t or "unclassified"): int(n) for t, n in session.execute(by_type_stmt)}
    return Counts(by_status, dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))))


def _now() -> datetime:
    return datetime.now(UTC)


def _filtered(stmt: Select[Any], flt: QueueFilter) -> Select[Any]:
    if flt.status != "all":
        stmt = stmt.where(Document.status == flt.status)
    else:
        stmt = stmt.where(Document.status != DocumentStatus.DELETED)
    if flt.doc_type:
        if flt.doc_type == "unclassified":
            stmt = stmt.where(Document.doc_type.is_(None))
        else:
            stmt = stmt.where(Document.doc_type == flt.doc_type)
    if flt.confidence:
        lo, hi = CONFIDENCE_BANDS[flt.confidence]
        stmt = stmt.where(Document.min_confidence >= lo, Document.min_confidence < hi)
    if flt.age:
        least, most = AGE_BANDS[flt.age]
        now = _now()
        if least is not None:
            stmt = stmt.where(Document.created_at <= now - timedelta(days=least))
        if most is not None:
            stmt = stmt.where(Document.created_at > now - timedelta(days=most))
    if flt.hint:
        stmt = stmt.where(Document.hint.ilike(f"%{_like(flt.hint)}%", escape="\\"))
    if flt.provider:
        if flt.provider.isdigit() and len(flt.provider) < 10:
            stmt = stmt.where(Document.provider_id == int(flt.provider))
        else:
            stmt = stmt.where(
                exists().where(
                    Provider.id == Document.provider_id,
                    Provider.name.ilike(f"%{_like(flt.provider)}%", escape="\\"),
                )
            )
    if flt.q:
        pattern = f"%{_like(flt.q)}%"
        found: list[Any] = [
            Document.filename.ilike(pattern, escape="\\"),
            Document.hint.ilike(pattern, escape="\\"),
            exists().where(Provider.id == Document.provider_id, Provider.npi == flt.q),
        ]
        # names and numbers from the search-term index (a range scan, not a LIKE per field)
        documents = matching_documents(flt.q)
        if documents is not None:
            found.append(Document.id.in_(documents))
        providers = matching_providers(flt.q)
        if providers is not None:
            found.append(Document.provider_id.in_(providers))
        stmt = stmt.where(or_(*found))
    return stmt


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def queue_page(session: Session, flt: QueueFilter, page_size: int = PAGE_SIZE) -> QueuePage:
    """One page of the queue in priority order, with the person's name from the fields.

    Two steps: the ids of the page (a sort over the filtered documents only), then their
    columns with the person's name, provider and claim holder joined for those ids alone."""
    name_field = aliased(DocumentField)
    claimer = aliased(User)
    total = int(session.scalar(_filtered(select(func.count(Document.id)), flt)) or 0)
    now = _now()
    ids_stmt = (
        _filtered(select(Document.id), flt)
        .order_by(*claims.priority_order())
        .limit(page_size)
        .offset((flt.page - 1) * page_size)
    )
    ids = list(session.scalars(ids_stmt))
    rows: list[QueueRow] = []
    if ids:
        stmt = (
            select(
                Document.id,
                Document.filename,
                Document.hint,
                Document.status,
                Document.doc_type,
                Document.min_confidence,
                Document.expires_on,
                Document.created_at,
                name_field.value,
                Provider.name,
                claimer.username,
                Document.error,
                Document.review_note,
            )
            .outerjoin(
                name_field,
                and_(name_field.document_id == Document.id, name_field.name == "person_name"),
            )
            .outerjoin(Provider, Provider.id == Document.provider_id)
            .outerjoin(
                claimer,
                and_(claimer.id == Document.claimed_by_id, Document.claim_expires_at > now),
            )
            .where(Document.id.in_(ids))
        )
        found = {row[0]: QueueRow(*row) for row in session.execute(stmt)}  # type: ignore[call-arg]
        rows = [found[i] for i in ids if i in found]
    return QueuePage(rows=rows, total=total, filter=flt, page_size=page_size)
