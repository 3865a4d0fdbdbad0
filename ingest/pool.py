"""The local worker pool: one process per core, each reading a few documents at a time.

Why not `concurrent.futures.ProcessPoolExecutor`: when one of its processes dies (a
pdfium segfault, the memory limit) the whole executor breaks and every document in it is
lost from view. Here each worker has its own pipe and says which document it is opening,
so the pool knows exactly which document a dead worker was on: that one is given back
(its attempt counted, failed after `max_attempts`), the rest of its batch is given back
untouched, the worker is replaced, and the others never notice.

A worker takes up to `BATCH_DOCS` waiting documents at once so their scanned pages share
tesseract runs (`extract.batch`); a document landing in a quiet inbox is taken alone, at
once.

Each worker process sets `OMP_THREAD_LIMIT=1` before tesseract runs, limits its own
memory (RLIMIT_AS, inherited by tesseract), dies with its parent (PR_SET_PDEATHSIG), and
loads the reading pipeline once, tesseract's model included (`extract.engine`).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from ingest import leases
from ingest.tasks import ProcessOptions
from models import Database

log = logging.getLogger(__name__)

BATCH_DOCS = 6  # documents a worker takes at once when more are waiting


@dataclass(frozen=True)
class WorkerConfig:
    db_url: str
    data_dir: Path
    options: ProcessOptions
    memory_mb: int = 2048  # per worker process (and each tesseract it starts); 0 = no limit


def limit_threads() -> None:
    """One tesseract thread (one process per core instead). OpenMP reads this when
    tesseract's library loads, so a process that forks workers (Celery's) sets it first."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def prepare_worker_process(memory_mb: int) -> None:
    """What every worker process (local or Celery) does before reading anything."""
    limit_threads()
    if memory_mb > 0:
        limit = memory_mb * (1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover - opencv is a dependency
        pass


def _die_with_parent() -> None:
    """Linux: a worker whose service was killed (kill -9) stops too instead of lingering."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def warm_up(ocr_engine: str = "auto") -> None:
    """Load the reading pipeline (tesseract's model, spaCy, patterns, gazetteers) before
    the first document."""
    from extract import engine
    from extract.fields import extract_fields
    from extract.types import Page, ReadOptions, Word

    engine.configure(engine.parse_name(ocr_engine))
    engine.get().warm(ReadOptions().language)

    words = [
        "STATE",
        "BOARD",
        "OF",
        "MEDICINE",
        "License",
        "No.",
        "A12345",
        "Expires",
        "2027-03-31",
    ]
    boxes = [(0.1 + i * 0.08, 0.1, 0.17 + i * 0.08, 0.12) for i in range(len(words))]
    page = Page(1, 612, 792, "text", [Word(w, 1.0, b) for w, b in zip(words, boxes, strict=True)])
    extract_fields([page])


def _worker_main(conn: Connection, config: WorkerConfig) -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the service's to handle
    prepare_worker_process(config.memory_mb)
    from ingest.tasks import process_documents
    from models import StoreLayout

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s worker %(process)d %(levelname)s %(message)s"
    )
    db = Database(config.db_url)
    layout = StoreLayout(config.data_dir)
    warm_up(config.options.ocr_engine)
    owner = leases.owner_id()
    conn.send(("ready", owner))
    while True:
        try:
            doc_ids = conn.recv()
        except (EOFError, OSError):
            break
        if doc_ids is None:
            break
        outcomes = process_documents(
            db,
            layout,
            doc_ids,
            config.options,
            owner=owner,
            on_start=lambda doc: conn.send(("start", doc)),
            on_page=lambda doc, number: conn.send(("page", doc, number)),
        )
        for outcome in outcomes:
            conn.send(("done", outcome.document_id, outcome.status))
    db.dispose()


@dataclass
class _Slot:
    process: BaseProcess
    conn: Connection
    owner: str | None = None  # set when the worker says it is ready
    doc_ids: list[int] = field(default_factory=list)  # given to it and not done yet
    current: int | None = None  # the document it said it is opening
    progress_at: float = field(default_factory=time.monotonic)


class WorkerPool:
    """Runs `process_documents` for submitted ids in `size` worker processes."""

    def __init__(
        self,
        config: WorkerConfig,
        size: int,
        *,
        page_timeout: float = 300.0,
        on_done: Callable[[int, str | None], None] | None = None,
    ) -> None:
        self.config = config
        self.size = max(1, size)
        self.page_timeout = page_timeout
        self.on_done = on_done
        self._ctx = multiprocessing.get_context("spawn")
        self._db = Database(config.db_url)
        self._slots: list[_Slot] = []
        self._pending: deque[int] = deque()
        self._known: set[int] = set()  # pending or being read: never queued twice
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = self._ctx.Pipe(duplex=False)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.crashes = 0
        self._failed_starts = 0  # workers that died before becoming ready, in a row

    # -- used by the dispatcher -------------------------------------------------------
    def submit(self, doc_id: int) -> bool:
        """Queue a document id; False when it is already queued or being read."""
        with self._lock:
            if doc_id in self._known:
                return False
            self._known.add(doc_id)
            self._pending.append(doc_id)
        self._wake()
        return True

    def room(self) -> int:
        """How many more ids are worth queueing now: a full batch ahead for every worker."""
        with self._lock:
            return max(0, 2 * BATCH_DOCS * self.size - len(self._known))

    def known(self) -> set[int]:
        with self._lock:
            return set(self._known)

    def ready(self) -> bool:
        """Every worker has loaded the pipeline and is waiting for work."""
        return bool(self._slots) and all(slot.owner is not None for slot in self._slots)

    def idle(self) -> bool:
        with self._lock:
            return not self._known

    def reading(self) -> dict[int, int]:
        """Worker pid -> the document it said it is opening, for every busy worker."""
        return {
            slot.process.pid: slot.current
            for slot in list(self._slots)
            if slot.current is not None and slot.process.pid is not None
        }

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        for _ in range(self.size):
            self._slots.append(self._spawn())
        self._thread = threading.Thread(target=self._run, name="worker-pool", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the workers; documents they were reading go back to `received` at once."""
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout)
        for slot in self._slots:
            with contextlib.suppress(OSError, BrokenPipeError):
                slot.conn.send(None)
        deadline = time.monotonic() + timeout
        for slot in self._slots:
            if slot.doc_ids:
                slot.process.terminate()  # a long OCR is not worth waiting for: it is redone
            slot.process.join(max(0.1, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(1)
            if slot.owner:
                self._give_back_all(slot, blame=None)
        self._slots.clear()
        self._db.dispose()

    # -- internals -------------------------------------------------------------------------
    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send_bytes(b"x")

    def _spawn(self) -> _Slot:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main, args=(child, self.config), name="credflow-worker", daemon=True
        )
        process.start()
        child.close()
        return _Slot(process, parent)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._assign()
            sources: list[object] = [self._wake_r]
            for slot in self._slots:
                sources.append(slot.conn)
                sources.append(slot.process.sentinel)
            try:
                ready = wait(sources, timeout=1.0)  # type: ignore[arg-type]
            except OSError:
                ready = []
            if self._wake_r in ready:
                while self._wake_r.poll():
                    self._wake_r.recv_bytes()
            for slot in list(self._slots):
                if slot.conn in ready:
                    self._read_messages(slot)
            for index, slot in enumerate(list(self._slots)):
                if not slot.process.is_alive():
                    self._replace(index, slot, self._crash_reason())
                elif slot.doc_ids and time.monotonic() - slot.progress_at > self.page_timeout:
                    slot.process.kill()
                    slot.process.join(5)
                    self._replace(
                        index,
                        slot,
                        f"reading one page took longer than {self.page_timeout:.0f} seconds: "
                        "the file may be damaged or far too large; get a new copy or scan it again",
                    )

    def _assign(self) -> None:
        for slot in self._slots:
            if slot.owner is None or slot.doc_ids:
                continue
            with self._lock:
                if not self._pending:
                    return
                # at most a fair share of what waits, so the workers finish together
                take = min(BATCH_DOCS, -(-len(self._pending) // self.size))
                batch = [self._pending.popleft() for _ in range(take)]
            slot.doc_ids = batch
            slot.current = None
            slot.progress_at = time.monotonic()
            with contextlib.suppress(OSError):  # a dead worker is noticed on the next turn
                slot.conn.send(batch)

    def _read_messages(self, slot: _Slot) -> None:
        try:
            while slot.conn.poll():
                msg = slot.conn.recv()
                if msg[0] == "ready":
                    slot.owner = msg[1]
                    self._failed_starts = 0
                elif msg[0] == "start":
                    slot.current = msg[1]
                    slot.progress_at = time.monotonic()
                elif msg[0] == "page":
                    slot.progress_at = time.monotonic()
                elif msg[0] == "done":
                    doc_id, status = msg[1], msg[2]
                    with contextlib.suppress(ValueError):
                        slot.doc_ids.remove(doc_id)
                    with self._lock:
                        self._known.discard(doc_id)
                    if self.on_done is not None:
                        self.on_done(doc_id, status)
        except (EOFError, OSError):
            pass  # the worker died; handled by the liveness check

    def _crash_reason(self) -> str:
        limit = self.config.memory_mb
        return (
            f"the reader stopped {self.config.options.max_attempts} times on this file (it crashed"
            + (f" or needed more than {limit} MB of memory" if limit else "")
            + "): the file is probably damaged; get a new copy or scan it again"
        )

    def _replace(self, index: int, slot: _Slot, reason: str) -> None:
        slot.process.join(1)
        self._read_messages(slot)  # what it said before it died: which document it was on
        code = slot.process.exitcode
        if slot.doc_ids:
            self.crashes += 1
            log.warning(
                "worker %s stopped (exit code %s) while reading document %s",
                slot.process.pid,
                code,
                slot.current,
            )
            self._give_back_all(slot, blame=reason)
        else:
            log.warning("worker %s stopped (exit code %s) while idle", slot.process.pid, code)
        if slot.owner is None:
            # it never started (database unreachable, broken install): don't spin, back off
            self._failed_starts += 1
            self._stopping.wait(min(30.0, 0.5 * 2**self._failed_starts))
        slot.conn.close()
        if not self._stopping.is_set():
            self._slots[index] = self._spawn()

    def _give_back_all(self, slot: _Slot, *, blame: str | None) -> None:
        """Give back a stopped worker's documents; with `blame`, the one it was on fails
        this attempt for that reason, the others lose nothing."""
        doc_ids, current = slot.doc_ids, slot.current
        slot.doc_ids, slot.current = [], None
        for doc_id in doc_ids:
            if blame is not None and doc_id == current:
                self._give_back(slot, doc_id, reason=blame, count_attempt=True)
            else:
                self._give_back(slot, doc_id, reason=None, count_attempt=False)

    def _give_back(
        self, slot: _Slot, doc_id: int, *, reason: str | None, count_attempt: bool
    ) -> None:
        status: str | None = None
        try:
            with self._db.session() as s:
                if not count_attempt:
                    from sqlalchemy import update

                    from models import Document

                    s.execute(
                        update(Document)
                        .where(
                            Document.id == doc_id,
                            Document.lease_owner == slot.owner,
                            Document.attempts > 0,
                        )
                        .values(attempts=Document.attempts - 1)
                        .execution_options(synchronize_session=False)
                    )
                status = leases.release(
                    s,
                    doc_id,
                    slot.owner,
                    reason=reason,
                    max_attempts=self.config.options.max_attempts,
                )
        except Exception:
            log.exception("could not give document %s back; the lease sweep will", doc_id)
        with self._lock:
            self._known.discard(doc_id)
        if self.on_done is not None:
            self.on_done(doc_id, status)
