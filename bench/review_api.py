"""Server time of the JSON API on a large office's database.

Uses the same data as bench/review_pages.py (50,000 documents, 20,000 providers, 200,000
credentials by default), then calls the real app in process with an API token and prints
median and 95th percentile server time per endpoint, approvals included (each approval
decides a different document awaiting review).

    .venv/bin/python bench/review_api.py                  # SQLite and PostgreSQL
    .venv/bin/python bench/review_api.py --only sqlite --requests 50
"""

from __future__ import annotations

import importlib.util
import itertools
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models import Database, Document, DocumentField, Provider, StoreLayout  # noqa: E402


def _pages_bench() -> Any:
    """bench/review_pages.py: its data filler (`fill`) and database helpers."""
    spec = importlib.util.spec_from_file_location("review_pages", ROOT / "bench/review_pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ServerTimer:
    """ASGI wrapper: from a request reaching the app to its last body byte (server time,
    without the test client's)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last_ms = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        start = time.perf_counter()

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last_ms = (time.perf_counter() - start) * 1000

        await self.app(scope, receive, timed_send)


def timings(call: Callable[[], None], timer: ServerTimer, n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    out = []
    for _ in range(n):
        call()
        out.append(timer.last_ms)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(pages: Any, db: Database, data_dir: Path, n: int) -> list[tuple[str, float, float]]:
    from fastapi.testclient import TestClient

    from review import auth
    from review.app import create_app

    with db.session() as s:
        token = auth.create_token(s, "bench")
        awaiting = list(
            s.scalars(
                select(Document.id)
                .where(Document.status == "awaiting_review")
                .order_by(func.random())
                .limit(2 * n + 20)
            )
        )
        provider = s.scalars(select(Provider.id).order_by(func.random()).limit(1)).one()
        family = s.scalars(select(Provider.name).where(Provider.id == provider)).one().split()[-1]
        # what the approvals confirm: each document's own proposals
        proposals: dict[int, dict[str, str | None]] = {}
        for doc_id, doc_type, name, value in s.execute(
            select(Document.id, Document.doc_type, DocumentField.name, DocumentField.value)
            .join(DocumentField, DocumentField.document_id == Document.id)
            .where(Document.id.in_(awaiting[n:]))
        ):
            proposals.setdefault(doc_id, {"__type": doc_type})[name] = value

    app = create_app(db, StoreLayout(data_dir), secret_key="bench-" + uuid.uuid4().hex)
    timer = ServerTimer(app)
    results: list[tuple[str, float, float]] = []
    with TestClient(timer, headers={"Authorization": f"Bearer {token}"}) as client:
        reads = itertools.cycle(awaiting[:n])  # the read calls and their warm-ups
        to_approve = iter(sorted(proposals))

        def get(path: str | Callable[[], str]) -> Callable[[], None]:
            def call() -> None:
                url = path() if callable(path) else path
                r = client.get(url)
                assert r.status_code == 200, (url, r.status_code, r.text[:300])

            return call

        def approve() -> None:
            doc = next(to_approve)
            fields = dict(proposals[doc])
            doc_type = fields.pop("__type")
            r = client.post(
                f"/api/documents/{doc}/approve",
                json={"doc_type": doc_type, "fields": fields, "provider_id": provider},
            )
            # bench values are random: a failing check (422) is timed like a success
            assert r.status_code in (200, 422), (r.status_code, r.text[:300])

        calls: list[tuple[str, Callable[[], None]]] = [
            ("GET /api/documents (newest 50)", get("/api/documents")),
            ("GET /api/documents awaiting, priority", get(
                "/api/documents?status=awaiting_review&order=priority")),
            ("GET /api/documents?q=family name", get(f"/api/documents?q={family}")),
            ("GET /api/documents/counts", get("/api/documents/counts")),
            ("GET /api/documents/{id}", get(lambda: f"/api/documents/{next(reads)}")),
            ("GET /api/providers?q=family name", get(f"/api/providers?q={family}")),
            ("GET /api/providers/suggest", get(
                lambda: f"/api/providers/suggest?document_id={next(reads)}")),
            ("GET /api/providers/{id}/credentials", get(
                f"/api/providers/{provider}/credentials")),
            ("POST /api/documents/{id}/approve", approve),
        ]  # fmt: skip
        for label, call in calls:
            values = timings(call, timer, n, warmup=2 if "approve" in label else 3)
            results.append((label, statistics.median(values), p95(values)))
    return results


def main() -> None:
    pages = _pages_bench()
    args = pages.parse_args(__doc__.split("\n\n")[0], "endpoint")
    backends = [args.only] if args.only else ["sqlite", "postgres"]
    print(
        f"{args.documents:,} documents, {args.credentials:,} credentials, "
        f"{args.providers:,} providers; {args.requests} timed requests per endpoint (ms)"
    )
    with tempfile.TemporaryDirectory(prefix="credflow-bench-api-") as tmp:
        workdir = Path(tmp)
        for backend in backends:
            ctx = (
                pages.sqlite_db(workdir)
                if backend == "sqlite"
                else pages.postgres_db(workdir, args.pg_admin_url)
            )
            with ctx as (db, data_dir):
                db.upgrade()
                start = time.perf_counter()
                pages.fill(db, args.documents, args.credentials, args.providers)
                print(f"\n{backend}: filled in {time.perf_counter() - start:.1f} s")
                print(f"  {'endpoint':<44} {'median':>8} {'p95':>8}")
                for label, median, high in measure(pages, db, data_dir, args.requests):
                    print(f"  {label:<44} {median:8.1f} {high:8.1f}")


if __name__ == "__main__":
    main()
