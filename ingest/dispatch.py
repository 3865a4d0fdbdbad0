"""The dispatcher: feeds `received` documents to the workers and sweeps expired leases.

The database is the queue's truth; the dispatcher only ever holds as many ids as the
workers can take soon, so a backlog of fifty thousand documents costs no memory. Intake
wakes it up so a new scan starts being read at once; a periodic poll and the lease sweep
catch everything else (a restart, a retry from the UI, a lost Celery message).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from sqlalchemy import distinct, func, select

from ingest import leases
from models import Database, Document, DocumentStatus

log = logging.getLogger(__name__)


class Backend(Protocol):
    """Where document ids go to be read: the local pool or Celery."""

    def submit(self, doc_id: int) -> bool: ...

    def room(self) -> int: ...

    def known(self) -> set[int]: ...


def waiting_batch(
    db: Database, first: int, *, max_attempts: int, batch_docs: int, readers: int = 1
) -> list[int]:
    """`first` and, when more documents wait, a fair share of them to read in one go.

    How a Celery task reads like a local worker: its scanned pages share tesseract runs
    with those of the documents after it. The share is what waits divided among the
    readers (`readers` known to the queue, at least those holding leases now and this
    one), so the workers finish together; each document is still claimed with its own
    lease (one taken by another reader meanwhile is skipped), and its own message, when
    it comes, finds it done.
    """
    if batch_docs <= 1:
        return [first]
    ready = (Document.status == DocumentStatus.RECEIVED) & (Document.attempts < max_attempts)
    with db.session() as s:
        waiting = int(s.scalar(select(func.count()).select_from(Document).where(ready)) or 0)
        busy = int(
            s.scalar(
                select(func.count(distinct(Document.lease_owner))).where(
                    Document.status == DocumentStatus.PROCESSING,
                    Document.lease_expires_at > leases.now(),
                )
            )
            or 0
        )
        share = min(batch_docs, -(-waiting // max(readers, busy + 1)))
        others = s.scalars(
            select(Document.id)
            .where(ready, Document.id != first)
            .order_by(Document.id)
            .limit(max(0, share - 1))
        ).all()
    return [first, *others]


class Dispatcher:
    def __init__(
        self,
        db: Database,
        backend: Backend,
        *,
        max_attempts: int,
        sweep_seconds: float = 30.0,
        poll_seconds: float = 2.0,
    ) -> None:
        self.db = db
        self.backend = backend
        self.max_attempts = max_attempts
        self.sweep_seconds = sweep_seconds
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self, doc_id: int | None = None, status: str | None = None) -> None:
        """A document was received (or a worker became free): look for work now."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)

    def sweep(self) -> list[int]:
        with self.db.session() as s:
            requeued = leases.sweep(s, self.max_attempts)
        if requeued:
            log.info("gave back %d interrupted document(s) to be read again", len(requeued))
        return requeued

    def feed(self) -> int:
        """Hand the oldest waiting documents to the backend, as many as it has room for."""
        room = self.backend.room()
        if room <= 0:
            return 0
        known = self.backend.known()
        with self.db.session() as s:
            ids = s.scalars(
                select(Document.id)
                .where(
                    Document.status == DocumentStatus.RECEIVED,
                    Document.attempts < self.max_attempts,
                )
                .order_by(Document.id)
                .limit(room + len(known))
            ).all()
        sent = 0
        for doc_id in ids:
            if sent >= room:
                break
            if doc_id not in known and self.backend.submit(doc_id):
                sent += 1
        return sent

    def _run(self) -> None:
        next_sweep = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + self.sweep_seconds
                self.feed()
            except Exception:
                # a database hiccup must not end the service: log and try again shortly
                log.exception("dispatcher: could not read the queue; trying again")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
