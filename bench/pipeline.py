"""Throughput and latency of the whole ingest pipeline, next to plain tesseract.

Prints, for each of `--runs` runs on this machine, and then the median of the runs:
  - scanned pages per second through each way credflow reads, divided by the tesseract
    CLI's rate on the same page files (one process per core, OMP_THREAD_LIMIT=1, TSV
    out) measured just before and just after the paths, so a change in the machine's
    load hits both (target >= 1.0, aim 1.2); and the CLI's CPU seconds per page divided
    by the path's (all its processes), which other work on the machine hardly moves:
      inbox     drop into a running `credflow run` service (SQLite, local worker pool),
                from the drop to the last document read;
      backfill  the real `credflow backfill FOLDER` command, from its start (start-up
                and worker warm-up included) to its exit;
      celery    two `credflow worker --concurrency 1` processes (Redis, PostgreSQL at
                CREDFLOW_TEST_PG_URL, a database of its own), from the drop to the last
                document read;
    on the single-page dev scans and on the faxes of ../shared/corpus/dev-fax/;
  - text-layer PDF pages per second through the inbox (target >= 20x the scanned rate);
  - latency from a one-page scan landing in the inbox to it being in the review queue
    (awaiting_review), median of several drops (target <= 1.5 s).

    .venv/bin/python bench/pipeline.py [--runs 3] [--engine auto|cli] [--paths inbox ...]

`--engine cli` measures the tesseract-program path (what credflow did before tesserocr).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psutil
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extract import engine  # noqa: E402
from ingest.service import IngestConfig, IngestService  # noqa: E402
from ingest.tasks import ProcessOptions  # noqa: E402
from models import Database, Document, DocumentStatus  # noqa: E402

SHARED = Path(os.environ.get("CREDFLOW_SHARED_DIR", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "dev"
FAXES = SHARED / "corpus" / "dev-fax"
PG_ADMIN_URL = os.environ.get(
    "CREDFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("CREDFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DONE = (DocumentStatus.AWAITING_REVIEW, DocumentStatus.FAILED)


def labelled(
    folder: Path, kinds: tuple[str, ...], formats: tuple[str, ...], *, single: bool = True
) -> list[tuple[Path, int]]:
    """(file, pages) of the labelled files of these kinds and formats."""
    with (folder / "labels.jsonl").open() as fh:
        labels = [json.loads(line) for line in fh if line.strip()]
    return [
        (folder / lab["file"], int(lab["render"]["pages"]))
        for lab in labels
        if lab["render"]["kind"] in kinds
        and lab["render"]["format"] in formats
        and (lab["render"]["pages"] == 1 or not single)
    ]


def cli_images(files: list[Path], tmp: Path, dpi: int = 204) -> list[Path]:
    """The page files as the tesseract CLI takes them: images as they are, PDF pages
    rendered (outside the timing) at about the resolution they were faxed at."""
    import pypdfium2

    out: list[Path] = []
    for path in files:
        if path.suffix != ".pdf":
            out.append(path)
            continue
        pdf = pypdfium2.PdfDocument(str(path))
        image = pdf[0].render(scale=dpi / 72, grayscale=True).to_pil()
        target = tmp / f"{path.stem}.png"
        image.save(target, dpi=(dpi, dpi))
        pdf.close()
        out.append(target)
    return out


def cpu_now() -> float:
    """CPU seconds used so far by this process and every process it started (live ones
    through psutil, finished ones through the kernel's account of waited-for children):
    unlike pages per second, barely moved by other work on the machine."""
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total += children.ru_utime + children.ru_stime
    for proc in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


Measure = tuple[float, float]  # pages per second, CPU seconds per page


def tesseract_rate(images: list[Path], pages: int, workers: int) -> Measure:
    """Pages per second of the tesseract CLI alone: TSV words and boxes, like image_to_data."""
    env = os.environ | {"OMP_THREAD_LIMIT": "1"}

    def one(path: Path) -> None:
        subprocess.run(
            ["tesseract", str(path), "stdout", "-l", "eng", "--psm", "3", "tsv"],
            check=True,
            capture_output=True,
            env=env,
        )

    cpu, start = cpu_now(), time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, images))
    return pages / (time.perf_counter() - start), (cpu_now() - cpu) / pages


def count_done(db: Database) -> int:
    with db.session() as s:
        return int(
            s.scalar(select(func.count()).select_from(Document).where(Document.status.in_(DONE)))
            or 0
        )


def pages_after(db: Database, last_id: int) -> int:
    with db.session() as s:
        return int(
            s.scalar(select(func.sum(Document.page_count)).where(Document.id > last_id)) or 0
        )


def unique_copy(src: Path, tag: str) -> bytes:
    """The file's bytes made unique (so it is not a duplicate), its pages unchanged:
    readers ignore what follows a PDF's %%EOF, a PNG's IEND, a JPEG's EOI or a TIFF's
    last directory."""
    return src.read_bytes() + f"\n% copy {tag}\n".encode()


def drop_batch(service: IngestService, db: Database, files: list[Path], tag: str) -> Measure:
    """Drop files into the inbox at once; pages/s from the drop to the last one read."""
    before = count_done(db)
    with db.session() as s:
        last_id = s.scalar(select(func.max(Document.id))) or 0
    cpu, start = cpu_now(), time.perf_counter()
    for n, src in enumerate(files):
        target = service.layout.inbox / tag / f"{n:04}-{src.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(unique_copy(src, f"{tag}-{n}"))
    while count_done(db) < before + len(files):
        time.sleep(0.05)
    wall, used = time.perf_counter() - start, cpu_now() - cpu
    pages = pages_after(db, last_id)
    return pages / wall, used / pages


def backfill_rate(files: list[Path], tag: str, ocr: str, workers: int) -> Measure:
    """The real `credflow backfill` command on a folder: pages/s from start to exit."""
    tmp = Path(tempfile.mkdtemp(prefix="credflow-bench-backfill-"))
    try:
        folder = tmp / "archive" / tag
        folder.mkdir(parents=True)
        for n, src in enumerate(files):
            (folder / f"{n:04}-{src.name}").write_bytes(unique_copy(src, f"{tag}-{n}"))
        env = os.environ | {"CREDFLOW_DATA_DIR": str(tmp / "data"), "CREDFLOW_OCR_ENGINE": ocr}
        env.pop("CREDFLOW_DATABASE_URL", None)
        cmd = [sys.executable, "-m", "credflow.cli", "backfill", str(folder)]
        cpu, start = cpu_now(), time.perf_counter()
        done = subprocess.run(
            [*cmd, "--workers", str(workers)], capture_output=True, env=env, check=False
        )
        wall, used = time.perf_counter() - start, cpu_now() - cpu
        if done.returncode != 0:
            raise SystemExit(f"backfill failed: {done.stderr.decode()[-800:]}")
        db = Database(f"sqlite:///{tmp / 'data' / 'credflow.db'}")
        pages = pages_after(db, 0)
        read = count_done(db)
        db.dispose()
        if read != len(files):
            raise SystemExit(f"backfill read {read} of {len(files)} files")
        return pages / wall, used / pages
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def latency(
    service: IngestService, db: Database, scan: Path, runs: int
) -> tuple[list[float], float]:
    """Seconds from landing to awaiting_review per drop of a one-page scan, and plain
    tesseract's median seconds on that page between the drops (the machine right now)."""
    times: list[float] = []
    plain: list[float] = []
    for n in range(runs):
        plain.append(1 / tesseract_rate([scan], 1, 1)[0])
        marker = f"latency-{n}{scan.suffix}"
        body = unique_copy(scan, f"latency-{n}")
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


@contextmanager
def local_service(ocr: str, workers: int) -> Iterator[tuple[IngestService, Database]]:
    tmp = Path(tempfile.mkdtemp(prefix="credflow-bench-"))
    db_url = f"sqlite:///{tmp / 'credflow.db'}"
    db = Database(db_url)
    db.upgrade()
    service = IngestService(
        IngestConfig(
            db_url=db_url,
            data_dir=tmp / "data",
            options=ProcessOptions(ocr_engine=ocr),
            workers=workers,
        )
    )
    service.start()
    assert service.pool is not None
    while not service.pool.ready():
        time.sleep(0.1)
    try:
        yield service, db
    finally:
        service.stop()
        db.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def celery_service(ocr: str, workers: int) -> Iterator[tuple[IngestService, Database]]:
    """The service in Celery mode and `workers` worker processes, on a PostgreSQL
    database and a Redis queue of their own (both removed after)."""
    tmp = Path(tempfile.mkdtemp(prefix="credflow-bench-celery-"))
    name = f"credflow_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = admin.url.set(database=name).render_as_string(hide_password=False)
    queue = f"credflow-bench-{uuid.uuid4().hex[:8]}"
    db = Database(db_url)
    db.upgrade()
    settings = dict(
        queue="celery",
        broker_url=REDIS_URL,
        celery_queue=queue,
        database_url=db_url,
        data_dir=str(tmp / "data"),
        ocr_engine=ocr,
    )
    env = os.environ | {f"CREDFLOW_{k.upper()}": v for k, v in settings.items()}
    logs = [tmp / f"worker-{n}.log" for n in range(workers)]
    procs = []
    for log in logs:
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "credflow.cli", "worker", "--concurrency", "1"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
            )
    service = IngestService(
        IngestConfig(
            db_url=db_url,
            data_dir=tmp / "data",
            options=ProcessOptions(ocr_engine=ocr),
            queue="celery",
            broker_url=REDIS_URL,
            celery_queue=queue,
        )
    )
    try:
        deadline = time.monotonic() + 180
        while not all(" ready." in log.read_text(errors="replace") for log in logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit("Celery workers did not start: " + logs[0].read_text()[-800:])
            time.sleep(0.2)
        service.start()
        yield service, db
    finally:
        service.stop()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        db.dispose()
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        client.delete(queue, f"_kombu.binding.{queue}")
        client.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


Sets = dict[str, tuple[list[Path], list[Path], int]]  # files, the CLI's images, pages


def one_run(args: argparse.Namespace, sets: Sets) -> dict[str, float]:
    """Each path on each set, with the CLI measured on the set before and after."""
    figures: dict[str, float] = {}
    for set_name, (files, images, pages) in sets.items():
        before = tesseract_rate(images, pages, args.workers)
        rates: dict[str, Measure] = {}
        for path in args.paths:
            tag = f"{set_name}-{path}-{uuid.uuid4().hex[:6]}"
            if path == "backfill":
                rates[path] = backfill_rate(files, tag, args.engine, args.workers)
            else:
                make = local_service if path == "inbox" else celery_service
                with make(args.engine, args.workers) as (service, db):
                    rates[path] = drop_batch(service, db, files, tag)
            rate, cpu = rates[path]
            print(f"  {set_name:6} {path:8} {rate:5.2f} pages/s, {cpu:.2f} CPU-s/page", flush=True)
        after = tesseract_rate(images, pages, args.workers)
        base = (before[0] + after[0]) / 2
        base_cpu = (before[1] + after[1]) / 2
        print(
            f"  {set_name:6} tesseract CLI {base:5.2f} pages/s (before {before[0]:.2f}, after "
            f"{after[0]:.2f}), {base_cpu:.2f} CPU-s/page [load {os.getloadavg()[0]:.1f}]",
            flush=True,
        )
        for path, (rate, cpu) in rates.items():
            figures[f"{set_name} {path} pages/s"] = rate
            figures[f"{set_name} {path} ratio"] = rate / base
            figures[f"{set_name} {path} CPU ratio"] = base_cpu / cpu
            print(
                f"  {set_name:6} {path:8} ratio {rate / base:.2f}; the CLI's CPU per page / "
                f"ours {base_cpu / cpu:.2f}",
                flush=True,
            )
    if not args.no_text:
        with local_service(args.engine, args.workers) as (service, db):
            texts = [p for p, _ in labelled(CORPUS, ("pdf_text",), ("pdf",))]
            texts = (texts * (args.text // len(texts) + 1))[: args.text]
            text_rate = drop_batch(service, db, texts, f"text-{uuid.uuid4().hex[:6]}")[0]
            scanned = figures.get("scans inbox pages/s")
            figures["text pages/s"] = text_rate
            times_scanned = f"; {text_rate / scanned:.0f}x the scanned rate" if scanned else ""
            if scanned:
                figures["text / scanned"] = text_rate / scanned
            print(f"  text-layer PDF pages: {text_rate:.1f} pages/s{times_scanned}", flush=True)
            scan = labelled(CORPUS, ("scan",), ("png",))[0][0]
            lat, plain = latency(service, db, scan, args.latency_runs)
            figures["latency s"] = statistics.median(lat)
            print(
                f"  latency inbox → review queue, one-page scan: median "
                f"{statistics.median(lat):.2f} s (min {min(lat):.2f}, max {max(lat):.2f}, "
                f"n={len(lat)}); plain tesseract alone on that page right now {plain:.2f} s",
                flush=True,
            )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scans", type=int, default=48, help="single-page dev scans")
    parser.add_argument("--faxes", type=int, default=36, help="single-page dev faxes")
    parser.add_argument("--text", type=int, default=150, help="text-layer PDF pages")
    parser.add_argument("--latency-runs", type=int, default=9)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--engine", choices=["auto", "tesserocr", "cli"], default="auto")
    parser.add_argument(
        "--paths", nargs="+", choices=["inbox", "backfill", "celery"],
        default=["inbox", "backfill", "celery"],
    )  # fmt: skip
    parser.add_argument("--no-text", action="store_true", help="skip text pages and latency")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="credflow-bench-cli-"))
    scans = [p for p, _ in labelled(CORPUS, ("scan",), ("png", "jpg", "tif"))[: args.scans]]
    fax_pages = labelled(FAXES, ("fax",), ("png", "tif", "pdf"), single=False)[: args.faxes]
    faxes = [p for p, _ in fax_pages]
    sets: Sets = {
        "scans": (scans, scans, len(scans)),
        "faxes": (faxes, cli_images(faxes, tmp), sum(n for _, n in fax_pages)),
    }
    sets = {k: v for k, v in sets.items() if v[0]}
    print(
        f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} "
        f"(1-min average; other engineers share it); workers {args.workers}; "
        f"OCR engine {engine.describe(engine.parse_name(args.engine))}; "
        + ", ".join(f"{k}: {len(v[0])} files, {v[2]} pages" for k, v in sets.items())
    )
    runs: dict[str, list[float]] = defaultdict(list)
    try:
        for n in range(1, args.runs + 1):
            print(f"run {n} (load {os.getloadavg()[0]:.1f})", flush=True)
            for key, value in one_run(args, sets).items():
                runs[key].append(value)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"median of {args.runs} run(s), load now {os.getloadavg()[0]:.1f}:")
    for key, values in runs.items():
        if key.endswith(("ratio", "latency s", "text / scanned")):  # CPU ratio too
            shown = ", ".join(f"{v:.2f}" for v in values)
            print(f"  {key:28} {statistics.median(values):6.2f}   ({shown})")


if __name__ == "__main__":
    main()
