"""A fax machine's header line is never read as the document's date, person or issuer."""

from __future__ import annotations

from extract.fields import extract_fields
from extract.fields.transmission import is_transmission_line, without_transmission_lines
from extract.types import Page, Word


def _line(text: str, y: float, line: int) -> list[Word]:
    words, x = [], 0.05
    for token in text.split():
        w = 0.012 * len(token)
        words.append(Word(token, 0.95, (x, y, x + w, y + 0.012), 1, line))
        x += w + 0.01
    return words


def test_fax_headers_are_told_from_letterheads() -> None:
    assert is_transmission_line("JAN-05-2025 10:23 FROM:HUMAN RESOURCES 2025551234 P.001/002")
    assert is_transmission_line("SEP-20-2025 15:39 FROM: CREDENTIALING (339) 260-3625 P.001")
    assert is_transmission_line("JUL-22-2025 67:58 FROM:RISK MGMT 4986297709 P.661/001")  # OCR
    assert is_transmission_line("Mar 3 2024 9:41AM  Fax: 555 201 3344  Page 1 of 3")
    assert not is_transmission_line("Tel (555) 201-3344  Fax (555) 201-3345  www.board.org")
    assert not is_transmission_line("Information current as of 08/19/2025 6:03 PM")
    assert not is_transmission_line("State Board of Nursing")


def test_the_header_goes_and_the_document_stays() -> None:
    words = _line("NOV-02-2025 14:07 FROM:MEDICAL STAFF SVCS 4155550199 P.001/001", 0.01, 0)
    words += _line("Expiration Date 01/31/2026", 0.5, 1)
    page = Page(1, 1700, 2200, "ocr", words)
    kept = without_transmission_lines(page).words
    assert [w.text for w in kept] == ["Expiration", "Date", "01/31/2026"]
    # the same line in the middle of the page is the document's own text
    middle = Page(1, 1700, 2200, "ocr", _line("10:23 FROM: 2025551234 P.1/2", 0.5, 0))
    assert len(without_transmission_lines(middle).words) == 4


def test_a_faxed_letter_without_a_date_of_its_own_gets_none_from_the_header() -> None:
    rows = [
        "01/05/2025 10:23 FROM: Laura Kim 2025551234 P.001/001",
        "Mercy Regional Medical Center",
        "To whom it may concern:",
        "This letter verifies that Dana R. Whitfield was employed at Mercy Regional",
        "Medical Center as Staff Physician from July 1, 2015 to June 30, 2022.",
        "Sincerely,",
        "Laura Kim, Director of Human Resources",
    ]
    words = [w for i, text in enumerate(rows) for w in _line(text, 0.01 + 0.05 * i, i)]
    doc_type, _conf, fields = extract_fields([Page(1, 1700, 2200, "ocr", words)])
    assert doc_type == "employment_verification"
    assert fields["start_date"].value == "2015-07-01"
    assert "issue_date" not in fields  # 01/05/2025 is when it was faxed
    assert all("2025" not in (f.value or "") for f in fields.values())
