"""A Celery worker on another machine uses what was learned: it reads a document, the
document is approved (learning its layout, which bumps the version), and the same worker
reloads and reads the next document of that layout from the confirmed one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from ingest.intake import Intake
from ingest.learning import learner
from models import Database, Document, DocumentField, StoreLayout
from models.learned_layout import learned_version
from models.spec import fields_for
from review.approve import approve_document
from review.auth import create_user
from tests.ingest.helpers import wait_for
from tests.ingest.test_celery import (  # noqa: F401  (pg_url, queue_name: fixtures)
    _worker,
    celery_service,
    pg_url,
    queue_name,
)
from tests.support import CORPUS, corpus_labels

pytestmark = [pytest.mark.celery, pytest.mark.postgres, pytest.mark.slow]


def _status(db: Database, doc_id: int) -> str | None:
    with db.session() as s:
        return s.scalar(select(Document.status).where(Document.id == doc_id))


def test_a_celery_worker_reads_the_next_document_from_the_confirmed_one(
    tmp_path: Path,
    pg_url: str,  # noqa: F811
    queue_name: str,  # noqa: F811
) -> None:
    data = tmp_path / "data"
    db = Database(pg_url)
    db.upgrade()
    labels = {d["file"]: d for d in corpus_labels()}
    first, second = labels["doc_0034.pdf"], labels["doc_0074.pdf"]
    service = celery_service(pg_url, data, queue_name)
    service.start()
    worker, log = _worker(tmp_path, pg_url, queue_name, 1)
    intake = Intake(db, StoreLayout(data))
    try:
        copy = shutil.copy(CORPUS / first["file"], tmp_path / first["file"])
        a = intake.take_file(Path(copy), hint=None, remove=False).document_id
        wait_for(lambda: _status(db, a) == "awaiting_review", timeout=120, interval=0.3)
        with db.session() as s:
            user = create_user(s, "coord", "a long enough password", "coordinator")
            s.flush()
            wanted = set(fields_for(first["doc_type"]))
            values = {k: v for k, v in first["fields"].items() if k in wanted}
            approve_document(s, a, user, first["doc_type"], values, None, learner=learner)
        with db.session() as s:
            assert learned_version(s) == 1

        copy = shutil.copy(CORPUS / second["file"], tmp_path / second["file"])
        b = intake.take_file(Path(copy), hint=None, remove=False).document_id
        wait_for(lambda: _status(db, b) == "awaiting_review", timeout=120, interval=0.3)
        with db.session() as s:
            fields = {
                f.name: f
                for f in s.scalars(select(DocumentField).where(DocumentField.document_id == b))
            }
        number = fields["credential_number"]
        assert number.value == second["fields"]["credential_number"]
        assert number.source and number.source.startswith("from 1 confirmed document")
        assert "succeeded" in log.read_text()
    finally:
        service.stop()
        worker.terminate()
        try:
            worker.wait(30)
        except Exception:
            worker.kill()
        db.dispose()
