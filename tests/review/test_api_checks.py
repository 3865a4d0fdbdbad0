"""The checks a reviewer's values pass before they become a credential (spec/fields.md)."""

from __future__ import annotations

import pytest

from review.approve import check_fields, dea_problem, fields_for, normalize, npi_problem


@pytest.mark.parametrize(
    ("npi", "problem"),
    [
        ("1234567893", None),
        ("1245319599", None),
        ("1234567890", "NPI check digit does not match"),
        ("123456789", "NPI must be 10 digits"),
        ("12345678AB", "NPI must be 10 digits"),
    ],
)
def test_npi(npi: str, problem: str | None) -> None:
    assert npi_problem(npi) == problem


@pytest.mark.parametrize(
    ("dea", "problem"),
    [
        ("BG1234563", None),
        ("AB1234563", None),
        ("F91234563", None),  # a business registrant: 9 for the second character
        ("BG1234564", "DEA check digit does not match"),
        ("B1234563", "DEA number must be two letters and seven digits"),
        ("BG12345678", "DEA number must be two letters and seven digits"),
    ],
)
def test_dea(dea: str, problem: str | None) -> None:
    assert dea_problem(dea) == problem


def test_values_are_normalized_as_the_spec_says() -> None:
    assert normalize("credential_number", " 35. 123 456 ") == "35.123456"
    assert normalize("jurisdiction", "oh") == "OH"
    assert normalize("npi", "123-456 7893") == "1234567893"
    assert normalize("schedules", "2, 2n, 3") == "2,2N,3"
    assert normalize("issuer", "  State  Medical Board ") == "State Medical Board"


def test_field_checks_separate_errors_from_warnings() -> None:
    errors, warnings = check_fields(
        "dea_registration",
        {
            "person_name": "Maria Gonzalez",
            "credential_number": "BA1234563",
            "expiration_date": "2020-02-30",
            "schedules": "2,6",
        },
    )
    assert errors == {
        "expiration_date": "Date must be YYYY-MM-DD",
        "schedules": 'Schedules are numbers 1-5, optionally with N, e.g. "2,2N,3,4,5"',
    }
    assert warnings == ["DEA second letter is not the family name's initial"]

    errors, warnings = check_fields(
        "medical_license", {"issue_date": "2010-01-01", "expiration_date": "2012-01-01"}
    )
    assert errors == {} and warnings == ["Expired: the expiration date has passed"]
    errors, _ = check_fields(
        "employment_verification", {"start_date": "2015-01-01", "end_date": "2014-12-31"}
    )
    assert errors == {"end_date": "End date must not be before the start date"}
    errors, _ = check_fields("cme_certificate", {"credit_hours": "twelve"})
    assert errors == {"credit_hours": 'Credit hours are a number, e.g. "12.5"'}


def test_each_type_carries_its_spec_fields_in_order() -> None:
    assert fields_for("dea_registration") == (
        "person_name",
        "credential_number",
        "jurisdiction",
        "expiration_date",
        "npi",
        "schedules",
    )
    assert fields_for("other") == ("person_name", "npi")


def test_the_database_side_knows_the_same_types_and_fields_as_extract() -> None:
    """extract imports nothing of ours, so it keeps its own copy of the spec's table and
    models.spec (which review and compliance use) another: the two must agree."""
    from extract import types
    from models import spec

    assert spec.FIELD_NAMES == types.FIELD_NAMES
    assert spec.FIELDS_BY_TYPE == types.FIELDS_BY_TYPE
