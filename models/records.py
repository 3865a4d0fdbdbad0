"""Records the office keeps around a clinician's file: retention holds that block removal,
reference and employment verification requests, and the guard that keeps the audit trail
append-only for every session of every process (this module is imported by `models`)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column

from models.audit import AuditEvent
from models.base import Base, utcnow


class RetentionHold(Base):
    """While a hold applies (not released, `until` not passed) nothing it covers may be
    removed: e.g. a survey look-back or a pending claim. A hold on a provider covers all
    their documents; a hold on a document also blocks removing its provider."""

    __tablename__ = "retention_holds"
    __table_args__ = (
        CheckConstraint(
            "provider_id IS NOT NULL OR document_id IS NOT NULL", name="provider_or_document"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    # shown to whoever asks for a removal; typed by staff, keep personal details out
    reason: Mapped[str] = mapped_column(Text)
    # last day the hold applies; None = until released
    until: Mapped[date | None]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(100))
    released_at: Mapped[datetime | None]

    def applies_on(self, day: date) -> bool:
        return self.released_at is None and (self.until is None or self.until >= day)


class RequestKind(StrEnum):
    REFERENCE = "reference"  # professional reference letter
    EMPLOYMENT = "employment"  # employment verification letter


class ReferenceRequest(Base):
    """A letter the office asked for; `received_on` + `document_id` once it arrived."""

    __tablename__ = "reference_requests"
    __table_args__ = (Index("ix_reference_requests_open_due", "received_on", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_email: Mapped[str | None] = mapped_column(String(320))
    organisation: Mapped[str | None] = mapped_column(String(300))
    requested_on: Mapped[date]
    requested_by: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[date]
    received_on: Mapped[date | None]
    # the letter; null until received, or once that document was removed on request
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- the audit trail is append-only -------------------------------------------------------


class AuditTrailIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


def _refuse_change(_mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    raise AuditTrailIsAppendOnly(
        f"audit event {getattr(target, 'id', '?')} cannot be changed or deleted"
    )


# the audit page filters by entity, and a removal finds the events about its rows
Index("ix_audit_events_entity", AuditEvent.entity_type, AuditEvent.entity_id)

event.listen(AuditEvent, "before_update", _refuse_change)
event.listen(AuditEvent, "before_delete", _refuse_change)


@event.listens_for(Session, "before_flush")
def _refuse_dirty_events(session: Session, _ctx: Any, _instances: Any) -> None:
    # before_update only fires for rows with net changes; refuse any attempt, and deletes
    # of events that were never loaded as well.
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditTrailIsAppendOnly(f"audit event {obj.id} cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj):
            raise AuditTrailIsAppendOnly(f"audit event {obj.id} cannot be changed")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_statements(state: ORMExecuteState) -> None:
    # bulk ORM statements (session.execute of an UPDATE or DELETE) bypass the unit of work
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == AuditEvent.__tablename__:
        raise AuditTrailIsAppendOnly("audit events cannot be updated or deleted")
