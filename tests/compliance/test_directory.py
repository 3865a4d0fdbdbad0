"""The clinician directory query on SQLite and PostgreSQL: search by name, NPI and licence
number, every filter, the standing as the kept judgement says, sorting, paging and the CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from compliance import standing
from compliance.directory import STANDINGS, DirectoryQuery, choices, csv_lines, directory, iter_rows
from compliance.requirements import load_requirements
from compliance.status import provider_status
from models import Database, Provider
from tests.compliance.test_status import (
    TODAY,
    add_cred,
    add_provider,
    approve,
    complete_physician,
)


@dataclass
class Clinicians:
    ok: int
    lapsing: int
    missing: int
    inactive: int
    formula: int
    unjudged: int


def seed(db: Database) -> Clinicians:
    """Six clinicians; all but one judged under today's rules."""
    with db.session() as s:
        ok = complete_physician(s, "Alice Compliant", department="Surgery")
        s.get_one(Provider, ok).npi = "1234567893"
        lapsing = add_provider(s, "bob lapsing", category="registered_nurse", states=("OR",),
                               department="ICU")  # fmt: skip
        add_cred(s, lapsing, "nursing_license", state="OR", expires=TODAY + timedelta(days=12))
        add_cred(s, lapsing, "life_support_card", title="BLS Provider",
                 issued=TODAY - timedelta(days=30))  # fmt: skip
        approve(s, lapsing, TODAY - timedelta(days=365))
        lic = s.get_one(Provider, lapsing).credentials[0]
        lic.credential_number = "RN-77_1%"
        missing = add_provider(s, "Carla Missing", states=("CA", "NV"), department=None)
        inactive = add_provider(s, "Dan Inactive", active=False, department="ICU")
        formula = add_provider(s, "=HYPERLINK(\"http://x\")", category="registered_nurse",
                               states=("CAX",), department="@Ward")  # fmt: skip
        unjudged = add_provider(s, "Eve Unjudged", department="Surgery")
        ids = Clinicians(ok, lapsing, missing, inactive, formula, unjudged)
    version = load_requirements().version_on(TODAY)
    with db.session() as s:
        standing.refresh(s, version, [ok, lapsing, missing, inactive, formula])
    return ids


def names(db: Database, **kw: object) -> list[str]:
    key = standing.rules_key(load_requirements().version_on(TODAY))
    with db.session() as s:
        page = directory(s, DirectoryQuery(**kw), on=TODAY, rules_key=key)  # type: ignore[arg-type]
    return [r.name for r in page.rows]


def test_search_by_name_npi_and_licence_number(db: Database) -> None:
    seed(db)
    assert names(db, q="alice") == ["Alice Compliant"]
    assert names(db, q="LAPS") == ["bob lapsing"]  # any case, any part
    assert names(db, q="12345") == ["Alice Compliant"]  # NPI prefix
    assert names(db, q="rn-77_1%") == ["bob lapsing"]  # licence number, any case
    # the wildcards of LIKE are plain characters: "%" alone matches no name
    assert names(db, q="%") == []
    assert names(db, q="_") == []
    assert names(db, q="nobody") == []


def test_filters_category_department_state_and_status(db: Database) -> None:
    seed(db)
    assert names(db, category="registered_nurse") == ['=HYPERLINK("http://x")', "bob lapsing"]
    assert names(db, department="Surgery") == ["Alice Compliant", "Eve Unjudged"]
    # a state is a whole code: CA is not CAX
    assert names(db, state="ca") == ["Alice Compliant", "Carla Missing", "Eve Unjudged"]
    assert names(db, state="NV") == ["Carla Missing"]
    assert names(db, status="inactive") == ["Dan Inactive"]
    assert len(names(db, status="all")) == 6
    assert names(db, status="active", department="ICU") == ["bob lapsing"]
    # unknown values fall back instead of failing
    assert len(names(db, status="bogus", sort="bogus", per_page=7)) == 5


def test_standing_is_the_kept_judgement_on_the_day(db: Database) -> None:
    ids = seed(db)
    assert names(db, standing="compliant") == ["Alice Compliant"]
    assert names(db, standing="at_risk") == ["bob lapsing"]
    assert names(db, standing="non_compliant") == ['=HYPERLINK("http://x")', "Carla Missing"]
    assert names(db, standing="unknown") == ["Eve Unjudged"]
    key = standing.rules_key(load_requirements().version_on(TODAY))
    with db.session() as s:
        # 13 days on the nurse's licence has lapsed
        later = directory(s, DirectoryQuery(q="bob"), on=TODAY + timedelta(days=13), rules_key=key)
        assert [r.standing for r in later.rows] == ["non_compliant"]
        # a row judged under other rules is not trusted
        other = directory(s, DirectoryQuery(q="alice"), on=TODAY, rules_key="other")
        assert [r.standing for r in other.rows] == ["unknown"]
        row = directory(s, DirectoryQuery(q="bob"), on=TODAY, rules_key=key).rows[0]
        assert row.id == ids.lapsing and row.at_risk_from is not None


