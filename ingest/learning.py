"""Between the database and `extract.learned`: load what the site has learned (reloaded
only when its version changes), and learn from an approved document.

The review app calls `learn_from_approval` through the callable `credflow` hands it (the
web layer does not import `extract`); workers call `LearnedCache.get` where they build
their extraction inputs.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from extract.learned import Example, LearnedLayout, LearnedLayouts, learn, spots_from_json
from extract.learned.model import spots_json
from extract.types import Page, Word
from models import Database, DocumentPage, record_event
from models.learned_layout import LearnedExample, bump_version, learned_version
from models.learned_layout import LearnedLayout as LayoutRow

log = logging.getLogger(__name__)


def load_learned(session: Session) -> LearnedLayouts:
    """Every learned layout as plain data, with the version it was read at."""
    version = learned_version(session)
    rows = session.scalars(select(LayoutRow).order_by(LayoutRow.id)).all()
    examples: dict[int, list[Example]] = {}
    for e in session.scalars(select(LearnedExample).order_by(LearnedExample.id)):
        examples.setdefault(e.layout_id, []).append(
            Example(e.document_id, e.doc_type, spots_from_json(e.spots))
        )
    layouts = [
        LearnedLayout(r.id, LearnedLayout.anchors_from_json(r.anchors), examples.get(r.id, []))
        for r in rows
    ]
    return LearnedLayouts(layouts, version)


class LearnedCache:
    """The learned layouts of one process: one small query per use, a reload on change."""

    def __init__(self) -> None:
        self.learned: LearnedLayouts | None = None

    def get(self, db: Database) -> LearnedLayouts:
        with db.session() as s:
            version = learned_version(s)
            if self.learned is None or self.learned.version != version:
                self.learned = load_learned(s)
        return self.learned


CACHE = LearnedCache()


def stored_pages(session: Session, document_id: int) -> list[Page]:
    """A document's pages as read, from its DocumentPage rows."""
    pages = []
    for row in session.scalars(
        select(DocumentPage)
        .where(DocumentPage.document_id == document_id)
        .order_by(DocumentPage.number)
    ):
        words = [
            Word(str(w[0]), float(w[1]), (float(w[2]), float(w[3]), float(w[4]), float(w[5])), 0, n)
            for n, w in enumerate(row.words or [])
        ]
        source: Literal["text", "ocr"] = "text" if row.source == "text" else "ocr"
        pages.append(_with_lines(Page(row.number, row.width, row.height, source, words)))
    return pages


def _with_lines(page: Page) -> Page:
    """Line numbers from the boxes (the stored words keep their order, not their lines)."""
    line, last = 0, None
    words = []
    for w in page.words:
        mid = (w.box[1] + w.box[3]) / 2
        if last is not None and (w.box[1] > last[3] - 0.2 * (last[3] - last[1]) or mid < last[1]):
            line += 1
        words.append(Word(w.text, w.conf, w.box, 0, line))
        last = w.box
    page.words = words
    return page


def learn_from_approval(
    session: Session, document_id: int, doc_type: str, values: dict[str, str], actor: str
) -> int | None:
    """Learn the layout of an approved document from its confirmed values, in the caller's
    transaction; returns the layout id, or None when there was nothing to learn from."""
    pages = stored_pages(session, document_id)
    if not pages or not any(p.words for p in pages):
        return None
    learned = load_learned(session)
    layout, created = learn(pages, doc_type, values, document_id, learned)
    if created:
        row = LayoutRow(doc_type=layout.doc_type, anchors=layout.anchors_json())
        session.add(row)
        session.flush()
        layout.id = row.id
    else:
        existing = session.get(LayoutRow, layout.id)
        assert existing is not None
        row = existing
        row.anchors = layout.anchors_json()
        row.doc_type = layout.doc_type
    example = layout.examples[-1]
    session.add(
        LearnedExample(
            layout_id=row.id,
            document_id=document_id,
            doc_type=doc_type,
            spots=spots_json(example.spots),
        )
    )
    bump_version(session)
    record_event(
        session,
        actor=actor,
        action="layout.learned",
        entity_type="learned_layout",
        entity_id=row.id,
        note=(
            f"from document {document_id}: {len(example.spots)} field place(s), "
            f"{len(layout.examples)} confirmed document(s) of this layout"
        ),
    )
    session.flush()
    return row.id


def learner(
    session: Session, document_id: int, doc_type: str, values: dict[str, Any], user: Any
) -> None:
    """The approval hook: learn, but never let a learning problem stop an approval."""
    try:
        with session.begin_nested():
            learn_from_approval(
                session,
                document_id,
                doc_type,
                {k: str(v) for k, v in values.items()},
                user.username,
            )
    except Exception as e:  # a bug here must cost the approval nothing
        log.error("document %s: could not learn its layout (%s)", document_id, type(e).__name__)
