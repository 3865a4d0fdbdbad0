"""Training sessions managers enter (e.g. a BLS class), so reminders can point clinicians
to the next sessions that renew what is expiring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from compliance.requirements import DocType
from compliance.status import course_of
from models import record_event
from models.compliance import TrainingSession

DOC_TYPES: tuple[str, ...] = DocType.__args__  # type: ignore[attr-defined]
COURSES = ("BLS", "ACLS", "PALS", "NRP")


class TrainingError(ValueError):
    """Input a manager must correct; the message says what."""


@dataclass(frozen=True)
class SessionView:
    id: int
    title: str
    starts_at: datetime
    place: str
    renews_doc_type: str
    renews_course: str | None
    seats: int | None

    def renews(self, doc_type: str, title: str | None) -> bool:
        """Does this session renew a credential of this type (and course, for cards)?"""
        if self.renews_doc_type != doc_type:
            return False
        return self.renews_course is None or self.renews_course == course_of(title)

    @property
    def when(self) -> str:
        return self.starts_at.strftime("%Y-%m-%d %H:%M UTC")


def add_session(
    session: Session,
    *,
    title: str,
    starts_at: datetime,
    place: str,
    renews_doc_type: str,
    renews_course: str | None = None,
    seats: int | None = None,
    actor: str,
    actor_id: int | None = None,
) -> int:
    if not title.strip() or not place.strip():
        raise TrainingError("a session needs a title and a place")
    if renews_doc_type not in DOC_TYPES:
        raise TrainingError(f"unknown credential type {renews_doc_type!r}")
    course = (renews_course or "").strip().upper() or None
    if course is not None and course not in COURSES:
        raise TrainingError(f"unknown course {renews_course!r} (one of {', '.join(COURSES)})")
    if seats is not None and seats < 0:
        raise TrainingError("seats cannot be negative")
    row = TrainingSession(
        title=title.strip(), starts_at=starts_at, place=place.strip(),
        renews_doc_type=renews_doc_type, renews_course=course, seats=seats,
        created_by_id=actor_id,
    )  # fmt: skip
    session.add(row)
    session.flush()
    record_event(session, actor=actor, action="training.added", entity_type="training_session",
                 entity_id=row.id, note=f"{renews_doc_type} {course or ''}".strip())  # fmt: skip
    return row.id


def remove_session(session: Session, session_id: int, *, actor: str) -> None:
    result = session.execute(delete(TrainingSession).where(TrainingSession.id == session_id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise TrainingError(f"no training session #{session_id}")
    record_event(session, actor=actor, action="training.removed", entity_type="training_session",
                 entity_id=session_id)  # fmt: skip


def upcoming(session: Session, after: datetime, limit: int = 200) -> list[SessionView]:
    rows = session.scalars(
        select(TrainingSession)
        .where(TrainingSession.starts_at >= after)
        .order_by(TrainingSession.starts_at, TrainingSession.id)
        .limit(limit)
    )
    return [
        SessionView(r.id, r.title, r.starts_at, r.place, r.renews_doc_type, r.renews_course,
                    r.seats)
        for r in rows
    ]  # fmt: skip


def sessions_for(
    sessions: Sequence[SessionView], doc_type: str, title: str | None, limit: int = 3
) -> list[SessionView]:
    """The next sessions (already sorted by date) that renew this credential."""
    return [s for s in sessions if s.renews(doc_type, title)][:limit]
