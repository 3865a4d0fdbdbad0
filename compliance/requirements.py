"""Requirement sets as data: which credentials each staff category (and state) must hold.

The rules live in YAML (`compliance/data/requirements.yaml` by default) so the office can
change them without code; this module loads and validates them with pydantic and answers
"which rules apply to this clinician on this date". A version applies from its effective
date; older versions stay loaded so the status on a past date can be recomputed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

DEFAULT_FILE = Path(__file__).parent / "data" / "requirements.yaml"

DocType = Literal[
    "medical_license",
    "nursing_license",
    "dea_registration",
    "board_certification",
    "diploma",
    "training_certificate",
    "life_support_card",
    "cme_certificate",
    "malpractice_insurance",
    "reference_letter",
    "employment_verification",
]

_USPS_CODES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
    "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP"
)
USPS = frozenset(_USPS_CODES.split())
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class RequirementsError(ValueError):
    """A requirements file that cannot be used; the message names the file, set and key."""


class Requirement(BaseModel):
    """One credential a clinician must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    label: str
    doc_type: DocType
    # any one of these words in the credential title matches (case-insensitive)
    match: tuple[str, ...] = ()
    # one credential per state of practice, matched on the credential's jurisdiction
    per_state: bool = False
    # how long it stays valid when the document prints no expiration date
    validity_months: int | None = Field(default=None, ge=1, le=600)
    # only for clinicians of these departments (case-insensitive); empty = everyone
    departments: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("must be lower_case letters, digits and _ (e.g. bls)")
        return v

    def matches_title(self, title: str | None) -> bool:
        if not self.match:
            return True
        return _title_pattern(self.match).search((title or "").casefold()) is not None

    def applies_to_department(self, department: str | None) -> bool:
        if not self.departments:
            return True
        dep = (department or "").casefold().strip()
        return any(d.casefold().strip() == dep for d in self.departments)


@functools.lru_cache(maxsize=256)
def _title_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of the words, as whole words, in a case-folded title."""
    alternatives = "|".join(re.escape(w.casefold()) for w in words)
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])")


class RequirementSet(BaseModel):
    """The items for one staff category; with `state`, additions for clinicians there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str
    state: str | None = None
    requirements: tuple[Requirement, ...] = ()
    remove: tuple[str, ...] = ()
    cme_hours: float | None = Field(default=None, ge=0)
    cme_period_months: int | None = Field(default=None, ge=1, le=120)

    @field_validator("state")
    @classmethod
    def _state_code(cls, v: str | None) -> str | None:
        if v is not None and v.upper() not in USPS:
            raise ValueError(f"{v!r} is not a USPS state code (e.g. CA)")
        return v.upper() if v else v

    @model_validator(mode="after")
    def _unique_ids(self) -> RequirementSet:
        seen: set[str] = set()
        for r in self.requirements:
            if r.id in seen:
                raise ValueError(f"requirement id {r.id!r} appears twice")
            seen.add(r.id)
        if self.remove and self.state is None:
            raise ValueError("`remove` is only for state sets (it drops items of the base set)")
        return self

    @property
    def name(self) -> str:
        return f"{self.category}/{self.state}" if self.state else self.category


