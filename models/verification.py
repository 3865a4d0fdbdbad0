"""Primary-source verifications of credentials, and the letters sent about a file.

A coordinator's approval of a document copy says the copy was read right; NCQA counts only
a check with the issuing source (the board, the school...), so those are kept apart, any
number per credential, each with its date: the date the committee's time limit runs from.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

VERIFICATION_METHODS = ("online_lookup", "letter", "phone", "file_import")
VERIFICATION_RESULTS = ("verified", "discrepancy", "not_found")


class CredentialVerification(Base):
    __tablename__ = "credential_verifications"
    __table_args__ = (
        Index("ix_credential_verifications_cred_day", "credential_id", "verified_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("credentials.id", ondelete="CASCADE"))
    # e.g. "Medical Board of California licence lookup", "ABMS Certification Matters"
    source: Mapped[str] = mapped_column(String(300))
    method: Mapped[str] = mapped_column(String(20))  # VERIFICATION_METHODS
    verified_on: Mapped[date]
    result: Mapped[str] = mapped_column(String(20))  # VERIFICATION_RESULTS
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    # the lookup printout or the source's letter, when one was filed
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GapExplanation(Base):
    """The candidate's explanation of a gap of more than six months in the work history
    (NCQA CR 3: gaps over 6 months explained; over a year, in writing)."""

    __tablename__ = "gap_explanations"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    gap_start: Mapped[date]
    gap_end: Mapped[date]
    explanation: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LetterSent(Base):
    """Each sending of a letter about a clinician's file (a missing-items letter...)."""

    __tablename__ = "letters_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))  # missing_items
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    items: Mapped[int] = mapped_column(default=0)  # how many items the letter named
