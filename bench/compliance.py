"""Compliance at hospital scale: 20,000 clinicians with 200,000 credentials.

Times the expirations dashboard (the query + judgement, the HTML page, the CSV and
/api/expiring through the real app) and a full notification pass (deviations, reminders,
SMTP to a local aiosmtpd sink), then a second pass (the steady daily cost: nothing new),
on SQLite and on a private PostgreSQL database (created and dropped here; never `test`).

    .venv/bin/python bench/compliance.py [--providers 20000] [--per 10] [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compliance import notify  # noqa: E402
from compliance.expirations import build_dashboard, dashboard_csv  # noqa: E402
from compliance.requirements import load_requirements  # noqa: E402
from compliance.web_dashboard import install  # noqa: E402
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


def run(url: str, name: str, providers: int, per: int, workdir: Path) -> None:
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

    b = timed("dashboard: load + judge all", board, results)
    print("  sections: " + ", ".join(f"{k} {len(v)}" for k, v in b.sections.items()))
    timed("dashboard: CSV of all sections", lambda: dashboard_csv(b), results)

    from fastapi.testclient import TestClient

    from review import auth
    from review.app import create_app

    with db.session() as s:
        auth.create_user(s, "coord", "bench-password-1", "coordinator")
    app = create_app(db, StoreLayout(workdir), secret_key="bench-" + "x" * 30, plugins=[install],
                     settings=Settings(data_dir=workdir))  # fmt: skip
    client = TestClient(app)
    page = client.get("/login")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    client.post("/login", data={"username": "coord", "password": "bench-password-1",
                                "csrf_token": token.group(1) if token else ""})  # fmt: skip
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


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the SMTP sink did not start on port {port}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--providers", type=int, default=20_000)
    ap.add_argument("--per", type=int, default=10, help="credentials per provider")
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="credflow-bench-") as tmp:
        work = Path(tmp)
        if args.db in ("sqlite", "both"):
            run(f"sqlite:///{work / 'bench.db'}", "SQLite", args.providers, args.per, work)
        if args.db in ("postgres", "both"):
            name = f"credflow_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                run(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", "PostgreSQL", args.providers,
                    args.per, work / "pg")  # fmt: skip
            finally:
                with admin.connect() as conn:
                    conn.execute(text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ), {"n": name})  # fmt: skip
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                admin.dispose()


if __name__ == "__main__":
    main()
