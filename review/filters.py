"""The Jinja filters every page may use, registered once when the app is built."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from jinja2 import Environment

from review import forms


def age(when: datetime | None) -> str:
    """A short "how long ago" for lists: 5 min, 3 h, 2 d."""
    if when is None:
        return ""
    seconds = (datetime.now(UTC) - when).total_seconds()
    if seconds < 90:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def doc_type_label(doc_type: str | None) -> str | None:
    return forms.DOC_TYPE_LABELS.get(doc_type or "unclassified", doc_type)


def register_filters(env: Environment) -> None:
    env.filters["doc_type_label"] = doc_type_label
    env.filters["age"] = age
    env.filters["urlencode_params"] = urlencode
