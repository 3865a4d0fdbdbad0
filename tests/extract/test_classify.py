"""doc_type from robust cues; documents that are not credentials come out as `other` with
no field a reviewer could skip."""

from __future__ import annotations

import pytest

from extract import extract_file
from extract.classify import classify
from extract.fields.layout import build_layout
from extract.types import Page, Word
from tests.support import CORPUS, REAL, corpus_labels

LABELS = {lab["file"]: lab for lab in corpus_labels()}


def _page(lines: list[str]) -> Page:
    words = []
    for n, line in enumerate(lines):
        x = 0.1
        for t in line.split():
            words.append(
                Word(t, 1.0, (x, 0.05 + 0.03 * n, x + 0.01 * len(t), 0.07 + 0.03 * n), 0, n)
            )
            x += 0.01 * len(t) + 0.01
    return Page(1, 612, 792, "text", words)


@pytest.mark.parametrize(
    ("lines", "doc_type"),
    [
        (
            [
                "Texas Board of Nursing",
                "Registered Nurse",
                "License No. 812345",
                "Expires 05/31/2027",
            ],
            "nursing_license",
        ),
        (
            [
                "CONTROLLED SUBSTANCE REGISTRATION CERTIFICATE",
                "DRUG ENFORCEMENT ADMINISTRATION",
                "BS1234563",
            ],
            "dea_registration",
        ),
        (
            [
                "American Board of Internal Medicine",
                "certifies that",
                "Jane Roe, MD",
                "is a Diplomate",
            ],
            "board_certification",
        ),
        # OCR damage: letters confused and words broken
        (
            ["Amerlcan Heart Associatlon", "Basic Life Supp0rt Provider", "Issue Date 1/2/2024"],
            "life_support_card",
        ),
        (["INVOICE", "Bill To", "Subtotal $120.00", "Total due $130.00"], "other"),
        # a regulator of many professions: the licence type and the statute decide
        (
            [
                "DEPARTMENT OF FINANCIAL AND PROFESSIONAL REGULATION",
                "LICENSE NUMBER 041.434675",
                "The REGISTERED NURSE named below IS LICENSED under the Nurse Practice Act.",
            ],
            "nursing_license",
        ),
    ],
)
def test_cues_decide_type(lines: list[str], doc_type: str) -> None:
    result = classify(build_layout([_page(lines)]), 1)
    assert result.doc_type == doc_type, result.scores


def test_the_profession_named_outweighs_a_regulator_of_many_professions() -> None:
    # a state education department licenses physicians and nurses alike
    lines = [
        "NEW YORK STATE EDUCATION DEPARTMENT",
        "LICENSE NUMBER 663001",
        "The REGISTERED NURSE named below IS LICENSED under the Education Law.",
    ]
    result = classify(build_layout([_page(lines)]), 1, {"medical_board"})
    assert result.doc_type == "nursing_license", result.scores


def test_an_amount_of_credit_makes_a_continuing_education_certificate() -> None:
    lines = [
        "American Academy of Family Physicians",
        "Certificate of Completion",
        "Awarded to Brianna Patel, DO",
        "for successful completion of Antimicrobial Stewardship",
        "Credit: 1.50 AAFP Prescribed credits",
    ]
    result = classify(build_layout([_page(lines)]), 1)
    assert result.doc_type == "cme_certificate", result.scores


@pytest.mark.parametrize(
    "name",
    [
        "doc_0013.pdf",
        "doc_0016.pdf",
        "doc_0026.pdf",
        "doc_0036.pdf",
        "doc_0066.pdf",
        "doc_0107.pdf",
        "doc_0033.png",
        "doc_0108.pdf",
    ],
)
def test_corpus_documents(name: str) -> None:
    assert extract_file(CORPUS / name).doc_type == LABELS[name]["doc_type"]


@pytest.mark.parametrize(
    "name",
    [
        "issue-33-lorem-ipsum.pdf",
        "scotus-transcript-p1.pdf",
        "senate-expenditures.pdf",
        "pdffill-demo.pdf",
    ],
)
def test_real_pdfs_that_are_not_credentials(name: str) -> None:
    result = extract_file(REAL / "other-pdfs" / name)
    assert result.doc_type == "other"
    assert all(f.confidence < 0.9 for f in result.fields.values())
