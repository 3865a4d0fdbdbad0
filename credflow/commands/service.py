"""`credflow run`, `worker`, `backfill`, `failed`, `retry`: the service and its work queue."""

from __future__ import annotations

import inspect
import logging
import secrets
import signal
import threading
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from credflow.commands.screening_cmd import start_screening
from credflow.context import Context, open_context
from credflow.options import DataDir
from credflow.settings import Settings

log = logging.getLogger("credflow")
COMPLIANCE_EVERY_SECONDS = 24 * 3600


def process_options(settings: Settings) -> Any:
    from ingest.tasks import ProcessOptions

    return ProcessOptions(
        lease_seconds=settings.lease_seconds,
        max_attempts=settings.max_attempts,
        ocr_dpi=settings.ocr_dpi,
        page_image_dpi=settings.page_image_dpi,
        max_pages=settings.max_pages,
        memory_mb=settings.worker_memory_mb,
        ocr_engine=settings.ocr_engine,
        learning=settings.learning,
    )


def ocr_engine_line(settings: Settings) -> str:
    """Which OCR path the workers take, for start-up output and `credflow doctor`."""
    from extract import engine

    return f"OCR engine: {engine.describe(settings.ocr_engine)}"


def ingest_config(settings: Settings, **changes: Any) -> Any:
    """The ingest service's configuration from the settings (the only place that maps them)."""
    from ingest.service import IngestConfig

    values: dict[str, Any] = dict(
        db_url=settings.db_url,
        data_dir=settings.data_dir,
        options=process_options(settings),
        workers=settings.workers,
        queue=settings.queue,
        broker_url=settings.broker_url,
        celery_queue=settings.celery_queue,
        max_file_mb=settings.max_file_mb,
        settle_seconds=settings.settle_seconds,
        poll_seconds=settings.poll_seconds,
        rescan_seconds=settings.rescan_seconds,
        memory_mb=settings.worker_memory_mb,
        page_timeout=settings.page_timeout_seconds,
    )
    values.update(changes)
    return IngestConfig(**values)


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _first_coordinator(ctx: Context) -> str | None:
    """On a first start (no accounts yet) create `coordinator`; returns its password."""
    from sqlalchemy import func, select

    from models import User
    from review.auth import create_user

    with ctx.db.session() as s:
        if s.scalar(select(func.count()).select_from(User)):
            return None
        password = secrets.token_urlsafe(12)
        create_user(s, "coordinator", password, "coordinator", actor="system")
    return password


def _compliance_hook(ctx: Context, stop: threading.Event) -> threading.Thread | None:
    """Run the compliance pass (expirations, notifications) at start and then daily."""
    from compliance.notify import run_pass

    by_name: dict[str, Any] = {
        "ctx": ctx,
        "context": ctx,
        "db": ctx.db,
        "database": ctx.db,
        "settings": ctx.settings,
        "layout": ctx.layout,
    }
    params = inspect.signature(run_pass).parameters
    kwargs = {name: by_name[name] for name in params if name in by_name}

    def loop() -> None:
        while not stop.wait(60):  # let the service settle first
            try:
                run_pass(**kwargs)
            except Exception:
                log.exception("the daily compliance pass failed; it runs again tomorrow")
            if stop.wait(COMPLIANCE_EVERY_SECONDS - 60):
                return

    thread = threading.Thread(target=loop, name="compliance-daily", daemon=True)
    thread.start()
    return thread


