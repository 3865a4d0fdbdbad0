"""`credflow layouts list|show ID|forget ID`: what was learned from confirmed documents."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from credflow.context import open_context
from credflow.options import DataDir
from models import record_event
from models.learned_layout import forget_layout, layout_summaries

Actor = Annotated[str, typer.Option("--as", help="Who asked for it (for the audit trail).")]


def register(app: typer.Typer) -> None:
    layouts_app = typer.Typer(
        help="Layouts learned from approved documents (labels and places, no personal values).",
        no_args_is_help=True,
    )
    app.add_typer(layouts_app, name="layouts")

    @layouts_app.command("list")
    def list_layouts(data_dir: DataDir = None) -> None:
        """Every learned layout: its type, how many confirmed documents taught it."""
        ctx = open_context(data_dir)
        try:
            with ctx.db.session() as s:
                rows = layout_summaries(s)
        finally:
            ctx.close()
        table = Table("id", "doc_type", "documents", "fields", "anchors", "labels")
        for r in rows:
            labels = " ".join(r.labels[:6])
            table.add_row(
                str(r.id),
                r.doc_type,
                str(len(r.documents)),
                str(len(r.fields)),
                str(r.anchors),
                labels,
            )
        Console().print(table)

    @layouts_app.command("show")
    def show(layout_id: int, data_dir: DataDir = None) -> None:
        """One layout: the fields it knows the place of, its documents, its labels."""
        ctx = open_context(data_dir)
        try:
            with ctx.db.session() as s:
                found = layout_summaries(s, layout_id)
        finally:
            ctx.close()
        if not found:
            typer.echo(f"no learned layout {layout_id}", err=True)
            raise typer.Exit(1)
        r = found[0]
        typer.echo(
            f"layout {r.id}: {r.doc_type}, from document(s) {', '.join(map(str, r.documents))}"
        )
        for name, n in r.fields.items():
            typer.echo(f"  {name:18s} placed by {n} confirmed document(s)")
        typer.echo(f"  {r.anchors} printed words, first: {' '.join(r.labels[:20])}")

    @layouts_app.command("forget")
    def forget(layout_id: int, actor: Actor = "cli", data_dir: DataDir = None) -> None:
        """Forget one learned layout (an audit event records who and when)."""
        ctx = open_context(data_dir)
        try:
            with ctx.db.session() as s:
                if not forget_layout(s, layout_id):
                    typer.echo(f"no learned layout {layout_id}", err=True)
                    raise typer.Exit(1)
                record_event(
                    s,
                    actor=actor,
                    action="layout.forgotten",
                    entity_type="learned_layout",
                    entity_id=layout_id,
                    note="forgotten from the command line",
                )
        finally:
            ctx.close()
        typer.echo(f"forgot layout {layout_id}")
