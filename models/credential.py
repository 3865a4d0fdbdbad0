"""A credential a person confirmed, with the document that evidences it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.provider import Provider
from models.spec import FIELD_NAMES


class Credential(Base):
    __tablename__ = "credentials"
    __table_args__ = (Index("ix_credentials_expiration", "expiration_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    # the evidence; null only once that document was removed on request
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    doc_type: Mapped[str] = mapped_column(String(40), index=True)
    credential_number: Mapped[str | None] = mapped_column(String(100))
    issuer: Mapped[str | None] = mapped_column(String(300))
    jurisdiction: Mapped[str | None] = mapped_column(String(2))
    credential_title: Mapped[str | None] = mapped_column(String(300))
    issue_date: Mapped[date | None]
    expiration_date: Mapped[date | None]
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    npi: Mapped[str | None] = mapped_column(String(10))
    schedules: Mapped[str | None] = mapped_column(String(40))
    credit_hours: Mapped[str | None] = mapped_column(String(20))
    referee_name: Mapped[str | None] = mapped_column(String(200))
    # verification facts: who confirmed it, when, and validator messages left standing
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    problems: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    provider: Mapped[Provider] = relationship(back_populates="credentials")


# the directory finds a clinician by a licence number typed in any case (migration 0010)
Index("ix_credentials_number_upper", func.upper(Credential.credential_number))

# what a Credential row keeps of the spec's fields (the person is the Provider)
CREDENTIAL_FIELDS: tuple[str, ...] = tuple(f for f in FIELD_NAMES if f != "person_name")
