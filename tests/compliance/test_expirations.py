"""The expirations dashboard's sections, filters and CSV, and the list behind /api/expiring."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from compliance.expirations import build_dashboard, dashboard_csv, expiring
from compliance.requirements import load_requirements
from compliance.status import ProviderFilter
from models import Database
from models.compliance import CommitteeDecision
from tests.compliance.test_status import TODAY, add_cred, add_provider, complete_physician


def seed(db: Database) -> dict[str, int]:
    with db.session() as s:
        ok = complete_physician(s, "All Good", department="Surgery")
        soon = complete_physician(s, "Soon Lapsing", department="Surgery", states=("TX",))
        ids = {"ok": ok, "soon": soon}
        ids["tx_lic"] = add_cred(s, soon, "medical_license", state="TX",
                                 expires=TODAY + timedelta(days=20))  # fmt: skip
        add_cred(s, soon, "dea_registration", state="TX", expires=TODAY + timedelta(days=45))
        ids["mal"] = add_cred(s, soon, "life_support_card", title="ACLS Provider",
                              expires=TODAY + timedelta(days=75))  # fmt: skip
        # replaced by the one that runs 400 days: not on the dashboard
        add_cred(s, soon, "malpractice_insurance", expires=TODAY + timedelta(days=50))
        nurse = add_provider(s, "=Nurse Formula", category="registered_nurse", department="ICU")
        ids["nurse"] = nurse
        ids["old_bls"] = add_cred(s, nurse, "life_support_card", title="Basic Life Support",
                                  issued=TODAY - timedelta(days=800))  # fmt: skip
        ids["gone"] = add_provider(s, "Inactive", active=False)
        ids["gone_lic"] = add_cred(s, ids["gone"], "medical_license", state="CA",
                                   expires=TODAY - timedelta(days=5))  # fmt: skip
    return ids


def test_sections_filters_and_csv(db: Database) -> None:
    ids = seed(db)
    reqs = load_requirements()
    with db.session() as s:
        board = build_dashboard(s, reqs, TODAY)
    assert board.providers == 3  # the inactive clinician is left out
    sec = board.sections
    assert [r.credential_id for r in sec["expiring_30"]] == [ids["tx_lic"]]
    assert [r.doc_type for r in sec["expiring_60"]] == ["dea_registration"]
    assert [r.credential_id for r in sec["expiring_90"]] == [ids["mal"]]
    # the CA licence of "Soon Lapsing" is not missing, but the nurse's RN licence is
    assert {(r.provider, r.item) for r in sec["missing"]} >= {
        ("=Nurse Formula", "State RN licence (CA)")
    }
    expired = {(r.provider_id, r.credential_id) for r in sec["expired"]}
    assert (ids["nurse"], ids["old_bls"]) in expired  # issued 800 days ago, valid 24 months
    assert (ids["gone"], ids["gone_lic"]) not in expired
    assert board.levels["compliant"] == 1  # "All Good"

    with db.session() as s:
        surgery = build_dashboard(s, reqs, TODAY, ProviderFilter(department="Surgery", state="TX"))
    assert surgery.providers == 1 and not surgery.sections["missing"]

    table = list(csv.DictReader(io.StringIO(dashboard_csv(board))))
    assert {r["section"] for r in table} >= {"expired", "expiring_30", "missing"}
    row = next(r for r in table if r["credential_id"] == str(ids["tx_lic"]))
    assert (row["provider"], row["due"], row["days"]) == (
        "Soon Lapsing",
        (TODAY + timedelta(days=20)).isoformat(),
        "20",
    )
    # a name a spreadsheet would run as a formula is written as text
    assert all(r["provider"] != "=Nurse Formula" for r in table)
    assert any(r["provider"] == "'=Nurse Formula" for r in table)


def test_recredentialing_and_stale_verification_sections(db: Database) -> None:
    with db.session() as s:
        pid = complete_physician(s, "Due Soon", verified=TODAY - timedelta(days=200))
        s.query(CommitteeDecision).filter_by(provider_id=pid).update(
            {"decided_on": date(2023, 4, 1)}
        )
    with db.session() as s:
        board = build_dashboard(s, load_requirements(), TODAY)
    (recred,) = board.sections["recredentialing"]
    assert recred.due == date(2026, 4, 1) and recred.days == 30
    stale = board.sections["stale_verification"]
    assert stale and all("at most 120 allowed" in r.reason for r in stale)


def test_expiring_list_for_the_api(db: Database) -> None:
    ids = seed(db)
    with db.session() as s:
        within_30 = expiring(s, TODAY, 30)
        active_30 = expiring(s, TODAY, 30, active_only=True)
        within_0 = expiring(s, TODAY, 0)
    got = {e.credential_id: e for e in within_30}
    assert ids["tx_lic"] in got and ids["gone_lic"] in got and ids["mal"] not in got
    assert got[ids["gone_lic"]].status == "expired" and got[ids["gone_lic"]].days_left == -5
    assert (
        got[ids["tx_lic"]].to_json()["expiration_date"] == (TODAY + timedelta(days=20)).isoformat()
    )
    assert ids["gone_lic"] not in {e.credential_id for e in active_30}
    assert [e.credential_id for e in within_0] == [ids["gone_lic"]]
