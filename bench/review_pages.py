"""Server time of the review queue and the review screen on a large office's database.

Fills a fresh database with 50,000 documents (their proposed fields, pages with words for
those awaiting review), 20,000 providers and 200,000 credentials by bulk inserts, then asks
the real web app (in process, signed in as a coordinator) for the queue page, a filtered and
a searched queue, the live counts and the review screen of documents awaiting review, and
prints the median and 95th percentile per page. Target: p95 under 100 ms.

    .venv/bin/python bench/review_pages.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/review_pages.py --only sqlite --requests 50

PostgreSQL: a private database is created on the server of --pg-admin-url and dropped
afterwards (never the `test` database itself).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import string
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models import (  # noqa: E402
    Credential,
    Database,
    Document,
    DocumentField,
    DocumentPage,
    Provider,
    StoreLayout,
    User,
)
from models.search import rebuild as rebuild_search_terms  # noqa: E402

DOC_TYPES = {
    "medical_license": ("credential_number", "issuer", "jurisdiction", "credential_title",
                        "issue_date", "expiration_date"),
    "nursing_license": ("credential_number", "issuer", "jurisdiction", "credential_title",
                        "issue_date", "expiration_date"),
    "dea_registration": ("credential_number", "jurisdiction", "expiration_date", "schedules"),
    "board_certification": ("issuer", "credential_title", "credential_number", "issue_date",
                            "expiration_date"),
    "diploma": ("issuer", "credential_title", "issue_date"),
    "life_support_card": ("issuer", "credential_title", "issue_date", "expiration_date"),
    "malpractice_insurance": ("issuer", "credential_number", "issue_date", "expiration_date"),
}  # fmt: skip
# names built from syllables: a large office has thousands of distinct family names
SYLLABLES = [
    *("an", "be", "ca", "do", "el", "fa", "gi", "ho", "is", "ja", "ke", "lo", "ma", "ne"),
    *("ol", "pa", "qu", "ri", "so", "ta", "ul", "va", "wi", "xa", "yo", "za", "mar", "ten"),
    *("ros", "lin", "dov", "kas", "ber", "mon", "tri", "gal"),
]
GIVEN = ["Maria", "James", "Wei", "Aisha", "Carlos", "Olga", "Peter", "Nadia", "Samuel"]
GIVEN += ["Grace", "Tomas", "Ingrid", "Kwame", "Lena", "Priya", "Omar", "Yuki", "Fatima"]
PASSWORD = "bench-password-123"
BATCH = 5000


def _family(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def _name(rng: random.Random) -> str:
    return f"{rng.choice(GIVEN)} {rng.choice(string.ascii_uppercase)}. {_family(rng)}"


def _words(rng: random.Random, n: int) -> list[list[Any]]:
    """A page of `n` OCR words in reading lines, boxes as fractions of the page."""
    words: list[list[Any]] = []
    per_line = 10
    for i in range(n):
        line, col = divmod(i, per_line)
        x0 = 0.08 + col * 0.085
        y0 = 0.08 + line * 0.028
        words.append(
            ["".join(rng.choices(string.ascii_letters, k=rng.randint(2, 9))),
             round(rng.uniform(0.5, 1.0), 2), round(x0, 4), round(y0, 4),
             round(x0 + 0.07, 4), round(y0 + 0.02, 4)]
        )  # fmt: skip
    return words


def _batches(rows: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(db: Database, documents: int, credentials: int, providers: int, seed: int = 7) -> None:
    """Bulk-insert the office's history with SQLAlchemy Core executemany."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    today = date.today()
    with db.engine.begin() as conn:
        from review import auth

        conn.execute(
            insert(User),
            [{"username": "bench", "password_hash": auth.hash_password(PASSWORD),
              "role": "coordinator", "disabled": False, "created_at": now}],
        )  # fmt: skip
        conn.execute(
            insert(Provider),
            [
                {"name": _name(rng), "npi": f"1{rng.randrange(10**8, 10**9)}", "states": [],
                 "active": True, "created_at": now, "updated_at": now}
                for _ in range(providers)
            ],
        )  # fmt: skip

    statuses = (
        ["awaiting_review"] * 10 + ["approved"] * 80 + ["rejected"] * 5 + ["failed"] * 3
        + ["received"] * 2
    )  # fmt: skip
    plan: list[tuple[str, str]] = []
    for _ in range(documents):
        plan.append((rng.choice(statuses), rng.choice(list(DOC_TYPES))))

    def document_rows() -> Iterator[dict[str, Any]]:
        for i, (status, doc_type) in enumerate(plan, start=1):
            fields = DOC_TYPES[doc_type]
            created = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 400))
            expires = today + timedelta(days=rng.randrange(-200, 1500))
            yield {
                "sha256": uuid.uuid4().hex + uuid.uuid4().hex,
                "filename": f"scan_{i:06d}.pdf",
                "hint": f"{_family(rng)}, {rng.choice(GIVEN)}",
                "size": rng.randrange(50_000, 4_000_000),
                "media_type": "application/pdf",
                "status": status,
                "error": "not a PDF, PNG, JPEG or TIFF file" if status == "failed" else None,
                "doc_type": None if status in ("failed", "received") else doc_type,
                "doc_type_confidence": rng.random(),
                "page_count": 1,
                "min_confidence": None if status in ("failed", "received") else rng.random(),
                "expires_on": expires.isoformat() if "expiration_date" in fields else None,
                "attempts": 1,
                "provider_id": rng.randrange(1, providers + 1) if status == "approved" else None,
                "created_at": created,
                "updated_at": created,
            }

    def field_rows() -> Iterator[dict[str, Any]]:
        for i, (status, doc_type) in enumerate(plan, start=1):
            if status in ("failed", "received"):
                continue
            for name in ("person_name", *DOC_TYPES[doc_type]):
                value = _name(rng) if name == "person_name" else f"V{rng.randrange(10**6)}"
                if name.endswith("_date"):
                    value = (today + timedelta(days=rng.randrange(-2000, 1500))).isoformat()
                yield {
                    "document_id": i, "name": name, "value": value,
                    "confidence": round(rng.random(), 3), "page": 1,
                    "box": [0.1, 0.2, 0.4, 0.24], "candidates": [], "problems": [],
                }  # fmt: skip

    def page_rows() -> Iterator[dict[str, Any]]:
        for i, (status, _doc_type) in enumerate(plan, start=1):
            if status == "awaiting_review":
                words = _words(rng, 320)
                yield {
                    "document_id": i, "number": 1, "width": 2550.0, "height": 3300.0,
                    "source": "ocr", "rotation": 0, "text": " ".join(w[0] for w in words),
                    "words": words,
                }  # fmt: skip

    approved = [i for i, (s, _t) in enumerate(plan, start=1) if s == "approved"]

    def credential_rows() -> Iterator[dict[str, Any]]:
        for _ in range(credentials):
            doc_type = rng.choice(list(DOC_TYPES))
            issued = today - timedelta(days=rng.randrange(0, 4000))
            yield {
                "provider_id": rng.randrange(1, providers + 1),
                "document_id": rng.choice(approved),
                "doc_type": doc_type,
                "credential_number": f"C{rng.randrange(10**7)}",
                "issuer": "State Medical Board",
                "jurisdiction": "OH",
                "credential_title": "Physician and Surgeon",
                "issue_date": issued,
                "expiration_date": issued + timedelta(days=rng.randrange(300, 1500)),
                "verified_by_id": 1,
                "verified_at": now,
                "created_at": now,
            }

    for table, rows in (
        (Document, document_rows()),
        (DocumentField, field_rows()),
        (DocumentPage, page_rows()),
        (Credential, credential_rows()),
    ):
        for batch in _batches(rows):
            with db.engine.begin() as conn:
                conn.execute(insert(table), batch)
    with db.engine.begin() as conn:  # Core inserts bypass the session hook that keeps terms
        rebuild_search_terms(conn)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # as autovacuum leaves a live database: statistics and the visibility map
            # (index-only scans) up to date
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