class RequirementVersion(BaseModel):
    """All sets that apply from `effective` until the next version's date."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    effective: date
    source: str | None = None
    verification_days: int = Field(default=120, ge=1, le=3650)
    recredential_months: int = Field(default=36, ge=1, le=120)
    at_risk_days: int = Field(default=60, ge=0, le=3650)
    sets: tuple[RequirementSet, ...] = ()
    # resolved rules per (category, states, department): thousands of clinicians share a few
    _resolved: dict[tuple[Any, ...], ProviderRules | None] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique_sets(self) -> RequirementVersion:
        seen: set[tuple[str, str | None]] = set()
        for s in self.sets:
            if (s.category, s.state) in seen:
                raise ValueError(f"set {s.name!r} appears twice")
            seen.add((s.category, s.state))
        for s in self.sets:
            if s.state is None:
                continue
            if (s.category, None) not in seen:
                raise ValueError(f"set {s.name!r} has no base set for category {s.category!r}")
            base = self.base_set(s.category)
            ids = {r.id for r in base.requirements} if base else set()
            for rid in s.remove:
                if rid not in ids:
                    raise ValueError(
                        f"set {s.name!r} removes {rid!r}, which the {s.category!r} set lacks"
                    )
        return self

    def base_set(self, category: str) -> RequirementSet | None:
        return next((s for s in self.sets if s.category == category and s.state is None), None)

    @property
    def categories(self) -> list[str]:
        return sorted({s.category for s in self.sets})

    def rules_for(
        self, category: str | None, states: tuple[str, ...] = (), department: str | None = None
    ) -> ProviderRules | None:
        """The items for one clinician: the category's base set, plus its state sets for
        each state of practice (a state item replaces the base item of the same id)."""
        key = (category, states, (department or "").casefold().strip())
        if key not in self._resolved:
            self._resolved[key] = self._resolve(category, states, department)
        return self._resolved[key]

    def _resolve(
        self, category: str | None, states: tuple[str, ...], department: str | None
    ) -> ProviderRules | None:
        if not category:
            return None
        base = self.base_set(category)
        if base is None:
            return None
        items: dict[str, Requirement] = {r.id: r for r in base.requirements}
        cme_hours = base.cme_hours or 0.0
        cme_period = base.cme_period_months or self.recredential_months
        for s in self.sets:
            if s.category != category or s.state is None or s.state not in states:
                continue
            for rid in s.remove:
                items.pop(rid, None)
            for r in s.requirements:
                items[r.id] = r
            # the strictest state rule wins
            if s.cme_hours is not None and s.cme_hours > cme_hours:
                cme_hours = s.cme_hours
                cme_period = s.cme_period_months or cme_period
        chosen = tuple(r for r in items.values() if r.applies_to_department(department))
        return ProviderRules(
            version=self.version,
            effective=self.effective,
            requirements=chosen,
            verification_days=self.verification_days,
            recredential_months=self.recredential_months,
            at_risk_days=self.at_risk_days,
            cme_hours=cme_hours,
            cme_period_months=cme_period,
        )


@dataclass(frozen=True)
class ProviderRules:
    """The resolved rules for one clinician under one version."""

    version: str
    effective: date
    requirements: tuple[Requirement, ...]
    verification_days: int
    recredential_months: int
    at_risk_days: int
    cme_hours: float
    cme_period_months: int


class RequirementsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    versions: tuple[RequirementVersion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> RequirementsFile:
        names = [v.version for v in self.versions]
        dates = [v.effective.isoformat() for v in self.versions]
        for label, values in (("version name", names), ("effective date", dates)):
            dup = {str(x) for x in values if values.count(x) > 1}
            if dup:
                raise ValueError(f"{label} {', '.join(sorted(dup))} appears twice")
        return self


@dataclass(frozen=True)
class Requirements:
    """Every version of the rules, oldest first."""

    versions: tuple[RequirementVersion, ...]
    source: str

    def version_on(self, day: date) -> RequirementVersion:
        """The version in force on `day` (the oldest one before any effective date)."""
        current = self.versions[0]
        for v in self.versions:
            if v.effective <= day:
                current = v
        return current

    def version(self, name: str) -> RequirementVersion:
        for v in self.versions:
            if v.version == name:
                return v
        raise KeyError(f"no requirement version {name!r} in {self.source}")

    def upcoming(self, day: date) -> list[RequirementVersion]:
        """Versions that take effect after `day`: the subject of a what-if report."""
        return [v for v in self.versions if v.effective > day]

    def previous(self, version: RequirementVersion) -> RequirementVersion | None:
        older = [v for v in self.versions if v.effective < version.effective]
        return older[-1] if older else None


def load_requirements(path: Path | str | None = None) -> Requirements:
    """Load and validate a requirements file (the shipped default when `path` is None)."""
    file = Path(path) if path is not None else DEFAULT_FILE
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as e:
        raise RequirementsError(f"{file}: cannot read the requirements file ({e.strerror})") from e
    return parse_requirements(text, source=str(file))


def parse_requirements(text: str, *, source: str = "<requirements>") -> Requirements:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise RequirementsError(f"{source}:{where}: not valid YAML: {problem}") from e
    if not isinstance(raw, dict):
        raise RequirementsError(f"{source}: expected a mapping with a `versions:` list")
    try:
        parsed = RequirementsFile.model_validate(raw)
    except ValidationError as e:
        errors = e.errors()
        # an empty-list complaint that only echoes errors inside the list is noise
        if len(errors) > 1:
            errors = [err for err in errors if err["type"] != "too_short"] or errors
        lines = [f"{source}: {_describe(raw, err)}" for err in errors]
        raise RequirementsError("\n".join(lines)) from e
    versions = tuple(sorted(parsed.versions, key=lambda v: v.effective))
    return Requirements(versions=versions, source=source)


def _describe(raw: Any, err: Any) -> str:
    """Turn pydantic's location (versions.0.sets.2.requirements.1.doc_type) into names:
    version '2025', set 'physician/CA', requirement 'bls', key 'doc_type'."""
    parts: list[str] = []
    node: Any = raw
    loc = list(err["loc"])
    i = 0
    key: str | None = None
    while i < len(loc):
        step = loc[i]
        nxt = loc[i + 1] if i + 1 < len(loc) else None
        if step in ("versions", "sets", "requirements") and isinstance(nxt, int):
            node = node.get(step) if isinstance(node, dict) else None
            item = node[nxt] if isinstance(node, list) and nxt < len(node) else None
            label = {"versions": "version", "sets": "set", "requirements": "requirement"}[step]
            parts.append(f"{label} {_name_of(step, item, nxt)}")
            node = item
            i += 2
            continue
        key = ".".join(str(x) for x in loc[i:])
        break
    if key:
        parts.append(f"key {key!r}")
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if err["type"] == "extra_forbidden":
        message = "unknown key (check its spelling)"
    if err["type"] == "literal_error" and key and key.endswith("doc_type"):
        message = f"unknown doc_type {err.get('input')!r}; {message}"
    return f"{', '.join(parts) or 'top level'}: {message}"


def _name_of(step: str, item: Any, index: int) -> str:
    if isinstance(item, dict):
        if step == "versions" and item.get("version") is not None:
            return repr(str(item["version"]))
        if step == "sets" and item.get("category"):
            state = item.get("state")
            return repr(f"{item['category']}/{state}" if state else str(item["category"]))
        if step == "requirements" and item.get("id"):
            return repr(str(item["id"]))
    return f"#{index + 1}"
