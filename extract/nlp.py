"""The spaCy pipeline of the extraction: `spacy.blank("en")` plus rule components.

- `credflow_gazetteer`: a PhraseMatcher over every gazetteer name (boards, schools,
  carriers, training bodies, specialties, courses), case-insensitive, into
  `doc.spans["gazetteer"]` labelled by kind.
- `credflow_cues`: a SpanRuler of the doc-type cue phrases into `doc.spans["cues"]`.
- `credflow_shapes`: a Matcher for identifier shapes (DEA numbers, NPIs, licence-like
  numbers) into `doc.spans["shapes"]`.

Loaded once per process (lazy singleton): building the matchers costs ~0.3 s, a document
costs a few milliseconds.
"""

from __future__ import annotations

import threading

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from extract.fields import gazetteers

_lock = threading.Lock()
_nlp: Language | None = None


class GazetteerMatcher:
    def __init__(self, nlp: Language) -> None:
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        g = gazetteers.load()
        by_kind: dict[str, list[str]] = {}
        for entry in g.entries:
            by_kind.setdefault(entry.kind, []).append(entry.name)
        by_kind["specialty"] = list(g.specialties)
        by_kind["course"] = [c["name"] for c in g.courses] + [
            c["abbr"] for c in g.courses if len(c["abbr"]) > 2
        ]
        by_kind["state"] = [name.title() for name in g.states]
        for kind, names in by_kind.items():
            self.matcher.add(kind, [nlp.make_doc(n) for n in names])

    def __call__(self, doc: Doc) -> Doc:
        spans = [Span(doc, s, e, label=doc.vocab.strings[m]) for m, s, e in self.matcher(doc)]
        doc.spans["gazetteer"] = spans
        return doc


class ShapeMatcher:
    def __init__(self, nlp: Language) -> None:
        self.matcher = Matcher(nlp.vocab)
        self.matcher.add("DEA", [[{"LENGTH": 9, "SHAPE": {"IN": ["XXdddd", "XXdddddd"]}}]])
        self.matcher.add("NPI", [[{"LENGTH": 10, "IS_DIGIT": True}]])

    def __call__(self, doc: Doc) -> Doc:
        doc.spans["shapes"] = [
            Span(doc, s, e, label=doc.vocab.strings[m]) for m, s, e in self.matcher(doc)
        ]
        return doc


@Language.factory("credflow_gazetteer")
def _make_gazetteer(nlp: Language, name: str) -> GazetteerMatcher:
    return GazetteerMatcher(nlp)


@Language.factory("credflow_shapes")
def _make_shapes(nlp: Language, name: str) -> ShapeMatcher:
    return ShapeMatcher(nlp)


def _build() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("credflow_gazetteer")
    ruler = nlp.add_pipe(
        "span_ruler",
        name="credflow_cues",
        config={"spans_key": "cues", "phrase_matcher_attr": "LOWER"},
    )
    patterns = []
    for doc_type, spec in gazetteers.load().doc_types.items():
        for phrase in spec["cues"]:
            patterns.append({"label": doc_type, "pattern": phrase, "id": phrase})
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    nlp.add_pipe("credflow_shapes")
    return nlp


# Every unseen token (OCR noise included) is added to the vocabulary for good; a worker
# that runs for months rebuilds its pipeline now and then so memory stays flat.
REBUILD_AFTER = 5000
_served = 0


def get_nlp() -> Language:
    """The process's pipeline, built on first use."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                _nlp = _build()
    return _nlp


def analyse(text: str) -> Doc:
    """Run the pipeline over one document's text."""
    global _nlp, _served
    _served += 1
    if _served > REBUILD_AFTER:
        with _lock:
            _nlp, _served = None, 1
    return get_nlp()(text)
