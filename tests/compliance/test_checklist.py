"""The applicant's checklist: one item per requirement (a licence and a DEA registration per
state), each with its status and the agency by name, and `ready_for_committee` only when
every required item was verified with its source within the window, on both sides of its
edge; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from compliance.checklist import build_checklist, checklist_json, state_board
from compliance.requirements import load_requirements
from compliance.verification import VerificationIn, record_verification
from models import Credential, Database, Provider
from tests.compliance.applicant_support import TODAY, add_applicant, add_documents

RULES = load_requirements()


def _by_key(c: object) -> dict[str, dict[str, object]]:
    data = checklist_json(c)  # type: ignore[arg-type]
    return {
        f"{i['requirement']}:{i['state']}" if i["state"] else i["requirement"]: i
        for i in data["items"]
    }


def test_agencies_come_from_the_gazetteers() -> None:
    assert state_board("CA", "medical_license", "physician") == "Medical Board of California"
    assert state_board("CA", "nursing_license", "registered_nurse") == (
        "California Board of Registered Nursing"
    )
    assert state_board("CA", "medical_license", "physician_assistant") == (
        "Physician Assistant Board of California"
    )
    assert state_board("TX", "medical_license", "physician") == "Texas Medical Board"


def test_a_new_applicant_misses_everything_and_learns_whom_to_ask(db: Database) -> None:
    with db.session() as s:
        pid = add_applicant(s)
        c = build_checklist(s, RULES, pid, TODAY)
    items = _by_key(c)
    assert set(items) == {
        "state_license:CA",
        "state_license:NY",
        "dea:CA",
        "dea:NY",
        "board_certification",
        "medical_degree",
        "malpractice",
        "bls",
        "acls",
        "references",
        "work_history",
    }
    assert items["acls"]["status"] == "not_required" and items["acls"]["required"] is False
    required = [i for i in items.values() if i["required"]]
    assert {i["status"] for i in required} == {"missing"}
    assert items["state_license:CA"]["agency"] == "Medical Board of California"
    assert items["state_license:NY"]["agency"] == "New York State Education Department"
    assert "Drug Enforcement Administration" in str(items["dea:NY"]["agency"])
    assert "AHA" in str(items["bls"]["agency"]) and "ARC" in str(items["bls"]["agency"])
    assert "Medical Board of California" in str(items["state_license:CA"]["next_step"])
    assert c.ready_for_committee is False and len(c.missing) == 10


def test_received_verified_and_the_window_edge(db: Database) -> None:
    checked = TODAY - timedelta(days=30)
    with db.session() as s:
        pid = add_applicant(s)
        creds = add_documents(s, pid)
        received = _by_key(build_checklist(s, RULES, pid, TODAY))
        for cid in creds.values():
            record_verification(
                s,
                cid,
                VerificationIn("primary source", "online_lookup", checked, "verified"),
                actor="cora",
                today=TODAY,
            )
        edge = checked + timedelta(days=120)
        on_edge = build_checklist(s, RULES, pid, edge)
        past_edge = build_checklist(s, RULES, pid, edge + timedelta(days=1))
    assert {i["status"] for k, i in received.items() if k != "acls"} == {"received"}
    # the document names its issuer: that is the agency to verify with
    assert received["board_certification"]["agency"] == "American Board of Internal Medicine"
    assert received["medical_degree"]["agency"] == "Stanford University School of Medicine"
    assert received["malpractice"]["agency"] == "NORCAL Insurance Company"
    assert "Verify it with Medical Board of California" in str(
        received["state_license:CA"]["next_step"]
    )
    assert on_edge.ready_for_committee is True and on_edge.blocking == []
    assert all(i.verified_on == checked for i in on_edge.items if i.required)
    assert past_edge.ready_for_committee is False
    lic = _by_key(past_edge)["state_license:CA"]
    assert lic["status"] == "received"
    assert "more than 120 days ago: verify again with Medical Board of California" in str(
        lic["next_step"]
    )


def test_expired_discrepancy_and_work_gap(db: Database) -> None:
    with db.session() as s:
        pid = add_applicant(s)
        creds = add_documents(s, pid, only={"license_ca", "job1", "job2"})
        lic = s.get_one(Credential, creds["license_ca"])
        lic.expiration_date = date(2026, 10, 31)
        s.flush()
        expired = _by_key(build_checklist(s, RULES, pid, TODAY))["state_license:CA"]
        lic.expiration_date = date(2028, 10, 31)
        record_verification(
            s,
            creds["license_ca"],
            VerificationIn(
                "Medical Board of California licence lookup",
                "online_lookup",
                TODAY,
                "discrepancy",
                note="name differs",
            ),
            actor="cora",
            today=TODAY,
        )
        job2 = s.get_one(Credential, creds["job2"])
        job2.start_date = date(2021, 3, 1)  # 8 months without work after June 2020
        s.flush()
        later = _by_key(build_checklist(s, RULES, pid, TODAY))
    assert expired["status"] == "expired"
    assert "renews it with Medical Board of California" in str(expired["next_step"])
    assert later["state_license:CA"]["status"] == "received"
    assert "Resolve the discrepancy" in str(later["state_license:CA"]["next_step"])
    assert later["work_history"]["status"] == "received"
    assert "Gap 2020-06-30 to 2021-03-01 (8 months)" in str(later["work_history"]["next_step"])


def test_no_staff_category_is_one_missing_item(db: Database) -> None:
    with db.session() as s:
        pid = add_applicant(s)
        s.get_one(Provider, pid).staff_category = None
        s.flush()
        c = build_checklist(s, RULES, pid, TODAY)
    assert [i.requirement for i in c.items] == ["rules"] and not c.ready_for_committee


def test_the_committee_packet_says_what_is_not_ready(db: Database) -> None:
    from compliance.packet import build_packet

    with db.session() as s:
        pid = add_applicant(s)
        creds = add_documents(s, pid, only={"license_ca", "license_ny"})
        record_verification(
            s,
            creds["license_ca"],
            VerificationIn("Medical Board of California", "online_lookup", TODAY, "verified"),
            actor="cora",
            today=TODAY,
        )
        packet = build_packet(s, pid, TODAY + timedelta(days=30), today=TODAY, requirements=RULES)
        plain = build_packet(s, pid, TODAY + timedelta(days=30), today=TODAY)
    not_ready = [f.message for f in packet.flags if f.kind == "not_ready"]
    assert packet.flags[0].kind == "not_ready" and len(not_ready) == 9
    assert not any(m.startswith("State medical licence (CA)") for m in not_ready)
    assert (
        "State medical licence (NY): received. Verify it with New York State Education "
        "Department and record the verification." in not_ready
    )
    assert "DEA registration (CA): missing." in " ".join(not_ready)
    assert not [f for f in plain.flags if f.kind == "not_ready"]


def test_status_transitions_audited_and_the_pipeline(db: Database) -> None:
    from datetime import UTC, datetime

    import pytest
    from sqlalchemy import select

    from compliance.applicants import IllegalTransition, change_status, pipeline
    from models import AuditEvent

    today = datetime.now(UTC).date()
    with db.session() as s:
        pid = add_applicant(s)
        s.get_one(Provider, pid).created_at = datetime.now(UTC) - timedelta(days=10)
        with pytest.raises(IllegalTransition, match="applicant cannot become active"):
            change_status(s, pid, "active", actor="cora")
        with pytest.raises(IllegalTransition, match="unknown status"):
            change_status(s, pid, "hired", actor="cora")
        done = change_status(s, pid, "in_review", actor="cora", reason="file complete")
        rows = pipeline(s, RULES, today + timedelta(days=3), max_age_days=120)
        notes = s.scalars(select(AuditEvent.note).where(AuditEvent.entity_id == pid)).all()
        active = s.get_one(Provider, pid).active
    assert (done.old, done.new, active) == ("applicant", "in_review", False)
    assert notes == ["applicant -> in_review: file complete"]
    assert rows["applicant"] == [] and [r.provider_id for r in rows["in_review"]] == [pid]
    row = rows["in_review"][0]
    assert row.days_in_status == 3 and row.days_by_status == (("applicant", 10), ("in_review", 3))
    assert not row.ready_for_committee and "State medical licence (CA): missing" in row.blocking


def test_an_explained_gap_no_longer_blocks(db: Database) -> None:
    from compliance.verification import VerificationError, explain_gap, gap_explanations

    with db.session() as s:
        pid = add_applicant(s)
        creds = add_documents(s, pid, only={"job1", "job2"})
        s.get_one(Credential, creds["job2"]).start_date = date(2021, 3, 1)
        for cid in creds.values():
            record_verification(
                s,
                cid,
                VerificationIn("HR office", "phone", TODAY, "verified"),
                actor="cora",
                today=TODAY,
            )
        gap = _by_key(build_checklist(s, RULES, pid, TODAY))["work_history"]
        with pytest.raises(VerificationError):
            explain_gap(s, pid, date(2021, 3, 1), date(2020, 6, 30), "x", actor="cora")
        explain_gap(s, pid, date(2020, 7, 1), date(2021, 2, 28), "parental leave", actor="cora")
        partly = _by_key(build_checklist(s, RULES, pid, TODAY))["work_history"]
        explain_gap(s, pid, date(2020, 6, 30), date(2021, 3, 1), "parental leave", actor="cora")
        done = _by_key(build_checklist(s, RULES, pid, TODAY))["work_history"]
        listed = gap_explanations(s, pid)
    assert gap["status"] == "received" and str(gap["next_step"]).startswith("Gap 2020-06-30")
    assert partly["status"] == "received"  # the explanation must cover the whole gap
    assert done["status"] == "verified" and done["verified_on"] == TODAY.isoformat()
    assert [g.explanation for g in listed] == ["parental leave", "parental leave"]


def test_screening_includes_candidates_not_the_departed(db: Database) -> None:
    from compliance.screening.run import load_people

    with db.session() as s:
        pid = add_applicant(s)
        gone = Provider(name="Old Hand", status="inactive", active=False)
        s.add(gone)
        s.flush()
        ids = [p.provider_id for p in load_people(s)]
    assert pid in ids and gone.id not in ids
