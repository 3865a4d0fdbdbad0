"""OIG LEIE: the full UPDATED.csv and the monthly YYMMEXCL / YYMMREIN supplements (18 columns).

The three share one header, so a file's role comes from its name when it has a usual one
(UPDATED, YYMMEXCL, YYMMREIN) and otherwise from its rows: a row with a REINDATE is a
reinstatement; a file of exclusions spanning more than two months is the full list.
Quirks of the real files: DOB as YYYYMMDD or MM/DD/YY, WVRSTATE or WAIVERSTATE, quoted or
unquoted header, a trailing comma, NPI 0000000000 meaning none, values padded with spaces.
"""

from __future__ import annotations

import re
from datetime import date

from compliance.screening.names import fold, from_fields
from compliance.sources.entry import Entry, clean_npi, digest
from compliance.sources.files import any_date, ymd

COLUMNS = (
    "LASTNAME",
    "FIRSTNAME",
    "MIDNAME",
    "BUSNAME",
    "GENERAL",
    "SPECIALTY",
    "UPIN",
    "NPI",
    "DOB",
    "ADDRESS",
    "CITY",
    "STATE",
    "ZIP",
    "EXCLTYPE",
    "EXCLDATE",
    "REINDATE",
    "WAIVERDATE",
    "WVRSTATE",
)
NAME_ROLE = re.compile(r"(?i)(updated)|(\d{4})(excl|rein)")
# a list of exclusions whose dates span more than this many days is the full list
FULL_LIST_SPAN_DAYS = 62


def recognise(header: list[str]) -> bool:
    names = [h.strip().upper() for h in header]
    while names and not names[-1]:
        names.pop()
    if names and names[-1] == "WAIVERSTATE":
        names[-1] = "WVRSTATE"
    return tuple(names) == COLUMNS


def role_from_name(file_name: str) -> str | None:
    """'full', 'excl' or 'rein' from the usual names, else None."""
    m = NAME_ROLE.search(file_name)
    if not m:
        return None
    return "full" if m.group(1) else m.group(3).lower()


def list_date_from_name(file_name: str) -> date | None:
    m = NAME_ROLE.search(file_name)
    if m and m.group(2):
        yy, mm = int(m.group(2)[:2]), int(m.group(2)[2:])
        if 1 <= mm <= 12:
            return date(2000 + yy, mm, 1)
    return None


def parse(row: list[str]) -> Entry | str:
    """An Entry, or the reason the row is skipped."""
    if len(row) == 19 and not row[18].strip():
        row = row[:18]  # a trailing comma after the last value
    if len(row) != 18:
        return f"row has {len(row)} values, not 18"
    last, first, mid, bus = (v.strip() for v in row[:4])
    if not (last or bus):
        return "neither a person's nor a business name"
    try:
        dob = any_date(row[8], past=True)
        excl = ymd(row[14])
        rein = ymd(row[15])
    except ValueError:
        return "a date that is not a date"
    if excl is None:
        return "no exclusion date"
    key = digest(fold(last), fold(first), fold(mid), fold(bus), dob, excl)
    record = dict(zip(COLUMNS, (v.strip() for v in row), strict=True))
    return Entry(
        entry_key=key,
        content_hash=digest(*row[:15]),
        name=from_fields(last, first, mid) if last else None,
        business=bus or None,
        npi=clean_npi(row[7]),
        upin=row[6].strip() or None,
        date_of_birth=dob,
        state=row[11].strip()[:2] or None,
        city=row[10].strip()[:100] or None,
        specialty=(row[5].strip() or row[4].strip())[:200] or None,
        starts_on=excl,
        ended_on=rein,
        record=record,
    )