def _compliance_refresh(ctx: Context) -> threading.Thread | None:
    """At start, judge whoever the kept compliance judgement lacks (after a rules change
    or an upgrade) in the background, so the dashboard soon answers from it."""
    from compliance.requirements import load_requirements
    from compliance.standing import Keeper

    def work() -> None:
        try:
            Keeper(ctx.db).rebuild(load_requirements(ctx.settings.requirements_file))
        except Exception:
            log.exception("judging clinicians at start failed; the dashboard starts it again")

    thread = threading.Thread(target=work, name="compliance-refresh", daemon=True)
    thread.start()
    return thread


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        data_dir: DataDir = None,
        host: Annotated[str | None, typer.Option(help="Address of the review UI.")] = None,
        port: Annotated[int | None, typer.Option(help="Port of the review UI.")] = None,
        poll: Annotated[
            float | None,
            typer.Option(
                "--poll",
                metavar="SECONDS",
                help="Poll the inbox (network shares) instead of file events.",
            ),
        ] = None,
        workers: Annotated[
            int | None, typer.Option(help="Worker processes (default: one per core).")
        ] = None,
    ) -> None:
        """Watch the inbox, read documents, and serve the review UI, until Ctrl-C."""
        from ingest.service import IngestService

        _setup_logging()
        ctx = open_context(data_dir, host=host, port=port, poll_seconds=poll, workers=workers)
        settings = ctx.settings
        warn_loose_modes(settings)
        if (problem := plain_http_problem(settings)) is not None:
            ctx.close()
            typer.echo(f"error: {problem}", err=True)
            raise typer.Exit(2)
        url = f"http://{settings.host}:{settings.port}/"
        password = _first_coordinator(ctx)
        service = IngestService(ingest_config(settings))
        service.start()
        stop = threading.Event()
        _compliance_hook(ctx, stop)
        _compliance_refresh(ctx)
        start_screening(ctx, stop)  # DATA_DIR/sources/, screening monthly
        typer.echo(
            f"inbox: {settings.inbox_dir.resolve()}  (drop PDF, PNG, JPEG or TIFF files here)"
        )
        mode = (
            f"{settings.workers} local worker(s)" if settings.queue == "local" else "Celery workers"
        )
        where = ctx.db.engine.url.render_as_string(hide_password=True)
        typer.echo(f"reading with {mode}; database {where}")
        typer.echo(ocr_engine_line(settings))
        if password:
            typer.echo(f"first start: sign in at {url} as 'coordinator' with password {password}")
        try:
            _serve(ctx, url, stop)
        finally:
            stop.set()
            service.stop()
            ctx.close()
            typer.echo("stopped")

    @app.command("worker")
    def worker(
        data_dir: DataDir = None,
        concurrency: Annotated[
            int | None, typer.Option(help="Processes (default: one per core).")
        ] = None,
    ) -> None:
        """A Celery worker for larger sites (CREDFLOW_QUEUE=celery, CREDFLOW_BROKER_URL)."""
        from ingest.celery_app import WorkerSetup, configure_worker, make_celery
        from ingest.pool import limit_threads

        limit_threads()  # before tesseract's library loads here: the children fork from this
        ctx = open_context(data_dir)
        settings = ctx.settings
        ctx.close()
        typer.echo(ocr_engine_line(settings))
        celery = make_celery(settings.broker_url, settings.celery_queue)
        configure_worker(
            WorkerSetup(
                settings.db_url,
                settings.data_dir,
                process_options(settings),
                settings.worker_memory_mb,
                celery,
            )
        )
        celery.worker_main(
            [
                "worker",
                "--loglevel=INFO",
                f"--concurrency={concurrency or settings.workers}",
                "-Q",
                settings.celery_queue,
                "-n",
                f"credflow-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--pool=prefork",
            ]
        )

    @app.command("doctor")
    def doctor() -> None:
        """Say which OCR path this machine's workers take, and why (no database needed)."""
        typer.echo(ocr_engine_line(Settings()))

    @app.command("failed")
    def failed(data_dir: DataDir = None) -> None:
        """List documents that could not be read, with the reason."""
        from models.failed import failed_documents

        ctx = open_context(data_dir)
        with ctx.db.session() as s:
            rows = failed_documents(s)
        ctx.close()
        if not rows:
            typer.echo("no failed documents")
            return
        table = Table("id", "file", "tries", "reason", title=f"{len(rows)} failed document(s)")
        for r in rows:
            table.add_row(str(r.id), r.filename, str(r.attempts), r.error or "")
        Console().print(table)

    @app.command("retry")
    def retry(
        document_id: Annotated[int | None, typer.Argument(help="Id of a failed document.")] = None,
        all_failed: Annotated[
            bool, typer.Option("--all-failed", help="Every failed document.")
        ] = False,
        data_dir: DataDir = None,
    ) -> None:
        """Send failed documents back to be read again (the running service picks them up)."""
        from models.failed import retry_all_failed, retry_document

        if (document_id is None) == (not all_failed):
            raise typer.BadParameter("give a document id or --all-failed (not both)")
        ctx = open_context(data_dir)
        with ctx.db.session() as s:
            if all_failed:
                ids = retry_all_failed(s, actor="cli")
            else:
                assert document_id is not None
                ids = [document_id] if retry_document(s, document_id, actor="cli") else []
        ctx.close()
        if document_id is not None and not ids:
            typer.echo(f"document {document_id} is not failed; nothing to retry", err=True)
            raise typer.Exit(1)
        typer.echo(f"{len(ids)} document(s) sent back to be read again")

    @app.command("backfill")
    def backfill(
        paths: Annotated[
            list[Path], typer.Argument(help="Folders, .zip archives or files.", exists=True)
        ],
        data_dir: DataDir = None,
        workers: Annotated[
            int | None,
            typer.Option(
                help="Worker processes reading (default: one per core; 0 = only take them in)."
            ),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Only count what would be taken.")
        ] = False,
    ) -> None:
        """Take in an archive of old files (folders, .zip), read them, and summarise. Resumable."""
        _run_backfill(paths, data_dir, workers, dry_run)


