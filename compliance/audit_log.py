"""Reading the audit trail: filtered pages of events and a CSV export, for managers and
auditors. Read-only by design: the trail itself is append-only (see models.records)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models import AuditDetail, AuditEvent, Database

CSV_COLUMNS = ("id", "at", "actor", "action", "entity_type", "entity_id", "note")


@dataclass(frozen=True)
class AuditFilter:
    """Empty fields do not filter. `action` ending in `*` matches a prefix ("document.*");
    `since`/`until` are whole UTC days, both included."""

    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: int | None = None
    since: date | None = None
    until: date | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        if self.actor:
            stmt = stmt.where(AuditEvent.actor == self.actor)
        if self.action:
            if self.action.endswith("*"):
                stmt = stmt.where(AuditEvent.action.startswith(self.action[:-1], autoescape=True))
            else:
                stmt = stmt.where(AuditEvent.action == self.action)
        if self.entity_type:
            stmt = stmt.where(AuditEvent.entity_type == self.entity_type)
        if self.entity_id is not None:
            stmt = stmt.where(AuditEvent.entity_id == self.entity_id)
        if self.since:
            stmt = stmt.where(AuditEvent.at >= datetime.combine(self.since, time.min, UTC))
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time.min, UTC)
            stmt = stmt.where(AuditEvent.at < end)
        return stmt


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: int | None
    note: str | None
    # personal values (machine's and person's values of a field); None when the event had
    # none, or they were erased by a removal on request, or they were not asked for
    detail: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "note": self.note,
        }
        if self.detail is not None:
            out["detail"] = self.detail
        return out


def query_events(
    session: Session,
    flt: AuditFilter = AuditFilter(),
    *,
    limit: int = 100,
    before_id: int | None = None,
    with_detail: bool = False,
) -> list[AuditRow]:
    """One page of events, newest first; pass the last row's id as `before_id` for the next."""
    stmt = _select(with_detail)
    stmt = flt.apply(stmt)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    stmt = stmt.order_by(AuditEvent.id.desc()).limit(max(1, min(limit, 1000)))
    return [_row(r, with_detail) for r in session.execute(stmt)]


def iter_events(
    db: Database, flt: AuditFilter = AuditFilter(), *, with_detail: bool = False, batch: int = 1000
) -> Iterator[AuditRow]:
    """Every matching event, oldest first, read in batches (each in its own short session,
    so a long export never holds a transaction open)."""
    after = 0
    while True:
        with db.sessions() as session:
            stmt = flt.apply(_select(with_detail)).where(AuditEvent.id > after)
            rows = [
                _row(r, with_detail)
                for r in session.execute(stmt.order_by(AuditEvent.id).limit(batch))
            ]
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


def csv_lines(rows: Iterable[AuditRow], *, with_detail: bool = False) -> Iterator[str]:
    """The export, line by line (header first); cells a spreadsheet would run as a formula
    are prefixed with an apostrophe."""
    columns = [*CSV_COLUMNS, "detail"] if with_detail else list(CSV_COLUMNS)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")

    def line(values: list[Any]) -> str:
        buf.seek(0)
        buf.truncate()
        writer.writerow([_cell(v) for v in values])
        return buf.getvalue()

    yield line(columns)
    for r in rows:
        values: list[Any] = [
            r.id,
            r.at.isoformat(),
            r.actor,
            r.action,
            r.entity_type,
            r.entity_id,
            r.note,
        ]
        if with_detail:
            values.append(json.dumps(r.detail, sort_keys=True) if r.detail is not None else "")
        yield line(values)


def filter_choices(session: Session) -> dict[str, list[str]]:
    """Known actors, actions and entity types, for the filter form."""
    return {
        "actors": list(
            session.scalars(select(AuditEvent.actor).distinct().order_by(AuditEvent.actor))
        ),
        "actions": list(
            session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
        ),
        "entity_types": list(
            session.scalars(
                select(AuditEvent.entity_type).distinct().order_by(AuditEvent.entity_type)
            )
        ),
    }


def _select(with_detail: bool) -> Select[Any]:
    if with_detail:
        return select(AuditEvent, AuditDetail.data).outerjoin(
            AuditDetail, AuditDetail.event_id == AuditEvent.id
        )
    return select(AuditEvent)


def _row(result: Any, with_detail: bool) -> AuditRow:
    event: AuditEvent = result[0]
    detail = result[1] if with_detail else None
    return AuditRow(
        id=event.id,
        at=event.at,
        actor=event.actor,
        action=event.action,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        note=event.note,
        detail=detail,
    )


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
