"""Screening on the real 2016 LEIE supplements, on SQLite and PostgreSQL: a clinician
excluded in July and reinstated in December, one excluded in October, one under a former
name, and one nobody lists; adjudication, the critical deviation and its closing; a dismissed
hit on unchanged data not raised again; the NPPES checks on real NPI Registry answers."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from compliance import deviations as dev
from compliance.screening.adjudicate import AdjudicationError, adjudicate
from compliance.screening.run import screen
from compliance.screening.views import open_hits, provider_screenings
from compliance.sources.importer import import_file
from models import AuditEvent, Credential, Database, Provider
from models.compliance import Deviation, OutboxMessage
from review.auth import create_user
from tests.compliance.screening_support import NPI_ANSWERS, leie_files


def add(db: Database, name: str, **kw: object) -> int:
    with db.session() as s:
        p = Provider(name=name, **kw)
        s.add(p)
        s.flush()
        return p.id


def results(db: Database, pid: int, source: str = "oig_leie") -> list[dict]:
    with db.session() as s:
        return [i for i in provider_screenings(s, pid) if i["source"] == source]


def test_reinstated_closed_and_newly_excluded_opened(db: Database) -> None:
    with db.session() as s:
        create_user(s, "mona", "pw-123456789", "manager", email="mona@hospital.example")
    zepeda = add(db, "Melanie M. Zepeda", date_of_birth=date(1976, 1, 7), states=["CO"])
    abrams = add(db, "Jeffrey Abrams", npi="1225369556", states=["CA"])
    brooke = add(db, "Brooke Jones", other_names=["Brooke Marie Smith"], states=["OR"])
    nobody = add(db, "Ana Núñez", states=["CA"])
    for f in leie_files(range(1, 8)):  # January to July
        import_file(db, f)

    first = screen(db, date(2016, 7, 31))
    assert first.providers == 4 and first.sources == ["oig_leie"]
    (z,) = results(db, zepeda)
    assert (z["result"], z["status"], z["reason"]) == (
        "match",
        "open",
        "same full name and date of birth",
    )
    assert z["record"]["LASTNAME"] == "ZEPEDA" and z["list_date"] == "2016-07-01"
    assert results(db, abrams)[0]["result"] == "clear"  # excluded only in October
    # Brooke Marie Smith was excluded in March and reinstated the same day: not in force
    assert results(db, brooke)[0]["result"] == "clear"
    assert results(db, nobody)[0]["reason"].startswith("no row of the list names")

    with db.session() as s:
        out = adjudicate(s, z["id"], "confirmed", "Same DOB and address on file", actor="cora")
    assert out.deviation_id is not None and out.messages_queued == 1
    with db.session() as s:
        d = s.get(Deviation, out.deviation_id)
        assert d is not None and d.kind == "exclusion" and d.status == "open"
        assert d.owner_id is not None and d.summary.startswith("CRITICAL")
        mail = s.scalars(select(OutboxMessage)).one()
        assert mail.recipient == "mona@hospital.example"
        assert "Melanie M. Zepeda" in mail.subject and "CRITICAL" in mail.subject
        # the nightly compliance pass does not close what screening opened
        dev.detect(s, [], date(2016, 8, 1))
    with db.session() as s:
        assert s.get(Deviation, out.deviation_id).status == "open"  # type: ignore[union-attr]
        with pytest.raises(AdjudicationError, match="already confirmed"):
            adjudicate(s, z["id"], "dismissed", "changed my mind", actor="cora")

    for f in leie_files(range(8, 13)):  # August to December
        import_file(db, f)
    later = screen(db, date(2016, 12, 31))
    assert later.closed == [out.deviation_id]
    with db.session() as s:
        d = s.get(Deviation, out.deviation_id)
        assert d is not None and d.status == "resolved"
        assert (
            d.resolution_note == "reinstated on 2016-12-07 (1612REIN.csv) (screening on 2016-12-31)"
        )
    assert results(db, zepeda)[0]["result"] == "clear"
    (a,) = results(db, abrams)
    assert (a["result"], a["status"]) == ("match", "open")
    assert a["reason"].startswith("same NPI 1225369556")
    with db.session() as s:
        assert [h.provider_id for h in open_hits(s)] == [abrams]
        # the history keeps both screenings of Zepeda
        history = provider_screenings(s, zepeda, history=True)
        assert [(i["result"], i["status"]) for i in history] == [
            ("clear", "dismissed"),
            ("match", "confirmed"),
        ]
        actions = dict(
            s.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all()
        )
    assert actions["screening.run"] == 2 and actions["screening.confirmed"] == 1
    assert actions["screening.hit"] == 2 and actions["deviation.opened"] == 1
    assert actions["deviation.resolved"] == 1


def test_dismissed_hit_not_raised_again_on_unchanged_data(db: Database) -> None:
    pid = add(db, "Kenneth Hill", states=["TX"])  # a Kenneth John Hill was excluded in May
    for f in leie_files(range(4, 6)):
        import_file(db, f)
    screen(db, date(2016, 5, 31))
    (hit,) = results(db, pid)
    assert hit["result"] == "possible" and "state differs" in hit["reason"]
    with db.session() as s:
        adjudicate(s, hit["id"], "dismissed", "Our Kenneth Hill was born in 1990", actor="cora")
    screen(db, date(2016, 6, 1))
    (again,) = results(db, pid)
    assert again["id"] != hit["id"] and again["status"] == "dismissed"
    assert "data unchanged" in again["reason"]
    with db.session() as s:
        assert open_hits(s) == []
        s.get(Provider, pid).states = ["TX", "WA"]  # type: ignore[union-attr]
    screen(db, date(2016, 6, 2))  # our data changed: a person looks again
    assert results(db, pid)[0]["status"] == "open"


def test_nppes_checks(db: Database) -> None:
    for path in sorted(NPI_ANSWERS.glob("*.json")):
        if path.name not in ("api-8d2d52.json", "api-c85286.json"):
            import_file(db, path)
    hiza = add(db, "Elise A. Hiza", npi="1720377294", states=["NC"])
    moved = add(db, "Elise Hiza", npi="1720377294", states=["CA"])
    rowell = add(db, "Sharee Rowell", npi="1003142399")  # deactivated 2015, reactivated 2019
    wrong = add(db, "Sharee Rowell", npi="1234567893")
    renamed = add(db, "Carla Other", npi="1053975268")
    with db.session() as s:
        for pid, st, num in ((hiza, "NC", "2017-01132"), (moved, "CA", "A12345")):
            s.add(
                Credential(
                    provider_id=pid,
                    doc_type="medical_license",
                    jurisdiction=st,
                    credential_number=num,
                )
            )
    screen(db, date(2019, 6, 1))

    def nppes(pid: int) -> dict:
        (item,) = results(db, pid, "nppes")
        return item

    assert nppes(hiza)["result"] == "clear"
    assert nppes(hiza)["record"]["licenses"][0]["license"] == "2017-01132"
    assert nppes(moved)["reason"] == "no licence for CA in NPPES (ours: A12345)"
    assert nppes(rowell)["result"] == "clear"
    assert nppes(wrong)["reason"] == "NPI 1234567893 is not in the NPPES data imported"
    assert nppes(renamed)["reason"] == "the name in NPPES differs from ours"
    screen(db, date(2016, 6, 1))  # before the reactivation
    assert nppes(rowell)["reason"] == "NPI deactivated on 2015-01-14"
    with db.session() as s:
        # a finding is confirmed like any hit, but it opens no exclusion deviation
        out = adjudicate(s, nppes(moved)["id"], "confirmed", "CA licence pending", actor="cora")
    assert out.deviation_id is None
