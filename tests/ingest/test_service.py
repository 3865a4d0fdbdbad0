"""The assembled ingest service: watcher, intake, dispatcher and worker processes."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from sqlalchemy import select

from ingest.service import IngestConfig, IngestService
from ingest.store import sha256_file
from ingest.tasks import ProcessOptions
from models import Database, Document
from tests.ingest.helpers import settled, status_counts, wait_for
from tests.support import REAL, corpus_file


@pytest.fixture
def service(tmp_path: Path) -> Iterator[IngestService]:
    db = Database(f"sqlite:///{tmp_path / 'credflow.db'}")
    db.upgrade()
    db.dispose()
    config = IngestConfig(
        db_url=f"sqlite:///{tmp_path / 'credflow.db'}",
        data_dir=tmp_path,
        # PDF pages are rendered for OCR at 150 dpi: these tests are about never losing a
        # file, not about reading well, and the damaged PDFs are mostly blank pages
        options=ProcessOptions(lease_seconds=120, max_attempts=3, ocr_dpi=150),
        workers=2,
        settle_seconds=0.3,
        page_timeout=120,
    )
    svc = IngestService(config)
    svc.start()
    yield svc
    svc.stop()


@pytest.mark.slow
def test_every_malformed_file_ends_stored_and_read_or_failed_with_a_reason(
    service: IngestService,
) -> None:
    sources = sorted(p for p in (REAL / "malformed-pdfs").iterdir() if p.is_file())
    assert len(sources) > 50
    for src in sources:
        shutil.copy(src, service.layout.inbox / src.name)

    wait_for(
        lambda: settled(service.db, len({sha256_file(p) for p in sources})), timeout=540, interval=1
    )

    with service.db.session() as s:
        docs = {d.sha256: d for d in s.scalars(select(Document))}
    for src in sources:
        doc = docs[sha256_file(src)]
        assert service.layout.original(doc.sha256 or "").read_bytes() == src.read_bytes()
        assert doc.status in ("awaiting_review", "failed"), src.name
        if doc.status == "failed":
            assert doc.error and len(doc.error) > 15 and "\n" not in doc.error, src.name
    assert not list(service.layout.inbox.iterdir())
    assert service.watcher.alive
    counts = status_counts(service.db)
    assert counts.get("failed", 0) > 10 and counts.get("awaiting_review", 0) > 5


@pytest.mark.slow
def test_a_worker_killed_mid_document_is_replaced_and_the_document_read(
    service: IngestService,
) -> None:
    assert service.pool is not None
    scan = corpus_file("scan")
    shutil.copy(scan, service.layout.inbox / scan.name)

    def busy_worker() -> int | None:
        return next(iter(service.pool.reading()), None) if service.pool else None

    pid = wait_for(busy_worker, timeout=60, interval=0.02)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would

    wait_for(lambda: settled(service.db, 1), timeout=120)
    with service.db.session() as s:
        doc = s.scalars(select(Document)).one()
        assert (doc.status, doc.attempts) == ("awaiting_review", 2)
    assert service.pool.crashes == 1
    workers = [
        c for c in psutil.Process().children() if c.name().startswith(("python", "credflow"))
    ]
    assert len(workers) >= 2 and pid not in {w.pid for w in workers}


def _png_bomb(path: Path, side: int = 40_000) -> Path:
    """A 1-bit PNG of side x side pixels: a few hundred kB on disk, gigabytes decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    packer = zlib.compressobj(9)
    row = b"\0" * (1 + side // 8)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


def test_a_decompression_bomb_fails_its_document_not_the_service(
    service: IngestService, tmp_path: Path
) -> None:
    bomb = _png_bomb(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 1_000_000
    shutil.copy(bomb, service.layout.inbox / "scan.png")
    wait_for(lambda: settled(service.db, 1), timeout=180)
    with service.db.session() as s:
        doc = s.scalars(select(Document)).one()
        assert doc.status == "failed"
        assert "memory" in (doc.error or "") or "large" in (doc.error or ""), doc.error
    assert service.watcher.alive and service.pool is not None
    wait_for(service.pool.ready, timeout=120)  # every worker is (again) ready for work
