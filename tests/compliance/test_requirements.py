"""Requirement sets are data: the shipped YAML loads, versions apply from their date, state
sets add to the category's base set, and a broken file names the file, set and key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compliance.requirements import (
    DEFAULT_FILE,
    RequirementsError,
    load_requirements,
    parse_requirements,
)


def test_shipped_default_documents_every_value() -> None:
    reqs = load_requirements()
    assert reqs.source == str(DEFAULT_FILE)
    names = [v.version for v in reqs.versions]
    assert names == ["2024", "2025"]
    v2025 = reqs.version("2025")
    assert v2025.verification_days == 120  # NCQA 2025
    assert v2025.recredential_months == 36
    assert reqs.version("2024").verification_days == 180
    assert {
        "physician",
        "advanced_practice_nurse",
        "physician_assistant",
        "registered_nurse",
    } <= set(v2025.categories)
    bls = next(r for r in v2025.base_set("physician").requirements if r.id == "bls")  # type: ignore[union-attr]
    assert bls.validity_months == 24 and bls.matches_title("BLS Provider")
    assert not bls.matches_title("ACLS Provider")
    # every key of every entry in the file carries a comment or sits under a commented block
    text = DEFAULT_FILE.read_text()
    for key in (
        "verification_days",
        "recredential_months",
        "validity_months",
        "cme_hours",
        "cme_period_months",
        "at_risk_days",
    ):
        for line in text.splitlines():
            if line.strip().startswith(f"{key}:"):
                assert "#" in line, f"undocumented value: {line.strip()}"


def test_the_version_in_force_changes_on_its_effective_date() -> None:
    reqs = load_requirements()
    assert reqs.version_on(date(2025, 6, 30)).version == "2024"
    assert reqs.version_on(date(2025, 7, 1)).version == "2025"
    assert reqs.version_on(date(2020, 1, 1)).version == "2024"  # before any: the oldest
    assert [v.version for v in reqs.upcoming(date(2025, 6, 1))] == ["2025"]
    assert reqs.previous(reqs.version("2025")).version == "2024"  # type: ignore[union-attr]


def test_state_sets_and_departments_shape_one_clinicians_rules() -> None:
    v = load_requirements().version("2025")
    rn = v.rules_for("registered_nurse", ())
    assert rn is not None and rn.cme_hours == 0
    rn_ca = v.rules_for("registered_nurse", ("CA",))
    assert rn_ca is not None and (rn_ca.cme_hours, rn_ca.cme_period_months) == (30, 24)
    er = v.rules_for("physician", ("CA",), "Emergency Medicine")
    clinic = v.rules_for("physician", ("CA",), "Family Medicine")
    assert er is not None and clinic is not None
    assert "acls" in {r.id for r in er.requirements}
    assert "acls" not in {r.id for r in clinic.requirements}
    assert v.rules_for("janitor", ()) is None
    assert v.rules_for(None, ()) is None


BASE = """
versions:
  - version: "v1"
    effective: 2025-01-01
    sets:
      - category: physician
        requirements:
          - id: bls
            label: BLS
            doc_type: life_support_card
            match: [BLS]
            validity_months: 24
"""


def test_override_file_and_state_removal(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        BASE
        + """
      - category: physician
        state: TX
        remove: [bls]
        requirements:
          - id: acls
            label: ACLS
            doc_type: life_support_card
            match: [ACLS]
"""
    )
    reqs = load_requirements(path)
    tx = reqs.versions[0].rules_for("physician", ("TX",))
    assert tx is not None and [r.id for r in tx.requirements] == ["acls"]
    assert reqs.versions[0].verification_days == 120  # the documented default


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("doc_type: life_support_card", "doc_type: lifesupport_card"),
         "version 'v1', set 'physician', requirement 'bls', key 'doc_type': unknown doc_type"),
        (("validity_months: 24", "validty_months: 24"),
         "requirement 'bls', key 'validty_months': unknown key"),
        (("validity_months: 24", "validity_months: -3"),
         "requirement 'bls', key 'validity_months': Input should be greater than or equal to 1"),
        (("effective: 2025-01-01", "effective: soon"),
         "version 'v1', key 'effective': Input should be a valid date"),
        (("id: bls", "id: Basic Life"), "requirement 'Basic Life', key 'id': must be lower_case"),
        (("category: physician", "category: physician\n        state: ZZ"),
         "set 'physician/ZZ', key 'state': 'ZZ' is not a USPS state code"),
    ],
)  # fmt: skip
def test_errors_name_the_file_set_and_key(change: tuple[str, str], expected: str) -> None:
    text = BASE.replace(*change)
    with pytest.raises(RequirementsError) as err:
        parse_requirements(text, source="rules.yaml")
    assert str(err.value).startswith("rules.yaml: ")
    assert expected in str(err.value)


def test_structural_errors() -> None:
    twice = BASE + BASE.split("sets:\n", 1)[1]
    with pytest.raises(RequirementsError, match="set 'physician' appears twice"):
        parse_requirements(twice, source="r.yaml")
    with pytest.raises(RequirementsError, match=r"r.yaml: line \d+, column \d+: not valid YAML"):
        parse_requirements("versions: [\n  - a: b\n", source="r.yaml")
    with pytest.raises(RequirementsError, match="expected a mapping"):
        parse_requirements("- just a list", source="r.yaml")
    state_without_base = BASE.replace(
        "category: physician", "category: physician\n        state: CA"
    )
    with pytest.raises(RequirementsError, match="has no base set"):
        parse_requirements(state_without_base, source="r.yaml")
    with pytest.raises(RequirementsError, match="cannot read"):
        load_requirements(Path("/nonexistent/rules.yaml"))


def test_rules_command_checks_a_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from credflow.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["compliance", "rules", "--data-dir", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "2025 from 2025-07-01: verification 120 days" in ok.output
    assert "verification days: 180 → 120" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace("doc_type: life_support_card", "doc_type: card"))
    result = runner.invoke(app, ["compliance", "rules", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: version 'v1', set 'physician', requirement 'bls', key 'doc_type'" in (
        result.output
    )