class ServerTimer:
    """ASGI wrapper: the time from a request reaching the app to its last body byte, i.e.
    the server's own time without the test client's, as wall-clock time and as the CPU
    time this process spent meanwhile (on a busy machine, wall time includes waiting for
    a core; CPU time does not)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last_ms = 0.0
        self.last_cpu_ms = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        cpu = time.process_time()

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last_ms = (time.perf_counter() - start) * 1000
                self.last_cpu_ms = (time.process_time() - cpu) * 1000

        await self.app(scope, receive, timed_send)


def backend_cpu_seconds(db: Database) -> float:
    """CPU seconds used so far by the PostgreSQL server processes serving this database."""
    import psutil

    if db.engine.dialect.name != "postgresql":
        return 0.0
    name = db.engine.url.database
    with db.engine.connect() as conn:
        pids = list(
            conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        )
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.Error:
            continue
    return total


def timings(
    call: Callable[[], Any], timer: ServerTimer, db: Database, n: int, warmup: int = 3
) -> tuple[list[float], list[float], float]:
    """Per request: wall ms and app CPU ms; and the database server's mean CPU ms."""
    for _ in range(warmup):
        call()
    wall: list[float] = []
    cpu: list[float] = []
    before = backend_cpu_seconds(db)
    for _ in range(n):
        call()
        wall.append(timer.last_ms)
        cpu.append(timer.last_cpu_ms)
    db_ms = (backend_cpu_seconds(db) - before) * 1000 / n
    return wall, cpu, db_ms


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


Row = tuple[str, float, float, float, float, float]