def _serve(ctx: Context, url: str, stop: threading.Event) -> None:
    """The review UI in the main thread (uvicorn handles Ctrl-C and SIGTERM)."""
    from credflow.web import build_app

    # ours, so that after uvicorn's graceful stop (which re-raises the signal it caught)
    # the process is not killed by the default handler before the workers are stopped
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    import uvicorn

    config = uvicorn_config(build_app(ctx), ctx.settings)
    typer.echo(f"review UI: {url}")
    uvicorn.Server(config).run()


def uvicorn_config(app: Any, settings: Settings) -> Any:
    """How the review UI is served: X-Forwarded-For/-Proto are believed only from the
    proxies named in CREDFLOW_FORWARDED_ALLOW_IPS (none by default), so a client cannot
    pick its own address to get around the sign-in limits."""
    import uvicorn

    proxies = settings.forwarded_allow_ips.strip()
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or "",
    )


LOOPBACK = ("127.", "::1", "localhost")


def plain_http_problem(settings: Settings) -> str | None:
    """Why serving on this address would send passwords and clinicians' data over plain
    HTTP, or None. A non-loopback address needs a TLS-terminating proxy in front
    (CREDFLOW_TLS_PROXY=true) or an https public URL."""
    if settings.host.startswith(LOOPBACK) or settings.tls_proxy or settings.https:
        return None
    return (
        f"refusing to serve {settings.host} over plain HTTP: put a reverse proxy that "
        "terminates TLS in front, bind it to 127.0.0.1, and set CREDFLOW_TLS_PROXY=true and "
        "CREDFLOW_PUBLIC_URL=https://... (see docs/larger-site.md)"
    )


def warn_loose_modes(settings: Settings) -> None:
    """Say so when files of the data folder are readable by other local users."""
    for path, mode in settings.loose_modes():
        log.warning(
            "%s is readable by other users (mode %o); run: chmod o-rwx %s", path, mode, path
        )


def _run_backfill(
    paths: list[Path], data_dir: Path | None, workers: int | None, dry_run: bool
) -> None:
    import time

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ingest.backfill import Backfill, Summary, estimate_total
    from ingest.pool import WorkerConfig

    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    ctx = open_context(data_dir)
    settings = ctx.settings
    n_workers = settings.workers if workers is None else max(0, workers)
    config = ingest_config(settings)
    job = Backfill(
        ctx.db,
        ctx.layout,
        max_file_mb=settings.max_file_mb,
        workers=n_workers,
        worker_config=WorkerConfig(
            settings.db_url, settings.data_dir, config.options, settings.worker_memory_mb
        ),
        max_attempts=settings.max_attempts,
        page_timeout=settings.page_timeout_seconds,
    )
    console = Console(stderr=True)
    if n_workers > 0 and not dry_run:
        console.print(ocr_engine_line(settings))
    total = estimate_total(paths)
    started = time.monotonic()
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]:.1f} files/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("counting" if dry_run else "backfill", total=total, rate=0.0)

        def progress(summary: Summary, finished: int) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            bar.update(
                task, completed=finished, total=max(total, finished), rate=finished / elapsed
            )

        summary = job.dry_run(paths, progress) if dry_run else job.run(paths, progress)
    elapsed = time.monotonic() - started
    ctx.close()
    if dry_run:
        typer.echo(
            f"dry run: would take {summary.found} file(s), {summary.bytes / (1 << 20):.1f} MB; "
            f"{summary.refused} refused"
        )
    else:
        typer.echo(
            f"backfill: {summary.found} file(s) in {elapsed:.1f} s — read {summary.read}, "
            f"duplicates {summary.duplicates}, failed {summary.failed}, "
            f"already done {summary.skipped}, refused {summary.refused}"
            + (f", left for the service {summary.queued}" if summary.queued else "")
        )
    for item in summary.refusals:
        typer.echo(f"  refused {item.where}: {item.reason}")
    if summary.refused > len(summary.refusals):
        typer.echo(f"  ... and {summary.refused - len(summary.refusals)} more refused")
