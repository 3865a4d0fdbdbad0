"""Compliance at hospital scale: 20,000 clinicians with 200,000 credentials.

Times the expirations dashboard (the query + judgement, the HTML page, the CSV and
/api/expiring through the real app) and a full notification pass (deviations, reminders,
SMTP to a local aiosmtpd sink), then a second pass (the steady daily cost: nothing new),
on SQLite and on a private PostgreSQL database (created and dropped here; never `test`).

Then the pages after a restart: three times, a new process opens the database and the app
and times the first dashboard page, its filters and /api/expiring (p95 of --requests each,
the first request of the process included), beside a plain SELECT of the same rows (the
floor); the median of the three runs is printed with the machine's load.

    .venv/bin/python bench/compliance.py [--providers 20000] [--per 10] [--db sqlite|postgres|both]
        [--no-notify] [--requests 20]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from compliance import notify, standing  # noqa: E402
from compliance.expirations import build_dashboard, dashboard_csv  # noqa: E402
from compliance.requirements import load_requirements  # noqa: E402
from compliance.status import ProviderFilter  # noqa: E402
from credflow.settings import Settings  # noqa: E402
from models import Credential, Database, Provider, StoreLayout, User  # noqa: E402
from models.compliance import CommitteeDecision  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TODAY = date(2026, 3, 2)
STATES = ["CA", "NY", "TX", "FL", "OR", "WA", "IL", "PA", "OH", "NV"]
DEPARTMENTS = ["Emergency Medicine", "Surgery", "Family Medicine", "ICU", "Cardiology",
               "Pediatrics", "Anesthesiology", "Oncology"]  # fmt: skip
CATEGORIES = [("physician", 0.45), ("registered_nurse", 0.35), ("advanced_practice_nurse", 0.12),
              ("physician_assistant", 0.08)]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(db: Database, providers: int, per: int, rng: random.Random) -> int:
    """Bulk insert with Core executemany; returns the number of credentials."""
    cats = [c for c, _ in CATEGORIES]
    weights = [w for _, w in CATEGORIES]
    now = datetime.now(UTC)
    prov_rows: list[dict[str, Any]] = []
    for i in range(providers):
        states = rng.sample(STATES, 1 if rng.random() < 0.8 else 2)
        prov_rows.append({
            "id": i + 1, "name": f"Clinician {i + 1:05d}", "email": f"c{i + 1}@example.org",
            "staff_category": rng.choices(cats, weights)[0], "department": rng.choice(DEPARTMENTS),
            "states": states, "active": rng.random() < 0.95, "created_at": now, "updated_at": now,
        })  # fmt: skip
    cred_rows: list[dict[str, Any]] = []
    dec_rows: list[dict[str, Any]] = []
    cid = 0

    def add(pid: int, doc_type: str, **kw: Any) -> None:
        nonlocal cid
        cid += 1
        row = {"id": cid, "provider_id": pid, "doc_type": doc_type, "credential_title": None,
               "jurisdiction": None, "issue_date": None, "expiration_date": None,
               "problems": None, "credit_hours": None,
               "verified_at": now - timedelta(days=rng.randint(5, 400)),
               "created_at": now}  # fmt: skip
        row.update(kw)
        cred_rows.append(row)

    for p in prov_rows:
        pid = p["id"]
        exp = lambda: TODAY + timedelta(days=rng.randint(-60, 1000))  # noqa: E731
        doctor = p["staff_category"] in ("physician", "physician_assistant")
        lic = "medical_license" if doctor else "nursing_license"
        for st in p["states"]:
            add(pid, lic, jurisdiction=st, expiration_date=exp())
        base = [
            ("dea_registration", {"jurisdiction": p["states"][0], "expiration_date": exp()}),
            ("board_certification", {"credential_title": "Internal Medicine"}),
            ("diploma", {"credential_title": "Doctor of Medicine"}),
            ("malpractice_insurance", {"expiration_date": exp()}),
            ("life_support_card", {"credential_title": "BLS Provider", "expiration_date": exp()}),
            ("life_support_card", {"credential_title": "ACLS Provider",
                                   "issue_date": TODAY - timedelta(days=rng.randint(0, 800))}),
            ("cme_certificate", {"issue_date": TODAY - timedelta(days=rng.randint(0, 700)),
                                 "credit_hours": str(rng.choice([10, 20, 25, 40]))}),
            ("cme_certificate", {"issue_date": TODAY - timedelta(days=rng.randint(0, 700)),
                                 "credit_hours": str(rng.choice([5, 10, 15]))}),
            ("training_certificate", {"credential_title": "Residency"}),
        ]  # fmt: skip
        held = len(p["states"])
        for doc_type, kw in base:
            if held >= per:
                break
            held += 1
            if rng.random() < 0.01:
                kw = {**kw, "problems": "DEA check digit does not match"}
            add(pid, doc_type, **kw)
        decided = TODAY - timedelta(days=rng.randint(30, 1150))
        dec_rows.append({"provider_id": pid, "decided_on": decided, "decision": "approved",
                         "created_at": now})  # fmt: skip
    with db.engine.begin() as conn:
        conn.execute(insert(Provider), prov_rows)
        for i in range(0, len(cred_rows), 20_000):
            conn.execute(insert(Credential), cred_rows[i : i + 20_000])
        conn.execute(insert(CommitteeDecision), dec_rows)
        conn.execute(insert(User), [
            {"username": "manager", "password_hash": "x", "role": "manager",
             "email": "manager@example.org", "disabled": False, "created_at": now}
        ])  # fmt: skip
    return len(cred_rows)


def timed(label: str, fn: Any, results: dict[str, float]) -> Any:
    t = time.perf_counter()
    out = fn()
    results[label] = time.perf_counter() - t
    print(f"  {label:42s} {results[label]:8.2f} s", flush=True)
    return out


def run(
    url: str, name: str, providers: int, per: int, workdir: Path, requests: int, mail: bool
) -> None:
    print(f"\n== {name}: {providers} providers", flush=True)
    db = Database(url)
    db.upgrade()
    rng = random.Random(7)
    results: dict[str, float] = {}
    n = timed("seed (Core executemany)", lambda: seed(db, providers, per, rng), results)
    print(f"  credentials: {n}")
    if not db.is_sqlite:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    reqs = load_requirements()

    def board() -> Any:
        with db.session() as s:
            return build_dashboard(s, reqs, TODAY)

    b = timed("dashboard: load + judge all (Python)", board, results)
    print("  sections: " + ", ".join(f"{k} {len(v)}" for k, v in b.sections.items()))
    timed("dashboard: CSV of all sections", lambda: dashboard_csv(b), results)
    keeper = standing.Keeper(db)
    timed("kept judgement: judge everyone, write rows", lambda: keeper.rebuild(reqs), results)
    if not db.is_sqlite:
        # what autovacuum does after a bulk write: statistics, and the visibility map that
        # lets the section counts be read from the index alone
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))

    from review import auth

    with db.session() as s:
        auth.create_user(s, "coord", "bench-password-1", "coordinator")
    restarts(url, workdir, requests)
    if not mail:
        db.dispose()
        return
    client = signed_in(db, workdir)
    r = timed("GET /compliance (HTML page, cold)", lambda: client.get(f"/compliance?on={TODAY}"),
              results)  # fmt: skip
    assert r.status_code == 200, r.status_code
    timed("GET /compliance (again: board kept)", lambda: client.get(f"/compliance?on={TODAY}"),
          results)  # fmt: skip
    timed("GET /compliance?department=ICU&state=CA", lambda: client.get(
        f"/compliance?on={TODAY}&department=ICU&state=CA"), results)  # fmt: skip
    timed("GET /compliance/export.csv (all rows)",
          lambda: client.get(f"/compliance/export.csv?on={TODAY}"), results)  # fmt: skip
    r = timed("GET /api/expiring?within_days=90", lambda: client.get(
        f"/api/expiring?within_days=90&on={TODAY}"), results)  # fmt: skip
    print(f"  /api/expiring items: {len(r.json()['items'])}")

    # the SMTP server in its own process, as a real one would be
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port)
        settings = Settings(data_dir=workdir, smtp_host="127.0.0.1", smtp_port=port)
        start = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)

        def one_pass() -> notify.PassSummary:
            return notify.run_pass(db, settings, TODAY, clock=lambda: start)

        first = timed("notify pass 1 (detect, queue, send)", one_pass, results)
        for line in first.lines():
            print("    " + line)
        print("    phases (cumulative): "
              + ", ".join(f"{k} {v:.1f}s" for k, v in first.timings.items()))  # fmt: skip
        if first.sent:
            rate = first.sent / max(first.timings["send"] - first.timings["queue"], 1e-9)
            print(f"    send rate: {rate:.0f} messages/s")
        second = timed("notify pass 2 (same day: nothing new)", one_pass, results)
        assert second.sent == 0 and second.reminders_queued == 0, second
    finally:
        sink.terminate()
        sink.wait(10)
        db.dispose()


def signed_in(db: Database, workdir: Path) -> Any:
    """The real app (review + compliance plugin) with a coordinator signed in."""
    import re

    from fastapi.testclient import TestClient

    from credflow.web import web_config
    from review.app import create_app

    config = web_config(Settings(data_dir=workdir))
    app = create_app(db, StoreLayout(workdir), config, secret_key="bench-" + "x" * 30)
    client = TestClient(app)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    client.post("/login", data={"username": "coord", "password": "bench-password-1",
                                "csrf_token": token.group(1) if token else ""})  # fmt: skip
    return client


# what is timed after a restart: the first page, its filters, the API
PAGES: dict[str, tuple[str, ProviderFilter | None]] = {
    "GET /compliance": ("", ProviderFilter()),
    "  ?department=ICU": ("&department=ICU", ProviderFilter(department="ICU")),
    "  ?category=registered_nurse": (
        "&category=registered_nurse", ProviderFilter(category="registered_nurse")),
    "  ?state=CA": ("&state=CA", ProviderFilter(state="CA")),
    "  ?department=ICU&state=CA": (
        "&department=ICU&state=CA", ProviderFilter(department="ICU", state="CA")),
    "GET /api/expiring?within_days=90": ("", None),
    "GET /api/expiring?within_days=30": ("", None),
}  # fmt: skip


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def floor_rows(db: Database, label: str, flt: ProviderFilter | None) -> int:
    """A plain SELECT of the rows the page or API shows (no sort, count, judgement, HTML
    or JSON): the first 300 of each section's kept rows, or the credentials expiring."""
    with db.engine.connect() as conn:
        if flt is None:
            days = 90 if "90" in label else 30
            c = Credential.__table__.c
            rows = conn.execute(
                select(c.id, c.provider_id, c.doc_type, c.expiration_date, c.jurisdiction,
                       c.credential_title, Provider.__table__.c.active)
                .join_from(Credential.__table__, Provider.__table__)
                .where(c.expiration_date <= TODAY + timedelta(days=days))
            ).all()  # fmt: skip
            return len(rows)
        it = standing.ITEMS
        n = 0
        conds = standing._conditions(it, flt)
        for where in standing._windows(TODAY).values():
            q = (
                select(it.c.provider_id, it.c.name, it.c.department, it.c.category,
                       it.c.states, it.c.credential_id, it.c.doc_type, it.c.item, it.c.due)
                .where(where, *conds).limit(300)
            )  # fmt: skip
            n += len(conn.execute(q).all())
        return n


