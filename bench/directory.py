"""The clinician directory at hospital scale: 20,000 clinicians (bulk-inserted, with NPIs
and licence numbers, everyone judged), on SQLite and on a private PostgreSQL database.

Three times, a new process opens the database and the app and times GET /providers with
a search (name, NPI, licence number), each filter, each sort, a deep page, the CSV and
GET /providers/{id} through the real app (p50 and p95 of --requests each), beside the floor:
a plain SELECT of one page of providers. The median of the three runs is printed with the
machine's load. Reuses bench/compliance.py's seed, sign-in and helpers.

    .venv/bin/python bench/directory.py [--providers 20000] [--db sqlite|postgres|both]
        [--requests 20]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compliance import p95, scratch_database, seed, signed_in  # noqa: E402
from compliance import standing  # noqa: E402
from compliance.requirements import load_requirements  # noqa: E402
from models import Credential, Database, Provider  # noqa: E402
from review import auth  # noqa: E402

PER_PAGE = 50


def cases(providers: int) -> dict[str, str]:
    """What is timed: label -> path (ids and numbers exist in the seeded data)."""
    mid = providers // 2
    last = -(-int(providers * 0.95) // PER_PAGE)  # about 95% are active
    return {
        "GET /providers": "/providers",
        "  ?q=<name part>": f"/providers?q=clinician%20{mid // 10:04d}",
        "  ?q=<NPI>": f"/providers?q={npi(mid)}",
        "  ?q=<licence number>": f"/providers?q=l{mid:07d}",
        "  ?category=registered_nurse": "/providers?category=registered_nurse",
        "  ?department=ICU": "/providers?department=ICU",
        "  ?state=CA": "/providers?state=CA",
        "  ?status=all": "/providers?status=all",
        "  ?standing=at_risk": "/providers?standing=at_risk",
        "  ?standing=non_compliant": "/providers?standing=non_compliant",
        "  ?department=ICU&state=CA&standing=compliant": (
            "/providers?department=ICU&state=CA&standing=compliant"),
        "  ?sort=standing": "/providers?sort=standing",
        "  ?sort=department&desc=1": "/providers?sort=department&desc=1",
        f"  ?page={last} (deep page)": f"/providers?page={last}",
        "GET /providers.csv (every active row)": "/providers.csv",
        "GET /providers/{id}": f"/providers/{mid}",
    }  # fmt: skip


def npi(pid: int) -> str:
    return f"{1_000_000_000 + pid}"


def numbers(db: Database) -> None:
    """NPIs for every clinician and a number for every licence, to search by."""
    with db.engine.begin() as conn:
        conn.execute(
            update(Provider).where(Provider.id == bindparam("pid")).values(npi=bindparam("n")),
            [{"pid": i, "n": npi(i)} for i in conn.scalars(select(Provider.id))],
        )
        lic = Credential.doc_type.in_(("medical_license", "nursing_license"))
        rows = conn.execute(select(Credential.id, Credential.provider_id).where(lic)).all()
        conn.execute(
            update(Credential).where(Credential.id == bindparam("cid"))
            .values(credential_number=bindparam("n")),
            [{"cid": c, "n": f"L{p:07d}"} for c, p in rows],
        )  # fmt: skip


def floor(db: Database) -> float:
    """A plain SELECT of one page of providers in name order (no count, join or HTML)."""
    t = time.perf_counter()
    with db.engine.connect() as conn:
        conn.execute(
            select(Provider.id, Provider.name, Provider.npi, Provider.staff_category,
                   Provider.department, Provider.states)
            .where(Provider.active.is_(True)).order_by(Provider.name).limit(PER_PAGE)
        ).all()  # fmt: skip
    return time.perf_counter() - t


def measure(url: str, workdir: Path, requests: int, providers: int) -> dict[str, Any]:
    """In a new process: open the database and the app as a restart does, then time each
    case `requests` times."""
    db = Database(url)
    db.upgrade()
    client = signed_in(db, workdir)
    out: dict[str, Any] = {"load": os.getloadavg()[0]}
    for label, path in cases(providers).items():
        times, floors = [], []
        for _ in range(requests):
            t = time.perf_counter()
            r = client.get(path)
            times.append(time.perf_counter() - t)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
            floors.append(floor(db))
        rows = r.text.count("\r\n") - 1 if path.endswith(".csv") else r.text.count("<tr>") - 1
        out[label] = {"p50": statistics.median(times), "p95": p95(times), "floor": p95(floors),
                      "rows": max(rows, 0)}  # fmt: skip
    db.dispose()
    return out


def run(url: str, name: str, providers: int, workdir: Path, requests: int, runs: int) -> None:
    print(f"\n== {name}: {providers} clinicians", flush=True)
    db = Database(url)
    db.upgrade()
    t = time.perf_counter()
    n = seed(db, providers, 10, random.Random(7))
    numbers(db)
    print(f"  seed: {n} credentials in {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    standing.Keeper(db).rebuild(load_requirements())
    print(f"  judged everyone in {time.perf_counter() - t:.1f} s", flush=True)
    if not db.is_sqlite:
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    with db.session() as s:
        auth.create_user(s, "coord", "bench-password-1", "coordinator")
    db.dispose()
    got = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, __file__, "--measure", url, "--workdir", str(workdir),
             "--requests", str(requests), "--providers", str(providers)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
        got.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    loads = ", ".join(f"{g['load']:.2f}" for g in got)
    print(f"  p50/p95 of {requests} requests, median of {runs} runs (new process each); "
          f"load (1 min) at each run: {loads}")  # fmt: skip
    print(f"    {'':46s} {'p50':>7s} {'p95':>7s} {'floor p95':>10s} {'rows':>6s}")
    for label in cases(providers):
        med = {k: statistics.median(g[label][k] for g in got) for k in ("p50", "p95", "floor")}
        print(f"    {label:46s} {med['p50'] * 1000:5.0f}ms {med['p95'] * 1000:5.0f}ms "
              f"{med['floor'] * 1000:8.1f}ms {got[0][label]['rows']:6d}", flush=True)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--providers", type=int, default=20_000)
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--requests", type=int, default=20, help="requests per case and run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.workdir, args.requests, args.providers)))
        return
    with tempfile.TemporaryDirectory(prefix="credflow-bench-dir-") as tmp:
        work = Path(tmp)
        if args.db in ("sqlite", "both"):
            run(f"sqlite:///{work / 'bench.db'}", "SQLite", args.providers, work, args.requests,
                args.runs)  # fmt: skip
        if args.db in ("postgres", "both"):
            (work / "pg").mkdir()
            with scratch_database() as url:
                run(url, "PostgreSQL", args.providers, work / "pg", args.requests, args.runs)


if __name__ == "__main__":
    main()
