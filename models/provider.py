"""The clinicians whose credentials are tracked."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow

if TYPE_CHECKING:
    from models.credential import Credential


PROVIDER_STATUSES = ("applicant", "in_review", "committee", "active", "denied", "inactive")
# the statuses of a candidate not yet on the staff: reminders go to the coordinator
APPLICANT_STATUSES = ("applicant", "in_review", "committee")
# which status may follow which (data, so the office can see and change the pipeline)
STATUS_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "applicant": ("in_review", "inactive"),
    "in_review": ("applicant", "committee", "inactive"),
    "committee": ("in_review", "active", "denied"),
    "active": ("inactive",),
    "denied": ("applicant",),
    "inactive": ("applicant", "active"),
}


class Provider(Base):
    __tablename__ = "providers"
    __table_args__ = (
        # the directory's filters and its name-ordered pages (migration 0010)
        Index("ix_providers_staff_category", "staff_category"),
        Index("ix_providers_department", "department"),
        Index("ix_providers_active_name", "active", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    npi: Mapped[str | None] = mapped_column(String(10), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    # physician, advanced_practice_nurse, physician_assistant, registered_nurse, ...
    staff_category: Mapped[str | None] = mapped_column(String(60))
    department: Mapped[str | None] = mapped_column(String(200))
    states: Mapped[list[Any]] = mapped_column(default=list)  # USPS codes of practice
    active: Mapped[bool] = mapped_column(default=True)
    # where the clinician is on the way from applicant to the staff (PROVIDER_STATUSES)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    status_since: Mapped[datetime] = mapped_column(default=utcnow)
    # for exclusion screening only: never shown in patient summaries or committee packets
    date_of_birth: Mapped[date | None]
    # former and maiden names, screened like the current one
    other_names: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    credentials: Mapped[list[Credential]] = relationship(
        back_populates="provider", cascade="all, delete-orphan"
    )
