"""Extraction benchmark over the dev corpus: predictions JSONL, the scorer's figures, ms/page.

    python bench/extraction.py                 # fields from cached pages (OCR once, cached)
    python bench/extraction.py --fresh         # read every file again (OCR) and refresh cache
    python bench/extraction.py --cache-only    # only (re)build the page cache
    python bench/extraction.py --fresh --kind photo   # re-read only the photos, then score
    python bench/extraction.py --other         # also: real PDFs that are not credentials

Pages read (words with boxes) are cached as JSON under bench/.cache/extraction/pages/ (the dev
corpus) or pages/<corpus name>/ (any other --corpus: their files share doc_NNNN names), so the field
step can be iterated on without paying for OCR again. The field step's time (classify +
fields, after the pages are read) is measured per page.
"""

from __future__ import annotations

import argparse
import json
import os
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
    ap.add_argument("--fresh", action="store_true", help="read (OCR) every file again")
    ap.add_argument("--cache-only", action="store_true", help="only build the page cache")
    ap.add_argument(
        "--kind",
        action="append",
        choices=["pdf_text", "scan", "photo"],
        help="with --fresh: re-read only files of this render kind (repeatable)",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--out", type=Path, default=ROOT / "bench" / ".cache" / "extraction" / "predictions.jsonl"
    )
    ap.add_argument("--errors", type=int, default=0, help="list up to N wrong fields (scorer)")
    ap.add_argument("--other", action="store_true", help="also check the real non-credential PDFs")
    a = ap.parse_args()

    labels = [json.loads(line) for line in (a.corpus / "labels.jsonl").open() if line.strip()]
    files = [a.corpus / lab["file"] for lab in labels]
    # re-reading only the kind a clean-up change touches saves minutes of OCR
    fresh = {
        a.corpus / lab["file"]
        for lab in labels
        if a.fresh and (not a.kind or lab.get("render", {}).get("kind") in a.kind)
    }
    cache = cache_dir(a.corpus)
    build_cache(files, a.workers, fresh, cache)
    if a.cache_only:
        return

    from extract.fields import warm_up

    warm_up()
    field_secs, field_cpu, n_pages = 0.0, 0.0, 0
    a.out.parent.mkdir(parents=True, exist_ok=True)
    with a.out.open("w") as out:
        for f in files:
            cached = cache / (f.name + ".json")
            if not cached.exists():
                continue
            pages = [page_from_json(p) for p in json.loads(cached.read_text())]
            t0, c0 = time.perf_counter(), time.process_time()
            doc_type, conf, fields = extract_fields(pages)
            field_secs += time.perf_counter() - t0
            field_cpu += time.process_time() - c0
            n_pages += len(pages)
            ex = Extraction(f.name, doc_type, conf, fields, pages)
            out.write(json.dumps(ex.to_json()) + "\n")
    scorer = SHARED / "tools" / "score_extraction.py"
    cmd = [
        sys.executable,
        str(scorer),
        str(a.corpus / "labels.jsonl"),
        str(a.out),
        "--by",
        "render",
    ]
    if a.errors:
        cmd += ["--errors", str(a.errors)]
    subprocess.run(cmd, check=False)
    per_page = 1000 / max(n_pages, 1)
    print(
        f"field step (after OCR): {field_secs * per_page:.1f} ms per page wall, "
        f"{field_cpu * per_page:.1f} ms per page CPU, over {n_pages} pages"
    )
    if a.other:
        check_other(SHARED / "corpus" / "real" / "other-pdfs")


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
