"""Fields of real corpus documents (text PDFs, scans, photos) against their labels.

Scanned and photographed pages go through real tesseract, so a few fields may be lost to
OCR damage: each case says how many of the labeled fields must come out exactly right
(after the scorer's normalisation), and that no field at 0.9 or above is wrong.
"""

from __future__ import annotations

import sys

import pytest

from extract import extract_file
from tests.support import CORPUS, SHARED, corpus_labels

sys.path.insert(0, str(SHARED / "tools"))
from score_extraction import normalise

LABELS = {lab["file"]: lab for lab in corpus_labels()}

CASES = [
    # file, fields that may be missed (of those labeled)
    ("doc_0001.pdf", 0),  # pdf_text insurance certificate form
    ("doc_0044.pdf", 0),  # pdf_text licence lookup, "FAMILY, GIVEN" name
    ("doc_0034.pdf", 0),  # pdf_text DEA certificate
    ("doc_0086.pdf", 0),  # pdf_text board verification letter
    ("doc_0105.pdf", 0),  # pdf_text employment form with a "completed by" section
    ("doc_0020.pdf", 0),  # pdf_text diploma, date in prose
    ("doc_0004.tif", 1),  # scan, board certificate
    ("doc_0011.png", 1),  # scan, Red Cross certificate
    ("doc_0054.tif", 1),  # scan, licence notice
    ("doc_0065.png", 1),  # scan, CME transcript
    ("doc_0064.jpg", 1),  # photo, reference letter
    ("doc_0099.jpg", 2),  # photo, insurance certificate
]


@pytest.mark.parametrize(("name", "may_miss"), CASES)
def test_fields_match_labels(name: str, may_miss: int) -> None:
    label = LABELS[name]
    result = extract_file(CORPUS / name)
    got = result.to_json()
    assert got["doc_type"] == label["doc_type"]
    right = [
        f
        for f, v in label["fields"].items()
        if normalise(f, got["fields"].get(f)) == normalise(f, v)
    ]
    assert len(right) >= len(label["fields"]) - may_miss, (right, got["fields"], label["fields"])
    for f, conf in got["confidence"].items():
        if conf >= 0.9 and f in label["fields"]:
            assert normalise(f, got["fields"][f]) == normalise(f, label["fields"][f]), f
    for f, ev in got["evidence"].items():
        if got["fields"][f] is not None:
            assert ev["page"] >= 1
            x0, y0, x1, y1 = ev["box"]
            assert 0 <= x0 <= x1 <= 1 and 0 <= y0 <= y1 <= 1


def test_every_field_carries_candidates_and_problems_lists() -> None:
    result = extract_file(CORPUS / "doc_0034.pdf")
    dea = result.fields["credential_number"]
    assert dea.value == "AT6360781" and dea.problems == [] and dea.confidence >= 0.9
    for f in result.fields.values():
        assert isinstance(f.candidates, list) and isinstance(f.problems, list)
        assert 0.0 <= f.confidence <= 1.0


def test_pipeline_is_built_once_per_process() -> None:
    from extract.nlp import analyse, get_nlp

    nlp = get_nlp()
    assert get_nlp() is nlp
    assert nlp.pipe_names == ["credflow_gazetteer", "credflow_cues", "credflow_shapes"]
    doc = analyse("Texas Board of Nursing\tRegistered Nurse\tDEA AB1234563")
    assert get_nlp() is nlp
    assert {(s.text, s.label_) for s in doc.spans["gazetteer"]} >= {
        ("Texas Board of Nursing", "nursing_board")
    }
    assert [s.text for s in doc.spans["shapes"] if s.label_ == "DEA"] == ["AB1234563"]
