"""`credflow remove`: removal on request from the command line (same rules as the UI)."""

from __future__ import annotations

from typing import Annotated

import typer

from compliance import removal
from credflow.context import open_context
from credflow.options import DataDir

Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")]
Actor = Annotated[
    str, typer.Option("--as", help="Who asked for it (a username, for the audit trail).")
]


def register(app: typer.Typer) -> None:
    remove_app = typer.Typer(
        help="Remove a document, or everything about a provider, on request.",
        no_args_is_help=True,
    )
    app.add_typer(remove_app, name="remove")

    @remove_app.command("document")
    def remove_document(
        document_id: int, reason: Reason, actor: Actor = "cli", data_dir: DataDir = None
    ) -> None:
        """Remove one document: original, page images, text, fields and its credentials."""
        _remove(removal.remove_document, document_id, reason, actor, data_dir)

    @remove_app.command("provider")
    def remove_provider(
        provider_id: int, reason: Reason, actor: Actor = "cli", data_dir: DataDir = None
    ) -> None:
        """Remove everything about a provider: their documents, credentials and records."""
        _remove(removal.remove_provider, provider_id, reason, actor, data_dir)


def _remove(
    remove: removal.RemoveFunction, entity_id: int, reason: str, actor: str, data_dir: DataDir
) -> None:
    ctx = open_context(data_dir)
    try:
        with ctx.db.session() as session:
            result = remove(session, ctx.layout, entity_id, actor=actor, reason=reason)
        erased = removal.erase_freed_space(ctx.db, result.tables)
    except removal.RemovalError as e:
        typer.echo(f"not removed: {e}", err=True)
        raise typer.Exit(1) from None
    finally:
        ctx.close()
    typer.echo(
        f"removed {result.entity_type} {result.entity_id}: {len(result.documents)} document(s), "
        f"{len(result.credentials)} credential(s), {result.files_removed} file(s)"
        + ("" if erased.complete else " (database space is compacted at the next checkpoint)")
    )
