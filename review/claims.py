"""Review claims: one reviewer per document at a time, and what to review next.

A claim is two columns of the Document (`claimed_by_id`, `claim_expires_at`) set by one
conditional UPDATE, so the database decides races: of two reviewers opening the same
document at once exactly one gets it. A claim left behind (tab closed, person gone) simply
expires. Functions here change the session's transaction; the caller commits.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import ColumnElement

from models import Document, DocumentStatus, Role, User, record_event
from models.base import utcnow

# a document marked "needs information" stays awaiting review, after everything else
NEEDS_INFO_PREFIX = "Needs information: "
# "expiring soon": reviewed before anything else
SOON_DAYS = 60
# who may hold a claim: an auditor reads a document without taking it from anyone
CLAIMING_ROLES = frozenset({Role.COORDINATOR, Role.MANAGER, Role.ADMIN})


def _free_for(user: User, now: datetime) -> ColumnElement[bool]:
    return or_(
        Document.claimed_by_id.is_(None),
        Document.claimed_by_id == user.id,
        Document.claim_expires_at < now,
    )


def _changed(session: Session, statement: Any) -> bool:
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount == 1


def _expire(session: Session, doc_id: int) -> None:
    """Make a loaded Document re-read the claim columns the UPDATE wrote behind its back."""
    obj = session.identity_map.get(identity_key(Document, doc_id))
    if obj is not None:
        session.expire(obj)


def claim(session: Session, doc_id: int, user: User, seconds: int) -> bool:
    """Claim an awaiting document for `seconds`, or renew one's own claim.

    True when the user holds the claim afterwards; False when someone else holds it or the
    document is not awaiting review, or the user's role may not review."""
    if user.role not in CLAIMING_ROLES:
        return False
    now = utcnow()
    before = session.execute(
        select(Document.claimed_by_id, Document.claim_expires_at).where(Document.id == doc_id)
    ).one_or_none()
    ok = _changed(
        session,
        update(Document)
        .where(
            Document.id == doc_id,
            Document.status == DocumentStatus.AWAITING_REVIEW,
            _free_for(user, now),
        )
        .values(claimed_by_id=user.id, claim_expires_at=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False),
    )
    _expire(session, doc_id)
    renewal = (
        before is not None
        and before.claimed_by_id == user.id
        and before.claim_expires_at is not None
        and before.claim_expires_at >= now
    )
    if ok and not renewal:
        record_event(
            session,
            actor=user.username,
            action="document.claimed",
            entity_type="document",
            entity_id=doc_id,
        )
    return ok


def renew(session: Session, doc_id: int, user: User, seconds: int) -> bool:
    """Extend the user's own claim (while the review page stays open). False when the
    claim was lost: it expired and someone else took the document, or it left review."""
    if user.role not in CLAIMING_ROLES:
        return False
    now = utcnow()
    ok = _changed(
        session,
        update(Document)
        .where(
            Document.id == doc_id,
            Document.status == DocumentStatus.AWAITING_REVIEW,
            _free_for(user, now),
        )
        .values(claimed_by_id=user.id, claim_expires_at=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False),
    )
    _expire(session, doc_id)
    return ok


def release(session: Session, doc_id: int, user: User, *, force: bool = False) -> bool:
    """Give a claim back. `force` (managers) releases whoever holds it."""
    condition = Document.claimed_by_id.is_not(None) if force else Document.claimed_by_id == user.id
    ok = _changed(
        session,
        update(Document)
        .where(Document.id == doc_id, condition)
        .values(claimed_by_id=None, claim_expires_at=None)
        .execution_options(synchronize_session=False),
    )
    _expire(session, doc_id)
    if ok:
        record_event(
            session,
            actor=user.username,
            action="document.released",
            entity_type="document",
            entity_id=doc_id,
            note="forced" if force else None,
        )
    return ok


def claim_holder(session: Session, doc_id: int) -> tuple[User, datetime] | None:
    """Who holds a live claim on the document, and until when."""
    row = session.execute(
        select(User, Document.claim_expires_at)
        .join(Document, Document.claimed_by_id == User.id)
        .where(Document.id == doc_id, Document.claim_expires_at >= utcnow())
    ).one_or_none()
    if row is None or row[1] is None:
        return None
    return row[0], row[1]


def priority_order(today: date | None = None) -> list[ColumnElement[Any]]:
    """ORDER BY of the review queue: documents expiring soon first (soonest first), then
    lowest confidence, then oldest; "needs information" after all of those."""
    soon = ((today or utcnow().date()) + timedelta(days=SOON_DAYS)).isoformat()
    expiring = and_(Document.expires_on.is_not(None), Document.expires_on <= soon)
    return [
        case((Document.review_note.like(NEEDS_INFO_PREFIX + "%"), 1), else_=0),
        case((expiring, Document.expires_on), else_="9999-12-31"),
        func.coalesce(Document.min_confidence, 0.0),
        Document.created_at.asc(),
        Document.id.asc(),
    ]


def next_document_for(
    session: Session, user: User, *, doc_type: str | None = None, exclude: int | None = None
) -> Document | None:
    """The document this user should review next (not claimed by anyone else)."""
    now = utcnow()
    query = select(Document).where(
        Document.status == DocumentStatus.AWAITING_REVIEW, _free_for(user, now)
    )
    if doc_type:
        query = query.where(Document.doc_type == doc_type)
    if exclude is not None:
        query = query.where(Document.id != exclude)
    return session.scalars(query.order_by(*priority_order(now.date())).limit(1)).first()


def claim_next(
    session: Session,
    user: User,
    seconds: int,
    *,
    doc_type: str | None = None,
    exclude: int | None = None,
) -> Document | None:
    """Claim the next document for the user; another reviewer winning a race for the same
    document just moves this one on to the following document."""
    for _ in range(10):
        doc = next_document_for(session, user, doc_type=doc_type, exclude=exclude)
        if doc is None:
            return None
        if claim(session, doc.id, user, seconds):
            return doc
    return None
