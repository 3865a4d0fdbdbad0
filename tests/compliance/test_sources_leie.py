"""Importing OIG's real 2016 LEIE supplements, on SQLite and PostgreSQL: every row kept,
reinstatements ending the exclusions they name, the same file twice changing nothing, a
file that is no list refused, malformed rows counted and skipped, and the full UPDATED.csv
replacing the list."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from compliance.sources.importer import UnknownFile, import_file
from models import AuditEvent, Database
from models.screening import ListEntry, SourceImport
from tests.compliance.screening_support import LEIE, leie_files, leie_rows, write_leie


def test_the_2016_supplements(db: Database) -> None:
    reports = [import_file(db, f) for f in leie_files()]
    assert sum(r.rows_read for r in reports if r.kind == "leie_excl") == 3807
    assert sum(r.rows_read for r in reports if r.kind == "leie_rein") == 551
    assert all(r.rows_rejected == 0 for r in reports)
    # 28 of 2016's reinstatements end exclusions published in 2016 (the others are older)
    assert sum(r.rows_ended for r in reports) == 28
    assert reports[0].list_date == date(2016, 1, 1)
    with db.session() as s:
        zepeda = s.execute(
            select(ListEntry).where(ListEntry.family_norm == "ZEPEDA", ListEntry.npi.is_(None))
        ).scalar_one()
        assert zepeda.starts_on == date(2016, 7, 20)
        assert zepeda.ended_on == date(2016, 12, 7)
        assert zepeda.end_reason == "reinstated on 2016-12-07 (1612REIN.csv)"
        # both DOB formats of the real files: MM/DD/YY (January to March) and YYYYMMDD
        wis = s.scalars(select(ListEntry).where(ListEntry.family_norm == "WISNIEWSKI")).first()
        assert wis is not None and wis.date_of_birth == date(1963, 2, 26)
        # hyphenated family names keep their parts; padded middle names lose the padding
        pp = s.scalars(select(ListEntry).where(ListEntry.family_norm == "PHELAN PESCHKE")).first()
        assert pp is not None and pp.middle_norm == "FAY"
        # "0000000000" is no NPI; businesses keep their name
        assert s.scalar(select(func.count()).where(ListEntry.npi == "0000000000")) == 0
        assert (
            s.scalar(select(func.count()).where(ListEntry.business == "AMERICAN SLEEP INSTITUTE"))
            == 1
        )
        imp = s.scalars(select(SourceImport).order_by(SourceImport.id)).first()
        assert imp is not None and imp.file_name == "1601EXCL.csv" and len(imp.sha256) == 64
        assert (imp.rows_read, imp.rows_kept, imp.rows_rejected) == (484, 484, 0)
        events = s.scalar(select(func.count()).where(AuditEvent.action == "source.imported"))
        assert events == 24


def test_same_file_twice_changes_nothing(db: Database) -> None:
    first = import_file(db, LEIE / "1601EXCL.csv")
    again = import_file(db, LEIE / "1601EXCL.csv")
    assert not first.unchanged and again.unchanged and again.import_id == first.import_id
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SourceImport)) == 1
        assert s.scalar(select(func.count()).select_from(ListEntry)) == 484


def test_unknown_file_refused_in_one_line(db: Database, tmp_path: Path) -> None:
    for name, text in (("notes.csv", "Name,Phone\nA,1\n"), ("1601EXCL.csv", "hello\n")):
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(UnknownFile) as err:
            import_file(db, path)
        assert "\n" not in str(err.value) and "not an LEIE" in str(err.value)
    with pytest.raises(UnknownFile, match="first line starts"):
        import_file(db, LEIE / "leie_record_layout.pdf")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SourceImport)) == 0


def test_malformed_rows_counted_and_skipped(db: Database, tmp_path: Path) -> None:
    rows = leie_rows("1605EXCL.csv")[:5]
    path = write_leie(tmp_path / "supplement.csv", rows, quoted_header=False)
    with path.open("a") as fh:
        fh.write('"SHORT","ROW"\r\n')
        fh.write(
            ',,,,"NURSING","NURSE",,"0000000000","19700101",,,,,"1128a1","20160601",'
            '"00000000","00000000",\r\n'
        )  # no name at all
        fh.write('"DOE","JANE",,,,,,,"19700101",,,,,"1128a1","2016-13-45","00000000",,\r\n')
    report = import_file(db, path)
    assert (report.rows_read, report.rows_kept, report.rows_rejected) == (8, 5, 3)
    assert report.rejections == {
        "row has 2 values, not 18": 1,
        "neither a person's nor a business name": 1,
        "no exclusion date": 1,
    }
    # no usual name and one month of exclusions: a supplement
    assert report.kind == "leie_excl"


def test_updated_csv_replaces_the_list(db: Database, tmp_path: Path) -> None:
    """UPDATED.csv holds every exclusion in force: one it no longer holds ended with the reason;
    WAIVERSTATE, the other spelling of the last column, is read alike."""
    import_file(db, LEIE / "1601EXCL.csv")
    kept = leie_rows("1601EXCL.csv")[1:]  # the first row is gone from the full list
    path = write_leie(tmp_path / "UPDATED.csv", kept + leie_rows("1602EXCL.csv"))
    path.write_text(path.read_text().replace('"WVRSTATE"', '"WAIVERSTATE"'))
    report = import_file(db, path)
    assert report.kind == "leie_full" and report.rows_ended == 1
    with db.session() as s:
        gone = s.scalars(select(ListEntry).where(ListEntry.ended_on.is_not(None))).one()
        assert gone.business == "AMERICAN SLEEP INSTITUTE"
        assert gone.end_reason is not None and gone.end_reason.startswith("not in UPDATED.csv")
        # the rows in both files are kept once
        assert s.scalar(select(func.count()).select_from(ListEntry)) == 484 + 233
