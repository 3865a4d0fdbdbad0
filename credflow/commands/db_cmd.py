"""`credflow db`: schema migrations."""

from __future__ import annotations

import typer

from credflow.context import open_context
from credflow.options import DataDir


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @db_app.command("upgrade")
    def upgrade(data_dir: DataDir = None) -> None:
        """Bring the database schema up to date (every command also does this on start)."""
        ctx = open_context(data_dir)
        typer.echo(f"database up to date: {ctx.db.engine.url.render_as_string(hide_password=True)}")
        ctx.close()
