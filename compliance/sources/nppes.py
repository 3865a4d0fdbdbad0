"""NPPES: the monthly full file (npidata_pfile_*.csv, 330 columns, ~9 million rows) and
saved NPI Registry API answers (JSON with `results[]`).

Only what screening and licence checks need is kept: NPI, entity type, names, credential
text, the 15 taxonomy / licence number / licence state groups, and the deactivation and
reactivation dates. Columns are found by name, so a reordered file still reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from compliance.sources.files import any_date, iso

GROUPS = 15
REQUIRED = ("NPI", "Entity Type Code", "Provider License Number_1", "NPI Deactivation Date")


def recognise(header: list[str]) -> bool:
    names = {h.strip() for h in header}
    return all(r in names for r in REQUIRED)


@dataclass(slots=True)
class NpiRow:
    npi: str
    entity_type: str | None
    last_name: str | None
    first_name: str | None
    middle_name: str | None
    organization: str | None
    credential: str | None
    deactivated_on: date | None
    reactivated_on: date | None
    licenses: list[dict[str, Any]]

    def row(self, import_id: int) -> tuple[Any, ...]:
        """The npi_records row, in the order of ROW_COLUMNS (licences as JSON text)."""
        return (
            self.npi, import_id, self.entity_type, self.last_name, self.first_name,
            self.middle_name, self.organization, self.credential, self.deactivated_on,
            self.reactivated_on, json.dumps(self.licenses, separators=(",", ":")),
        )  # fmt: skip


ROW_COLUMNS = (
    "npi", "import_id", "entity_type", "last_name", "first_name", "middle_name",
    "organization", "credential", "deactivated_on", "reactivated_on", "licenses",
)  # fmt: skip


def _npi(text: str) -> str | None:
    text = text.strip()
    return text if len(text) == 10 and text.isdigit() else None


class FileParser:
    """Rows of the full NPPES file; holds only the column positions it needs."""

    def __init__(self, header: list[str]) -> None:
        ix = {h.strip(): i for i, h in enumerate(header)}
        self.width = len(header)

        def at(name: str) -> int:
            return ix.get(name, -1)

        self.npi = at("NPI")
        self.entity = at("Entity Type Code")
        self.org = at("Provider Organization Name (Legal Business Name)")
        self.last = at("Provider Last Name (Legal Name)")
        self.first = at("Provider First Name")
        self.middle = at("Provider Middle Name")
        self.cred = at("Provider Credential Text")
        self.deact = at("NPI Deactivation Date")
        self.react = at("NPI Reactivation Date")
        self.groups = [
            (
                at(f"Healthcare Provider Taxonomy Code_{n}"),
                at(f"Provider License Number_{n}"),
                at(f"Provider License Number State Code_{n}"),
                at(f"Healthcare Provider Primary Taxonomy Switch_{n}"),
            )
            for n in range(1, GROUPS + 1)
        ]

    def parse(self, row: list[str]) -> NpiRow | str:
        if len(row) != self.width:
            return f"row has {len(row)} values, not {self.width}"
        npi = _npi(row[self.npi])
        if npi is None:
            return "no ten-digit NPI"

        def v(i: int) -> str | None:
            return (row[i].strip() or None) if i >= 0 else None

        licenses = []
        for code_i, lic_i, st_i, prim_i in self.groups:
            code, lic, st = v(code_i), v(lic_i), v(st_i)
            if code or lic:
                licenses.append(
                    {"taxonomy": code, "license": lic, "state": st, "primary": v(prim_i) == "Y"}
                )
        try:
            deact = any_date(row[self.deact]) if self.deact >= 0 else None
            react = any_date(row[self.react]) if self.react >= 0 else None
        except ValueError:
            return "a date that is not a date"
        return NpiRow(
            npi,
            v(self.entity),
            v(self.last),
            v(self.first),
            v(self.middle),
            v(self.org),
            v(self.cred),
            deact,
            react,
            licenses,
        )


def api_error(answer: Any) -> str | None:
    """The registry's error answer in one line, or None when the answer has results."""
    if isinstance(answer, dict) and "Errors" in answer:
        errors = answer.get("Errors") or []
        text = "; ".join(str(e.get("description", e)) for e in errors if isinstance(e, dict))
        return f"an NPI Registry error answer: {text or 'no description'}"
    if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
        return "JSON that is not an NPI Registry answer (no results[])"
    return None


