"""A clinician's status, item by item, on SQLite and PostgreSQL; and the what-if report for
the rules that change on 1 July 2025 (NCQA: verification within 120 days, not 180).

The helpers here build clinicians the way approval does (Provider + Credential rows); the
other compliance tests import them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from compliance.requirements import load_requirements
from compliance.status import (
    Level,
    ProviderFilter,
    ProviderStatus,
    diff_versions,
    evaluate,
    load_facts,
    provider_status,
    what_if,
)
from models import Credential, Database, Provider
from models.compliance import CommitteeDecision

TODAY = date(2026, 3, 2)


def add_provider(
    s: Session,
    name: str,
    *,
    category: str | None = "physician",
    states: tuple[str, ...] = ("CA",),
    department: str | None = "Family Medicine",
    email: str | None = None,
    active: bool = True,
) -> int:
    p = Provider(name=name, staff_category=category, states=list(states), department=department,
                 email=email, active=active)  # fmt: skip
    s.add(p)
    s.flush()
    return p.id


def add_cred(
    s: Session,
    provider_id: int,
    doc_type: str,
    *,
    title: str | None = None,
    state: str | None = None,
    issued: date | None = None,
    expires: date | None = None,
    verified: date | None = None,
    problems: str | None = None,
    hours: str | None = None,
) -> int:
    c = Credential(
        provider_id=provider_id, doc_type=doc_type, credential_title=title, jurisdiction=state,
        issue_date=issued, expiration_date=expires, problems=problems, credit_hours=hours,
        verified_at=datetime.combine(verified or TODAY - timedelta(days=10), datetime.min.time(),
                                     tzinfo=UTC),
    )  # fmt: skip
    s.add(c)
    s.flush()
    return c.id


def approve(s: Session, provider_id: int, day: date) -> None:
    s.add(CommitteeDecision(provider_id=provider_id, decided_on=day, decision="approved"))
    s.flush()


def complete_physician(
    s: Session, name: str, today: date = TODAY, *, verified: date | None = None, **kw: Any
) -> int:
    """A physician in CA holding every required credential, valid for a year or more."""
    pid = add_provider(s, name, **kw)
    later = today + timedelta(days=400)
    v = verified or today - timedelta(days=10)
    add_cred(s, pid, "medical_license", state="CA", expires=later, verified=v)
    add_cred(s, pid, "dea_registration", state="CA", expires=later, verified=v)
    add_cred(s, pid, "board_certification", title="Internal Medicine", verified=v)
    add_cred(s, pid, "diploma", title="Doctor of Medicine", verified=v)
    add_cred(s, pid, "malpractice_insurance", expires=later, verified=v)
    add_cred(s, pid, "life_support_card", title="BLS Provider", issued=today - timedelta(days=30),
             verified=v)  # fmt: skip
    add_cred(s, pid, "cme_certificate", title="Grand rounds", issued=today - timedelta(days=40),
             hours="50", verified=v)  # fmt: skip
    approve(s, pid, today - timedelta(days=365))
    return pid


def status_of(db: Database, pid: int, on: date = TODAY) -> ProviderStatus:
    with db.session() as s:
        st = provider_status(s, load_requirements(), pid, on)
    assert st is not None
    return st


def test_a_complete_physician_is_compliant_item_by_item(db: Database) -> None:
    with db.session() as s:
        pid = complete_physician(s, "Ada Lovelace")
    st = status_of(db, pid)
    assert st.status == "compliant", [(i.key, i.reason) for i in st.findings]
    keys = {i.key for i in st.items}
    assert {"state_license:CA", "dea:CA", "board_certification", "bls", "cme",
            "recredentialing"} <= keys  # fmt: skip
    assert "acls" not in keys  # only for emergency / anaesthesia / critical care / cardiology
    bls = next(i for i in st.items if i.key == "bls")
    # the card prints no expiry: issue date + 24 months
    assert bls.due == date(2028, 1, 31)


def test_missing_expired_and_expiring_items_say_why(db: Database) -> None:
    with db.session() as s:
        pid = complete_physician(
            s, "Grace Hopper", states=("CA", "NV"), department="Emergency Medicine"
        )
        # NV: a licence that lapsed, no DEA registration; ACLS card about to lapse
        add_cred(s, pid, "medical_license", state="NV", expires=TODAY - timedelta(days=3))
        add_cred(s, pid, "life_support_card", title="ACLS Provider",
                 issued=TODAY - timedelta(days=700))  # fmt: skip
    st = status_of(db, pid)
    assert st.level == Level.NON_COMPLIANT
    by_key = {i.key: i for i in st.items}
    assert by_key["state_license:NV"].kind == "expired"
    assert by_key["state_license:NV"].reason == f"expired on {TODAY - timedelta(days=3)}"
    assert by_key["dea:NV"].kind == "missing"
    assert by_key["acls"].kind == "expiring" and by_key["acls"].level == Level.AT_RISK
    assert by_key["state_license:CA"].level == Level.COMPLIANT


def test_a_renewal_replaces_the_lapsed_credential(db: Database) -> None:
    with db.session() as s:
        pid = complete_physician(s, "Renewed Doctor")
        add_cred(s, pid, "malpractice_insurance", expires=TODAY - timedelta(days=100))
    assert status_of(db, pid).status == "compliant"


def test_validator_failures_cme_and_recredentialing(db: Database) -> None:
    with db.session() as s:
        pid = complete_physician(s, "Short Hours")
        dea = add_cred(s, pid, "dea_registration", state="CA", expires=TODAY + timedelta(days=900),
                       problems="DEA check digit does not match")  # fmt: skip
        # the 50-hour certificate is older than the 24-month window once we look a year ahead
    st = status_of(db, pid)
    item = next(i for i in st.items if i.key == "dea:CA")
    assert (item.kind, item.credential_id, item.level) == ("problems", dea, Level.AT_RISK)

    later = TODAY + timedelta(days=24 * 31)
    st_later = status_of(db, pid, later)
    cme = next(i for i in st_later.items if i.key == "cme")
    assert cme.kind == "cme_short" and cme.reason.startswith("0 of 50 CME hours")
    recred = next(i for i in st_later.items if i.key == "recredentialing")
    assert recred.kind == "recred_overdue" and st_later.level == Level.NON_COMPLIANT


def test_no_category_or_unknown_category_is_at_risk_not_ignored(db: Database) -> None:
    with db.session() as s:
        a = add_provider(s, "No Category", category=None)
        b = add_provider(s, "Odd Category", category="veterinarian")
    assert status_of(db, a).items[0].reason.startswith("staff category not set")
    assert (
        "no requirement set for staff category 'veterinarian'" in status_of(db, b).items[0].reason
    )


def test_what_if_lists_who_falls_out_when_the_rules_change(db: Database) -> None:
    """Before 1 July 2025, who is hurt by the 120-day verification limit? A clinician whose
    recredentialing committee sits on 1 October 2025 with verifications from 1 May: fine
    under the 180 days of 2024, stale under the 120 days of 2025."""
    before = date(2025, 5, 20)
    with db.session() as s:
        hurt = complete_physician(s, "Verified Early", before, verified=date(2025, 5, 1))
        s.query(CommitteeDecision).filter_by(provider_id=hurt).update(
            {"decided_on": date(2022, 10, 1)}
        )
        fine = complete_physician(s, "Verified Late", before, verified=date(2025, 6, 15))
        s.query(CommitteeDecision).filter_by(provider_id=fine).update(
            {"decided_on": date(2022, 10, 1)}
        )
    reqs = load_requirements()
    new = reqs.upcoming(before)[0]
    assert new.version == "2025"
    with db.session() as s:
        facts = load_facts(s)
    report = what_if(facts, reqs, new)
    assert report.previous == "2024" and report.effective == date(2025, 7, 1)
    assert [r.name for r in report.rows] == ["Verified Early"]
    row = report.rows[0]
    assert (row.before, row.after) == (Level.COMPLIANT, Level.AT_RISK)
    assert all(i.kind == "stale_verification" for i in row.why)
    assert "at most 120 allowed" in row.why[0].reason
    # both versions stay visible: the status on 30 June and on 1 July differ
    p = next(f for f in facts if f.id == hurt)
    assert evaluate(p, reqs.version_on(date(2025, 6, 30)), date(2025, 6, 30)).version == "2024"
    assert diff_versions(reqs.version("2024"), new) == ["verification days: 180 → 120"]


def test_filters_select_clinicians(db: Database) -> None:
    with db.session() as s:
        complete_physician(s, "In CA", states=("CA",), department="Surgery")
        complete_physician(s, "In TX", states=("TX",), department="Surgery")
        add_provider(s, "Nurse", category="registered_nurse", department="ICU")
        add_provider(s, "Gone", active=False)
    with db.session() as s:
        assert [p.name for p in load_facts(s, ProviderFilter(state="tx"))] == ["In TX"]
        assert {p.name for p in load_facts(s, ProviderFilter(department="Surgery"))} == {
            "In CA", "In TX"}  # fmt: skip
        assert [p.name for p in load_facts(s, ProviderFilter(category="registered_nurse"))] == [
            "Nurse"]  # fmt: skip
        assert "Gone" not in {p.name for p in load_facts(s)}
        assert "Gone" in {p.name for p in load_facts(s, ProviderFilter(active_only=False))}


def test_status_and_what_if_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from credflow.cli import app
    from credflow.context import open_context

    ctx = open_context(tmp_path)
    with ctx.db.session() as s:
        pid = complete_physician(s, "Command Line")
    ctx.close()
    runner = CliRunner()
    out = runner.invoke(app, ["compliance", "status", str(pid), "--data-dir", str(tmp_path),
                              "--date", TODAY.isoformat()])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert f"provider {pid}: compliant on {TODAY}" in out.output
    assert "State medical licence (CA): valid until" in out.output
    assert runner.invoke(app, ["compliance", "status", "999", "--data-dir", str(tmp_path)]
                         ).exit_code == 1  # fmt: skip
    what = runner.invoke(app, ["compliance", "what-if", "2025", "--data-dir", str(tmp_path)])
    assert what.exit_code == 0 and "version 2025 on 2025-07-01 (after 2024)" in what.output
    csv_out = runner.invoke(app, ["compliance", "expirations", "--data-dir", str(tmp_path),
                                  "--date", TODAY.isoformat()])  # fmt: skip
    assert csv_out.exit_code == 0 and csv_out.output.startswith("section,provider_id,")
