"""Extraction benchmark over the dev corpus: predictions JSONL, the scorer's figures, ms/page.

    python bench/extraction.py                 # fields from cached pages (OCR once, cached)
    python bench/extraction.py --fresh         # read every file again (OCR) and refresh cache
    python bench/extraction.py --cache-only    # only (re)build the page cache
    python bench/extraction.py --fresh --kind photo   # re-read only the photos, then score
    python bench/extraction.py --other         # also: real PDFs that are not credentials
    python bench/extraction.py --folds 5       # leave-templates-out folds (the default)

Every run scores the dev corpus, then ../shared/corpus/dev-fax/ (unless --no-fax), prints the
load, and the field step's time as the median of --repeat runs. Leave-templates-out: template
families (render.template without a `_vN` suffix) are dealt into folds; each fold is scored as
held out (per render kind), and the sure-field check is made on held-out templates twice: at
the product's 0.9, and at a threshold fitted on the other folds (what calibrating on seen
templates would promise for unseen ones).

Pages read (words with boxes) are cached as JSON under bench/.cache/extraction/pages/ (the dev
corpus) or pages/<corpus name>/ (any other --corpus: their files share doc_NNNN names), so the field
step can be iterated on without paying for OCR again. The field step's time (classify +
fields, after the pages are read) is measured per page.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from multiprocessing import Pool
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extract.fields import extract_fields  # noqa: E402
from extract.pages import read_pages  # noqa: E402
from extract.types import Extraction, Page, ReadOptions, Word  # noqa: E402

SHARED = Path(os.environ.get("CREDFLOW_SHARED_DIR", ROOT.parent / "shared"))
CACHE = ROOT / "bench" / ".cache" / "extraction" / "pages"


def page_to_json(page: Page) -> dict:
    return {
        "number": page.number,
        "width": page.width,
        "height": page.height,
        "source": page.source,
        "rotation": page.rotation,
        "words": [[w.text, w.conf, *w.box, w.block, w.line] for w in page.words],
    }


def page_from_json(obj: dict) -> Page:
    words = [Word(w[0], w[1], (w[2], w[3], w[4], w[5]), w[6], w[7]) for w in obj["words"]]
    return Page(obj["number"], obj["width"], obj["height"], obj["source"], words, obj["rotation"])


def _read_one(path: str) -> tuple[str, list[dict] | str, float]:
    t0 = time.perf_counter()
    try:
        pages = read_pages(Path(path), ReadOptions())
    except Exception as e:  # a broken file is reported, not fatal to the run
        return path, f"{type(e).__name__}: {e}", time.perf_counter() - t0
    return path, [page_to_json(p) for p in pages], time.perf_counter() - t0


def cache_dir(corpus: Path) -> Path:
    """Where a corpus's pages are cached: corpora reuse file names, so each gets its own folder
    (the dev corpus keeps the top folder, so its existing cache stays valid)."""
    if corpus.resolve() == (SHARED / "corpus" / "dev").resolve():
        return CACHE
    return CACHE / corpus.resolve().name


def build_cache(files: list[Path], workers: int, refresh: set[Path], cache: Path) -> None:
    """Read the files not cached yet, and those in `refresh` again."""
    cache.mkdir(parents=True, exist_ok=True)
    todo = [f for f in files if f in refresh or not (cache / (f.name + ".json")).exists()]
    if not todo:
        return
    print(f"reading {len(todo)} files with {workers} processes ...", file=sys.stderr)
    t0 = time.perf_counter()
    with Pool(workers) as pool:
        for n, (path, pages, secs) in enumerate(pool.imap_unordered(_read_one, map(str, todo)), 1):
            if isinstance(pages, str):
                print(f"  {Path(path).name}: {pages}", file=sys.stderr)
                continue
            (cache / (Path(path).name + ".json")).write_text(json.dumps(pages))
            print(f"  [{n}/{len(todo)}] {Path(path).name} {secs:.1f}s", file=sys.stderr)
    print(f"read in {time.perf_counter() - t0:.0f}s", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "dev")
    ap.add_argument(
        "--fax-corpus",
        type=Path,
        default=SHARED / "corpus" / "dev-fax",
        help="scored after the main corpus on every run (its own cache)",
    )
    ap.add_argument("--no-fax", action="store_true", help="skip the fax corpus")
    ap.add_argument("--fresh", action="store_true", help="read (OCR) every file again")
    ap.add_argument("--cache-only", action="store_true", help="only build the page cache")
    ap.add_argument(
        "--kind",
        action="append",
        choices=["pdf_text", "scan", "photo", "fax"],
        help="with --fresh: re-read only files of this render kind (repeatable)",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--folds", type=int, default=5, help="template folds for leave-templates-out")
    ap.add_argument("--repeat", type=int, default=3, help="field-step runs; the median is shown")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "bench" / ".cache" / "extraction" / "predictions.jsonl"
    )
    ap.add_argument("--errors", type=int, default=0, help="list up to N wrong fields (scorer)")
    ap.add_argument("--other", action="store_true", help="also check the real non-credential PDFs")
    a = ap.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    corpora = [a.corpus] + ([] if a.no_fax or not a.fax_corpus.exists() else [a.fax_corpus])
    for corpus in corpora:
        labels = _labels(corpus)
        files = [corpus / lab["file"] for lab in labels]
        # re-reading only the kind a clean-up change touches saves minutes of OCR
        fresh = {
            corpus / lab["file"]
            for lab in labels
            if a.fresh and (not a.kind or lab.get("render", {}).get("kind") in a.kind)
        }
        build_cache(files, a.workers, fresh, cache_dir(corpus))
    if a.cache_only:
        return

    from extract.fields import warm_up

    warm_up()
    for n, corpus in enumerate(corpora):
        out = a.out if n == 0 else a.out.with_name(f"predictions-{corpus.name}.jsonl")
        score_corpus(corpus, out, a, folds=a.folds if n == 0 else 0)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if a.other:
        check_other(SHARED / "corpus" / "real" / "other-pdfs")


def _labels(corpus: Path) -> list[dict]:
    return [json.loads(line) for line in (corpus / "labels.jsonl").open() if line.strip()]


def predict(corpus: Path, labels: list[dict]) -> tuple[list[dict], float, float, int]:
    """Predictions of every cached file; field-step wall and CPU seconds; pages."""
    cache = cache_dir(corpus)
    preds: list[dict] = []
    wall = cpu = 0.0
    n_pages = 0
    for lab in labels:
        cached = cache / (lab["file"] + ".json")
        if not cached.exists():
            continue
        pages = [page_from_json(p) for p in json.loads(cached.read_text())]
        t0, c0 = time.perf_counter(), time.process_time()
        doc_type, conf, fields = extract_fields(pages)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        n_pages += len(pages)
        preds.append(Extraction(lab["file"], doc_type, conf, fields, pages).to_json())
    return preds, wall, cpu, n_pages


def score_corpus(corpus: Path, out: Path, a: argparse.Namespace, folds: int) -> None:
    labels = _labels(corpus)
    runs = [predict(corpus, labels) for _ in range(max(1, a.repeat))]
    preds, _, _, n_pages = runs[0]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(p) + "\n" for p in preds))
    print(f"\n===== {corpus.name}: {len(preds)} documents, {n_pages} pages")
    cmd = [sys.executable, str(SCORER), str(corpus / "labels.jsonl"), str(out), "--by", "render"]
    if a.errors:
        cmd += ["--errors", str(a.errors)]
    sys.stdout.flush()
    subprocess.run(cmd, check=False)
    per_page = 1000 / max(n_pages, 1)
    walls = sorted(r[1] * per_page for r in runs)
    cpus = sorted(r[2] * per_page for r in runs)
    print(
        f"field step (after OCR), median of {len(runs)}: {walls[len(walls) // 2]:.1f} ms per page "
        f"wall, {cpus[len(cpus) // 2]:.1f} ms per page CPU (floor 50 ms), over {n_pages} pages"
    )
    if folds > 1:
        leave_templates_out(labels, preds, folds)


SCORER = SHARED / "tools" / "score_extraction.py"
SURE = 0.9  # the review screen's "sure" colour: these fields a reviewer may skip


def _scorer():  # type: ignore[no-untyped-def]
    """The shared scorer as a module, so held-out figures use its very normalisation."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("score_extraction", SCORER)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def template_family(label: dict) -> str:
    """The layout a document was made from; numbered variants of a layout (`_v0`, `_v1`) are
    one family, so a held-out template is never half-seen through its sibling."""
    return re.sub(r"_v\d+$", "", str(label.get("render", {}).get("template") or label["file"]))


