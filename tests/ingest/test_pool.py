"""The worker pool reads waiting documents in batches, and a worker that dies in a batch
costs an attempt only to the document it was on."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from ingest.dispatch import Dispatcher
from ingest.intake import Intake
from ingest.pool import WorkerConfig, WorkerPool
from ingest.tasks import ProcessOptions
from models import Database, Document, StoreLayout
from tests.ingest.helpers import settled, wait_for
from tests.support import CORPUS, corpus_labels


@pytest.mark.slow
def test_a_worker_killed_in_a_batch_costs_only_its_document_an_attempt(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credflow.db'}"
    db = Database(url)
    db.upgrade()
    layout = StoreLayout(tmp_path)
    scans = [CORPUS / lab["file"] for lab in corpus_labels() if lab["render"]["kind"] == "scan"]
    intake = Intake(db, layout)
    ids = [intake.take_file(p, hint=None, remove=False).document_id for p in scans[:3]]
    pool = WorkerPool(
        WorkerConfig(url, tmp_path, ProcessOptions(lease_seconds=120, max_attempts=3)), 1
    )
    for doc_id in ids:  # all waiting before the worker is ready: it takes them as one batch
        assert pool.submit(doc_id)
    dispatcher = Dispatcher(db, pool, max_attempts=3, poll_seconds=0.2)
    pool.on_done = dispatcher.notify  # what is given back is fed again, as in the service
    pool.start()
    dispatcher.start()
    try:

        def batch_owner() -> str | None:
            with db.session() as s:
                owners = s.scalars(
                    select(Document.lease_owner).where(Document.status == "processing")
                ).all()
            return owners[0] if len(owners) == 3 and len(set(owners)) == 1 else None

        owner = wait_for(batch_owner, timeout=120, interval=0.01)
        time.sleep(0.3)  # it has said which document it opens; reading one takes longer
        os.kill(int(owner.split(":")[1]), signal.SIGKILL)

        wait_for(lambda: settled(db, 3), timeout=180)
        assert wait_for(lambda: pool.idle(), timeout=10)
    finally:
        dispatcher.stop()
        pool.stop()
    with db.session() as s:
        docs = s.scalars(select(Document).order_by(Document.id)).all()
        assert [d.status for d in docs] == ["awaiting_review"] * 3
        assert sorted(d.attempts for d in docs) == [1, 1, 2]
    assert pool.crashes == 1
    db.dispose()
