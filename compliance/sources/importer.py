"""Importing a published file: recognise it by its header, stream its rows into the
database in bulk, and record the import (source, file name, SHA-256, the list's date, rows
read / kept / rejected with the reasons, rows it ended).

The same bytes twice change nothing. A file that is none of the known sources is refused
with a one-line reason; a malformed row is counted and skipped. For the lists:
- LEIE supplements add exclusions; a reinstatement row ends the exclusion it names (found by
  who it is and the exclusion date), which stays in the history;
- a full list (LEIE UPDATED.csv, SAM's extract, the CMS opt-out file) replaces the list: rows
  of earlier imports it no longer holds are ended with the reason."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from compliance.sources import leie, nppes, optout, sam
from compliance.sources.bulk import insert_rows
from compliance.sources.entry import ROW_COLUMNS, Entry
from compliance.sources.files import open_text, sha256_file
from models import Database, record_event
from models.screening import ListEntry, NpiRecord, SourceImport

BATCH = 2000
T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int], None]  # bytes read since the last call
_ENTRIES = cast(Table, ListEntry.__table__)
_NPI = cast(Table, NpiRecord.__table__)
csv.field_size_limit(1 << 24)


class UnknownFile(ValueError):
    """The file is none of the sources credflow knows; the message says why in one line."""


@dataclass
class ImportReport:
    file_name: str
    sha256: str
    source: str = ""
    kind: str = ""
    import_id: int | None = None
    list_date: date | None = None
    rows_read: int = 0
    rows_kept: int = 0
    rows_rejected: int = 0
    rows_ended: int = 0
    rejections: Counter[str] = field(default_factory=Counter)
    unchanged: bool = False  # imported before: nothing was done

    def line(self) -> str:
        if self.unchanged:
            return f"{self.file_name}: imported before (import #{self.import_id}); unchanged"
        why = "; ".join(f"{n} {r}" for r, n in self.rejections.most_common(3))
        return (
            f"{self.file_name}: {self.source} ({self.kind}), list of {self.list_date}: "
            f"{self.rows_read} rows read, {self.rows_kept} kept, {self.rows_rejected} rejected"
            + (f" ({why})" if why else "")
            + (f", {self.rows_ended} ended" if self.rows_ended else "")
        )


@dataclass(frozen=True)
class Recognised:
    source: str  # oig_leie, sam, cms_optout, nppes
    kind: str  # leie, sam, cms_optout, nppes_file, npi_api
    header: list[str]


def recognise(path: Path) -> Recognised:
    """What the file is, from its first line (never its name)."""
    try:
        with open_text(path) as fh:
            first = fh.readline(1 << 20)
    except (OSError, ValueError) as e:
        raise UnknownFile(f"cannot be read: {e}") from None
    if first.lstrip().startswith(("{", "[")):
        return Recognised("nppes", "npi_api", [])
    header = next(csv.reader([first]), [])
    if leie.recognise(header):
        return Recognised("oig_leie", "leie", header)
    if sam.recognise(header):
        return Recognised("sam", "sam", header)
    if optout.recognise(header):
        return Recognised("cms_optout", "cms_optout", header)
    if nppes.recognise(header):
        return Recognised("nppes", "nppes_file", header)
    shown = ",".join(h.strip() for h in header[:4])[:80]
    raise UnknownFile(
        f"not an LEIE, SAM exclusions, CMS opt-out or NPPES file (its first line starts {shown!r})"
    )


def import_file(
    db: Database, path: Path, *, actor: str = "system", progress: Progress | None = None
) -> ImportReport:
    """Import one file (see the module's docstring). Raises UnknownFile when refused."""
    path = Path(path)
    report = ImportReport(file_name=path.name, sha256=sha256_file(path))
    with db.session() as s:
        before = s.scalar(select(SourceImport.id).where(SourceImport.sha256 == report.sha256))
        if before is not None:
            report.import_id, report.unchanged = before, True
            return report
    found = recognise(path)
    report.source, report.kind = found.source, found.kind
    with db.session() as s:
        imp = SourceImport(
            source=found.source,
            kind=found.kind,
            file_name=path.name[:300],
            sha256=report.sha256,
            imported_by=actor,
        )
        s.add(imp)
        s.flush()
        report.import_id = imp.id
        if found.kind == "npi_api":
            _import_api(s, path, imp.id, report)
        elif found.kind == "nppes_file":
            _import_nppes(s, path, found.header, imp.id, report, progress)
        else:
            _import_list(s, path, found, imp.id, report, progress)
        imp.kind = report.kind
        imp.list_date = report.list_date
        imp.rows_read, imp.rows_kept = report.rows_read, report.rows_kept
        imp.rows_rejected, imp.rows_ended = report.rows_rejected, report.rows_ended
        imp.rejections = dict(report.rejections)
        record_event(
            s,
            actor=actor,
            action="source.imported",
            entity_type="source_import",
            entity_id=imp.id,
            note=report.line(),
        )
    return report


def _rows(fh: Iterable[str]) -> Iterable[list[str]]:
    reader = csv.reader(fh)
    next(reader, None)  # the header, already recognised
    return reader


def _parsed(report: ImportReport, items: Iterable[T], parse: Callable[[T], R | str]) -> Iterator[R]:
    """The rows that parse; each one that does not is counted with its reason and skipped."""
    for item in items:
        report.rows_read += 1
        got = parse(item)
        if isinstance(got, str):
            report.rows_rejected += 1
            report.rejections[got] += 1
            continue
        report.rows_kept += 1
        yield got


# --- exclusion lists ------------------------------------------------------------------


def _insert_entries(s: Session, rows: list[tuple[Any, ...]]) -> None:
    insert_rows(s.connection(), "list_entries", ROW_COLUMNS, rows)


@dataclass(slots=True)
class _Held:
    id: int
    content_hash: str
    ended_on: date | None


def _import_list(  # noqa: C901 - one pass over a list file; split pending
    s: Session,
    path: Path,
    found: Recognised,
    import_id: int,
    report: ImportReport,
    progress: Progress | None,
) -> None:
    source = found.source
    held: dict[str, _Held] = {
        r.entry_key: _Held(r.id, r.content_hash, r.ended_on)
        for r in s.execute(
            select(ListEntry.id, ListEntry.entry_key, ListEntry.content_hash, ListEntry.ended_on)
            .where(ListEntry.source == source, ListEntry.ended_by_import_id.is_(None))
            .order_by(ListEntry.id)
        )
    }
    parse: Callable[[list[str]], Entry | str]
    role: str | None = "full"
    name_date: date | None = None
    if source == "oig_leie":
        parse, role = leie.parse, leie.role_from_name(path.name)
        name_date = leie.list_date_from_name(path.name)
    elif source == "sam":
        parse, name_date = sam.Parser(found.header).parse, sam.list_date_from_name(path.name)
    else:
        parse = optout.Parser(found.header).parse
    seen: set[str] = set()
    new_rows: list[tuple[Any, ...]] = []
    ends: list[dict[str, Any]] = []
    rein_rows = 0
    first_day: date | None = None
    last_day: date | None = None
    with open_text(path, progress) as fh:
        for e in _parsed(report, _rows(fh), parse):
            day = e.ended_on if source == "oig_leie" and e.ended_on else e.starts_on
            if day is not None:
                first_day = day if first_day is None or day < first_day else first_day
                last_day = day if last_day is None or day > last_day else last_day
            cur = held.get(e.entry_key)
            if source == "oig_leie" and e.ended_on is not None:  # a reinstatement
                rein_rows += 1
                if cur is None:  # its exclusion came before our first import: kept as history
                    new_rows.append(e.row(source, import_id))
                    held[e.entry_key] = _Held(-1, e.content_hash, e.ended_on)
                elif cur.ended_on is None and cur.id > 0:
                    ends.append(
                        {
                            "b_id": cur.id,
                            "ended_on": e.ended_on,
                            "ended_by": import_id,
                            "why": f"reinstated on {e.ended_on} ({path.name})",
                        }
                    )
                    cur.ended_on = e.ended_on
                continue
            seen.add(e.entry_key)
            if cur is not None and cur.content_hash == e.content_hash:
                continue
            if cur is not None and cur.id > 0 and cur.ended_on is None:
                ends.append(
                    {
                        "b_id": cur.id,
                        "ended_on": e.starts_on,
                        "ended_by": import_id,
                        "why": f"replaced by a changed row in {path.name}",
                    }
                )
            new_rows.append(e.row(source, import_id))
            held[e.entry_key] = _Held(-1, e.content_hash, e.ended_on)
            if len(new_rows) >= BATCH:
                _insert_entries(s, new_rows)
                new_rows.clear()
    _insert_entries(s, new_rows)
    if source == "oig_leie":
        if role is None:  # no usual name: the rows say what the file is
            spread = (last_day - first_day).days if first_day and last_day else 0
            mostly_rein = rein_rows * 2 > report.rows_kept
            role = (
                "rein" if mostly_rein else ("full" if spread > leie.FULL_LIST_SPAN_DAYS else "excl")
            )
        report.kind = {"full": "leie_full", "excl": "leie_excl", "rein": "leie_rein"}[role]
    report.list_date = name_date or last_day or datetime.now(UTC).date()
    if role == "full":
        why = f"not in {path.name} (the list of {report.list_date})"
        for key, h in held.items():
            if (
                key not in seen
                and h.id > 0
                and (h.ended_on is None or h.ended_on > report.list_date)
            ):
                ends.append(
                    {"b_id": h.id, "ended_on": report.list_date, "ended_by": import_id, "why": why}
                )
    if ends:
        stmt = (
            update(_ENTRIES)
            .where(_ENTRIES.c.id == bindparam("b_id"))
            .values(
                ended_on=bindparam("ended_on"),
                ended_by_import_id=bindparam("ended_by"),
                end_reason=bindparam("why"),
            )
        )
        for i in range(0, len(ends), BATCH):
            s.connection().execute(stmt, ends[i : i + BATCH])
    report.rows_ended = len(ends)


# --- NPPES ----------------------------------------------------------------------------


def _upsert_npi(s: Session, rows: list[tuple[Any, ...]]) -> None:
    insert_rows(
        s.connection(),
        "npi_records",
        nppes.ROW_COLUMNS,
        rows,
        upsert_key="npi",
    )


def _import_nppes(
    s: Session,
    path: Path,
    header: list[str],
    import_id: int,
    report: ImportReport,
    progress: Progress | None,
) -> None:
    parser = nppes.FileParser(header)
    batch: dict[str, tuple[Any, ...]] = {}
    with open_text(path, progress) as fh:
        for r in _parsed(report, _rows(fh), parser.parse):
            batch[r.npi] = r.row(import_id)  # one row per NPI in a statement
            if len(batch) >= BATCH:
                _upsert_npi(s, list(batch.values()))
                batch.clear()
    if batch:
        _upsert_npi(s, list(batch.values()))
    m = nppes_date(path.name)
    report.list_date = m or datetime.now(UTC).date()


def nppes_date(file_name: str) -> date | None:
    """npidata_pfile_20050523-20240211.csv: the second date is the file's."""
    import re

    m = re.search(r"(\d{8})-(\d{8})", file_name)
    if not m:
        return None
    t = m.group(2)
    try:
        return date(int(t[:4]), int(t[4:6]), int(t[6:]))
    except ValueError:
        return None


def _import_api(s: Session, path: Path, import_id: int, report: ImportReport) -> None:
    try:
        answer = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UnknownFile(f"JSON that cannot be read: {e}") from None
    problem = nppes.api_error(answer)
    if problem:
        raise UnknownFile(problem)
    rows: dict[str, tuple[Any, ...]] = {}
    for r in _parsed(report, answer["results"], nppes.parse_api_result):
        rows[r.npi] = r.row(import_id)
    if rows:
        _upsert_npi(s, list(rows.values()))
    report.list_date = datetime.fromtimestamp(path.stat().st_mtime, UTC).date()
