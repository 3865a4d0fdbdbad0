"""NPPES checks of one clinician: the NPI exists and is active (not deactivated), its name
agrees with ours, and every state licence on file appears in NPPES for that state. Each
mismatch is a finding a person looks at, never a block."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from compliance.screening.match import Person
from compliance.screening.names import compare, from_fields

LICENCE_TYPES = ("medical_license", "nursing_license")


@dataclass(frozen=True)
class Licence:
    state: str
    number: str


def _norm(number: str | None) -> str:
    return re.sub(r"[^A-Z0-9]", "", (number or "").upper()).lstrip("0")


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number).lstrip("0")


def licence_listed(lic: Licence, listed: list[dict[str, Any]]) -> bool:
    """The same number for that state, forgiving punctuation, leading zeros and a letter
    prefix ('MD 012345' and '12345' agree)."""
    ours = _norm(lic.number)
    for item in listed:
        if (item.get("state") or "").upper() != lic.state.upper():
            continue
        theirs = _norm(item.get("license"))
        if theirs and (theirs == ours or (_digits(theirs) and _digits(theirs) == _digits(ours))):
            return True
    return False


def findings(
    person: Person, record: dict[str, Any] | None, licences: list[Licence], on: date
) -> list[str]:
    """What does not agree; an empty list when everything does."""
    if record is None:
        return [f"NPI {person.npi} is not in the NPPES data imported"]
    out: list[str] = []
    deact, react = record.get("deactivated_on"), record.get("reactivated_on")
    if deact and deact <= on and not (react and react >= deact and react <= on):
        out.append(f"NPI deactivated on {deact}")
    if record.get("entity_type") == "2":
        out.append("the NPI belongs to an organisation, not a person")
    else:
        theirs = from_fields(
            record.get("last_name"), record.get("first_name"), record.get("middle_name")
        )
        if not any(compare(r, theirs).agrees for _n, r in person.readings()):
            out.append("the name in NPPES differs from ours")
    listed = list(record.get("licenses") or [])
    for lic in licences:
        if not licence_listed(lic, listed):
            states = {(i.get("state") or "").upper() for i in listed}
            if lic.state.upper() in states:
                out.append(
                    f"licence {lic.number} ({lic.state}) differs from NPPES's for {lic.state}"
                )
            else:
                out.append(f"no licence for {lic.state} in NPPES (ours: {lic.number})")
    return out
