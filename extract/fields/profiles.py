"""Per-doc-type knowledge as data (extract/data/profiles.json), one profile per doc_type.

The rules ask a profile ("which fields do the ends of a period fill on this type?") instead
of branching on the type's name, so a new type or a changed role is an edit to the data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True, slots=True)
class Profile:
    also_extract: tuple[str, ...]  # read although the spec does not score them here
    period: tuple[str, str]  # the fields a printed period's two ends fill
    canonical_titles: bool  # match credential titles to the known ones


@cache
def _profiles() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    data = json.loads(resources.files("extract").joinpath("data", "profiles.json").read_text())
    return data["default"], data["profiles"]


@cache
def profile(doc_type: str) -> Profile:
    """The profile of `doc_type`: its own entries over the default's."""
    default, by_type = _profiles()
    merged: dict[str, Any] = {**default, **by_type.get(doc_type, {})}
    start, end = (str(f) for f in merged["period"])
    also = tuple(str(f) for f in merged["also_extract"])
    return Profile(also, (start, end), bool(merged["canonical_titles"]))
