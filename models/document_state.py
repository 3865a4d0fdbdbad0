"""The document's state machine: which status may follow which, and the one guarded move.

Every change of `Document.status` goes through `move` or `move_all`: one conditional
UPDATE whose WHERE names the document *and* the states it may leave for the target.
Two workers, two reviewers or a removal racing a read can therefore never both win: the
database re-checks the status under its row lock and the loser's UPDATE matches no row.
Callers add their own guards (lease owner, attempts left, claim holder) with `where=`,
and record the audit event themselves, because only they know what happened.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from models.document import Document, DocumentStatus

S = DocumentStatus

# where a new row may start: intake stores a readable file as received, and one it can
# already tell is unreadable (not a PDF or image) as failed, with the reason
INITIAL: frozenset[DocumentStatus] = frozenset({S.RECEIVED, S.FAILED})

TRANSITIONS: Mapping[DocumentStatus, frozenset[DocumentStatus]] = {
    # a worker takes it; it is given up after its attempts ran out; removal on request
    S.RECEIVED: frozenset({S.PROCESSING, S.FAILED, S.DELETED}),
    S.PROCESSING: frozenset(
        {
            S.AWAITING_REVIEW,  # read: pages and proposed fields stored
            S.FAILED,  # unreadable, or the last attempt was interrupted
            S.RECEIVED,  # given back: the worker stopped or died, or its lease ran out
            S.PROCESSING,  # another worker takes over a lease that ran out
            S.DELETED,  # removal (refused by removal itself while a lease is live)
        }
    ),
    S.AWAITING_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.DELETED}),
    S.APPROVED: frozenset({S.DELETED}),
    S.REJECTED: frozenset({S.DELETED}),
    S.FAILED: frozenset({S.RECEIVED, S.DELETED}),  # retry: read again with fresh attempts
    S.DELETED: frozenset(),  # a tombstone: nothing follows
}


def allowed_from(to: DocumentStatus) -> frozenset[DocumentStatus]:
    """The states a document may be in to move to `to`."""
    return frozenset(s for s, targets in TRANSITIONS.items() if to in targets)


def can_move(from_: str, to: str) -> bool:
    try:
        return DocumentStatus(to) in TRANSITIONS.get(DocumentStatus(from_), frozenset())
    except ValueError:
        return False


class IllegalTransition(Exception):
    """A document could not move from `from_status` to `to`: the pair is not in
    TRANSITIONS, or (when the caller asked `strict=True`) the guarded UPDATE matched no
    row because the document had moved on, was missing (`from_status` None) or a caller's
    extra condition did not hold."""

    def __init__(self, document_id: int | None, from_status: str | None, to: str) -> None:
        self.document_id = document_id
        self.from_status = from_status
        self.to = to
        which = "documents" if document_id is None else f"document {document_id}"
        if from_status is None and document_id is not None:
            super().__init__(f"{which} cannot move to {to}: no such document")
        else:
            super().__init__(f"{which} cannot move from {from_status} to {to}")


def _sources(
    to: DocumentStatus, expect: str | Iterable[str] | None, doc_id: int | None
) -> list[str]:
    """The from-states the UPDATE accepts: `expect` narrowed to what TRANSITIONS allows;
    an `expect` outside it is a programming error, raised before touching the database."""
    allowed = allowed_from(to)
    if expect is None:
        wanted: Collection[str] = allowed
    elif isinstance(expect, str):
        wanted = {expect}
    else:
        wanted = set(expect)
    for s in sorted(wanted):
        if s not in allowed:
            raise IllegalTransition(doc_id, s, to)
    return sorted(str(s) for s in wanted)


def move(
    session: Session,
    doc_id: int,
    to: DocumentStatus,
    *,
    expect: str | Iterable[str] | None = None,
    where: Iterable[ColumnElement[bool]] = (),
    strict: bool = False,
    **values: Any,
) -> bool:
    """Move one document to `to` (setting `values` with it) if it is in a state allowed to
    move there (narrowed to `expect`) and every `where` holds; True when it moved.

    One `UPDATE ... WHERE id = ? AND status IN (...)`, so concurrent callers are safe.
    With `strict`, a move that did not happen raises IllegalTransition naming the state
    the document is in. The session's loaded objects are not refreshed (callers expire
    what they hold)."""
    if "status" in values:
        raise TypeError("give the new status as `to`, not in values")
    sources = _sources(to, expect, doc_id)
    result = session.execute(
        update(Document)
        .where(Document.id == doc_id, Document.status.in_(sources), *where)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    moved = bool(result.rowcount == 1)  # type: ignore[attr-defined]
    if not moved and strict:
        current = session.scalar(select(Document.status).where(Document.id == doc_id))
        raise IllegalTransition(doc_id, current, to)
    return moved


def move_all(
    session: Session,
    to: DocumentStatus,
    *,
    ids: Iterable[int] | None = None,
    expect: str | Iterable[str] | None = None,
    where: Iterable[ColumnElement[bool]] = (),
    **values: Any,
) -> list[int]:
    """Move every document (of `ids`, if given) that may move to `to` and meets `where`;
    returns the ids that moved, in order. One UPDATE with RETURNING, so the ids are
    exactly the rows this call changed, not a second read that could see other moves."""
    if "status" in values:
        raise TypeError("give the new status as `to`, not in values")
    sources = _sources(to, expect, None)
    stmt = update(Document).where(Document.status.in_(sources), *where)
    if ids is not None:
        id_list = list(ids)
        if not id_list:
            return []
        stmt = stmt.where(Document.id.in_(id_list))
    result = session.execute(
        stmt.values(status=to, **values)
        .returning(Document.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars())
