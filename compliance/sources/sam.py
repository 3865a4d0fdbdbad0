"""SAM.gov Exclusions Public V2 extract (31 quoted columns), as CSV or the daily ZIP.

The daily extract holds every active record, so it replaces the list; a record with a
Termination Date is in force until then ('Indefinite' means no end)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from compliance.screening.names import from_fields
from compliance.sources.entry import Entry, HeaderParser, clean_npi, digest
from compliance.sources.files import iso, mdy

REQUIRED = ("Classification", "First", "Last", "SAM Number", "Exclusion Program", "Active Date")
NAME_DATE = re.compile(r"(?i)extract_(\d{2})(\d{3})")


def recognise(header: list[str]) -> bool:
    names = {h.strip() for h in header}
    return all(r in names for r in REQUIRED) and "Termination Date" in names


def list_date_from_name(file_name: str) -> date | None:
    """SAM names its daily file ..._YYDDD (year and day of the year)."""
    m = NAME_DATE.search(file_name)
    if not m:
        return None
    return date(2000 + int(m.group(1)), 1, 1) + timedelta(days=int(m.group(2)) - 1)


class Parser(HeaderParser):
    def entry(self, v: Callable[[str], str], row: list[str]) -> Entry | str:
        first, mid, last, firm = v("First"), v("Middle"), v("Last"), v("Name")
        if not (last or firm):
            return "neither a person's nor a business name"
        try:
            start = mdy(v("Active Date"))
            term_text = v("Termination Date")
            end = None if term_text.lower() in ("", "indefinite") else mdy(term_text)
            created = iso(v("Creation_Date"))
        except ValueError:
            return "a date that is not a date"
        sam_number = v("SAM Number")
        record = self.columns.record(row)
        return Entry(
            entry_key=digest("sam", sam_number) if sam_number else digest(*row),
            content_hash=digest(*row),
            name=from_fields(last, first, mid) if last else None,
            business=None if last else firm[:300] or None,
            npi=clean_npi(v("NPI")),
            upin=None,
            date_of_birth=None,
            state=v("State / Province")[:2] or None,
            city=v("City")[:100] or None,
            specialty=v("Exclusion Type")[:200] or None,
            starts_on=start or created,
            ended_on=end,
            record=record,
        )
