"""One row of an exclusion list, as plain data between a file's parser and the importer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from compliance.screening.names import NameParts


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

    def row(self, source: str, import_id: int) -> dict[str, Any]:
        """The list_entries row (for a bulk insert)."""
        n = self.name
        return {
            "import_id": import_id,
            "source": source,
            "entry_key": self.entry_key,
            "content_hash": self.content_hash,
            "family_norm": " ".join(n.family) if n else None,
            "given_norm": " ".join(n.given) if n else None,
            "middle_norm": " ".join(n.middle) if n else None,
            "business": self.business,
            "npi": self.npi,
            "upin": self.upin,
            "date_of_birth": self.date_of_birth,
            "state": self.state,
            "city": self.city,
            "specialty": self.specialty,
            "starts_on": self.starts_on,
            "ended_on": self.ended_on,
            "end_reason": None,
            "ended_by_import_id": None,
            "record": self.record,
        }


def digest(*parts: object) -> str:
    """A short stable hash of the parts (keys and content fingerprints)."""
    return hashlib.sha1(
        "\x1f".join("" if p is None else str(p) for p in parts).encode()
    ).hexdigest()


def clean_npi(text: str) -> str | None:
    """Ten digits, or None ('0000000000' is LEIE's 'no NPI')."""
    text = text.strip()
    return text if len(text) == 10 and text.isdigit() and text != "0000000000" else None
