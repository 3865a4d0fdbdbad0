"""Learning from confirmations, through the running service as a coordinator would use it.

For each template (labels.jsonl `render.template`) with two or more documents: drop the
first, approve it over the JSON API with its true fields, then drop the rest and read them
back (GET /api/documents/{id}); score them, and score the same documents read by a service
with learning off (CREDFLOW_LEARNING=false). Then the time learned-layout matching adds per
page with 1,000 learned layouts (the site's own plus copies with other words and places),
against the rules' own time on the same pages (the floor). Median of three runs, with load.

    .venv/bin/python bench/learning.py                      # dev corpus, 3 runs
    .venv/bin/python bench/learning.py --corpus ../shared/corpus/dev-fax --runs 1
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extract.fields import extract_fields  # noqa: E402
from extract.learned import LearnedLayouts, apply_learned, match  # noqa: E402
from extract.types import Page  # noqa: E402
from ingest.learning import load_learned, stored_pages  # noqa: E402
from models import Database, Document  # noqa: E402
from models.spec import fields_for  # noqa: E402

SHARED = Path(os.environ.get("CREDFLOW_SHARED_DIR", ROOT.parent / "shared"))
CREDFLOW = [sys.executable, "-m", "credflow.cli"]
LAYOUTS = 1000


def scorer() -> Any:
    spec = importlib.util.spec_from_file_location("score", SHARED / "tools/score_extraction.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def plan(corpus: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(first document of each template with 2+ documents, the rest of them)."""
    labels = [json.loads(line) for line in (corpus / "labels.jsonl").open() if line.strip()]
    by_template: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for label in labels:
        by_template[label["render"]["template"]].append(label)
    groups = [g for g in by_template.values() if len(g) >= 2]
    return [g[0] for g in groups], [d for g in groups for d in g[1:]]


