"""The document's state machine on real SQLite and PostgreSQL: every allowed move moves,
every other pair does not (and says so when asked), and concurrent moves have one winner."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from itertools import product

import pytest
from sqlalchemy import select, update

from ingest import leases
from models import Database, Document, DocumentStatus
from models.document_state import (
    INITIAL,
    TRANSITIONS,
    IllegalTransition,
    allowed_from,
    can_move,
    move,
    move_all,
)

S = DocumentStatus
PAIRS = list(product(S, S))


def _add(db: Database, status: DocumentStatus, n: int = 0, **values: object) -> int:
    with db.session() as s:
        doc = Document(filename=f"d{n}-{status}.pdf", sha256=f"{n:064x}", status=status, **values)
        s.add(doc)
        s.flush()
        return doc.id


def _status(db: Database, doc_id: int) -> str | None:
    with db.session() as s:
        return s.scalar(select(Document.status).where(Document.id == doc_id))


def test_the_table_covers_every_status_and_deleted_is_final() -> None:
    assert set(TRANSITIONS) == set(S)
    assert TRANSITIONS[S.DELETED] == frozenset()
    # every status but deleted can be removed; only failed and received start a row
    assert allowed_from(S.DELETED) == frozenset(set(S) - {S.DELETED})
    assert {S.RECEIVED, S.FAILED} == INITIAL
    assert allowed_from(S.RECEIVED) == {S.FAILED, S.PROCESSING}  # retry, lease given back
    assert allowed_from(S.APPROVED) == {S.AWAITING_REVIEW}
    assert not can_move("approved", "awaiting_review")  # no re-open in this code
    assert not can_move("nonsense", "received")


def test_every_pair_moves_exactly_when_the_table_allows(db: Database) -> None:
    """All 49 (from, to) pairs: allowed ones move and set the values given with them;
    forbidden ones leave the row untouched, and raise when asked to be strict."""
    for n, (from_, to) in enumerate(PAIRS):
        doc_id = _add(db, from_, n)
        allowed = to in TRANSITIONS[from_]
        with db.session() as s:
            assert move(s, doc_id, to, error=f"note {n}") is allowed, (from_, to)
        with db.session() as s:
            status, error = s.execute(
                select(Document.status, Document.error).where(Document.id == doc_id)
            ).one()
        if allowed:
            assert (status, error) == (to, f"note {n}")
            continue
        assert (status, error) == (from_, None), (from_, to)
        with db.session() as s, pytest.raises(IllegalTransition) as raised:
            move(s, doc_id, to, strict=True)
        assert (raised.value.document_id, raised.value.from_status, raised.value.to) == (
            doc_id,
            from_,
            to,
        )
        assert f"document {doc_id}" in str(raised.value)
        # naming a forbidden from-state is refused before the database is asked
        with db.session() as s, pytest.raises(IllegalTransition):
            move(s, doc_id, to, expect=from_)
        assert _status(db, doc_id) == from_


def test_expect_narrows_and_where_guards(db: Database) -> None:
    """`expect` restricts the allowed from-states; an extra condition that fails means no
    move, and strict then names the state the document is still in."""
    received = _add(db, S.RECEIVED, 1)
    processing = _add(db, S.PROCESSING, 2, lease_owner="w1")
    with db.session() as s:
        # processing may go to failed, but not when only `received` is expected
        assert not move(s, processing, S.FAILED, expect=S.RECEIVED)
        assert not move(s, processing, S.FAILED, where=[Document.lease_owner == "w2"])
        with pytest.raises(IllegalTransition) as raised:
            move(s, processing, S.FAILED, where=[Document.lease_owner == "w2"], strict=True)
        assert raised.value.from_status == S.PROCESSING
        assert move(s, processing, S.FAILED, where=[Document.lease_owner == "w1"])
        assert move(s, received, S.PROCESSING, expect=[S.RECEIVED, S.PROCESSING])
    with db.session() as s, pytest.raises(IllegalTransition, match="no such document"):
        move(s, 999_999, S.PROCESSING, strict=True)
    with db.session() as s, pytest.raises(TypeError):
        move(s, received, S.FAILED, status=S.FAILED)
    assert (_status(db, received), _status(db, processing)) == (S.PROCESSING, S.FAILED)


def test_move_all_returns_exactly_the_rows_it_moved(db: Database) -> None:
    """The bulk form (give-ups, removal): only documents allowed to move do, and the ids
    returned are those, so a caller can record one event each."""
    ids = {status: _add(db, status, n) for n, status in enumerate(S)}
    with db.session() as s:
        assert move_all(s, S.FAILED, expect=S.RECEIVED, error="gave up") == [ids[S.RECEIVED]]
        # removal: everything not yet deleted; the deleted one stays untouched
        gone = move_all(s, S.DELETED, ids=list(ids.values()), filename="removed")
        assert gone == sorted(i for st, i in ids.items() if st != S.DELETED)
        assert move_all(s, S.DELETED, ids=[]) == []
        assert move_all(s, S.RECEIVED, ids=list(ids.values())) == []  # nothing is failed now
    with db.session() as s:
        rows = {i: name for i, name in s.execute(select(Document.id, Document.filename))}
    assert rows[ids[S.DELETED]] == f"d{list(S).index(S.DELETED)}-deleted.pdf"
    assert all(rows[i] == "removed" for i in gone)
    with db.session() as s, pytest.raises(IllegalTransition):
        move_all(s, S.AWAITING_REVIEW, expect=S.FAILED)


def test_two_sessions_claiming_the_same_document_one_wins(db: Database) -> None:
    """A second worker's claim waits on the first's uncommitted move (row lock on
    PostgreSQL, write lock on SQLite), then finds the document taken: exactly one wins."""
    doc_id = _add(db, S.RECEIVED)
    results: dict[str, bool] = {}
    first = db.sessions()
    first.begin()
    results["w1"] = leases.claim(first, doc_id, "w1", lease_seconds=600, max_attempts=3)

    def second() -> None:
        with db.session() as s:
            results["w2"] = leases.claim(s, doc_id, "w2", lease_seconds=600, max_attempts=3)

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive(), "the second claim should wait for the first transaction"
    first.commit()
    first.close()
    thread.join(30)
    assert not thread.is_alive()
    assert results == {"w1": True, "w2": False}
    with db.session() as s:
        owner, attempts = s.execute(
            select(Document.lease_owner, Document.attempts).where(Document.id == doc_id)
        ).one()
    assert (owner, attempts) == ("w1", 1)


def test_many_workers_at_once_one_wins_and_an_expired_lease_is_taken_over(db: Database) -> None:
    doc_id = _add(db, S.RECEIVED)
    start = threading.Barrier(4)
    wins: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        start.wait()
        with db.session() as s:
            if leases.claim(s, doc_id, name, lease_seconds=600, max_attempts=3):
                with lock:
                    wins.append(name)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(wins) == 1
    with db.session() as s:
        # a live lease cannot be taken; once it has run out another worker takes it over
        assert not leases.claim(s, doc_id, "late", lease_seconds=600, max_attempts=3)
        s.execute(
            update(Document)
            .where(Document.id == doc_id)
            .values(lease_expires_at=leases.now() - timedelta(seconds=1))
        )
    with db.session() as s:
        assert leases.claim(s, doc_id, "late", lease_seconds=600, max_attempts=3)
    with db.session() as s:
        assert s.scalar(select(Document.lease_owner).where(Document.id == doc_id)) == "late"


def test_approve_and_reject_at_the_same_moment_one_decision_stays(db: Database) -> None:
    """Two reviewers deciding the same document: the second waits for the first's
    transaction and then finds it no longer awaiting review."""
    doc_id = _add(db, S.AWAITING_REVIEW)
    first = db.sessions()
    first.begin()
    assert move(first, doc_id, S.APPROVED, expect=S.AWAITING_REVIEW)
    raised: list[IllegalTransition] = []

    def second() -> None:
        with db.session() as s:
            try:
                move(s, doc_id, S.REJECTED, expect=S.AWAITING_REVIEW, strict=True)
            except IllegalTransition as e:
                raised.append(e)

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive()
    first.commit()
    first.close()
    thread.join(30)
    assert [e.from_status for e in raised] == [S.APPROVED]
    assert _status(db, doc_id) == S.APPROVED
