"""Removal on request takes back what a person's documents taught: after a provider is
removed, nothing learned holds any of their values, and the layout keeps only the static
words other confirmed documents printed too."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from compliance.removal import remove_provider
from extract.pages import read_pages
from ingest.learning import learner
from models import Database, Document, DocumentPage, DocumentStatus, StoreLayout
from models.learned_layout import LearnedExample, LearnedLayout, layout_summaries
from models.spec import fields_for
from models.user import User
from review.approve import approve_document
from review.auth import create_user
from tests.support import CORPUS, corpus_labels


def read_and_approve(db: Database, name: str) -> tuple[int, int, dict[str, str]]:
    """A corpus file recorded as read, then approved with its true fields (learning on)."""
    label = next(d for d in corpus_labels() if d["file"] == name)
    pages = read_pages(CORPUS / name)
    with db.session() as s:
        doc = Document(
            filename=name, status=DocumentStatus.AWAITING_REVIEW, doc_type=label["doc_type"]
        )
        s.add(doc)
        s.flush()
        for p in pages:
            words = [[w.text, w.conf, *w.box] for w in p.words]
            s.add(
                DocumentPage(
                    document_id=doc.id,
                    number=p.number,
                    width=p.width,
                    height=p.height,
                    source=p.source,
                    text=p.text,
                    words=words,
                )
            )
        user = s.scalar(select(User).where(User.username == "coord"))
        if user is None:
            user = create_user(s, "coord", "a long enough password", "coordinator")
            s.flush()
        values = {
            k: str(v) for k, v in label["fields"].items() if k in fields_for(label["doc_type"])
        }
        result = approve_document(s, doc.id, user, label["doc_type"], values, None, learner=learner)
        return doc.id, result.provider_id, values


def learned_text(db: Database) -> str:
    with db.session() as s:
        rows: list[list[Any]] = [[r.doc_type, r.anchors] for r in s.scalars(select(LearnedLayout))]
        rows += [[e.document_id, e.spots] for e in s.scalars(select(LearnedExample))]
    return json.dumps(rows).casefold()


def kept_anywhere(text: str, values: dict[str, str]) -> list[str]:
    """The person's values found in `text`: a number or date anywhere, a name's words as
    a stored word (anchors are single words)."""
    found = []
    for name in ("person_name", "credential_number", "expiration_date"):
        value = values[name].casefold()
        if value in text:
            found.append(value)
        if name == "person_name":
            words = {"".join(c for c in w if c.isalpha()) for w in value.split()}
            found += [w for w in words if len(w) > 1 and f'"{w}"' in text]
    return found


def test_removing_a_provider_leaves_nothing_learned_of_them(db: Database, tmp_path) -> None:
    kept_doc, _, kept = read_and_approve(db, "doc_0034.pdf")
    gone_doc, gone_provider, gone = read_and_approve(db, "doc_0074.pdf")
    with db.session() as s:
        (layout,) = layout_summaries(s)
    assert layout.documents == [kept_doc, gone_doc]

    with db.session() as s:
        remove_provider(s, StoreLayout(tmp_path), gone_provider, actor="manager", reason="request")

    text = learned_text(db)
    assert kept_anywhere(text, gone) == []
    assert kept_anywhere(text, kept) == []  # nor, for that matter, of the one kept
    with db.session() as s:
        (after,) = layout_summaries(s)
        anchors = s.scalars(select(LearnedLayout.anchors)).one()
    assert after.documents == [kept_doc] and after.anchors > 0  # the static words stay
    assert all(a[6] == [kept_doc] for a in anchors)  # none says the removed one showed it

    with db.session() as s:  # the last document of the layout goes: so does the layout
        kept_provider = s.scalar(select(Document.provider_id).where(Document.id == kept_doc))
        assert kept_provider is not None
        remove_provider(s, StoreLayout(tmp_path), kept_provider, actor="manager", reason="request")
    with db.session() as s:
        assert layout_summaries(s) == []
