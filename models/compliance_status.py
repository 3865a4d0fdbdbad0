"""Each clinician's compliance judgement, kept in the database so the dashboard is a query.

The judgement itself is compliance's (`compliance.standing`); these tables only hold it, in
a form that stays right as the calendar moves on: dates, not statuses. A clinician's
level on any day is `non_compliant` from `non_compliant_from`, `at_risk` from
`at_risk_from` or inside one of the CME shortfall spans, else `compliant`; each dashboard
row says from which day it shows (`shows_from`) and the section follows from its dates.

Whatever changes a clinician's facts calls `mark_stale` in the same transaction (approval,
an edit of the clinician, a committee decision, a removal); the row then waits for the next
refresh. `changes` counts those calls, so a refresh that read the facts before a later
change leaves the row stale instead of hiding the change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import cast

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Table, Text, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base

# "always" for a threshold date (NULL means "never")
ALWAYS = date.min
# sort and compare labels and names by code point on both databases, as Python does
LABEL_TYPE = Text().with_variant(Text(collation="C"), "postgresql")


class ProviderCompliance(Base):
    """One clinician's judgement under one version of the rules (`rules_key`)."""

    __tablename__ = "provider_compliance"
    __table_args__ = (
        Index("ix_provider_compliance_key_stale", "rules_key", "stale"),
        # the filter drop-downs: a distinct scan of an index
        Index("ix_provider_compliance_department", "department"),
        Index("ix_provider_compliance_category", "category"),
        # the directory's compliance filter (migration 0010)
        Index("ix_provider_compliance_standing", "rules_key", "non_compliant_from", "at_risk_from"),
    )

    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    # hash of the rules version the row was judged under; "" = never judged
    rules_key: Mapped[str] = mapped_column(String(80), default="")
    stale: Mapped[bool] = mapped_column(Boolean, default=True)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    # what the filters select on, copied from the provider when judged (an edit of them
    # marks the row stale): the rows are read without a join
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    department: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(60))
    # states of practice as " CA NV " (the state filter is a LIKE on it)
    states: Mapped[str] = mapped_column(String(400), default=" ")
    at_risk_from: Mapped[date | None] = mapped_column(Date)
    non_compliant_from: Mapped[date | None] = mapped_column(Date)
    judged_at: Mapped[datetime | None]


class ComplianceSpan(Base):
    """Days on which a clinician is short of CME hours: [starts, ends), ends NULL = open."""

    __tablename__ = "compliance_spans"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    starts: Mapped[date] = mapped_column(Date)
    ends: Mapped[date | None] = mapped_column(Date)


class ComplianceItem(Base):
    """One row a dashboard section can show: a current credential with an expiry
    (`expiry`), a missing requirement (`missing`), a verification that is or will be too
    old (`stale`), or the recredentialing date (`recred`)."""

    __tablename__ = "compliance_items"
    __table_args__ = (
        # in the order a section lists its rows (the first page reads no more than it shows),
        # with the filter values, so counts and filters are answered from the index alone
        Index(
            "ix_compliance_items_section",
            "kind",
            "active",
            "due",
            "name",
            "item",
            "provider_id",
            "seq",
            "department",
            "category",
            "states",
        ),
        Index(
            "ix_compliance_items_shows",
            "kind",
            "active",
            "shows_from",
            "department",
            "category",
            "states",
        ),
    )

    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(10))
    # removing a credential (removal on request) removes the rows that name it
    credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    doc_type: Mapped[str | None] = mapped_column(String(40))
    item: Mapped[str] = mapped_column(LABEL_TYPE)
    # the expiry / committee / recredentialing date; NULL for `missing`, and for `stale`
    # rows whose committee date is the day looked at (no approval on record)
    due: Mapped[date | None] = mapped_column(Date)
    shows_from: Mapped[date] = mapped_column(Date)
    # expiry rows: the rules require it (else "(not required by the rules)")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # stale rows: when it was verified and how old a verification may be
    verified_on: Mapped[date | None] = mapped_column(Date)
    limit_days: Mapped[int | None] = mapped_column(Integer)
    # the clinician, copied as in ProviderCompliance (and the name, to sort by)
    name: Mapped[str] = mapped_column(LABEL_TYPE)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    department: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(60))
    states: Mapped[str] = mapped_column(String(400), default=" ")


class ComplianceMeta(Base):
    """One row (id 1): refreshes update it first, so they run one at a time."""

    __tablename__ = "compliance_meta"

    id: Mapped[int] = mapped_column(primary_key=True)
    rules_key: Mapped[str] = mapped_column(String(80), default="")
    refreshed_at: Mapped[datetime | None]


def mark_stale(session: Session, provider_ids: Iterable[int]) -> None:
    """The facts of these clinicians changed: judge them again before they are shown.

    An upsert, so a clinician created in this transaction gets a (stale) row too and a
    refresh running at the same time cannot mark them fresh with the old facts."""
    ids = sorted({int(i) for i in provider_ids if i is not None})
    if not ids:
        return
    session.flush()
    conn = session.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    table = cast(Table, ProviderCompliance.__table__)
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        stmt = dialect.insert(table).values(
            [{"provider_id": i, "rules_key": "", "stale": True, "changes": 1} for i in part]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.provider_id],
            set_={"stale": literal(True), "changes": table.c.changes + 1},
        )
        conn.execute(stmt)
