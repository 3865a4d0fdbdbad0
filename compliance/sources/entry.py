"""One row of an exclusion list, as plain data between a file's parser and the importer."""

from __future__ import annotations

import hashlib
import json
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
