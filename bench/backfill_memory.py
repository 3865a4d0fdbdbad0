"""Peak memory of `credflow backfill` for a large and a small archive: it must stay flat.

Builds (once, cached in bench/.cache/) two .zip archives of small unique PDF files in
nested folders (5,000 and 500 by default), runs the real `credflow backfill` on each into
a fresh data folder, samples the resident memory of the whole process tree (the command
and any worker processes) every 50 ms, and prints both peaks and their ratio (target:
within 20% of each other).

    .venv/bin/python bench/backfill_memory.py [--sizes 5000 500] [--workers 0]

`--workers 0` (the default) takes every file into the store and the database without
reading it, which is where an archive's size could show; `--workers N` also reads them
with N worker processes (slow on a shared machine: about 1 s per file per busy core).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"


def template_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="letter")
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 12, "STATE BOARD OF NURSING", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 10, "Registered Nurse License  No. RN-0000000", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 10, "Issued 2019-05-01   Expires 2025-04-30", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def archive(n: int) -> Path:
    """A zip of n unique small PDFs in folders of 100 (built once)."""
    path = CACHE / f"backfill-{n}.zip"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    base = template_pdf()
    tmp = path.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(n):
            # bytes after %%EOF are ignored by readers: a unique file each time
            zf.writestr(
                f"site/{i // 100:03}/provider-{i:05}/licence.pdf", base + f"\n% file {i}\n".encode()
            )
    tmp.rename(path)
    return path


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run(zip_path: Path, workers: int) -> tuple[int, int, float, str]:
    """(peak RSS of the tree, peak RSS of the command alone, seconds, summary line)."""
    data = Path(tempfile.mkdtemp(prefix="credflow-backfill-"))
    env = os.environ | {"CREDFLOW_DATA_DIR": str(data)}
    env.pop("CREDFLOW_DATABASE_URL", None)
    cmd = [
        sys.executable,
        "-m",
        "credflow.cli",
        "backfill",
        str(zip_path),
        "--workers",
        str(workers),
    ]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env)
        ps = psutil.Process(proc.pid)
        peak_tree = peak_main = 0
        while proc.poll() is None:
            try:
                peak_tree = max(peak_tree, tree_rss(ps))
                peak_main = max(peak_main, ps.memory_info().rss)
            except psutil.Error:
                pass
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        out.seek(0)
        summary = out.read().decode().strip().splitlines()
    shutil.rmtree(data, ignore_errors=True)
    if proc.returncode != 0:
        raise SystemExit(f"backfill failed ({proc.returncode}): {summary[-5:]}")
    line = next((s for s in summary if s.startswith("backfill:")), summary[-1] if summary else "")
    return peak_tree, peak_main, elapsed, line


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs=2, default=[5000, 500])
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    results = []
    for n in args.sizes:
        path = archive(n)
        tree, main_rss, seconds, line = run(path, args.workers)
        results.append(tree)
        print(
            f"{n:>6} files ({path.stat().st_size / 1e6:.1f} MB zip, workers {args.workers}): "
            f"peak RSS of the process tree {tree / 2**20:.1f} MB "
            f"(command alone {main_rss / 2**20:.1f} MB), "
            f"{seconds:.0f} s, {n / seconds:.0f} files/s"
        )
        print(f"         {line}")
    big, small = results
    print(f"ratio large/small: {big / small:.3f} (target within 0.8–1.2)")


if __name__ == "__main__":
    main()
