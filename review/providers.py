"""Finding the provider a document belongs to: search by name or NPI, and suggestions for a
document (same NPI first, then names that look alike, typos and word order forgiven)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils
from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from models import Document, DocumentField, Provider
from models.search import matching_providers, providers_with_any_word

# below this a name is too unlike to suggest
NAME_CUTOFF = 70.0
# providers compared by name at most
SCAN_LIMIT = 20_000


@dataclass(frozen=True)
class Suggestion:
    provider_id: int
    name: str
    npi: str | None
    score: float  # 0..100
    reason: str  # "npi" or "name"


def search_providers(
    session: Session, q: str, *, limit: int = 20, offset: int = 0
) -> list[Provider]:
    """Providers whose NPI starts with the digits typed, or whose name holds every word."""
    q = q.strip()
    query = select(Provider)
    digits = re.sub(r"\D", "", q)
    if q and digits == q.replace(" ", ""):
        query = query.where(Provider.npi.startswith(digits))
    else:
        # every word starts a word of the name: from the search-term index, not a LIKE scan
        named = matching_providers(q)
        if named is not None:
            query = query.where(Provider.id.in_(named))
        elif q:  # only punctuation: nothing is named like that
            query = query.where(false())
    return list(
        session.scalars(query.order_by(Provider.name, Provider.id).limit(limit).offset(offset))
    )


def escape_like(word: str) -> str:
    """Text for a LIKE pattern with `escape="\\"`: its % and _ match themselves."""
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _proposed(session: Session, document_id: int) -> dict[str, str]:
    rows = session.execute(
        select(DocumentField.name, DocumentField.value).where(
            DocumentField.document_id == document_id,
            DocumentField.name.in_(("person_name", "npi")),
            DocumentField.value.is_not(None),
        )
    )
    return {name: value for name, value in rows if value is not None}


def suggest_for_names(
    session: Session, names: list[str], *, npi: str | None = None, limit: int = 5
) -> list[Suggestion]:
    """Providers with this NPI, then providers whose names are like any of `names`."""
    found: dict[int, Suggestion] = {}
    if npi:
        for p in session.scalars(select(Provider).where(Provider.npi == npi).limit(limit)):
            found[p.id] = Suggestion(p.id, p.name, p.npi, 100.0, "npi")
    names = [n for n in names if n and n.strip()]
    if names and len(found) < limit:
        query = select(Provider.id, Provider.name, Provider.npi).where(Provider.active)
        words = {w for n in names for w in re.findall(r"[^\W\d_]{3,}", n)}
        rows = []
        sharing = providers_with_any_word(words)
        if sharing is not None:  # first the providers sharing a word with the name: few rows
            rows = list(session.execute(query.where(Provider.id.in_(sharing)).limit(SCAN_LIMIT)))
        if not rows:  # a misread name shares no word: compare against everyone (bounded)
            rows = list(session.execute(query.limit(SCAN_LIMIT)))
        choices = {r.id: r.name for r in rows if r.id not in found}
        info = {r.id: r for r in rows}
        best: dict[int, float] = {}
        for name in names:
            for _choice, score, pid in process.extract(
                name,
                choices,
                scorer=fuzz.token_sort_ratio,
                processor=utils.default_process,
                limit=limit,
                score_cutoff=NAME_CUTOFF,
            ):
                best[pid] = max(best.get(pid, 0.0), float(score))
        for pid, score in sorted(best.items(), key=lambda kv: -kv[1]):
            r = info[pid]
            found.setdefault(pid, Suggestion(pid, r.name, r.npi, round(score, 1), "name"))
    return list(found.values())[:limit]


def suggest_providers(session: Session, document_id: int, *, limit: int = 5) -> list[Suggestion]:
    """Suggestions for a document: its proposed NPI, its proposed name and the inbox
    subfolder it came from (often the person's name)."""
    doc = session.get(Document, document_id)
    if doc is None:
        return []
    proposed = _proposed(session, document_id)
    names = [proposed.get("person_name") or ""]
    if doc.hint:
        names.append(doc.hint.replace("/", " ").replace("_", " "))
    return suggest_for_names(session, names, npi=proposed.get("npi"), limit=limit)


def count_providers(session: Session) -> int:
    return int(session.scalar(select(func.count(Provider.id))) or 0)
