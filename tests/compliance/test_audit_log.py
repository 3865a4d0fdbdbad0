"""The audit trail is append-only (no code path changes or deletes an event, and the
database refuses it too), and managers and auditors can filter and export it."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from compliance.audit_log import AuditFilter, csv_lines, iter_events, query_events
from models import AuditDetail, AuditEvent, Database, record_event
from models.records import AuditTrailIsAppendOnly

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("credflow", "models", "ingest", "extract", "review", "compliance")
# statements that would change or delete audit events, in SQL or SQLAlchemy spelling
FORBIDDEN = [
    re.compile(r"\b(update|delete)\s*\(\s*(AuditEvent|audit_events)\b", re.I),
    re.compile(r"\bAuditEvent\.__table__\s*\.\s*(update|delete)\s*\(", re.I),
    re.compile(r"\bUPDATE\s+[\"'`]?audit_events\b", re.I),
    re.compile(r"\bDELETE\s+FROM\s+[\"'`]?audit_events\b", re.I),
    re.compile(r"\bTRUNCATE\s+(TABLE\s+)?[\"'`]?audit_events\b", re.I),
    re.compile(r"query\(\s*AuditEvent\s*\)[^\n]*\.(update|delete)\s*\(", re.I),
]


def test_no_source_file_updates_or_deletes_audit_events() -> None:
    sources = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    assert len(sources) > 20
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sources
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(rx.search(line) for rx in FORBIDDEN)
    ]
    assert offenders == []
    # the patterns do catch what they are meant to
    for sample in (
        "session.execute(update(AuditEvent).values(note=''))",
        "conn.execute(text('DELETE FROM audit_events WHERE id = 1'))",
        "session.query(AuditEvent).filter_by(id=1).delete()",
    ):
        assert any(rx.search(sample) for rx in FORBIDDEN), sample


def _one_event(db: Database) -> int:
    with db.session() as s:
        event = record_event(
            s,
            actor="coordinator1",
            action="field.confirmed",
            entity_type="document",
            entity_id=7,
            detail={"value": "Jane Roe"},
            document_id=7,
        )
        s.flush()
        return event.id


def test_orm_and_database_refuse_changing_an_event(db: Database) -> None:
    event_id = _one_event(db)

    with pytest.raises(AuditTrailIsAppendOnly), db.session() as s:
        event = s.get(AuditEvent, event_id)
        assert event is not None
        event.note = "rewritten"
    with pytest.raises(AuditTrailIsAppendOnly), db.session() as s:
        s.delete(s.get(AuditEvent, event_id))
    with pytest.raises(AuditTrailIsAppendOnly), db.session() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(actor="x"))
    with pytest.raises(AuditTrailIsAppendOnly), db.session() as s:
        s.execute(delete(AuditEvent))

    # below the ORM, the database's own triggers refuse
    for statement in (
        "UPDATE audit_events SET note = 'rewritten'",
        "DELETE FROM audit_events",
        *(["TRUNCATE audit_events CASCADE"] if not db.is_sqlite else []),
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))

    with db.session() as s:
        event = s.get(AuditEvent, event_id)
        assert event is not None and event.note is None and event.actor == "coordinator1"
        # the personal values kept apart from the event may go (removal on request)
        s.execute(delete(AuditDetail).where(AuditDetail.event_id == event_id))
        # adding events is what the trail is for
        record_event(s, actor="manager1", action="report.viewed", entity_type="report")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 2
        assert s.scalar(select(func.count()).select_from(AuditDetail)) == 0


def test_filters_pages_and_csv_export(db: Database) -> None:
    with db.session() as s:
        for i in range(30):
            record_event(
                s,
                actor="alice" if i % 2 else "bob",
                action="document.approved" if i % 3 else "field.corrected",
                entity_type="document",
                entity_id=i % 5,
                note='=HYPERLINK("http://evil")' if i == 29 else f"n{i}",
                detail={"value": f"person {i}"} if i % 3 == 0 else None,
                document_id=i % 5,
            )
        old = record_event(s, actor="carol", action="user.created", entity_type="user")
        s.flush()
        # events are never updated by the code; a test may set the clock of a fresh row
        s.execute(
            text(
                "INSERT INTO audit_events (at, actor, action, entity_type)"
                " VALUES (:at, 'dave', 'user.created', 'user')"
            ),
            {"at": datetime(2020, 1, 15, 12, tzinfo=UTC)},
        )
        assert old.id

    with db.session() as s:
        assert len(query_events(s, AuditFilter(actor="alice"), limit=100)) == 15
        first = query_events(s, AuditFilter(action="document.*"), limit=10)
        assert len(first) == 10 and all(r.action == "document.approved" for r in first)
        assert [r.id for r in first] == sorted((r.id for r in first), reverse=True)
        second = query_events(s, AuditFilter(action="document.*"), limit=10, before_id=first[-1].id)
        assert len(second) == 10 and second[0].id < first[-1].id
        by_entity = query_events(s, AuditFilter(entity_type="document", entity_id=3))
        assert len(by_entity) == 6
        assert [r.actor for r in query_events(s, AuditFilter(until=date(2020, 12, 31)))] == ["dave"]
        assert len(query_events(s, AuditFilter(since=date.today() - timedelta(days=1)))) == 31
        assert query_events(s, AuditFilter(action="field.corrected"))[0].detail is None
        details = query_events(s, AuditFilter(action="field.corrected"), with_detail=True)
        assert details[0].detail == {"value": "person 27"}

    text_csv = "".join(csv_lines(iter_events(db, AuditFilter(entity_type="document"), batch=7)))
    rows = list(csv.DictReader(io.StringIO(text_csv)))
    assert len(rows) == 30
    assert list(rows[0]) == ["id", "at", "actor", "action", "entity_type", "entity_id", "note"]
    assert rows[0]["note"] == "n0" and "person" not in text_csv
    assert rows[-1]["note"].startswith("'=")  # not run as a formula by a spreadsheet
    with_detail = "".join(csv_lines(iter_events(db, with_detail=True), with_detail=True))
    assert '{""value"": ""person 0""}' in with_detail
