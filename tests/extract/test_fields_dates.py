"""Printed dates into ISO form, including OCR confusions and month-year only dates."""

from __future__ import annotations

from datetime import date

import pytest

from extract.dates import find_dates, parse_date


@pytest.mark.parametrize(
    ("printed", "iso"),
    [
        ("November 30, 2022", "2022-11-30"),
        ("Nov. 11, 2015", "2015-11-11"),
        ("12-JUL-2015", "2015-07-12"),
        ("31-JAN-2026", "2026-01-31"),
        ("5 August 2022", "2022-08-05"),
        ("11/1/2021", "2021-11-01"),
        ("03/24/2023", "2023-03-24"),
        ("2023-11-22", "2023-11-22"),
        ("this 17th day of December, 2022.", "2022-12-17"),
        ("on the 10th\nday of May, 1992", "1992-05-10"),
        ("O7/O8/2O22", "2022-07-08"),  # OCR read zeros as letter O
    ],
)
def test_printed_forms(printed: str, iso: str) -> None:
    assert parse_date(printed) == date.fromisoformat(iso)


def test_month_year_is_last_day_for_expiration_first_day_otherwise() -> None:
    assert parse_date("Recommended renewal: 06/2027", "expiration_date") == date(2027, 6, 30)
    assert parse_date("Recommended renewal: 06/2027", "issue_date") == date(2027, 6, 1)
    assert parse_date("Valid through February 2028", "expiration_date") == date(2028, 2, 29)


def test_ranges_give_both_dates_in_order() -> None:
    found = find_dates("Dates of training: 5th day of June, 2013 through 4th day of June, 2016.")
    assert [f.value for f in found] == [date(2013, 6, 5), date(2016, 6, 4)]


def test_not_dates() -> None:
    assert find_dates("License No. 036.176858, phone (515) 838-9254") == []


@pytest.mark.parametrize(
    ("printed", "iso"),
    [
        ("on the thirteenth day of May, two thousand twenty-two.", "2022-05-13"),
        ("Given this fourteenth day of August, 2023.", "2023-08-14"),
        ("the eighteenth day of May,\ntwo thousand nineteen.", "2019-05-18"),
        (
            "the twenty-first day of June in the year of our Lord nineteen hundred ninety-eight",
            "1998-06-21",
        ),
        ("the first day of March, nineteen ninety-nine", "1999-03-01"),
        ("THE THIRTY FIRST DAY OF JANUARY, TWO THOUSAND AND FIVE", "2005-01-31"),
    ],
)
def test_spelled_out_dates_of_diplomas_and_commissions(printed: str, iso: str) -> None:
    assert parse_date(printed) == date.fromisoformat(iso)


def test_spelled_out_day_that_does_not_exist_is_not_a_date() -> None:
    assert find_dates("the thirtieth day of February, two thousand ten") == []


def test_two_digit_day_split_by_ocr_before_a_full_year() -> None:
    found = find_dates("Date Completed: 2/1 4/2024  Valid Until: 2/11/2026")
    assert [f.value for f in found] == [date(2024, 2, 14), date(2026, 2, 11)]
    assert found[0].repaired
