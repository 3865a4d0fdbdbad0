"""What is learned holds no personal values: the layout's printed words and the places of
its fields only. Forgetting a document takes back every word only it showed."""

from __future__ import annotations

import json
import re

from extract.learned import LearnedLayouts, forget, learn, spots_json
from extract.learned.model import PERSONAL_FIELDS
from tests.extract.test_learned_match import pages, truth


def stored_text(layouts: LearnedLayouts) -> str:
    """Everything that would be written to the database, as text."""
    return json.dumps(
        [
            [layout.anchors_json(), [spots_json(e.spots) for e in layout.examples]]
            for layout in layouts.layouts
        ]
    ).casefold()


def personal_pieces(values: dict[str, str]) -> list[str]:
    """A person's values as they could appear: whole, word by word, digits alone."""
    pieces = []
    for name, value in values.items():
        if name not in PERSONAL_FIELDS:
            continue
        pieces.append(value.casefold())
        pieces += [w.casefold().strip(".,") for w in value.split() if len(w.strip(".,")) > 1]
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 4:
            pieces.append(digits)
    return pieces


def test_a_learned_layout_keeps_no_name_number_or_date_of_the_person() -> None:
    layouts = LearnedLayouts()
    for i, name in enumerate(("doc_0034.pdf", "doc_0001.pdf"), 1):
        learn(pages(name), "dea_registration", truth(name), i, layouts)
        text = stored_text(layouts)
        for piece in personal_pieces(truth(name)):
            assert not re.search(rf'"{re.escape(piece)}"', text), piece
        # and nothing numeric from the page at all: anchors are letters only
        assert not any(
            any(c.isdigit() for c in a.token) for lay in layouts.layouts for a in lay.anchors
        )
    # the registrant's street and town, printed under their name, are not kept either
    assert not {"oak", "avenue", "gainesville"} & {a.token for a in layouts.layouts[0].anchors}


def test_a_second_confirmation_keeps_only_the_words_both_printed() -> None:
    layouts = LearnedLayouts()
    learn(pages("doc_0034.pdf"), "dea_registration", truth("doc_0034.pdf"), 1, layouts)
    layout, _ = learn(pages("doc_0074.pdf"), "dea_registration", truth("doc_0074.pdf"), 2, layouts)
    assert layout.anchors and all(a.documents == {1, 2} for a in layout.anchors)
    # the first registrant's street and town, printed only on theirs, are gone
    assert "gainesville" not in {a.token for a in layout.anchors}


def test_forgetting_a_document_takes_back_what_only_it_taught() -> None:
    layouts = LearnedLayouts()
    learn(pages("doc_0034.pdf"), "dea_registration", truth("doc_0034.pdf"), 1, layouts)
    layout, _ = learn(pages("doc_0074.pdf"), "dea_registration", truth("doc_0074.pdf"), 2, layouts)
    assert forget(layout, {2})  # the layout stays: document 1 taught it too
    assert [e.document_id for e in layout.examples] == [1]
    assert all(a.documents == {1} for a in layout.anchors)
    assert not forget(layout, {1})  # nothing of the layout is left
    assert not layout.anchors and not layout.examples