def parse_api_result(item: Any) -> NpiRow | str:
    """One element of an NPI Registry API answer's `results`."""
    if not isinstance(item, dict):
        return "a result that is not an object"
    npi = _npi(str(item.get("number", "")))
    if npi is None:
        return "no ten-digit NPI"
    basic = item.get("basic") or {}
    etype = {"NPI-1": "1", "NPI-2": "2"}.get(str(item.get("enumeration_type")))
    licenses = [
        {
            "taxonomy": t.get("code"),
            "license": (t.get("license") or None),
            "state": (t.get("state") or None),
            "primary": bool(t.get("primary")),
        }
        for t in item.get("taxonomies") or []
        if isinstance(t, dict)
    ]
    deact = iso(str(basic.get("deactivation_date") or ""))
    if deact is None and basic.get("status") == "D":
        deact = iso(str(basic.get("last_updated") or ""))
    return NpiRow(
        npi,
        etype,
        basic.get("last_name"),
        basic.get("first_name"),
        basic.get("middle_name"),
        basic.get("organization_name"),
        basic.get("credential"),
        deact,
        iso(str(basic.get("reactivation_date") or "")),
        licenses,
    )


def published_header() -> list[str]:
    """The 330 column names of NPPES's full file, in its order (NPPES Data Dissemination
    read-me): for writing test and benchmark files the way NPPES does."""
    place = "Provider Business Practice Location Address"
    mail = "Provider Business Mailing Address"
    head = [
        "NPI",
        "Entity Type Code",
        "Replacement NPI",
        "Employer Identification Number (EIN)",
        "Provider Organization Name (Legal Business Name)",
        "Provider Last Name (Legal Name)",
        "Provider First Name",
        "Provider Middle Name",
        "Provider Name Prefix Text",
        "Provider Name Suffix Text",
        "Provider Credential Text",
        "Provider Other Organization Name",
        "Provider Other Organization Name Type Code",
        "Provider Other Last Name",
        "Provider Other First Name",
        "Provider Other Middle Name",
        "Provider Other Name Prefix Text",
        "Provider Other Name Suffix Text",
        "Provider Other Credential Text",
        "Provider Other Last Name Type Code",
        "Provider First Line Business Mailing Address",
        "Provider Second Line Business Mailing Address",
        f"{mail} City Name",
        f"{mail} State Name",
        f"{mail} Postal Code",
        f"{mail} Country Code (If outside U.S.)",
        f"{mail} Telephone Number",
        f"{mail} Fax Number",
        "Provider First Line Business Practice Location Address",
        "Provider Second Line Business Practice Location Address",
        f"{place} City Name",
        f"{place} State Name",
        f"{place} Postal Code",
        f"{place} Country Code (If outside U.S.)",
        f"{place} Telephone Number",
        f"{place} Fax Number",
        "Provider Enumeration Date",
        "Last Update Date",
        "NPI Deactivation Reason Code",
        "NPI Deactivation Date",
        "NPI Reactivation Date",
        "Provider Gender Code",
        "Authorized Official Last Name",
        "Authorized Official First Name",
        "Authorized Official Middle Name",
        "Authorized Official Title or Position",
        "Authorized Official Telephone Number",
    ]
    for n in range(1, GROUPS + 1):
        head += [
            f"Healthcare Provider Taxonomy Code_{n}",
            f"Provider License Number_{n}",
            f"Provider License Number State Code_{n}",
            f"Healthcare Provider Primary Taxonomy Switch_{n}",
        ]
    for n in range(1, 51):
        head += [
            f"Other Provider Identifier_{n}",
            f"Other Provider Identifier Type Code_{n}",
            f"Other Provider Identifier State_{n}",
            f"Other Provider Identifier Issuer_{n}",
        ]
    head += [
        "Is Sole Proprietor",
        "Is Organization Subpart",
        "Parent Organization LBN",
        "Parent Organization TIN",
        "Authorized Official Name Prefix Text",
        "Authorized Official Name Suffix Text",
        "Authorized Official Credential Text",
    ]
    head += [f"Healthcare Provider Taxonomy Group_{n}" for n in range(1, GROUPS + 1)]
    return [*head, "Certification Date"]
