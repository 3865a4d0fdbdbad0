"""The clinician's one-page file as data, on SQLite and PostgreSQL: every part is there,
each status item says what to do next, and the number of queries does not grow with the
file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from compliance.clinician_file import ClinicianNotFound, clinician_file
from compliance.requirements import load_requirements
from models import Credential, Database, StoreLayout
from tests.compliance.clinician_support import seed_file
from tests.compliance.test_status import TODAY


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_the_whole_file_is_gathered(db: Database, tmp_path: Path) -> None:
    sample = seed_file(db, StoreLayout(tmp_path / "data"), TODAY)
    with db.session() as s:
        f = clinician_file(s, load_requirements(), sample.provider_id, on=TODAY)
    assert f.details.name == "Maria Elena Gonzalez" and f.details.states == ("CA",)
    assert f.details.other_names == ("Maria Elena Ruiz",)
    assert "physician" in f.categories and "registered_nurse" in f.categories

    # compliance: worst first, each finding with a next step, the good ones without
    assert f.compliance is not None and f.compliance.standing == "non_compliant"
    levels = [i.level for i in f.compliance.items]
    assert levels == sorted(levels, key=["non_compliant", "at_risk", "compliant"].index)
    by_label = {i.label: i for i in f.compliance.items}
    assert by_label["Medical degree"].kind == "missing"
    assert "Ask the clinician" in by_label["Medical degree"].next_step
    dea = by_label["DEA registration (CA)"]
    assert (dea.level, dea.credential_id) == ("at_risk", sample.dea_id)
    assert dea.next_step == "Ask for the renewal before it expires."
    licence_item = by_label["State medical licence (CA)"]
    assert licence_item.level == "compliant" and licence_item.next_step == ""

    # credentials with their evidence: the page image of the stored scan
    creds = {c.id: c for c in f.credentials}
    assert creds[sample.licence_id].document_id == sample.document_id
    assert creds[sample.licence_id].page_image == f"/documents/{sample.document_id}/pages/1.png"
    assert creds[sample.dea_id].document_id is None and creds[sample.dea_id].page_image is None
    assert f.credentials[0].id == sample.dea_id  # the soonest expiry first

    assert [d.id for d in f.documents] == [sample.document_id]
    assert [r.id for r in f.requests] == [sample.request_id]
    assert f.requests[0].organisation == "Lakeside Clinic" and f.requests[0].status == "open"
    assert [(d.decision, d.note) for d in f.decisions] == [("approved", "initial appointment")]
    assert [n.subject for n in f.notifications] == ["Your DEA registration expires soon"]
    assert f.notifications_total == 1
    assert [h.id for h in f.holds] == [sample.hold_id]
    assert f.removal.blocked and f.removal.removed_documents == 0


def test_holds_end_and_requests_fall_overdue_with_the_day(db: Database, tmp_path: Path) -> None:
    sample = seed_file(db, StoreLayout(tmp_path / "data"), TODAY)
    with db.session() as s:
        later = clinician_file(s, load_requirements(), sample.provider_id,
                               on=TODAY + timedelta(days=120))  # fmt: skip
    assert not later.removal.blocked and later.holds == ()
    assert later.requests[0].status == "overdue"
    with pytest.raises(ClinicianNotFound), db.session() as s:
        clinician_file(s, load_requirements(), 987654, on=TODAY)


def test_queries_do_not_grow_with_the_file(db: Database, tmp_path: Path) -> None:
    sample = seed_file(db, StoreLayout(tmp_path / "data"), TODAY)
    reqs = load_requirements()
    with db.session() as s, counted(db) as few:
        clinician_file(s, reqs, sample.provider_id, on=TODAY)
    with db.session() as s:
        for n in range(40):
            s.add(Credential(provider_id=sample.provider_id, doc_type="cme_certificate",
                             credential_title=f"Course {n}", credit_hours="1",
                             issue_date=TODAY - timedelta(days=n)))  # fmt: skip
    with db.session() as s, counted(db) as many:
        f = clinician_file(s, reqs, sample.provider_id, on=TODAY)
    assert len(f.credentials) == 43
    assert len(many) == len(few) <= 20, many
