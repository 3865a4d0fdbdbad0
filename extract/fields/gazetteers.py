"""The gazetteers in extract/data/, loaded once per process.

Issuers are checked against known boards, schools, carriers and training bodies; a hit
raises confidence and gives the issuer's canonical spelling and, for boards, the state
and the kind of licence (medical or nursing).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    kind: str  # medical_board, nursing_board, cert_board, life_support, school, carrier, org
    state: str | None = None
    specialties: tuple[str, ...] = ()


@dataclass(slots=True)
class Gazetteers:
    entries: list[Entry] = field(default_factory=list)
    by_lower: dict[str, Entry] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)  # lower-case state name -> code
    abbreviations: dict[str, str] = field(default_factory=dict)  # ABIM -> board name
    courses: list[dict[str, str]] = field(default_factory=list)
    card_titles: dict[str, str] = field(default_factory=dict)  # body -> "{abbr} Provider"
    org_suffixes: list[str] = field(default_factory=list)
    org_prefixes: list[str] = field(default_factory=list)
    specialties: list[str] = field(default_factory=list)
    doc_types: dict[str, dict] = field(default_factory=dict)
    labels: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    names_by_kind: dict[str, list[str]] = field(default_factory=dict)
    all_names: list[str] = field(default_factory=list)

    def add(self, entry: Entry) -> None:
        key = entry.name.lower()
        if key not in self.by_lower:
            self.by_lower[key] = entry
            self.entries.append(entry)
            self.names_by_kind.setdefault(entry.kind, []).append(entry.name)
            self.all_names.append(entry.name)


def _read(name: str) -> str:
    return resources.files("extract").joinpath("data", name).read_text(encoding="utf-8")


def _lines(name: str) -> list[str]:
    return [ln.strip() for ln in _read(name).splitlines() if ln.strip() and not ln.startswith("#")]


@lru_cache(maxsize=1)
def load() -> Gazetteers:
    g = Gazetteers()
    states = json.loads(_read("states.json"))["states"]
    for st in states:
        code, name = st["code"], st["name"]
        g.states[name.lower()] = code
        for board in st["medical_boards"]:
            g.add(Entry(board, "medical_board", code))
        for board in st["nursing_boards"]:
            g.add(Entry(board, "nursing_board", code))
        # the generic forms boards print their names in
        for pattern in (
            "{s} Board of Nursing",
            "{s} State Board of Nursing",
            "State Board of Nursing of {s}",
        ):
            g.add(Entry(pattern.format(s=name), "nursing_board", code))
        for pattern in (
            "{s} Medical Board",
            "{s} State Medical Board",
            "State Medical Board of {s}",
            "{s} Board of Medicine",
            "{s} State Board of Medicine",
            "{s} Board of Medical Examiners",
            "{s} State Board of Medical Examiners",
            "{s} Board of Osteopathic Medicine",
            "{s} Board of Physician Assistants",
        ):
            g.add(Entry(pattern.format(s=name), "medical_board", code))
    boards = json.loads(_read("boards.json"))
    for b in boards["boards"]:
        g.add(Entry(b["name"], "cert_board", None, tuple(b["specialties"])))
        for sp in b["specialties"]:
            if sp not in g.specialties:
                g.specialties.append(sp)
    for sp in boards.get("more_specialties", []):
        if sp not in g.specialties:
            g.specialties.append(sp)
    g.abbreviations = boards["abbreviations"]
    ls = json.loads(_read("life_support.json"))
    for body in ls["bodies"]:
        g.add(Entry(body["name"], "life_support"))
        if "card_title" in body:
            g.card_titles[body["name"]] = body["card_title"]
    g.courses = ls["courses"]
    for name in _lines("schools.txt"):
        g.add(Entry(name, "school"))
    for name in _lines("carriers.txt"):
        g.add(Entry(name, "carrier"))
    orgs = json.loads(_read("organisations.json"))
    for name in orgs["known"]:
        g.add(Entry(name, "org"))
    g.org_suffixes = sorted(orgs["suffixes"], key=len, reverse=True)
    g.org_prefixes = orgs["prefixes"]
    g.doc_types = json.loads(_read("doc_types.json"))["types"]
    g.labels = json.loads(_read("labels.json"))["fields"]
    return g


_STATE_CODE_RE = re.compile(r"\b([A-Z]{2})\b")


def state_in(text: str) -> str | None:
    """The USPS code of the first state named in `text` (longest names first)."""
    g = load()
    low = text.lower()
    best: tuple[int, str] | None = None
    for name, code in g.states.items():
        i = low.find(name)
        if i >= 0 and (i == 0 or not low[i - 1].isalpha()):
            end = i + len(name)
            if end < len(low) and low[end].isalpha():
                continue
            # "West Virginia" must not be read as "Virginia"
            if best is None or i < best[0] or (i == best[0] and len(name) > 0):
                if name == "virginia" and low[max(0, i - 5) : i] == "west ":
                    continue
                best = (i, code)
    return best[1] if best else None
