"""Per-doc-type knowledge is data: extract/data/profiles.json, one profile per doc_type."""

from __future__ import annotations

from extract.fields.profiles import profile
from extract.types import DOC_TYPES


def test_every_doc_type_has_a_profile_with_the_default_filling_gaps() -> None:
    for doc_type in DOC_TYPES:
        p = profile(doc_type)
        assert len(p.period) == 2 and p.period[0] != p.period[1]
    assert profile("malpractice_insurance").period == ("issue_date", "expiration_date")
    assert not profile("diploma").canonical_titles


def test_a_period_fills_what_the_type_means_by_it() -> None:
    # a training certificate is issued when training ends; an employment just ends
    assert profile("training_certificate").period == ("start_date", "issue_date")
    assert profile("employment_verification").period == ("start_date", "end_date")


def test_fields_read_beyond_the_spec_list() -> None:
    assert "issue_date" in profile("dea_registration").also_extract  # printed, not scored
