"""Screening against exclusion lists and the NPI registry: what was imported, the list rows,
the registry's records, and every screening result with its adjudication.

List rows are never deleted: a reinstatement or a later full list without the row ends it
(`ended_on`, `end_reason`), so a surveyor can see what the list said on any date.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

# the lists, as the API names them
SOURCES = ("oig_leie", "sam", "cms_optout", "nppes")
SCREENING_COLUMNS = (
    "source", "id", "ended_on", "starts_on", "entry_key", "content_hash", "family_norm",
    "given_norm", "middle_norm", "npi", "date_of_birth", "state", "city", "specialty",
)  # fmt: skip


class SourceImport(Base):
    """One file imported: the same bytes twice are recognised by `sha256` and change nothing."""

    __tablename__ = "source_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20), index=True)
    # leie_full, leie_excl, leie_rein, sam, cms_optout, nppes_file, npi_api
    kind: Mapped[str] = mapped_column(String(20))
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    list_date: Mapped[date | None]
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_kept: Mapped[int] = mapped_column(default=0)
    rows_rejected: Mapped[int] = mapped_column(default=0)
    # reason -> count, e.g. {"no name": 3, "row has 12 values, not 18": 1}
    rejections: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # rows this import ended (reinstatements, rows absent from a full list)
    rows_ended: Mapped[int] = mapped_column(default=0)
    imported_by: Mapped[str] = mapped_column(String(100), default="system")
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class ListEntry(Base):
    """A row of an exclusion list (LEIE, SAM, CMS opt-out) with its names normalised for
    the screening index; `record` is the row as published."""

    __tablename__ = "list_entries"
    __table_args__ = (
        Index("ix_list_entries_source_key", "source", "entry_key"),
        # covers the screening's read of a list in force, so it never touches the wide
        # `record` column; ordered by id within a list, so an import appends to it
        Index("ix_list_entries_screening", *SCREENING_COLUMNS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("source_imports.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))
    # who the row is about, stable across re-publications (a reinstatement finds it by this)
    entry_key: Mapped[str] = mapped_column(String(64))
    # what the row says: a changed row is new data, so a dismissed hit is raised again
    content_hash: Mapped[str] = mapped_column(String(40))
    family_norm: Mapped[str | None] = mapped_column(String(120))
    given_norm: Mapped[str | None] = mapped_column(String(120))
    middle_norm: Mapped[str | None] = mapped_column(String(120))
    business: Mapped[str | None] = mapped_column(String(300))
    npi: Mapped[str | None] = mapped_column(String(10), index=True)
    upin: Mapped[str | None] = mapped_column(String(10))
    date_of_birth: Mapped[date | None]
    state: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(100))
    specialty: Mapped[str | None] = mapped_column(String(200))
    starts_on: Mapped[date | None]
    ended_on: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    ended_by_import_id: Mapped[int | None] = mapped_column(ForeignKey("source_imports.id"))
    record: Mapped[dict[str, Any]] = mapped_column(default=dict)


class NpiRecord(Base):
    """What screening and licence checks need of one NPPES record (latest import wins)."""

    __tablename__ = "npi_records"

    npi: Mapped[str] = mapped_column(String(10), primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("source_imports.id"), index=True)
    entity_type: Mapped[str | None] = mapped_column(String(1))  # 1 person, 2 organisation
    last_name: Mapped[str | None] = mapped_column(String(120))
    first_name: Mapped[str | None] = mapped_column(String(120))
    middle_name: Mapped[str | None] = mapped_column(String(120))
    organization: Mapped[str | None] = mapped_column(String(300))
    credential: Mapped[str | None] = mapped_column(String(100))
    deactivated_on: Mapped[date | None]
    reactivated_on: Mapped[date | None]
    # [{"taxonomy", "license", "state", "primary"}], up to 15
    licenses: Mapped[list[Any]] = mapped_column(default=list)


class ScreeningResult(Base):
    """One clinician against one list on one screening: `clear`, or a hit (`match`,
    `possible`) a person adjudicates. `fingerprint` is our data plus the list row's, so a
    hit dismissed on unchanged data keeps its decision next month."""

    __tablename__ = "screening_results"
    __table_args__ = (
        Index("ix_screening_results_provider_source", "provider_id", "source", "id"),
        Index("ix_screening_results_status", "status", "result"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(String(40), index=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(20))
    result: Mapped[str] = mapped_column(String(10))  # match, possible, clear
    status: Mapped[str] = mapped_column(String(10))  # open, confirmed, dismissed
    reason: Mapped[str] = mapped_column(Text)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("list_entries.id"))
    entry_key: Mapped[str | None] = mapped_column(String(64))
    npi: Mapped[str | None] = mapped_column(String(10))
    fingerprint: Mapped[str | None] = mapped_column(String(40), index=True)
    list_import_id: Mapped[int | None] = mapped_column(ForeignKey("source_imports.id"))
    list_date: Mapped[date | None]
    screened_on: Mapped[date]
    screened_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