def measure(db: Database, data_dir: Path, requests: int) -> list[Row]:
    """(page, wall median, wall p95, app CPU median, app CPU p95, database CPU mean) in ms."""
    from fastapi.testclient import TestClient

    from review.app import create_app

    app = create_app(db, StoreLayout(data_dir), secret_key="bench-" + uuid.uuid4().hex)
    timer = ServerTimer(app)
    results: list[Row] = []
    with TestClient(timer) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = client.post(
            "/login",
            data={"username": "bench", "password": PASSWORD, "csrf_token": token, "next": "/queue"},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text[:300]
        with db.session() as s:
            awaiting = list(
                s.scalars(
                    select(Document.id)
                    .where(Document.status == "awaiting_review")
                    .order_by(func.random())
                    .limit(requests + 5)
                )
            )
            person = s.scalar(
                select(DocumentField.value).where(
                    DocumentField.document_id == awaiting[0], DocumentField.name == "person_name"
                )
            )
        family = (person or "Smith").split()[-1]
        ids = iter(awaiting * 2)

        def get(path: str) -> Callable[[], None]:
            def call() -> None:
                r = client.get(path)
                assert r.status_code == 200, (path, r.status_code, r.text[:300])

            return call

        def review() -> None:
            r = client.get(f"/review/{next(ids)}")
            assert r.status_code == 200 and 'data-editable="1"' in r.text, r.status_code

        suggest = f"/review/{awaiting[0]}/providers?person_name={person}"
        pages: list[tuple[str, Callable[[], None]]] = [
            ("queue (awaiting review, priority order)", get("/queue")),
            ("queue page 20", get("/queue?page=20")),
            ("queue filtered (type + low confidence)", get(
                "/queue?doc_type=medical_license&confidence=low")),
            ("queue search by name", get(f"/queue?q={family}")),
            ("queue search by number", get("/queue?q=V12345")),
            ("live counts partial", get("/queue/counts")),
            ("review screen (claims the document)", review),
            ("provider suggestions partial", get(suggest)),
            ("failed list", get("/failed")),
        ]  # fmt: skip
        for label, call in pages:
            wall, cpu, db_ms = timings(call, timer, db, requests)
            results.append(
                (label, statistics.median(wall), p95(wall), statistics.median(cpu), p95(cpu), db_ms)
            )
    return results


@contextmanager
def sqlite_db(workdir: Path) -> Iterator[tuple[Database, Path]]:
    data = workdir / "sqlite"
    data.mkdir()
    db = Database(f"sqlite:///{data / 'credflow.db'}")
    yield db, data
    db.dispose()


@contextmanager
def postgres_db(workdir: Path, admin_url: str) -> Iterator[tuple[Database, Path]]:
    name = f"credflow_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    data = workdir / "postgres"
    data.mkdir()
    db = Database(admin_url.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield db, data
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def parse_args(description: str, timed: str) -> argparse.Namespace:
    """The options this bench and bench/review_api.py share: the data's size, the backends."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--documents", type=int, default=50_000)
    parser.add_argument("--credentials", type=int, default=200_000)
    parser.add_argument("--providers", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=100, help=f"timed requests per {timed}")
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument(
        "--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a server to create the private benchmark database on",
    )  # fmt: skip
    return parser.parse_args()


def main() -> None:
    args = parse_args(__doc__.split("\n\n")[0], "page")
    backends = [args.only] if args.only else ["sqlite", "postgres"]
    print(
        f"{args.documents:,} documents, {args.credentials:,} credentials, "
        f"{args.providers:,} providers; {args.requests} timed requests per page (ms)"
    )
    with tempfile.TemporaryDirectory(prefix="credflow-bench-") as tmp:
        workdir = Path(tmp)
        for backend in backends:
            ctx = (
                sqlite_db(workdir)
                if backend == "sqlite"
                else postgres_db(workdir, args.pg_admin_url)
            )
            with ctx as (db, data_dir):
                db.upgrade()
                start = time.perf_counter()
                fill(db, args.documents, args.credentials, args.providers)
                print(f"\n{backend}: filled in {time.perf_counter() - start:.1f} s")
                print(f"  load average before measuring: {os.getloadavg()[0]:.1f}")
                print(
                    f"  {'page':<42} {'wall median':>11} {'p95':>7} "
                    f"{'cpu median':>10} {'p95':>7} {'db cpu':>7}"
                )
                for label, median, high, cmed, chigh, db_ms in measure(db, data_dir, args.requests):
                    db_col = f"{db_ms:7.1f}" if backend == "postgres" else f"{'-':>7}"
                    print(
                        f"  {label:<42} {median:11.1f} {high:7.1f} {cmed:10.1f} {chigh:7.1f} "
                        f"{db_col}"
                    )


if __name__ == "__main__":
    main()
