"""Grid forms: a small capitalised label at the top of a cell, its value under it.

A certificate of insurance prints POLICY NUMBER, POLICY EFF (MM/DD/YYYY), POLICY EXP
(MM/DD/YYYY) as column headings over one row of values; the "(MM/DD/YYYY)" says how the
date is written and is not the value.
"""

from __future__ import annotations

from extract.fields import extract_fields
from extract.types import Page, Word


def _row(cells: list[tuple[float, str]], y: float, line: int) -> list[Word]:
    words = []
    for x, text in cells:
        for token in text.split():
            w = 0.007 * len(token)
            words.append(Word(token, 0.96, (x, y, x + w, y + 0.011), line, line))
            x += w + 0.008
    return words


def _page(rows: list[list[tuple[float, str]]]) -> list[Page]:
    words = [w for i, r in enumerate(rows) for w in _row(r, 0.05 + 0.04 * i, i)]
    return [Page(1, 1700, 2200, "ocr", words)]


def test_policy_dates_under_their_column_headings() -> None:
    pages = _page(
        [
            [(0.05, "CERTIFICATE OF LIABILITY INSURANCE"), (0.75, "DATE (MM/DD/YYYY)")],
            [(0.75, "11/30/2022")],
            [(0.05, "PRODUCER"), (0.5, "INSURER(S) AFFORDING COVERAGE")],
            [(0.05, "Marsh & McLennan Agency"), (0.5, "INSURER A: MedPro Group")],
            [(0.05, "INSURED")],
            [(0.05, "DI STEFANO, ANTHONY")],
            [
                (0.05, "TYPE OF INSURANCE"),
                (0.32, "POLICY NUMBER"),
                (0.5, "POLICY EFF (MM/DD/YYYY)"),
                (0.76, "POLICY EXP (MM/DD/YYYY)"),
            ],
            [
                (0.05, "PROFESSIONAL LIABILITY"),
                (0.32, "MP0044781"),
                (0.5, "07/01/2022"),
                (0.76, "07/01/2023"),
            ],
        ]
    )
    doc_type, _conf, fields = extract_fields(pages)
    assert doc_type == "malpractice_insurance"
    assert fields["credential_number"].value == "MP0044781"
    # the policy's effective date, not the certificate's own date above it
    assert fields["issue_date"].value == "2022-07-01"
    assert fields["expiration_date"].value == "2023-07-01"
    # printed in capitals, a particle's case is unknown: compared as the scorer does
    assert (fields["person_name"].value or "").casefold() == "anthony di stefano"


def test_a_policy_period_in_one_cell() -> None:
    pages = _page(
        [
            [(0.05, "CERTIFICATE OF LIABILITY INSURANCE")],
            [(0.05, "INSURER A: The Doctors Company")],
            [(0.05, "NAMED INSURED")],
            [(0.05, "Alejandro Núñez, M.D.")],
            [(0.05, "POLICY NUMBER"), (0.35, "POLICY PERIOD"), (0.7, "RETROACTIVE DATE")],
            [(0.05, "PL-2023-88123"), (0.35, "01/01/2023 to 01/01/2024"), (0.7, "01/01/2015")],
        ]
    )
    _doc_type, _conf, fields = extract_fields(pages)
    assert fields["person_name"].value == "Alejandro Núñez"
    assert fields["issue_date"].value == "2023-01-01"  # not the retroactive date
    assert fields["expiration_date"].value == "2024-01-01"
