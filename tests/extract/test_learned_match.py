"""Recognising a learned layout: by its static words and where they sit, whatever the
scale, skew or OCR noise of the new copy; and not mistaking another layout for it."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from functools import cache

from extract.learned import LearnedLayouts, learn, match
from extract.pages import read_pages
from extract.types import Page
from tests.support import CORPUS, corpus_labels


@cache
def pages(name: str) -> list[Page]:
    return read_pages(CORPUS / name)


def truth(name: str) -> dict[str, str]:
    label = next(label for label in corpus_labels() if label["file"] == name)
    return {k: str(v) for k, v in label["fields"].items() if v is not None}


def learned_from(*names: str) -> LearnedLayouts:
    layouts = LearnedLayouts()
    for i, name in enumerate(names, 1):
        learn(
            pages(name),
            "dea_registration",
            truth(name),
            i,
            layouts,
            new_id=len(layouts.layouts) + 1,
        )
    return layouts


def rendered_badly(source: list[Page], seed: int = 1) -> list[Page]:
    """The same page as a skewed, shrunk, shifted scan read by a noisy OCR: 2 degrees,
    90% scale, a fifth of the words lost and a tenth misspelt."""
    rng = random.Random(seed)
    angle = math.radians(2.0)
    cos, sin = math.cos(angle), math.sin(angle)

    def move(x: float, y: float) -> tuple[float, float]:
        x, y = 0.9 * x + 0.04, 0.9 * y + 0.03
        return cos * x - sin * y + 0.02, sin * x + cos * y

    out = []
    for p in source:
        words = []
        for w in p.words:
            if rng.random() < 0.2:
                continue
            text = w.text
            if len(text) > 4 and rng.random() < 0.1:
                i = rng.randrange(len(text))
                text = text[:i] + "c" + text[i + 1 :]
            x0, y0 = move(w.box[0], w.box[1])
            x1, y1 = move(w.box[2], w.box[3])
            words.append(replace(w, text=text, box=(x0, y0, x1, y1), conf=0.8))
        out.append(Page(p.number, p.width, p.height, "ocr", words))
    return out


def test_a_second_certificate_of_the_same_layout_is_recognised() -> None:
    layouts = learned_from("doc_0034.pdf")
    found = match(pages("doc_0074.pdf"), layouts)
    assert found is not None
    assert found.layout is layouts.layouts[0]
    assert found.share > 0.5


def test_recognised_through_skew_scale_and_ocr_noise() -> None:
    layouts = learned_from("doc_0034.pdf")
    found = match(rendered_badly(pages("doc_0074.pdf")), layouts)
    assert found is not None
    # the fit recovers the 90% scale and the 2 degree turn from the lines' heights (words
    # slide along their lines from one copy to the next, so across the page it is looser)
    assert abs(found.transform[1, 1] - 0.9 * math.cos(math.radians(2))) < 0.01
    assert abs(found.transform[1, 0] - 0.9 * math.sin(math.radians(2))) < 0.01


def test_another_layout_is_not_taken_for_it() -> None:
    layouts = learned_from("doc_0034.pdf")  # a DEA certificate
    assert match(pages("doc_0001.pdf"), layouts) is None  # a certificate of insurance


def test_matching_among_many_layouts_is_quick() -> None:
    """Example of use: a thousand learned layouts (the DEA one among shuffled copies of
    the insurance form's words) and the page still finds its own (the time it takes is
    measured by bench/learning.py)."""
    layouts = learned_from("doc_0034.pdf")
    rng = random.Random(3)
    base = learned_from("doc_0001.pdf").layouts[0]
    for n in range(999):
        anchors = [replace(a, x=rng.random(), y=rng.random(), documents={n}) for a in base.anchors]
        layouts.layouts.append(replace(base, id=n + 2, anchors=anchors, examples=[]))
    found = match(pages("doc_0074.pdf"), layouts)
    assert found is not None and found.layout.id == 1
