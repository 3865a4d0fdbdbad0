"""One row of an exclusion list, as plain data between a file's parser and the importer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from compliance.screening.names import NameParts

# the list_entries columns a bulk insert fills, in the order of Entry.row()
ROW_COLUMNS = (
    "import_id", "source", "entry_key", "content_hash", "family_norm", "given_norm",
    "middle_norm", "business", "npi", "upin", "date_of_birth", "state", "city", "specialty",
    "starts_on", "ended_on", "record",
)  # fmt: skip


@dataclass(slots=True)
class Entry:
    entry_key: str
    content_hash: str
    name: NameParts | None
    business: str | None
    npi: str | None
    upin: str | None
    date_of_birth: date | None
    state: str | None
    city: str | None
    specialty: str | None
    starts_on: date | None
    ended_on: date | None  # a reinstatement, a SAM termination, an opt-out's end
    record: dict[str, Any]

    def row(self, source: str, import_id: int) -> tuple[Any, ...]:
        """The list_entries row, in the order of ROW_COLUMNS (the record as JSON text)."""
        n = self.name
        return (
            import_id, source, self.entry_key, self.content_hash,
            " ".join(n.family) if n else None, " ".join(n.given) if n else None,
            " ".join(n.middle) if n else None, self.business, self.npi, self.upin,
            self.date_of_birth, self.state, self.city, self.specialty, self.starts_on,
            self.ended_on, json.dumps(self.record, separators=(",", ":")),
        )  # fmt: skip


def digest(*parts: object) -> str:
    """A short stable hash of the parts (keys and content fingerprints)."""
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()


def clean_npi(text: str) -> str | None:
    """Ten digits, or None ('0000000000' is LEIE's 'no NPI')."""
    text = text.strip()
    return text if len(text) == 10 and text.isdigit() and text != "0000000000" else None


class NamedColumns:
    """A file's columns found by name (SAM, CMS): a row's width checked, values stripped."""

    def __init__(self, header: list[str]) -> None:
        self.header = [h.strip() for h in header]
        self.index = {h: i for i, h in enumerate(self.header)}
        self.width = len(self.header)

    def problem(self, row: list[str]) -> str | None:
        if len(row) != self.width:
            return f"row has {len(row)} values, not {self.width}"
        return None

    def reader(self, row: list[str]) -> Callable[[str], str]:
        ix = self.index

        def value(name: str) -> str:
            i = ix.get(name)
            return row[i].strip() if i is not None else ""

        return value

    def record(self, row: list[str]) -> dict[str, str]:
        return dict(zip(self.header, (c.strip() for c in row), strict=True))


class HeaderParser:
    """A parser of a file whose columns are found by name; subclasses make the Entry."""

    def __init__(self, header: list[str]) -> None:
        self.columns = NamedColumns(header)

    def parse(self, row: list[str]) -> Entry | str:
        if problem := self.columns.problem(row):
            return problem
        return self.entry(self.columns.reader(row), row)

    def entry(self, v: Callable[[str], str], row: list[str]) -> Entry | str:
        raise NotImplementedError
