"""CMS Medicare opt-out affidavits (monthly CSV): a clinician who opted out of Medicare may
not bill it from the effective date to the end date. The monthly file replaces the list."""

from __future__ import annotations

from compliance.screening.names import from_fields
from compliance.sources.entry import Entry, clean_npi, digest
from compliance.sources.files import mdy

REQUIRED = ("First Name", "Last Name", "NPI", "Optout Effective Date", "Optout End Date")


def recognise(header: list[str]) -> bool:
    names = {h.strip() for h in header}
    return all(r in names for r in REQUIRED)


class Parser:
    def __init__(self, header: list[str]) -> None:
        self.header = [h.strip() for h in header]
        self.index = {h: i for i, h in enumerate(self.header)}
        self.width = len(self.header)

    def parse(self, row: list[str]) -> Entry | str:
        if len(row) != self.width:
            return f"row has {len(row)} values, not {self.width}"
        ix = self.index

        def v(name: str) -> str:
            i = ix.get(name)
            return row[i].strip() if i is not None else ""

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
            record=dict(zip(self.header, (c.strip() for c in row), strict=True)),
        )
