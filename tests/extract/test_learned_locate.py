"""Finding a confirmed value among the words: dates in any printed form, names printed
family name first, OCR slips."""

from __future__ import annotations

from extract.learned.locate import locate
from extract.types import Page, Word


def page(*lines: str) -> Page:
    words = []
    for n, line in enumerate(lines):
        for i, text in enumerate(line.split()):
            x = 0.05 + 0.1 * i
            words.append(Word(text, 1.0, (x, 0.05 * n + 0.02, x + 0.08, 0.05 * n + 0.04), 0, n))
    return Page(1, 612, 792, "ocr", words)


def texts(p: Page, field: str, value: str) -> str | None:
    found = locate([p], field, value)
    return " ".join(p.words[i].text for i in found.words) if found else None


def test_a_date_is_found_however_it_is_printed() -> None:
    p = page("Date of issue: March 5, 2021", "Expires 03/31/2026")
    assert texts(p, "issue_date", "2021-03-05") == "March 5, 2021"
    assert texts(p, "expiration_date", "2026-03-31") == "03/31/2026"
    assert texts(p, "expiration_date", "2027-03-31") is None


def test_a_name_is_found_family_name_first_and_through_ocr_slips() -> None:
    p = page("Registrant: ESPOSITO, DIANE N", "Signed: Dr. Rnbert Kim")
    assert texts(p, "person_name", "Diane N Esposito") == "ESPOSITO, DIANE N"
    assert texts(p, "referee_name", "Robert Kim") == "Rnbert Kim"


def test_a_state_is_found_by_its_name_or_code() -> None:
    assert texts(page("State Medical Board of Ohio"), "jurisdiction", "OH") == "Ohio"
    assert texts(page("Address: 12 Main St, Columbus OH 43004"), "jurisdiction", "OH") == "OH"


def test_a_value_split_over_two_lines_is_found_whole() -> None:
    p = page("Certified by the American Board of", "Internal Medicine since 2019")
    assert texts(p, "issuer", "American Board of Internal Medicine") == (
        "American Board of Internal Medicine"
    )
