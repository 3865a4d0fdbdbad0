"""Deviations are found on every pass, never duplicated, and never silently dropped: one
that goes away is marked resolved with a note; managers acknowledge, assign and resolve."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from compliance import deviations as dev
from compliance.requirements import load_requirements
from compliance.status import evaluate, load_facts
from models import AuditEvent, Credential, Database, Provider, User
from models.compliance import CommitteeDecision, Deviation
from tests.compliance.test_status import TODAY, add_cred, complete_physician


def run_detection(db: Database, today: date = TODAY) -> dev.DetectResult:
    version = load_requirements().version_on(today)
    with db.session() as s:
        facts = load_facts(s)
        statuses = {p.id: evaluate(p, version, today) for p in facts}
        return dev.detect(s, dev.find(facts, statuses), today)


def deviations(db: Database) -> list[Deviation]:
    with db.session() as s:
        return list(s.scalars(select(Deviation).order_by(Deviation.id)))


def test_lifecycle_open_keep_resolve(db: Database) -> None:
    with db.session() as s:
        s.add(User(username="boss", password_hash="x", role="manager", email="boss@example.org"))
        pid = complete_physician(s, "Lapsed Licence")
        lic = s.scalar(
            select(Credential.id).where(
                Credential.provider_id == pid, Credential.doc_type == "medical_license"
            )
        )
        s.execute(
            update(Credential)
            .where(Credential.id == lic)
            .values(expiration_date=TODAY - timedelta(days=1), problems="licence number format")
        )
    first = run_detection(db)
    rows = deviations(db)
    assert {d.kind for d in rows} == {"expired", "validator"}
    assert len(first.opened) == 2 and first.resolved == []
    assert all(d.status == "open" and d.owner_id is not None for d in rows)

    # a second pass finds the same things and changes nothing
    again = run_detection(db)
    assert (again.opened, again.resolved, again.still_open) == ([], [], 2)
    assert len(deviations(db)) == 2

    # the licence is renewed: the expired deviation is resolved with a note, not deleted
    with db.session() as s:
        add_cred(s, pid, "medical_license", state="CA", expires=TODAY + timedelta(days=700))
    third = run_detection(db)
    rows = deviations(db)
    assert len(rows) == 2 and len(third.resolved) == 1
    expired = next(d for d in rows if d.kind == "expired")
    assert expired.status == "resolved" and expired.open_key is None
    assert expired.resolution_note and "no longer present" in expired.resolution_note
    with db.session() as s:
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions.count("deviation.opened") == 2 and actions.count("deviation.resolved") == 1


def test_missing_recredentialing_and_inactive(db: Database) -> None:
    with db.session() as s:
        pid = complete_physician(s, "Overdue", states=("CA", "OR"))
        s.query(Provider).filter_by(id=pid).update({"email": "x@example.org"})
        s.query(CommitteeDecision).filter_by(provider_id=pid).update(
            {"decided_on": TODAY - timedelta(days=3 * 366)}
        )
    run_detection(db)
    kinds = sorted((d.kind, d.key) for d in deviations(db))
    assert ("missing", f"missing:{pid}:state_license:OR") in kinds
    assert ("missing", f"missing:{pid}:dea:OR") in kinds
    assert any(k == "recredentialing" for k, _ in kinds)
    # leaving the staff ends what was open, each with a note
    with db.session() as s:
        s.query(Provider).filter_by(id=pid).update({"active": False})
    result = run_detection(db)
    assert len(result.resolved) == 3
    assert all(d.status == "resolved" and d.resolution_note for d in deviations(db))


def test_people_acknowledge_assign_and_resolve(db: Database) -> None:
    with db.session() as s:
        boss = User(username="boss", password_hash="x", role="manager")
        other = User(username="deputy", password_hash="x", role="manager")
        s.add_all([boss, other])
        pid = complete_physician(s, "No Board")
        s.query(Credential).filter_by(provider_id=pid, doc_type="board_certification").delete()
    run_detection(db)
    (d,) = deviations(db)
    with db.session() as s:
        dev.acknowledge(s, d.id, actor="boss", note="calling the board")
        dev.assign(s, d.id, other.id, actor="boss")
    with db.session() as s:
        with pytest.raises(dev.DeviationError, match="not open"):
            dev.acknowledge(s, d.id, actor="boss", note=None)
        with pytest.raises(dev.DeviationError, match="say how"):
            dev.resolve(s, d.id, actor="boss", note=" ")
    (d,) = deviations(db)
    assert (d.status, d.owner_id) == ("acknowledged", other.id)
    with db.session() as s:
        dev.resolve(s, d.id, actor="deputy", note="certificate requested")
    # closed by hand while the certificate is still missing: the next pass opens a new one
    result = run_detection(db)
    rows = deviations(db)
    assert len(rows) == 2 and result.opened == [rows[1].id]
    assert rows[0].status == "resolved" and rows[0].resolution_note == (
        "certificate requested (by deputy)"
    )
    with db.session() as s:
        listed = dev.list_deviations(s, status="unresolved")
    assert [v.id for v in listed] == [rows[1].id] and listed[0].provider == "No Board"