def measure(url: str, workdir: Path, requests: int) -> dict[str, Any]:
    """In a new process: open the database and the app as a restart does, then time each
    page `requests` times (the first request of the process is the first page's first)."""
    started = time.perf_counter()
    db = Database(url)
    db.upgrade()
    client = signed_in(db, workdir)
    out: dict[str, Any] = {"start": time.perf_counter() - started, "load": os.getloadavg()[0]}
    with db.session() as s:
        key = standing.rules_key(load_requirements().version_on(datetime.now(UTC).date()))
        out["pending"] = standing.pending_count(s, key)
    for label, (extra, flt) in PAGES.items():
        if flt is None:
            days = 90 if "90" in label else 30
            path = f"/api/expiring?within_days={days}&on={TODAY}"
        else:
            path = f"/compliance?on={TODAY}{extra}"
        times, floors = [], []
        for _ in range(requests):
            t = time.perf_counter()
            r = client.get(path)
            times.append(time.perf_counter() - t)
            assert r.status_code == 200, (path, r.status_code)
            t = time.perf_counter()
            rows = floor_rows(db, label, flt)
            floors.append(time.perf_counter() - t)
        out[label] = {"first": times[0], "p95": p95(times), "median": statistics.median(times),
                      "floor": p95(floors), "rows": rows}  # fmt: skip
    db.dispose()
    return out


