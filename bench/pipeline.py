"""Throughput and latency of the whole ingest pipeline, next to plain tesseract.

Prints, from one run on this machine:
  - scanned pages per second through the pipeline (inbox → intake → worker processes →
    OCR → fields → page previews → database) and plain `tesseract` CLI on the same page
    images (one process per core, OMP_THREAD_LIMIT=1), measured before and after the
    pipeline so a change in the machine's load hits both; the ratio (target >= 0.9);
  - text-layer PDF pages per second (target >= 20x the scanned rate);
  - latency from a one-page scan landing in the inbox to it being in the review queue
    (status awaiting_review), median of several drops (target <= 2.5 s).

    .venv/bin/python bench/pipeline.py [--scans 48] [--text 150] [--latency-runs 9]

Workers take up to six waiting documents at once and read their scanned pages in one
tesseract run (`extract.batch`), so the run needs enough pages for batches to form: the
default is every distinct single-page scan of the dev corpus (48).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.service import IngestConfig, IngestService  # noqa: E402
from ingest.tasks import ProcessOptions  # noqa: E402
from models import Database, Document, DocumentStatus  # noqa: E402

SHARED = Path(os.environ.get("CREDFLOW_SHARED_DIR", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "dev"
DONE = (DocumentStatus.AWAITING_REVIEW, DocumentStatus.FAILED)


def corpus(kind: str, formats: tuple[str, ...]) -> list[Path]:
    with (CORPUS / "labels.jsonl").open() as fh:
        labels = [json.loads(line) for line in fh if line.strip()]
    return [
        CORPUS / lab["file"]
        for lab in labels
        if lab["render"]["kind"] == kind
        and lab["render"]["format"] in formats
        and lab["render"]["pages"] == 1
    ]


def tesseract_rate(images: list[Path], workers: int) -> float:
    """Pages per second of the tesseract CLI alone: TSV words and boxes, like image_to_data."""
    env = os.environ | {"OMP_THREAD_LIMIT": "1"}

    def one(path: Path) -> None:
        subprocess.run(
            ["tesseract", str(path), "stdout", "-l", "eng", "--psm", "3", "tsv"],
            check=True,
            capture_output=True,
            env=env,
        )

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, images))
    return len(images) / (time.perf_counter() - start)


def count_done(db: Database) -> int:
    with db.session() as s:
        return int(
            s.scalar(select(func.count()).select_from(Document).where(Document.status.in_(DONE)))
            or 0
        )


def drop_batch(
    service: IngestService, db: Database, files: list[Path], tag: str
) -> tuple[float, float]:
    """Drop files into the inbox at once; (pages/s from the drop, pages/s of processing)."""
    before = count_done(db)
    with db.session() as s:
        last_id = s.scalar(select(func.max(Document.id))) or 0
    start = time.perf_counter()
    for n, src in enumerate(files):
        target = service.layout.inbox / tag / f"{n:04}-{src.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        data = src.read_bytes()
        if src.suffix == ".pdf":
            data += f"\n% copy {tag} {n}\n".encode()  # unique bytes, same pages
        target.write_bytes(data)
    while count_done(db) < before + len(files):
        time.sleep(0.05)
    wall = time.perf_counter() - start
    with db.session() as s:
        first, last, pages = s.execute(
            select(
                func.min(Document.created_at),
                func.max(Document.processed_at),
                func.sum(Document.page_count),
            ).where(Document.id > last_id)
        ).one()
    span = (last - first).total_seconds() if first and last else wall
    return (pages or 0) / wall, (pages or 0) / span


def latency(
    service: IngestService, db: Database, scan: Path, runs: int
) -> tuple[list[float], float]:
    """Seconds from landing to awaiting_review per drop, and plain tesseract's median
    seconds on the same page measured between the drops (the machine's speed right now)."""
    data = scan.read_bytes()
    times: list[float] = []
    plain: list[float] = []
    for n in range(runs):
        plain.append(1 / tesseract_rate([scan], 1))
        marker = f"latency-{n}{scan.suffix}"
        body = data if scan.suffix != ".pdf" else data + f"\n% {n}\n".encode()
        if scan.suffix == ".png":  # trailing bytes after IEND are ignored: unique bytes
            body = data + f"latency{n}".encode()
        path = service.layout.inbox / marker
        with path.open("wb") as fh:  # the scanner writes the file in place
            fh.write(body)
        landed = time.perf_counter()
        while True:
            with db.session() as s:
                status = s.scalar(select(Document.status).where(Document.filename == marker))
            if status in DONE:
                break
            time.sleep(0.01)
        times.append(time.perf_counter() - landed)
        time.sleep(0.5)
    return times, statistics.median(plain)


def throughput(
    service: IngestService, db: Database, scans: list[Path], texts: list[Path], workers: int
) -> None:
    base_1 = tesseract_rate(scans, workers)
    pipe_wall, pipe_span = drop_batch(service, db, scans, "scans")
    base_2 = tesseract_rate(scans, workers)
    base = (base_1 + base_2) / 2
    print(f"scanned pages:        {len(scans)}")
    print(f"tesseract CLI:        {base:.2f} pages/s  (before {base_1:.2f}, after {base_2:.2f})")
    print(f"pipeline, from drop:  {pipe_wall:.2f} pages/s  ratio {pipe_wall / base:.2f}")
    print(
        f"pipeline, processing: {pipe_span:.2f} pages/s  ratio {pipe_span / base:.2f}  "
        "(first received → last read)"
    )
    text_wall, text_span = drop_batch(service, db, texts, "text")
    print(
        f"text-layer PDF pages: {len(texts)}: {text_wall:.1f} pages/s from drop, "
        f"{text_span:.1f} processing; "
        f"{text_wall / pipe_wall:.0f}x the scanned rate"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scans", type=int, default=48, help="scanned pages in the throughput run")
    parser.add_argument("--text", type=int, default=150, help="text-layer PDF pages")
    parser.add_argument("--latency-runs", type=int, default=9)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--latency-only", action="store_true")
    args = parser.parse_args()

    scans = corpus("scan", ("png", "jpg", "tif"))[: args.scans]  # distinct single-page scans
    texts = corpus("pdf_text", ("pdf",))
    texts = (texts * (args.text // len(texts) + 1))[: args.text]  # made unique when dropped
    tmp = Path(tempfile.mkdtemp(prefix="credflow-bench-"))

    db_url = f"sqlite:///{tmp / 'credflow.db'}"
    db = Database(db_url)
    db.upgrade()
    service = IngestService(
        IngestConfig(
            db_url=db_url, data_dir=tmp / "data", options=ProcessOptions(), workers=args.workers
        )
    )
    service.start()
    assert service.pool is not None
    while not service.pool.ready():
        time.sleep(0.1)
    try:
        print(
            f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
            f"workers {args.workers}"
        )
        if not args.latency_only:
            throughput(service, db, scans, texts, args.workers)
        lat, plain = latency(service, db, corpus("scan", ("png",))[0], args.latency_runs)
        print(
            f"latency inbox → review queue, one-page scan: median {statistics.median(lat):.2f} s "
            f"(min {min(lat):.2f}, max {max(lat):.2f}, n={len(lat)}); plain tesseract alone on "
            f"that page right now: {plain:.2f} s"
        )
    finally:
        service.stop()
        db.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
