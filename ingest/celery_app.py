"""Celery for larger sites: the same `process_documents` task, run by `credflow worker` on
any number of machines that share the database (PostgreSQL) and the document store.

A task reads its message's document together with a fair share of the documents waiting
after it (`waiting_batch`), so scanned pages share tesseract runs as in the local pool.

Messages are acknowledged late (a worker killed mid-task leaves its message to be
delivered again) and the task is idempotent (a lease claim guards it). The database stays
the truth: a message that is lost anyway leaves its document `received`, and the
dispatcher's sender sends it again once `resend_after` has passed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import Celery, signals

from ingest import leases
from ingest.dispatch import waiting_batch
from ingest.pool import BATCH_DOCS, prepare_worker_process, warm_up
from ingest.tasks import ProcessOptions, process_documents
from models import Database, StoreLayout

log = logging.getLogger(__name__)

TASK_NAME = "credflow.process_document"
HIGH_WATER = 100  # messages waiting in the broker: more would only be stale sooner


def make_celery(broker_url: str, queue: str = "credflow") -> Celery:
    app = Celery("credflow", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=queue,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        # an unacknowledged message comes back after this long (the lease decides anyway)
        broker_transport_options={"visibility_timeout": 3600},
    )
    app.task(name=TASK_NAME, acks_late=True, ignore_result=True, bind=True)(_process)
    return app


def readers_seen(app: Celery, owner: str, ttl: float) -> int:
    """Say this worker process reads from the app's queue; how many did so within `ttl`.

    A Redis sorted set per queue (owner -> last seen), so a task can take a fair share
    of what waits even before the other workers have claimed anything; 1 if Redis
    cannot say.
    """
    key = f"credflow:readers:{app.conf.task_default_queue}"
    t = time.time()
    try:
        with app.connection_for_write() as conn:
            pipe = conn.default_channel.client.pipeline()
            pipe.zadd(key, {owner: t})
            pipe.zremrangebyscore(key, 0, t - ttl)
            pipe.zcard(key)
            pipe.expire(key, int(ttl) + 1)
            return max(1, int(pipe.execute()[2]))
    except Exception:
        log.warning("could not count this queue's readers; reading one document at a time")
        return 1


@dataclass(frozen=True)
class WorkerSetup:
    db_url: str
    data_dir: Path
    options: ProcessOptions
    memory_mb: int
    app: Celery | None = None  # the app the worker runs (its queue's readers are counted)


_setup: WorkerSetup | None = None
_state: dict[str, Any] = {}


def configure_worker(setup: WorkerSetup) -> None:
    """Called by `credflow worker` before the pool forks; each child opens its own database."""
    global _setup
    _setup = setup


@signals.worker_process_init.connect
def _child_init(**_: Any) -> None:
    if _setup is None:
        return
    prepare_worker_process(_setup.memory_mb)
    _state.clear()
    warm_up(_setup.options.ocr_engine)
    _state["owner"] = leases.owner_id()
    if _setup.app is not None:  # counted among the readers before its first message
        readers_seen(_setup.app, _state["owner"], _setup.options.lease_seconds)


def _worker_state() -> tuple[Database, StoreLayout, ProcessOptions]:
    if _setup is None:
        raise RuntimeError("this Celery worker was not started by `credflow worker`")
    if "db" not in _state:
        _state["db"] = Database(_setup.db_url)
        _state["layout"] = StoreLayout(_setup.data_dir)
    return _state["db"], _state["layout"], _setup.options


def _process(task: Any, doc_id: int) -> str | None:
    """Read the message's document and a fair share of those waiting after it, as a local
    worker does; the message is acknowledged (late) once all of them are recorded."""
    db, layout, options = _worker_state()
    if "owner" not in _state:
        _state["owner"] = leases.owner_id()
    readers = readers_seen(task.app, _state["owner"], options.lease_seconds)
    batch = waiting_batch(
        db,
        int(doc_id),
        max_attempts=options.max_attempts,
        batch_docs=BATCH_DOCS,
        readers=readers,
    )
    outcomes = process_documents(db, layout, batch, options, owner=_state["owner"])
    return outcomes[0].status


class CelerySender:
    """The dispatcher's backend in Celery mode: sends ids, a bounded number at a time."""

    def __init__(
        self, broker_url: str, *, queue: str = "credflow", resend_after: float = 600.0
    ) -> None:
        self.app = make_celery(broker_url, queue)
        self.queue = queue
        self.resend_after = resend_after
        self._sent: dict[int, float] = {}

    def submit(self, doc_id: int) -> bool:
        t = time.monotonic()
        if t - self._sent.get(doc_id, -1e9) < self.resend_after:
            return False
        self.app.send_task(TASK_NAME, args=[doc_id], queue=self.queue)
        self._sent[doc_id] = t
        return True

    def backlog(self) -> int:
        """Messages waiting in the broker's queue (Redis list length)."""
        try:
            with self.app.connection_for_read() as conn:
                client = conn.default_channel.client
                return int(client.llen(self.queue))
        except Exception:
            return 0

    def room(self) -> int:
        return max(0, HIGH_WATER - self.backlog())

    def known(self) -> set[int]:
        """Ids sent recently: not sent again until `resend_after` has passed."""
        t = time.monotonic()
        self._sent = {d: at for d, at in self._sent.items() if t - at < self.resend_after}
        return set(self._sent)

    def close(self) -> None:
        self.app.close()
