"""The screening pass (`credflow screen`, and `credflow run` after each import and monthly):
every active clinician, under every name they have had, against every list in force on the
day, plus the NPPES checks. Each clinician gets one result per list (one per hit when the
list names them), kept forever as the evidence of the query. A hit whose data (ours and the
list row's) is unchanged since a person decided on it keeps that decision; a confirmed
exclusion whose row is no longer in force (reinstated, or absent from a later full list) is
closed with the reason."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy.orm import Session

from compliance.screening.match import ListIndex, ListRow, Person, Verdict, screen_person
from compliance.screening.nppes_check import LICENCE_TYPES, Licence, findings
from compliance.sources.bulk import insert_rows
from compliance.sources.entry import digest
from models import Credential, Database, Provider, record_event
from models.base import utcnow
from models.compliance import Deviation, DeviationStatus
from models.provider import APPLICANT_STATUSES
from models.screening import ListEntry, NpiRecord, ScreeningResult, SourceImport

LISTS = ("oig_leie", "sam", "cms_optout")
LIST_LABELS = {
    "oig_leie": "the OIG exclusion list (LEIE)",
    "sam": "SAM.gov exclusions",
    "cms_optout": "the Medicare opt-out list",
    "nppes": "the NPI registry (NPPES)",
}
# deviation kinds that screening opens and closes (the compliance pass leaves them alone)
DEVIATION_KINDS = {"oig_leie": "exclusion", "sam": "exclusion", "cms_optout": "optout"}
RESULT_COLUMNS = tuple(
    c.name for c in cast(Table, ScreeningResult.__table__).columns if c.name != "id"
)
CHUNK = 900


@dataclass
class ScreenSummary:
    on: date
    run_id: str
    providers: int = 0
    sources: list[str] = field(default_factory=list)
    results: Counter[str] = field(default_factory=Counter)  # "oig_leie:possible" -> n
    raised: int = 0  # hits left open for a person
    kept_decisions: int = 0  # hits whose earlier decision stands (unchanged data)
    closed: list[int] = field(default_factory=list)  # deviations closed
    seconds: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [
            f"screened {self.providers} clinician(s) on {self.on} against "
            f"{', '.join(self.sources) or 'no list (import one first)'}"
        ]
        for src in self.sources:
            parts = [
                f"{n} {k.split(':')[1]}"
                for k, n in sorted(self.results.items())
                if k.startswith(src + ":")
            ]
            out.append(f"  {src}: " + ", ".join(parts))
        out.append(
            f"  open hits raised: {self.raised}; earlier decisions kept: "
            f"{self.kept_decisions}; exclusions closed: {len(self.closed)}"
        )
        return out


def load_people(session: Session, provider_ids: list[int] | None = None) -> list[Person]:
    q = select(
        Provider.id,
        Provider.name,
        Provider.npi,
        Provider.date_of_birth,
        Provider.states,
        Provider.other_names,
        Provider.staff_category,
    ).where(or_(Provider.active.is_(True), Provider.status.in_(APPLICANT_STATUSES)))
    if provider_ids is not None:
        q = q.where(Provider.id.in_(provider_ids))
    people = []
    for r in session.execute(q.order_by(Provider.id)):
        names = tuple(dict.fromkeys([r.name, *[n for n in (r.other_names or []) if n]]))
        people.append(
            Person(
                r.id,
                names,
                r.npi,
                r.date_of_birth,
                frozenset(r.states or []),
                (r.staff_category or "").replace("_", " ") or None,
            )
        )
    return people


def in_force(on: date) -> Any:
    return and_(
        or_(ListEntry.starts_on.is_(None), ListEntry.starts_on <= on),
        or_(ListEntry.ended_on.is_(None), ListEntry.ended_on > on),
    )


def load_index(session: Session, source: str, on: date) -> ListIndex:
    """The rows of `source` in force on `on`, read through the driver (no per-value
    processing: a quarter of a million rows)."""
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    day: Any = on.isoformat() if conn.dialect.name == "sqlite" else on
    sql = (
        "SELECT id, entry_key, content_hash, family_norm, given_norm, middle_norm, npi, "
        "date_of_birth, state, city, specialty FROM list_entries WHERE source = "
        f"{mark} AND (starts_on IS NULL OR starts_on <= {mark}) "
        f"AND (ended_on IS NULL OR ended_on > {mark})"
    )
    result = conn.exec_driver_sql(sql, (source, day, day))
    return ListIndex(ListRow(*r) for r in result.fetchall())


def latest_import(session: Session, source: str, on: date) -> tuple[int, date | None] | None:
    row = session.execute(
        select(SourceImport.id, SourceImport.list_date)
        .where(SourceImport.source == source)
        .where(or_(SourceImport.list_date.is_(None), SourceImport.list_date <= on))
        .order_by(SourceImport.list_date.desc(), SourceImport.id.desc())
        .limit(1)
    ).first()
    if row is None:  # only lists dated after the day: screen against the oldest
        row = session.execute(
            select(SourceImport.id, SourceImport.list_date)
            .where(SourceImport.source == source)
            .order_by(SourceImport.list_date, SourceImport.id)
            .limit(1)
        ).first()
    return (row.id, row.list_date) if row else None


def person_print(p: Person) -> str:
    return digest(*sorted(p.names), p.npi, p.date_of_birth, *sorted(p.states))


def _decisions(session: Session, prints: list[str]) -> dict[str, Any]:
    """The latest decision on each of these fingerprints."""
    out: dict[str, Any] = {}
    for i in range(0, len(prints), CHUNK):
        for r in session.execute(
            select(
                ScreeningResult.fingerprint,
                ScreeningResult.status,
                ScreeningResult.decided_by,
                ScreeningResult.decision_reason,
                ScreeningResult.decided_at,
            )
            .where(
                ScreeningResult.fingerprint.in_(prints[i : i + CHUNK]),
                ScreeningResult.status.in_(("confirmed", "dismissed")),
            )
            .order_by(ScreeningResult.id)
        ):
            out[r.fingerprint] = r
    return out


def screen(
    db: Database, on: date, *, actor: str = "system", provider_ids: list[int] | None = None
) -> ScreenSummary:
    """One screening pass on `on` (see the module's docstring)."""
    summary = ScreenSummary(on=on, run_id=uuid.uuid4().hex)
    t0 = time.perf_counter()
    now = utcnow()
    with db.session() as s:
        people = load_people(s, provider_ids)
        summary.providers = len(people)
        prints = {p.provider_id: person_print(p) for p in people}
        rows: list[dict[str, Any]] = []
        for source in LISTS:
            imp = latest_import(s, source, on)
            if imp is None:
                continue
            summary.sources.append(source)
            index = load_index(s, source, on)
            summary.seconds[f"load {source}"] = time.perf_counter() - t0
            for p in people:
                for v in screen_person(p, index):
                    rows.append(_row(summary, p, source, v, prints[p.provider_id], imp, now))
            summary.seconds[f"match {source}"] = time.perf_counter() - t0
        rows.extend(_nppes_rows(s, summary, people, prints, on, now))
        _apply_decisions(s, summary, rows)
        for i in range(0, len(rows), 5000):
            chunk = [tuple(r[c] for c in RESULT_COLUMNS) for r in rows[i : i + 5000]]
            insert_rows(s.connection(), "screening_results", RESULT_COLUMNS, chunk)
        summary.seconds["write"] = time.perf_counter() - t0
        for r in rows:
            summary.results[f"{r['source']}:{r['result']}"] += 1
        summary.closed = close_ended(s, on, summary.sources, actor=actor)
        record_event(
            s,
            actor=actor,
            action="screening.run",
            entity_type="screening_run",
            note=f"run {summary.run_id} on {on}: {summary.providers} clinician(s); "
            + ", ".join(f"{k} {n}" for k, n in sorted(summary.results.items())),
        )
        _audit_raised(s, rows, actor)
    summary.seconds["total"] = time.perf_counter() - t0
    return summary


def _row(
    summary: ScreenSummary,
    p: Person,
    source: str,
    v: Verdict,
    person_fp: str,
    imp: tuple[int, date | None],
    now: Any,
) -> dict[str, Any]:
    hit = v.result != "clear"
    return {
        "run_id": summary.run_id,
        "provider_id": p.provider_id,
        "source": source,
        "result": v.result,
        "status": "open" if hit else "dismissed",
        "reason": v.reason,
        "entry_id": v.row.id if v.row else None,
        "entry_key": v.row.entry_key if v.row else None,
        "npi": p.npi,
        "fingerprint": digest(person_fp, source, v.row.content_hash) if hit and v.row else None,
        "list_import_id": imp[0],
        "list_date": imp[1],
        "screened_on": summary.on,
        "screened_at": now,
        "decided_by": None,
        "decided_at": None,
        "decision_reason": None,
    }


def _apply_decisions(s: Session, summary: ScreenSummary, rows: list[dict[str, Any]]) -> None:
    """A hit on unchanged data keeps the decision a person made on it."""
    prints = [r["fingerprint"] for r in rows if r["fingerprint"]]
    decided = _decisions(s, prints)
    for r in rows:
        d = decided.get(r["fingerprint"]) if r["fingerprint"] else None
        if d is None:
            if r["status"] == "open":
                summary.raised += 1
            continue
        summary.kept_decisions += 1
        r.update(
            status=d.status,
            decided_by=d.decided_by,
            decided_at=d.decided_at,
            decision_reason=d.decision_reason,
        )
        r["reason"] += f" ({d.status} earlier by {d.decided_by}; data unchanged)"


def _audit_raised(s: Session, rows: list[dict[str, Any]], actor: str) -> None:
    for r in rows:
        if r["status"] == "open":
            record_event(
                s,
                actor=actor,
                action="screening.hit",
                entity_type="provider",
                entity_id=r["provider_id"],
                note=f"{r['source']} {r['result']} (run {r['run_id']})",
            )


def _licences(s: Session, ids: list[int]) -> dict[int, list[Licence]]:
    out: dict[int, list[Licence]] = {}
    for i in range(0, len(ids), CHUNK):
        q = select(
            Credential.provider_id, Credential.jurisdiction, Credential.credential_number
        ).where(
            Credential.provider_id.in_(ids[i : i + CHUNK]),
            Credential.doc_type.in_(LICENCE_TYPES),
            Credential.jurisdiction.is_not(None),
            Credential.credential_number.is_not(None),
        )
        for pid, st, num in s.execute(q):
            lic = Licence(str(st), str(num))
            if lic not in out.setdefault(pid, []):
                out[pid].append(lic)
    return out


def npi_record_json(r: NpiRecord) -> dict[str, Any]:
    return {
        c: getattr(r, c)
        for c in (
            "npi",
            "entity_type",
            "last_name",
            "first_name",
            "middle_name",
            "organization",
            "credential",
            "deactivated_on",
            "reactivated_on",
            "licenses",
        )
    }


def _nppes_rows(
    s: Session,
    summary: ScreenSummary,
    people: list[Person],
    prints: dict[int, str],
    on: date,
    now: Any,
) -> list[dict[str, Any]]:
    imp = latest_import(s, "nppes", on)
    with_npi = [p for p in people if p.npi]
    if imp is None or not with_npi:
        return []
    summary.sources.append("nppes")
    records: dict[str, dict[str, Any]] = {}
    npis = [p.npi for p in with_npi if p.npi]
    for i in range(0, len(npis), CHUNK):
        for found_rec in s.scalars(select(NpiRecord).where(NpiRecord.npi.in_(npis[i : i + CHUNK]))):
            records[found_rec.npi] = npi_record_json(found_rec)
    licences = _licences(s, [p.provider_id for p in with_npi])
    out = []
    for p in with_npi:
        rec = records.get(p.npi or "")
        lics = licences.get(p.provider_id, [])
        found = findings(p, rec, lics, on)
        if found:
            v = Verdict("possible", "; ".join(found), None)
        else:
            v = Verdict(
                "clear",
                f"NPI active, name agrees, {len(lics)} licence(s) on file found in NPPES",
                None,
            )
        row = _row(summary, p, "nppes", v, prints[p.provider_id], imp, now)
        if found:
            row["fingerprint"] = digest(prints[p.provider_id], "nppes", repr(rec), repr(lics))
        out.append(row)
    return out


def close_ended(s: Session, on: date, sources: list[str], *, actor: str) -> list[int]:
    """Close the open exclusion deviations whose list row is no longer in force on `on`,
    with the reason the list gives (reinstated, absent from a later full list)."""
    closed: list[int] = []
    open_devs = s.execute(
        select(Deviation.id, Deviation.key).where(
            Deviation.open_key.is_not(None), Deviation.kind.in_(set(DEVIATION_KINDS.values()))
        )
    ).all()
    for dev_id, key in open_devs:
        _kind, _pid, source, entry_key = key.split(":", 3)
        if source not in sources:
            continue
        still = s.scalar(
            select(func.count())
            .select_from(ListEntry)
            .where(ListEntry.source == source, ListEntry.entry_key == entry_key, in_force(on))
        )
        if still:
            continue
        last = s.execute(
            select(ListEntry.end_reason, ListEntry.ended_on)
            .where(ListEntry.source == source, ListEntry.entry_key == entry_key)
            .order_by(ListEntry.ended_on.desc().nulls_last(), ListEntry.id.desc())
            .limit(1)
        ).first()
        why = (
            (
                last.end_reason
                or (f"the listing ended on {last.ended_on}" if last.ended_on else None)
            )
            if last
            else None
        )
        note = f"{why or 'not on the list in force'} (screening on {on})"
        s.execute(
            update(Deviation)
            .where(Deviation.id == dev_id)
            .values(
                status=DeviationStatus.RESOLVED,
                open_key=None,
                resolved_at=utcnow(),
                updated_at=utcnow(),
                resolution_note=note,
            )
        )
        record_event(
            s,
            actor=actor,
            action="deviation.resolved",
            entity_type="deviation",
            entity_id=dev_id,
            note=note,
        )
        closed.append(dev_id)
    return closed
