"""`credflow sources import PATH...` and `credflow screen [--date D]`; and the service part
that `credflow run` starts: watch DATA_DIR/sources/, screen after each import and monthly."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from credflow.commands.compliance_cmd import DateOpt, _day
from credflow.context import Context, open_context
from credflow.options import DataDir

log = logging.getLogger(__name__)
POLL_SECONDS = 30.0
# screen at least this often even when no list arrived (NCQA CR 5: at least monthly)
SCREEN_EVERY = timedelta(days=28)


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        out.extend(sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p])
    return out


def register(app: typer.Typer) -> None:
    sources_app = typer.Typer(help="Exclusion lists and the NPI registry.", no_args_is_help=True)
    app.add_typer(sources_app, name="sources")

    @sources_app.command("import")
    def import_cmd(
        paths: Annotated[list[Path], typer.Argument(help="Files or folders (sorted by name).")],
        data_dir: DataDir = None,
        actor: Annotated[str, typer.Option("--as", help="Who imports (audit trail).")] = "cli",
    ) -> None:
        """Import LEIE, SAM, CMS opt-out and NPPES files and NPI Registry answers."""
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TaskID,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        from compliance.sources.files import size_of
        from compliance.sources.importer import UnknownFile, import_file

        ctx = open_context(data_dir)
        refused = 0
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        try:
            with Progress(
                *columns,
                console=Console(stderr=True),
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            ) as bar:
                for path in _files(paths):
                    task = bar.add_task(path.name, total=size_of(path) or None)

                    def advance(n: int, t: TaskID = task) -> None:
                        bar.advance(t, n)

                    try:
                        report = import_file(ctx.db, path, actor=actor, progress=advance)
                    except UnknownFile as e:
                        refused += 1
                        typer.echo(f"refused {path.name}: {e}", err=True)
                        continue
                    finally:
                        bar.remove_task(task)
                    typer.echo(report.line())
        finally:
            ctx.close()
        if refused:
            raise typer.Exit(1)

    @app.command("screen")
    def screen_cmd(
        data_dir: DataDir = None,
        day: DateOpt = None,
        actor: Annotated[str, typer.Option("--as", help="Who screens (audit trail).")] = "cli",
    ) -> None:
        """Screen every active clinician against the lists in force on the day."""
        from compliance.screening.run import screen

        ctx = open_context(data_dir)
        try:
            summary = screen(ctx.db, _day(day), actor=actor)
        finally:
            ctx.close()
        for line in summary.lines():
            typer.echo(line)


def start_screening(ctx: Context, stop: threading.Event) -> threading.Thread:
    """The service thread: import what lands in DATA_DIR/sources/, screen after each import
    that changed a list, and at least every 28 days."""
    from sqlalchemy import func, select

    from compliance.screening.run import screen
    from compliance.sources.watch import SourceFolder
    from models.screening import ScreeningResult, SourceImport

    folder = SourceFolder(Path(ctx.settings.data_dir) / "sources")
    folder.folder.mkdir(parents=True, exist_ok=True)

    def due() -> bool:
        with ctx.db.session() as s:
            if s.scalar(select(SourceImport.id).limit(1)) is None:
                return False  # no list yet: nothing to screen against
            last = s.scalar(select(func.max(ScreeningResult.screened_on)))
        return last is None or datetime.now(UTC).date() - last >= SCREEN_EVERY

    def loop() -> None:
        while not stop.wait(POLL_SECONDS):
            try:
                changed = folder.poll(ctx.db)
                if changed or due():
                    summary = screen(ctx.db, datetime.now(UTC).date())
                    for line in summary.lines():
                        log.info("screening: %s", line)
            except Exception:
                log.exception("screening failed; it is tried again at the next look")

    thread = threading.Thread(target=loop, name="screening", daemon=True)
    thread.start()
    return thread
