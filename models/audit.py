"""The audit trail: append-only events that hold no personal data, and their personal
details kept apart so a removal on request can erase the values while the events stay."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow


class AuditEvent(Base):
    """Never updated or deleted: the code has no path that does either."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))  # username, or "system"
    action: Mapped[str] = mapped_column(String(60), index=True)  # e.g. field.confirmed
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    # free of personal data: ids, field names, reasons typed by staff
    note: Mapped[str | None] = mapped_column(Text)


class AuditDetail(Base):
    """Personal values of an event (the machine's and the person's value of a field).

    Linked to a provider and a document so a removal can delete them."""

    __tablename__ = "audit_details"

    event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"), primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(index=True)
    document_id: Mapped[int | None] = mapped_column(index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


def record_event(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: int | None = None,
    note: str | None = None,
    detail: dict[str, Any] | None = None,
    provider_id: int | None = None,
    document_id: int | None = None,
) -> AuditEvent:
    """Add an audit event (and its personal detail, if any) to the session's transaction."""
    event = AuditEvent(
        actor=actor, action=action, entity_type=entity_type, entity_id=entity_id, note=note
    )
    session.add(event)
    if detail is not None:
        session.flush()
        session.add(
            AuditDetail(
                event_id=event.id, provider_id=provider_id, document_id=document_id, data=detail
            )
        )
    return event
