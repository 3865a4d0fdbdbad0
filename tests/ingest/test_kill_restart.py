"""kill -9 in the middle of a batch, restart, and every file is accounted for exactly once.

Runs the real `credflow run` (watcher, worker processes, web app) on a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from ingest.store import sha256_file
from models import Database, Document, DocumentArrival
from tests.ingest.helpers import make_text_pdf, status_counts, wait_for
from tests.support import CORPUS, corpus_labels

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data.parent / "service.log"

    def start(self) -> None:
        env = os.environ | {"CREDFLOW_SETTLE_SECONDS": "0.2", "CREDFLOW_WORKERS": "2"}
        env.pop("CREDFLOW_DATABASE_URL", None)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "credflow.cli",
                    "run",
                    "--data-dir",
                    str(self.data),
                    "--port",
                    str(self.port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        wait_for(self.healthy, timeout=240, interval=0.5)

    def healthy(self) -> bool:
        assert self.proc is not None
        assert self.proc.poll() is None, self.log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def workers(self) -> list[psutil.Process]:
        assert self.proc is not None
        return [
            p
            for p in psutil.Process(self.proc.pid).children()
            if "spawn_main" in " ".join(p.cmdline())
        ]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = Service(tmp_path / "data")
    yield svc
    if svc.proc is not None and svc.proc.poll() is None:
        svc.proc.kill()
        svc.proc.wait(10)


def test_kill_9_mid_batch_then_restart_accounts_for_every_file_once(
    service: Service, tmp_path: Path
) -> None:
    batch = tmp_path / "batch"
    files = [make_text_pdf(batch / f"folder-{n % 7}" / f"doc-{n:03}.pdf", n) for n in range(110)]
    scans = [
        CORPUS / label["file"] for label in corpus_labels() if label["render"]["kind"] == "scan"
    ][:3]
    for scan in scans:
        files.append(Path(shutil.copy(scan, batch / scan.name)))
    files.append(Path(shutil.copy(files[0], batch / "same-bytes-again.pdf")))
    distinct = {sha256_file(f) for f in files}
    assert len(files) >= 110 and len(distinct) == len(files) - 1

    service.start()
    inbox = service.data / "inbox"
    for f in files:
        target = inbox / f.relative_to(batch)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, target)
    db = Database(f"sqlite:///{service.data / 'credflow.db'}")

    wait_for(lambda: status_counts(db).get("awaiting_review", 0) >= 15, timeout=300, interval=0.2)
    workers = service.workers()
    assert service.proc is not None
    os.kill(service.proc.pid, signal.SIGKILL)
    service.proc.wait(10)
    before = status_counts(db)
    assert (
        sum(before.values()) < len(distinct) or before.get("processing") or before.get("received")
    ), "the kill came too late to interrupt anything"
    # the workers go down with the service: nothing writes behind a restart's back
    wait_for(
        lambda: not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE],
        30,
    )

    service.start()
    wait_for(
        lambda: (
            not any(p.is_file() for p in inbox.rglob("*"))
            and status_counts(db) == {"awaiting_review": len(distinct)}
        ),
        timeout=540,
        interval=0.5,
    )

    with db.session() as s:
        shas = set(s.scalars(select(Document.sha256)))
        arrivals = s.scalar(select(func.count()).select_from(DocumentArrival))
        duplicates = s.scalar(
            select(func.count()).select_from(DocumentArrival).where(DocumentArrival.duplicate)
        )
    assert shas == distinct  # one Document per distinct content
    assert arrivals == len(files) and duplicates == 1  # each file recorded exactly once
    assert status_counts(db) == {"awaiting_review": len(distinct)}  # none stuck in processing
    db.dispose()

    assert service.proc is not None
    service.proc.send_signal(signal.SIGTERM)  # and a clean stop on SIGTERM
    assert service.proc.wait(60) == 0
    assert "stopped" in service.log.read_text()
