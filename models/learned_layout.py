"""What credflow learned from confirmed documents: layouts (their static words as anchors)
and, per approved document, where its fields were printed. No personal values are kept:
anchors are a layout's labels and headings, spots are boxes.

A version number (one row) changes whenever anything learned changes, so workers on any
machine reload only then; removal on request calls `forget_documents`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, utcnow


class LearnedLayout(Base):
    __tablename__ = "learned_layouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(40))
    # [[token, page, x, y, height, field or null, [document ids that showed it]], ...]
    anchors: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    examples: Mapped[list[LearnedExample]] = relationship(
        back_populates="layout", cascade="all, delete-orphan", order_by="LearnedExample.id"
    )


class LearnedExample(Base):
    """One approved document's contribution: its doc_type and field boxes (no values)."""

    __tablename__ = "learned_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    layout_id: Mapped[int] = mapped_column(
        ForeignKey("learned_layouts.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    doc_type: Mapped[str] = mapped_column(String(40))
    # [[field, page, x0, y0, x1, y1], ...] in the layout's frame
    spots: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    layout: Mapped[LearnedLayout] = relationship(back_populates="examples")


class LearningState(Base):
    """One row: the version of what was learned (bumped on every change)."""

    __tablename__ = "learning_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


def learned_version(session: Session) -> int:
    """The current version (0 before anything was learned)."""
    return int(session.scalar(select(LearningState.version).where(LearningState.id == 1)) or 0)


def bump_version(session: Session) -> None:
    """Mark what was learned as changed, in the caller's transaction."""
    done = session.execute(
        update(LearningState)
        .where(LearningState.id == 1)
        .values(version=LearningState.version + 1)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.add(LearningState(id=1, version=1))
        session.flush()


def forget_documents(session: Session, document_ids: set[int]) -> int:
    """Take back what these documents taught: their examples, and every anchor that only
    they showed; a layout nothing else taught is deleted. Returns the layouts touched."""
    if not document_ids:
        return 0
    layout_ids = set(
        session.scalars(
            select(LearnedExample.layout_id).where(LearnedExample.document_id.in_(document_ids))
        )
    )
    for layout in session.scalars(select(LearnedLayout).where(LearnedLayout.id.in_(layout_ids))):
        remaining = [e for e in layout.examples if e.document_id not in document_ids]
        if not remaining:
            session.delete(layout)
            continue
        for example in [e for e in layout.examples if e.document_id in document_ids]:
            layout.examples.remove(example)
        kept = []
        for anchor in layout.anchors:
            docs = [d for d in anchor[6] if d not in document_ids]
            if docs:
                kept.append([*anchor[:6], docs])
        layout.anchors = kept
    if layout_ids:
        bump_version(session)
    session.flush()
    return len(layout_ids)


def forget_layout(session: Session, layout_id: int) -> bool:
    """Delete one learned layout and its examples; False if there was none."""
    layout = session.get(LearnedLayout, layout_id)
    if layout is None:
        return False
    session.delete(layout)
    bump_version(session)
    session.flush()
    return True


@dataclass(frozen=True)
class LayoutSummary:
    """What a manager sees of a learned layout (no personal values: labels and counts)."""

    id: int
    doc_type: str
    documents: list[int]
    fields: dict[str, int]  # field -> how many confirmed documents showed where it is
    anchors: int
    labels: list[str]  # the first static words, in reading order, to recognise it by
    updated_at: datetime


def layout_summaries(session: Session, layout_id: int | None = None) -> list[LayoutSummary]:
    """Every learned layout (or the one asked for), newest change first."""
    query = select(LearnedLayout).order_by(LearnedLayout.updated_at.desc(), LearnedLayout.id)
    if layout_id is not None:
        query = query.where(LearnedLayout.id == layout_id)
    out = []
    for layout in session.scalars(query):
        fields: dict[str, int] = {}
        for example in layout.examples:
            for name in dict.fromkeys(spot[0] for spot in example.spots):
                fields[name] = fields.get(name, 0) + 1
        out.append(
            LayoutSummary(
                id=layout.id,
                doc_type=layout.doc_type,
                documents=[e.document_id for e in layout.examples],
                fields=fields,
                anchors=len(layout.anchors),
                labels=[str(a[0]) for a in layout.anchors[:40]],
                updated_at=layout.updated_at,
            )
        )
    return out
