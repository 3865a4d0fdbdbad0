"""The review form: which fields a doc_type shows (spec order), their labels, how sure the
machine was, and what the coordinator sent back.

The spec's table of fields per doc_type comes from `models.spec`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from models import spec
from models.spec import DOC_TYPES, FIELD_NAMES, FIELDS_BY_TYPE, fields_for

__all__ = ["DOC_TYPES", "FIELDS_BY_TYPE", "FIELD_NAMES", "fields_for"]

DOC_TYPE_LABELS: dict[str, str] = {**spec.DOC_TYPE_LABELS, "unclassified": "Not yet classified"}

FIELD_LABELS: dict[str, str] = {
    "person_name": "Name",
    "credential_number": "Number",
    "issuer": "Issuer",
    "jurisdiction": "State",
    "credential_title": "Title",
    "issue_date": "Issued",
    "expiration_date": "Expires",
    "start_date": "Start date",
    "end_date": "End date",
    "npi": "NPI",
    "schedules": "DEA schedules",
    "credit_hours": "Credit hours",
    "referee_name": "Referee",
}

FIELD_HINTS: dict[str, str] = {
    "jurisdiction": "two-letter code, e.g. OH",
    "issue_date": "YYYY-MM-DD",
    "expiration_date": "YYYY-MM-DD",
    "start_date": "YYYY-MM-DD",
    "end_date": "YYYY-MM-DD",
    "npi": "10 digits",
    "schedules": "e.g. 2,2N,3,3N,4,5",
    "credit_hours": "e.g. 12.5",
}

# what the coordinator says about a field besides its value
STATE_CONFIRMED = "confirmed"
STATE_UNSURE = "unsure"  # printed on the document but cannot be read: sent as null
STATE_ABSENT = "absent"  # not on the document: left out
STATES = (STATE_CONFIRMED, STATE_UNSURE, STATE_ABSENT)

# below this the field is one "that needs attention": the cursor stops there
ATTENTION_BELOW = 0.9


def confidence_level(confidence: float | None, has_value: bool) -> str:
    """high / medium / low / missing: shown as a colour and an icon together."""
    if not has_value or confidence is None:
        return "missing"
    if confidence >= ATTENTION_BELOW:
        return "high"
    if confidence >= 0.6:
        return "medium"
    return "low"


@dataclass
class FieldView:
    """One row of the review form."""

    name: str
    value: str
    machine_value: str | None
    confidence: float | None
    page: int | None
    box: list[float] | None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    state: str = STATE_CONFIRMED
    proposed: bool = True  # the machine proposed this field
    error: str | None = None  # why the last approval refused the value
    # where the proposal came from when not the rules alone ("from 3 confirmed documents ...")
    source: str | None = None

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.name, self.name.replace("_", " ").capitalize())

    @property
    def hint(self) -> str:
        return FIELD_HINTS.get(self.name, "")

    @property
    def level(self) -> str:
        return confidence_level(self.confidence, bool(self.machine_value))

    @property
    def needs_attention(self) -> bool:
        return bool(self.problems) or self.level != "high"

    @property
    def percent(self) -> int | None:
        return None if self.confidence is None else round(self.confidence * 100)

    @property
    def box_json(self) -> str:
        if not self.box or not self.page:
            return ""
        return json.dumps([self.page, *[round(float(c), 5) for c in self.box]])


@dataclass
class Submitted:
    """The form as sent: values per field (None = unsure), and the boxes the person drew."""

    doc_type: str
    values: dict[str, str | None]
    boxes: dict[str, list[float]]
    provider_id: int | None
    states: dict[str, str]


def parse_box(raw: str) -> list[float] | None:
    """`[page, x0, y0, x1, y1]` as JSON, fractions checked to lie within the page."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, list) or len(data) != 5:
        return None
    try:
        page = int(data[0])
        coords = [float(c) for c in data[1:]]
    except (TypeError, ValueError):
        return None
    if page < 1 or not all(0.0 <= c <= 1.0 for c in coords):
        return None
    return [page, *coords]


def parse_submission(form: Any, fallback_type: str | None) -> Submitted:
    """Read the review form: `FIELD` (value), `FIELD__state`, `FIELD__box`, `doc_type`,
    `provider_id` ("" or "new" creates the provider from the confirmed name)."""
    doc_type = str(form.get("doc_type") or fallback_type or "other")
    if doc_type not in FIELDS_BY_TYPE:
        doc_type = "other"
    values: dict[str, str | None] = {}
    boxes: dict[str, list[float]] = {}
    states: dict[str, str] = {}
    for name in fields_for(doc_type):
        state = str(form.get(f"{name}__state") or STATE_CONFIRMED)
        if state not in STATES:
            state = STATE_CONFIRMED
        raw = form.get(name)
        value = " ".join(str(raw).split()) if raw is not None else ""
        if state == STATE_CONFIRMED and not value:
            state = STATE_ABSENT
        states[name] = state
        if state == STATE_ABSENT:
            continue
        values[name] = value if state == STATE_CONFIRMED else None
        box = parse_box(str(form.get(f"{name}__box") or ""))
        if box is not None:
            boxes[name] = box
    raw_provider = str(form.get("provider_id") or "").strip()
    provider_id = int(raw_provider) if raw_provider.isdigit() else None
    return Submitted(doc_type, values, boxes, provider_id, states)
