"""The ingest side of `credflow run`, assembled: watcher → intake → dispatcher → workers.

Plain values in (an `IngestConfig`), so tests and benchmarks start exactly what the
command starts, without the web app.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ingest.dispatch import Backend, Dispatcher
from ingest.intake import Intake, IntakeResult
from ingest.pool import WorkerConfig, WorkerPool
from ingest.store import clean_temporaries
from ingest.tasks import ProcessOptions
from ingest.watcher import InboxWatcher
from models import Database, StoreLayout

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestConfig:
    db_url: str
    data_dir: Path
    options: ProcessOptions
    workers: int = 2
    queue: Literal["local", "celery"] = "local"
    broker_url: str = "redis://127.0.0.1:6379/0"
    celery_queue: str = "credflow"
    max_file_mb: int = 200
    settle_seconds: float = 1.0
    poll_seconds: float | None = None
    rescan_seconds: float = 60.0
    memory_mb: int = 2048
    page_timeout: float = 300.0
    watch: bool = True


class IngestService:
    """Starts and stops everything between a file landing and `awaiting_review`."""

    def __init__(self, config: IngestConfig) -> None:
        self.config = config
        self.db = Database(config.db_url)
        self.layout = StoreLayout(config.data_dir)
        self.backend: Backend
        self.pool: WorkerPool | None = None
        if config.queue == "celery":
            from ingest.celery_app import CelerySender

            self.backend = CelerySender(
                config.broker_url,
                queue=config.celery_queue,
                resend_after=config.options.lease_seconds,
            )
        else:
            self.pool = WorkerPool(
                WorkerConfig(config.db_url, config.data_dir, config.options, config.memory_mb),
                config.workers,
                page_timeout=config.page_timeout,
            )
            self.backend = self.pool
        self.dispatcher = Dispatcher(
            self.db, self.backend, max_attempts=config.options.max_attempts, sweep_seconds=30.0
        )
        if self.pool is not None:
            self.pool.on_done = self.dispatcher.notify
        self.intake = Intake(
            self.db,
            self.layout,
            max_file_mb=config.max_file_mb,
            source="inbox",
            on_received=self.dispatcher.notify,
        )
        self.watcher = InboxWatcher(
            self.layout.inbox,
            self.take,
            settle_seconds=config.settle_seconds,
            poll_seconds=config.poll_seconds,
            rescan_seconds=config.rescan_seconds,
        )

    def take(self, path: Path, hint: str | None) -> IntakeResult:
        return self.intake.take_file(path, hint=hint, remove=True)

    def start(self) -> None:
        self.layout.inbox.mkdir(parents=True, exist_ok=True)
        self.layout.store.mkdir(parents=True, exist_ok=True)
        clean_temporaries(self.layout)
        if self.pool is not None:
            self.pool.start()
        self.dispatcher.sweep()  # work a killed service left half done is given back first
        self.dispatcher.start()
        if self.config.watch:
            self.watcher.start()

    def stop(self) -> None:
        if self.config.watch:
            self.watcher.stop()
        self.dispatcher.stop()
        if self.pool is not None:
            self.pool.stop()
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()
        self.db.dispose()