def test_standing_agrees_with_the_status_of_each_clinician(db: Database) -> None:
    """Also a CA nurse short of CME hours: at risk by a shortfall span only."""
    seed(db)
    reqs = load_requirements()
    with db.session() as s:
        nurse = add_provider(s, "Fay Short", category="registered_nurse", states=("CA",))
        add_cred(s, nurse, "nursing_license", state="CA", expires=TODAY + timedelta(days=400))
        add_cred(s, nurse, "life_support_card", title="BLS Provider",
                 issued=TODAY - timedelta(days=30))  # fmt: skip
        approve(s, nurse, TODAY - timedelta(days=365))
    with db.session() as s:
        standing.refresh(s, reqs.version_on(TODAY), [nurse])
    key = standing.rules_key(reqs.version_on(TODAY))
    for day in (TODAY, TODAY + timedelta(days=13), TODAY + timedelta(days=200)):
        with db.session() as s:
            rows = directory(s, DirectoryQuery(status="all", per_page=100), on=day, rules_key=key)
            for r in rows.rows:
                if r.standing == "unknown":
                    continue
                st = provider_status(s, reqs, r.id, day)
                assert st is not None and r.standing == st.status, (r.name, day)
            # the standing filter selects exactly the rows showing that standing
            for level in STANDINGS:
                picked = directory(s, DirectoryQuery(status="all", standing=level, per_page=100),
                                   on=day, rules_key=key)  # fmt: skip
                assert {r.id for r in picked.rows} == {
                    r.id for r in rows.rows if r.standing == level}, (level, day)  # fmt: skip
    with db.session() as s:
        fay = directory(s, DirectoryQuery(q="fay"), on=TODAY, rules_key=key).rows[0]
        st = provider_status(s, reqs, nurse, TODAY)
        assert st is not None and [i.kind for i in st.findings] == ["cme_short"]
        # at risk by the span alone: its at-risk date (a later lapse) has not come
        assert fay.standing == "at_risk"
        assert fay.at_risk_from is None or fay.at_risk_from > TODAY


def test_sorting_and_paging(db: Database) -> None:
    seed(db)
    everyone = names(db, status="all")
    assert everyone == sorted(everyone)  # by name (code point) by default
    assert names(db, status="all", desc=True) == list(reversed(everyone))
    # worst first, then by name; departments with the empty ones last
    assert names(db, sort="standing") == [
        "=HYPERLINK(\"http://x\")", "Carla Missing", "bob lapsing", "Eve Unjudged",
        "Alice Compliant",
    ]  # fmt: skip
    assert names(db, sort="department")[-1] == "Carla Missing"
    assert names(db, sort="department", desc=True)[-1] == "Carla Missing"
    key = standing.rules_key(load_requirements().version_on(TODAY))
    with db.session() as s:
        first = directory(s, DirectoryQuery(status="all", per_page=25), on=TODAY, rules_key=key)
        assert (first.total, first.pages, len(first.rows)) == (6, 1, 6)
        # a page beyond the last shows the last
        far = directory(s, DirectoryQuery(page=99), on=TODAY, rules_key=key)
        assert far.query.page == 1 and len(far.rows) == 5
    with db.session() as s:
        for n in range(60):
            add_provider(s, f"Zed {n:02d}", department="Bulk")
    with db.session() as s:
        two = directory(s, DirectoryQuery(department="Bulk", page=2), on=TODAY, rules_key=key)
        assert (two.total, two.pages) == (60, 2)
        assert [r.name for r in two.rows] == [f"Zed {n:02d}" for n in range(50, 60)]
        assert choices(s, ["physician"])["categories"] == ["physician", "registered_nurse"]
        assert choices(s)["departments"] == ["@Ward", "Bulk", "ICU", "Surgery"]


def test_query_string_round_trip() -> None:
    q = DirectoryQuery(q="  ann   lee ", state="ca", page=3, desc=True).normalised()
    assert q.params() == {"q": "ann lee", "state": "CA", "page": "3", "desc": "1"}
    assert q.params(page=1, desc=False) == {"q": "ann lee", "state": "CA"}
    assert DirectoryQuery().params() == {}


def test_csv_neutralises_formulas_and_lists_every_match(db: Database) -> None:
    seed(db)
    key = standing.rules_key(load_requirements().version_on(TODAY))
    with db.session() as s:
        text = "".join(csv_lines(iter_rows(s, DirectoryQuery(status="all"), on=TODAY,
                                           rules_key=key)))  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6
    bad = next(r for r in rows if "HYPERLINK" in r["name"])
    assert bad["name"].startswith("'=") and bad["department"] == "'@Ward"
    alice = next(r for r in rows if r["name"] == "Alice Compliant")
    assert (alice["standing"], alice["npi"], alice["states"]) == ("compliant", "1234567893", "CA")


@pytest.mark.parametrize("field", ["q", "state"])
def test_overlong_and_odd_input_is_trimmed(db: Database, field: str) -> None:
    seed(db)
    assert names(db, **{field: "x" * 5000}) == []
    with db.session() as s:
        assert s.scalar(select(Provider.id).limit(1)) is not None
