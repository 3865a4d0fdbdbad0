"""Person names into the spec's normal form: "Given Middle Family", suffix kept, degrees and
honorifics dropped, registers' "FAMILY, GIVEN" turned around, places and debris refused."""

from __future__ import annotations

import pytest

from extract.fields.names import clean_person


@pytest.mark.parametrize(
    ("printed", "name"),
    [
        ("NASSER III, CHRISTOPHER E.", "Christopher E. Nasser III"),
        ("Tran IV, George Francisco", "George Francisco Tran IV"),
        ("TAYLOR, IFEOMA MD", "Ifeoma Taylor"),
        ("PETER CASTILLO, Ill, L.P.N,", "Peter Castillo III"),  # OCR read III as Ill
        ("Dr. Mary-Kate D. Ho", "Mary-Kate D. Ho"),
        ("Ingrid Sato-‘Thompson, MD,FACP", "Ingrid Sato-Thompson"),
        ("Kathleen Chen completed fellowship training", "Kathleen Chen"),
        ("_MINH A.DUBOIS, JR.", "Minh A. Dubois Jr."),
        ("Luis A. Garcia, MD", "Luis A. Garcia"),  # MD: a degree here, not Maryland
        ("Eric Le, APRN, FNP-C", "Eric Le"),  # a capitalised "Le" at the end is the family name
        ("Thanh Van", "Thanh Van"),
        ("~ Rafael D. Kang, R.N.", "Rafael D. Kang"),  # a scan speck before the name
        ("Liam J. Price", "Liam J. Price"),
        ("Rosa Dean McDonald", "Rosa Dean McDonald"),
        # letters of any alphabet, particles as printed, degrees after a comma
        ("NÚÑEZ, MARÍA ELENA", "María Elena Núñez"),
        ("José Ramírez-Núñez MD", "José Ramírez-Núñez"),
        ("° Ángel Núñez completed the course", "Ángel Núñez"),
        ("Pieter van der Berg", "Pieter van der Berg"),
        ("Anthony di Stefano, DO", "Anthony di Stefano"),
        ("DEL ROSARIO, MARIA", "Maria Del Rosario"),
        ("Rebecca LaFleur, M.D.", "Rebecca LaFleur"),
    ],
)
def test_names(printed: str, name: str) -> None:
    result = clean_person(printed)
    assert result is not None and result[0] == name


@pytest.mark.parametrize(
    "printed",
    [
        "Saint Paul, MN",
        "SAN FRANCISCO, CA 94129",
        "Medical Staff Office",
        "Cnt Ss",
        "Public Complaints",
        "Bayview Pediatrics, P.A.",  # a practice, not a physician assistant
        "FTS UNIVERSIT",  # "TUFTS UNIVERSITY" with its ends lost to the scan
        "Dean of the School of Medicine",
    ],
)
def test_not_names(printed: str) -> None:
    assert clean_person(printed) is None
