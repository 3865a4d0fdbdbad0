"""Helpers the screening tests share: the real source files and writing list files the way
the agencies write them."""

from __future__ import annotations

import csv
from pathlib import Path

from compliance.sources.leie import COLUMNS
from tests.support import REAL

SOURCES = REAL / "sources"
LEIE = SOURCES / "oig-leie"
SAM_SAMPLE = SOURCES / "sam-exclusions" / "SAM_Exclusions_Public_V2_Extract_sample.csv"
NPI_ANSWERS = SOURCES / "npi-registry"


def leie_files(months: range = range(1, 13)) -> list[Path]:
    """The 2016 supplements of these months, exclusions before reinstatements."""
    return [LEIE / f"16{m:02d}{kind}.csv" for m in months for kind in ("EXCL", "REIN")]


def leie_rows(name: str) -> list[list[str]]:
    with (LEIE / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))[1:]


def write_leie(path: Path, rows: list[list[str]], *, quoted_header: bool = True) -> Path:
    """A supplement as OIG writes them: every value quoted, a trailing comma on each row."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        head = ",".join(f'"{c}"' if quoted_header else c for c in COLUMNS)
        fh.write(head + "\r\n")
        for row in rows:
            fh.write(",".join(f'"{v}"' if v else "" for v in row[:17]) + "," + "\r\n")
    return path
