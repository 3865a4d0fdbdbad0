"""SAM.gov extract rows (as CSV and as the daily ZIP), the CMS opt-out CSV, NPPES's full file
with its 330 columns, and the NPI Registry's real answers, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from compliance.sources.importer import UnknownFile, import_file
from compliance.sources.nppes import published_header
from models import Database
from models.screening import ListEntry, NpiRecord, SourceImport
from tests.compliance.screening_support import NPI_ANSWERS, SAM_SAMPLE


def test_sam_rows(db: Database) -> None:
    report = import_file(db, SAM_SAMPLE)
    assert (report.source, report.rows_read, report.rows_kept, report.rows_rejected) == (
        "sam",
        16,
        16,
        0,
    )
    with db.session() as s:
        flores = s.scalars(select(ListEntry).where(ListEntry.family_norm == "FLORES")).one()
        assert flores.given_norm == "ANTONIO" and flores.state == "TX"
        assert flores.starts_on == date(2023, 11, 20) and flores.ended_on is None  # Indefinite
        piexotto = s.scalars(select(ListEntry).where(ListEntry.family_norm == "PIEXOTTO")).one()
        assert piexotto.ended_on == date(2026, 10, 19)  # a Termination Date
        zte = s.scalars(select(ListEntry).where(ListEntry.business == "ZTE CORPORATION")).one()
        assert zte.family_norm is None and zte.record["Classification"] == "Firm"


def test_sam_daily_zip_replaces_the_list(db: Database, tmp_path: Path) -> None:
    import_file(db, SAM_SAMPLE)
    lines = SAM_SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [ln for ln in lines if '"CARLOS"' not in ln]  # Carlos Piexotto left the list
    archive = tmp_path / "SAM_Exclusions_Public_V2_Extract_23330.ZIP"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("SAM_Exclusions_Public_V2_Extract_23330.CSV", "".join(kept))
    report = import_file(db, archive)
    assert report.source == "sam" and report.rows_read == 15 and report.rows_ended == 1
    assert report.list_date == date(2023, 11, 26)  # day 330 of 2023
    with db.session() as s:
        gone = s.scalars(select(ListEntry).where(ListEntry.family_norm == "PIEXOTTO")).one()
        assert gone.ended_on == date(2023, 11, 26)
        assert gone.end_reason == (
            "not in SAM_Exclusions_Public_V2_Extract_23330.ZIP (the list of 2023-11-26)"
        )


def test_cms_optout(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "optout.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "Last Name",
                "First Name",
                "NPI",
                "Specialty",
                "Optout Effective Date",
                "Optout End Date",
                "First Line Street Address",
                "City Name",
                "State Code",
                "Zip code",
                "Eligible to Order and Refer",
                "Last updated",
            ]
        )
        w.writerow(
            [
                "HIZA",
                "ELISE",
                "1720377294",
                "Psychiatry",
                "01/01/2024",
                "12/31/2025",
                "1 Main St",
                "Durham",
                "NC",
                "27701",
                "Y",
                "01/15/2024",
            ]
        )
        w.writerow(["NOBODY", "", "", "", "not a date", "", "", "", "", "", "", ""])
    report = import_file(db, path)
    assert (report.source, report.rows_kept, report.rows_rejected) == ("cms_optout", 1, 1)
    assert report.rejections == {"a date that is not a date": 1}
    with db.session() as s:
        row = s.scalars(select(ListEntry).where(ListEntry.source == "cms_optout")).one()
        assert (row.npi, row.starts_on, row.ended_on) == (
            "1720377294",
            date(2024, 1, 1),
            date(2025, 12, 31),
        )


def test_nppes_full_file(db: Database, tmp_path: Path) -> None:
    header = published_header()
    assert len(header) == 330
    rows = [
        {
            "NPI": "1720377294",
            "Entity Type Code": "1",
            "Provider Last Name (Legal Name)": "HIZA",
            "Provider First Name": "ELISE",
            "Provider Credential Text": "M.D.",
            "Healthcare Provider Taxonomy Code_1": "2084P0800X",
            "Provider License Number_1": "2017-01132",
            "Provider License Number State Code_1": "NC",
            "Healthcare Provider Primary Taxonomy Switch_1": "Y",
        },
        {"NPI": "1003142399", "Entity Type Code": "1", "NPI Deactivation Date": "01/14/2015"},
        {"NPI": "12345", "Entity Type Code": "1"},
    ]
    path = tmp_path / "npidata_pfile_20050523-20240211.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL)
        w.writerow(header)
        for values in rows:
            line = [""] * 330
            for name, value in values.items():
                line[header.index(name)] = value
            w.writerow(line)
    report = import_file(db, path)
    assert (report.kind, report.rows_read, report.rows_kept) == ("nppes_file", 3, 2)
    assert report.rejections == {"no ten-digit NPI": 1}
    assert report.list_date == date(2024, 2, 11)
    with db.session() as s:
        hiza = s.get(NpiRecord, "1720377294")
        assert hiza is not None and hiza.credential == "M.D."
        assert hiza.licenses == [
            {"taxonomy": "2084P0800X", "license": "2017-01132", "state": "NC", "primary": True}
        ]
        gone = s.get(NpiRecord, "1003142399")
        assert gone is not None and gone.deactivated_on == date(2015, 1, 14)


def test_npi_registry_answers(db: Database) -> None:
    kept = 0
    for path in sorted(NPI_ANSWERS.glob("*.json")):
        if path.name in ("api-8d2d52.json", "api-c85286.json"):  # the two error answers
            with pytest.raises(UnknownFile, match="NPI Registry error answer"):
                import_file(db, path)
            continue
        kept += import_file(db, path).rows_kept
    assert kept == 49
    with db.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(NpiRecord)) == 40
        )  # answers overlap (49 results, 40 NPIs)
        rowell = s.get(NpiRecord, "1003142399")
        assert rowell is not None
        assert (rowell.deactivated_on, rowell.reactivated_on) == (
            date(2015, 1, 14),
            date(2019, 2, 13),
        )
        org = s.get(NpiRecord, "1568946812")
        assert org is not None and org.entity_type == "2"
        assert org.organization == "CSP ANESTHESIA LLC"
        # the empty answer is an import with nothing in it
        empty = s.scalars(select(SourceImport).where(SourceImport.file_name == "api-a2f836.json"))
        assert empty.one().rows_read == 0


def test_zip_without_csv_refused(db: Database, tmp_path: Path) -> None:
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "nothing")
    with pytest.raises(UnknownFile, match="cannot be read: a ZIP without a CSV"):
        import_file(db, archive)
