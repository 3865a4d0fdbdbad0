"""`credflow extract`: read files into the spec's JSON, with no database.

One file or many: with several files it prints JSON Lines (one object per file), reusing
the loaded spaCy pipeline and reading files in chunks whose scans share tesseract runs;
`--workers N` spreads the chunks over N processes (tesseract limited to one thread each).
A file that cannot be read gets a one-line reason on stderr and a non-zero exit status;
the other files are still printed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import typer

from extract import ExtractError
from extract.learned import LearnedLayouts
from extract.pipeline import extract_files

PROGRESS_FROM = 5  # files; fewer finish before a bar would be worth drawing
CHUNK = 4  # files read together so their scans share tesseract runs


def _init_worker() -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    from extract.fields import warm_up

    warm_up()


def _chunk(
    paths: list[str], text_only: bool, learned: LearnedLayouts | None = None
) -> list[tuple[str, Any, str | None]]:
    """(path, result, error) for each file of a chunk, in order: a JSON object, the
    pages' text, or the one-line reason. The chunk's scans share tesseract runs."""
    results: dict[int, tuple[str, Any, str | None]] = {}
    try:
        for index, done in extract_files([Path(p) for p in paths], learned=learned):
            path = paths[index]
            if isinstance(done, ExtractError):
                results[index] = (path, None, str(done))
            elif text_only:
                results[index] = (path, [(pg.number, pg.text) for pg in done.pages], None)
            else:
                results[index] = (path, done.to_json(), None)
    except Exception as e:  # a bug must not cost the other chunks their results
        reason = f"could not be read ({type(e).__name__}: {e}); please report this file"
        return [results.get(i, (p, None, reason)) for i, p in enumerate(paths)]
    return [results[i] for i in range(len(paths))]


def _results(
    files: list[Path], workers: int, text_only: bool, learned: LearnedLayouts | None = None
) -> Iterator[tuple[str, Any, str | None]]:
    paths = [str(f) for f in files]
    chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
    if workers > 1 and len(chunks) > 1:
        os.environ["OMP_THREAD_LIMIT"] = "1"
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
            for done in pool.map(
                _chunk, chunks, [text_only] * len(chunks), [learned] * len(chunks)
            ):
                yield from done
    else:
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        for chunk in chunks:
            yield from _chunk(chunk, text_only, learned)


def register(app: typer.Typer) -> None:
    @app.command("extract")
    def extract(
        files: Annotated[list[Path], typer.Argument(help="PDF, PNG, JPEG or TIFF files.")],
        as_json: Annotated[
            bool, typer.Option("--json", help="One JSON object per file (JSON Lines for several).")
        ] = False,
        text: Annotated[
            bool,
            typer.Option("--text", help="Print the text read, page by page, in reading order."),
        ] = False,
        workers: Annotated[
            int, typer.Option("--workers", "-w", min=1, help="Processes to spread the files over.")
        ] = 1,
        data_dir: Annotated[
            Path | None,
            typer.Option(
                "--data-dir",
                help="Also use the layouts this site learned from approvals (its database).",
                show_default=False,
            ),
        ] = None,
    ) -> None:
        """Read documents and print their type and fields (no database needed; with
        --data-dir, what the site learned from confirmed documents is used too)."""
        learned = _site_learned(data_dir) if data_dir is not None else None
        failed = 0
        show_bar = len(files) >= PROGRESS_FROM and sys.stderr.isatty()
        progress = None
        task = None
        if show_bar:
            from rich.console import Console
            from rich.progress import Progress

            progress = Progress(console=Console(stderr=True), transient=True)
            progress.start()
            task = progress.add_task("reading", total=len(files))
        try:
            for path, result, error in _results(files, workers, text, learned):
                if progress is not None and task is not None:
                    progress.advance(task)
                if error is not None:
                    failed += 1
                    typer.echo(f"{path}: {error}", err=True)
                    continue
                if text:
                    for number, page_text in result:
                        sys.stdout.write(f"--- {path} page {number} ---\n{page_text}\n")
                elif as_json:
                    sys.stdout.write(json.dumps(result) + "\n")
                else:
                    _print_human(path, result)
                sys.stdout.flush()
        finally:
            if progress is not None:
                progress.stop()
        if failed:
            raise typer.Exit(1)


def _site_learned(data_dir: Path) -> LearnedLayouts:
    from credflow.context import open_context
    from ingest.learning import load_learned

    ctx = open_context(data_dir)
    try:
        with ctx.db.session() as s:
            return load_learned(s)
    finally:
        ctx.close()


def _print_human(path: str, result: dict[str, Any]) -> None:
    typer.echo(f"{path}: {result['doc_type']} ({result['doc_type_confidence']:.2f})")
    for name, value in result["fields"].items():
        conf = result["confidence"].get(name, 0.0)
        typer.echo(f"  {name:18s} {value!s:50s} {conf:.2f}")
