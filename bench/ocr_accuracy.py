"""OCR accuracy and cost: plain `tesseract` CLI next to credflow's page reader.

    .venv/bin/python bench/ocr_accuracy.py            # ground-truth pages: CER/WER, time
    .venv/bin/python bench/ocr_accuracy.py --dev      # + dev corpus scans and photos:
                                                      #   share of label values found
    .venv/bin/python bench/ocr_accuracy.py --dev --kind photo --limit 10

CER/WER come from ../shared/tools/ocr_accuracy.py (`rates`). Time is CPU seconds per
page (this process plus its tesseract children), which is what a busy shared machine
distorts least; wall time is printed too. Both readers run back to back on each page,
one process, tesseract with OMP_THREAD_LIMIT=1. Nothing here prints document text.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from extract.pages import read_pages  # noqa: E402
from extract.types import ReadOptions  # noqa: E402

SHARED = Path(os.environ.get("CREDFLOW_SHARED_DIR", ROOT.parent / "shared"))
TRUTH = SHARED / "corpus" / "real" / "ocr-ground-truth"
DEV = SHARED / "corpus" / "dev"
GROUND_TRUTH = {
    "phototest.tif": "phototest.gold.txt",
    "phototest-rotated-180.png": "phototest.gold.txt",
    "phototest-rotated-L.png": "phototest.gold.txt",
    "phototest-rotated-R.png": "phototest.gold.txt",
    "8071_093.3B.tif": "8071_093.3B.txt",
    "8087_054.3B.tif": "8087_054.3B.txt",
    "eurotext.tif": "eurotext.txt",
}


def _load_rates() -> Callable[[str, str], tuple[float, float]]:
    spec = importlib.util.spec_from_file_location(
        "ocr_accuracy", SHARED / "tools" / "ocr_accuracy.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rates: Callable[[str, str], tuple[float, float]] = module.rates
    return rates


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    c, t = _cpu(), time.perf_counter()
    result = fn()
    return result, _cpu() - c, time.perf_counter() - t


CACHE = ROOT / "bench" / ".cache" / "ocr_accuracy"


def plain_inputs(path: Path) -> list[Path]:
    """Files plain tesseract reads: the image itself, or each PDF page rendered at 300 dpi.

    Rendering is done (and cached) before the clock starts: it is not tesseract's cost.
    """
    if path.suffix.lower() != ".pdf":
        return [path]
    import pypdfium2

    CACHE.mkdir(parents=True, exist_ok=True)
    pdf = pypdfium2.PdfDocument(str(path))
    files = []
    for i in range(len(pdf)):
        png = CACHE / f"{path.stem}-p{i + 1}.png"
        if not png.exists():
            pdf[i].render(scale=300 / 72).to_pil().save(png)
        files.append(png)
    pdf.close()
    return files


def plain_pages(files: list[Path]) -> list[str]:
    texts = []
    for f in files:
        out = subprocess.run(
            ["tesseract", str(f), "stdout"], capture_output=True, text=True, check=False
        )
        texts.append(out.stdout)
    return texts


def credflow_pages(path: Path) -> list[str]:
    return [p.text for p in read_pages(path, ReadOptions())]


def ground_truth() -> None:
    rates = _load_rates()
    print(
        f"{'file':28} {'plain cer':>9} {'wer':>6} {'cpu s':>6} | "
        f"{'credflow cer':>12} {'wer':>6} {'cpu s':>6}"
    )
    tot = [0.0, 0.0]
    for image, gold in GROUND_TRUTH.items():
        truth = (TRUTH / gold).read_text(encoding="utf-8", errors="replace")
        plain, pc, _ = timed(partial(plain_pages, plain_inputs(TRUTH / image)))
        ours, oc, _ = timed(partial(credflow_pages, TRUTH / image))
        p_cer, p_wer = rates(truth, "\n".join(plain))
        o_cer, o_wer = rates(truth, "\n".join(ours))
        tot[0] += pc
        tot[1] += oc
        print(
            f"{image:28} {p_cer:9.4f} {p_wer:6.3f} {pc:6.2f} | {o_cer:12.4f} {o_wer:6.3f} {oc:6.2f}"
        )
    print(
        f"cpu total: plain {tot[0]:.2f} s, credflow {tot[1]:.2f} s "
        f"(credflow/plain = {tot[1] / max(tot[0], 1e-9):.2f})"
    )


def _norm(s: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", s.lower()).split())


def _values(label: dict[str, Any]) -> list[str]:
    """Label values printed verbatim (dates and states are printed in other forms)."""
    return [
        v
        for k, v in label["fields"].items()
        if isinstance(v, str) and k != "jurisdiction" and not re.fullmatch(r"\d{4}-\d\d-\d\d", v)
    ]


def dev(kinds: list[str], limit: int, stride: int = 1, verbose: bool = False) -> None:
    labels = [json.loads(line) for line in (DEV / "labels.jsonl").read_text().splitlines() if line]
    print(
        f"{'kind':6} {'docs':>4} {'pages':>5} | {'plain found':>11} {'cpu s/page':>10} "
        f"{'wall':>5} | {'credflow found':>14} {'cpu s/page':>10} {'wall':>5} | ratio"
    )
    for kind in kinds:
        chosen = [x for x in labels if x["render"]["kind"] == kind][::stride][:limit]
        found = [0, 0]
        total = pages = 0
        cpu = [0.0, 0.0]
        wall = [0.0, 0.0]
        for label in chosen:
            path = DEV / label["file"]
            plain, pc, pw = timed(partial(plain_pages, plain_inputs(path)))
            ours, oc, ow = timed(partial(credflow_pages, path))
            values = [_norm(v) for v in _values(label)]
            for i, text in enumerate(("\n".join(plain), "\n".join(ours))):
                t = _norm(text)
                found[i] += sum(v in t for v in values)
            total += len(values)
            pages += len(ours)
            if verbose:
                print(
                    f"  {label['file']:14} pages {len(ours)}  cpu plain {pc:5.2f} "
                    f"credflow {oc:5.2f}",
                    flush=True,
                )
            cpu[0] += pc
            cpu[1] += oc
            wall[0] += pw
            wall[1] += ow
        n = max(pages, 1)
        print(
            f"{kind:6} {len(chosen):4} {pages:5} | {found[0]:5}/{total:<5} "
            f"{cpu[0] / n:10.2f} {wall[0] / n:5.2f} | {found[1]:8}/{total:<5} "
            f"{cpu[1] / n:10.2f} {wall[1] / n:5.2f} | "
            f"pages/s credflow/plain = {cpu[0] / max(cpu[1], 1e-9):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", action="store_true", help="also the dev corpus scans/photos")
    parser.add_argument("--kind", action="append", choices=["scan", "photo", "pdf_text"])
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--stride", type=int, default=1, help="every Nth document")
    parser.add_argument("--verbose", action="store_true", help="a line per document")
    parser.add_argument("--no-truth", action="store_true", help="skip the ground-truth pages")
    args = parser.parse_args()
    if not args.no_truth:
        ground_truth()
    if args.dev:
        dev(args.kind or ["scan", "photo"], args.limit, args.stride, args.verbose)


if __name__ == "__main__":
    main()
