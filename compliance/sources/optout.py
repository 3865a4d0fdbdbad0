"""CMS Medicare opt-out affidavits (monthly CSV): a clinician who opted out of Medicare may
not bill it from the effective date to the end date. The monthly file replaces the list."""

from __future__ import annotations

from collections.abc import Callable

from compliance.screening.names import from_fields
from compliance.sources.entry import Entry, HeaderParser, clean_npi, digest
from compliance.sources.files import mdy

REQUIRED = ("First Name", "Last Name", "NPI", "Optout Effective Date", "Optout End Date")


def recognise(header: list[str]) -> bool:
    names = {h.strip() for h in header}
    return all(r in names for r in REQUIRED)


class Parser(HeaderParser):
    def entry(self, v: Callable[[str], str], row: list[str]) -> Entry | str:
        first, last, npi = v("First Name"), v("Last Name"), clean_npi(v("NPI"))
        if not last:
            return "no last name"
        try:
            start, end = mdy(v("Optout Effective Date")), mdy(v("Optout End Date"))
        except ValueError:
            return "a date that is not a date"
        if start is None:
            return "no opt-out effective date"
        return Entry(
            entry_key=digest("optout", npi or f"{last}|{first}", start),
            content_hash=digest(*row),
            name=from_fields(last, first, ""),
            business=None,
            npi=npi,
            upin=None,
            date_of_birth=None,
            state=(v("State Code") or v("State"))[:2] or None,
            city=(v("City Name") or v("City"))[:100] or None,
            specialty=v("Specialty")[:200] or None,
            starts_on=start,
            ended_on=end,
            record=self.columns.record(row),
        )
