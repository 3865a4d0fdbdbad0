"""Matching one clinician against the rows of a list, through an index keyed by normalised
(family name, first initial) and by NPI, so 20,000 clinicians against 230,000 rows take
seconds. Levels (each with its reason):

- `match`: the same NPI, or the same full name and date of birth;
- `possible`: the same name (accents, case, compound family names, middle initial against a
  full middle name, "FAMILY, GIVEN" and swapped order forgiven) and no identifier that
  conflicts; whether state, city and specialty agree is said in the reason;
- `clear`: nothing, or a name match that a different NPI or date of birth rules out.

A location that differs does not make a name match `clear`: people move, and a real
exclusion left clear is the one error a credentialing office cannot make.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from compliance.screening.names import NameAgreement, NameParts, compare, fold, readings


@dataclass(frozen=True, slots=True)
class ListRow:
    """A list row as screening needs it: names already normalised (fold) at import, the
    date of birth as ISO text (compared as text: no date parsing for 230,000 rows)."""

    id: int
    entry_key: str
    content_hash: str
    family: str | None
    given: str | None
    middle: str | None
    npi: str | None
    date_of_birth: str | None
    state: str | None
    city: str | None
    specialty: str | None

    @property
    def name(self) -> NameParts | None:
        if not self.family or not self.given:
            return None
        given = self.given.split()
        return NameParts(tuple(given[:1]), tuple(given[1:] + (self.middle or "").split()),
                         tuple(self.family.split()))  # fmt: skip


@dataclass(frozen=True)
class Person:
    provider_id: int
    names: tuple[str, ...]  # the current name first, then former / maiden names
    npi: str | None
    date_of_birth: date | None
    states: frozenset[str]
    specialty: str | None = None

    def readings(self) -> list[tuple[str, NameParts]]:
        return [(name, r) for name in self.names for r in readings(name)]


@dataclass(frozen=True)
class Verdict:
    result: str  # match, possible, clear
    reason: str
    row: ListRow | None


class ListIndex:
    """The rows of one list in force, by (family key, initial) and by NPI."""

    def __init__(self, rows: Iterable[ListRow]) -> None:
        self.by_name: dict[tuple[str, str], list[ListRow]] = defaultdict(list)
        self.by_npi: dict[str, list[ListRow]] = defaultdict(list)
        self.size = 0
        by_name = self.by_name
        for row in rows:
            self.size += 1
            family, given = row.family, row.given
            if family and given:
                initial = given[0]
                key = family.replace(" ", "")
                by_name[(key, initial)].append(row)
                if " " in family:  # each part of a compound family name
                    for part in family.split():
                        if len(part) > 1 and part != key:
                            by_name[(part, initial)].append(row)
            if row.npi:
                self.by_npi[row.npi].append(row)

    def candidates(self, person: Person, parts: list[tuple[str, NameParts]]) -> list[ListRow]:
        found: dict[int, ListRow] = {}
        for _name, reading in parts:
            for key in reading.index_keys():
                for row in self.by_name.get(key, ()):
                    found[row.id] = row
        if person.npi:
            for row in self.by_npi.get(person.npi, ()):
                found[row.id] = row
        return list(found.values())


def _best_name(
    parts: list[tuple[str, NameParts]], theirs: NameParts | None
) -> tuple[str, NameAgreement] | None:
    if theirs is None:
        return None
    best: tuple[str, NameAgreement] | None = None
    for name, reading in parts:
        a = compare(reading, theirs)
        if a.agrees and (
            best is None
            or (a.full and not best[1].full)
            or (a.full == best[1].full and len(a.notes) < len(best[1].notes))
        ):
            best = (name, a)
    return best


def _name_note(person: Person, name: str, agreement: NameAgreement) -> str:
    said = "same full name" if agreement.full else "same name"
    if agreement.notes:
        said += " (" + ", ".join(agreement.notes) + ")"
    if name != person.names[0]:
        said += " under a former name"
    return said


def _place_notes(person: Person, row: ListRow) -> list[str]:
    notes: list[str] = []
    if row.state and person.states:
        if row.state in person.states:
            notes.append(f"state agrees ({row.state})")
        else:
            notes.append(
                f"state differs (list {row.state}, ours {', '.join(sorted(person.states))})"
            )
    if row.specialty and person.specialty:
        a, b = set(fold(row.specialty).split()), set(fold(person.specialty).split())
        if a & b:
            notes.append("specialty agrees")
    return notes


def judge(person: Person, parts: list[tuple[str, NameParts]], row: ListRow) -> Verdict | None:
    """The verdict on one candidate row; None when it does not concern this person."""
    npi_same = bool(person.npi and row.npi and person.npi == row.npi)
    npi_differs = bool(person.npi and row.npi and person.npi != row.npi)
    ours_dob = person.date_of_birth.isoformat() if person.date_of_birth else None
    theirs_dob = str(row.date_of_birth)[:10] if row.date_of_birth else None
    dob_same = bool(ours_dob and theirs_dob == ours_dob)
    dob_differs = bool(ours_dob and theirs_dob and theirs_dob != ours_dob)
    named = _best_name(parts, row.name)
    if npi_same:
        said = _name_note(person, *named) if named else "the name differs"
        return Verdict("match", f"same NPI {row.npi}; {said}", row)
    if named is None:
        return None
    said = _name_note(person, *named)
    if npi_differs:
        return Verdict("clear", f"{said}, but ruled out: the list's NPI {row.npi} is not ours", row)
    if dob_differs:
        return Verdict("clear", f"{said}, but ruled out: the date of birth differs", row)
    if dob_same and named[1].full:
        return Verdict("match", "same full name and date of birth", row)
    notes = [said]
    if dob_same:
        notes.append("date of birth agrees")
    else:
        notes.append("no NPI or date of birth on both sides to compare")
    notes.extend(_place_notes(person, row))
    return Verdict("possible", "; ".join(notes), row)


def screen_person(person: Person, index: ListIndex) -> list[Verdict]:
    """Every hit (match / possible) for this person, else one clear verdict (naming a row a
    conflicting identifier ruled out, when there was one)."""
    parts = person.readings()
    hits: list[Verdict] = []
    ruled_out: list[Verdict] = []
    for row in index.candidates(person, parts):
        v = judge(person, parts, row)
        if v is None:
            continue
        (ruled_out if v.result == "clear" else hits).append(v)
    if hits:
        return sorted(hits, key=lambda v: (v.result != "match", v.row.id if v.row else 0))
    if ruled_out:
        return [ruled_out[0]]
    return [
        Verdict("clear", f"no row of the list names this clinician ({index.size} in force)", None)
    ]
