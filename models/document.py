"""A document that reached credflow, its pages as read, and the fields proposed for it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow


class DocumentStatus(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    AWAITING_REVIEW = "awaiting_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    FAILED = "failed"
    DELETED = "deleted"


class Document(Base):
    """One stored original. Unique by content: the same bytes arriving again are an
    extra DocumentArrival of the same Document, never a second one."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_status_created", "status", "created_at"),
        Index("ix_documents_status_doc_type", "status", "doc_type"),
        Index("ix_documents_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # cleared when the document is removed, so the same bytes may arrive again later
    sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(500))
    # the inbox subfolder or archive path it came from, e.g. "Gonzalez, Maria"
    hint: Mapped[str | None] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(default=0)
    media_type: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default=DocumentStatus.RECEIVED, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    doc_type: Mapped[str | None] = mapped_column(String(40), index=True)
    doc_type_confidence: Mapped[float | None]
    page_count: Mapped[int | None]
    # the lowest field confidence: what routes a reviewer's attention
    min_confidence: Mapped[float | None]
    # earliest expiration among the proposed fields: expiring soon is reviewed first
    expires_on: Mapped[str | None] = mapped_column(String(10))

    # processing lease: a worker owns the document until the lease expires
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]

    # review claim: one reviewer at a time
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claim_expires_at: Mapped[datetime | None]

    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    processed_at: Mapped[datetime | None]

    pages: Mapped[list[DocumentPage]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentPage.number"
    )
    fields: Mapped[list[DocumentField]] = relationship(
        back_populates="document", cascade="all, delete-orphan"
    )
    arrivals: Mapped[list[DocumentArrival]] = relationship(
        back_populates="document", cascade="all, delete-orphan"
    )


class DocumentArrival(Base):
    """Each time a file arrived (inbox, backfill, upload); `duplicate` marks bytes seen before."""

    __tablename__ = "document_arrivals"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(500))
    hint: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(20), default="inbox")
    duplicate: Mapped[bool] = mapped_column(default=False)
    arrived_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="arrivals")


class DocumentPage(Base):
    """A page as read: where its text came from and its words with boxes (for the review
    screen's click-a-word), box coordinates as fractions of the page (0..1, top left)."""

    __tablename__ = "document_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]  # 1-based
    width: Mapped[float]
    height: Mapped[float]
    source: Mapped[str] = mapped_column(String(10))  # "text" (PDF text layer) or "ocr"
    rotation: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    # [[text, confidence, x0, y0, x1, y1], ...]
    words: Mapped[list[Any]] = mapped_column(default=list)

    document: Mapped[Document] = relationship(back_populates="pages")


class DocumentField(Base):
    """A field the machine proposed; what the person confirmed goes to Credential."""

    __tablename__ = "document_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(40))
    value: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(default=0.0)
    page: Mapped[int | None]
    box: Mapped[list[Any] | None]
    # other values found: [{"value", "confidence", "page", "box"}, ...]
    candidates: Mapped[list[Any]] = mapped_column(default=list)
    # validator messages, e.g. ["DEA check digit does not match"]
    problems: Mapped[list[Any]] = mapped_column(default=list)
    # where the value came from when not the rules alone ("from 3 confirmed documents ...")
    source: Mapped[str | None] = mapped_column(String(200))

    document: Mapped[Document] = relationship(back_populates="fields")
