"""Failed documents: listing them with their reasons, and sending them round again.

Plain functions on a session, here in `models` so the command line (`credflow retry`) and
the review UI's Retry button share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.audit import record_event
from models.document import Document, DocumentStatus
from models.document_state import move


@dataclass(frozen=True)
class FailedDocument:
    id: int
    filename: str
    hint: str | None
    error: str | None
    attempts: int
    updated_at: datetime


def failed_documents(
    session: Session, *, limit: int | None = None, newest_first: bool = False
) -> list[FailedDocument]:
    """Failed documents with the reason a person can act on: oldest first (the command
    line works through them), or newest first (the review page shows the latest)."""
    order = [Document.updated_at.desc(), Document.id.desc()] if newest_first else [Document.id]
    query = (
        select(
            Document.id,
            Document.filename,
            Document.hint,
            Document.error,
            Document.attempts,
            Document.updated_at,
        )
        .where(Document.status == DocumentStatus.FAILED)
        .order_by(*order)
    )
    if limit is not None:
        query = query.limit(limit)
    return [FailedDocument(*row) for row in session.execute(query)]


def retry_document(
    session: Session,
    document_id: int,
    *,
    actor: str = "system",
    note: str = "sent back to be read again",
) -> bool:
    """Put a failed document back in the queue with fresh attempts. False if it is not failed.

    The running service (local workers, or the lease sweep that re-sends to Celery) picks
    it up; the original in the store is read again from scratch.
    """
    if not move(
        session,
        document_id,
        DocumentStatus.RECEIVED,
        expect=DocumentStatus.FAILED,
        error=None,
        attempts=0,
        lease_owner=None,
        lease_expires_at=None,
    ):
        return False
    record_event(
        session,
        actor=actor,
        action="document.retried",
        entity_type="document",
        entity_id=document_id,
        note=note,
    )
    return True


def retry_all_failed(session: Session, *, actor: str = "system") -> list[int]:
    ids = list(session.scalars(select(Document.id).where(Document.status == DocumentStatus.FAILED)))
    return [i for i in ids if retry_document(session, i, actor=actor)]
