"""Screening sources and screening at full size, against the floor of a plain `csv` read.

Import rate (rows/s) and peak memory (max RSS of a fresh process) for: the real LEIE folder
(`../shared/corpus/real/sources/oig-leie`), a generated LEIE UPDATED.csv of 80,000 rows, a
generated SAM extract of 150,000 rows in a ZIP, a generated NPPES file with the real
330-column header of 1,000,000 rows (and of 100,000, to show memory stays flat). Each is
compared with a plain `csv.reader` pass over the same file. Then screening 20,000 clinicians
(a fifth with a former name) against 80,000 LEIE + 150,000 SAM rows on SQLite and PostgreSQL,
and matching quality on clinicians seeded with real 2016 LEIE rows and near misses.
Median of three runs each; the load average is printed. Generated files live in a
temporary folder and are removed afterwards.

    .venv/bin/python bench/screening.py [--only import,screen,quality] [--db sqlite|postgres|both]
                                        [--nppes 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from compliance.sources.leie import COLUMNS as LEIE_COLUMNS  # noqa: E402
from compliance.sources.nppes import published_header  # noqa: E402

REAL = ROOT.parent / "shared" / "corpus" / "real" / "sources"
LEIE_DIR = REAL / "oig-leie"
SAM_SAMPLE = REAL / "sam-exclusions" / "SAM_Exclusions_Public_V2_Extract_sample.csv"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STATES = ["CA", "NY", "TX", "FL", "OR", "WA", "IL", "PA", "OH", "NV", "GA", "NC", "CO", "AZ"]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f}"


# --- real names to build from --------------------------------------------------------


def real_leie_rows() -> list[list[str]]:
    rows: list[list[str]] = []
    for f in sorted(LEIE_DIR.glob("*EXCL.csv")):
        with f.open(newline="", encoding="utf-8") as fh:
            rows.extend(list(csv.reader(fh))[1:])
    return rows


def name_pools(rows: list[list[str]]) -> tuple[list[str], list[str], list[str]]:
    lasts = sorted({r[0].strip() for r in rows if r[0].strip()})
    firsts = sorted({r[1].strip() for r in rows if r[1].strip()})
    mids = sorted({r[2].strip() for r in rows if r[2].strip()})
    return lasts, firsts, mids


# --- generated files -------------------------------------------------------------------


def write_updated(path: Path, n: int, rng: random.Random, pools: Any) -> None:
    lasts, firsts, mids = pools
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write(",".join(f'"{c}"' for c in LEIE_COLUMNS) + "\r\n")
        for i in range(n):
            excl = date(1985, 1, 1) + timedelta(days=rng.randrange(11_500))
            dob = date(1940, 1, 1) + timedelta(days=rng.randrange(20_000))
            npi = f"1{rng.randrange(10**9):09d}" if rng.random() < 0.3 else "0000000000"
            person = rng.random() < 0.9
            row = [
                rng.choice(lasts) if person else "", rng.choice(firsts) if person else "",
                rng.choice(mids) if person and rng.random() < 0.6 else " ",
                "" if person else f"CLINIC {i} LLC", "IND- LIC HC SERV PRO", "NURSE/NURSES AIDE",
                "", npi, dob.strftime("%Y%m%d") if person else "", f"{i} MAIN ST", "SPRINGFIELD",
                rng.choice(STATES), f"{rng.randrange(10000, 99999)}", "1128b4",
                excl.strftime("%Y%m%d"), "00000000", "00000000",
            ]  # fmt: skip
            fh.write(",".join(f'"{v}"' if v else "" for v in row) + ",\r\n")


def write_sam_zip(path: Path, n: int, rng: random.Random, pools: Any) -> None:
    lasts, firsts, mids = pools
    with SAM_SAMPLE.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow(header)
    for i in range(n):
        person = rng.random() < 0.8
        start = date(2000, 1, 1) + timedelta(days=rng.randrange(8_500))
        values = {
            "Classification": "Individual" if person else "Firm",
            "Name": "" if person else f"FIRM {i} INC",
            "First": rng.choice(firsts) if person else "",
            "Middle": rng.choice(mids) if person and rng.random() < 0.3 else "",
            "Last": rng.choice(lasts) if person else "", "City": "SPRINGFIELD",
            "State / Province": rng.choice(STATES), "Country": "USA", "Zip Code": "12345",
            "Exclusion Program": "Reciprocal", "Excluding Agency": "HHS",
            "Exclusion Type": "Ineligible (Proceedings Completed)",
            "Active Date": start.strftime("%m/%d/%Y"),
            "Termination Date": "Indefinite" if rng.random() < 0.7
            else (start + timedelta(days=3650)).strftime("%m/%d/%Y"),
            "SAM Number": f"S4M{i:09d}", "NPI": f"1{rng.randrange(10**9):09d}"
            if rng.random() < 0.1 else "", "Creation_Date": start.isoformat(),
        }  # fmt: skip
        w.writerow([values.get(h, "") for h in header])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(path.stem + ".CSV", buf.getvalue())


def write_nppes(path: Path, n: int, rng: random.Random, pools: Any) -> None:
    lasts, firsts, _mids = pools
    header = published_header()
    ix = {h: i for i, h in enumerate(header)}
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
        w.writerow(header)
        blank = [""] * len(header)
        for i in range(n):
            row = blank.copy()
            row[ix["NPI"]] = f"{1000000000 + i}"
            person = rng.random() < 0.8
            row[ix["Entity Type Code"]] = "1" if person else "2"
            if person:
                row[ix["Provider Last Name (Legal Name)"]] = rng.choice(lasts)
                row[ix["Provider First Name"]] = rng.choice(firsts)
                row[ix["Provider Credential Text"]] = "M.D."
                row[ix["Provider Gender Code"]] = "F"
            else:
                row[ix["Provider Organization Name (Legal Business Name)"]] = f"CLINIC {i} LLC"
            for k in range(1, rng.choice((2, 2, 3, 4))):
                row[ix[f"Healthcare Provider Taxonomy Code_{k}"]] = "207Q00000X"
                row[ix[f"Provider License Number_{k}"]] = f"A{rng.randrange(10**6)}"
                row[ix[f"Provider License Number State Code_{k}"]] = rng.choice(STATES)
                row[ix[f"Healthcare Provider Primary Taxonomy Switch_{k}"]] = "Y" if k == 1 else "N"
            row[ix["Provider First Line Business Mailing Address"]] = f"{i} MAIN ST"
            row[ix["Provider Business Mailing Address City Name"]] = "SPRINGFIELD"
            row[ix["Provider Business Mailing Address State Name"]] = rng.choice(STATES)
            row[ix["Provider Enumeration Date"]] = "05/23/2005"
            row[ix["Last Update Date"]] = "07/08/2007"
            if rng.random() < 0.05:
                row[ix["NPI Deactivation Date"]] = "01/14/2015"
            w.writerow(row)


# --- one measurement in a fresh process (max RSS is the process's own) -----------------


def child(argv: list[str]) -> None:
    mode, target = argv[0], argv[1:]
    t0 = time.perf_counter()
    rows = 0
    if mode == "csv":
        for p in map(Path, target):
            if zipfile.is_zipfile(p):
                with zipfile.ZipFile(p) as zf, zf.open(zf.namelist()[0]) as raw:
                    fh = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                    rows += sum(1 for _ in csv.reader(fh)) - 1
            else:
                with p.open(newline="", encoding="utf-8", errors="replace") as fh:
                    rows += sum(1 for _ in csv.reader(fh)) - 1
    else:
        from compliance.sources.importer import import_file
        from models import Database

        db = Database(target[0])
        db.upgrade()
        t0 = time.perf_counter()
        for p in map(Path, target[1:]):
            rows += import_file(db, p).rows_read
    seconds = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "seconds": seconds, "rss_mb": rss_mb}))


def measure(args: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "_child", *args], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def median_of(runs: int, fn: Any) -> dict[str, float]:
    got = [fn() for _ in range(runs)]
    return {k: statistics.median(g[k] for g in got) for k in got[0]}


def bench_import(work: Path, runs: int, nppes_rows: int, pools: Any) -> None:
    rng = random.Random(11)
    files: list[tuple[str, list[Path]]] = [("real LEIE 2016 folder (24 files)",
                                            sorted(LEIE_DIR.glob("*.csv")))]  # fmt: skip
    t = time.perf_counter()
    updated = work / "UPDATED.csv"
    write_updated(updated, 80_000, rng, pools)
    sam = work / "SAM_Exclusions_Public_V2_Extract_24001.ZIP"
    write_sam_zip(sam, 150_000, rng, pools)
    files += [("LEIE UPDATED.csv, 80,000 rows", [updated]), ("SAM ZIP, 150,000 rows", [sam])]
    for n in sorted({100_000, nppes_rows}):
        p = work / f"npidata_pfile_20050523-2024021{len(str(n))}.csv"
        write_nppes(p, n, rng, pools)
        files.append((f"NPPES 330 columns, {n:,} rows", [p]))
    print(f"generated files in {time.perf_counter() - t:.0f} s ({load()})")
    print(f"\n{'file':38} {'rows':>9} {'import r/s':>11} {'csv r/s':>10} {'ratio':>6} "
          f"{'import MB':>9} {'csv MB':>7}")  # fmt: skip
    peaks: dict[int, float] = {}
    for label, paths in files:
        floor = median_of(runs, lambda p=paths: measure(["csv", *map(str, p)]))

        def one(p: list[Path] = paths) -> dict[str, float]:
            db = work / f"import-{uuid.uuid4().hex}.db"
            try:
                return measure(["import", f"sqlite:///{db}", *map(str, p)])
            finally:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)

        got = median_of(runs, one)
        rate, floor_rate = got["rows"] / got["seconds"], floor["rows"] / floor["seconds"]
        if label.startswith("NPPES"):
            peaks[int(got["rows"])] = got["rss_mb"]
        print(f"{label:38} {int(got['rows']):>9} {rate:>11,.0f} {floor_rate:>10,.0f} "
              f"{floor_rate / rate:>5.1f}x {got['rss_mb']:>9.0f} {floor['rss_mb']:>7.0f}  "
              f"({load()})")  # fmt: skip
    if len(peaks) == 2:
        small, big = sorted(peaks)
        print(
            f"NPPES peak memory {big:,} rows / {small:,} rows: "
            f"{peaks[big] / peaks[small]:.2f} ({peaks[big]:.0f} MB vs {peaks[small]:.0f} MB)"
        )
    print("(ratio = how many times slower than the plain csv read; import into SQLite)")
    return None


# --- screening at size -----------------------------------------------------------------


def make_db(kind: str) -> tuple[str, Any]:
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="credflow-screen-")) / "bench.db"
        return f"sqlite:///{path}", lambda: None
    name = f"credflow_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def bench_screen(work: Path, runs: int, kinds: list[str], pools: Any) -> None:
    from compliance.screening.run import screen
    from compliance.sources.importer import import_file
    from models import Database, Provider

    rng = random.Random(5)
    updated, sam = work / "UPDATED.csv", work / "SAM_Exclusions_Public_V2_Extract_24001.ZIP"
    if not updated.exists():
        write_updated(updated, 80_000, rng, pools)
        write_sam_zip(sam, 150_000, rng, pools)
    lasts, firsts, mids = pools
    print()
    for kind in kinds:
        url, drop = make_db(kind)
        try:
            db = Database(url)
            db.upgrade()
            t = time.perf_counter()
            rows = sum(import_file(db, p).rows_kept for p in (updated, sam))
            imported = time.perf_counter() - t
            people = []
            for i in range(20_000):
                first, last = rng.choice(firsts).title(), rng.choice(lasts).title()
                people.append({
                    "name": f"{first} {rng.choice(mids).title() + ' ' if rng.random() < .5 else ''}"
                            f"{last}",
                    "npi": f"2{i:09d}" if rng.random() < 0.7 else None,
                    "states": [rng.choice(STATES)], "active": True,
                    "other_names": [f"{first} {rng.choice(lasts).title()}"]
                    if rng.random() < 0.2 else [],
                    "staff_category": "registered_nurse",
                })  # fmt: skip
            with db.session() as s:
                s.execute(insert(Provider), people)
            times, hits = [], 0
            for _ in range(runs):
                t = time.perf_counter()
                summary = screen(db, date(2024, 6, 1))
                times.append(time.perf_counter() - t)
                hits = summary.raised + summary.kept_decisions
            print(f"screening on {kind}: 20,000 clinicians (4,000 with a former name) against "
                  f"{rows:,} list rows (80,000 LEIE + 150,000 SAM, imported in {imported:.1f} s): "
                  f"median {statistics.median(times):.2f} s of {[round(x, 2) for x in times]}; "
                  f"{hits} hits per run ({load()})")  # fmt: skip
            db.dispose()
        finally:
            drop()


# --- matching quality -------------------------------------------------------------------

ACCENTED = str.maketrans("AEIOUN", "ÁÉÍÓÚÑ")


def bench_quality(work: Path) -> None:
    """Clinicians made from real 2016 LEIE rows in force at the end of 2016, written the way
    records differ (accents, compound names, FAMILY, GIVEN, swapped order, initials), plus
    near misses that must come out clear (a different NPI, a different date of birth, a
    different given name) and people nobody lists."""
    from sqlalchemy import select

    from compliance.screening.run import screen
    from compliance.sources.importer import import_file
    from models import Database, Provider
    from models.screening import ListEntry, ScreeningResult

    db = Database(f"sqlite:///{work / 'quality.db'}")
    db.upgrade()
    for f in sorted(LEIE_DIR.glob("*.csv")):
        import_file(db, f)
    on = date(2016, 12, 31)
    with db.session() as s:
        entries = [e for e in s.scalars(select(ListEntry).where(
            ListEntry.family_norm.is_not(None), ListEntry.ended_on.is_(None),
            ListEntry.starts_on <= on))]  # fmt: skip
    rng = random.Random(3)
    rng.shuffle(entries)
    firsts = sorted({e.given_norm.split()[0] for e in entries if e.given_norm})
    seeded: list[tuple[str, int, dict[str, Any]]] = []  # (variant, entry id, provider)

    def t(x: str | None) -> str:
        return (x or "").title()

    for i, e in enumerate(entries[:1500]):
        first, mid, last = t(e.record["FIRSTNAME"]), t(e.record["MIDNAME"]), t(e.record["LASTNAME"])
        dob = e.date_of_birth
        variant = ("exact", "accents", "family_given", "swapped", "initial", "compound",
                   "former_name", "other_npi", "other_dob", "other_given")[i % 10]  # fmt: skip
        p: dict[str, Any] = {
            "name": f"{first} {mid + ' ' if mid else ''}{last}",
            "states": [e.state] if e.state else [],
            "active": True,
        }
        if variant == "exact":
            p["date_of_birth"] = dob
            p["npi"] = e.npi
        elif variant == "accents":
            p["name"] = f"{first[0]}{first[1:].upper().translate(ACCENTED).lower()} {last}"
        elif variant == "family_given":
            p["name"] = f"{last.upper()}, {first.upper()} {mid.upper()}".strip()
        elif variant == "swapped":
            p["name"] = f"{last} {first}"
        elif variant == "initial":
            p["name"] = f"{first} {mid[:1] + '. ' if mid else ''}{last}"
        elif variant == "compound":
            p["name"] = f"{first} {last}-Whitfield" if "-" not in last and " " not in last \
                else f"{first} {last.replace('-', ' ').split()[0]}"  # fmt: skip
        elif variant == "former_name":
            p["name"] = f"{first} Marchetti"
            p["other_names"] = [f"{first} {last}"]
        elif variant == "other_npi":
            if not e.npi:
                continue
            p["npi"] = str(int(e.npi) + 1)[:10]
        elif variant == "other_dob":
            if not dob:
                continue
            p["date_of_birth"] = dob + timedelta(days=400)
        elif variant == "other_given":
            other = rng.choice([f for f in firsts if f[0] != first[:1].upper()])
            p["name"] = f"{other.title()} {last}"
        seeded.append((variant, e.id, p))
    with db.session() as s:
        ids = []
        for _variant, _eid, p in seeded:
            prov = Provider(**p)
            s.add(prov)
            s.flush()
            ids.append(prov.id)
    t0 = time.perf_counter()
    screen(db, on)
    took = time.perf_counter() - t0
    with db.session() as s:
        rows = list(s.execute(select(ScreeningResult.provider_id, ScreeningResult.result,
                                     ScreeningResult.entry_id)))  # fmt: skip
        same_person = {e.id: e.entry_key for e in entries}
    by_provider: dict[int, list[tuple[str, int | None]]] = {}
    for pid, result, eid in rows:
        by_provider.setdefault(pid, []).append((result, eid))
    tally: dict[str, dict[str, int]] = {}
    wrong_matches = 0
    for (variant, eid, _p), pid in zip(seeded, ids, strict=True):
        got = by_provider.get(pid, [])
        found = [r for r, e in got if e == eid and r != "clear"]
        level = found[0] if found else "clear"
        tally.setdefault(variant, {}).setdefault(level, 0)
        tally[variant][level] += 1
        wrong_matches += sum(1 for r, e in got if r == "match" and
                             same_person.get(e or -1) != same_person.get(eid))  # fmt: skip
    print(f"\nmatching quality: {len(seeded)} clinicians from real 2016 LEIE rows in force on {on}"
          f" (screened in {took:.2f} s)")  # fmt: skip
    real = {"exact", "accents", "family_given", "swapped", "initial", "compound", "former_name"}
    left_clear = 0
    for variant in ("exact", "accents", "family_given", "swapped", "initial", "compound",
                    "former_name", "other_npi", "other_dob", "other_given"):  # fmt: skip
        counts = tally.get(variant, {})
        kind = "real exclusion" if variant in real else "near miss    "
        print(f"  {variant:13} {kind}  " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        if variant in real:
            left_clear += counts.get("clear", 0)
    print(f"  real exclusions left clear: {left_clear}; matches naming the wrong person: "
          f"{wrong_matches}")  # fmt: skip


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", default="import,screen,quality")
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--nppes", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    only = set(args.only.split(","))
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(f"credflow screening bench, {os.cpu_count()} cores, {load()}; median of {args.runs}")
    pools = name_pools(real_leie_rows())
    with tempfile.TemporaryDirectory(prefix="credflow-screening-bench-") as tmp:
        work = Path(tmp)
        if "import" in only:
            bench_import(work, args.runs, args.nppes, pools)
        if "screen" in only:
            bench_screen(work, args.runs, kinds, pools)
        if "quality" in only:
            bench_quality(work)


if __name__ == "__main__":
    main()