def template_folds(labels: list[dict], k: int) -> dict[str, int]:
    """Template families dealt into k folds by a stable hash of their name."""
    fams = sorted({template_family(lab) for lab in labels})
    fams.sort(key=lambda f: hashlib.sha256(f.encode()).hexdigest())
    return {f: i % k for i, f in enumerate(fams)}


def sure_points(labels: list[dict], preds: list[dict]) -> list[tuple[str, float, bool]]:
    """(file, confidence, right) for every scored field proposed with a value."""
    sc = _scorer()
    by_file = {p["file"]: p for p in preds}
    out = []
    for lab in labels:
        pred = by_file.get(lab["file"], {})
        scored = sc.BY_TYPE.get(lab["doc_type"], set()) | {"person_name", "npi"}
        for f in scored:
            value = (pred.get("fields") or {}).get(f)
            if value is None:
                continue
            conf = float((pred.get("confidence") or {}).get(f, 0.0))
            right = sc.normalise(f, value) == sc.normalise(f, lab["fields"].get(f))
            out.append((lab["file"], conf, right))
    return out


def true_count(labels: list[dict]) -> int:
    sc = _scorer()
    return sum(
        1
        for lab in labels
        for f in lab["fields"]
        if f in sc.BY_TYPE.get(lab["doc_type"], set()) | {"person_name", "npi"}
    )


