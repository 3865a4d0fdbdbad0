"""Turning form and query text into values, and dataclass views into JSON, shared by the
routes; bad input is `compliance.errors.Invalid` (422, or a message on the form's page)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi.responses import Response

from compliance.errors import Invalid

PDF_HEADERS = {"Cache-Control": "private, no-store"}


def day(value: str | None, what: str) -> date | None:
    """A YYYY-MM-DD day, None when empty."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise Invalid(f"{what}: expected a date like 2026-07-01") from e


def number(value: str | None) -> int | None:
    """A whole number, None when empty."""
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise Invalid(f"not a number: {value[:20]}")
    return int(value)


def plain(value: Any) -> Any:
    """Dataclass dicts as JSON: dates and datetimes as ISO strings."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def as_json(view: Any) -> Any:
    """A dataclass view as JSON."""
    return plain(asdict(view))


def pdf(content: bytes, filename: str) -> Response:
    """A PDF shown in the browser, never cached."""
    return Response(
        content,
        media_type="application/pdf",
        headers={**PDF_HEADERS, "Content-Disposition": f'inline; filename="{filename}"'},
    )
