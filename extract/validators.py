"""The checks of spec/fields.md a system can make on its own: NPI, DEA, dates, state codes.

Each returns a list of problems (empty when the value passes), worded for a reviewer.
"""

from __future__ import annotations

import re
from datetime import date

USPS_CODES: frozenset[str] = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "PR",
        "GU",
        "VI",
        "AS",
        "MP",
    ]
)
_DEA_RE = re.compile(r"^[A-Z]{2}\d{7}$")
# First letters of DEA numbers issued to practitioners and mid-level practitioners.
DEA_REGISTRANT_LETTERS = frozenset("ABFGMPRX")


def luhn_ok(digits: str) -> bool:
    """Luhn checksum over a string of digits (the last one being the check digit)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def npi_valid(npi: str) -> bool:
    """10 digits whose Luhn check over "80840" + the first nine digits gives the tenth."""
    return bool(re.fullmatch(r"\d{10}", npi)) and luhn_ok("80840" + npi)


def npi_problems(npi: str) -> list[str]:
    if not re.fullmatch(r"\d{10}", npi):
        return ["NPI is not 10 digits"]
    if not npi_valid(npi):
        return ["NPI check digit does not match (Luhn with 80840 prefix)"]
    return []


def dea_check_digit_ok(number: str) -> bool:
    """(d1+d3+d5) + 2*(d2+d4+d6): its last digit must equal d7."""
    if not _DEA_RE.match(number):
        return False
    d = [int(c) for c in number[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


def dea_problems(number: str, family_name: str | None = None) -> list[str]:
    """Shape, check digit and (when the family name is known) the surname letter."""
    if not _DEA_RE.match(number):
        return ["DEA number is not two letters and seven digits"]
    problems: list[str] = []
    if not dea_check_digit_ok(number):
        problems.append("DEA check digit does not match")
    if family_name:
        initial = next((c for c in family_name.upper() if c.isalpha()), "")
        if initial and number[1] != initial and number[1] != "9":
            problems.append(
                f"DEA second letter {number[1]} is not the family name's initial {initial}"
            )
    return problems


def state_problems(code: str) -> list[str]:
    return [] if code in USPS_CODES else [f"{code} is not a USPS state or territory code"]


def date_order_problems(
    issue: date | None,
    expiration: date | None,
    start: date | None = None,
    end: date | None = None,
) -> list[tuple[str, str]]:
    """(field, problem) pairs for dates in the wrong order."""
    out: list[tuple[str, str]] = []
    if issue and expiration and expiration <= issue:
        out.append(("expiration_date", "expiration date is not after the issue date"))
    if start and end and end < start:
        out.append(("end_date", "end date is before the start date"))
    if start and issue and issue < start and end is None:
        out.append(("start_date", "start date is after the issue date"))
    return out


def plausible_date_problems(value: date, today: date | None = None) -> list[str]:
    """Dates far outside a working life are misreads more often than facts."""
    today = today or date.today()
    if value.year < 1940:
        return ["date is before 1940"]
    if value.year > today.year + 12:
        return ["date is more than 12 years in the future"]
    return []