def fit_threshold(points: list[tuple[str, float, bool]], target: float = 0.995) -> float:
    """The lowest confidence from which the fields of `points` are at least `target` right."""
    best = 1.01
    pts = sorted(points, key=lambda p: -p[1])
    ok = 0
    for n, (_f, conf, right) in enumerate(pts, 1):
        ok += right
        if ok / n >= target and (n == len(pts) or pts[n][1] < conf):
            best = conf
    return best


def leave_templates_out(labels: list[dict], preds: list[dict], k: int) -> None:
    """Scores of each fold of templates when held out, and the sure-field check done on
    held-out templates: the product's 0.9, and a threshold fitted on the other folds."""
    sc = _scorer()
    folds = template_folds(labels, k)
    fold_of = {lab["file"]: folds[template_family(lab)] for lab in labels}
    by_file = {p["file"]: p for p in preds}
    print(f"\nleave-templates-out: {len(folds)} template families in {k} folds")
    totals: dict[str, list[int]] = {}
    for i in range(k):
        held = [lab for lab in labels if fold_of[lab["file"]] == i]
        truth = {lab["file"]: lab for lab in held}
        groups, _errors, _high = sc.score(truth, {f: by_file.get(f, {}) for f in truth}, "render")
        for key, g in groups.items():
            t = totals.setdefault(key, [0, 0, 0, 0, 0])
            t[0] += sum(g["tp"].values())
            t[1] += sum(g["fp"].values())
            t[2] += sum(g["fn"].values())
            t[3] += g["docs"]
            t[4] += g["type_ok"]
        g = groups["all"]
        f1 = sc.prf(*(sum(g[x].values()) for x in ("tp", "fp", "fn")))[2]
        print(f"  fold {i}: {len(held)} docs, held-out F1={f1:.3f}")
    for key, (tp, fp, fn, docs, ok) in sorted(totals.items()):
        f1 = sc.prf(tp, fp, fn)[2]
        print(f"  held-out [{key}] docs={docs} doc_type_accuracy={ok / docs:.3f} F1={f1:.3f}")
    points = sure_points(labels, preds)
    n_true = true_count(labels)
    sure = [p for p in points if p[1] >= SURE]
    ok = sum(p[2] for p in sure)
    print(
        f"  sure fields (>= {SURE}) on held-out templates: {len(sure)}, "
        f"precision={ok / max(len(sure), 1):.3f}, coverage={ok / max(n_true, 1):.3f}"
    )
    # the threshold a site would set from templates it has seen, checked on those it has not
    kept = right = 0
    for i in range(k):
        train = [p for p in points if fold_of[p[0]] != i]
        test = [p for p in points if fold_of[p[0]] == i]
        t = fit_threshold(train)
        kept += sum(1 for p in test if p[1] >= t)
        right += sum(1 for p in test if p[1] >= t and p[2])
    print(
        f"  threshold fitted on the other folds (99.5% there): {kept} fields kept, "
        f"precision={right / max(kept, 1):.3f}, coverage={right / max(n_true, 1):.3f}"
    )


def check_other(folder: Path) -> None:
    """Real PDFs that are not credentials: `other`, no field at 0.9 or above, or refused
    with a one-line reason."""
    from extract import ExtractError, extract_file

    ok = 0
    files = sorted(folder.glob("*.pdf"))
    for f in files:
        try:
            ex = extract_file(f)
        except ExtractError as e:
            print(f"  {f.name}: refused: {e}")
            ok += 1
            continue
        top = max((fr.confidence for fr in ex.fields.values()), default=0.0)
        good = ex.doc_type == "other" and top < 0.9
        ok += good
        flag = "" if good else "  <-- WRONG"
        print(f"  {f.name}: {ex.doc_type} (highest field confidence {top:.2f}){flag}")
    print(f"other-pdfs: {ok}/{len(files)} as expected")


if __name__ == "__main__":
    main()