def restarts(url: str, workdir: Path, requests: int, runs: int = 3) -> None:
    """Three new processes, one after the other; the median of each figure."""
    print(f"  after a restart (new process), p95 of {requests} requests, median of {runs} runs:")
    got = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, __file__, "--measure", url, "--workdir", str(workdir),
             "--requests", str(requests)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
        got.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    loads = ", ".join(f"{g['load']:.2f}" for g in got)
    print(f"    load (1 min) at each run: {loads}; clinicians waiting for a judgement: "
          f"{max(g['pending'] for g in got)}")  # fmt: skip
    print(f"    process start + migrate check + sign-in: "
          f"{statistics.median(g['start'] for g in got) * 1000:.0f} ms")  # fmt: skip
    print(f"    {'':36s} {'first':>8s} {'median':>8s} {'p95':>8s} {'floor p95':>10s} {'rows':>7s}")
    for label in PAGES:
        med = {k: statistics.median(g[label][k] for g in got)
               for k in ("first", "median", "p95", "floor")}  # fmt: skip
        print(f"    {label:36s} {med['first'] * 1000:6.0f}ms {med['median'] * 1000:6.0f}ms "
              f"{med['p95'] * 1000:6.0f}ms {med['floor'] * 1000:8.0f}ms "
              f"{got[0][label]['rows']:7d}", flush=True)  # fmt: skip


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the SMTP sink did not start on port {port}")


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A new PostgreSQL database for one bench run (its URL), dropped afterwards."""
    name = f"credflow_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})  # fmt: skip
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--providers", type=int, default=20_000)
    ap.add_argument("--per", type=int, default=10, help="credentials per provider")
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--requests", type=int, default=20, help="requests per page after restart")
    ap.add_argument("--no-notify", action="store_true", help="skip the notification passes")
    ap.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.workdir, args.requests)))
        return
    mail = not args.no_notify
    with tempfile.TemporaryDirectory(prefix="credflow-bench-") as tmp:
        work = Path(tmp)
        if args.db in ("sqlite", "both"):
            run(f"sqlite:///{work / 'bench.db'}", "SQLite", args.providers, args.per, work,
                args.requests, mail)  # fmt: skip
        if args.db in ("postgres", "both"):
            with scratch_database() as url:
                run(url, "PostgreSQL", args.providers, args.per, work / "pg", args.requests, mail)


if __name__ == "__main__":
    main()
