"""What people read of the screening: a clinician's results (latest per list, or the whole
history), the queue of open hits with the list's row beside our record, and the imports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from compliance.screening.names import fold
from compliance.screening.run import LIST_LABELS, npi_record_json
from models import Provider
from models.screening import ListEntry, NpiRecord, ScreeningResult, SourceImport


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def _records(session: Session, rows: list[ScreeningResult]) -> dict[int, dict[str, Any]]:
    """The list row (or NPPES record) each result is about."""
    out: dict[int, dict[str, Any]] = {}
    entry_ids = {r.entry_id for r in rows if r.entry_id}
    entries = {
        e.id: e.record
        for e in session.scalars(select(ListEntry).where(ListEntry.id.in_(entry_ids)))
    }
    npis = {r.npi for r in rows if r.source == "nppes" and r.npi}
    recs = {
        n.npi: _json(npi_record_json(n))
        for n in session.scalars(select(NpiRecord).where(NpiRecord.npi.in_(npis)))
    }
    for r in rows:
        if r.entry_id in entries:
            out[r.id] = dict(entries[r.entry_id])
        elif r.source == "nppes" and r.npi in recs:
            out[r.id] = recs[r.npi]
        else:
            out[r.id] = {}
    return out


def result_json(r: ScreeningResult, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r.id,
        "source": r.source,
        "result": r.result,
        "status": r.status,
        "reason": r.reason,
        "record": record,
        "list_date": r.list_date.isoformat() if r.list_date else None,
        "screened_at": r.screened_at.isoformat(),
        "screened_on": r.screened_on.isoformat(),
        "decided_by": r.decided_by,
        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
        "decision_reason": r.decision_reason,
    }


def provider_screenings(
    session: Session, provider_id: int, *, history: bool = False
) -> list[dict[str, Any]]:
    """The latest screening against each list (every result of it), or with `history`
    every screening ever, newest first."""
    q = select(ScreeningResult).where(ScreeningResult.provider_id == provider_id)
    if not history:
        latest = (
            select(func.max(ScreeningResult.id))
            .where(ScreeningResult.provider_id == provider_id)
            .group_by(ScreeningResult.source)
        )
        runs = select(ScreeningResult.run_id).where(ScreeningResult.id.in_(latest))
        q = q.where(ScreeningResult.run_id.in_(runs))
    rows = list(session.scalars(q.order_by(ScreeningResult.id.desc())))
    records = _records(session, rows)
    return [result_json(r, records[r.id]) for r in rows]


@dataclass(frozen=True)
class Compared:
    label: str
    ours: str
    theirs: str
    differs: bool


@dataclass(frozen=True)
class HitView:
    id: int
    provider_id: int
    provider: str
    source: str
    list_label: str
    result: str
    reason: str
    list_date: date | None
    screened_on: date
    rows: list[Compared]


def _theirs(source: str, rec: dict[str, Any]) -> dict[str, str]:
    g = rec.get
    if source == "oig_leie":
        name = " ".join(x for x in (g("FIRSTNAME"), g("MIDNAME"), g("LASTNAME")) if x)
        return {
            "name": name or g("BUSNAME") or "",
            "npi": g("NPI") or "",
            "dob": g("DOB") or "",
            "state": g("STATE") or "",
            "city": g("CITY") or "",
            "specialty": g("SPECIALTY") or g("GENERAL") or "",
        }
    if source == "sam":
        name = " ".join(x for x in (g("First"), g("Middle"), g("Last")) if x)
        return {
            "name": name or g("Name") or "",
            "npi": g("NPI") or "",
            "dob": "",
            "state": g("State / Province") or "",
            "city": g("City") or "",
            "specialty": "",
        }
    if source == "cms_optout":
        return {
            "name": f"{g('First Name') or ''} {g('Last Name') or ''}".strip(),
            "npi": g("NPI") or "",
            "dob": "",
            "state": g("State Code") or "",
            "city": g("City Name") or "",
            "specialty": g("Specialty") or "",
        }
    name = " ".join(x for x in (g("first_name"), g("middle_name"), g("last_name")) if x)
    lic = ", ".join(
        f"{i.get('state')} {i.get('license')}" for i in g("licenses") or [] if i.get("license")
    )
    return {
        "name": name or g("organization") or "",
        "npi": g("npi") or "",
        "dob": "",
        "state": lic,
        "city": "",
        "specialty": g("credential") or "",
    }


def _compare(p: Provider, source: str, rec: dict[str, Any]) -> list[Compared]:
    t = _theirs(source, rec)
    ours = {
        "name": p.name + (f" (also {', '.join(p.other_names)})" if p.other_names else ""),
        "npi": p.npi or "",
        "dob": p.date_of_birth.isoformat() if p.date_of_birth else "",
        "state": ", ".join(p.states or []),
        "city": "",
        "specialty": (p.staff_category or "").replace("_", " "),
    }
    labels = {
        "name": "Name",
        "npi": "NPI",
        "dob": "Date of birth",
        "state": "State",
        "city": "City",
        "specialty": "Specialty",
    }
    out = []
    for key, label in labels.items():
        a, b = ours[key], t[key]
        if key == "npi" and b == "0000000000":
            b = ""
        if key == "name":
            differs = bool(a and b) and not (set(fold(b).split()) <= set(fold(a).split()))
        elif key == "state":
            differs = bool(a and b) and not any(s.strip() in b for s in a.split(","))
        elif key == "dob":
            differs = False if not (a and b) else a.replace("-", "") not in (b, _dob_iso(b))
        else:
            differs = bool(a and b) and fold(a) != fold(b)
        out.append(Compared(label, a, b, differs))
    return out


def _dob_iso(text: str) -> str:
    from compliance.sources.files import any_date

    try:
        d = any_date(text, past=True)
    except ValueError:
        return text
    return d.strftime("%Y%m%d") if d else text


def open_hits(session: Session, *, limit: int = 300) -> list[HitView]:
    """Open hits of each clinician's latest screening, matches first."""
    latest = select(func.max(ScreeningResult.id)).group_by(
        ScreeningResult.provider_id, ScreeningResult.source
    )
    runs = select(ScreeningResult.run_id).where(ScreeningResult.id.in_(latest)).distinct()
    q = (
        select(ScreeningResult, Provider)
        .join(Provider, Provider.id == ScreeningResult.provider_id)
        .where(ScreeningResult.status == "open", ScreeningResult.run_id.in_(runs))
        .order_by(ScreeningResult.result, ScreeningResult.id)  # match before possible
        .limit(limit)
    )
    pairs = [(r, p) for r, p in session.execute(q)]
    records = _records(session, [r for r, _ in pairs])
    return [
        HitView(
            r.id,
            p.id,
            p.name,
            r.source,
            LIST_LABELS[r.source],
            r.result,
            r.reason,
            r.list_date,
            r.screened_on,
            _compare(p, r.source, records[r.id]),
        )
        for r, p in pairs
    ]


def imports(session: Session, *, limit: int = 200) -> list[SourceImport]:
    return list(session.scalars(select(SourceImport).order_by(SourceImport.id.desc()).limit(limit)))


def hit_json(h: HitView) -> dict[str, Any]:
    return {
        "id": h.id,
        "provider_id": h.provider_id,
        "source": h.source,
        "result": h.result,
        "reason": h.reason,
        "list_date": h.list_date.isoformat() if h.list_date else None,
    }


def import_json(i: SourceImport) -> dict[str, Any]:
    return {
        "id": i.id,
        "source": i.source,
        "kind": i.kind,
        "file_name": i.file_name,
        "sha256": i.sha256,
        "list_date": i.list_date.isoformat() if i.list_date else None,
        "rows_read": i.rows_read,
        "rows_kept": i.rows_kept,
        "rows_rejected": i.rows_rejected,
        "rejections": i.rejections,
        "rows_ended": i.rows_ended,
        "imported_at": i.imported_at.isoformat(),
        "imported_by": i.imported_by,
    }
