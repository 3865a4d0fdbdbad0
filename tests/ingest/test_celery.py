"""Larger sites: two real Celery worker processes on the real Redis and a private
PostgreSQL database read a batch; a lost message is found again and re-sent."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from ingest.intake import Intake
from ingest.service import IngestConfig, IngestService
from ingest.tasks import ProcessOptions
from models import Database, StoreLayout
from tests.ingest.helpers import make_text_pdf, settled, status_counts, wait_for

pytestmark = [pytest.mark.celery, pytest.mark.postgres, pytest.mark.slow]

REDIS_URL = os.environ.get("CREDFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def pg_url(pg_server_url: str) -> str:
    engine = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return pg_server_url


@pytest.fixture
def queue_name() -> Iterator[str]:
    name = f"credflow-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(name, f"_kombu.binding.{name}")
    client.close()


def celery_service(pg_url: str, data: Path, queue: str) -> IngestService:
    """The service's side at a larger site: watcher and dispatcher sending to Celery."""
    return IngestService(
        IngestConfig(
            db_url=pg_url,
            data_dir=data,
            options=ProcessOptions(lease_seconds=60),
            queue="celery",
            broker_url=REDIS_URL,
            celery_queue=queue,
            settle_seconds=0.2,
        )
    )


def _worker(
    tmp_path: Path, pg_url: str, queue: str, n: int
) -> tuple[subprocess.Popen[bytes], Path]:
    env = os.environ | {
        "CREDFLOW_QUEUE": "celery",
        "CREDFLOW_BROKER_URL": REDIS_URL,
        "CREDFLOW_CELERY_QUEUE": queue,
        "CREDFLOW_DATABASE_URL": pg_url,
        "CREDFLOW_DATA_DIR": str(tmp_path / "data"),
    }
    log = tmp_path / f"worker-{n}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "credflow.cli", "worker", "--concurrency", "1"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    return proc, log


def test_two_celery_workers_read_a_batch_and_a_lost_message_is_sent_again(
    tmp_path: Path, pg_url: str, queue_name: str
) -> None:
    data = tmp_path / "data"
    db = Database(pg_url)
    db.upgrade()
    # one document is already waiting and its message was lost (say, Redis restarted)
    lost = Intake(db, StoreLayout(data)).take_file(
        make_text_pdf(tmp_path / "lost.pdf", 999), hint=None, remove=False
    )
    service = celery_service(pg_url, data, queue_name)
    service.start()  # the dispatcher sends the waiting document at once...
    client = redis.Redis.from_url(REDIS_URL)
    wait_for(lambda: client.llen(queue_name) == 1, timeout=30)
    client.delete(queue_name)  # ...and the message is lost before any worker runs
    assert service.pool is None
    from ingest.celery_app import CelerySender

    assert isinstance(service.backend, CelerySender)
    service.backend.resend_after = 2.0  # the site default is the lease time

    workers = [_worker(tmp_path, pg_url, queue_name, n) for n in (1, 2)]
    try:
        for n in range(16):
            make_text_pdf(data / "inbox" / f"batch-{n % 3}" / f"doc-{n}.pdf", n)
        wait_for(lambda: settled(db, 17), timeout=400, interval=0.5)
        assert status_counts(db) == {"awaiting_review": 17}
        with db.session() as s:
            from models import Document

            doc = s.get(Document, lost.document_id)
            assert doc is not None and doc.status == "awaiting_review" and doc.attempts == 1
        logs = [log.read_text() for _, log in workers]
        assert all("succeeded" in log for log in logs), "both workers should have read documents"
    finally:
        service.stop()
        for proc, _ in workers:
            proc.terminate()
        for proc, _ in workers:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        client.close()
        db.dispose()
