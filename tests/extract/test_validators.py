"""The spec's own checks: NPI Luhn with the 80840 prefix, DEA check digit and surname
letter, date order, USPS codes."""

from __future__ import annotations

from datetime import date

from extract import validators


def test_npi_luhn_with_prefix() -> None:
    assert validators.npi_valid("1234567893")  # CMS's published example
    assert validators.npi_valid("1840368645")
    assert not validators.npi_valid("1234567890")
    assert not validators.npi_valid("123456789")
    assert validators.npi_problems("1234567893") == []
    assert validators.npi_problems("1234567890") == [
        "NPI check digit does not match (Luhn with 80840 prefix)"
    ]
    assert validators.npi_problems("12345") == ["NPI is not 10 digits"]


def test_dea_check_digit_and_surname_letter() -> None:
    # AT6360781: 6+6+7 + 2*(3+0+8) = 41 -> 1
    assert validators.dea_check_digit_ok("AT6360781")
    assert validators.dea_problems("AT6360781", "Taylor") == []
    assert not validators.dea_check_digit_ok("AT6360782")
    assert validators.dea_problems("AT6360782", "Taylor") == ["DEA check digit does not match"]
    problems = validators.dea_problems("AT6360781", "Garcia")
    assert len(problems) == 1 and "family name" in problems[0]
    assert validators.dea_problems("A1234567") == ["DEA number is not two letters and seven digits"]


def test_date_order_and_state_codes() -> None:
    assert validators.date_order_problems(date(2020, 1, 1), date(2022, 1, 1)) == []
    assert validators.date_order_problems(date(2022, 1, 1), date(2020, 1, 1)) == [
        ("expiration_date", "expiration date is not after the issue date")
    ]
    assert validators.date_order_problems(None, None, date(2015, 1, 1), date(2010, 1, 1)) == [
        ("end_date", "end date is before the start date")
    ]
    assert validators.state_problems("OH") == []
    assert validators.state_problems("PR") == []
    assert validators.state_problems("XX") == ["XX is not a USPS state or territory code"]