class Service:
    """`credflow run` on a fresh data folder (SQLite unless --database-url)."""

    def __init__(self, work: Path, learning: bool, database_url: str | None) -> None:
        self.data = work / "data"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.env = {**os.environ, "CREDFLOW_WORKERS": "2", "CREDFLOW_LEARNING": str(learning)}
        if database_url:
            self.env["CREDFLOW_DATABASE_URL"] = database_url
        self.log = (work / f"service-{learning}.log").open("w")
        self.proc = subprocess.Popen(
            [*CREDFLOW, "run", "--data-dir", str(self.data), "--port", str(port)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        token = (
            subprocess.run(
                [*CREDFLOW, "token", "create", "coordinator", "--data-dir", str(self.data)],
                env=self.env,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        self.api = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )

    def db_url(self) -> str:
        return self.env.get("CREDFLOW_DATABASE_URL") or f"sqlite:///{self.data / 'credflow.db'}"

    def drop_and_read(self, corpus: Path, labels: list[dict[str, Any]]) -> dict[str, dict]:
        """Drop the files, wait until each awaits review, return their details by file."""
        for label in labels:
            shutil.copy(corpus / label["file"], self.data / "inbox" / label["file"])
        names = {label["file"] for label in labels}
        found: dict[str, int] = {}
        deadline = time.monotonic() + 1800
        while len(found) < len(names) and time.monotonic() < deadline:
            for status in ("awaiting_review", "failed"):
                body = self.api.get(
                    "/api/documents", params={"status": status, "limit": 500}
                ).json()
                for item in body["items"]:
                    if item["filename"] in names:
                        found[item["filename"]] = item["id"]
            time.sleep(1.0)
        return {name: self.api.get(f"/api/documents/{i}").json() for name, i in found.items()}

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def prediction(detail: dict[str, Any]) -> dict[str, Any]:
    fields = detail.get("fields") or {}
    return {
        "doc_type": detail.get("doc_type"),
        "fields": {n: f["value"] for n, f in fields.items()},
        "confidence": {n: f["confidence"] for n, f in fields.items()},
    }


def f1(score: Any, labels: list[dict[str, Any]], details: dict[str, dict]) -> tuple[float, float]:
    truth = {d["file"]: d for d in labels}
    preds = {name: prediction(d) for name, d in details.items()}
    groups, _, _ = score.score(truth, preds)
    g = groups["all"]
    tp, fp, fn = (sum(g[k].values()) for k in ("tp", "fp", "fn"))
    return score.prf(tp, fp, fn)[2], g["type_ok"] / max(1, g["docs"])


def thousand(learned: LearnedLayouts, pages: list[list[Page]], seed: int) -> LearnedLayouts:
    """The site's layouts and copies of them up to 1,000: most of each copy's words replaced
    by other words of the corpus and moved, so the index and the fit do real work."""
    rng = random.Random(seed)
    vocab = sorted({a.token for layout in learned.layouts for a in layout.anchors})
    vocab += sorted(
        {w.text.casefold() for doc in pages for p in doc for w in p.words if w.text.isalpha()}
    )
    layouts = list(learned.layouts)
    while len(layouts) < LAYOUTS and learned.layouts:
        base = rng.choice(learned.layouts)
        anchors = [
            replace(
                a,
                token=a.token if rng.random() < 0.3 else rng.choice(vocab),
                x=min(1.0, max(0.0, a.x + rng.uniform(-0.1, 0.1))),
                y=min(1.0, max(0.0, a.y + rng.uniform(-0.1, 0.1))),
            )
            for a in base.anchors
        ]
        layouts.append(replace(base, id=100_000 + len(layouts), anchors=anchors))
    return LearnedLayouts(layouts, learned.version)


def timing(db_url: str, seed: int) -> tuple[float, float, float, int]:
    """(rules ms/page, matching ms/page, whole learned step ms/page, layouts) on the pages of
    every document the service read."""
    db = Database(db_url)
    try:
        with db.session() as s:
            learned = load_learned(s)
            ids = list(s.scalars(Document.__table__.select().with_only_columns(Document.id)))
            docs = [stored_pages(s, i) for i in ids]
    finally:
        db.dispose()
    docs = [d for d in docs if d]
    many = thousand(learned, docs, seed)
    match(docs[0], many)  # builds the token index once, as a worker does on (re)load
    n_pages = sum(len(d) for d in docs)
    t0 = time.perf_counter()
    rules = [extract_fields(d) for d in docs]
    t1 = time.perf_counter()
    for d in docs:
        match(d, many)
    t2 = time.perf_counter()
    for d, r in zip(docs, rules, strict=True):
        apply_learned(d, r[0], r[1], dict(r[2]), many)
    t3 = time.perf_counter()
    per = 1000 / n_pages
    return (t1 - t0) * per, (t2 - t1) * per, (t3 - t2) * per, len(many.layouts)


def one_run(corpus: Path, database_url: str | None, seed: int) -> dict[str, float]:
    score = scorer()
    firsts, rest = plan(corpus)
    with tempfile.TemporaryDirectory(prefix="credflow-bench-learning-") as tmp:
        work = Path(tmp)
        (work / "on").mkdir()
        (work / "off").mkdir()
        service = Service(work / "on", True, database_url)
        try:
            for name, detail in service.drop_and_read(corpus, firsts).items():
                label = next(d for d in firsts if d["file"] == name)
                wanted = set(fields_for(label["doc_type"]))
                body = {
                    "doc_type": label["doc_type"],
                    "fields": {k: v for k, v in label["fields"].items() if k in wanted},
                    "provider_id": None,
                }
                if not label["fields"].get("person_name"):  # nobody named: file it somewhere
                    made = service.api.post("/api/providers", json={"name": f"Bench {name}"})
                    body["provider_id"] = made.json()["id"]
                done = service.api.post(f"/api/documents/{detail['id']}/approve", json=body)
                if done.status_code != 200:
                    print(f"  approve {name}: {done.status_code} {done.text}", file=sys.stderr)
            learned_details = service.drop_and_read(corpus, rest)
            rules_ms, match_ms, step_ms, n_layouts = timing(service.db_url(), seed)
        finally:
            service.stop()
        off = Service(work / "off", False, None)
        try:
            plain_details = off.drop_and_read(corpus, rest)
        finally:
            off.stop()
    with_f1, with_type = f1(score, rest, learned_details)
    without_f1, without_type = f1(score, rest, plain_details)
    return {
        "with": with_f1,
        "without": without_f1,
        "type_with": with_type,
        "type_without": without_type,
        "rules_ms": rules_ms,
        "match_ms": match_ms,
        "step_ms": step_ms,
        "layouts": n_layouts,
        "templates": len(firsts),
        "scored": len(rest),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "dev")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--database-url", default=None, help="learning service's database (default SQLite)"
    )
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        load = os.getloadavg()
        result = one_run(args.corpus, args.database_url, seed=n)
        runs.append(result)
        print(
            f"run {n + 1}: load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}  "
            f"F1 with learning {result['with']:.3f}  without {result['without']:.3f}  "
            f"doc_type {result['type_with']:.3f} / {result['type_without']:.3f}  "
            f"rules {result['rules_ms']:.1f} ms/page  matching {result['match_ms']:.2f} ms/page  "
            f"learned step {result['step_ms']:.2f} ms/page ({result['layouts']} layouts)",
            flush=True,
        )
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(
        f"{args.corpus.name}: {int(med['templates'])} templates with 2+ documents, "
        f"{int(med['scored'])} documents scored after approving the first of each "
        f"(median of {len(runs)}, load now {os.getloadavg()[0]:.2f})"
    )
    print(f"  field F1 with learning    {med['with']:.3f}   (target >= 0.95)")
    print(
        f"  field F1 without learning {med['without']:.3f}   "
        f"(gain {med['with'] - med['without']:+.3f}, target >= +0.05)"
    )
    print(
        f"  doc_type accuracy         {med['type_with']:.3f} with, "
        f"{med['type_without']:.3f} without"
    )
    print(
        f"  per page after OCR: rules {med['rules_ms']:.1f} ms (floor); matching among "
        f"{int(med['layouts'])} learned layouts {med['match_ms']:.2f} ms; whole learned step "
        f"{med['step_ms']:.2f} ms (target <= 20 ms)"
    )


if __name__ == "__main__":
    main()
