"""Proposing values from confirmed documents of a layout: the second document of a layout
comes out right, says where its values came from, and grows surer with each confirmation."""

from __future__ import annotations

from extract.fields import extract_fields
from extract.learned import LearnedLayouts, apply_learned, learn, propose
from tests.extract.test_learned_match import pages, rendered_badly, truth


def test_the_second_certificate_gets_its_values_from_the_first() -> None:
    layouts = LearnedLayouts()
    learn(pages("doc_0034.pdf"), "dea_registration", truth("doc_0034.pdf"), 1, layouts)
    proposal = propose(pages("doc_0074.pdf"), layouts)
    assert proposal is not None
    assert proposal.doc_type == "dea_registration"
    expected = truth("doc_0074.pdf")
    for name in ("credential_number", "expiration_date", "issue_date", "schedules", "jurisdiction"):
        assert proposal.fields[name].value == expected[name], name
    assert proposal.fields["credential_number"].source == "from 1 confirmed document of this layout"


def test_values_are_read_from_a_skewed_noisy_copy_too() -> None:
    layouts = LearnedLayouts()
    learn(pages("doc_0034.pdf"), "dea_registration", truth("doc_0034.pdf"), 1, layouts)
    proposal = propose(rendered_badly(pages("doc_0055.pdf"), seed=5), layouts)
    assert proposal is not None
    found = {n: f.value for n, f in proposal.fields.items()}
    expected = truth("doc_0055.pdf")
    right = [n for n in found if found[n] == expected.get(n)]
    assert len(right) >= 4, (found, expected)


def test_confidence_grows_with_agreeing_confirmations() -> None:
    layouts = LearnedLayouts()
    learn(pages("doc_0034.pdf"), "dea_registration", truth("doc_0034.pdf"), 1, layouts)
    once = propose(pages("doc_0074.pdf"), layouts)
    layout, started = learn(
        pages("doc_0055.pdf"), "dea_registration", truth("doc_0055.pdf"), 2, layouts
    )
    assert not started and len(layout.examples) == 2  # the same layout, taught twice
    twice = propose(pages("doc_0074.pdf"), layouts)
    assert once is not None and twice is not None
    field = "credential_number"
    assert twice.fields[field].confidence > once.fields[field].confidence
    assert twice.fields[field].source == "from 2 confirmed documents of this layout"


def test_proposals_compete_with_the_rules_on_one_scale() -> None:
    """Where the rules and the layout agree the field is surer than either; the rules'
    fields the layout says nothing about are kept as they were."""
    new = pages("doc_0074.pdf")
    rules_type, rules_conf, rules = extract_fields(new)
    before = {n: (f.value, f.confidence) for n, f in rules.items()}
    layouts = LearnedLayouts()
    learn(pages("doc_0034.pdf"), "dea_registration", truth("doc_0034.pdf"), 1, layouts)
    doc_type, _, fields = apply_learned(new, rules_type, rules_conf, rules, layouts)
    assert doc_type == "dea_registration"
    number = fields["credential_number"]
    assert number.value == before["credential_number"][0]  # both read the same number
    assert number.confidence > before["credential_number"][1]
    assert number.source == "from 1 confirmed document of this layout and the rules"


def test_without_learned_layouts_the_rules_stand() -> None:
    new = pages("doc_0074.pdf")
    result = extract_fields(new)
    assert apply_learned(new, *result, None) == result
    assert apply_learned(new, *result, LearnedLayouts()) == result


def test_a_document_the_rules_cannot_place_gets_its_type_from_its_layout() -> None:
    """Doc-type classification learns too: whatever the rules made of it ("other", barely
    sure), a document of a confirmed layout gets that layout's type and fields."""
    layouts = LearnedLayouts()
    learn(pages("doc_0034.pdf"), "dea_registration", truth("doc_0034.pdf"), 1, layouts)
    doc_type, confidence, fields = apply_learned(pages("doc_0074.pdf"), "other", 0.2, {}, layouts)
    assert doc_type == "dea_registration" and confidence > 0.5
    assert fields["credential_number"].value == truth("doc_0074.pdf")["credential_number"]
