"""Claims and decisions under concurrency: the database, not luck, keeps two reviewers from
reviewing or deciding the same document (real threads, SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from models import Credential, Database, Document, StoreLayout, User
from models.base import utcnow
from review import approve, claims
from tests.review.test_api_support import LICENSE_FIELDS, add_users, seed_document


def race(db: Database, usernames: list[str], act: Callable[[Any, User], Any]) -> dict[str, Any]:
    """Run `act(session, user)` for each user in its own thread and session, all released
    at the same instant; each result (or the exception raised) by username."""
    barrier = threading.Barrier(len(usernames))
    results: dict[str, Any] = {}

    def run(name: str) -> None:
        with db.sessions() as session:
            user = session.scalars(select(User).where(User.username == name)).one()
            barrier.wait()
            try:
                results[name] = act(session, user)
                session.commit()
            except Exception as err:
                session.rollback()
                results[name] = err

    threads = [threading.Thread(target=run, args=(n,)) for n in usernames]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_reviewers_racing_for_one_document_only_one_gets_it(
    db: Database, tmp_path: Path
) -> None:
    add_users(db)
    layout = StoreLayout(tmp_path)
    for round_ in range(5):
        doc = seed_document(db, layout, name=f"race-{round_}.png")

        def take(session: Any, user: User, doc: int = doc) -> bool:
            return claims.claim(session, doc, user, 300)

        results = race(db, ["coordinator", "manager"], take)
        assert sorted(results.values()) == [False, True], results
        winner = next(name for name, ok in results.items() if ok)
        with db.session() as session:
            holder = claims.claim_holder(session, doc)
            assert holder is not None and holder[0].username == winner


def test_two_reviewers_approving_at_once_make_one_credential(db: Database, tmp_path: Path) -> None:
    add_users(db)
    doc = seed_document(db, StoreLayout(tmp_path))
    values = {k: v for k, (v, _) in LICENSE_FIELDS.items()}
    results = race(
        db,
        ["coordinator", "admin"],
        lambda s, u: approve.approve_document(s, doc, u, "medical_license", values, None),
    )
    outcomes = sorted(type(r).__name__ for r in results.values())
    assert outcomes == ["ApproveResult", "Conflict"], results
    with db.session() as session:
        assert len(session.scalars(select(Credential)).all()) == 1


def test_a_claim_left_behind_expires(db: Database, tmp_path: Path) -> None:
    add_users(db)
    doc = seed_document(db, StoreLayout(tmp_path))
    with db.session() as session:
        coordinator = session.scalars(select(User).where(User.username == "coordinator")).one()
        manager = session.scalars(select(User).where(User.username == "manager")).one()
        assert claims.claim(session, doc, coordinator, 300)
    with db.session() as session:
        assert not claims.claim(session, doc, manager, 300)
        assert claims.next_document_for(session, manager) is None
        # the coordinator's tab was closed five minutes ago
        session.execute(
            update(Document)
            .where(Document.id == doc)
            .values(claim_expires_at=utcnow() - timedelta(seconds=1))
        )
    with db.session() as session:
        assert claims.claim_holder(session, doc) is None
        nxt = claims.next_document_for(session, manager)
        assert nxt is not None and nxt.id == doc
        assert claims.claim(session, doc, manager, 300)
    with db.session() as session:
        # the coordinator's renewal now fails: the claim was lost
        assert not claims.renew(session, doc, coordinator, 300)
        assert claims.renew(session, doc, manager, 300)
        assert not claims.release(session, doc, coordinator)
        assert claims.release(session, doc, coordinator, force=True)
        assert claims.claim_holder(session, doc) is None


def test_auditor_never_claims_or_decides(db: Database, tmp_path: Path) -> None:
    add_users(db)
    doc = seed_document(db, StoreLayout(tmp_path))
    with db.session() as session:
        auditor = session.scalars(select(User).where(User.username == "auditor")).one()
        assert not claims.claim(session, doc, auditor, 300)
        assert claims.claim_next(session, auditor, 300) is None
        try:
            approve.reject_document(session, doc, auditor, "no")
        except approve.ReviewError as err:
            assert err.status_code == 403
        else:
            raise AssertionError("an auditor rejected a document")
